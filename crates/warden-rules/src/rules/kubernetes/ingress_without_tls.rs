use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Ingresses that serve plain HTTP: no `spec.tls` at all, or hosts in `spec.rules` that
    /// no `spec.tls[].hosts` entry covers. A TLS host `*.example.com` covers one label
    /// (`shop.example.com`, not `a.b.example.com`); a `tls` entry without `hosts` covers every
    /// host (the controller's default certificate). Rules without a `host` are checked only
    /// when the Ingress has no `tls` at all.
    ///
    /// ## Why it matters
    /// Without TLS, everything between the client and the Ingress controller travels in
    /// clear text: session cookies, credentials typed into login forms, API tokens in
    /// headers. Anyone on the path (public Wi-Fi, a compromised router, the cloud network)
    /// can read and change it, and browsers mark the site as not secure.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: { name: shop, namespace: shop }, spec: { rules: [ { host: shop.example.com, http: { paths: [ { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } } ] } } ] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: { name: shop, namespace: shop }, spec: { tls: [ { hosts: [shop.example.com], secretName: shop-tls } ], rules: [ { host: shop.example.com, http: { paths: [ { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } } ] } } ] } }
    /// ```
    ///
    /// ## Fix
    /// A snippet: a `spec.tls` entry for the uncovered hosts. It names a Secret of type
    /// `kubernetes.io/tls` that must exist; cert-manager creates and renews it when the
    /// Ingress has a `cert-manager.io/cluster-issuer` annotation. Most controllers then
    /// redirect HTTP to HTTPS.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Ingress TLS](https://kubernetes.io/docs/concepts/services-networking/ingress/#tls)
    /// - [cert-manager: Securing Ingress resources](https://cert-manager.io/docs/usage/ingress/)
    /// - Kyverno `other/ingress-host-match-tls`
    pub(crate) static INGRESS_WITHOUT_TLS = RuleMeta {
        id: "WD-K8S-032",
        name: "ingress-without-tls",
        title: "Ingress serves hosts without TLS",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["Ingress"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// `true` when the TLS host pattern covers the host (`*.example.com` covers one label).
fn covers(pattern: &str, host: &str) -> bool {
    if pattern.eq_ignore_ascii_case(host) {
        return true;
    }
    match (pattern.strip_prefix("*."), host.split_once('.')) {
        (Some(domain), Some((label, rest))) => {
            !label.is_empty() && label != "*" && domain.eq_ignore_ascii_case(rest)
        }
        _ => false,
    }
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let spec = resource.after.field("spec");
    let tls = spec.field("tls").items();
    let hosts: Vec<&str> = spec
        .field("rules")
        .items()
        .iter()
        .filter_map(|r| r.field("host").as_str())
        .filter(|h| !h.is_empty())
        .fold(Vec::new(), |mut seen, h| {
            if !seen.contains(&h) {
                seen.push(h);
            }
            seen
        });
    let name = resource
        .after
        .field("metadata")
        .field("name")
        .as_str()
        .unwrap_or("ingress");
    let secret = format!("{name}-tls");
    let (message, uncovered) = if tls.is_empty() {
        let message = if hosts.is_empty() {
            "Ingress has no `spec.tls`: it serves plain HTTP".to_owned()
        } else {
            format!(
                "Ingress has no `spec.tls`: {} served over plain HTTP",
                code_list(&hosts, "is", "are")
            )
        };
        (message, hosts)
    } else {
        if tls.iter().any(|t| t.field("hosts").items().is_empty()) {
            return;
        }
        let patterns: Vec<&str> = tls
            .iter()
            .flat_map(|t| t.field("hosts").items())
            .filter_map(Value::as_str)
            .collect();
        let uncovered: Vec<&str> = hosts
            .into_iter()
            .filter(|h| !patterns.iter().any(|p| covers(p, h)))
            .collect();
        if uncovered.is_empty() {
            return;
        }
        (
            format!(
                "{} not covered by any `spec.tls` entry: served over plain HTTP",
                code_list(&uncovered, "is", "are")
            ),
            uncovered,
        )
    };
    let snippet = if uncovered.is_empty() {
        format!("spec:\n  tls:\n    - secretName: {secret}\n")
    } else {
        format!(
            "spec:\n  tls:\n    - hosts: [{}]\n      secretName: {secret}\n",
            uncovered.join(", ")
        )
    };
    out.violation(resource, message)
        .at("spec.tls")
        .fix(Fix::snippet(
            format!("add a `spec.tls` entry with a certificate in Secret `{secret}`"),
            snippet,
        ));
}

/// `` `a` is`` / `` `a`, `b` are``.
fn code_list(hosts: &[&str], one: &str, many: &str) -> String {
    let list = hosts
        .iter()
        .map(|h| format!("`{h}`"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "host{} {list} {}",
        if hosts.len() == 1 { "" } else { "s" },
        if hosts.len() == 1 { one } else { many }
    )
}
