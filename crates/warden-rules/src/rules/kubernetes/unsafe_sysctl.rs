use super::pod::{pod_spec, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Unsafe sysctls: `securityContext.sysctls[*].name` of a Pod or pod template outside the
    /// baseline's safe set: `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`,
    /// `net.ipv4.ip_unprivileged_port_start`, `net.ipv4.tcp_syncookies`,
    /// `net.ipv4.ping_group_range`, `net.ipv4.ip_local_reserved_ports` (Kubernetes 1.27+),
    /// `net.ipv4.tcp_keepalive_time`, `net.ipv4.tcp_fin_timeout`,
    /// `net.ipv4.tcp_keepalive_intvl`, `net.ipv4.tcp_keepalive_probes` (1.29+),
    /// `net.ipv4.tcp_rmem` and `net.ipv4.tcp_wmem` (1.32+). Names may use `/` as the separator
    /// (`net/ipv4/tcp_syncookies`). One finding per pod, naming every unsafe sysctl.
    ///
    /// Pod Security Standards, **baseline** profile: "Sysctls".
    ///
    /// ## Why it matters
    /// The safe sysctls are namespaced and affect only the pod. Others are node-wide
    /// (`kernel.*`, `vm.*`) or let one pod starve or reconfigure the node's kernel for every
    /// pod on it (`net.core.somaxconn`, `kernel.msgmax`, `kernel.sem` ...): a pod that sets them
    /// escapes its isolation.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: db }, spec: { template: { spec: { securityContext: { sysctls: [ { name: kernel.msgmax, value: "65536" } ] }, containers: [ { name: db, image: "postgres:17" } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: db }, spec: { template: { spec: { securityContext: { sysctls: [ { name: net.ipv4.tcp_keepalive_time, value: "600" } ] }, containers: [ { name: db, image: "postgres:17" } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Replaces `sysctls` with only its safe entries. Tune node-wide parameters on the nodes
    /// (node image, a dedicated node pool) instead of from a pod.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - [Kubernetes: Using sysctls in a Kubernetes cluster](https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/)
    /// - Trivy `AVD-KSV-0026`; Kyverno `pod-security/baseline/restrict-sysctls`
    pub(crate) static UNSAFE_SYSCTL = RuleMeta {
        id: "WD-K8S-011",
        name: "unsafe-sysctl",
        title: "Pod sets an unsafe sysctl",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["AVD-KSV-0026"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The sysctls the baseline allows (pod-security-admission's `sysctlsAllowedV1Dot32`).
const SAFE: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/// `true` for a safe sysctl name (`/` separators are the kernel's alternative spelling).
fn safe(name: &str) -> bool {
    let normalized = name.trim().replace('/', ".");
    SAFE.contains(&normalized.as_str())
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some((spec, path)) = pod_spec(resource) else {
        return;
    };
    let (kept, unsafe_entries): (Vec<&Value>, Vec<&Value>) = spec
        .field("securityContext")
        .field("sysctls")
        .items()
        .iter()
        .partition(|s| s.field("name").as_str().is_none_or(safe));
    if unsafe_entries.is_empty() {
        return;
    }
    let names: Vec<String> = unsafe_entries
        .iter()
        .map(|s| format!("`{}`", s.field("name").as_str().unwrap_or_default()))
        .collect();
    let attribute = format!("{path}.securityContext.sysctls");
    let noun = if names.len() == 1 {
        "sysctl"
    } else {
        "sysctls"
    };
    out.violation(
        resource,
        format!("pod sets unsafe {noun} {}", names.join(", ")),
    )
    .at(&attribute)
    .fix(Fix::set(
        format!("remove the unsafe {noun} {}", names.join(", ")),
        &attribute,
        kept.into_iter().cloned().collect::<Vec<Value>>(),
    ));
}
