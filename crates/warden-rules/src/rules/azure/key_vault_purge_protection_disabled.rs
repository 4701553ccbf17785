use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// `azurerm_key_vault` resources without purge protection: `purge_protection_enabled` is
    /// `false` or not set (the default is off).
    ///
    /// ## Why it matters
    /// Soft delete (always on) keeps a deleted vault and its keys, secrets and certificates for
    /// the retention period, but without purge protection anyone with the right permission —
    /// an attacker with stolen credentials, a ransomware operator, a mistaken script — can
    /// purge them immediately and for good. Losing a key that encrypts storage, disks or
    /// databases makes that data unrecoverable.
    ///
    /// ## Example
    /// ```yaml
    /// azurerm_key_vault.main: { after: { name: main, sku_name: standard, purge_protection_enabled: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// azurerm_key_vault.main: { after: { name: main, sku_name: standard, purge_protection_enabled: true, soft_delete_retention_days: 90 } }
    /// ```
    ///
    /// ## Fix
    /// Sets `purge_protection_enabled = true`. This cannot be undone: once on, the vault and
    /// its objects can only be purged after the retention period
    /// (`soft_delete_retention_days`, 7 to 90), and a deleted vault's name stays reserved
    /// until then, which matters for short-lived test environments.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Azure Key Vault: Soft-delete and purge protection](https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview#purge-protection)
    /// - [Terraform: azurerm_key_vault](https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/key_vault#purge_protection_enabled)
    /// - Checkov `CKV_AZURE_110`, `CKV_AZURE_42`; Trivy `AVD-AZU-0016`
    pub(crate) static KEY_VAULT_PURGE_PROTECTION_DISABLED = RuleMeta {
        id: "WD-AZURE-007",
        name: "key-vault-purge-protection-disabled",
        title: "Key Vault does not have purge protection",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["azurerm_key_vault"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AZURE_110", "CKV_AZURE_42", "AVD-AZU-0016"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const KEY: &str = "purge_protection_enabled";

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let message = match resource.attr(KEY) {
        Attr::Known(v) if v.as_bool() == Some(true) => return,
        Attr::Known(_) => "`purge_protection_enabled` is false: deleted keys and secrets can be purged immediately",
        Attr::Absent => "`purge_protection_enabled` is not set (off by default): deleted keys and secrets can be purged immediately",
        Attr::Unknown => return out.unknown(resource, KEY),
    };
    out.violation(resource, message).at(KEY).fix(Fix::set(
        "set `purge_protection_enabled = true` (irreversible)",
        KEY,
        true,
    ));
}
