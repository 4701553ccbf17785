//! Policies from YAML or JSON: `ClusterPolicy` and `Policy` (`kyverno.io/v1`, `v2beta1`) and
//! `PolicyException` (`kyverno.io/v2`, `v2beta1`), typed with serde.
//!
//! Documents of other kinds in a policy file are ignored. A document that cannot be read is an
//! error naming `file:line`; it never stops the other documents or files from loading.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::vpol::ValidatingPolicy;
use crate::KyvernoError;

/// What a failing rule does: `Audit` reports, `Enforce` blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureAction {
    /// Report only (Kyverno's default).
    #[default]
    Audit,
    /// Block the request.
    Enforce,
}

impl FailureAction {
    /// Reads `Audit` / `Enforce` case-insensitively; anything else is `None`.
    #[must_use]
    pub fn parse(text: &str) -> Option<FailureAction> {
        match text.to_ascii_lowercase().as_str() {
            "audit" => Some(FailureAction::Audit),
            "enforce" => Some(FailureAction::Enforce),
            _ => None,
        }
    }
}

/// A `ClusterPolicy` or namespaced `Policy`.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `metadata.name`.
    pub name: String,
    /// `ClusterPolicy` or `Policy`.
    pub kind: String,
    /// `metadata.namespace` of a `Policy` (it applies only there).
    pub namespace: Option<String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// The policy-wide failure action (`spec.validationFailureAction` / `spec.failureAction`).
    pub failure_action: FailureAction,
    /// `spec.background` (default `true`).
    pub background: bool,
    /// The rules as written (before auto-generation).
    pub rules: Vec<Rule>,
    /// Where the policy was read from (`file:line`).
    pub source: String,
}

impl Policy {
    /// The annotation `key`, when set.
    #[must_use]
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Rule {
    /// Rule name.
    pub name: String,
    /// Which resources the rule applies to.
    #[serde(rename = "match")]
    pub match_resources: MatchResources,
    /// Which resources it does not apply to.
    pub exclude: Option<MatchResources>,
    /// Conditions (after substitution) that must hold for the rule to apply.
    pub preconditions: Option<Value>,
    /// CEL preconditions (not supported: evaluating them is an error).
    pub cel_preconditions: Option<Value>,
    /// Context entries (`variable`, `apiCall`, `configMap` ...), as written.
    pub context: Vec<Value>,
    /// The validate block; `None` for mutate/generate/verifyImages rules.
    pub validate: Option<Validate>,
}

/// `match` or `exclude`: `any`, `all`, or the legacy flat form.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MatchResources {
    /// At least one filter must match.
    pub any: Vec<ResourceFilter>,
    /// Every filter must match.
    pub all: Vec<ResourceFilter>,
    /// Legacy flat form: resources.
    pub resources: Option<ResourceDescription>,
    /// Legacy flat form: subjects.
    pub subjects: Vec<Subject>,
    /// Legacy flat form: roles (`namespace:role`).
    pub roles: Vec<String>,
    /// Legacy flat form: cluster roles.
    pub cluster_roles: Vec<String>,
}

impl MatchResources {
    /// `true` when nothing at all is specified.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.any.is_empty()
            && self.all.is_empty()
            && self.resources.is_none()
            && self.subjects.is_empty()
            && self.roles.is_empty()
            && self.cluster_roles.is_empty()
    }
}

/// One filter of `any` / `all`: resources plus user information.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceFilter {
    /// Resource description.
    pub resources: ResourceDescription,
    /// Users, groups and service accounts.
    pub subjects: Vec<Subject>,
    /// Roles (`namespace:role`).
    pub roles: Vec<String>,
    /// Cluster roles.
    pub cluster_roles: Vec<String>,
}

/// What resources a filter selects; every field given must hold.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceDescription {
    /// Kinds (`Pod`, `v1/Pod`, `apps/v1/Deployment`, wildcards).
    pub kinds: Vec<String>,
    /// Deprecated single name (wildcards).
    pub name: Option<String>,
    /// Names (wildcards).
    pub names: Vec<String>,
    /// Namespaces (wildcards).
    pub namespaces: Vec<String>,
    /// Annotations that must be present (wildcards in keys and values).
    pub annotations: BTreeMap<String, String>,
    /// Label selector on the resource.
    pub selector: Option<LabelSelector>,
    /// Label selector on the resource's namespace.
    pub namespace_selector: Option<LabelSelector>,
    /// Admission operations (`CREATE`, `UPDATE`, `DELETE`, `CONNECT`).
    pub operations: Vec<String>,
}

