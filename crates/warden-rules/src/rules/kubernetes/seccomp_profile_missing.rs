use super::pod::{containers, linux_pod_spec, POD_CONTROLLERS};
use crate::prelude::*;

/// The profile types the restricted profile allows.
const ALLOWED: &[&str] = &["RuntimeDefault", "Localhost"];

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init, ephemeral) that do not end up with a seccomp profile of type
    /// `RuntimeDefault` or `Localhost`: the container's own
    /// `securityContext.seccompProfile.type`, else the pod's. A missing profile counts (the
    /// container then runs unconfined). Containers whose effective type is the explicit
    /// `Unconfined` are left to the baseline rule WD-K8S-010, so they are not reported twice;
    /// pods with `spec.os.name: windows` are exempt, as in the standard.
    ///
    /// One finding per pod for the containers that inherit a missing (or invalid) pod-level
    /// profile, and one per container whose own type is invalid.
    ///
    /// Pod Security Standards, **restricted** profile: "Seccomp".
    ///
    /// ## Why it matters
    /// Without a seccomp profile a container may call every one of the kernel's hundreds of
    /// system calls, including the rarely used ones behind most container-escape
    /// vulnerabilities. The runtime's default profile blocks those while letting ordinary
    /// applications run unchanged.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { securityContext: { seccompProfile: { type: RuntimeDefault } }, containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets the pod-level `securityContext.seccompProfile.type` to `RuntimeDefault` (or the
    /// container's own type, when that is the invalid one).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - [Kubernetes: Restrict a container's syscalls with seccomp](https://kubernetes.io/docs/tutorials/security/seccomp/)
    /// - Checkov `CKV_K8S_31`; Trivy `AVD-KSV-0030`; Kyverno `pod-security/restricted/restrict-seccomp-strict`
    pub(crate) static SECCOMP_PROFILE_MISSING = RuleMeta {
        id: "WD-K8S-016",
        name: "seccomp-profile-missing",
        title: "Container has no RuntimeDefault or Localhost seccomp profile",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_K8S_31", "AVD-KSV-0030"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some((spec, path)) = linux_pod_spec(resource) else {
        return;
    };
    let pod_attribute = format!("{path}.securityContext.seccompProfile.type");
    let pod_type = spec
        .field("securityContext")
        .field("seccompProfile")
        .field("type");
    let pod_type_str = pod_type.as_str();
    let mut inheriting = Vec::new();
    for container in containers(resource) {
        let own = container
            .security_context()
            .field("seccompProfile")
            .field("type");
        if own.is_null() {
            inheriting.push(container.label());
            continue;
        }
        let own = own.as_str().unwrap_or_default();
        if ALLOWED.contains(&own) || own == "Unconfined" {
            continue;
        }
        let attribute = container.at("securityContext.seccompProfile.type");
        out.violation(
            resource,
            format!(
                "{} sets seccomp profile type `{own}`, which is not RuntimeDefault or Localhost",
                container.label()
            ),
        )
        .at(&attribute)
        .fix(Fix::set(
            format!(
                "use the RuntimeDefault seccomp profile for {}",
                container.label()
            ),
            &attribute,
            "RuntimeDefault",
        ));
    }
    if inheriting.is_empty()
        || pod_type_str.is_some_and(|t| ALLOWED.contains(&t) || t == "Unconfined")
    {
        return;
    }
    let which = if inheriting.len() == 1 { "it" } else { "them" };
    let message = match pod_type_str {
        None if pod_type.is_null() => format!(
            "no seccomp profile is set for {} (neither on {which} nor on the pod), so {} unconfined",
            inheriting.join(", "),
            if inheriting.len() == 1 { "it runs" } else { "they run" },
        ),
        other => format!(
            "the pod's seccomp profile type `{}` is not RuntimeDefault or Localhost, and {} {} it",
            other.map_or_else(|| pod_type.to_json().to_string(), str::to_owned),
            inheriting.join(", "),
            if inheriting.len() == 1 { "inherits" } else { "inherit" },
        ),
    };
    out.violation(resource, message)
        .at(&pod_attribute)
        .fix(Fix::set(
            "set the pod's seccomp profile to RuntimeDefault",
            &pod_attribute,
            "RuntimeDefault",
        ));
}
