use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Lambda resource policy statements (`aws_lambda_permission`) that let too many callers
    /// invoke a function:
    /// - `principal = "*"` with nothing that narrows it: no `source_arn`, `source_account`
    ///   or `principal_org_id`;
    /// - an AWS service principal (`s3.amazonaws.com`, `sns.amazonaws.com`,
    ///   `events.amazonaws.com` ...) with neither `source_arn` nor `source_account`, so the
    ///   service may invoke the function on behalf of any resource in any account (the
    ///   confused deputy problem). Alexa principals with an `event_source_token` are
    ///   restricted by the token.
    ///
    /// ## Why it matters
    /// A permission for `*` makes the function callable by any AWS account. A service principal
    /// without a source condition is subtler: anyone can create, in their own account, an S3
    /// bucket or SNS topic that triggers your function, feeding it input you never expected
    /// and running it with your role at your expense.
    ///
    /// ## Example
    /// ```yaml
    /// aws_lambda_permission.s3: { after: { action: "lambda:InvokeFunction", function_name: resize, principal: s3.amazonaws.com } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_lambda_permission.s3:
    ///   after: { action: "lambda:InvokeFunction", function_name: resize, principal: s3.amazonaws.com, source_arn: "arn:aws:s3:::uploads", source_account: "111122223333" }
    /// ```
    ///
    /// ## Fix
    /// No automatic fix: the caller's ARN and account are yours to name. Set `source_arn` to the
    /// bucket, topic, rule or API that should invoke the function, and `source_account` to
    /// its account (S3 bucket ARNs carry no account, so set both). Replace `principal = "*"`
    /// with the account or role that needs access, or add `principal_org_id`.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Using resource-based policies in Lambda](https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html)
    /// - [AWS: The confused deputy problem](https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html)
    /// - Checkov `CKV_AWS_301`; Trivy `AVD-AWS-0067`
    pub(crate) static LAMBDA_PERMISSION_PUBLIC_PRINCIPAL = RuleMeta {
        id: "WD-AWS-017",
        name: "lambda-permission-public-principal",
        title: "Lambda permission lets any account or any resource invoke the function",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_lambda_permission"],
        fix: FixAvailability::None,
        params: &[],
        aliases: &["CKV_AWS_301", "AVD-AWS-0067"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let principal = match resource.attr("principal") {
        Attr::Known(v) => v.as_str().unwrap_or_default(),
        Attr::Unknown => {
            out.unknown(resource, "principal");
            return;
        }
        Attr::Absent => return,
    };
    // A value known only after apply will be set: an unknown ARN still restricts.
    let set = |attribute: &str| match resource.attr(attribute) {
        Attr::Known(v) => v.as_str().is_none_or(|s| !s.is_empty()),
        Attr::Unknown => true,
        Attr::Absent => false,
    };
    let action = resource.after_str("action").unwrap_or("its action");
    if principal == "*" {
        if !(set("source_arn") || set("source_account") || set("principal_org_id")) {
            let _ = out.violation(
                resource,
                format!("`principal = \"*\"` grants `{action}` to any AWS account, with no `source_arn`, `source_account` or `principal_org_id`"),
            )
            .at("principal");
        }
        return;
    }
    let service = principal.ends_with(".amazonaws.com") || principal.ends_with(".amazon.com");
    let alexa_token = principal.starts_with("alexa-") && set("event_source_token");
    if service && !alexa_token && !set("source_arn") && !set("source_account") {
        let _ = out.violation(
            resource,
            format!("service principal `{principal}` may invoke the function for any resource in any account: set `source_arn` or `source_account`"),
        )
        .at("principal");
    }
}
