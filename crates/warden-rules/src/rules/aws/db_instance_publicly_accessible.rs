use super::planned::left_to_provider;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// RDS database instances (`aws_db_instance`) and Aurora cluster instances
    /// (`aws_rds_cluster_instance`) with `publicly_accessible = true`. Unset is `false`: the
    /// provider's default for `aws_db_instance`, and what it sends for an
    /// `aws_rds_cluster_instance` that leaves the argument out.
    ///
    /// ## Why it matters
    /// A publicly accessible instance gets a DNS name that resolves to a public IP address, so
    /// the database listener is one security group rule away from the internet. Databases
    /// exposed this way are found by scanners within hours and attacked with credential
    /// stuffing and engine exploits; the data they hold is usually the most sensitive in the
    /// account.
    ///
    /// ## Example
    /// ```yaml
    /// aws_db_instance.main: { after: { engine: postgres, instance_class: db.t3.micro, publicly_accessible: true } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_db_instance.main: { after: { engine: postgres, instance_class: db.t3.micro, publicly_accessible: false } }
    /// ```
    ///
    /// ## Fix
    /// Sets `publicly_accessible = false`. Reach the database from inside the VPC, through a
    /// VPN, or with Session Manager port forwarding through a bastion instance.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Hiding a DB instance in a VPC from the internet](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Hiding)
    /// - Checkov `CKV_AWS_17`; Trivy `AVD-AWS-0180`
    pub(crate) static DB_INSTANCE_PUBLICLY_ACCESSIBLE = RuleMeta {
        id: "WD-AWS-009",
        name: "db-instance-publicly-accessible",
        title: "RDS instance is publicly accessible",
        severity: Severity::Critical,
        enforcement: Enforcement::Deny,
        kinds: &["aws_db_instance", "aws_rds_cluster_instance"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_17", "AVD-AWS-0180"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.attr("publicly_accessible") {
        Attr::Known(v) if v.as_bool() == Some(true) => {
            let what = if resource.kind == "aws_rds_cluster_instance" {
                "cluster instance"
            } else {
                "database instance"
            };
            out.violation(
                resource,
                format!("{what} sets `publicly_accessible = true`, giving it a public endpoint"),
            )
            .at("publicly_accessible")
            .fix(Fix::set(
                "make the instance private",
                "publicly_accessible",
                false,
            ));
        }
        // Computed on `aws_rds_cluster_instance`: unknown whenever the configuration leaves it
        // out, and then the provider sends `false`.
        Attr::Unknown if !left_to_provider(resource, cx, "publicly_accessible") => {
            out.unknown(resource, "publicly_accessible");
        }
        _ => {}
    }
}
