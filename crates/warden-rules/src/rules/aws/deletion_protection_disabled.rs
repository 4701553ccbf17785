use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Stateful or traffic-critical resources that can be deleted with a single API call:
    /// - RDS DB instances and clusters (`aws_db_instance`, `aws_rds_cluster`) whose
    ///   `deletion_protection` is `false` or not set;
    /// - load balancers (`aws_lb`, `aws_alb`) whose `enable_deletion_protection` is `false` or
    ///   not set.
    ///
    /// Both default to `false`.
    ///
    /// ## Why it matters
    /// Deletion protection makes AWS refuse to delete the resource until the flag is turned
    /// off first. A mistaken `terraform destroy`, a renamed resource that Terraform plans to
    /// replace, a cleanup script or an agent working in the wrong workspace then fails instead
    /// of taking the production database or the public entry point down.
    ///
    /// ## Example
    /// ```yaml
    /// aws_db_instance.app: { action: create, after: { engine: postgres, instance_class: db.t4g.micro, deletion_protection: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_db_instance.app: { action: create, after: { engine: postgres, instance_class: db.t4g.micro, deletion_protection: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `deletion_protection = true` (`enable_deletion_protection = true` on load
    /// balancers). It applies in place. Deleting the resource later takes two applies: one
    /// to turn protection off, one to delete.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Deletion protection for RDS DB instances](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html#USER_DeletionProtection)
    /// - [AWS: Application Load Balancer deletion protection](https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#deletion-protection)
    /// - Checkov `CKV_AWS_293`, `CKV_AWS_139`, `CKV_AWS_150`; Trivy `AVD-AWS-0177`
    pub(crate) static DELETION_PROTECTION_DISABLED = RuleMeta {
        id: "WD-AWS-035",
        name: "deletion-protection-disabled",
        title: "Database or load balancer has deletion protection off",
        severity: Severity::Low,
        enforcement: Enforcement::Warn,
        kinds: &["aws_db_instance", "aws_rds_cluster", "aws_lb", "aws_alb"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_293", "CKV_AWS_139", "CKV_AWS_150", "AVD-AWS-0177"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let (attribute, what) = match resource.kind.as_str() {
        "aws_lb" | "aws_alb" => ("enable_deletion_protection", "load balancer"),
        "aws_rds_cluster" => ("deletion_protection", "DB cluster"),
        _ => ("deletion_protection", "DB instance"),
    };
    let found = match resource.attr(attribute) {
        Attr::Known(v) => match v.as_bool() {
            Some(false) => format!("`{attribute}` is false"),
            _ => return,
        },
        Attr::Unknown => return out.unknown(resource, attribute),
        Attr::Absent => format!("`{attribute}` is not set (defaults to false)"),
    };
    out.violation(
        resource,
        format!("the {what} can be deleted by a single API call: {found}"),
    )
    .at(attribute)
    .fix(Fix::set(
        format!("set `{attribute} = true`"),
        attribute,
        true,
    ));
}