/// A Kubernetes label selector.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LabelSelector {
    /// Labels that must be equal (values may hold wildcards).
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements.
    pub match_expressions: Vec<LabelRequirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LabelRequirement {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: String,
    /// Values for `In` / `NotIn`.
    pub values: Vec<String>,
}

/// An RBAC subject.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Subject {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (service accounts).
    pub namespace: Option<String>,
}

/// The `validate` block of a rule.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Validate {
    /// Message on failure (may hold variables).
    pub message: Option<String>,
    /// Rule-level failure action (overrides the policy's).
    pub failure_action: Option<String>,
    /// Overlay-style pattern.
    pub pattern: Option<Value>,
    /// `pattern` prepared for matching (worked out on first evaluation).
    #[serde(skip)]
    pub prepared: PatternMemo,
    /// Patterns of which one must match.
    pub any_pattern: Option<Vec<Value>>,
    /// `any_pattern` prepared for matching (worked out on first evaluation).
    #[serde(skip)]
    pub any_prepared: PatternMemo,
    /// Deny conditions.
    pub deny: Option<Deny>,
    /// Per-element validation.
    pub foreach: Option<Vec<ForEach>>,
    /// Pod Security Standards check.
    pub pod_security: Option<Value>,
    /// CEL expressions.
    pub cel: Option<Value>,
    /// `manifests` (signature checks; not supported).
    pub manifests: Option<Value>,
}

/// The preparation of a pattern (or of an `anyPattern` list), worked out on first use: each
/// pattern without `{{ }}` variables (most) is prepared once for matching; one with variables
/// is substituted and prepared per resource. The patterns it belongs to must not change after
/// the first evaluation (policies do not).
#[derive(Debug, Clone, Default)]
pub struct PatternMemo(std::sync::OnceLock<Vec<Option<crate::pattern::Prepared>>>);

impl PatternMemo {
    /// `pattern` (the one this memo belongs to) prepared, or `None` when it holds variables.
    #[must_use]
    pub fn prepared(&self, pattern: &Value) -> Option<&crate::pattern::Prepared> {
        self.prepared_all(std::slice::from_ref(pattern))
            .first()
            .and_then(Option::as_ref)
    }

    /// Each of `patterns` (the list this memo belongs to) prepared, `None` for those with
    /// variables.
    #[must_use]
    pub fn prepared_all(&self, patterns: &[Value]) -> &[Option<crate::pattern::Prepared>] {
        self.0.get_or_init(|| {
            patterns
                .iter()
                .map(|p| {
                    (!crate::variables::has_variables(p)).then(|| crate::pattern::Prepared::new(p))
                })
                .collect()
        })
    }
}

/// A cache, not part of the policy: every memo equals every other.
impl PartialEq for PatternMemo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// `deny`: the rule fails when the conditions hold (always, when there are none).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Deny {
    /// `{any, all}` or a legacy list.
    pub conditions: Option<Value>,
}

/// One `foreach` entry of a validate rule.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ForEach {
    /// JMESPath expression giving the list.
    pub list: String,
    /// When `true` (default) patterns apply to the element, else to the resource.
    pub element_scope: Option<bool>,
    /// Context entries evaluated per element.
    pub context: Vec<Value>,
    /// Per-element preconditions.
    pub preconditions: Option<Value>,
    /// Pattern for the element.
    pub pattern: Option<Value>,
    /// `pattern` prepared for matching (worked out on first evaluation).
    #[serde(skip)]
    pub prepared: PatternMemo,
    /// Patterns of which one must match.
    pub any_pattern: Option<Vec<Value>>,
    /// `any_pattern` prepared for matching (worked out on first evaluation).
    #[serde(skip)]
    pub any_prepared: PatternMemo,
    /// Deny conditions.
    pub deny: Option<Deny>,
    /// Nested foreach.
    pub foreach: Option<Vec<ForEach>>,
}

/// A `PolicyException`: named rules of named policies do not apply to matching resources.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyException {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `(policy name, rule names)` pairs.
    pub exceptions: Vec<ExceptionTarget>,
    /// Resources the exception covers.
    pub match_resources: MatchResources,
    /// Optional conditions (`{any, all}`) that must also hold.
    pub conditions: Option<Value>,
}

