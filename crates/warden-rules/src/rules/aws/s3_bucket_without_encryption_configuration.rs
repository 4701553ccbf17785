use super::planned::left_to_provider;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// New S3 buckets (`aws_s3_bucket` being created or replaced) with no default encryption
    /// configuration: neither the legacy inline `server_side_encryption_configuration` block
    /// nor an `aws_s3_bucket_server_side_encryption_configuration` pointing at the bucket
    /// (through a configuration reference or a known `bucket` value). It also checks every
    /// `aws_s3_bucket_server_side_encryption_configuration`: at least one `rule` must set
    /// `apply_server_side_encryption_by_default.sse_algorithm`.
    ///
    /// ## Why it matters
    /// Since January 2023 S3 encrypts new objects with S3-managed keys (SSE-S3) when a bucket
    /// says nothing, so the data is not stored in clear. Declaring the configuration still
    /// matters: it is the only way to choose KMS keys, whose use is logged in CloudTrail and
    /// governed by a key policy, and it keeps the setting in reviewed code instead of an
    /// account default that an API call can change. A configuration resource with no default
    /// algorithm declares nothing at all.
    ///
    /// ## Example
    /// ```yaml
    /// aws_s3_bucket.data: { action: create, after: { bucket: data } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_s3_bucket.data: { action: create, after: { bucket: data } }
    /// aws_s3_bucket_server_side_encryption_configuration.data:
    ///   after:
    ///     bucket: data
    ///     rule: [{ apply_server_side_encryption_by_default: [{ sse_algorithm: "aws:kms" }], bucket_key_enabled: true }]
    /// ```
    ///
    /// ## Fix
    /// For a bucket, suggests an `aws_s3_bucket_server_side_encryption_configuration` with
    /// `aws:kms` and S3 Bucket Keys (which cut KMS request costs); set `kms_master_key_id` to
    /// use a customer managed key. For a configuration without a default algorithm, sets
    /// `sse_algorithm = "aws:kms"` in its first rule.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Setting default server-side encryption behavior for S3 buckets](https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html)
    /// - [Terraform: aws_s3_bucket_server_side_encryption_configuration](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_bucket_server_side_encryption_configuration)
    /// - Checkov `CKV_AWS_19`, `CKV_AWS_145`; Trivy `AVD-AWS-0088`, `AVD-AWS-0132`
    pub(crate) static S3_BUCKET_WITHOUT_ENCRYPTION_CONFIGURATION = RuleMeta {
        id: "WD-AWS-005",
        name: "s3-bucket-without-encryption-configuration",
        title: "New S3 bucket has no default encryption configuration",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_s3_bucket", "aws_s3_bucket_server_side_encryption_configuration"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_19", "CKV_AWS_145", "AVD-AWS-0088", "AVD-AWS-0132"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const LEGACY_BLOCK: &str = "server_side_encryption_configuration";

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.kind == "aws_s3_bucket" {
        check_bucket(resource, cx, out);
    } else {
        check_configuration(resource, out);
    }
}

fn check_bucket(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some(target) = super::companion::missing(
        resource,
        cx,
        "aws_s3_bucket_server_side_encryption_configuration",
        "bucket",
        &["id", "bucket"],
    ) else {
        return;
    };
    match resource.attr(LEGACY_BLOCK) {
        Attr::Known(v) if !v.items().is_empty() => return,
        // Computed since provider v4: unknown whenever the configuration leaves it out.
        Attr::Unknown if left_to_provider(resource, cx, LEGACY_BLOCK) => {}
        // Set in the configuration: the block requires an algorithm.
        Attr::Unknown if cx.config_of(resource).is_some() => return,
        Attr::Unknown => {
            out.unknown(resource, LEGACY_BLOCK);
            return;
        }
        _ => {}
    }
    let snippet = format!(
        "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"{name}\" {{\n{iteration}  bucket = {bucket}.id\n\n  rule {{\n    apply_server_side_encryption_by_default {{\n      sse_algorithm = \"aws:kms\"\n      # kms_master_key_id = aws_kms_key.<key>.arn  # a customer managed key, if you have one\n    }}\n    bucket_key_enabled = true\n  }}\n}}\n",
        name = resource.name,
        iteration = target.iteration,
        bucket = target.instance,
    );
    let label = helpers::label(resource, "bucket");
    out.violation(
        resource,
        format!("new bucket{label} declares no default server-side encryption"),
    )
    .fix(Fix::snippet(
        "add an `aws_s3_bucket_server_side_encryption_configuration` for this bucket",
        snippet,
    ));
}

fn check_configuration(resource: &Resource, out: &mut Report<'_>) {
    let rules = match resource.attr("rule") {
        Attr::Known(v) => v.items(),
        Attr::Unknown => {
            out.unknown(resource, "rule");
            return;
        }
        Attr::Absent => &[],
    };
    let mut unknown = None;
    for i in 0..rules.len() {
        let path = format!("rule.{i}.apply_server_side_encryption_by_default.0.sse_algorithm");
        match resource.attr(&path) {
            Attr::Known(v) if v.as_str().is_some_and(|s| !s.is_empty()) => return,
            Attr::Unknown => {
                unknown.get_or_insert(path);
            }
            _ => {}
        }
    }
    if let Some(path) = unknown {
        out.unknown(resource, &path);
        return;
    }
    let attribute = "rule.0.apply_server_side_encryption_by_default.0.sse_algorithm";
    out.violation(resource, "no rule sets `apply_server_side_encryption_by_default.sse_algorithm`, so no default encryption is declared")
        .at(attribute)
        .fix(Fix::set("set the default encryption algorithm to `aws:kms` in the first rule", attribute, "aws:kms"));
}
