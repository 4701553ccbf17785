use super::planned::{planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// DynamoDB tables (`aws_dynamodb_table`) encrypted with an AWS owned key: no
    /// `server_side_encryption` block, or one with `enabled = false`. DynamoDB always
    /// encrypts at rest, but with a key that lives in an AWS account, not yours.
    ///
    /// With `require-customer-managed-key`, tables using the AWS managed key `aws/dynamodb`
    /// (`server_side_encryption { enabled = true }` without `kms_key_arn`) are reported too.
    ///
    /// ## Why it matters
    /// With an AWS owned key you cannot see the key, audit its use in CloudTrail, restrict who
    /// may decrypt through a key policy, or revoke access by disabling it. A KMS key in your
    /// account (AWS managed, or better customer managed) gives you that control and an audit
    /// trail of every use.
    ///
    /// ## Example
    /// ```yaml
    /// aws_dynamodb_table.orders: { action: create, after: { name: orders, hash_key: id, server_side_encryption: [{ enabled: false }] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_dynamodb_table.orders: { action: create, after: { name: orders, hash_key: id, server_side_encryption: [{ enabled: true }] } }
    /// ```
    ///
    /// ## Fix
    /// Sets `server_side_encryption.enabled = true`, which switches the table to the AWS
    /// managed KMS key in your account, in place. With `require-customer-managed-key`, the fix
    /// is a snippet: create a customer managed `aws_kms_key` and set
    /// `server_side_encryption.kms_key_arn` to it.
    ///
    /// ## Parameters
    /// - `require-customer-managed-key`: also report tables that use the AWS managed key
    ///   `aws/dynamodb`, so that only customer managed keys pass (Trivy's stricter reading).
    ///
    /// ## References
    /// - [AWS: DynamoDB encryption at rest](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html)
    /// - Checkov `CKV_AWS_119`; Trivy `AVD-AWS-0025`
    pub(crate) static DYNAMODB_TABLE_WITHOUT_CUSTOMER_MANAGED_KEY = RuleMeta {
        id: "WD-AWS-025",
        name: "dynamodb-table-without-customer-managed-key",
        title: "DynamoDB table is not encrypted with a KMS key in your account",
        severity: Severity::Low,
        enforcement: Enforcement::Warn,
        kinds: &["aws_dynamodb_table"],
        fix: FixAvailability::Sometimes,
        params: &[Param {
            name: "require-customer-managed-key",
            kind: ParamKind::Bool,
            default: "false",
            doc: "Also report tables encrypted with the AWS managed key `aws/dynamodb`: only customer managed keys pass.",
        }],
        aliases: &["CKV_AWS_119", "AVD-AWS-0025"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The fix when a customer managed key is required.
const CMK_SNIPPET: &str = r#"resource "aws_kms_key" "dynamodb" {
  description         = "DynamoDB table encryption"
  enable_key_rotation = true
}

# in the aws_dynamodb_table block:
server_side_encryption {
  enabled     = true
  kms_key_arn = aws_kms_key.dynamodb.arn
}"#;

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let require_cmk = cx.param_bool("require-customer-managed-key");
    let enabled = match planned(resource, cx, "server_side_encryption") {
        Planned::Unknown => return out.unknown(resource, "server_side_encryption"),
        Planned::Default => false,
        Planned::Set(_) => match planned(resource, cx, "server_side_encryption.0.enabled") {
            Planned::Set(v) => v.as_bool() == Some(true),
            Planned::Unknown => return out.unknown(resource, "server_side_encryption.0.enabled"),
            Planned::Default => false,
        },
    };
    if enabled {
        if !require_cmk {
            return;
        }
        match planned(resource, cx, "server_side_encryption.0.kms_key_arn") {
            Planned::Set(v) if v.as_str().is_some_and(|k| !k.is_empty()) => {}
            Planned::Unknown => {}
            Planned::Set(_) | Planned::Default => {
                out.violation(resource, "table is encrypted with the AWS managed key `aws/dynamodb`, not a customer managed key")
                    .at("server_side_encryption.0.kms_key_arn")
                    .fix(Fix::snippet("create a customer managed KMS key and set `server_side_encryption.kms_key_arn` to it", CMK_SNIPPET));
            }
        }
        return;
    }
    let found = if resource
        .after
        .field("server_side_encryption")
        .items()
        .is_empty()
    {
        "no `server_side_encryption` block"
    } else {
        "`server_side_encryption.enabled` is false"
    };
    let message = format!(
        "table is encrypted with an AWS owned key that you cannot audit or control: {found}"
    );
    let pending = out
        .violation(resource, message)
        .at("server_side_encryption.0.enabled");
    if require_cmk {
        pending.fix(Fix::snippet(
            "create a customer managed KMS key and set `server_side_encryption.kms_key_arn` to it",
            CMK_SNIPPET,
        ));
    } else {
        pending.fix(Fix::set(
            "set `server_side_encryption.enabled = true` (the AWS managed key `aws/dynamodb`)",
            "server_side_encryption.0.enabled",
            true,
        ));
    }
}
