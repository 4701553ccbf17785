use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// ClusterRoleBindings and RoleBindings whose `roleRef` is the ClusterRole
    /// `cluster-admin`. The message names every subject; a binding to a group everybody is in
    /// (`system:authenticated`, `system:unauthenticated`) or to a default ServiceAccount is
    /// called out. A RoleBinding grants the role only in its namespace, but there it is
    /// full control, Roles and RoleBindings included.
    ///
    /// ## Why it matters
    /// `cluster-admin` is superuser: every verb on every resource, every Secret of every
    /// namespace, and the right to grant anything to anyone. Whoever holds the subject's
    /// credentials (a CI token, a compromised pod's ServiceAccount token) owns the cluster
    /// and every workload in it. Such a grant should be rare and reviewed by a person.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: { name: ci-admin }, roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }, subjects: [ { kind: ServiceAccount, name: ci, namespace: ci } ] }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: { name: ci-deploy, namespace: shop }, roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit }, subjects: [ { kind: ServiceAccount, name: ci, namespace: ci } ] }
    /// ```
    ///
    /// ## Fix
    /// None: bind a role that grants only what the subject needs (the built-in `admin`,
    /// `edit` or `view` ClusterRoles through a namespaced RoleBinding, or a dedicated Role),
    /// or approve the change when cluster-admin is really intended.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: RBAC good practices](https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege)
    /// - [Kubernetes: user-facing roles](https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles)
    /// - Trivy `AVD-KSV-0111`; Kyverno `other/restrict-binding-clusteradmin`
    pub(crate) static CLUSTER_ADMIN_BINDING = RuleMeta {
        id: "WD-K8S-027",
        name: "cluster-admin-binding",
        title: "Binding grants cluster-admin",
        severity: Severity::Critical,
        enforcement: Enforcement::RequireApproval,
        kinds: &["ClusterRoleBinding", "RoleBinding"],
        fix: FixAvailability::None,
        params: &[],
        aliases: &["AVD-KSV-0111"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let role = resource.after.field("roleRef");
    if role.field("kind").as_str() != Some("ClusterRole")
        || role.field("name").as_str() != Some("cluster-admin")
    {
        return;
    }
    let own_namespace = resource.after.field("metadata").field("namespace").as_str();
    let mut subjects = Vec::new();
    let mut notes = Vec::new();
    for subject in resource.after.field("subjects").items() {
        let kind = subject.field("kind").as_str().unwrap_or("subject");
        let name = subject.field("name").as_str().unwrap_or_default();
        let text = match kind {
            "ServiceAccount" => {
                let namespace = subject.field("namespace").as_str().or(own_namespace);
                if name == "default" {
                    notes.push("a `default` ServiceAccount is mounted into every pod of its namespace that names no other");
                }
                match namespace {
                    Some(ns) => format!("ServiceAccount `{ns}/{name}`"),
                    None => format!("ServiceAccount `{name}`"),
                }
            }
            _ => format!("{kind} `{name}`"),
        };
        if kind == "Group" {
            match name {
                "system:authenticated" => notes.push("`system:authenticated` is every user and ServiceAccount that can log in"),
                "system:unauthenticated" => notes.push("`system:unauthenticated` is anonymous access"),
                "system:serviceaccounts" => notes.push("`system:serviceaccounts` is every ServiceAccount of the cluster"),
                "system:masters" => notes.push("`system:masters` bypasses authorization already; its members' client certificates cannot be revoked"),
                _ => {}
            }
        }
        if kind == "User" && name == "system:anonymous" {
            notes.push("`system:anonymous` is anonymous access");
        }
        subjects.push(text);
    }
    let scope = match (resource.kind.as_str(), own_namespace) {
        ("RoleBinding", Some(ns)) => format!(" in namespace `{ns}`"),
        ("RoleBinding", None) => " in its namespace".to_owned(),
        _ => " cluster-wide".to_owned(),
    };
    let whom = if subjects.is_empty() {
        "no subject yet".to_owned()
    } else {
        subjects.join(", ")
    };
    let mut message = format!("grants `cluster-admin`{scope} to {whom}");
    if !notes.is_empty() {
        message.push_str(" (");
        message.push_str(&notes.join("; "));
        message.push(')');
    }
    out.violation(resource, message).at("roleRef");
}
