use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// GKE clusters (`google_container_cluster`) with the legacy attribute-based access
    /// control authorizer turned on: `enable_legacy_abac = true` (the default is `false`).
    ///
    /// ## Why it matters
    /// Legacy ABAC grants static, broad permissions outside Kubernetes RBAC and IAM: with it
    /// enabled, service accounts, nodes and controllers get rights that RBAC does not show and
    /// cannot take away, so one compromised pod can often control the whole cluster. GKE has
    /// disabled it by default since Kubernetes 1.8; RBAC replaces it.
    ///
    /// ## Example
    /// ```yaml
    /// google_container_cluster.main: { after: { name: main, location: europe-west1, enable_legacy_abac: true } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// google_container_cluster.main: { after: { name: main, location: europe-west1, enable_legacy_abac: false } }
    /// ```
    ///
    /// ## Fix
    /// Sets `enable_legacy_abac = false`. Before applying, grant through RBAC (Roles and
    /// RoleBindings) or IAM whatever workloads relied on ABAC for.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Google Cloud: Harden your cluster — leave ABAC disabled](https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#leave_abac_disabled_default_for_110)
    /// - [Terraform: google_container_cluster](https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/container_cluster#enable_legacy_abac)
    /// - Checkov `CKV_GCP_7`; Trivy `AVD-GCP-0062`
    pub(crate) static GKE_LEGACY_ABAC_ENABLED = RuleMeta {
        id: "WD-GCP-008",
        name: "gke-legacy-abac-enabled",
        title: "GKE cluster enables the legacy ABAC authorizer",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["google_container_cluster"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_GCP_7", "AVD-GCP-0062"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const KEY: &str = "enable_legacy_abac";

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.attr(KEY) {
        Attr::Known(v) if v.as_bool() == Some(true) => {
            out.violation(resource, "`enable_legacy_abac` is true: the legacy ABAC authorizer grants permissions outside RBAC")
                .at(KEY)
                .fix(Fix::set("set `enable_legacy_abac = false` and grant through RBAC instead", KEY, false));
        }
        Attr::Unknown => out.unknown(resource, KEY),
        _ => {}
    }
}
