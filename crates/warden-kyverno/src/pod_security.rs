//! `validate.podSecurity`: the Pod Security Standards as one rule.
//!
//! ```yaml
//! podSecurity:
//!   level: baseline | restricted | privileged
//!   version: latest | v1.xx
//!   exclude:
//!   - controlName: Capabilities        # as the standard names it
//!     images: ["ghcr.io/acme/*"]       # container-level; absent: the pod-level fields
//!     restrictedField: spec.containers[*].securityContext.capabilities.add
//!     values: [SYS_ADMIN]
//! ```
//!
//! The checks themselves are not here: this crate depends only on warden-core, so the
//! controls come from a [`PodSecurity`] implementation the caller injects (Warden's built-in
//! Kubernetes rules, in warden-policy). This module parses the sub-rule, drops the excluded
//! violations and turns the rest into a verdict. `privileged` always passes; `restricted`
//! includes the baseline controls (the checker's job); `version` is accepted and the latest
//! standard is checked.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::matching::wildcard;
use crate::KyvernoError;

/// A Pod Security Standards profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// No restriction.
    Privileged,
    /// Known privilege escalations prevented.
    Baseline,
    /// Hardening best practices (baseline included).
    Restricted,
}

impl Level {
    /// Reads `privileged`, `baseline`, `restricted` (case-insensitive).
    #[must_use]
    pub fn parse(text: &str) -> Option<Level> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "privileged" => Level::Privileged,
            "baseline" => Level::Baseline,
            "restricted" => Level::Restricted,
            _ => return None,
        })
    }

    /// The lowercase name the standard uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One violated control on one place of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The control as the standard (and Kyverno's `exclude[].controlName`) names it:
    /// `Capabilities`, `Host Ports`, `Running as Non-root`, ...
    pub control: String,
    /// The offending field relative to the pod, Kyverno style:
    /// `spec.containers[0].securityContext.privileged`, `spec.hostIPC`,
    /// `metadata.annotations.<key>`.
    pub path: String,
    /// Images of the containers the violation is about; empty for a pod-level field.
    pub images: Vec<String>,
    /// What is wrong, for the rule's message.
    pub message: String,
}

/// The Pod Security Standards checks, injected into the engine (see the module docs).
pub trait PodSecurity: Send + Sync + fmt::Debug {
    /// Every violation of the controls of `level` (baseline ones included for `restricted`)
    /// by `resource`: a Pod, or a pod controller (its pod template is checked).
    fn violations(&self, level: Level, resource: &Value) -> Vec<Violation>;
}

/// `validate.podSecurity` as written.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodSecuritySpec {
    /// `privileged`, `baseline` or `restricted`.
    pub level: String,
    /// `latest` or `v1.xx` (informational: the latest standard is checked).
    pub version: Option<String>,
    /// Exemptions.
    pub exclude: Vec<Exclude>,
}

/// One `exclude` entry.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Exclude {
    /// The control exempted.
    pub control_name: String,
    /// Container images (globs) exempted; none: the pod-level fields of the control.
    pub images: Vec<String>,
    /// Only this field (`spec.containers[*].securityContext.capabilities.add`).
    pub restricted_field: Option<String>,
    /// Only these values of the field.
    pub values: Vec<Value>,
}

impl PodSecuritySpec {
    /// Reads the sub-rule; the level must be a known one.
    pub fn parse(value: &Value) -> Result<(PodSecuritySpec, Level), KyvernoError> {
        let spec: PodSecuritySpec = serde_json::from_value(value.clone())
            .map_err(|e| KyvernoError::Condition(format!("validate.podSecurity: {e}")))?;
        let level = Level::parse(&spec.level).ok_or_else(|| {
            KyvernoError::Condition(format!(
                "validate.podSecurity.level `{}`: expected privileged, baseline or restricted",
                spec.level
            ))
        })?;
        Ok((spec, level))
    }

    /// `level:version` as Kyverno prints it.
    #[must_use]
    pub fn profile(&self, level: Level) -> String {
        format!("{level}:{}", self.version.as_deref().unwrap_or("latest"))
    }
}

impl Exclude {
    /// `true` when this entry exempts `violation` of `resource`.
    #[must_use]
    pub fn covers(&self, violation: &Violation, resource: &Value) -> bool {
        if !self.control_name.eq_ignore_ascii_case(&violation.control) {
            return false;
        }
        let place = if violation.images.is_empty() {
            self.images.is_empty()
        } else {
            !self.images.is_empty()
                && violation
                    .images
                    .iter()
                    .all(|image| self.images.iter().any(|g| wildcard(g, image)))
        };
        place && self.field_covers(violation, resource)
    }

