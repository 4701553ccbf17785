use super::pod::{containers, BASELINE_CAPABILITIES, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Containers that add a Linux capability beyond the baseline set:
    /// `securityContext.capabilities.add` on any container, init container or ephemeral
    /// container of a Pod or pod template listing anything other than `AUDIT_WRITE`, `CHOWN`,
    /// `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`,
    /// `SETGID`, `SETPCAP`, `SETUID` and `SYS_CHROOT` (the container runtime's default set).
    /// Names compare case-insensitively, with or without the `CAP_` prefix; `ALL` is flagged.
    ///
    /// Pod Security Standards, **baseline** profile: "Capabilities".
    ///
    /// ## Why it matters
    /// The capabilities outside the default set are the ones that break isolation:
    /// `SYS_ADMIN` can mount file systems and is most of the way to root on the node,
    /// `SYS_PTRACE` reads other processes' memory, `NET_ADMIN` and `NET_RAW` rewrite or spoof
    /// the pod network, `SYS_MODULE` loads kernel modules, `BPF` and `PERFMON` reach the kernel.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: vpn }, spec: { template: { spec: { containers: [ { name: vpn, image: "wireguard:1", securityContext: { capabilities: { add: [NET_ADMIN, NET_BIND_SERVICE] } } } ] } } } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: vpn }, spec: { template: { spec: { containers: [ { name: vpn, image: "wireguard:1", securityContext: { capabilities: { add: [NET_BIND_SERVICE], drop: [ALL] } } } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Replaces `capabilities.add` with only its entries from the baseline set (an empty list
    /// when none is). If the workload really needs the capability, run it in a namespace with
    /// the privileged Pod Security level and review it as such.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - [capabilities(7)](https://man7.org/linux/man-pages/man7/capabilities.7.html)
    /// - Checkov `CKV_K8S_25`, `CKV_K8S_39` (`SYS_ADMIN`); Trivy `AVD-KSV-0022`; Kyverno `pod-security/baseline/disallow-capabilities`
    pub(crate) static CAPABILITY_BEYOND_BASELINE = RuleMeta {
        id: "WD-K8S-004",
        name: "capability-beyond-baseline",
        title: "Container adds a capability beyond the baseline set",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_K8S_25", "CKV_K8S_39", "AVD-KSV-0022"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// `true` when the baseline profile allows adding `capability` (any case, `CAP_` optional).
fn allowed(capability: &str) -> bool {
    let upper = capability.trim().to_ascii_uppercase();
    let name = upper.strip_prefix("CAP_").unwrap_or(&upper);
    BASELINE_CAPABILITIES.contains(&name)
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    for container in containers(resource) {
        let add = container
            .security_context()
            .field("capabilities")
            .field("add");
        let (kept, extra): (Vec<&Value>, Vec<&Value>) = add
            .items()
            .iter()
            .partition(|c| c.as_str().is_some_and(allowed));
        let extra: Vec<String> = extra
            .iter()
            .map(|c| match c.as_str() {
                Some(s) => format!("`{s}`"),
                None => format!("a {}", c.type_name()),
            })
            .collect();
        if extra.is_empty() {
            continue;
        }
        let attribute = container.at("securityContext.capabilities.add");
        out.violation(
            resource,
            format!(
                "{} adds {} beyond the baseline set",
                container.label(),
                extra.join(", ")
            ),
        )
        .at(&attribute)
        .fix(Fix::set(
            format!(
                "keep only baseline capabilities in `capabilities.add` of {}",
                container.label()
            ),
            &attribute,
            kept.into_iter().cloned().collect::<Vec<Value>>(),
        ));
    }
}