/// One `spec.exceptions` entry.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExceptionTarget {
    /// Policy name (`namespace/name` for a `Policy`).
    pub policy_name: String,
    /// Rule names (wildcards; auto-generated names count as their original).
    pub rule_names: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PolicySpec {
    validation_failure_action: Option<String>,
    failure_action: Option<String>,
    background: Option<bool>,
    rules: Vec<Rule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ExceptionSpec {
    exceptions: Vec<ExceptionTarget>,
    #[serde(rename = "match")]
    match_resources: MatchResources,
    conditions: Option<Value>,
}

/// What one file held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    /// Policies read.
    pub policies: Vec<Policy>,
    /// Exceptions read.
    pub exceptions: Vec<PolicyException>,
    /// `ValidatingPolicy` documents read (`policies.kyverno.io`).
    pub validating_policies: Vec<ValidatingPolicy>,
    /// Documents (or the file) that could not be read.
    pub errors: Vec<KyvernoError>,
}

/// Reads every policy and exception of a YAML or JSON file; errors name `file:line`.
#[must_use]
pub fn load_file(path: &Path) -> (Vec<Policy>, Vec<PolicyException>, Vec<KyvernoError>) {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let loaded = load_str(&name, &text);
            (loaded.policies, loaded.exceptions, loaded.errors)
        }
        Err(e) => (
            Vec::new(),
            Vec::new(),
            vec![KyvernoError::Load {
                file: name,
                message: format!("cannot read: {e}"),
            }],
        ),
    }
}

/// Reads every policy, exception and `ValidatingPolicy` of a YAML or JSON file; an unreadable
/// file is one error in [`Loaded::errors`].
#[must_use]
pub fn load_file_all(path: &Path) -> Loaded {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&name, &text),
        Err(e) => Loaded {
            errors: vec![KyvernoError::Load {
                file: name,
                message: format!("cannot read: {e}"),
            }],
            ..Loaded::default()
        },
    }
}

/// Reads every policy and exception of a YAML or JSON text named `name`.
#[must_use]
pub fn load_str(name: &str, text: &str) -> Loaded {
    let mut out = Loaded::default();
    let documents = match warden_core::inputs::yaml::load(name, text) {
        Ok(d) => d,
        Err(e) => {
            out.errors.push(KyvernoError::Load {
                file: name.to_owned(),
                message: e.to_string(),
            });
            return out;
        }
    };
    for document in documents {
        let value = document.value.to_json();
        let source = format!("{name}:{}", document.line);
        for object in flatten_lists(value) {
            load_document(&source, object, &mut out);
        }
    }
    out
}

/// A `List` document's items, or the document itself.
fn flatten_lists(value: Value) -> Vec<Value> {
    let is_list = value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"));
    match (is_list, value.get("items")) {
        (true, Some(Value::Array(items))) => items.clone(),
        _ => vec![value],
    }
}

fn load_document(source: &str, object: Value, out: &mut Loaded) {
    let api = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let group = api.split('/').next().unwrap_or_default();
    if group == "policies.kyverno.io" && kind == "ValidatingPolicy" {
        match ValidatingPolicy::from_json(source, &object) {
            Ok(p) => out.validating_policies.push(p),
            Err(e) => out.errors.push(e),
        }
        return;
    }
    if group != "kyverno.io" {
        return;
    }
    let result = match kind {
        "ClusterPolicy" | "Policy" => {
            policy_from_json(source, kind, &object).map(|p| out.policies.push(p))
        }
        "PolicyException" => exception_from_json(source, &object).map(|e| out.exceptions.push(e)),
        _ => Ok(()),
    };
    if let Err(e) = result {
        out.errors.push(e);
    }
}

fn load_error(source: &str, message: impl Into<String>) -> KyvernoError {
    KyvernoError::Load {
        file: source.to_owned(),
        message: message.into(),
    }
}

fn metadata_name(source: &str, object: &Value) -> Result<String, KyvernoError> {
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| load_error(source, "no metadata.name"))
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    let Some(Value::Object(map)) = value else {
        return BTreeMap::new();
    };
    map.iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// A policy from its JSON document.
pub fn policy_from_json(source: &str, kind: &str, object: &Value) -> Result<Policy, KyvernoError> {
    let name = metadata_name(source, object)?;
    let spec_value = object.get("spec").cloned().unwrap_or(Value::Null);
    let spec: PolicySpec = serde_json::from_value(spec_value)
        .map_err(|e| load_error(source, format!("policy `{name}`: spec: {e}")))?;
    let action_text = spec.failure_action.or(spec.validation_failure_action);
    let failure_action = match action_text.as_deref() {
        None => FailureAction::Audit,
        Some(text) => FailureAction::parse(text).ok_or_else(|| {
            load_error(
                source,
                format!(
                    "policy `{name}`: unknown failure action `{text}` (expected Audit or Enforce)"
                ),
            )
        })?,
    };
    let namespace = match kind {
        "Policy" => Some(
            object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_owned(),
        ),
        _ => None,
    };
    Ok(Policy {
        name,
        kind: kind.to_owned(),
        namespace,
        annotations: string_map(object.pointer("/metadata/annotations")),
        failure_action,
        background: spec.background.unwrap_or(true),
        rules: spec.rules,
        source: source.to_owned(),
    })
}

