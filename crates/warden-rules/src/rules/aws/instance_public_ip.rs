use super::planned::left_to_provider;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// EC2 instances that ask for a public IPv4 address: `aws_instance` with
    /// `associate_public_ip_address = true`, `aws_launch_template` with a
    /// `network_interfaces` block that sets `associate_public_ip_address = true`, and
    /// `aws_launch_configuration` with `associate_public_ip_address = true`. An unset argument
    /// is not reported: the subnet's `map_public_ip_on_launch` then decides, and
    /// `subnet-maps-public-ip-on-launch` checks that.
    ///
    /// ## Why it matters
    /// A public address makes the instance reachable from the internet on every port its
    /// security groups allow, now or after the next rule change, and bypasses the NAT and
    /// load balancer layers that normally sit in front of workloads. Most instances need only
    /// outbound access, which a NAT gateway provides without exposing them.
    ///
    /// ## Example
    /// ```yaml
    /// aws_instance.web: { after: { ami: ami-0abcdef1234567890, instance_type: t3.micro, associate_public_ip_address: true } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_instance.web: { after: { ami: ami-0abcdef1234567890, instance_type: t3.micro, associate_public_ip_address: false } }
    /// ```
    ///
    /// ## Fix
    /// Sets `associate_public_ip_address = false`. Put the instance behind a load balancer,
    /// give it outbound access through a NAT gateway, and administer it with Session Manager.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Amazon EC2 instance IP addressing](https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-instance-addressing.html#concepts-public-addresses)
    /// - Checkov `CKV_AWS_88`; Trivy `AVD-AWS-0009`
    pub(crate) static INSTANCE_PUBLIC_IP = RuleMeta {
        id: "WD-AWS-011",
        name: "instance-public-ip",
        title: "EC2 instance gets a public IP address",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &["aws_instance", "aws_launch_template", "aws_launch_configuration"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_88", "AVD-AWS-0009"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.kind == "aws_launch_template" {
        check_template(resource, cx, out);
        return;
    }
    let attribute = "associate_public_ip_address";
    match resource.attr(attribute) {
        Attr::Known(v) if v.as_bool() == Some(true) => {
            let what = if resource.kind == "aws_instance" {
                "instance"
            } else {
                "launch configuration"
            };
            out.violation(
                resource,
                format!("{what} sets `associate_public_ip_address = true`"),
            )
            .at(attribute)
            .fix(Fix::set(
                "do not associate a public IP address",
                attribute,
                false,
            ));
        }
        // Computed: unknown whenever the configuration leaves it to the subnet.
        Attr::Unknown if !left_to_provider(resource, cx, attribute) => {
            out.unknown(resource, attribute)
        }
        _ => {}
    }
}

fn check_template(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.is_unknown("network_interfaces")
        && resource.after.get("network_interfaces").is_none()
    {
        out.unknown(resource, "network_interfaces");
        return;
    }
    for i in 0..resource.after.field("network_interfaces").items().len() {
        let attribute = format!("network_interfaces.{i}.associate_public_ip_address");
        match resource.attr(&attribute) {
            // A string attribute in the schema: `"true"` reads as `true`.
            Attr::Known(v) if v.as_bool() == Some(true) => {
                out.violation(resource, format!("launch template network interface {i} sets `associate_public_ip_address = true`"))
                    .at(&attribute)
                    .fix(Fix::set("do not associate a public IP address", &attribute, "false"));
            }
            Attr::Unknown
                if !left_to_provider(
                    resource,
                    cx,
                    "network_interfaces.associate_public_ip_address",
                ) =>
            {
                out.unknown(resource, &attribute);
            }
            _ => {}
        }
    }
}