    /// `restrictedField` / `values`: the violation's field must be that one, and every value
    /// found there one of the exempted values (when listed).
    fn field_covers(&self, violation: &Violation, resource: &Value) -> bool {
        let Some(field) = &self.restricted_field else {
            return true;
        };
        if normalize(field) != normalize(&violation.path) {
            return false;
        }
        if self.values.is_empty() {
            return true;
        }
        let found = field_value(resource, &violation.path);
        let items: Vec<&Value> = match found {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(v) => vec![v],
            None => vec![&Value::Null],
        };
        items.iter().all(|v| self.values.iter().any(|x| same(x, v)))
    }
}

/// Values compare as strings when either is one (`"true"` and `true` are the same value).
fn same(a: &Value, b: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    a == b || text(a) == text(b)
}

/// A pod-relative field with every index a wildcard: `spec.containers[*].x`.
fn normalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[*]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// The value at a pod-relative path of a Pod or of a controller's pod template.
fn field_value<'a>(resource: &'a Value, path: &str) -> Option<&'a Value> {
    let template = match resource.get("kind").and_then(Value::as_str) {
        Some("Pod") | None => Some(resource),
        Some("CronJob") => resource.pointer("/spec/jobTemplate/spec/template"),
        Some(_) => resource.pointer("/spec/template"),
    }?;
    let mut node = template;
    for segment in path.split('.') {
        let (name, indexes) = segment.split_once('[').unwrap_or((segment, ""));
        node = node.get(name)?;
        for index in indexes.split('[') {
            let index = index.trim_end_matches(']');
            if !index.is_empty() {
                node = node.get(index.parse::<usize>().ok()?)?;
            }
        }
    }
    Some(node)
}

