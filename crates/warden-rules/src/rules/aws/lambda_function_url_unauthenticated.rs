use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Lambda function URLs (`aws_lambda_function_url`) with `authorization_type = "NONE"`.
    ///
    /// ## Why it matters
    /// A function URL with no authorization is a public HTTPS endpoint: anyone who finds the
    /// URL can invoke the function, with its IAM role, as often as they like. Besides whatever
    /// the function can read or change, every call is billed to you, and the function's
    /// concurrency can be exhausted to take down its legitimate callers.
    ///
    /// ## Example
    /// ```yaml
    /// aws_lambda_function_url.hook: { after: { function_name: hook, authorization_type: NONE } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_lambda_function_url.hook: { after: { function_name: hook, authorization_type: AWS_IAM } }
    /// ```
    ///
    /// ## Fix
    /// Sets `authorization_type = "AWS_IAM"`, so callers must sign requests with SigV4. For
    /// public webhooks that cannot sign, put API Gateway or CloudFront with a WAF in front, or
    /// verify the sender's signature in the function and record an exception.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Control access to Lambda function URLs](https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html)
    /// - Checkov `CKV_AWS_258`
    pub(crate) static LAMBDA_FUNCTION_URL_UNAUTHENTICATED = RuleMeta {
        id: "WD-AWS-016",
        name: "lambda-function-url-unauthenticated",
        title: "Lambda function URL accepts unauthenticated requests",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_lambda_function_url"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_258"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let attribute = "authorization_type";
    match resource.attr(attribute) {
        Attr::Known(v) if v.as_str().is_some_and(|t| t.eq_ignore_ascii_case("NONE")) => {
            let function = resource
                .after_str("function_name")
                .map_or_else(String::new, |f| format!(" of `{f}`"));
            out.violation(resource, format!("function URL{function} has `authorization_type = \"NONE\"`, so anyone can invoke it"))
                .at(attribute)
                .fix(Fix::set("require IAM (SigV4) authorization", attribute, "AWS_IAM"));
        }
        Attr::Unknown => out.unknown(resource, attribute),
        _ => {}
    }
}
