//! Kyverno's `validate.podSecurity` checks, answered by Warden's built-in Pod Security
//! Standards rules: one built-in rule per control (WD-K8S-001..011 the baseline profile,
//! WD-K8S-012..017 the restricted one), each finding mapped to the control's name as the
//! standard (and Kyverno's `exclude[].controlName`) spells it.
//!
//! warden-kyverno depends only on warden-core; this is where the two meet.

use std::sync::Arc;

use serde_json::Value as Json;
use warden_core::changeset::{ChangeSet, Context, InputInfo, InputKind};
use warden_core::{Engine, Finding, Value};
use warden_kyverno::pod_security::{Level, PodSecurity, Violation};
use warden_rules::{BuiltinEngine, ResolvedRule, UnknownPolicy};

/// Built-in rule id → Pod Security Standards control, baseline profile.
const BASELINE: &[(&str, &str)] = &[
    ("WD-K8S-001", "HostProcess"),
    ("WD-K8S-002", "Host Namespaces"),
    ("WD-K8S-003", "Privileged Containers"),
    ("WD-K8S-004", "Capabilities"),
    ("WD-K8S-005", "HostPath Volumes"),
    ("WD-K8S-006", "Host Ports"),
    ("WD-K8S-007", "AppArmor"),
    ("WD-K8S-008", "SELinux"),
    ("WD-K8S-009", "/proc Mount Type"),
    ("WD-K8S-010", "Seccomp"),
    ("WD-K8S-011", "Sysctls"),
];

/// Built-in rule id → control, the restricted profile's own controls.
const RESTRICTED: &[(&str, &str)] = &[
    ("WD-K8S-012", "Volume Types"),
    ("WD-K8S-013", "Privilege Escalation"),
    ("WD-K8S-014", "Running as Non-root"),
    ("WD-K8S-015", "Running as Non-root user"),
    ("WD-K8S-016", "Seccomp"),
    ("WD-K8S-017", "Capabilities"),
];

/// Legacy AppArmor annotation prefix; the rest of the key is a container name.
const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

/// The Pod Security Standards checks of the built-in rules, for the Kyverno engine.
#[derive(Debug)]
pub struct BuiltinPodSecurity {
    baseline: BuiltinEngine,
    restricted: BuiltinEngine,
}

impl Default for BuiltinPodSecurity {
    fn default() -> Self {
        BuiltinPodSecurity::new()
    }
}

impl BuiltinPodSecurity {
    /// The checks with every rule at its default parameters.
    #[must_use]
    pub fn new() -> BuiltinPodSecurity {
        let all: Vec<(&str, &str)> = BASELINE.iter().chain(RESTRICTED).copied().collect();
        BuiltinPodSecurity {
            baseline: engine(BASELINE),
            restricted: engine(&all),
        }
    }

    /// [`BuiltinPodSecurity::new`], shared, as the engine takes it.
    #[must_use]
    pub fn shared() -> Arc<dyn PodSecurity> {
        Arc::new(BuiltinPodSecurity::new())
    }
}

fn engine(controls: &[(&str, &str)]) -> BuiltinEngine {
    let rules = controls
        .iter()
        .filter_map(|(id, _)| warden_rules::find(id))
        .map(|meta| {
            let mut params = serde_json::Map::new();
            for p in meta.params {
                if let Some(v) = meta.param_default(p.name) {
                    params.insert(p.name.to_owned(), v);
                }
            }
            ResolvedRule {
                meta,
                enforcement: meta.enforcement,
                unknown_enforcement: UnknownPolicy::default().for_rule(meta.enforcement),
                params,
                why: String::new(),
                help_uri: String::new(),
            }
        })
        .collect();
    BuiltinEngine::new(rules)
}

/// The control a built-in rule checks.
fn control_of(rule_id: &str) -> Option<&'static str> {
    BASELINE
        .iter()
        .chain(RESTRICTED)
        .find(|(id, _)| *id == rule_id)
        .map(|(_, control)| *control)
}

/// A one-resource change set of the object.
fn change_set(object: &Json) -> ChangeSet {
    let value = Value::from_json(object);
    let resource = warden_core::inputs::kubernetes::resource("kyverno", &value, 0, String::new());
    ChangeSet {
        resources: vec![resource],
        context: Context::default(),
        input: InputInfo {
            path: "kyverno".to_owned(),
            kind: InputKind::KubernetesManifests,
            digest: String::new(),
            format_version: None,
            tool_version: None,
        },
        terraform: None,
    }
}

impl PodSecurity for BuiltinPodSecurity {
    fn violations(&self, level: Level, resource: &Json) -> Vec<Violation> {
        let engine = match level {
            Level::Privileged => return Vec::new(),
            Level::Baseline => &self.baseline,
            Level::Restricted => &self.restricted,
        };
        let mut findings = Vec::new();
        if engine
            .evaluate(&change_set(resource), &mut findings)
            .is_err()
        {
            return Vec::new();
        }
        findings
            .iter()
            .filter_map(|f| violation(f, resource))
            .collect()
    }
}

