use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// CloudTrail trails (`aws_cloudtrail`) without log file integrity validation:
    /// `enable_log_file_validation` is `false` or not set (the default is `false`).
    ///
    /// ## Why it matters
    /// With validation on, CloudTrail delivers a signed digest file every hour, so you can
    /// prove that no log file was modified, deleted or forged after delivery. Without it, an
    /// attacker who can write to the log bucket can edit their tracks out of the audit trail
    /// undetected, and the logs lose much of their value as evidence.
    ///
    /// ## Example
    /// ```yaml
    /// aws_cloudtrail.main: { action: create, after: { name: main, s3_bucket_name: audit-logs, enable_log_file_validation: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_cloudtrail.main: { action: create, after: { name: main, s3_bucket_name: audit-logs, enable_log_file_validation: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `enable_log_file_validation = true`. It applies in place; validate with
    /// `aws cloudtrail validate-logs`.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Validating CloudTrail log file integrity](https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html)
    /// - Checkov `CKV_AWS_36`; Trivy `AVD-AWS-0016`
    pub(crate) static CLOUDTRAIL_LOG_VALIDATION_DISABLED = RuleMeta {
        id: "WD-AWS-033",
        name: "cloudtrail-log-validation-disabled",
        title: "CloudTrail log file integrity validation is off",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_cloudtrail"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_36", "AVD-AWS-0016"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let found = match resource.attr("enable_log_file_validation") {
        Attr::Known(v) => match v.as_bool() {
            Some(false) => "`enable_log_file_validation` is false",
            _ => return,
        },
        Attr::Unknown => return out.unknown(resource, "enable_log_file_validation"),
        Attr::Absent => "`enable_log_file_validation` is not set (defaults to false)",
    };
    out.violation(
        resource,
        format!("tampering with delivered log files cannot be detected: {found}"),
    )
    .at("enable_log_file_validation")
    .fix(Fix::set(
        "set `enable_log_file_validation = true`",
        "enable_log_file_validation",
        true,
    ));
}
