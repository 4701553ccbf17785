use super::pod::{containers, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Container ports bound on the node: `ports[*].hostPort` set to a non-zero value on any
    /// container, init container or ephemeral container of a Pod or of the pod template of a
    /// Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or ReplicationController.
    /// Each such port is one finding.
    ///
    /// Pod Security Standards, **baseline** profile: "Host Ports".
    ///
    /// ## Why it matters
    /// A host port opens the port on the node's own address, outside Services and often outside
    /// NetworkPolicy: anything that can reach the node reaches the pod. It also pins the pod to
    /// nodes where the port is free, and a pod holding a well-known port can impersonate a node
    /// service.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", ports: [ { containerPort: 80, hostPort: 80 } ] } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", ports: [ { containerPort: 80 } ] } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Removes `hostPort` from the port. Expose the port through a Service (`NodePort` or
    /// `LoadBalancer` when it must be reachable from outside the cluster).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - Checkov `CKV_K8S_26`; Trivy `AVD-KSV-0024`; Kyverno `pod-security/baseline/disallow-host-ports`
    pub(crate) static HOST_PORT = RuleMeta {
        id: "WD-K8S-006",
        name: "host-port",
        title: "Container binds a port on the node (hostPort)",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_K8S_26", "AVD-KSV-0024"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    for container in containers(resource) {
        for (j, port) in container.value.field("ports").items().iter().enumerate() {
            let host_port = port.field("hostPort");
            let number = host_port
                .as_i64()
                .or_else(|| host_port.as_str().and_then(|s| s.trim().parse().ok()));
            let Some(number) = number.filter(|n| *n != 0) else {
                continue;
            };
            let attribute = container.at(&format!("ports.{j}.hostPort"));
            let container_port = port
                .field("containerPort")
                .as_i64()
                .map(|p| format!(" (container port {p})"))
                .unwrap_or_default();
            out.violation(
                resource,
                format!(
                    "{} binds host port {number}{container_port} on the node",
                    container.label()
                ),
            )
            .at(&attribute)
            .fix(Fix::remove(
                format!("remove host port {number} from {}", container.label()),
                &attribute,
            ));
        }
    }
}
