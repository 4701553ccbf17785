//! Azure rules (provider `hashicorp/azurerm` v3 and v4; v2 attribute names where they differ).

mod key_vault_purge_protection_disabled;
mod nsg_admin_port_open_to_world;
mod nsg_open_to_world;
mod sql_firewall_open_to_world;
mod sql_server_public_network_access;
mod storage_account_https_not_enforced;
mod storage_account_public_blob_access;
mod storage_account_tls_below_1_2;
mod storage_container_public_access;

use crate::rule::RuleMeta;

/// The azure rules, in id order.
pub static RULES: &[&RuleMeta] = &[
    &nsg_admin_port_open_to_world::NSG_ADMIN_PORT_OPEN_TO_WORLD,
    &nsg_open_to_world::NSG_OPEN_TO_WORLD,
    &storage_account_public_blob_access::STORAGE_ACCOUNT_PUBLIC_BLOB_ACCESS,
    &storage_account_https_not_enforced::STORAGE_ACCOUNT_HTTPS_NOT_ENFORCED,
    &storage_account_tls_below_1_2::STORAGE_ACCOUNT_TLS_BELOW_1_2,
    &sql_server_public_network_access::SQL_SERVER_PUBLIC_NETWORK_ACCESS,
    &key_vault_purge_protection_disabled::KEY_VAULT_PURGE_PROTECTION_DISABLED,
    &sql_firewall_open_to_world::SQL_FIREWALL_OPEN_TO_WORLD,
    &storage_container_public_access::STORAGE_CONTAINER_PUBLIC_ACCESS,
];

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        crate::testing::run_provider_fixtures("azure");
    }
}
