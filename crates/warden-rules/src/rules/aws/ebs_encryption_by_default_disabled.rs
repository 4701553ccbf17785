use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// `aws_ebs_encryption_by_default` resources with `enabled = false`, which turn off the
    /// account-and-region setting that makes AWS encrypt every new EBS volume and snapshot
    /// copy. (`enabled` defaults to `true`, so a resource that leaves it out passes.)
    ///
    /// ## Why it matters
    /// With encryption by default on, no volume can be created unencrypted, whatever a
    /// template, an autoscaling group or a console user asks for. Turning it off silently
    /// removes that safety net for the whole region of the account.
    ///
    /// ## Example
    /// ```yaml
    /// aws_ebs_encryption_by_default.this: { action: update, after: { enabled: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_ebs_encryption_by_default.this: { action: update, after: { enabled: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `enabled = true`. Pair it with `aws_ebs_default_kms_key` to use a customer managed
    /// key instead of `aws/ebs`.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Enable Amazon EBS encryption by default](https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html)
    /// - Checkov `CKV_AWS_106`
    pub(crate) static EBS_ENCRYPTION_BY_DEFAULT_DISABLED = RuleMeta {
        id: "WD-AWS-021",
        name: "ebs-encryption-by-default-disabled",
        title: "EBS encryption by default is turned off",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_ebs_encryption_by_default"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_106"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.attr("enabled") {
        Attr::Known(v) if v.as_bool() == Some(false) => {
            out.violation(resource, "EBS encryption by default is turned off for this account and region: `enabled` is false")
                .at("enabled")
                .fix(Fix::set("set `enabled = true`", "enabled", true));
        }
        Attr::Unknown => out.unknown(resource, "enabled"),
        _ => {}
    }
}
