use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// CloudTrail trails (`aws_cloudtrail`) whose log files are not encrypted with a KMS key:
    /// no `kms_key_id`. Such logs are protected only by the bucket's default encryption
    /// (SSE-S3). A key known only after apply (a reference to a key created in the same plan)
    /// counts as set.
    ///
    /// ## Why it matters
    /// CloudTrail logs describe every API call in the account: who did what, from where. With
    /// SSE-KMS, reading them needs both read access to the bucket and `kms:Decrypt` on a key
    /// you control, every decryption is itself logged, and access can be revoked at the key.
    /// A bucket policy mistake alone then no longer exposes the audit trail.
    ///
    /// ## Example
    /// ```yaml
    /// aws_cloudtrail.main: { action: create, after: { name: main, s3_bucket_name: audit-logs } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_cloudtrail.main: { action: create, after: { name: main, s3_bucket_name: audit-logs, kms_key_id: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" } }
    /// ```
    ///
    /// ## Fix
    /// A snippet: create a customer managed KMS key whose policy lets CloudTrail encrypt
    /// (`kms:GenerateDataKey*` for `cloudtrail.amazonaws.com`, conditioned on the trail's
    /// ARN) and your log readers decrypt, then set `kms_key_id` to its ARN.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Encrypting CloudTrail log files with AWS KMS keys (SSE-KMS)](https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html)
    /// - Checkov `CKV_AWS_35`; Trivy `AVD-AWS-0015`
    pub(crate) static CLOUDTRAIL_NOT_ENCRYPTED = RuleMeta {
        id: "WD-AWS-034",
        name: "cloudtrail-not-encrypted",
        title: "CloudTrail log files are not encrypted with a KMS key",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_cloudtrail"],
        fix: FixAvailability::Sometimes,
        params: &[],
        aliases: &["CKV_AWS_35", "AVD-AWS-0015"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// A key CloudTrail may use, and the attribute to set.
const SNIPPET: &str = r#"data "aws_caller_identity" "current" {}

resource "aws_kms_key" "cloudtrail" {
  description         = "CloudTrail log encryption"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudTrailEncrypt"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = ["kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          StringLike = {
            "kms:EncryptionContext:aws:cloudtrail:arn" = "arn:aws:cloudtrail:*:${data.aws_caller_identity.current.account_id}:trail/*"
          }
        }
      },
    ]
  })
}

# in the aws_cloudtrail block:
kms_key_id = aws_kms_key.cloudtrail.arn"#;

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let found = match resource.attr("kms_key_id") {
        Attr::Known(v) if v.as_str() == Some("") => "`kms_key_id` is empty",
        Attr::Known(_) | Attr::Unknown => return,
        Attr::Absent => "no `kms_key_id` is set",
    };
    out.violation(
        resource,
        format!("log files are encrypted only with the bucket's default SSE-S3 keys: {found}"),
    )
    .at("kms_key_id")
    .fix(Fix::snippet(
        "create a KMS key that CloudTrail may use and set `kms_key_id` to its ARN",
        SNIPPET,
    ));
}
