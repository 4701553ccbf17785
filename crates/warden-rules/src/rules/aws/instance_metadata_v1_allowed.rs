use super::planned::{planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// EC2 instances (`aws_instance`), launch templates (`aws_launch_template`) and launch
    /// configurations (`aws_launch_configuration`) that still answer IMDSv1 requests:
    /// `metadata_options.http_tokens` is not `"required"`. A missing `metadata_options` block
    /// or `http_tokens` means `"optional"` (IMDSv1 allowed), unless the AMI or the account's
    /// defaults say otherwise, which the plan cannot show. Resources with
    /// `http_endpoint = "disabled"` pass: the metadata service is off. An instance launched
    /// from a launch template without `metadata_options` of its own is judged on the template.
    ///
    /// ## Why it matters
    /// IMDSv1 answers plain GET requests, so a server-side request forgery (SSRF) bug or a
    /// misconfigured proxy in any application on the instance lets an attacker read the
    /// instance role's credentials, as in the 2019 Capital One breach. IMDSv2 requires a
    /// session token obtained with a PUT request, which such bugs cannot send.
    ///
    /// ## Example
    /// ```yaml
    /// aws_instance.web: { action: create, after: { ami: ami-0abc, instance_type: t3.micro, metadata_options: [{ http_endpoint: enabled, http_tokens: optional }] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_instance.web: { action: create, after: { ami: ami-0abc, instance_type: t3.micro, metadata_options: [{ http_endpoint: enabled, http_tokens: required }] } }
    /// ```
    ///
    /// ## Fix
    /// Sets `metadata_options.http_tokens = "required"`. It applies in place, but check first
    /// that the software on the instance uses IMDSv2 (current AWS SDKs and CLI do; the
    /// `MetadataNoToken` CloudWatch metric shows remaining IMDSv1 calls). Containers reaching
    /// the metadata service may also need `http_put_response_hop_limit = 2`.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Use IMDSv2](https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html)
    /// - Checkov `CKV_AWS_79`; Trivy `AVD-AWS-0028`, `AVD-AWS-0130`
    pub(crate) static INSTANCE_METADATA_V1_ALLOWED = RuleMeta {
        id: "WD-AWS-031",
        name: "instance-metadata-v1-allowed",
        title: "EC2 instance metadata service allows IMDSv1",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_instance", "aws_launch_template", "aws_launch_configuration"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_79", "AVD-AWS-0028", "AVD-AWS-0130"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const TOKENS: &str = "metadata_options.0.http_tokens";
const ENDPOINT: &str = "metadata_options.0.http_endpoint";

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.after.get("metadata_options").is_none()
        && planned(resource, cx, "metadata_options") == Planned::Unknown
    {
        return out.unknown(resource, "metadata_options");
    }
    let endpoint = planned(resource, cx, ENDPOINT);
    if let Planned::Set(v) = endpoint {
        if v.as_str() == Some("disabled") {
            return;
        }
    }
    let found = match planned(resource, cx, TOKENS) {
        Planned::Set(v) => match v.as_str() {
            Some("required") => return,
            Some("") | None => "`http_tokens` is not set (defaults to \"optional\")".to_owned(),
            Some(other) => format!("`http_tokens` is \"{other}\""),
        },
        Planned::Unknown => return out.unknown(resource, TOKENS),
        Planned::Default => {
            if resource.after.field("metadata_options").items().is_empty() {
                // An instance launched from a launch template takes the template's metadata
                // options, which this rule checks on the template.
                if !resource.after.field("launch_template").items().is_empty() {
                    return;
                }
                "no `metadata_options` block (`http_tokens` defaults to \"optional\")".to_owned()
            } else {
                "`http_tokens` is not set (defaults to \"optional\")".to_owned()
            }
        }
    };
    if endpoint == Planned::Unknown {
        return out.unknown(resource, ENDPOINT);
    }
    out.violation(resource, format!("the instance metadata service accepts IMDSv1 requests without a session token: {found}"))
        .at(TOKENS)
        .fix(Fix::set("set `metadata_options.http_tokens = \"required\"` (IMDSv2 only)", TOKENS, "required"));
}
