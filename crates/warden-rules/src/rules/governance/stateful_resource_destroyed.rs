use warden_core::exceptions::glob_matches;
use warden_core::Mode;

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Deletes and replacements of resources that hold data: databases, buckets, volumes,
    /// file systems, caches with persistence, queues and streams, encryption keys, secrets,
    /// container registries. One finding per resource, naming the action and, when the plan
    /// gives one, Terraform's reason for it (`replace_because_cannot_update` means an
    /// attribute that cannot change in place was changed; `replace_because_tainted`, that the
    /// resource was tainted). A replacement destroys the existing object, so it counts.
    ///
    /// ## Why it matters
    /// Destroying a stateful resource destroys its data, usually for good: snapshots may be
    /// skipped, buckets may be force-emptied, and a deleted KMS key makes everything it
    /// encrypted unreadable once the waiting period ends. Such changes are sometimes intended,
    /// so they are not denied, but a person should confirm before the plan is applied.
    ///
    /// ## Example
    /// ```yaml
    /// aws_db_instance.main: { action: replace, after: { engine: postgres, instance_class: db.t3.micro } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_db_instance.main: { action: update, after: { engine: postgres, instance_class: db.t3.small } }
    /// ```
    ///
    /// ## Fix
    /// None. If the destroy is not intended, find what forces it (`terraform plan` marks the
    /// attribute with `# forces replacement`), use a `moved` block for renames, and set
    /// `lifecycle { prevent_destroy = true }` on resources that must never be destroyed. If
    /// it is intended, back the data up and get the change approved.
    ///
    /// ## Parameters
    /// - `kinds`: the resource types (globs allowed) that hold data. The default covers AWS
    ///   (RDS, Aurora, DocumentDB, Neptune, DynamoDB, S3, EBS, EFS, FSx, ElastiCache,
    ///   MemoryDB, KMS, Redshift, OpenSearch, Kinesis, MSK, SQS, Secrets Manager, Backup,
    ///   ECR, Cognito user pools), Google Cloud (Cloud SQL, GCS, BigQuery, Spanner, Bigtable,
    ///   persistent disks, Filestore, Memorystore Redis, Firestore, AlloyDB, Cloud KMS, Secret
    ///   Manager, Artifact Registry) and Azure (storage accounts, containers and shares,
    ///   managed disks, SQL, PostgreSQL and MySQL servers and databases, Cosmos DB, Key Vault
    ///   and its keys and secrets, Redis, Recovery Services vaults, container registries, Log
    ///   Analytics workspaces, Data Explorer). Setting it replaces the whole list.
    ///
    /// ## References
    /// - [Spacelift do-not-delete-stateful-resources policy](https://github.com/spacelift-io/spacelift-policies-example-library/blob/main/plan/do-not-delete-stateful-resources.rego)
    /// - [Terraform: `prevent_destroy`](https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle#prevent_destroy)
    /// - [Terraform JSON output: `action_reason`](https://developer.hashicorp.com/terraform/internals/json-format#change-representation)
    /// - No Checkov or Trivy equivalent.
    pub(crate) static STATEFUL_RESOURCE_DESTROYED = RuleMeta {
        id: "WD-GOV-007",
        name: "stateful-resource-destroyed",
        title: "Plan deletes or replaces a resource that holds data",
        severity: Severity::High,
        enforcement: Enforcement::RequireApproval,
        kinds: &[],
        fix: FixAvailability::None,
        params: &[Param {
            name: "kinds",
            kind: ParamKind::StringList,
            default: r#"[
                "aws_db_instance", "aws_rds_cluster", "aws_rds_global_cluster", "aws_docdb_cluster",
                "aws_docdb_elastic_cluster", "aws_neptune_cluster", "aws_dynamodb_table", "aws_s3_bucket",
                "aws_s3_directory_bucket", "aws_ebs_volume", "aws_ebs_snapshot", "aws_efs_file_system",
                "aws_fsx_lustre_file_system", "aws_fsx_windows_file_system", "aws_fsx_ontap_file_system",
                "aws_fsx_openzfs_file_system", "aws_elasticache_cluster", "aws_elasticache_replication_group",
                "aws_elasticache_serverless_cache", "aws_memorydb_cluster", "aws_kms_key", "aws_redshift_cluster",
                "aws_redshiftserverless_namespace", "aws_opensearch_domain", "aws_elasticsearch_domain",
                "aws_kinesis_stream", "aws_msk_cluster", "aws_sqs_queue", "aws_secretsmanager_secret",
                "aws_backup_vault", "aws_glacier_vault", "aws_ecr_repository", "aws_cognito_user_pool",
                "aws_timestreamwrite_table", "aws_keyspaces_table", "aws_qldb_ledger",
                "google_sql_database_instance", "google_sql_database", "google_storage_bucket",
                "google_bigquery_dataset", "google_bigquery_table", "google_spanner_instance",
                "google_spanner_database", "google_bigtable_instance", "google_bigtable_table",
                "google_compute_disk", "google_compute_region_disk", "google_compute_snapshot",
                "google_filestore_instance", "google_redis_instance", "google_firestore_database",
                "google_alloydb_cluster", "google_kms_crypto_key", "google_secret_manager_secret",
                "google_artifact_registry_repository",
                "azurerm_storage_account", "azurerm_storage_container", "azurerm_storage_share",
                "azurerm_managed_disk", "azurerm_snapshot", "azurerm_mssql_server", "azurerm_mssql_database",
                "azurerm_mssql_managed_instance", "azurerm_sql_server", "azurerm_sql_database",
                "azurerm_postgresql_flexible_server", "azurerm_postgresql_flexible_server_database",
                "azurerm_postgresql_server", "azurerm_postgresql_database", "azurerm_mysql_flexible_server",
                "azurerm_mysql_flexible_database", "azurerm_mysql_server", "azurerm_cosmosdb_account",
                "azurerm_cosmosdb_sql_database", "azurerm_key_vault", "azurerm_key_vault_key",
                "azurerm_key_vault_secret", "azurerm_redis_cache", "azurerm_recovery_services_vault",
                "azurerm_data_protection_backup_vault", "azurerm_container_registry",
                "azurerm_log_analytics_workspace", "azurerm_kusto_cluster", "azurerm_kusto_database"
            ]"#,
            doc: "Resource types (globs) that hold data; replaces the default list",
        }],
        aliases: &[],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::ChangeSet(check),
    };
}

