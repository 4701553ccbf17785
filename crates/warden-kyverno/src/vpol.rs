//! `ValidatingPolicy` (`policies.kyverno.io/v1alpha1` and later): Kubernetes
//! ValidatingAdmissionPolicy-style CEL policies. `matchConstraints` selects resources by API
//! group, version, plural resource name and operation (plus namespace and object selectors),
//! `matchConditions` narrow them, `validations` must all hold.
//!
//! Autogen: a policy that matches only pods also applies to pod controllers (Deployment,
//! DaemonSet, StatefulSet, ReplicaSet, Job, CronJob), evaluated on the pod template, unless
//! `spec.autogen.podControllers.controllers` says otherwise. Results name the policy only.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::cel::{self, CelEnv, CelInput, CelValidation, CelVariable};
use crate::engine::{Request, RuleResult, Status};
use crate::matching::{labels_of, selector_matches};
use crate::policy::LabelSelector;
use crate::KyvernoError;

/// A `ValidatingPolicy`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValidatingPolicy {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// The spec.
    pub spec: ValidatingPolicySpec,
    /// Where the policy was read from (`file:line`).
    pub source: String,
}

/// `spec` of a `ValidatingPolicy`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ValidatingPolicySpec {
    /// Which requests the policy sees.
    pub match_constraints: MatchConstraints,
    /// CEL conditions (`{name, expression}`) that must all hold, else the policy skips.
    pub match_conditions: Vec<CelVariable>,
    /// Variables (`variables.<name>`).
    pub variables: Vec<CelVariable>,
    /// Validations, all of which must hold.
    pub validations: Vec<CelValidation>,
    /// `Deny`, `Audit`, `Warn`.
    pub validation_actions: Vec<String>,
    /// `Fail` (default: an evaluation error is an error) or `Ignore` (it skips).
    pub failure_policy: Option<String>,
    /// `autogen` settings.
    pub autogen: Option<Autogen>,
}

/// `spec.autogen`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Autogen {
    /// `podControllers`.
    pub pod_controllers: Option<PodControllers>,
}

/// `spec.autogen.podControllers`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodControllers {
    /// Controllers (plural resource names or kinds); empty disables autogen.
    pub controllers: Option<Vec<String>>,
}

/// `spec.matchConstraints`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MatchConstraints {
    /// Rules of which one must match.
    pub resource_rules: Vec<ResourceRule>,
    /// Rules of which none may match.
    pub exclude_resource_rules: Vec<ResourceRule>,
    /// Selector on the namespace's labels.
    pub namespace_selector: Option<LabelSelector>,
    /// Selector on the object's labels.
    pub object_selector: Option<LabelSelector>,
}

