use super::pod::{containers, pod_spec, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Containers that unmask `/proc`: `securityContext.procMount` set to anything but
    /// `Default` (that is, `Unmasked`) on any container, init container or ephemeral container
    /// of a Pod or of the pod template of a Deployment, StatefulSet, DaemonSet, ReplicaSet,
    /// Job, CronJob or ReplicationController.
    ///
    /// Pods in a user namespace (`hostUsers: false`) pass: since Kubernetes 1.35 the baseline
    /// allows any `procMount` for them, as `/proc` is then the pod's own.
    ///
    /// Pod Security Standards, **baseline** profile: "/proc Mount Type".
    ///
    /// ## Why it matters
    /// The runtime masks and makes read-only parts of `/proc` (`/proc/kcore`, `/proc/sys`,
    /// `/proc/sysrq-trigger` ...) that expose kernel memory and node-wide settings. `Unmasked`
    /// removes that protection, which is only safe in a user namespace.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: build }, spec: { template: { spec: { containers: [ { name: build, image: "buildah:1", securityContext: { procMount: Unmasked } } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: build }, spec: { template: { spec: { containers: [ { name: build, image: "buildah:1", securityContext: { procMount: Default } } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets `securityContext.procMount` to `Default`; or run the pod in a user namespace
    /// (`hostUsers: false`) when it needs an unmasked `/proc` (nested containers).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - [Kubernetes: User namespaces](https://kubernetes.io/docs/concepts/workloads/pods/user-namespaces/)
    /// - Trivy `AVD-KSV-0027`; Kyverno `pod-security/baseline/disallow-proc-mount`
    pub(crate) static PROC_MOUNT_UNMASKED = RuleMeta {
        id: "WD-K8S-009",
        name: "proc-mount-unmasked",
        title: "Container unmasks /proc (procMount other than Default)",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["AVD-KSV-0027"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some((spec, _)) = pod_spec(resource) else {
        return;
    };
    if spec.field("hostUsers").as_bool() == Some(false) {
        return;
    }
    for container in containers(resource) {
        let Some(mount) = container.security_context().field("procMount").as_str() else {
            continue;
        };
        if mount == "Default" {
            continue;
        }
        let attribute = container.at("securityContext.procMount");
        out.violation(
            resource,
            format!("{} sets `procMount: {mount}`", container.label()),
        )
        .at(&attribute)
        .fix(Fix::set(
            format!("set `procMount` to `Default` on {}", container.label()),
            &attribute,
            "Default",
        ));
    }
}