/// The verdict of a podSecurity sub-rule: `Ok(None)` for a pass, `Ok(Some(message))` for a
/// failure listing the violated controls.
pub fn check(
    spec: &PodSecuritySpec,
    level: Level,
    checker: &dyn PodSecurity,
    resource: &Value,
) -> Option<String> {
    if level == Level::Privileged {
        return None;
    }
    let remaining: Vec<Violation> = checker
        .violations(level, resource)
        .into_iter()
        .filter(|v| !spec.exclude.iter().any(|e| e.covers(v, resource)))
        .collect();
    if remaining.is_empty() {
        return None;
    }
    let mut controls: Vec<&str> = remaining.iter().map(|v| v.control.as_str()).collect();
    controls.sort_unstable();
    controls.dedup();
    let details: Vec<String> = remaining
        .iter()
        .map(|v| format!("{} ({}): {}", v.control, v.path, v.message))
        .collect();
    Some(format!(
        "It violates PodSecurity \"{}\": {{{}}}: {}",
        spec.profile(level),
        controls.join(", "),
        details.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Reports fixed violations whatever the resource, baseline ones always and the
    /// restricted ones at `restricted`.
    #[derive(Debug)]
    struct Fixed {
        baseline: Vec<Violation>,
        restricted: Vec<Violation>,
    }

    impl PodSecurity for Fixed {
        fn violations(&self, level: Level, _resource: &Value) -> Vec<Violation> {
            let mut out = self.baseline.clone();
            if level == Level::Restricted {
                out.extend(self.restricted.clone());
            }
            out
        }
    }

    fn violation(control: &str, path: &str, images: &[&str]) -> Violation {
        Violation {
            control: control.to_owned(),
            path: path.to_owned(),
            images: images.iter().map(|s| (*s).to_owned()).collect(),
            message: "bad".to_owned(),
        }
    }

    fn spec(yaml: Value) -> (PodSecuritySpec, Level) {
        PodSecuritySpec::parse(&yaml).unwrap()
    }

    #[test]
    fn levels_parse_and_unknown_levels_are_errors() {
        assert_eq!(
            spec(json!({"level": "restricted", "version": "latest"})).1,
            Level::Restricted
        );
        let err = PodSecuritySpec::parse(&json!({"level": "strict"})).unwrap_err();
        assert!(err.to_string().contains("strict"), "{err}");
    }

    #[test]
    fn privileged_always_passes_and_baseline_ignores_restricted_controls() {
        let checker = Fixed {
            baseline: Vec::new(),
            restricted: vec![violation(
                "Running as Non-root",
                "spec.securityContext.runAsNonRoot",
                &[],
            )],
        };
        let pod = json!({"kind": "Pod"});
        let (s, l) = spec(json!({"level": "privileged"}));
        assert_eq!(check(&s, l, &checker, &pod), None);
        let (s, l) = spec(json!({"level": "baseline", "version": "v1.29"}));
        assert_eq!(check(&s, l, &checker, &pod), None);
        let (s, l) = spec(json!({"level": "restricted", "version": "latest"}));
        let message = check(&s, l, &checker, &pod).unwrap();
        assert!(message.contains("restricted:latest"), "{message}");
        assert!(message.contains("Running as Non-root"), "{message}");
    }

    /// Kyverno's documented example: exempt images from the Capabilities control.
    #[test]
    fn image_excludes_cover_only_matching_containers() {
        let checker = Fixed {
            baseline: vec![
                violation(
                    "Capabilities",
                    "spec.containers[0].securityContext.capabilities.add",
                    &["ghcr.io/kyverno/test-nginx:latest"],
                ),
                violation(
                    "Capabilities",
                    "spec.containers[1].securityContext.capabilities.add",
                    &["busybox:1.28"],
                ),
            ],
            restricted: Vec::new(),
        };
        let pod = json!({"kind": "Pod"});
        let (s, l) = spec(json!({"level": "restricted", "exclude": [
            {"controlName": "Capabilities", "images": ["ghcr.io/kyverno/test-nginx*", "redis*"]}
        ]}));
        let message = check(&s, l, &checker, &pod).unwrap();
        assert!(message.contains("containers[1]"), "{message}");
        assert!(!message.contains("containers[0]"), "{message}");
        let (s, l) = spec(json!({"level": "restricted", "exclude": [
            {"controlName": "Capabilities", "images": ["*"]}
        ]}));
        assert_eq!(check(&s, l, &checker, &pod), None);
    }

    #[test]
    fn excludes_without_images_cover_only_pod_level_fields() {
        let pod_level = violation("Seccomp", "spec.securityContext.seccompProfile.type", &[]);
        let container = violation(
            "Seccomp",
            "spec.containers[0].securityContext.seccompProfile",
            &["busybox:1.28"],
        );
        let checker = Fixed {
            baseline: vec![pod_level],
            restricted: vec![container],
        };
        let pod = json!({"kind": "Pod"});
        let (s, l) = spec(json!({"level": "restricted", "exclude": [{"controlName": "Seccomp"}]}));
        let message = check(&s, l, &checker, &pod).unwrap();
        assert!(message.contains("containers[0]"), "{message}");
        let (s, l) = spec(json!({"level": "restricted", "exclude": [
            {"controlName": "Seccomp"},
            {"controlName": "Seccomp", "images": ["*"]}
        ]}));
        assert_eq!(check(&s, l, &checker, &pod), None);
    }

    #[test]
    fn restricted_field_and_values_narrow_the_exclusion() {
        let v = violation(
            "Capabilities",
            "spec.containers[0].securityContext.capabilities.add",
            &["nginx"],
        );
        let pod = json!({"kind": "Pod", "spec": {"containers": [
            {"image": "nginx", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}
        ]}});
        let exclude = |values: Value| -> Exclude {
            serde_json::from_value(json!({
                "controlName": "Capabilities",
                "images": ["nginx"],
                "restrictedField": "spec.containers[*].securityContext.capabilities.add",
                "values": values
            }))
            .unwrap()
        };
        assert!(exclude(json!(["SYS_ADMIN"])).covers(&v, &pod));
        assert!(!exclude(json!(["NET_ADMIN"])).covers(&v, &pod));
        let other_field: Exclude = serde_json::from_value(json!({
            "controlName": "Capabilities",
            "images": ["nginx"],
            "restrictedField": "spec.initContainers[*].securityContext.capabilities.add"
        }))
        .unwrap();
        assert!(!other_field.covers(&v, &pod));
    }

    #[test]
    fn field_values_are_found_in_pod_templates() {
        let deployment = json!({"kind": "Deployment", "spec": {"template": {"spec": {
            "containers": [{"ports": [{"hostPort": 80}]}]
        }}}});
        assert_eq!(
            field_value(&deployment, "spec.containers[0].ports[0].hostPort"),
            Some(&json!(80))
        );
    }
}
