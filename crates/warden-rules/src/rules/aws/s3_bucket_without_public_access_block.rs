use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// New S3 buckets (`aws_s3_bucket` being created or replaced) that no
    /// `aws_s3_bucket_public_access_block` in the plan points at, when the plan has no
    /// account-wide `aws_s3_account_public_access_block` either. The block is matched through
    /// its `bucket` argument: a reference to the bucket in the configuration, or a known value
    /// equal to the bucket's `id` or `bucket`. Whether the block turns every setting on is
    /// `s3-public-access-block-incomplete`'s job.
    ///
    /// ## Why it matters
    /// Block Public Access is what keeps a bucket private when someone later adds a public ACL
    /// or bucket policy by mistake. AWS turns it on for new buckets since April 2023, but only
    /// as an initial setting outside your code: anyone with `s3:PutBucketPublicAccessBlock`
    /// can turn it off and Terraform will never notice or restore it. Declaring the block makes
    /// the protection part of the reviewed configuration and repairs drift on the next apply.
    ///
    /// ## Example
    /// ```yaml
    /// aws_s3_bucket.data: { action: create, after: { bucket: data } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// resources:
    ///   aws_s3_bucket.data: { action: create, after: { bucket: data } }
    ///   aws_s3_bucket_public_access_block.data:
    ///     after: { block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true }
    ///     after_unknown: { bucket: true }
    /// config:
    ///   aws_s3_bucket_public_access_block.data: { references: { bucket: ["aws_s3_bucket.data.id", "aws_s3_bucket.data"] } }
    /// ```
    ///
    /// ## Fix
    /// Suggests an `aws_s3_bucket_public_access_block` for the bucket with all four settings
    /// on (for buckets created with `count` or `for_each`, one that iterates the same way).
    /// An account-wide `aws_s3_account_public_access_block` also satisfies the rule.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Blocking public access to your Amazon S3 storage](https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html)
    /// - [Terraform: aws_s3_bucket_public_access_block](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_bucket_public_access_block)
    /// - Checkov `CKV2_AWS_6`
    pub(crate) static S3_BUCKET_WITHOUT_PUBLIC_ACCESS_BLOCK = RuleMeta {
        id: "WD-AWS-004",
        name: "s3-bucket-without-public-access-block",
        title: "New S3 bucket has no Block Public Access configuration",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_s3_bucket"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV2_AWS_6"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some(target) = super::companion::missing(
        resource,
        cx,
        "aws_s3_bucket_public_access_block",
        "bucket",
        &["id", "bucket"],
    ) else {
        return;
    };
    if cx
        .live_of_kind("aws_s3_account_public_access_block")
        .next()
        .is_some()
    {
        return;
    }
    let snippet = format!(
        "resource \"aws_s3_bucket_public_access_block\" \"{name}\" {{\n{iteration}  bucket = {bucket}.id\n\n  block_public_acls       = true\n  block_public_policy     = true\n  ignore_public_acls      = true\n  restrict_public_buckets = true\n}}\n",
        name = resource.name,
        iteration = target.iteration,
        bucket = target.instance,
    );
    let label = helpers::label(resource, "bucket");
    out.violation(
        resource,
        format!("new bucket{label} has no `aws_s3_bucket_public_access_block` and the plan sets no account-level block"),
    )
    .fix(Fix::snippet("add an `aws_s3_bucket_public_access_block` with every setting on for this bucket", snippet));
}
