use super::pod::{linux_containers, BASELINE_CAPABILITIES, POD_CONTROLLERS};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init, ephemeral) that do not drop every Linux capability, or that
    /// add one back other than `NET_BIND_SERVICE`: `securityContext.capabilities.drop` must
    /// contain `ALL`, and `securityContext.capabilities.add` may contain only
    /// `NET_BIND_SERVICE`. One finding per container for each of the two problems. Pods with
    /// `spec.os.name: windows` are exempt, as in the standard.
    ///
    /// Pod Security Standards, **restricted** profile: "Capabilities". Added capabilities
    /// outside the baseline profile's default set (`SYS_ADMIN`, `NET_ADMIN`, ...) are the
    /// baseline rule WD-K8S-004's finding; this rule reports the added capabilities the
    /// baseline allows but the restricted profile does not (`CHOWN`, `SETUID`, ...), so no
    /// capability is reported twice.
    ///
    /// ## Why it matters
    /// Container runtimes grant a default set of capabilities (`CHOWN`, `DAC_OVERRIDE`,
    /// `SETUID`, `NET_RAW`, ...) that ordinary applications never use but an attacker inside
    /// the container can: to read any file regardless of permissions, to switch users, or to
    /// forge packets on the pod network. Dropping them all removes that leverage; a server that
    /// must bind a port below 1024 keeps just `NET_BIND_SERVICE`.
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
    ///   - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { template: { spec: { containers: [ { name: web, image: "nginx:1.27", securityContext: { capabilities: { drop: [ALL], add: [NET_BIND_SERVICE] } } } ] } } } }
    /// ```
    ///
    /// ## Fix
    /// Adds `ALL` to `capabilities.drop`; removes the other added capabilities from
    /// `capabilities.add`, keeping `NET_BIND_SERVICE`.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/)
    /// - Checkov `CKV_K8S_28`, `CKV_K8S_37`; Trivy `AVD-KSV-0003`, `AVD-KSV-0004`; Kyverno `pod-security/restricted/disallow-capabilities-strict`
    pub(crate) static CAPABILITIES_NOT_DROPPED = RuleMeta {
        id: "WD-K8S-017",
        name: "capabilities-not-dropped",
        title: "Container does not drop all capabilities",
        severity: Severity::Medium,
        enforcement: Enforcement::Deny,
        kinds: POD_CONTROLLERS,
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_K8S_28", "CKV_K8S_37", "AVD-KSV-0003", "AVD-KSV-0004"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    for container in linux_containers(resource) {
        let capabilities = container.security_context().field("capabilities");
        let drop = capabilities.field("drop").items();
        if !drop.iter().any(|c| c.as_str() == Some("ALL")) {
            let attribute = container.at("securityContext.capabilities.drop");
            let mut fixed: Vec<Value> = drop.to_vec();
            fixed.push(Value::from("ALL"));
            let message = if drop.is_empty() {
                format!("{} does not drop any capabilities", container.label())
            } else {
                format!("{} drops {} but not `ALL`", container.label(), quoted(drop))
            };
            out.violation(resource, message)
                .at(&attribute)
                .fix(Fix::set(
                    format!("drop ALL capabilities in {}", container.label()),
                    &attribute,
                    fixed,
                ));
        }
        let add = capabilities.field("add").items();
        let extra: Vec<&Value> = add
            .iter()
            .filter(|c| {
                c.as_str()
                    .is_some_and(|c| c != "NET_BIND_SERVICE" && BASELINE_CAPABILITIES.contains(&c))
            })
            .collect();
        if extra.is_empty() {
            continue;
        }
        let attribute = container.at("securityContext.capabilities.add");
        let kept: Vec<Value> = add.iter().filter(|c| !extra.contains(c)).cloned().collect();
        let extra: Vec<Value> = extra.into_iter().cloned().collect();
        out.violation(
            resource,
            format!(
                "{} adds {}; the restricted profile allows adding only NET_BIND_SERVICE",
                container.label(),
                quoted(&extra)
            ),
        )
        .at(&attribute)
        .fix(Fix::set(
            format!("stop adding {} in {}", quoted(&extra), container.label()),
            &attribute,
            kept,
        ));
    }
}

/// `` `A`, `B` `` from a list of strings.
fn quoted(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| match v.as_str() {
            Some(s) => format!("`{s}`"),
            None => v.to_json().to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
