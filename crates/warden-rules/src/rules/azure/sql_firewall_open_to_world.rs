use std::net::Ipv4Addr;

use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Azure database firewall rules that admit the internet: a `start_ip_address` to
    /// `end_ip_address` range covering at least half of the IPv4 address space, typically
    /// `0.0.0.0`–`255.255.255.255`. It reads `azurerm_mssql_firewall_rule`,
    /// `azurerm_sql_firewall_rule`, and the PostgreSQL, MySQL and MariaDB firewall rules
    /// (single and flexible servers), which share the same attributes.
    ///
    /// The special rule `0.0.0.0`–`0.0.0.0` ("Allow Azure services and resources to access
    /// this server") is not reported: it admits connections from Azure's own address space,
    /// including other customers' resources, which is a weaker and separate concern; prefer
    /// private endpoints or virtual network rules to it as well.
    ///
    /// ## Why it matters
    /// A firewall rule covering the internet turns the server's public endpoint into a login
    /// prompt for everyone: databases exposed this way are found by scanners within hours and
    /// then brute-forced, and any vulnerability in the engine becomes remotely exploitable.
    ///
    /// ## Example
    /// ```yaml
    /// azurerm_mssql_firewall_rule.all: { after: { name: all, start_ip_address: 0.0.0.0, end_ip_address: 255.255.255.255 } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// azurerm_mssql_firewall_rule.office: { after: { name: office, start_ip_address: 203.0.113.0, end_ip_address: 203.0.113.255 } }
    /// ```
    ///
    /// ## Fix
    /// No machine fix: which addresses should connect is not in the plan. Replace the rule with
    /// rules for the specific public addresses that need access (an office, a CI egress IP), or
    /// better, disable public network access and connect through a private endpoint.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Azure SQL: IP firewall rules](https://learn.microsoft.com/azure/azure-sql/database/firewall-configure)
    /// - [Terraform: azurerm_mssql_firewall_rule](https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/mssql_firewall_rule)
    /// - Checkov `CKV_AZURE_11`; Trivy `AVD-AZU-0029`
    pub(crate) static SQL_FIREWALL_OPEN_TO_WORLD = RuleMeta {
        id: "WD-AZURE-008",
        name: "sql-firewall-open-to-world",
        title: "Database firewall rule admits the whole internet",
        severity: Severity::Critical,
        enforcement: Enforcement::Deny,
        kinds: &[
            "azurerm_mssql_firewall_rule",
            "azurerm_sql_firewall_rule",
            "azurerm_postgresql_firewall_rule",
            "azurerm_postgresql_flexible_server_firewall_rule",
            "azurerm_mysql_firewall_rule",
            "azurerm_mysql_flexible_server_firewall_rule",
            "azurerm_mariadb_firewall_rule",
        ],
        fix: FixAvailability::None,
        params: &[],
        aliases: &["CKV_AZURE_11", "AVD-AZU-0029"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// Half of the IPv4 address space: a range at least this large "covers the internet".
const WORLD_SIZE: u64 = 1 << 31;

fn address(resource: &Resource, key: &str) -> Option<Ipv4Addr> {
    resource.after_str(key).and_then(|s| s.trim().parse().ok())
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if let Some(key) = ["start_ip_address", "end_ip_address"]
        .into_iter()
        .find(|k| resource.attr(k) == Attr::Unknown)
    {
        return out.unknown(resource, key);
    }
    let (Some(start), Some(end)) = (
        address(resource, "start_ip_address"),
        address(resource, "end_ip_address"),
    ) else {
        return;
    };
    let (first, last) = (u64::from(u32::from(start)), u64::from(u32::from(end)));
    if last < first {
        return;
    }
    let size = last - first + 1;
    if size < WORLD_SIZE {
        return;
    }
    let scope = if size == 1 << 32 {
        "every IPv4 address".to_owned()
    } else {
        format!("{}% of all IPv4 addresses", size * 100 / (1 << 32))
    };
    let _ = out
        .violation(
            resource,
            format!(
                "the rule admits {start} to {end}, {scope}: the database is open to the internet"
            ),
        )
        .at("end_ip_address");
}
