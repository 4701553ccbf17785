//! Auto-generated rules for pod controllers (Kyverno docs, "Auto-Gen Rules for Pod
//! Controllers"; source `pkg/autogen`).
//!
//! A policy whose rules select `Pod` gets, for each such rule, `autogen-<rule>` for
//! Deployment, DaemonSet, StatefulSet, Job, ReplicaSet and ReplicationController (patterns
//! wrapped in `spec.template`, `request.object.spec` read as `request.object.spec.template.spec`)
//! and `autogen-cronjob-<rule>` for CronJob (`spec.jobTemplate.spec.template`). Kyverno does
//! not auto-generate when any rule selects by name, label selector or annotations, or selects
//! Pod together with other kinds. The annotation `pod-policies.kyverno.io/autogen-controllers`
//! narrows the controllers (`none` turns it off).

use serde_json::{json, Value};

use crate::matching::parse_kind;
use crate::policy::{ForEach, MatchResources, Policy, ResourceDescription, Rule};

/// The annotation that narrows or disables auto-generation.
pub const CONTROLLERS_ANNOTATION: &str = "pod-policies.kyverno.io/autogen-controllers";

/// Pod controllers other than CronJob, in Kyverno's order.
pub const POD_CONTROLLERS: [&str; 6] = [
    "DaemonSet",
    "Deployment",
    "Job",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];

/// The rule name a generated rule stands for (`autogen-x` and `autogen-cronjob-x` → `x`).
#[must_use]
pub fn original_name(rule: &str) -> &str {
    rule.strip_prefix("autogen-cronjob-")
        .or_else(|| rule.strip_prefix("autogen-"))
        .unwrap_or(rule)
}

/// The policy's rules followed by the generated ones.
#[must_use]
pub fn expand_rules(policy: &Policy) -> Vec<Rule> {
    let mut out = policy.rules.clone();
    let controllers = controllers(policy);
    if controllers.is_empty() {
        return out;
    }
    let plain: Vec<String> = controllers
        .iter()
        .filter(|c| c.as_str() != "CronJob")
        .cloned()
        .collect();
    let cronjob = controllers.iter().any(|c| c == "CronJob");
    for rule in &policy.rules {
        if !rule_selects_pods(rule) {
            continue;
        }
        if !plain.is_empty() {
            out.push(generate(rule, &plain, Target::Template));
        }
        if cronjob {
            out.push(generate(rule, &["CronJob".to_owned()], Target::CronJob));
        }
    }
    out
}

/// The controllers rules are generated for (empty: none).
#[must_use]
pub fn controllers(policy: &Policy) -> Vec<String> {
    if !can_autogen(policy) {
        return Vec::new();
    }
    match policy.annotation(CONTROLLERS_ANNOTATION) {
        None => {
            let mut all: Vec<String> = POD_CONTROLLERS.iter().map(|c| (*c).to_owned()).collect();
            all.push("CronJob".to_owned());
            all
        }
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("none"))
            .map(str::to_owned)
            .collect(),
    }
}

fn is_pod(kind: &str) -> bool {
    let k = parse_kind(kind);
    k.kind == "Pod" && k.subresource.is_empty() && (k.group == "*" || k.group.is_empty())
}

fn descriptions(m: &MatchResources) -> Vec<&ResourceDescription> {
    let mut out: Vec<&ResourceDescription> =
        m.any.iter().chain(&m.all).map(|f| &f.resources).collect();
    out.extend(m.resources.as_ref());
    out
}

/// Kyverno's `CanAutoGen`: every description allows it and some rule selects Pod.
fn can_autogen(policy: &Policy) -> bool {
    let mut needed = false;
    for rule in &policy.rules {
        for d in descriptions(&rule.match_resources) {
            if !supports_autogen(d) {
                return false;
            }
            needed |= d.kinds.iter().any(|k| is_pod(k));
        }
        for d in rule.exclude.iter().flat_map(descriptions) {
            if !supports_autogen(d) {
                return false;
            }
        }
    }
    needed
}

fn supports_autogen(d: &ResourceDescription) -> bool {
    let pod_with_others = d.kinds.len() > 1 && d.kinds.iter().any(|k| is_pod(k));
    d.name.is_none()
        && d.names.is_empty()
        && d.selector.is_none()
        && d.annotations.is_empty()
        && !pod_with_others
}

