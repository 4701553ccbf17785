use super::{planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// `google_storage_bucket` resources without uniform bucket-level access:
    /// `uniform_bucket_level_access` is `false` or not set (the bucket then keeps per-object
    /// ACLs; an organization policy `storage.uniformBucketLevelAccess` can force it on, which a
    /// plan cannot see).
    ///
    /// `public_access_prevention = "enforced"` is a separate, complementary control that
    /// blocks `allUsers`/`allAuthenticatedUsers` grants outright; `storage-bucket-public-iam`
    /// reports such grants where the plan creates them.
    ///
    /// ## Why it matters
    /// With fine-grained (ACL) access, every object can carry its own ACL, so one upload with
    /// `--predefined-acl=publicRead` makes an object public even though the bucket's IAM policy
    /// is private, and nobody reviewing the bucket sees it. Uniform bucket-level access
    /// disables object ACLs: IAM on the bucket is the only thing that grants access, which is
    /// what reviews, audits and organization policies reason about.
    ///
    /// ## Example
    /// ```yaml
    /// google_storage_bucket.assets: { after: { name: assets, location: EU, uniform_bucket_level_access: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// google_storage_bucket.assets: { after: { name: assets, location: EU, uniform_bucket_level_access: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `uniform_bucket_level_access = true`. Existing object ACLs stop applying (they are
    /// kept for 90 days, during which the change can be reverted): grant what they granted
    /// through bucket IAM first.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Google Cloud: Uniform bucket-level access](https://cloud.google.com/storage/docs/uniform-bucket-level-access)
    /// - [Terraform: google_storage_bucket](https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/storage_bucket)
    /// - Checkov `CKV_GCP_29`; Trivy `AVD-GCP-0002`
    pub(crate) static STORAGE_BUCKET_UNIFORM_ACCESS_DISABLED = RuleMeta {
        id: "WD-GCP-006",
        name: "storage-bucket-uniform-access-disabled",
        title: "Cloud Storage bucket does not use uniform bucket-level access",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["google_storage_bucket"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_GCP_29", "AVD-GCP-0002"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const KEY: &str = "uniform_bucket_level_access";

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let message = match planned(resource, cx, KEY) {
        Planned::Set(v) if v.as_bool() == Some(true) => return,
        Planned::Set(_) => "`uniform_bucket_level_access` is false: object ACLs can grant access the bucket's IAM policy does not show",
        Planned::Default => {
            "`uniform_bucket_level_access` is not set (off by default): object ACLs can grant access the bucket's IAM policy does not show"
        }
        Planned::Unknown => return out.unknown(resource, KEY),
    };
    out.violation(resource, message).at(KEY).fix(Fix::set(
        "set `uniform_bucket_level_access = true`",
        KEY,
        true,
    ));
}
