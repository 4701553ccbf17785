use super::pod::{containers, pod_spec, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Seccomp explicitly disabled: `securityContext.seccompProfile.type: Unconfined` on the pod
    /// or on any container, init container or ephemeral container of a Pod or of the pod
    /// template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or
    /// ReplicationController. An unset profile passes here (the baseline allows it; the
    /// restricted profile does not).
    ///
    /// Pod Security Standards, **baseline** profile: "Seccomp".
    ///
    /// ## Why it matters
    /// The runtime's default seccomp profile blocks the system calls most kernel exploits and
    /// container escapes use (`unshare`, `keyctl`, `bpf`, `mount` ...). `Unconfined` hands the
    /// whole kernel surface to the container.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", securityContext: { seccompProfile: { type: Unconfined } } } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", securityContext: { seccompProfile: { type: RuntimeDefault } } } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets `seccompProfile` to `{ type: RuntimeDefault }` where it is `Unconfined`. A workload
    /// that needs a blocked system call gets a `Localhost` profile allowing just that call.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - [Kubernetes: Restrict a container's syscalls with seccomp](https://kubernetes.io/docs/tutorials/security/seccomp/)
    /// - Trivy `AVD-KSV-0104`; Kyverno `pod-security/baseline/restrict-seccomp`
    pub(crate) static SECCOMP_PROFILE_UNCONFINED = RuleMeta {
        id: "WD-K8S-010",
        name: "seccomp-profile-unconfined",
        title: "Pod or container disables seccomp (Unconfined)",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["AVD-KSV-0104"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn unconfined(security_context: &Value) -> bool {
    security_context
        .field("seccompProfile")
        .field("type")
        .as_str()
        == Some("Unconfined")
}

fn runtime_default() -> Value {
    Value::object([("type", Value::from("RuntimeDefault"))])
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if let Some((spec, path)) = pod_spec(resource) {
        if unconfined(spec.field("securityContext")) {
            let profile = format!("{path}.securityContext.seccompProfile");
            out.violation(
                resource,
                "pod sets seccomp profile `Unconfined` as the default of its containers",
            )
            .at(&format!("{profile}.type"))
            .fix(Fix::set(
                "use the runtime's default seccomp profile for the pod",
                &profile,
                runtime_default(),
            ));
        }
    }
    for container in containers(resource) {
        if unconfined(container.security_context()) {
            let profile = container.at("securityContext.seccompProfile");
            out.violation(
                resource,
                format!("{} sets seccomp profile `Unconfined`", container.label()),
            )
            .at(&format!("{profile}.type"))
            .fix(Fix::set(
                format!(
                    "use the runtime's default seccomp profile for {}",
                    container.label()
                ),
                &profile,
                runtime_default(),
            ));
        }
    }
}
