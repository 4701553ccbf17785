use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Role and ClusterRole rules that use the wildcard `*` in `verbs`, `resources` (also
    /// `*/subresource`, every resource's subresource) or `apiGroups`. One finding per rule
    /// entry, naming the lists that hold a wildcard. ClusterRoles built by an
    /// `aggregationRule` are checked on the rules they list themselves.
    ///
    /// ## Why it matters
    /// A wildcard grants everything that exists now and everything added later: `verbs: ["*"]`
    /// includes `escalate`, `bind` and `impersonate`, `resources: ["*"]` includes Secrets,
    /// and `apiGroups: ["*"]` includes every CustomResourceDefinition installed in the future.
    /// A role meant to "manage deployments" ends up able to read every secret or grant itself
    /// more rights, and nobody can tell from the manifest what it really allows.
    ///
    /// ## Example
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: { name: deployer, namespace: shop }, rules: [ { apiGroups: ["apps"], resources: ["*"], verbs: ["*"] } ] }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// manifests:
    ///   - { apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: { name: deployer, namespace: shop }, rules: [ { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch", "update", "patch"] } ] }
    /// ```
    ///
    /// ## Fix
    /// None: list the API groups, resources and verbs the subject really needs
    /// (`kubectl auth can-i --list --as=<subject>` and the audit log show what it uses).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Kubernetes: RBAC good practices](https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege)
    /// - Checkov `CKV_K8S_49`; Trivy `AVD-KSV-0044`, `AVD-KSV-0045`, `AVD-KSV-0046`;
    ///   Kyverno `other/restrict-wildcard-resources`, `other/restrict-wildcard-verbs`
    pub(crate) static RBAC_WILDCARD = RuleMeta {
        id: "WD-K8S-026",
        name: "rbac-wildcard",
        title: "RBAC rule grants a wildcard",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["Role", "ClusterRole"],
        fix: FixAvailability::None,
        params: &[],
        aliases: &["CKV_K8S_49", "AVD-KSV-0044", "AVD-KSV-0045", "AVD-KSV-0046"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn strings(rule: &Value, key: &str) -> Vec<String> {
    rule.field(key)
        .items()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    for (i, rule) in resource.after.field("rules").items().iter().enumerate() {
        let verbs = strings(rule, "verbs");
        let resources = strings(rule, "resources");
        let groups = strings(rule, "apiGroups");
        let mut wild = Vec::new();
        if verbs.iter().any(|v| v == "*") {
            wild.push("verbs");
        }
        if resources.iter().any(|r| r == "*" || r.starts_with("*/")) {
            wild.push("resources");
        }
        if groups.iter().any(|g| g == "*") {
            wild.push("apiGroups");
        }
        if wild.is_empty() {
            continue;
        }
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items
                    .iter()
                    .map(|s| {
                        if s.is_empty() {
                            "\"\" (core)".to_owned()
                        } else {
                            s.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let lists = match wild.as_slice() {
            [one] => format!("`{one}`"),
            [first @ .., last] => format!(
                "{} and `{last}`",
                first
                    .iter()
                    .map(|w| format!("`{w}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            [] => String::new(),
        };
        out.violation(
            resource,
            format!(
                "{} rule {i} has a wildcard in {lists} (verbs: {}; resources: {}; apiGroups: {})",
                resource.kind,
                list(&verbs),
                list(&resources),
                list(&groups)
            ),
        )
        .at(&format!("rules.{i}"));
    }
}
