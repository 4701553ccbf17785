use super::planned::{planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// EFS file systems (`aws_efs_file_system`) that are not encrypted at rest: `encrypted` is
    /// `false` or not set (the EFS API creates unencrypted file systems unless asked).
    ///
    /// ## Why it matters
    /// EFS file systems are shared by many instances, containers and Lambda functions and often
    /// hold application data, uploads and home directories. Encryption at rest protects that
    /// data and its backups if the underlying storage is ever exposed, and many compliance
    /// regimes (PCI DSS, HIPAA) require it. It can only be chosen when the file system is
    /// created.
    ///
    /// ## Example
    /// ```yaml
    /// aws_efs_file_system.shared: { action: create, after: { creation_token: shared, encrypted: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_efs_file_system.shared: { action: create, after: { creation_token: shared, encrypted: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `encrypted = true` (the AWS managed key `aws/elasticfilesystem`; set `kms_key_id`
    /// for a customer managed key). On an existing file system this forces replacement: copy
    /// the data (AWS DataSync or AWS Backup restore) into the new encrypted file system.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Encrypting data at rest in Amazon EFS](https://docs.aws.amazon.com/efs/latest/ug/encryption-at-rest.html)
    /// - Checkov `CKV_AWS_42`; Trivy `AVD-AWS-0037`
    pub(crate) static EFS_FILE_SYSTEM_UNENCRYPTED = RuleMeta {
        id: "WD-AWS-022",
        name: "efs-file-system-unencrypted",
        title: "EFS file system is not encrypted at rest",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_efs_file_system"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_42", "AVD-AWS-0037"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let found = match planned(resource, cx, "encrypted") {
        Planned::Set(v) if v.as_bool() == Some(false) => "`encrypted` is false",
        Planned::Set(_) => return,
        Planned::Unknown => return out.unknown(resource, "encrypted"),
        Planned::Default => "`encrypted` is not set (defaults to false)",
    };
    out.violation(
        resource,
        format!("EFS file system is not encrypted at rest: {found}"),
    )
    .at("encrypted")
    .fix(Fix::set(
        "set `encrypted = true` (replaces an existing file system)",
        "encrypted",
        true,
    ));
}
