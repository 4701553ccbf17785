//! Whether S3 Block Public Access neutralises a public grant: a bucket-level
//! `aws_s3_bucket_public_access_block` joined to the bucket (by configuration reference where
//! the bucket's id is known only after apply, or by name), or an account-level
//! `aws_s3_account_public_access_block`, in the same plan.

use warden_core::{Attr, Resource};

use crate::context::CheckContext;

/// `true` when a public access block in the plan sets `setting` (`ignore_public_acls`,
/// `restrict_public_buckets`) for the bucket of `resource`: the bucket itself, or the bucket an
/// `aws_s3_bucket_acl` / `aws_s3_bucket_policy` names in its `bucket` attribute.
#[must_use]
pub(crate) fn blocks(resource: &Resource, cx: &CheckContext<'_>, setting: &str) -> bool {
    let on = |block: &Resource| matches!(block.attr(setting), Attr::Known(v) if v.as_bool() == Some(true));
    if cx
        .live_of_kind("aws_s3_account_public_access_block")
        .any(on)
    {
        return true;
    }
    const KIND: &str = "aws_s3_bucket_public_access_block";
    let buckets: Vec<&Resource> = if resource.kind == "aws_s3_bucket" {
        vec![resource]
    } else {
        cx.referenced(resource, "bucket", "aws_s3_bucket", &["id", "bucket"])
    };
    let via_bucket = buckets.iter().any(|bucket| {
        cx.referrers(bucket, KIND, "bucket", &["id", "bucket"])
            .into_iter()
            .any(on)
    });
    // A bucket that exists outside this plan: the block and the grant name it alike.
    let by_name = resource.after_str("bucket").is_some_and(|name| {
        cx.live_of_kind(KIND)
            .any(|block| block.after_str("bucket") == Some(name) && on(block))
    });
    via_bucket || by_name
}
