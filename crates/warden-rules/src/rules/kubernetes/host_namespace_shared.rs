use super::pod::{pod_spec, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Pods that share a namespace of the node: `hostNetwork`, `hostPID` or `hostIPC` set to
    /// `true` in a Pod or in the pod template of a Deployment, StatefulSet, DaemonSet,
    /// ReplicaSet, Job, CronJob or ReplicationController. Each field set is one finding.
    ///
    /// Pod Security Standards, **baseline** profile: "Host Namespaces".
    ///
    /// ## Why it matters
    /// - `hostNetwork` puts the pod on the node's network stack: it can bind any node port,
    ///   sniff the node's traffic, reach services bound to localhost (the kubelet's read-only
    ///   port, cloud metadata) and bypass NetworkPolicy.
    /// - `hostPID` shows every process on the node: the pod can read their environment and
    ///   `/proc/<pid>/root` (other pods' secrets), and signal or trace them.
    /// - `hostIPC` shares the node's shared memory and message queues with every process on it.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { hostPID: true, containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { hostPID: false, containers: [ { name: web, image: "nginx:1.27" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Sets the field (`hostNetwork`, `hostPID` or `hostIPC`) to `false` in the pod spec. Expose
    /// network servers through a Service instead of the host network.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - Checkov `CKV_K8S_17` (hostPID), `CKV_K8S_18` (hostIPC), `CKV_K8S_19` (hostNetwork); Trivy `AVD-KSV-0008` (hostIPC), `AVD-KSV-0009` (hostNetwork), `AVD-KSV-0010` (hostPID); Kyverno `pod-security/baseline/disallow-host-namespaces`
    pub(crate) static HOST_NAMESPACE_SHARED = RuleMeta {
        id: "WD-K8S-002",
        name: "host-namespace-shared",
        title: "Pod shares a host namespace (network, PID or IPC)",
        severity: Severity::Critical,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &[
            "CKV_K8S_17",
            "CKV_K8S_18",
            "CKV_K8S_19",
            "AVD-KSV-0008",
            "AVD-KSV-0009",
            "AVD-KSV-0010",
        ],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The fields, and what sharing each exposes.
const FIELDS: &[(&str, &str)] = &[
    ("hostNetwork", "network namespace"),
    ("hostPID", "process namespace"),
    ("hostIPC", "IPC namespace"),
];

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some((spec, path)) = pod_spec(resource) else {
        return;
    };
    for (field, namespace) in FIELDS {
        if spec.field(field).as_bool() == Some(true) {
            let attribute = format!("{path}.{field}");
            out.violation(
                resource,
                format!("pod shares the node's {namespace} (`{field}: true`)"),
            )
            .at(&attribute)
            .fix(Fix::set(
                format!("set `{field}` to false"),
                &attribute,
                false,
            ));
        }
    }
}
