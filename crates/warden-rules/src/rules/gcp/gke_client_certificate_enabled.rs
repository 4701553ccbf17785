use super::{planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// GKE clusters (`google_container_cluster`) that issue a client certificate:
    /// `master_auth.client_certificate_config.issue_client_certificate = true`. Clusters
    /// that leave `master_auth` out do not issue one (the provider default since 3.0, and
    /// GKE's since 1.12).
    ///
    /// ## Why it matters
    /// The issued certificate is a static, non-revocable credential for the cluster's API
    /// server: it is not tied to a Google identity, cannot be disabled in IAM, and is stored in
    /// Terraform state (`master_auth.client_certificate`/`client_key`), so anyone who reads the
    /// state can authenticate to the cluster until it is rebuilt. Use Google identities
    /// (`gcloud container clusters get-credentials`) or Workload Identity instead.
    ///
    /// ## Example
    /// ```yaml
    /// google_container_cluster.main: { after: { name: main, master_auth: [{ client_certificate_config: [{ issue_client_certificate: true }] }] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// google_container_cluster.main: { after: { name: main, master_auth: [{ client_certificate_config: [{ issue_client_certificate: false }] }] } }
    /// ```
    ///
    /// ## Fix
    /// Sets `issue_client_certificate = false`. The attribute cannot change in place:
    /// Terraform replaces the cluster, so plan the migration (or remove the `master_auth`
    /// block on a new cluster).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Google Cloud: Harden your cluster — restrict authentication methods](https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster#restrict_authn_methods)
    /// - [Terraform: google_container_cluster](https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/container_cluster#issue_client_certificate)
    /// - Checkov `CKV_GCP_13`; Trivy `AVD-GCP-0064`
    pub(crate) static GKE_CLIENT_CERTIFICATE_ENABLED = RuleMeta {
        id: "WD-GCP-009",
        name: "gke-client-certificate-enabled",
        title: "GKE cluster issues a client certificate",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["google_container_cluster"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_GCP_13", "AVD-GCP-0064"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const KEY: &str = "master_auth.0.client_certificate_config.0.issue_client_certificate";

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match planned(resource, cx, KEY) {
        Planned::Set(v) if v.as_bool() == Some(true) => {
            out.violation(resource, "`issue_client_certificate` is true: the cluster issues a static, non-revocable admin credential")
                .at(KEY)
                .fix(Fix::set("set `issue_client_certificate = false` (this replaces the cluster)", KEY, false));
        }
        Planned::Unknown => out.unknown(resource, KEY),
        Planned::Set(_) | Planned::Default => {}
    }
}
