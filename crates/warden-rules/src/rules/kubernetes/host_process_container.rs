use super::pod::{containers, pod_spec, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Windows HostProcess containers: `securityContext.windowsOptions.hostProcess: true` at the
    /// pod level or on any container, init container or ephemeral container of a Pod or of the
    /// pod template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or
    /// ReplicationController.
    ///
    /// Pod Security Standards, **baseline** profile: "HostProcess".
    ///
    /// ## Why it matters
    /// A HostProcess container is a process on the Windows node itself, not in a container: it
    /// sees the node's file system, network and processes and can act as `SYSTEM`. It is the
    /// Windows equivalent of a privileged container with every host namespace shared, so a
    /// compromise of it is a compromise of the node.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: DaemonSet, metadata: { name: agent }, spec: { template: { spec: { hostNetwork: true, securityContext: { windowsOptions: { hostProcess: true, runAsUserName: "NT AUTHORITY\\SYSTEM" } }, containers: [ { name: agent, image: "agent:1" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: DaemonSet, metadata: { name: agent }, spec: { template: { spec: { containers: [ { name: agent, image: "agent:1" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets `securityContext.windowsOptions.hostProcess` to `false` where it is `true` (the pod,
    /// the container, or both). A HostProcess pod also sets `hostNetwork: true`; remove it too
    /// unless the workload needs it.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - [Kubernetes: Create a Windows HostProcess pod](https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/)
    /// - Trivy `AVD-KSV-0103`; Kyverno `pod-security/baseline/disallow-host-process`
    pub(crate) static HOST_PROCESS_CONTAINER = RuleMeta {
        id: "WD-K8S-001",
        name: "host-process-container",
        title: "Pod runs Windows HostProcess containers",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["AVD-KSV-0103"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn is_host_process(security_context: &Value) -> bool {
    security_context
        .field("windowsOptions")
        .field("hostProcess")
        .as_bool()
        == Some(true)
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if let Some((spec, path)) = pod_spec(resource) {
        if is_host_process(spec.field("securityContext")) {
            let attribute = format!("{path}.securityContext.windowsOptions.hostProcess");
            out.violation(
                resource,
                "pod sets `windowsOptions.hostProcess: true`, so every container runs as a process on the Windows node",
            )
            .at(&attribute)
            .fix(Fix::set("set the pod's `hostProcess` to false", &attribute, false));
        }
    }
    for container in containers(resource) {
        if is_host_process(container.security_context()) {
            let attribute = container.at("securityContext.windowsOptions.hostProcess");
            out.violation(
                resource,
                format!("{} is a Windows HostProcess container", container.label()),
            )
            .at(&attribute)
            .fix(Fix::set(
                format!("set `hostProcess` to false on {}", container.label()),
                &attribute,
                false,
            ));
        }
    }
}
