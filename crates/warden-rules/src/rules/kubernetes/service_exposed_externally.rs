use warden_core::value::escape_pointer_token;
use warden_core::PatchOp;

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Services of `spec.type` `LoadBalancer` or `NodePort`. A `NodePort` Service opens its
    /// ports on every node of the cluster; a `LoadBalancer` Service does that too and asks the
    /// cloud provider for a load balancer in front of them, usually with a public address.
    /// `ClusterIP` (the default) and `ExternalName` Services are not reported.
    ///
    /// ## Why it matters
    /// A Service that leaves the cluster network bypasses the Ingress controller, its TLS, its
    /// authentication and its logs, and a NetworkPolicy cannot restrict who reaches a node
    /// port. Every such Service is a new entry point into the cluster: it should be a
    /// deliberate, reviewed decision, not a copy-pasted `type: LoadBalancer`.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: v1, kind: Service, metadata: { name: web, namespace: shop }, spec: { type: LoadBalancer, selector: { app: web }, ports: [ { port: 80, targetPort: 8080 } ] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: v1, kind: Service, metadata: { name: web, namespace: shop }, spec: { type: ClusterIP, selector: { app: web }, ports: [ { port: 80, targetPort: 8080 } ] } }
    /// ```
    ///
    /// ## Fix
    /// Sets `spec.type` to `ClusterIP` and removes what only an external Service may carry
    /// (`ports[*].nodePort`, `externalTrafficPolicy`, `healthCheckNodePort`,
    /// `loadBalancerIP`, `loadBalancerSourceRanges`, `loadBalancerClass`,
    /// `allocateLoadBalancerNodePorts`), so the API server accepts the result. Expose HTTP
    /// through an Ingress or a Gateway instead; when the Service must stay external, approve
    /// the change and restrict `loadBalancerSourceRanges`.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Service type](https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types)
    /// - Kyverno `best-practices/restrict-node-port`, `other/restrict-loadbalancer`
    pub(crate) static SERVICE_EXPOSED_EXTERNALLY = RuleMeta {
        id: "WD-K8S-024",
        name: "service-exposed-externally",
        title: "Service is exposed outside the cluster",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &["Service"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// `spec` fields the API server accepts only on NodePort or LoadBalancer Services.
const EXTERNAL_ONLY: &[&str] = &[
    "externalTrafficPolicy",
    "healthCheckNodePort",
    "loadBalancerIP",
    "loadBalancerSourceRanges",
    "loadBalancerClass",
    "allocateLoadBalancerNodePorts",
];

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let spec = resource.after.field("spec");
    let Some(kind) = spec.field("type").as_str() else {
        return;
    };
    if kind != "LoadBalancer" && kind != "NodePort" {
        return;
    }
    let ports: Vec<String> = spec
        .field("ports")
        .items()
        .iter()
        .filter_map(|p| {
            let port = p.field("port").as_i64()?;
            Some(match p.field("nodePort").as_i64() {
                Some(node) => format!("{port} (node port {node})"),
                None => port.to_string(),
            })
        })
        .collect();
    let what = if kind == "LoadBalancer" {
        "a load balancer and every node"
    } else {
        "every node"
    };
    let message = if ports.is_empty() {
        format!("Service is of type {kind}: it is reachable through {what}")
    } else {
        format!(
            "Service is of type {kind}: {} {} {} reachable through {what}",
            if ports.len() == 1 { "port" } else { "ports" },
            ports.join(", "),
            if ports.len() == 1 { "is" } else { "are" }
        )
    };
    let mut ops = vec![PatchOp::Add {
        path: "/spec/type".to_owned(),
        value: Value::from("ClusterIP"),
    }];
    for (i, port) in spec.field("ports").items().iter().enumerate() {
        if port.get("nodePort").is_some() {
            ops.push(PatchOp::Remove {
                path: format!("/spec/ports/{i}/nodePort"),
            });
        }
    }
    for field in EXTERNAL_ONLY {
        if spec.get(field).is_some() {
            ops.push(PatchOp::Remove {
                path: format!("/spec/{}", escape_pointer_token(field)),
            });
        }
    }
    out.violation(resource, message)
        .at("spec.type")
        .fix(Fix::patch(
            format!("make the Service internal (type ClusterIP instead of {kind})"),
            ops,
        ));
}
