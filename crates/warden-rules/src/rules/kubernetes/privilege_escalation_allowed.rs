use super::pod::{linux_containers, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Containers, init containers and ephemeral containers whose
    /// `securityContext.allowPrivilegeEscalation` is not `false`. Leaving it out counts: the
    /// field defaults to `true`. Pods with `spec.os.name: windows` are exempt, as in the
    /// standard (the control is Linux-only).
    ///
    /// Pod Security Standards, **restricted** profile: "Privilege Escalation".
    ///
    /// ## Why it matters
    /// With privilege escalation allowed, the container's processes do not get the kernel's
    /// `no_new_privs` flag: a setuid-root binary in the image (or one an attacker drops) gains
    /// root or extra capabilities when executed. Setting the field to `false` closes that path
    /// at no cost for almost every workload.
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
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", securityContext: { allowPrivilegeEscalation: false } } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets `securityContext.allowPrivilegeEscalation` to `false` on the container. (The API
    /// rejects that together with `privileged: true` or the `SYS_ADMIN` capability; drop those
    /// first.)
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - Checkov `CKV_K8S_20`; Trivy `AVD-KSV-0001`; Kyverno `pod-security/restricted/disallow-privilege-escalation`
    pub(crate) static PRIVILEGE_ESCALATION_ALLOWED = RuleMeta {
        id: "WD-K8S-013",
        name: "privilege-escalation-allowed",
        title: "Container allows privilege escalation",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_K8S_20", "AVD-KSV-0001"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    for container in linux_containers(resource) {
        let attribute = container.at("securityContext.allowPrivilegeEscalation");
        let value = container
            .security_context()
            .field("allowPrivilegeEscalation");
        if value.as_bool() == Some(false) {
            continue;
        }
        let message = if value.is_null() {
            format!(
                "{} does not set `allowPrivilegeEscalation: false` (it defaults to true)",
                container.label()
            )
        } else {
            format!(
                "{} sets `allowPrivilegeEscalation: true`",
                container.label()
            )
        };
        out.violation(resource, message)
            .at(&attribute)
            .fix(Fix::set(
                format!("forbid privilege escalation in {}", container.label()),
                &attribute,
                false,
            ));
    }
}
