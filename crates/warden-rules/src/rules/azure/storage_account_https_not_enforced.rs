use crate::prelude::*;
use crate::rules::gcp::{left_to_provider, planned, Planned};

declare_rule! {
    /// ## What it checks
    /// `azurerm_storage_account` resources that accept plain HTTP:
    /// `https_traffic_only_enabled` (azurerm v4, and late v3) or `enable_https_traffic_only`
    /// (azurerm v3 and earlier) set to `false`. Both default to `true`. When the plan carries
    /// both names, the one the configuration sets decides.
    ///
    /// ## Why it matters
    /// Without "secure transfer required", the blob, file, queue and table endpoints answer
    /// over unencrypted HTTP (and SMB without encryption): data and shared-access-signature
    /// tokens cross the network in clear text, where anyone on the path can read or replay
    /// them.
    ///
    /// ## Example
    /// ```yaml
    /// azurerm_storage_account.data: { after: { name: data, account_tier: Standard, https_traffic_only_enabled: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// azurerm_storage_account.data: { after: { name: data, account_tier: Standard, https_traffic_only_enabled: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets the attribute the resource uses (`https_traffic_only_enabled` or
    /// `enable_https_traffic_only`) to `true`. Clients still on `http://` URLs (and SMB 2.1
    /// clients) must switch to HTTPS (SMB 3.x with encryption) first.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Azure: Require secure transfer](https://learn.microsoft.com/azure/storage/common/storage-require-secure-transfer)
    /// - [Terraform: azurerm_storage_account](https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/storage_account#https_traffic_only_enabled)
    /// - Checkov `CKV_AZURE_3`; Trivy `AVD-AZU-0008`
    pub(crate) static STORAGE_ACCOUNT_HTTPS_NOT_ENFORCED = RuleMeta {
        id: "WD-AZURE-004",
        name: "storage-account-https-not-enforced",
        title: "Storage account accepts unencrypted HTTP",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["azurerm_storage_account"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AZURE_3", "AVD-AZU-0008"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The current name first, then the v3 one.
const KEYS: [&str; 2] = ["https_traffic_only_enabled", "enable_https_traffic_only"];

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let present: Vec<&str> = KEYS
        .into_iter()
        .filter(|k| resource.after.get(k).is_some() || resource.is_unknown(k))
        .collect();
    // During the rename both names are in the schema, one computed from the other: the one
    // the configuration sets decides.
    let configured: Vec<&str> = present
        .iter()
        .copied()
        .filter(|k| !left_to_provider(resource, cx, k))
        .collect();
    let keys = if configured.len() == 1 {
        configured
    } else {
        present
    };
    let mut off: Vec<&str> = Vec::new();
    let mut unknown: Option<&str> = None;
    for key in keys {
        match planned(resource, cx, key) {
            Planned::Set(v) if v.as_bool() == Some(true) => return,
            Planned::Set(v) if v.as_bool() == Some(false) => off.push(key),
            Planned::Unknown => unknown = unknown.or(Some(key)),
            Planned::Set(_) | Planned::Default => {}
        }
    }
    let Some(first) = off.first().copied() else {
        if let Some(key) = unknown {
            out.unknown(resource, key);
        }
        return;
    };
    let mut fix = Fix::set(
        format!("set `{first} = true` and connect over HTTPS"),
        first,
        true,
    );
    for key in off.iter().skip(1) {
        fix = fix.and_set(key, true);
    }
    out.violation(
        resource,
        format!("`{first}` is false: the account accepts unencrypted HTTP requests"),
    )
    .at(first)
    .fix(fix);
}
