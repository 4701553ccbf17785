use super::public_access_block;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// S3 buckets whose canned ACL grants access to everyone: `public-read`,
    /// `public-read-write` or `authenticated-read`, set on the bucket (`aws_s3_bucket.acl`,
    /// provider v3 style) or through a separate `aws_s3_bucket_acl` resource.
    ///
    /// An ACL is not reported when the plan also sets `ignore_public_acls = true` in an
    /// `aws_s3_bucket_public_access_block` for that bucket (joined through the configuration's
    /// reference to the bucket when its id is known only after apply, or by bucket name) or in
    /// an `aws_s3_account_public_access_block`: S3 then ignores the public grant.
    ///
    /// ## Why it matters
    /// A public ACL exposes every object in the bucket to the internet; `authenticated-read`
    /// means any AWS account, not yours. Public buckets are the most common source of cloud
    /// data leaks.
    ///
    /// ## Example
    /// ```yaml
    /// aws_s3_bucket_acl.logs: { action: create, after: { bucket: logs, acl: public-read } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_s3_bucket_acl.logs: { action: create, after: { bucket: logs, acl: private } }
    /// ```
    ///
    /// ## Fix
    /// Sets `acl` to `private`. Share objects with presigned URLs or CloudFront with origin
    /// access control instead.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Blocking public access to your Amazon S3 storage](https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html)
    /// - Checkov `CKV_AWS_20`, `CKV_AWS_57`; Trivy `AVD-AWS-0092`
    pub(crate) static S3_BUCKET_PUBLIC_ACL = RuleMeta {
        id: "WD-AWS-001",
        name: "s3-bucket-public-acl",
        title: "S3 bucket ACL grants public access",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_s3_bucket", "aws_s3_bucket_acl"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_20", "CKV_AWS_57", "AVD-AWS-0092"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const PUBLIC_ACLS: &[&str] = &["public-read", "public-read-write", "authenticated-read"];

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.attr("acl") {
        Attr::Known(acl) => {
            let public = acl.as_str().filter(|a| PUBLIC_ACLS.contains(a));
            if let Some(acl) =
                public.filter(|_| !public_access_block::blocks(resource, cx, "ignore_public_acls"))
            {
                out.violation(
                    resource,
                    format!("bucket ACL `{acl}` grants access to everyone"),
                )
                .at("acl")
                .fix(Fix::set(
                    "set the canned ACL to `private`",
                    "acl",
                    "private",
                ));
            }
        }
        Attr::Unknown => out.unknown(resource, "acl"),
        Attr::Absent => {}
    }
}