/// Kyverno generates for a rule whose match kinds contain Pod and whose exclude kinds, if any,
/// contain Pod too.
fn rule_selects_pods(rule: &Rule) -> bool {
    let kinds = |m: &MatchResources| -> Vec<String> {
        descriptions(m)
            .iter()
            .flat_map(|d| d.kinds.clone())
            .collect()
    };
    let matched = kinds(&rule.match_resources);
    let excluded = rule.exclude.as_ref().map(kinds).unwrap_or_default();
    matched.iter().any(|k| is_pod(k)) && (excluded.is_empty() || excluded.iter().any(|k| is_pod(k)))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Template,
    CronJob,
}

impl Target {
    fn prefix(self) -> &'static str {
        match self {
            Target::Template => "autogen-",
            Target::CronJob => "autogen-cronjob-",
        }
    }

    /// `spec.template` or `spec.jobTemplate.spec.template`, as a pattern wrapper.
    fn wrap(self, pattern: Value) -> Value {
        match self {
            Target::Template => json!({"spec": {"template": pattern}}),
            Target::CronJob => json!({"spec": {"jobTemplate": {"spec": {"template": pattern}}}}),
        }
    }

    fn template_path(self) -> &'static str {
        match self {
            Target::Template => "spec.template",
            Target::CronJob => "spec.jobTemplate.spec.template",
        }
    }

    /// Rewrites variable references to the pod inside the controller.
    fn shift(self, text: &str) -> String {
        let t = self.template_path();
        let mut s = text.to_owned();
        for root in ["request.object", "request.oldObject"] {
            for field in ["spec", "metadata"] {
                let from = format!("{root}.{field}");
                let to = format!("{root}.{t}.{field}");
                s = replace_path(&s, &from, &to);
            }
        }
        s
    }
}

/// Replaces `from` with `to` where `from` is not already followed by the template path.
fn replace_path(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        let after = &rest[i + from.len()..];
        let continues_ident = after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        out.push_str(&rest[..i]);
        out.push_str(if continues_ident { from } else { to });
        rest = after;
    }
    out.push_str(rest);
    out
}

