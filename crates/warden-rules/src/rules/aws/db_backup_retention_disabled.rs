use super::planned::{planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// RDS DB instances (`aws_db_instance`) and clusters (`aws_rds_cluster`) with automated
    /// backups turned off: `backup_retention_period = 0`.
    ///
    /// Leaving `backup_retention_period` unset passes: the RDS API then keeps automated
    /// backups for 1 day (the provider leaves the value to the API for DB instances, and
    /// defaults it to 1 for clusters). Read replicas (`replicate_source_db`) are skipped:
    /// their retention defaults to 0 and backups are taken on the source.
    ///
    /// ## Why it matters
    /// With a retention of 0, RDS takes no automated backups and keeps no transaction logs, so
    /// there is no point-in-time recovery: a bad migration, a `DELETE` without `WHERE` or
    /// ransomware is recoverable only from whatever manual snapshot happens to exist. Turning
    /// backups on or off later also causes an outage of the instance.
    ///
    /// ## Example
    /// ```yaml
    /// aws_db_instance.app: { action: create, after: { engine: postgres, instance_class: db.t4g.micro, backup_retention_period: 0 } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_db_instance.app: { action: create, after: { engine: postgres, instance_class: db.t4g.micro, backup_retention_period: 7 } }
    /// ```
    ///
    /// ## Fix
    /// Sets `backup_retention_period = 7` (up to 35 days). On an existing instance, enabling
    /// backups causes a brief outage unless `apply_immediately` is false, in which case it
    /// happens in the next maintenance window.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Backup retention period](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.BackupRetention.html)
    /// - Checkov `CKV_AWS_133`; Trivy `AVD-AWS-0077`
    pub(crate) static DB_BACKUP_RETENTION_DISABLED = RuleMeta {
        id: "WD-AWS-036",
        name: "db-backup-retention-disabled",
        title: "RDS automated backups are turned off",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_db_instance", "aws_rds_cluster"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_133", "AVD-AWS-0077"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The retention the fix sets, in days.
const FIX_DAYS: i64 = 7;

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.kind == "aws_db_instance" {
        match planned(resource, cx, "replicate_source_db") {
            Planned::Set(v) if v.as_str().is_some_and(|s| !s.is_empty()) => return,
            Planned::Unknown => return,
            _ => {}
        }
    }
    match planned(resource, cx, "backup_retention_period") {
        Planned::Set(v) if v.as_i64() == Some(0) => {
            let what = if resource.kind == "aws_rds_cluster" {
                "DB cluster"
            } else {
                "DB instance"
            };
            out.violation(resource, format!("the {what} takes no automated backups and has no point-in-time recovery: `backup_retention_period` is 0"))
                .at("backup_retention_period")
                .fix(Fix::set(format!("set `backup_retention_period = {FIX_DAYS}`"), "backup_retention_period", FIX_DAYS));
        }
        Planned::Unknown => out.unknown(resource, "backup_retention_period"),
        Planned::Set(_) | Planned::Default => {}
    }
}