fn violation(finding: &Finding, resource: &Json) -> Option<Violation> {
    let control = control_of(&finding.rule_id)?;
    let kind = resource
        .get("kind")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let path = pod_relative(kind, finding.attribute.as_deref().unwrap_or_default());
    let images = images_at(&path, template(kind, resource));
    Some(Violation {
        control: control.to_owned(),
        path,
        images,
        message: finding.message.clone(),
    })
}

/// The pod (template) of a Pod or controller: what has `metadata` and `spec`.
fn template<'a>(kind: &str, resource: &'a Json) -> &'a Json {
    let pointer = match kind {
        "Pod" => "",
        "CronJob" => "/spec/jobTemplate/spec/template",
        _ => "/spec/template",
    };
    resource.pointer(pointer).unwrap_or(&Json::Null)
}

/// A built-in rule's dotted attribute (`spec.template.spec.containers.0.ports.1.hostPort`)
/// relative to the pod, Kyverno style (`spec.containers[0].ports[1].hostPort`).
fn pod_relative(kind: &str, attribute: &str) -> String {
    let prefix = match kind {
        "Pod" => "",
        "CronJob" => "spec.jobTemplate.spec.template.",
        _ => "spec.template.",
    };
    let rest = attribute.strip_prefix(prefix).unwrap_or(attribute);
    let mut out = String::with_capacity(rest.len());
    for segment in rest.split('.') {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(segment);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    out
}

/// The image of the container a pod-relative path is about; none for pod-level fields.
fn images_at(path: &str, pod: &Json) -> Vec<String> {
    let image = |c: &Json| c.get("image").and_then(Json::as_str).map(str::to_owned);
    if let Some(container) =
        path.strip_prefix(&format!("metadata.annotations.{APPARMOR_ANNOTATION}"))
    {
        return ["containers", "initContainers", "ephemeralContainers"]
            .iter()
            .filter_map(|key| pod.pointer(&format!("/spec/{key}"))?.as_array())
            .flatten()
            .filter(|c| c.get("name").and_then(Json::as_str) == Some(container))
            .filter_map(image)
            .collect();
    }
    for key in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(rest) = path.strip_prefix(&format!("spec.{key}[")) else {
            continue;
        };
        let index = rest.split(']').next().and_then(|i| i.parse::<usize>().ok());
        return index
            .and_then(|i| pod.pointer(&format!("/spec/{key}/{i}")))
            .and_then(image)
            .into_iter()
            .collect();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn controls(level: Level, resource: &Json) -> Vec<String> {
        let mut out: Vec<String> = BuiltinPodSecurity::new()
            .violations(level, resource)
            .into_iter()
            .map(|v| v.control)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn every_control_maps_to_an_existing_rule() {
        for (id, _) in BASELINE.iter().chain(RESTRICTED) {
            assert!(warden_rules::find(id).is_some(), "{id}");
        }
    }

    #[test]
    fn baseline_flags_host_namespaces_and_restricted_adds_its_controls() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"hostIPC": true, "containers": [{"name": "c", "image": "busybox:1.28"}]}});
        assert_eq!(controls(Level::Baseline, &pod), ["Host Namespaces"]);
        let restricted = controls(Level::Restricted, &pod);
        for c in [
            "Host Namespaces",
            "Privilege Escalation",
            "Running as Non-root",
            "Seccomp",
            "Capabilities",
        ] {
            assert!(restricted.iter().any(|r| r == c), "{c}: {restricted:?}");
        }
        assert!(controls(Level::Privileged, &pod).is_empty());
    }

    #[test]
    fn a_compliant_pod_has_no_restricted_violation() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.1.9", "securityContext": {
                "allowPrivilegeEscalation": false, "runAsNonRoot": true,
                "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}}]}});
        assert_eq!(controls(Level::Restricted, &pod), Vec::<String>::new());
    }

    #[test]
    fn container_violations_carry_the_image_and_a_pod_relative_path() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "nginx:1", "ports": [{"containerPort": 80, "hostPort": 80}]}
        ]}}}});
        let v = BuiltinPodSecurity::new().violations(Level::Baseline, &deployment);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].control, "Host Ports");
        assert_eq!(v[0].path, "spec.containers[0].ports[0].hostPort");
        assert_eq!(v[0].images, ["nginx:1"]);
    }

    #[test]
    fn pod_level_violations_have_no_image() {
        let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostPID": true,
                "containers": [{"name": "c", "image": "busybox"}]}}}}}});
        let v = BuiltinPodSecurity::new().violations(Level::Baseline, &cron);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].path, "spec.hostPID");
        assert!(v[0].images.is_empty());
    }
}
