use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// SNS topics (`aws_sns_topic`) without server-side encryption: no `kms_master_key_id`.
    /// SNS does not encrypt topics unless given a KMS key. A key known only after apply (a
    /// reference to a key created in the same plan) counts as set.
    ///
    /// ## Why it matters
    /// Without server-side encryption, messages waiting for delivery are stored in clear on
    /// the SNS side. Notifications routinely carry alarms with resource details, order events
    /// and personal data.
    ///
    /// ## Example
    /// ```yaml
    /// aws_sns_topic.alerts: { action: create, after: { name: alerts } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_sns_topic.alerts: { action: create, after: { name: alerts, kms_master_key_id: alias/aws/sns } }
    /// ```
    ///
    /// ## Fix
    /// Sets `kms_master_key_id = "alias/aws/sns"`, the AWS managed key. Its key policy cannot be
    /// changed, so topics that AWS services publish to (CloudWatch alarms, S3 and EventBridge
    /// notifications) or that other accounts use need a customer managed key whose policy
    /// allows those publishers instead.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Encryption at rest for Amazon SNS](https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html)
    /// - Checkov `CKV_AWS_26`; Trivy `AVD-AWS-0095`
    pub(crate) static SNS_TOPIC_UNENCRYPTED = RuleMeta {
        id: "WD-AWS-024",
        name: "sns-topic-unencrypted",
        title: "SNS topic is not encrypted at rest",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_sns_topic"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_26", "AVD-AWS-0095"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The AWS managed key for SNS.
const AWS_MANAGED_KEY: &str = "alias/aws/sns";

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let found = match resource.attr("kms_master_key_id") {
        Attr::Known(v) if v.as_str() == Some("") => "`kms_master_key_id` is empty",
        Attr::Known(_) | Attr::Unknown => return,
        Attr::Absent => "no `kms_master_key_id` is set",
    };
    out.violation(resource, format!("topic messages are stored unencrypted: {found}"))
        .at("kms_master_key_id")
        .fix(Fix::set(
            format!("set `kms_master_key_id = \"{AWS_MANAGED_KEY}\"` (or a customer managed key that AWS service publishers may use)"),
            "kms_master_key_id",
            AWS_MANAGED_KEY,
        ));
}
