use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Services with a non-empty `spec.externalIPs`, whatever their type.
    ///
    /// ## Why it matters
    /// Kubernetes does not check who owns an external IP: kube-proxy routes traffic for any
    /// address listed in any Service's `externalIPs` to that Service's pods, on every node.
    /// Anyone who can create a Service can therefore intercept traffic meant for another
    /// Service, another tenant, or an address outside the cluster (CVE-2020-8554, which has
    /// no patch: the Kubernetes project recommends forbidding the field).
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: v1, kind: Service, metadata: { name: web, namespace: shop }, spec: { selector: { app: web }, ports: [ { port: 80 } ], externalIPs: ["203.0.113.10"] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: v1, kind: Service, metadata: { name: web, namespace: shop }, spec: { selector: { app: web }, ports: [ { port: 80 } ] } }
    /// ```
    ///
    /// ## Fix
    /// Removes `spec.externalIPs`. Expose the Service through an Ingress, a Gateway or a
    /// `LoadBalancer` Service, whose addresses the cluster allocates; block the field
    /// cluster-wide with the `DenyServiceExternalIPs` admission plugin or a policy engine.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: External IPs](https://kubernetes.io/docs/concepts/services-networking/service/#external-ips)
    /// - [CVE-2020-8554 (kubernetes/kubernetes#97076)](https://github.com/kubernetes/kubernetes/issues/97076)
    /// - Trivy `AVD-KSV-0108`; Kyverno `best-practices/restrict-service-external-ips`
    pub(crate) static SERVICE_EXTERNAL_IPS = RuleMeta {
        id: "WD-K8S-025",
        name: "service-external-ips",
        title: "Service sets external IPs",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["Service"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["AVD-KSV-0108"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let ips: Vec<String> = resource
        .after
        .field("spec")
        .field("externalIPs")
        .items()
        .iter()
        .map(|ip| match ip.as_str() {
            Some(s) => format!("`{s}`"),
            None => "a non-string value".to_owned(),
        })
        .collect();
    if ips.is_empty() {
        return;
    }
    out.violation(
        resource,
        format!(
            "Service claims external IP{} {}: any Service can capture traffic for an address it lists (CVE-2020-8554)",
            if ips.len() == 1 { "" } else { "s" },
            ips.join(", ")
        ),
    )
    .at("spec.externalIPs")
    .fix(Fix::remove("remove `spec.externalIPs`", "spec.externalIPs"));
}
