use warden_core::exceptions::glob_matches;
use warden_core::finding::dotted_to_pointer;
use warden_core::value::escape_pointer_token;
use warden_core::PatchOp;

use super::pod::pod_metadata;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Kubernetes objects whose `metadata.labels` lack a required label, or carry one whose
    /// value does not match the required pattern. For workloads (Deployment, StatefulSet,
    /// DaemonSet, ReplicaSet, Job, CronJob, ReplicationController) the labels of the pod
    /// template are checked too, since they are the labels the pods, their metrics and their
    /// logs carry; each place missing labels is a finding of its own. A value must be
    /// non-empty and, when the parameter gives a regular expression, match it as a whole.
    ///
    /// With an empty `labels` table (the default) the rule is inactive.
    ///
    /// ## Why it matters
    /// Labels are how Kubernetes and everything around it find objects: Service selectors,
    /// NetworkPolicies, cost allocation (Kubecost, OpenCost), log and metric routing, and the
    /// on-call engineer looking for an owner at 3 a.m. An unlabelled workload is invisible to
    /// the policies that select by label and belongs to nobody.
    ///
    /// ## Example
    /// ```yaml
    /// params: { labels: { app.kubernetes.io/name: "", team: "payments|search" } }
    /// manifests:
    ///   - { apiVersion: v1, kind: ConfigMap, metadata: { name: settings, namespace: shop, labels: { team: growth } }, data: { mode: production } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// params: { labels: { app.kubernetes.io/name: "", team: "payments|search" } }
    /// manifests:
    ///   - { apiVersion: v1, kind: ConfigMap, metadata: { name: settings, namespace: shop, labels: { app.kubernetes.io/name: shop, team: payments } }, data: { mode: production } }
    /// ```
    ///
    /// ## Fix
    /// When `defaults` has a valid value for every missing or invalid label of a place, sets
    /// those labels there. Otherwise add them yourself; Kustomize's `labels` (or
    /// `commonLabels`) and Helm's common label helpers set them on every object at once.
    /// Take care with selectors: a Deployment's `spec.selector` is immutable, so change
    /// template labels it selects on only together with a new Deployment.
    ///
    /// ## Parameters
    /// - `labels`: table of required label key to the regular expression its value must
    ///   match (anchored: the whole value); `""` accepts any non-empty value. Empty (the
    ///   default): the rule is inactive.
    /// - `defaults`: table of label key to the value a fix may insert.
    /// - `kinds`: globs of the kinds to check (`Deployment`, `*Set`); empty (the default)
    ///   checks every Kubernetes object.
    ///
    /// ```toml
    /// [rules.WD-K8S-033]
    /// labels = { "app.kubernetes.io/name" = "", team = "^[a-z-]+$" }
    /// defaults = { team = "platform" }
    /// kinds = ["Deployment", "StatefulSet", "DaemonSet", "CronJob", "Service"]
    /// ```
    ///
    /// ## References
    /// - [Kubernetes: Recommended labels](https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/)
    /// - Kyverno `best-practices/require-labels`
    pub(crate) static REQUIRED_LABELS_MISSING = RuleMeta {
        id: "WD-K8S-033",
        name: "required-labels-missing",
        title: "Object lacks required labels or has invalid label values",
        severity: Severity::Medium,
        enforcement: Enforcement::Deny,
        kinds: &[],
        fix: FixAvailability::Sometimes,
        params: &[
            Param {
                name: "labels",
                kind: ParamKind::StringMap,
                default: "{}",
                doc: "Required label key → regular expression its value must match (\"\" = any non-empty value); empty: inactive",
            },
            Param {
                name: "defaults",
                kind: ParamKind::StringMap,
                default: "{}",
                doc: "Label key → value a fix may insert",
            },
            Param {
                name: "kinds",
                kind: ParamKind::StringList,
                default: "[]",
                doc: "Globs of kinds to check; empty: every Kubernetes object",
            },
        ],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.provider != "kubernetes" || resource.after.field("apiVersion").as_str().is_none() {
        return;
    }
    let Some(required) = cx.param("labels").as_object().filter(|m| !m.is_empty()) else {
        return;
    };
    let kinds = cx.param_strs("kinds");
    if !kinds.is_empty() && !kinds.iter().any(|k| glob_matches(k, &resource.kind)) {
        return;
    }
    let defaults = cx.param("defaults");
    let mut places = vec![(resource.after.field("metadata"), "metadata".to_owned(), "")];
    if let Some((template, path)) = pod_metadata(resource).filter(|(_, p)| p != "metadata") {
        places.push((template, path, "pod template: "));
    }
    for (metadata, path, prefix) in places {
        let labels = metadata.field("labels");
        let mut missing = Vec::new();
        let mut wrong = Vec::new();
        let mut ops = Vec::new();
        let mut fixable = true;
        for (key, source) in required {
            let source = source.as_str().unwrap_or_default();
            let problem = match labels.field(key).as_str() {
                Some(value) => match helpers::invalid_value(value, source) {
                    Some(text) => {
                        wrong.push(format!("label `{key}` {text}"));
                        true
                    }
                    None => false,
                },
                None => {
                    missing.push(format!("`{key}`"));
                    true
                }
            };
            if !problem {
                continue;
            }
            match defaults
                .get(key)
                .and_then(serde_json::Value::as_str)
                .filter(|d| helpers::invalid_value(d, source).is_none())
            {
                Some(value) => ops.push(PatchOp::Add {
                    path: format!(
                        "{}/labels/{}",
                        dotted_to_pointer(&path),
                        escape_pointer_token(key)
                    ),
                    value: Value::from(value),
                }),
                None => fixable = false,
            }
        }
        if missing.is_empty() && wrong.is_empty() {
            continue;
        }
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(helpers::missing_required("label", &missing));
        }
        parts.extend(wrong);
        let attribute = format!("{path}.labels");
        let pending = out
            .violation(resource, format!("{prefix}{}", parts.join("; ")))
            .at(&attribute);
        if fixable && !ops.is_empty() {
            let keys: Vec<String> =
                ops.iter()
                    .filter_map(|op| match op {
                        PatchOp::Add { path, .. } => path.rsplit('/').next().map(|k| {
                            format!("`{}`", warden_core::value::unescape_pointer_token(k))
                        }),
                        _ => None,
                    })
                    .collect();
            pending.fix(Fix::patch(
                format!(
                    "set the label{} {} to the configured defaults",
                    if keys.len() == 1 { "" } else { "s" },
                    keys.join(", ")
                ),
                ops,
            ));
        }
    }
}
