//! AWS rules (provider `hashicorp/aws` v4+; legacy v3 inline attributes where still common).

mod cloudfront_viewer_http_allowed;
mod cloudtrail_log_validation_disabled;
mod cloudtrail_not_encrypted;
mod cloudtrail_single_region;
mod companion;
mod db_backup_retention_disabled;
mod db_instance_publicly_accessible;
mod db_storage_unencrypted;
mod default_security_group_with_rules;
mod default_vpc_managed;
mod deletion_protection_disabled;
mod dynamodb_table_without_customer_managed_key;
mod ebs_encryption_by_default_disabled;
mod ebs_volume_unencrypted;
mod efs_file_system_unencrypted;
mod eks_endpoint_public_to_world;
mod eks_secrets_not_encrypted;
mod elasticache_transit_encryption_disabled;
mod iam_administrator_access_attached;
mod iam_policy_wildcard_admin;
mod iam_user_access_key_created;
mod instance_block_device_unencrypted;
mod instance_metadata_v1_allowed;
mod instance_public_ip;
mod kms_key_rotation_disabled;
mod lambda_function_url_unauthenticated;
mod lambda_permission_public_principal;
mod load_balancer_internet_facing;
mod load_balancer_listener_plaintext_http;
mod network_acl_admin_port_open_to_world;
mod planned;
mod public_access_block;
mod redshift_cluster_publicly_accessible;
mod s3_bucket_policy_public_principal;
mod s3_bucket_public_acl;
mod s3_bucket_versioning_disabled;
mod s3_bucket_without_encryption_configuration;
mod s3_bucket_without_public_access_block;
mod s3_public_access_block_incomplete;
mod security_group;
mod security_group_admin_port_open_to_world;
mod security_group_open_to_world;
mod sns_topic_unencrypted;
mod sqs_queue_unencrypted;
mod subnet_maps_public_ip_on_launch;
mod vpc_without_flow_logs;

use crate::rule::RuleMeta;

/// The AWS rules, in id order.
pub static RULES: &[&RuleMeta] = &[
    &s3_bucket_public_acl::S3_BUCKET_PUBLIC_ACL,
    &s3_bucket_policy_public_principal::S3_BUCKET_POLICY_PUBLIC_PRINCIPAL,
    &s3_public_access_block_incomplete::S3_PUBLIC_ACCESS_BLOCK_INCOMPLETE,
    &s3_bucket_without_public_access_block::S3_BUCKET_WITHOUT_PUBLIC_ACCESS_BLOCK,
    &s3_bucket_without_encryption_configuration::S3_BUCKET_WITHOUT_ENCRYPTION_CONFIGURATION,
    &s3_bucket_versioning_disabled::S3_BUCKET_VERSIONING_DISABLED,
    &security_group_admin_port_open_to_world::SECURITY_GROUP_ADMIN_PORT_OPEN_TO_WORLD,
    &security_group_open_to_world::SECURITY_GROUP_OPEN_TO_WORLD,
    &db_instance_publicly_accessible::DB_INSTANCE_PUBLICLY_ACCESSIBLE,
    &redshift_cluster_publicly_accessible::REDSHIFT_CLUSTER_PUBLICLY_ACCESSIBLE,
    &instance_public_ip::INSTANCE_PUBLIC_IP,
    &subnet_maps_public_ip_on_launch::SUBNET_MAPS_PUBLIC_IP_ON_LAUNCH,
    &load_balancer_internet_facing::LOAD_BALANCER_INTERNET_FACING,
    &load_balancer_listener_plaintext_http::LOAD_BALANCER_LISTENER_PLAINTEXT_HTTP,
    &eks_endpoint_public_to_world::EKS_ENDPOINT_PUBLIC_TO_WORLD,
    &lambda_function_url_unauthenticated::LAMBDA_FUNCTION_URL_UNAUTHENTICATED,
    &lambda_permission_public_principal::LAMBDA_PERMISSION_PUBLIC_PRINCIPAL,
    &db_storage_unencrypted::DB_STORAGE_UNENCRYPTED,
    &ebs_volume_unencrypted::EBS_VOLUME_UNENCRYPTED,
    &instance_block_device_unencrypted::INSTANCE_BLOCK_DEVICE_UNENCRYPTED,
    &ebs_encryption_by_default_disabled::EBS_ENCRYPTION_BY_DEFAULT_DISABLED,
    &efs_file_system_unencrypted::EFS_FILE_SYSTEM_UNENCRYPTED,
    &sqs_queue_unencrypted::SQS_QUEUE_UNENCRYPTED,
    &sns_topic_unencrypted::SNS_TOPIC_UNENCRYPTED,
    &dynamodb_table_without_customer_managed_key::DYNAMODB_TABLE_WITHOUT_CUSTOMER_MANAGED_KEY,
    &eks_secrets_not_encrypted::EKS_SECRETS_NOT_ENCRYPTED,
    &kms_key_rotation_disabled::KMS_KEY_ROTATION_DISABLED,
    &iam_policy_wildcard_admin::IAM_POLICY_WILDCARD_ADMIN,
    &iam_administrator_access_attached::IAM_ADMINISTRATOR_ACCESS_ATTACHED,
    &iam_user_access_key_created::IAM_USER_ACCESS_KEY_CREATED,
    &instance_metadata_v1_allowed::INSTANCE_METADATA_V1_ALLOWED,
    &cloudtrail_single_region::CLOUDTRAIL_SINGLE_REGION,
    &cloudtrail_log_validation_disabled::CLOUDTRAIL_LOG_VALIDATION_DISABLED,
    &cloudtrail_not_encrypted::CLOUDTRAIL_NOT_ENCRYPTED,
    &deletion_protection_disabled::DELETION_PROTECTION_DISABLED,
    &db_backup_retention_disabled::DB_BACKUP_RETENTION_DISABLED,
    &cloudfront_viewer_http_allowed::CLOUDFRONT_VIEWER_HTTP_ALLOWED,
    &default_vpc_managed::DEFAULT_VPC_MANAGED,
    &vpc_without_flow_logs::VPC_WITHOUT_FLOW_LOGS,
    &default_security_group_with_rules::DEFAULT_SECURITY_GROUP_WITH_RULES,
    &network_acl_admin_port_open_to_world::NETWORK_ACL_ADMIN_PORT_OPEN_TO_WORLD,
    &elasticache_transit_encryption_disabled::ELASTICACHE_TRANSIT_ENCRYPTION_DISABLED,
];

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        crate::testing::run_provider_fixtures("aws");
    }
}
