use super::planned::left_to_provider;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Default security groups (`aws_default_security_group`) configured with any `ingress` or
    /// `egress` rule. Left without rules in the configuration, Terraform strips every rule
    /// from the default group, which is the desired state.
    ///
    /// ## Why it matters
    /// Every network interface created in a VPC without an explicit security group lands in
    /// the default group. Out of the box the group lets all its members talk to each other and
    /// reach anywhere outbound, so an instance or endpoint launched carelessly inherits that
    /// access silently. An empty default group makes "no security group chosen" mean "no
    /// traffic", and forces each workload to declare what it needs.
    ///
    /// ## Example
    /// ```yaml
    /// aws_default_security_group.default:
    ///   after:
    ///     vpc_id: vpc-0123456789abcdef0
    ///     ingress: [{ protocol: "-1", self: true, from_port: 0, to_port: 0 }]
    ///     egress: [{ protocol: "-1", from_port: 0, to_port: 0, cidr_blocks: ["0.0.0.0/0"] }]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_default_security_group.default: { after: { vpc_id: vpc-0123456789abcdef0, ingress: [], egress: [] } }
    /// ```
    ///
    /// ## Fix
    /// Sets `ingress = []` and `egress = []`. Give the workloads that relied on the default
    /// group their own security groups first.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Default security groups for your VPCs](https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html)
    /// - [Terraform: aws_default_security_group](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/default_security_group)
    /// - Checkov `CKV2_AWS_12`; Trivy `AVD-AWS-0173`
    pub(crate) static DEFAULT_SECURITY_GROUP_WITH_RULES = RuleMeta {
        id: "WD-AWS-040",
        name: "default-security-group-with-rules",
        title: "Default security group allows traffic",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_default_security_group"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV2_AWS_12", "AVD-AWS-0173"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let mut counts = Vec::new();
    let mut unknown = None;
    for direction in ["ingress", "egress"] {
        match resource.attr(direction) {
            Attr::Known(v) if !v.items().is_empty() => counts.push((direction, v.items().len())),
            // Computed: unknown when the configuration leaves the rules out, and Terraform
            // then removes them all.
            Attr::Unknown if !left_to_provider(resource, cx, direction) => {
                unknown.get_or_insert(direction);
            }
            _ => {}
        }
    }
    let Some(&(first, _)) = counts.first() else {
        if let Some(direction) = unknown {
            out.unknown(resource, direction);
        }
        return;
    };
    let found = counts
        .iter()
        .map(|(direction, n)| format!("{n} {direction} rule{}", if *n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(" and ");
    out.violation(resource, format!("default security group has {found}"))
        .at(first)
        .fix(
            Fix::set(
                "remove every rule from the default security group",
                "ingress",
                Value::from(Vec::<Value>::new()),
            )
            .and_set("egress", Value::from(Vec::<Value>::new())),
        );
}