/// A policy exception from its JSON document.
pub fn exception_from_json(source: &str, object: &Value) -> Result<PolicyException, KyvernoError> {
    let name = metadata_name(source, object)?;
    let spec_value = object.get("spec").cloned().unwrap_or(Value::Null);
    let spec: ExceptionSpec = serde_json::from_value(spec_value)
        .map_err(|e| load_error(source, format!("policy exception `{name}`: spec: {e}")))?;
    Ok(PolicyException {
        name,
        namespace: object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned),
        exceptions: spec.exceptions,
        match_resources: spec.match_resources,
        conditions: spec.conditions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validating_policies_load_beside_cluster_policies() {
        let text = "apiVersion: policies.kyverno.io/v1alpha1\nkind: ValidatingPolicy\nmetadata:\n  name: vp\nspec:\n  validationActions: [Audit]\n  matchConstraints:\n    resourceRules:\n    - apiGroups: ['']\n      apiVersions: [v1]\n      operations: [CREATE]\n      resources: [pods]\n  validations:\n  - expression: 'true'\n    message: m\n---\napiVersion: policies.kyverno.io/v1alpha1\nkind: ValidatingPolicy\nmetadata: {}\n";
        let loaded = load_str("v.yaml", text);
        assert_eq!(loaded.validating_policies.len(), 1);
        let vp = &loaded.validating_policies[0];
        assert_eq!(vp.name, "vp");
        assert!(!vp.denies());
        assert_eq!(
            vp.spec.match_constraints.resource_rules[0].resources,
            ["pods"]
        );
        assert_eq!(vp.spec.validations[0].message.as_deref(), Some("m"));
        assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
        assert!(loaded.errors[0].to_string().contains("v.yaml:"));
    }

    const POLICY: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored}
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-labels
  annotations:
    policies.kyverno.io/severity: high
spec:
  validationFailureAction: enforce
  background: false
  rules:
  - name: check-team
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "label `team` is required"
      pattern:
        metadata:
          labels:
            team: "?*"
---
apiVersion: kyverno.io/v2
kind: PolicyException
metadata: {name: allow-ops, namespace: ops}
spec:
  exceptions:
  - policyName: require-labels
    ruleNames: [check-team, autogen-check-team]
  match:
    any:
    - resources:
        namespaces: [ops]
"#;

    #[test]
    fn loads_policies_and_exceptions_ignoring_other_kinds() {
        let loaded = load_str("p.yaml", POLICY);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.policies.len(), 1);
        let p = &loaded.policies[0];
        assert_eq!(p.name, "require-labels");
        assert_eq!(p.failure_action, FailureAction::Enforce);
        assert!(!p.background);
        assert_eq!(p.annotation("policies.kyverno.io/severity"), Some("high"));
        assert_eq!(
            p.rules[0].match_resources.any[0].resources.kinds,
            vec!["Pod"]
        );
        assert!(p.rules[0]
            .validate
            .as_ref()
            .is_some_and(|v| v.pattern.is_some()));
        assert_eq!(loaded.exceptions.len(), 1);
        assert_eq!(loaded.exceptions[0].exceptions[0].rule_names.len(), 2);
    }

    #[test]
    fn a_bad_document_names_file_and_line_and_does_not_stop_the_others() {
        let text = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: bad}\nspec:\n  rules: 3\n---\napiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: good}\nspec:\n  failureAction: Audit\n  rules: []\n";
        let loaded = load_str("x.yaml", text);
        assert_eq!(loaded.policies.len(), 1);
        assert_eq!(loaded.policies[0].name, "good");
        assert_eq!(loaded.errors.len(), 1);
        assert!(
            loaded.errors[0].to_string().starts_with("x.yaml:1:"),
            "{}",
            loaded.errors[0]
        );
    }

    #[test]
    fn unknown_failure_action_is_an_error() {
        let text = "apiVersion: kyverno.io/v1\nkind: Policy\nmetadata: {name: p, namespace: team}\nspec:\n  validationFailureAction: block\n";
        let loaded = load_str("y.yaml", text);
        assert!(loaded.policies.is_empty());
        assert!(loaded.errors[0].to_string().contains("block"));
    }

    #[test]
    fn syntax_errors_are_reported() {
        let loaded = load_str("z.yaml", "a: [\n");
        assert_eq!(loaded.errors.len(), 1);
    }
}
