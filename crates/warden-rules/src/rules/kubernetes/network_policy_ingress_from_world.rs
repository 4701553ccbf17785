use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// NetworkPolicies that let any source in: an ingress rule with an `ipBlock` whose `cidr`
    /// is `0.0.0.0/0` or `::/0` (an `except` list still leaves the rest of the internet in),
    /// or an ingress rule without `from` (or with an empty one), which allows every source,
    /// inside the cluster and out. Only policies that govern ingress are checked: those whose
    /// `policyTypes` includes `Ingress`, or that set no `policyTypes` (Kubernetes then always
    /// includes `Ingress`). One finding per such rule.
    ///
    /// ## Why it matters
    /// NetworkPolicies are allow lists: once a pod is selected by one, only what some policy
    /// allows gets in. A rule open to everyone undoes that for the pods it selects and the
    /// ports it lists, often silently, since an `ingress: [{}]` looks harmless. When the
    /// pods are reachable from outside (a LoadBalancer, a node port, a routable pod network),
    /// the internet can reach them.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: { name: api, namespace: shop }, spec: { podSelector: { matchLabels: { app: api } }, policyTypes: [Ingress], ingress: [ { from: [ { ipBlock: { cidr: 0.0.0.0/0 } } ], ports: [ { port: 8080 } ] } ] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: { name: api, namespace: shop }, spec: { podSelector: { matchLabels: { app: api } }, policyTypes: [Ingress], ingress: [ { from: [ { podSelector: { matchLabels: { app: web } } }, { ipBlock: { cidr: 10.20.0.0/16 } } ], ports: [ { port: 8080 } ] } ] } }
    /// ```
    ///
    /// ## Fix
    /// None: list the sources that need access: `podSelector` and `namespaceSelector` peers
    /// for in-cluster clients, `ipBlock`s of the load balancer's or the office's ranges for
    /// outside ones. When the pods really serve the internet, approve the change.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Network Policies](https://kubernetes.io/docs/concepts/services-networking/network-policies/)
    /// - No Checkov or Trivy equivalent.
    pub(crate) static NETWORK_POLICY_INGRESS_FROM_WORLD = RuleMeta {
        id: "WD-K8S-031",
        name: "network-policy-ingress-from-world",
        title: "NetworkPolicy allows ingress from any source",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &["NetworkPolicy"],
        fix: FixAvailability::None,
        params: &[],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn world(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0" | "0::/0")
}

/// `on port 80/TCP, 443` / `on every port`.
fn ports(rule: &Value) -> String {
    let listed: Vec<String> = rule
        .field("ports")
        .items()
        .iter()
        .map(|p| {
            let port = match p.field("port") {
                Value::String(s) => s.to_string(),
                v => v
                    .as_i64()
                    .map_or_else(|| "any".to_owned(), |n| n.to_string()),
            };
            let port = match p.field("endPort").as_i64() {
                Some(end) => format!("{port}-{end}"),
                None => port,
            };
            match p.field("protocol").as_str() {
                Some(proto) => format!("{port}/{proto}"),
                None => port,
            }
        })
        .collect();
    if listed.is_empty() {
        "on every port".to_owned()
    } else {
        format!(
            "on port{} {}",
            if listed.len() == 1 { "" } else { "s" },
            listed.join(", ")
        )
    }
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let spec = resource.after.field("spec");
    let types = spec.field("policyTypes");
    let governs_ingress = match types.as_array() {
        Some(list) => list.iter().any(|t| t.as_str() == Some("Ingress")),
        None => true,
    };
    if !governs_ingress {
        return;
    }
    for (i, rule) in spec.field("ingress").items().iter().enumerate() {
        let peers = rule.field("from").items();
        let source = if peers.is_empty() {
            "any source (the rule has no `from`)".to_owned()
        } else if let Some((cidr, except)) = peers.iter().find_map(|p| {
            let block = p.field("ipBlock");
            let cidr = block.field("cidr").as_str().filter(|c| world(c))?;
            Some((cidr, !block.field("except").items().is_empty()))
        }) {
            if except {
                format!("`{cidr}` (the internet, minus its `except` ranges)")
            } else {
                format!("`{cidr}` (the internet)")
            }
        } else {
            continue;
        };
        out.violation(
            resource,
            format!("ingress rule {i} allows {source} {}", ports(rule)),
        )
        .at(&format!("spec.ingress.{i}"));
    }
}
