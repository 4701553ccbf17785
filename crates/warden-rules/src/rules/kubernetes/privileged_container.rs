use super::pod::{containers, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Containers that run privileged: `securityContext.privileged: true` on any container,
    /// init container or ephemeral container of a Pod or of the pod template of a Deployment,
    /// StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or ReplicationController.
    ///
    /// Pod Security Standards, **baseline** profile: "Privileged Containers".
    ///
    /// ## Why it matters
    /// A privileged container has every capability and all host devices: it can load kernel
    /// modules, mount the host's disks and escape to the node, and from the node reach every
    /// other pod's secrets. One compromised privileged container is a compromised node.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", securityContext: { privileged: true } } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", securityContext: { privileged: false } } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets `securityContext.privileged` to `false` on the container. If it needs one specific
    /// power, add just that capability instead.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - Checkov `CKV_K8S_16`; Trivy `AVD-KSV-0017`; Kyverno `pod-security/baseline/disallow-privileged-containers`
    pub(crate) static PRIVILEGED_CONTAINER = RuleMeta {
        id: "WD-K8S-003",
        name: "privileged-container",
        title: "Container runs privileged",
        severity: Severity::Critical,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_K8S_16", "AVD-KSV-0017"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    for container in containers(resource) {
        let attribute = container.at("securityContext.privileged");
        if container.security_context().field("privileged").as_bool() == Some(true) {
            out.violation(resource, format!("{} runs privileged", container.label()))
                .at(&attribute)
                .fix(Fix::set(
                    format!("run {} unprivileged", container.label()),
                    &attribute,
                    false,
                ));
        }
    }
}
