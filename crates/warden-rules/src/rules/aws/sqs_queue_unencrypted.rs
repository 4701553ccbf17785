use super::planned::{planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// SQS queues (`aws_sqs_queue`) with server-side encryption turned off: no
    /// `kms_master_key_id` and `sqs_managed_sse_enabled = false`.
    ///
    /// A queue that sets neither passes: since provider v4 and the 2022 SQS change, new
    /// queues get SSE-SQS (SQS managed keys) by default, and the provider leaves
    /// `sqs_managed_sse_enabled` to that default.
    ///
    /// ## Why it matters
    /// Messages often carry personal data, tokens and business events. Without server-side
    /// encryption they are stored in clear on SQS's side; turning encryption off explicitly is
    /// almost always a leftover from an old template or a debugging session.
    ///
    /// ## Example
    /// ```yaml
    /// aws_sqs_queue.jobs: { action: create, after: { name: jobs, sqs_managed_sse_enabled: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_sqs_queue.jobs: { action: create, after: { name: jobs, sqs_managed_sse_enabled: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `sqs_managed_sse_enabled = true`. Use `kms_master_key_id` with a customer managed
    /// key instead when you need to control who can decrypt, or when the queue receives
    /// messages from SNS or EventBridge across accounts.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Encryption at rest in Amazon SQS](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html)
    /// - Checkov `CKV_AWS_27`; Trivy `AVD-AWS-0096`
    pub(crate) static SQS_QUEUE_UNENCRYPTED = RuleMeta {
        id: "WD-AWS-023",
        name: "sqs-queue-unencrypted",
        title: "SQS queue has server-side encryption turned off",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_sqs_queue"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_27", "AVD-AWS-0096"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    // A KMS key, even one known only after apply, means SSE-KMS.
    match resource.attr("kms_master_key_id") {
        Attr::Known(v) if v.as_str().is_some_and(|k| !k.is_empty()) => return,
        Attr::Unknown => return,
        _ => {}
    }
    match planned(resource, cx, "sqs_managed_sse_enabled") {
        Planned::Set(v) if v.as_bool() == Some(false) => {
            out.violation(resource, "queue messages are stored unencrypted: `sqs_managed_sse_enabled` is false and no `kms_master_key_id` is set")
                .at("sqs_managed_sse_enabled")
                .fix(Fix::set("set `sqs_managed_sse_enabled = true`", "sqs_managed_sse_enabled", true));
        }
        Planned::Unknown => out.unknown(resource, "sqs_managed_sse_enabled"),
        Planned::Set(_) | Planned::Default => {}
    }
}
