use super::planned::left_to_provider;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// S3 versioning turned off: an `aws_s3_bucket_versioning` whose
    /// `versioning_configuration.status` is not `Enabled` (`Suspended` or `Disabled`), and the
    /// legacy inline `aws_s3_bucket.versioning` block with `enabled = false`. The inline block
    /// is skipped when an `aws_s3_bucket_versioning` manages the bucket, since it then mirrors
    /// that resource.
    ///
    /// ## Why it matters
    /// Without versioning an overwrite or a delete is final: a buggy job, a compromised
    /// credential or ransomware that rewrites objects destroys the data with no way back.
    /// Versioning keeps every previous version, is a prerequisite for replication and Object
    /// Lock, and its storage cost can be bounded with a noncurrent-version lifecycle rule.
    ///
    /// ## Example
    /// ```yaml
    /// aws_s3_bucket_versioning.data:
    ///   after: { bucket: data, versioning_configuration: [{ status: Suspended }] }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_s3_bucket_versioning.data:
    ///   after: { bucket: data, versioning_configuration: [{ status: Enabled }] }
    /// ```
    ///
    /// ## Fix
    /// Sets `versioning_configuration.status` to `Enabled` (or the legacy
    /// `versioning.enabled` to `true`). Add a lifecycle rule that expires noncurrent versions
    /// to keep storage costs in check.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Using versioning in S3 buckets](https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html)
    /// - Checkov `CKV_AWS_21`; Trivy `AVD-AWS-0090`
    pub(crate) static S3_BUCKET_VERSIONING_DISABLED = RuleMeta {
        id: "WD-AWS-006",
        name: "s3-bucket-versioning-disabled",
        title: "S3 bucket versioning is not enabled",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_s3_bucket_versioning", "aws_s3_bucket"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_21", "AVD-AWS-0090"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.kind == "aws_s3_bucket" {
        check_legacy(resource, cx, out);
        return;
    }
    let attribute = "versioning_configuration.0.status";
    let status = match resource.attr(attribute) {
        Attr::Known(v) => v.as_str().unwrap_or_default(),
        Attr::Unknown => {
            out.unknown(resource, attribute);
            return;
        }
        Attr::Absent => "",
    };
    if status != "Enabled" {
        let found = if status.is_empty() {
            "no status".to_owned()
        } else {
            format!("status `{status}`")
        };
        out.violation(
            resource,
            format!("versioning configuration has {found} instead of `Enabled`"),
        )
        .at(attribute)
        .fix(Fix::set(
            "set the versioning status to `Enabled`",
            attribute,
            "Enabled",
        ));
    }
}

fn check_legacy(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if !cx
        .referrers(
            resource,
            "aws_s3_bucket_versioning",
            "bucket",
            &["id", "bucket"],
        )
        .is_empty()
    {
        return;
    }
    let attribute = "versioning.0.enabled";
    match resource.attr(attribute) {
        Attr::Known(v) if v.as_bool() == Some(false) => {
            out.violation(
                resource,
                "bucket versioning is off (`versioning.enabled = false`)",
            )
            .at(attribute)
            .fix(Fix::set("enable versioning on the bucket", attribute, true));
        }
        // Computed since provider v4: unknown on every new bucket that leaves it out, which
        // is not an explicit "off"; only report a value the configuration really sets.
        Attr::Unknown if !left_to_provider(resource, cx, "versioning") => {
            out.unknown(resource, attribute)
        }
        _ => {}
    }
}
