use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Redshift clusters (`aws_redshift_cluster`) with `publicly_accessible = true`.
    ///
    /// The provider's default changed: `true` up to v5, `false` from v6. A Terraform plan
    /// writes the default into the planned value, so a v5 cluster that leaves the argument out
    /// shows `true` in the plan and is reported; an input without the attribute at all is not
    /// guessed at.
    ///
    /// ## Why it matters
    /// A publicly accessible cluster gets a public IP address and an endpoint that resolves to
    /// it, so the warehouse, usually the largest concentration of business data in the
    /// account, is one security group rule away from the internet.
    ///
    /// ## Example
    /// ```yaml
    /// aws_redshift_cluster.dw: { after: { cluster_identifier: dw, node_type: ra3.xlplus, publicly_accessible: true } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_redshift_cluster.dw: { after: { cluster_identifier: dw, node_type: ra3.xlplus, publicly_accessible: false } }
    /// ```
    ///
    /// ## Fix
    /// Sets `publicly_accessible = false`. Connect from inside the VPC, or share data with
    /// Redshift data sharing or a Redshift-managed VPC endpoint.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Redshift cluster public accessibility](https://docs.aws.amazon.com/redshift/latest/mgmt/managing-clusters-vpc.html)
    /// - [Terraform AWS provider v6 upgrade guide: `aws_redshift_cluster`](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/guides/version-6-upgrade#resource-aws_redshift_cluster)
    /// - Checkov `CKV_AWS_87`
    pub(crate) static REDSHIFT_CLUSTER_PUBLICLY_ACCESSIBLE = RuleMeta {
        id: "WD-AWS-010",
        name: "redshift-cluster-publicly-accessible",
        title: "Redshift cluster is publicly accessible",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_redshift_cluster"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_87"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.attr("publicly_accessible") {
        Attr::Known(v) if v.as_bool() == Some(true) => {
            out.violation(
                resource,
                "cluster is `publicly_accessible = true`, giving it a public endpoint",
            )
            .at("publicly_accessible")
            .fix(Fix::set(
                "make the cluster private",
                "publicly_accessible",
                false,
            ));
        }
        Attr::Unknown => out.unknown(resource, "publicly_accessible"),
        _ => {}
    }
}
