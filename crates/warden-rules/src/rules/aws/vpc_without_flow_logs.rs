use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// New VPCs (`aws_vpc` being created or replaced) that no `aws_flow_log` in the plan points
    /// at through its `vpc_id` (a reference to the VPC in the configuration, or a known value
    /// equal to the VPC's `id`).
    ///
    /// ## Why it matters
    /// Flow logs are the record of which addresses talked to which, on what port, and whether
    /// security groups and network ACLs let them. Without them there is no way to investigate
    /// an intrusion or data exfiltration after the fact, and no baseline to spot a compromised
    /// instance calling out. They cannot be turned on retroactively for traffic that has
    /// already happened.
    ///
    /// ## Example
    /// ```yaml
    /// aws_vpc.main: { action: create, after: { cidr_block: 10.20.0.0/16 } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// resources:
    ///   aws_vpc.main: { action: create, after: { cidr_block: 10.20.0.0/16 } }
    ///   aws_flow_log.main: { action: create, after: { traffic_type: ALL, log_destination_type: s3 }, after_unknown: { vpc_id: true } }
    /// config:
    ///   aws_flow_log.main: { references: { vpc_id: ["aws_vpc.main.id", "aws_vpc.main"] } }
    /// ```
    ///
    /// ## Fix
    /// Suggests an `aws_flow_log` capturing all traffic of the VPC into an S3 bucket (point
    /// `log_destination` at your log bucket's ARN; a CloudWatch Logs destination needs an IAM
    /// role as well).
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Logging IP traffic using VPC Flow Logs](https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html)
    /// - Checkov `CKV2_AWS_11`; Trivy `AVD-AWS-0178`
    pub(crate) static VPC_WITHOUT_FLOW_LOGS = RuleMeta {
        id: "WD-AWS-039",
        name: "vpc-without-flow-logs",
        title: "New VPC has no flow log",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_vpc"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV2_AWS_11", "AVD-AWS-0178"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let Some(target) = super::companion::missing(resource, cx, "aws_flow_log", "vpc_id", &["id"])
    else {
        return;
    };
    let snippet = format!(
        "resource \"aws_flow_log\" \"{name}\" {{\n{iteration}  vpc_id               = {vpc}.id\n  traffic_type         = \"ALL\"\n  log_destination_type = \"s3\"\n  log_destination      = aws_s3_bucket.flow_logs.arn # your log bucket\n}}\n",
        name = resource.name,
        iteration = target.iteration,
        vpc = target.instance,
    );
    let range = helpers::label(resource, "cidr_block");
    out.violation(
        resource,
        format!("new VPC{range} has no `aws_flow_log` recording its traffic"),
    )
    .fix(Fix::snippet("add an `aws_flow_log` for this VPC", snippet));
}
