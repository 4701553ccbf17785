use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// `azurerm_storage_container` resources opened to anonymous access:
    /// `container_access_type` is `blob` (anyone can read a blob whose name they know) or
    /// `container` (anyone can also list the container). The default is `private`.
    ///
    /// ## Why it matters
    /// Anonymous access needs no key, token or login: everything in the container is readable
    /// by anyone on the internet, and with `container` access it can be enumerated too. Such
    /// containers are found by scanners guessing account and container names. The storage
    /// account's `allow_nested_items_to_be_public = false` blocks it account-wide (see
    /// `storage-account-public-blob-access`).
    ///
    /// ## Example
    /// ```yaml
    /// azurerm_storage_container.uploads: { after: { name: uploads, container_access_type: container } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// azurerm_storage_container.uploads: { after: { name: uploads, container_access_type: private } }
    /// ```
    ///
    /// ## Fix
    /// Sets `container_access_type = "private"`. Share individual blobs with SAS tokens
    /// (user-delegation SAS where possible), or serve public content through Azure CDN or
    /// Front Door with a private origin.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Azure: Configure anonymous read access for containers and blobs](https://learn.microsoft.com/azure/storage/blobs/anonymous-read-access-configure)
    /// - [Terraform: azurerm_storage_container](https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/storage_container#container_access_type)
    /// - Checkov `CKV_AZURE_34`; Trivy `AVD-AZU-0007`
    pub(crate) static STORAGE_CONTAINER_PUBLIC_ACCESS = RuleMeta {
        id: "WD-AZURE-009",
        name: "storage-container-public-access",
        title: "Storage container allows anonymous public access",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["azurerm_storage_container"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AZURE_34", "AVD-AZU-0007"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const KEY: &str = "container_access_type";

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.attr(KEY) {
        Attr::Known(v) => {
            let Some(access) = v.as_str() else {
                return;
            };
            let what = match access.to_ascii_lowercase().as_str() {
                "blob" => "anyone can read its blobs without authentication",
                "container" => "anyone can list and read its blobs without authentication",
                _ => return,
            };
            out.violation(
                resource,
                format!("`container_access_type` is `{access}`: {what}"),
            )
            .at(KEY)
            .fix(Fix::set(
                "set `container_access_type = \"private\"`",
                KEY,
                "private",
            ));
        }
        Attr::Unknown => out.unknown(resource, KEY),
        Attr::Absent => {}
    }
}
