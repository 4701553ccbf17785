use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// CloudTrail trails (`aws_cloudtrail`) that record only the region they are created in:
    /// `is_multi_region_trail` is `false` or not set (the default is `false`).
    ///
    /// ## Why it matters
    /// An attacker with stolen credentials often works in a region nobody watches: launching
    /// crypto-mining instances or exfiltrating data in `ap-southeast-3` leaves no trace in a
    /// trail that records only `eu-west-1`. A multi-region trail also records global service
    /// events (IAM, STS, CloudFront) once, wherever they happen, and covers regions enabled
    /// later.
    ///
    /// ## Example
    /// ```yaml
    /// aws_cloudtrail.main: { action: create, after: { name: main, s3_bucket_name: audit-logs, is_multi_region_trail: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_cloudtrail.main: { action: create, after: { name: main, s3_bucket_name: audit-logs, is_multi_region_trail: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `is_multi_region_trail = true`. It applies in place; the trail's bucket then
    /// receives logs from every region (no bucket policy change is needed).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Working with CloudTrail trails (multi-region)](https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-concepts.html#cloudtrail-concepts-regional-and-global-services)
    /// - Checkov `CKV_AWS_67`; Trivy `AVD-AWS-0014`
    pub(crate) static CLOUDTRAIL_SINGLE_REGION = RuleMeta {
        id: "WD-AWS-032",
        name: "cloudtrail-single-region",
        title: "CloudTrail trail records a single region",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_cloudtrail"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_67", "AVD-AWS-0014"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let found = match resource.attr("is_multi_region_trail") {
        Attr::Known(v) => match v.as_bool() {
            Some(false) => "`is_multi_region_trail` is false",
            _ => return,
        },
        Attr::Unknown => return out.unknown(resource, "is_multi_region_trail"),
        Attr::Absent => "`is_multi_region_trail` is not set (defaults to false)",
    };
    out.violation(
        resource,
        format!("the trail records API activity in one region only: {found}"),
    )
    .at("is_multi_region_trail")
    .fix(Fix::set(
        "set `is_multi_region_trail = true`",
        "is_multi_region_trail",
        true,
    ));
}
