use super::planned::{planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// RDS DB instances (`aws_db_instance`) and DB clusters (`aws_rds_cluster`) whose storage
    /// is not encrypted at rest: `storage_encrypted` is `false` or not set. Not setting it means
    /// unencrypted: the RDS API defaults to `false` for DB instances and for provisioned
    /// clusters.
    ///
    /// Exceptions, where encryption does not depend on `storage_encrypted`:
    /// - Aurora Serverless v1 clusters (`engine_mode = "serverless"`) are always encrypted.
    /// - Read replicas (`replicate_source_db`) inherit the encryption of their source, which
    ///   this rule checks on its own.
    /// - A cluster restored from a snapshot or replicating another cluster
    ///   (`snapshot_identifier`, `replication_source_identifier`) with a `kms_key_id` is
    ///   encrypted with that key. Without a key, its encryption follows the source, which the
    ///   plan cannot show: the rule asks for `storage_encrypted = true` to be stated, so that a
    ///   plan against an unencrypted source shows the difference.
    ///
    /// ## Why it matters
    /// Unencrypted database storage, its automated backups, snapshots and read replicas can be
    /// read by anyone who obtains a copy of a snapshot or the underlying volumes, and a shared
    /// unencrypted snapshot leaks the whole database. Encryption cannot be turned on later: an
    /// existing unencrypted database has to be copied into a new encrypted one.
    ///
    /// ## Example
    /// ```yaml
    /// aws_db_instance.app: { action: create, after: { engine: postgres, instance_class: db.t4g.micro, storage_encrypted: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_db_instance.app: { action: create, after: { engine: postgres, instance_class: db.t4g.micro, storage_encrypted: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `storage_encrypted = true` (the AWS managed key `aws/rds`; set `kms_key_id` for a
    /// customer managed key). On an existing database this forces replacement: take a
    /// snapshot, copy it with encryption, and restore from the copy to keep the data.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Encrypting Amazon RDS resources](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html)
    /// - [Terraform: aws_rds_cluster `storage_encrypted`](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/rds_cluster#storage_encrypted)
    /// - Checkov `CKV_AWS_16`; Trivy `AVD-AWS-0080`, `AVD-AWS-0079`
    pub(crate) static DB_STORAGE_UNENCRYPTED = RuleMeta {
        id: "WD-AWS-018",
        name: "db-storage-unencrypted",
        title: "RDS database storage is not encrypted at rest",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_db_instance", "aws_rds_cluster"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_16", "AVD-AWS-0080", "AVD-AWS-0079"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let is_cluster = resource.kind == "aws_rds_cluster";
    if !is_cluster && set(resource, cx, "replicate_source_db") {
        return;
    }
    if is_cluster
        && resource
            .after_str("engine_mode")
            .is_some_and(|m| m.eq_ignore_ascii_case("serverless"))
    {
        return;
    }
    let found = match planned(resource, cx, "storage_encrypted") {
        Planned::Set(v) => match v.as_bool() {
            Some(true) => return,
            Some(false) => "`storage_encrypted` is false",
            None => return,
        },
        Planned::Unknown => return out.unknown(resource, "storage_encrypted"),
        Planned::Default => {
            if is_cluster
                && restored_from(resource, cx).is_some()
                && set(resource, cx, "kms_key_id")
            {
                return;
            }
            "`storage_encrypted` is not set (defaults to false)"
        }
    };
    let what = if is_cluster {
        "DB cluster"
    } else {
        "DB instance"
    };
    let mut message = format!("{what} storage is not encrypted at rest: {found}");
    if let Some(source) = restored_from(resource, cx) {
        message.push_str(&format!(
            "; it is created from `{source}`, whose encryption it inherits unless told otherwise"
        ));
    }
    out.violation(resource, message).at("storage_encrypted").fix(Fix::set(
        "set `storage_encrypted = true` (replaces an existing database: restore it from an encrypted snapshot copy)",
        "storage_encrypted",
        true,
    ));
}

/// The attribute naming the snapshot or cluster the database is created from, if any.
fn restored_from(resource: &Resource, cx: &CheckContext<'_>) -> Option<&'static str> {
    ["snapshot_identifier", "replication_source_identifier"]
        .into_iter()
        .find(|a| set(resource, cx, a))
}

/// `true` when the configuration sets the attribute: a non-empty known string, or a value
/// known only after apply.
fn set(resource: &Resource, cx: &CheckContext<'_>, attribute: &str) -> bool {
    match planned(resource, cx, attribute) {
        Planned::Set(v) => v.as_str().is_none_or(|s| !s.is_empty()),
        Planned::Unknown => true,
        Planned::Default => false,
    }
}
