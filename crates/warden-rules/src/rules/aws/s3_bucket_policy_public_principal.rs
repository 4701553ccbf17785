use super::planned::left_to_provider;
use super::public_access_block;
use crate::helpers::{is_world, policy_document, principal_is_public, statements, string_or_list};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// S3 bucket policies with a statement that allows an action to everyone: `Effect =
    /// "Allow"` with `Principal = "*"` or `{"AWS": "*"}` (or an `Allow` with `NotPrincipal`),
    /// and no condition that narrows who can use it. It reads `aws_s3_bucket_policy.policy` and
    /// the legacy inline `aws_s3_bucket.policy` (the latter only when no `aws_s3_bucket_policy`
    /// manages the bucket, since the bucket attribute then mirrors that resource).
    ///
    /// A policy is not reported when the plan sets `restrict_public_buckets` or
    /// `block_public_policy` to `true` in an `aws_s3_bucket_public_access_block` for the bucket
    /// (joined through the configuration's reference where the bucket's id is known only after
    /// apply, or by name) or in an `aws_s3_account_public_access_block`: S3 then refuses public
    /// access through the policy, or refuses the policy.
    ///
    /// A condition restricts the statement when it requires one of `aws:SourceVpc`,
    /// `aws:SourceVpce`, `aws:SourceIp`, `aws:SourceArn`, `aws:SourceAccount`,
    /// `aws:SourceOrgID`, `aws:PrincipalOrgID`, `aws:PrincipalAccount`, `aws:PrincipalArn`,
    /// `s3:DataAccessPointAccount` or `s3:DataAccessPointArn` with a positive operator
    /// (`StringEquals`, `StringLike`, `ArnEquals`, `ArnLike`, `IpAddress`, optionally
    /// `ForAnyValue:`), and none of the values is a wildcard or a world-open CIDR. `...IfExists`
    /// and `ForAllValues:` operators do not restrict: they pass when the key is missing, as it
    /// is for anonymous requests.
    ///
    /// ## Why it matters
    /// A bucket policy that grants an action to `*` makes the bucket public for that action:
    /// anyone on the internet, signed in or not, can read (or write, or delete) its objects.
    /// Public bucket policies are behind many of the largest cloud data leaks, and unlike an
    /// ACL they are easy to miss in review because the grant hides inside a JSON string.
    ///
    /// ## Example
    /// ```yaml
    /// aws_s3_bucket_policy.site:
    ///   after:
    ///     bucket: site
    ///     policy: '{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}]}'
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_s3_bucket_policy.site:
    ///   after:
    ///     bucket: site
    ///     policy: '{"Version":"2012-10-17","Statement":[{"Sid":"CloudFrontRead","Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*","Condition":{"StringEquals":{"AWS:SourceArn":"arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"}}}]}'
    /// ```
    ///
    /// ## Fix
    /// No automatic fix: the right principal or condition depends on who must have access.
    /// Name the principals (account or role ARNs), or keep `"*"` and add a condition such as
    /// `aws:PrincipalOrgID` or `aws:SourceVpce`. To serve a website, put CloudFront with origin
    /// access control in front of a private bucket and allow only
    /// `cloudfront.amazonaws.com` with an `AWS:SourceArn` condition.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Blocking public access to your Amazon S3 storage — the meaning of "public"](https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status)
    /// - [AWS: Bucket policy examples](https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html)
    /// - Checkov `CKV_AWS_70`; Trivy `AVD-AWS-0092`
    pub(crate) static S3_BUCKET_POLICY_PUBLIC_PRINCIPAL = RuleMeta {
        id: "WD-AWS-002",
        name: "s3-bucket-policy-public-principal",
        title: "S3 bucket policy allows access to any principal",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_s3_bucket_policy", "aws_s3_bucket"],
        fix: FixAvailability::None,
        params: &[],
        aliases: &["CKV_AWS_70", "AVD-AWS-0092"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// Condition keys that tie a public-principal statement to a network, organization, account or
/// calling resource (compared lowercase: IAM condition keys are case-insensitive).
const RESTRICTING_KEYS: &[&str] = &[
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
];

/// Operators that require the key to be present and to match one of the values.
const POSITIVE_OPERATORS: &[&str] = &[
    "stringequals",
    "stringequalsignorecase",
    "stringlike",
    "arnequals",
    "arnlike",
    "ipaddress",
];

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.kind == "aws_s3_bucket" {
        // The bucket's `policy` mirrors a separate `aws_s3_bucket_policy`, which is checked
        // itself.
        if !cx
            .referrers(
                resource,
                "aws_s3_bucket_policy",
                "bucket",
                &["id", "bucket"],
            )
            .is_empty()
        {
            return;
        }
        if let Attr::Unknown = resource.attr("policy") {
            // Since provider v4 `policy` is computed on the bucket: unknown on every new bucket
            // that does not set it, which says nothing about a public grant.
            if !left_to_provider(resource, cx, "policy") {
                out.unknown(resource, "policy");
            }
            return;
        }
    }
    match resource.attr("policy") {
        Attr::Known(_) => {}
        Attr::Unknown => {
            out.unknown(resource, "policy");
            return;
        }
        Attr::Absent => return,
    }
    let Some(document) = policy_document(resource, "policy") else {
        return;
    };
    if public_access_block::blocks(resource, cx, "restrict_public_buckets")
        || public_access_block::blocks(resource, cx, "block_public_policy")
    {
        return;
    }
    for (i, statement) in statements(&document).into_iter().enumerate() {
        if statement.field("Effect").as_str() != Some("Allow") {
            continue;
        }
        let everyone = principal_is_public(statement);
        let all_but = statement.get("NotPrincipal").is_some();
        if !(everyone || all_but) || is_restricted(statement) {
            continue;
        }
        let name = statement
            .field("Sid")
            .as_str()
            .filter(|s| !s.is_empty())
            .map_or_else(
                || format!("statement {i}"),
                |sid| format!("statement `{sid}`"),
            );
        let who = if everyone {
            "any principal"
        } else {
            "every principal but those in `NotPrincipal`"
        };
        let _ = out
            .violation(
                resource,
                format!(
                    "{name} allows {} to {who} without a condition that restricts it",
                    describe_actions(statement)
                ),
            )
            .at("policy");
    }
}

/// `true` when a condition of the statement narrows it to a network, organization, account or
/// calling resource.
fn is_restricted(statement: &Value) -> bool {
    statement
        .field("Condition")
        .entries()
        .iter()
        .any(|(operator, keys)| {
            let operator = operator.to_ascii_lowercase();
            let operator = operator.strip_prefix("foranyvalue:").unwrap_or(&operator);
            POSITIVE_OPERATORS.contains(&operator)
                && keys.entries().iter().any(|(key, values)| {
                    let key = key.to_ascii_lowercase();
                    let values = string_or_list(Some(values));
                    RESTRICTING_KEYS.contains(&key.as_str())
                        && !values.is_empty()
                        && values
                            .iter()
                            .all(|v| !is_wildcard(v) && (key != "aws:sourceip" || !is_world(v)))
                })
        })
}

/// `true` for values that match anything (`*`, `?*`).
fn is_wildcard(value: &str) -> bool {
    !value.is_empty() && value.chars().all(|c| c == '*' || c == '?') && value.contains('*')
}

/// The actions of a statement, for a message: `s3:GetObject`, `s3:GetObject, s3:PutObject`,
/// `every action but s3:DeleteBucket`.
fn describe_actions(statement: &Value) -> String {
    let list = |key: &str| {
        let actions = string_or_list(statement.get(key));
        let mut text = helpers::code_list(actions.iter().take(3), ", ");
        if actions.len() > 3 {
            text.push_str(&format!(" and {} more", actions.len() - 3));
        }
        text
    };
    let actions = list("Action");
    if !actions.is_empty() {
        return actions;
    }
    let not = list("NotAction");
    if not.is_empty() {
        "its actions".to_owned()
    } else {
        format!("every action but {not}")
    }
}