fn check(changes: &ChangeSet, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let kinds = cx.param_strs("kinds");
    if kinds.is_empty() {
        return;
    }
    for resource in &changes.resources {
        if resource.mode != Mode::Managed || !resource.action.destroys() {
            continue;
        }
        if !kinds.iter().any(|k| glob_matches(k, &resource.kind)) {
            continue;
        }
        let what = match (resource.action, resource.deposed.as_deref()) {
            (Action::Replace, _) => "replaces",
            (_, Some(_)) => "deletes a deposed object of",
            _ => "deletes",
        };
        let reason = resource
            .action_reason
            .as_deref()
            .map(|r| format!(" (Terraform: `{r}`)"))
            .unwrap_or_default();
        out.violation(
            resource,
            format!(
                "this plan {what} a stateful `{}`{reason}: the data it holds is lost unless it is backed up",
                resource.kind
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::testing;

    #[test]
    fn message_names_terraform_reason() {
        let yaml = "aws_db_instance.main: { action: replace, after: { engine: postgres } }";
        let resources: serde_yaml_ng::Mapping = serde_yaml_ng::from_str(yaml).unwrap();
        let mut changes = testing::change_set(&resources, &[], &[], &Default::default()).unwrap();
        changes.resources[0].action_reason = Some("replace_because_cannot_update".into());
        let rule = testing::resolve(&super::STATEFUL_RESOURCE_DESTROYED, &serde_json::Map::new());
        let findings = testing::run(&rule, &changes);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains(
            "replaces a stateful `aws_db_instance` (Terraform: `replace_because_cannot_update`)"
        ));
    }
}
