use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Configurations that adopt the region's default VPC (`aws_default_vpc`), whatever the
    /// change (creating the resource only adopts the existing VPC, or creates a new default
    /// VPC when none exists).
    ///
    /// ## Why it matters
    /// The default VPC is built for quick starts, not for workloads: every subnet is public
    /// and gives instances public IP addresses, there is an internet gateway on the main route
    /// table, and its address range is the same `172.31.0.0/16` in every account and region,
    /// which collides the moment you peer or connect networks. Managing it in Terraform
    /// usually means something is about to be deployed into it. Build a VPC with private
    /// subnets instead, and delete the default one.
    ///
    /// ## Example
    /// ```yaml
    /// aws_default_vpc.default: { action: create, after: { enable_dns_hostnames: true } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_vpc.main: { action: create, after: { cidr_block: 10.20.0.0/16 } }
    /// ```
    ///
    /// ## Fix
    /// No automatic fix. Create an `aws_vpc` with private subnets for your workloads. To get
    /// rid of the default VPC, set `force_destroy = true` on the `aws_default_vpc` and destroy
    /// it (record an exception for that change), or delete it in the console.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Default VPCs](https://docs.aws.amazon.com/vpc/latest/userguide/default-vpc.html)
    /// - [Terraform: aws_default_vpc](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/default_vpc)
    /// - Trivy `AVD-AWS-0101`
    pub(crate) static DEFAULT_VPC_MANAGED = RuleMeta {
        id: "WD-AWS-038",
        name: "default-vpc-managed",
        title: "Configuration manages the default VPC",
        severity: Severity::Low,
        enforcement: Enforcement::Warn,
        kinds: &["aws_default_vpc"],
        fix: FixAvailability::None,
        params: &[],
        aliases: &["AVD-AWS-0101"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let range = resource
        .after_str("cidr_block")
        .map_or_else(String::new, |c| format!(" (`{c}`)"));
    out.violation(
        resource,
        format!(
            "the default VPC{range} is managed here; run workloads in a purpose-built VPC instead"
        ),
    );
}
