use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Subnets (`aws_subnet`) with `map_public_ip_on_launch = true`, which gives every
    /// instance launched in them a public IPv4 address unless the instance opts out. Unset is
    /// `false`, the provider's default.
    ///
    /// ## Why it matters
    /// The setting turns exposure into the default: every instance, container host or
    /// function network interface placed in the subnet becomes reachable from the internet on
    /// whatever its security groups allow, including workloads whose authors never asked for a
    /// public address. Public subnets usually need to hold only load balancers and NAT
    /// gateways, which get their addresses explicitly.
    ///
    /// ## Example
    /// ```yaml
    /// aws_subnet.public: { after: { cidr_block: 10.0.1.0/24, map_public_ip_on_launch: true } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_subnet.public: { after: { cidr_block: 10.0.1.0/24, map_public_ip_on_launch: false } }
    /// ```
    ///
    /// ## Fix
    /// Sets `map_public_ip_on_launch = false`. Instances that really need a public address can
    /// ask for one with `associate_public_ip_address`, or use an Elastic IP.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Modify the public IPv4 addressing attribute for your subnet](https://docs.aws.amazon.com/vpc/latest/userguide/subnet-public-ip.html)
    /// - Checkov `CKV_AWS_130`; Trivy `AVD-AWS-0164`
    pub(crate) static SUBNET_MAPS_PUBLIC_IP_ON_LAUNCH = RuleMeta {
        id: "WD-AWS-012",
        name: "subnet-maps-public-ip-on-launch",
        title: "Subnet assigns public IP addresses to instances by default",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &["aws_subnet"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_130", "AVD-AWS-0164"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let attribute = "map_public_ip_on_launch";
    match resource.attr(attribute) {
        Attr::Known(v) if v.as_bool() == Some(true) => {
            let label = helpers::label(resource, "cidr_block");
            out.violation(
                resource,
                format!("subnet{label} gives every instance launched in it a public IP address"),
            )
            .at(attribute)
            .fix(Fix::set(
                "stop assigning public IP addresses by default",
                attribute,
                false,
            ));
        }
        Attr::Unknown => out.unknown(resource, attribute),
        _ => {}
    }
}
