use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Namespaced Kubernetes objects (workloads, Services, ConfigMaps, Secrets, Roles,
    /// RoleBindings, ServiceAccounts, Ingresses, NetworkPolicies, PersistentVolumeClaims,
    /// custom resources …) whose `metadata.namespace` is `default` or missing. A manifest
    /// without a namespace lands in whatever namespace the `kubectl` context or the
    /// deploying tool picks, which is `default` unless someone remembers `-n`.
    ///
    /// Cluster-scoped kinds are not checked: Namespace, Node, PersistentVolume, ClusterRole,
    /// ClusterRoleBinding, CustomResourceDefinition, StorageClass, IngressClass,
    /// PriorityClass, RuntimeClass, admission webhook and policy configurations, APIService,
    /// CSIDriver, CertificateSigningRequest, any kind named `Cluster…`, and custom kinds
    /// whose CustomResourceDefinition in the same change declares `scope: Cluster`.
    /// Resources of the Terraform Kubernetes provider are not manifests and are skipped.
    ///
    /// ## Why it matters
    /// Namespaces are the unit of RBAC, ResourceQuota, LimitRange, NetworkPolicy and Pod
    /// Security admission. The `default` namespace usually has none of them: everything in it
    /// shares one flat permission and network space, and every application there can read
    /// every other's ConfigMaps and reach its pods.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: v1, kind: ConfigMap, metadata: { name: settings }, data: { mode: production } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: v1, kind: ConfigMap, metadata: { name: settings, namespace: shop }, data: { mode: production } }
    /// ```
    ///
    /// ## Fix
    /// None: which namespace an application belongs in is a choice. Set `metadata.namespace`
    /// in the manifests (or `namespace:` in the Kustomization, `--namespace` for Helm) to a
    /// namespace of its own, with its RBAC, quotas and network policies.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: Namespaces](https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/)
    /// - Checkov `CKV_K8S_21`; Trivy `AVD-KSV-0110`
    pub(crate) static DEFAULT_NAMESPACE = RuleMeta {
        id: "WD-K8S-028",
        name: "default-namespace",
        title: "Object is in the default namespace",
        severity: Severity::Low,
        enforcement: Enforcement::Warn,
        kinds: &[],
        fix: FixAvailability::None,
        params: &[],
        aliases: &["CKV_K8S_21", "AVD-KSV-0110"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// Built-in and common add-on kinds that have no namespace.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ComponentStatus",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "APIService",
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "IngressClass",
    "PriorityClass",
    "RuntimeClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "CertificateSigningRequest",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "PodSecurityPolicy",
    "SelfSubjectReview",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SubjectAccessReview",
    "TokenReview",
    "GatewayClass",
    "VolumeSnapshotClass",
    "VolumeSnapshotContent",
];

fn cluster_scoped(resource: &Resource, cx: &CheckContext<'_>) -> bool {
    let kind = resource.kind.as_str();
    if CLUSTER_SCOPED.contains(&kind) || kind.starts_with("Cluster") {
        return true;
    }
    let group = resource
        .after
        .field("apiVersion")
        .as_str()
        .and_then(|v| v.split_once('/'))
        .map(|(group, _)| group);
    cx.live_of_kind("CustomResourceDefinition").any(|crd| {
        let spec = crd.after.field("spec");
        spec.field("names").field("kind").as_str() == Some(kind)
            && spec.field("scope").as_str() == Some("Cluster")
            && group.is_none_or(|g| spec.field("group").as_str() == Some(g))
    })
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.provider != "kubernetes"
        || resource.after.field("apiVersion").as_str().is_none()
        || cluster_scoped(resource, cx)
    {
        return;
    }
    let message = match resource.after.field("metadata").field("namespace").as_str() {
        Some("default") => format!("{} is in the `default` namespace", resource.kind),
        Some(ns) if !ns.is_empty() => return,
        _ => format!(
            "{} has no `metadata.namespace`: it goes to the deploying context's namespace, usually `default`",
            resource.kind
        ),
    };
    out.violation(resource, message).at("metadata.namespace");
}
