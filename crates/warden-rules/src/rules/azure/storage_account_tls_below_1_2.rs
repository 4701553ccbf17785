use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// `azurerm_storage_account` resources whose `min_tls_version` is `TLS1_0` or `TLS1_1`.
    /// The provider's default is `TLS1_2`, so an account that does not set it passes.
    ///
    /// ## Why it matters
    /// TLS 1.0 and 1.1 have known weaknesses (BEAST, weak cipher suites, SHA-1 handshakes) and
    /// are deprecated by RFC 8996; accepting them lets a client, or an attacker downgrading
    /// one, talk to the account over a protocol that no longer protects the data. Azure
    /// Storage stops accepting them altogether in 2026.
    ///
    /// ## Example
    /// ```yaml
    /// azurerm_storage_account.data: { after: { name: data, account_tier: Standard, min_tls_version: TLS1_0 } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// azurerm_storage_account.data: { after: { name: data, account_tier: Standard, min_tls_version: TLS1_2 } }
    /// ```
    ///
    /// ## Fix
    /// Sets `min_tls_version = "TLS1_2"`. Check the account's logs for clients still
    /// negotiating older versions (the `TlsVersion` field of `StorageBlobLogs`) before
    /// applying.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Azure: Enforce a minimum TLS version for requests to a storage account](https://learn.microsoft.com/azure/storage/common/transport-layer-security-configure-minimum-version)
    /// - [Terraform: azurerm_storage_account](https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/storage_account#min_tls_version)
    /// - Checkov `CKV_AZURE_44`; Trivy `AVD-AZU-0011`
    pub(crate) static STORAGE_ACCOUNT_TLS_BELOW_1_2 = RuleMeta {
        id: "WD-AZURE-005",
        name: "storage-account-tls-below-1-2",
        title: "Storage account accepts TLS versions older than 1.2",
        severity: Severity::Medium,
        enforcement: Enforcement::Deny,
        kinds: &["azurerm_storage_account"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AZURE_44", "AVD-AZU-0011"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const KEY: &str = "min_tls_version";
const OLD: &[&str] = &["TLS1_0", "TLS1_1"];

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.attr(KEY) {
        Attr::Known(v) => {
            if let Some(version) = v
                .as_str()
                .filter(|s| OLD.iter().any(|o| o.eq_ignore_ascii_case(s)))
            {
                out.violation(resource, format!("`min_tls_version` is `{version}`: clients can connect with deprecated TLS versions"))
                    .at(KEY)
                    .fix(Fix::set("set `min_tls_version = \"TLS1_2\"`", KEY, "TLS1_2"));
            }
        }
        Attr::Unknown => out.unknown(resource, KEY),
        Attr::Absent => {}
    }
}
