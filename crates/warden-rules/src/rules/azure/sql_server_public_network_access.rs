use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Azure SQL logical servers reachable on their public endpoint:
    /// `azurerm_mssql_server` with `public_network_access_enabled = true`, which is the
    /// default, so a server that does not set it is reported too. The deprecated
    /// `azurerm_sql_server` (removed in azurerm v4) cannot turn public access off at all and is
    /// always reported.
    ///
    /// ## Why it matters
    /// With public network access on, the server's endpoint (`*.database.windows.net`) accepts
    /// connections from the internet, limited only by its firewall rules: one broad rule, or
    /// "Allow Azure services" (which admits every Azure customer's resources), exposes the
    /// databases to password spraying and to any SQL engine vulnerability. Private endpoints
    /// keep the traffic on your network. Some setups need the public endpoint, so the rule
    /// asks for approval.
    ///
    /// ## Example
    /// ```yaml
    /// azurerm_mssql_server.main: { after: { name: main, version: "12.0", public_network_access_enabled: true } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// azurerm_mssql_server.main: { after: { name: main, version: "12.0", public_network_access_enabled: false } }
    /// ```
    ///
    /// ## Fix
    /// Sets `public_network_access_enabled = false` on `azurerm_mssql_server`; clients then
    /// connect through a private endpoint (`azurerm_private_endpoint` with the `sqlServer`
    /// subresource) and its private DNS zone. An `azurerm_sql_server` has to be migrated to
    /// `azurerm_mssql_server` first: both manage the same Azure resource, so remove it from
    /// the state (`terraform state rm`) and import it as an `azurerm_mssql_server`.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Azure SQL: Connectivity settings — deny public network access](https://learn.microsoft.com/azure/azure-sql/database/connectivity-settings#deny-public-network-access)
    /// - [Terraform: azurerm_mssql_server](https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/mssql_server#public_network_access_enabled)
    /// - Checkov `CKV_AZURE_113`
    pub(crate) static SQL_SERVER_PUBLIC_NETWORK_ACCESS = RuleMeta {
        id: "WD-AZURE-006",
        name: "sql-server-public-network-access",
        title: "Azure SQL server accepts connections on its public endpoint",
        severity: Severity::High,
        enforcement: Enforcement::RequireApproval,
        kinds: &["azurerm_mssql_server", "azurerm_sql_server"],
        fix: FixAvailability::Sometimes,
        params: &[],
        aliases: &["CKV_AZURE_113"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const KEY: &str = "public_network_access_enabled";

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.kind == "azurerm_sql_server" {
        out.violation(
            resource,
            "`azurerm_sql_server` cannot disable public network access: the server's public endpoint is always on",
        )
        .fix(Fix::snippet(
            "migrate to `azurerm_mssql_server` (import the same server) and disable public network access",
            "resource \"azurerm_mssql_server\" \"this\" {\n  # ...the same name, resource group, location, version and administrator...\n  public_network_access_enabled = false\n}\n",
        ));
        return;
    }
    let message = match resource.attr(KEY) {
        Attr::Known(v) if v.as_bool() == Some(true) => "`public_network_access_enabled` is true: the server's public endpoint accepts connections",
        Attr::Known(_) => return,
        Attr::Absent => "`public_network_access_enabled` is not set and defaults to true: the server's public endpoint accepts connections",
        Attr::Unknown => return out.unknown(resource, KEY),
    };
    out.violation(resource, message).at(KEY).fix(Fix::set(
        "set `public_network_access_enabled = false` and connect through a private endpoint",
        KEY,
        false,
    ));
}
