use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// `azurerm_storage_account` resources that let their containers and blobs be made
    /// public (anonymous read): `allow_nested_items_to_be_public` is `true`, which is the
    /// provider's default in azurerm v3 and v4, so an account that does not set it is
    /// reported too. Plans from azurerm v2 carry the old name, `allow_blob_public_access`
    /// (default `false` there), which is read instead.
    ///
    /// ## Why it matters
    /// The account setting is the guard rail: while it allows public access, a single
    /// `container_access_type = "blob"` on any container (or one click in the portal) exposes
    /// its data to anyone on the internet without a key or a login. Turning it off makes every
    /// container private whatever its own setting says; Azure has defaulted new accounts
    /// created outside Terraform to "off" since late 2023.
    ///
    /// ## Example
    /// ```yaml
    /// azurerm_storage_account.data: { after: { name: data, account_tier: Standard, account_replication_type: LRS, allow_nested_items_to_be_public: true } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// azurerm_storage_account.data: { after: { name: data, account_tier: Standard, account_replication_type: LRS, allow_nested_items_to_be_public: false } }
    /// ```
    ///
    /// ## Fix
    /// Sets `allow_nested_items_to_be_public = false` (or `allow_blob_public_access = false`
    /// on azurerm v2). Containers that are public today become private: serve public content
    /// through Azure CDN or Front Door with a private origin, or hand out SAS tokens.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Azure: Prevent anonymous read access to blob data](https://learn.microsoft.com/azure/storage/blobs/anonymous-read-access-prevent)
    /// - [Terraform: azurerm_storage_account](https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/storage_account#allow_nested_items_to_be_public)
    /// - Checkov `CKV_AZURE_190`, `CKV_AZURE_59`
    pub(crate) static STORAGE_ACCOUNT_PUBLIC_BLOB_ACCESS = RuleMeta {
        id: "WD-AZURE-003",
        name: "storage-account-public-blob-access",
        title: "Storage account allows public access to blobs",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["azurerm_storage_account"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AZURE_190", "CKV_AZURE_59"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// azurerm v3+ name (default `true`).
const NESTED: &str = "allow_nested_items_to_be_public";
/// azurerm v2 name (default `false`).
const LEGACY: &str = "allow_blob_public_access";

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let legacy = resource.after.get(LEGACY).is_some() || resource.is_unknown(LEGACY);
    let (key, default) = if legacy && resource.after.get(NESTED).is_none() {
        (LEGACY, false)
    } else {
        (NESTED, true)
    };
    let message = match resource.attr(key) {
        Attr::Known(v) if v.as_bool() == Some(true) => format!("`{key}` is true: any container can be opened to anonymous access"),
        Attr::Known(_) => return,
        Attr::Absent if default => format!("`{key}` is not set and defaults to true: any container can be opened to anonymous access"),
        Attr::Absent => return,
        Attr::Unknown => return out.unknown(resource, key),
    };
    out.violation(resource, message).at(key).fix(Fix::set(
        format!("set `{key} = false`"),
        key,
        false,
    ));
}
