use super::planned::{ebs_encrypted_by_default, planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// EBS volumes (`aws_ebs_volume`) that are not encrypted: `encrypted` is `false` or not set
    /// (AWS then creates an unencrypted volume unless the account has EBS encryption by
    /// default).
    ///
    /// The rule passes every volume when the plan keeps an `aws_ebs_encryption_by_default`
    /// enabled for the same provider configuration: AWS then encrypts all new volumes in that
    /// account and region. A volume created from a snapshot (`snapshot_id`) that leaves
    /// `encrypted` unset takes the snapshot's encryption, so it is not judged here.
    ///
    /// ## Why it matters
    /// An unencrypted volume, and every snapshot taken from it, can be read by anyone who gets
    /// access to a copy: a snapshot shared by mistake or made public exposes the data in
    /// clear. Encryption cannot be added to an existing volume; it has to be copied.
    ///
    /// ## Example
    /// ```yaml
    /// aws_ebs_volume.data: { action: create, after: { availability_zone: eu-west-1a, size: 100, encrypted: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_ebs_volume.data: { action: create, after: { availability_zone: eu-west-1a, size: 100, encrypted: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `encrypted = true` (the AWS managed key `aws/ebs`; set `kms_key_id` for a customer
    /// managed key). On an existing volume this forces replacement: snapshot it, copy the
    /// snapshot with encryption, and create the volume from the copy. Better still, enable
    /// `aws_ebs_encryption_by_default` in every account and region.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Amazon EBS encryption](https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html)
    /// - Checkov `CKV_AWS_3`; Trivy `AVD-AWS-0026`
    pub(crate) static EBS_VOLUME_UNENCRYPTED = RuleMeta {
        id: "WD-AWS-019",
        name: "ebs-volume-unencrypted",
        title: "EBS volume is not encrypted",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_ebs_volume"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_3", "AVD-AWS-0026"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let found = match planned(resource, cx, "encrypted") {
        Planned::Set(v) => match v.as_bool() {
            Some(false) => "`encrypted` is false",
            _ => return,
        },
        Planned::Unknown => {
            if !ebs_encrypted_by_default(resource, cx) {
                out.unknown(resource, "encrypted");
            }
            return;
        }
        Planned::Default => {
            if !matches!(planned(resource, cx, "snapshot_id"), Planned::Default)
                && resource.after_str("snapshot_id") != Some("")
            {
                return;
            }
            "`encrypted` is not set"
        }
    };
    if ebs_encrypted_by_default(resource, cx) {
        return;
    }
    out.violation(resource, format!("EBS volume is not encrypted: {found}"))
        .at("encrypted")
        .fix(Fix::set(
            "set `encrypted = true` (replaces an existing volume)",
            "encrypted",
            true,
        ));
}