/// One `resourceRules` entry.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceRule {
    /// API groups (`""` is core, `*` any).
    pub api_groups: Vec<String>,
    /// API versions (`*` any).
    pub api_versions: Vec<String>,
    /// Plural resource names (`pods`, `*`, `pods/status`).
    pub resources: Vec<String>,
    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT`, `*`.
    pub operations: Vec<String>,
    /// Names (empty: any).
    pub resource_names: Vec<String>,
}

impl ValidatingPolicy {
    /// A policy from its JSON document read at `source`.
    pub fn from_json(source: &str, object: &Value) -> Result<ValidatingPolicy, KyvernoError> {
        let load_error = |message: String| KyvernoError::Load {
            file: source.to_owned(),
            message,
        };
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .ok_or_else(|| load_error("no metadata.name".into()))?
            .to_owned();
        let spec = serde_json::from_value(object.get("spec").cloned().unwrap_or(Value::Null))
            .map_err(|e| load_error(format!("ValidatingPolicy `{name}`: spec: {e}")))?;
        let annotations = object
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(ValidatingPolicy {
            name,
            annotations,
            spec,
            source: source.to_owned(),
        })
    }

    /// `true` when a failure blocks the request (`validationActions` holds `Deny`);
    /// `Audit`/`Warn` only report.
    #[must_use]
    pub fn denies(&self) -> bool {
        self.spec
            .validation_actions
            .iter()
            .any(|a| a.eq_ignore_ascii_case("deny"))
    }

    /// The pod controllers autogen covers: none unless the policy matches only pods.
    #[must_use]
    pub fn autogen_controllers(&self) -> Vec<&'static str> {
        let rules = &self.spec.match_constraints.resource_rules;
        let only_pods = !rules.is_empty()
            && rules
                .iter()
                .all(|r| !r.resources.is_empty() && r.resources.iter().all(|x| x == "pods"));
        if !only_pods {
            return Vec::new();
        }
        let wanted = self
            .spec
            .autogen
            .as_ref()
            .and_then(|a| a.pod_controllers.as_ref())
            .and_then(|p| p.controllers.as_ref());
        POD_CONTROLLERS
            .iter()
            .filter(|(kind, plural)| {
                wanted.is_none_or(|w| {
                    w.iter()
                        .any(|c| c.eq_ignore_ascii_case(kind) || c == plural)
                })
            })
            .map(|(kind, _)| *kind)
            .collect()
    }
}

/// Pod controllers autogen knows: kind and plural resource.
const POD_CONTROLLERS: &[(&str, &str)] = &[
    ("Deployment", "deployments"),
    ("DaemonSet", "daemonsets"),
    ("StatefulSet", "statefulsets"),
    ("ReplicaSet", "replicasets"),
    ("Job", "jobs"),
    ("CronJob", "cronjobs"),
];

/// Plural resource names of the built-in kinds that do not follow the simple rule.
const PLURALS: &[(&str, &str)] = &[
    ("Endpoints", "endpoints"),
    ("Ingress", "ingresses"),
    ("IngressClass", "ingressclasses"),
    ("NetworkPolicy", "networkpolicies"),
    ("PodSecurityPolicy", "podsecuritypolicies"),
    ("PriorityClass", "priorityclasses"),
    ("RuntimeClass", "runtimeclasses"),
    ("StorageClass", "storageclasses"),
    ("ResourceQuota", "resourcequotas"),
    ("PodDisruptionBudget", "poddisruptionbudgets"),
    ("EndpointSlice", "endpointslices"),
];

/// The plural resource name of `kind` (`Pod` → `pods`, `Ingress` → `ingresses`,
/// `NetworkPolicy` → `networkpolicies`).
#[must_use]
pub fn resource_of_kind(kind: &str) -> String {
    if let Some((_, plural)) = PLURALS.iter().find(|(k, _)| *k == kind) {
        return (*plural).to_owned();
    }
    let lower = kind.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    if lower.ends_with('s')
        || lower.ends_with("sh")
        || lower.ends_with("ch")
        || lower.ends_with('x')
    {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

fn listed(list: &[String], value: &str) -> bool {
    list.is_empty() || list.iter().any(|x| x == "*" || x == value)
}

/// `true` when `rule` selects `resource` under `operation`.
#[must_use]
pub fn rule_matches(rule: &ResourceRule, resource: &Value, operation: &str) -> bool {
    let api = str_at(resource, "/apiVersion");
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    let plural = resource_of_kind(str_at(resource, "/kind"));
    let resource_ok = rule.resources.iter().any(|r| {
        r == "*" || r == "*/*" || *r == plural || r.strip_suffix("/*") == Some(plural.as_str())
    });
    listed(&rule.api_groups, group)
        && listed(&rule.api_versions, version)
        && resource_ok
        && listed(&rule.operations, operation)
        && listed(&rule.resource_names, str_at(resource, "/metadata/name"))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn operation_of(request: &Request) -> &str {
    if request.info.operation.is_empty() {
        "CREATE"
    } else {
        request.info.operation.as_str()
    }
}

/// `true` when `matchConstraints` select `resource` (as written, no autogen).
#[must_use]
pub fn constraints_match(m: &MatchConstraints, resource: &Value, request: &Request) -> bool {
    let op = operation_of(request);
    if !m
        .resource_rules
        .iter()
        .any(|r| rule_matches(r, resource, op))
        || m.exclude_resource_rules
            .iter()
            .any(|r| rule_matches(r, resource, op))
    {
        return false;
    }
    if let Some(sel) = &m.object_selector {
        if !selector_matches(sel, &labels_of(resource)) {
            return false;
        }
    }
    match (&m.namespace_selector, &request.info.namespace_labels) {
        (Some(sel), Some(labels)) => selector_matches(sel, labels),
        _ => true,
    }
}

/// The object the policy evaluates for `request`: the resource itself when the constraints
/// select it, the pod template of an autogen-covered controller, or `None`.
#[must_use]
pub fn subject_of(policy: &ValidatingPolicy, request: &Request) -> Option<Value> {
    let resource = &request.resource;
    if constraints_match(&policy.spec.match_constraints, resource, request) {
        return Some(resource.clone());
    }
    let kind = str_at(resource, "/kind");
    if !policy.autogen_controllers().contains(&kind) {
        return None;
    }
    let pod = cel::template_pod(resource)?;
    constraints_match(&policy.spec.match_constraints, &pod, request).then_some(pod)
}

/// The verdict of `policy` on `request`; `None` when the policy does not apply.
/// `matchConditions` that do not hold give `skip`; an evaluation error gives `error`
/// (`skip` under `failurePolicy: Ignore`).
#[must_use]
pub fn evaluate(policy: &ValidatingPolicy, request: &Request) -> Option<RuleResult> {
    let object = subject_of(policy, request)?;
    let input = CelInput::new(&object, &request.info);
    Some(match evaluate_on(policy, &input) {
        Ok(r) => r,
        Err(e) => {
            let ignore = policy
                .spec
                .failure_policy
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case("ignore"));
            let status = if ignore { Status::Skip } else { Status::Error };
            RuleResult {
                status,
                message: e.to_string(),
            }
        }
    })
}

fn evaluate_on(policy: &ValidatingPolicy, input: &CelInput) -> Result<RuleResult, KyvernoError> {
    let conditions = CelEnv::new(input, &[]);
    for c in &policy.spec.match_conditions {
        if !conditions.eval_bool(&c.expression)? {
            return Ok(RuleResult {
                status: Status::Skip,
                message: format!("match condition `{}` not met", c.name),
            });
        }
    }
    let env = CelEnv::new(input, &policy.spec.variables);
    Ok(match env.first_failure(&policy.spec.validations)? {
        None => RuleResult {
            status: Status::Pass,
            message: format!("policy {} passed", policy.name),
        },
        Some(message) => RuleResult {
            status: Status::Fail,
            message,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(spec: Value) -> ValidatingPolicy {
        let doc = json!({"apiVersion": "policies.kyverno.io/v1alpha1", "kind": "ValidatingPolicy",
                         "metadata": {"name": "vp"}, "spec": spec});
        ValidatingPolicy::from_json("test:1", &doc).unwrap()
    }

    fn pods_policy() -> ValidatingPolicy {
        policy(json!({
            "validationActions": ["Deny"],
            "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"], "resources": ["pods"]}]},
            "variables": [{"name": "c", "expression": "object.spec.containers"}],
            "validations": [{"expression": "variables.c.all(c, !c.image.endsWith(':latest'))",
                             "message": "no latest"}]
        }))
    }

    fn pod(image: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"containers": [{"name": "a", "image": image}]}})
    }

    #[test]
    fn plural_resource_names() {
        assert_eq!(resource_of_kind("Pod"), "pods");
        assert_eq!(resource_of_kind("Ingress"), "ingresses");
        assert_eq!(resource_of_kind("NetworkPolicy"), "networkpolicies");
        assert_eq!(
            resource_of_kind("ClusterRoleBinding"),
            "clusterrolebindings"
        );
        assert_eq!(resource_of_kind("Gateway"), "gateways");
    }

    #[test]
    fn validations_pass_and_fail_on_pods() {
        let p = pods_policy();
        assert!(p.denies());
        let r = evaluate(&p, &Request::create(pod("nginx:1.2"))).unwrap();
        assert_eq!(r.status, Status::Pass);
        let r = evaluate(&p, &Request::create(pod("nginx:latest"))).unwrap();
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.message, "no latest");
    }

    #[test]
    fn resource_rules_select_group_version_resource_and_operation() {
        let p = pods_policy();
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}});
        assert!(evaluate(&p, &Request::create(svc)).is_none());
        let mut delete = Request::create(pod("x"));
        delete.info.operation = "DELETE".into();
        assert!(evaluate(&p, &delete).is_none());
    }

    #[test]
    fn autogen_evaluates_the_pod_template_of_controllers() {
        let p = pods_policy();
        let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"metadata": {}, "spec": {"containers": [{"name": "a", "image": "x:latest"}]}}}});
        assert_eq!(
            evaluate(&p, &Request::create(deploy.clone()))
                .unwrap()
                .status,
            Status::Fail
        );
        let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}}}}});
        assert_eq!(
            evaluate(&p, &Request::create(cron)).unwrap().status,
            Status::Pass
        );
        let mut off = pods_policy();
        off.spec.autogen = Some(Autogen {
            pod_controllers: Some(PodControllers {
                controllers: Some(Vec::new()),
            }),
        });
        assert!(evaluate(&off, &Request::create(deploy)).is_none());
    }

    #[test]
    fn match_conditions_skip_and_errors_are_errors() {
        let mut p = pods_policy();
        p.spec.match_conditions = vec![CelVariable {
            name: "named-q".into(),
            expression: "object.metadata.name == 'q'".into(),
        }];
        let r = evaluate(&p, &Request::create(pod("x:latest"))).unwrap();
        assert_eq!(r.status, Status::Skip);
        let mut p = pods_policy();
        p.spec.validations[0].expression = "object.spec.nothere".into();
        let r = evaluate(&p, &Request::create(pod("x"))).unwrap();
        assert_eq!(r.status, Status::Error);
    }
}