fn shift_value(value: &Value, target: Target) -> Value {
    match value {
        Value::String(s) => Value::String(target.shift(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| shift_value(v, target)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (target.shift(k), shift_value(v, target)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn with_kinds(m: &MatchResources, kinds: &[String]) -> MatchResources {
    let mut out = m.clone();
    let replace = |d: &mut ResourceDescription| {
        if d.kinds.iter().any(|k| is_pod(k)) {
            d.kinds = kinds.to_vec();
        }
    };
    out.any.iter_mut().for_each(|f| replace(&mut f.resources));
    out.all.iter_mut().for_each(|f| replace(&mut f.resources));
    out.resources.iter_mut().for_each(replace);
    out
}

fn shift_foreach(fe: &ForEach, target: Target) -> ForEach {
    let shift = |v: &Value| shift_value(v, target);
    ForEach {
        list: target.shift(&fe.list),
        element_scope: fe.element_scope,
        context: fe.context.iter().map(shift).collect(),
        preconditions: fe.preconditions.as_ref().map(shift),
        pattern: fe.pattern.as_ref().map(shift),
        prepared: crate::policy::PatternMemo::default(),
        any_prepared: crate::policy::PatternMemo::default(),
        any_pattern: fe
            .any_pattern
            .as_ref()
            .map(|ps| ps.iter().map(shift).collect()),
        deny: fe.deny.as_ref().map(|d| crate::policy::Deny {
            conditions: d.conditions.as_ref().map(shift),
        }),
        foreach: fe
            .foreach
            .as_ref()
            .map(|list| list.iter().map(|f| shift_foreach(f, target)).collect()),
    }
}

fn generate(rule: &Rule, kinds: &[String], target: Target) -> Rule {
    let shift = |v: &Value| shift_value(v, target);
    let mut out = rule.clone();
    out.name = format!("{}{}", target.prefix(), rule.name);
    out.match_resources = with_kinds(&rule.match_resources, kinds);
    out.exclude = rule.exclude.as_ref().map(|e| with_kinds(e, kinds));
    out.preconditions = rule.preconditions.as_ref().map(shift);
    out.context = rule.context.iter().map(shift).collect();
    if let Some(v) = out.validate.as_mut() {
        v.message = v.message.as_deref().map(|m| target.shift(m));
        v.pattern = v.pattern.as_ref().map(|p| target.wrap(shift(p)));
        v.any_pattern = v
            .any_pattern
            .as_ref()
            .map(|ps| ps.iter().map(|p| target.wrap(shift(p))).collect());
        if let Some(d) = v.deny.as_mut() {
            d.conditions = d.conditions.as_ref().map(shift);
        }
        v.foreach = v
            .foreach
            .as_ref()
            .map(|list| list.iter().map(|f| shift_foreach(f, target)).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load_str;

    fn policy(annotations: &str, rules: &str) -> Policy {
        let text = format!(
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: p\n  annotations: {annotations}\nspec:\n  rules:\n{rules}"
        );
        let loaded = load_str("p.yaml", &text);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded
            .policies
            .into_iter()
            .next()
            .unwrap_or_else(|| unreachable!())
    }

    const POD_RULE: &str = "  - name: check\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    preconditions:\n      all:\n      - key: \"{{ request.object.metadata.name }}\"\n        operator: Equals\n        value: x\n    validate:\n      message: \"bad {{ request.object.spec.hostNetwork }}\"\n      pattern:\n        spec:\n          =(hostNetwork): false\n";

    #[test]
    fn pod_rules_get_controller_and_cronjob_rules() {
        let rules = expand_rules(&policy("{}", POD_RULE));
        let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["check", "autogen-check", "autogen-cronjob-check"]
        );
        let gen = &rules[1];
        assert_eq!(gen.match_resources.any[0].resources.kinds.len(), 6);
        let pattern = gen.validate.as_ref().and_then(|v| v.pattern.clone());
        assert_eq!(
            pattern,
            Some(json!({"spec": {"template": {"spec": {"=(hostNetwork)": false}}}}))
        );
        assert_eq!(
            gen.validate
                .as_ref()
                .and_then(|v| v.message.clone())
                .as_deref(),
            Some("bad {{ request.object.spec.template.spec.hostNetwork }}")
        );
        let pre = gen.preconditions.clone().unwrap_or_default();
        assert_eq!(
            pre["all"][0]["key"],
            "{{ request.object.spec.template.metadata.name }}"
        );
        let cron = &rules[2];
        assert_eq!(cron.match_resources.any[0].resources.kinds, vec!["CronJob"]);
        let pattern = cron
            .validate
            .as_ref()
            .and_then(|v| v.pattern.clone())
            .unwrap_or_default();
        assert!(pattern
            .pointer("/spec/jobTemplate/spec/template/spec")
            .is_some());
    }

    #[test]
    fn annotation_narrows_or_disables() {
        let none = policy(
            "{pod-policies.kyverno.io/autogen-controllers: none}",
            POD_RULE,
        );
        assert_eq!(expand_rules(&none).len(), 1);
        let some = policy(
            "{pod-policies.kyverno.io/autogen-controllers: \"Deployment,CronJob\"}",
            POD_RULE,
        );
        let rules = expand_rules(&some);
        assert_eq!(rules.len(), 3);
        assert_eq!(
            rules[1].match_resources.any[0].resources.kinds,
            vec!["Deployment"]
        );
    }

    #[test]
    fn names_selectors_or_mixed_kinds_prevent_autogen() {
        let named = "  - name: n\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n          names: [web]\n    validate:\n      pattern: {}\n";
        assert_eq!(expand_rules(&policy("{}", named)).len(), 1);
        let mixed = "  - name: n\n    match:\n      any:\n      - resources:\n          kinds: [Pod, Service]\n    validate:\n      pattern: {}\n";
        assert_eq!(expand_rules(&policy("{}", mixed)).len(), 1);
        let service = "  - name: n\n    match:\n      any:\n      - resources:\n          kinds: [Service]\n    validate:\n      pattern: {}\n";
        assert_eq!(expand_rules(&policy("{}", service)).len(), 1);
    }

    #[test]
    fn foreach_lists_are_shifted_and_names_normalised() {
        let fe = "  - name: f\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    validate:\n      foreach:\n      - list: request.object.spec.containers\n        pattern:\n          image: \"!*:latest\"\n";
        let rules = expand_rules(&policy("{}", fe));
        let list = rules[2]
            .validate
            .as_ref()
            .and_then(|v| v.foreach.as_ref())
            .map(|f| f[0].list.clone());
        assert_eq!(
            list.as_deref(),
            Some("request.object.spec.jobTemplate.spec.template.spec.containers")
        );
        assert_eq!(original_name("autogen-cronjob-f"), "f");
        assert_eq!(original_name("autogen-f"), "f");
        assert_eq!(original_name("f"), "f");
    }
}
