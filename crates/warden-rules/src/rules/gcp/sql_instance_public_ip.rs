use super::{planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Cloud SQL instances (`google_sql_database_instance`) that get a public IPv4 address:
    /// `settings.ip_configuration.ipv4_enabled` is `true`, which is the default, so an
    /// instance without an `ip_configuration` block, or one that does not set `ipv4_enabled`,
    /// is reported too.
    ///
    /// ## Why it matters
    /// A public IP makes the database reachable from outside the VPC: only the authorized
    /// networks (and the Cloud SQL Auth Proxy's IAM check) stand between it and the internet,
    /// and one broad authorized network later exposes it. A private IP keeps database traffic
    /// inside your network. Some setups need the public IP (clients outside Google Cloud
    /// without a VPN), so the rule asks for approval rather than blocking.
    ///
    /// ## Example
    /// ```yaml
    /// google_sql_database_instance.main: { after: { settings: [{ tier: db-f1-micro, ip_configuration: [{ ipv4_enabled: true }] }] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// google_sql_database_instance.main:
    ///   after: { settings: [{ tier: db-f1-micro, ip_configuration: [{ ipv4_enabled: false, private_network: projects/p/global/networks/main }] }] }
    /// ```
    ///
    /// ## Fix
    /// Sets `settings.ip_configuration.ipv4_enabled = false`. The instance then needs another
    /// way in: set `private_network` (private services access must be configured on that VPC,
    /// typically a `google_service_networking_connection`) or enable Private Service Connect
    /// (`psc_config`); Cloud SQL rejects an instance with neither a public nor a private IP.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Google Cloud: Configure private IP](https://cloud.google.com/sql/docs/mysql/configure-private-ip)
    /// - [Terraform: google_sql_database_instance](https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/sql_database_instance)
    /// - Checkov `CKV_GCP_60`
    pub(crate) static SQL_INSTANCE_PUBLIC_IP = RuleMeta {
        id: "WD-GCP-004",
        name: "sql-instance-public-ip",
        title: "Cloud SQL instance has a public IP address",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &["google_sql_database_instance"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_GCP_60"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const IPV4_ENABLED: &str = "settings.0.ip_configuration.0.ipv4_enabled";

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let message = match planned(resource, cx, IPV4_ENABLED) {
        Planned::Set(v) if v.as_bool() == Some(true) => "`ipv4_enabled` is true: the instance gets a public IPv4 address",
        Planned::Set(_) => return,
        Planned::Default => "`ipv4_enabled` is not set and defaults to true: the instance gets a public IPv4 address",
        Planned::Unknown => {
            out.unknown(resource, IPV4_ENABLED);
            return;
        }
    };
    let private_network = resource
        .after_str("settings.0.ip_configuration.0.private_network")
        .is_some_and(|n| !n.is_empty())
        || resource.is_unknown("settings.0.ip_configuration.0.private_network");
    let description = if private_network {
        "set `ipv4_enabled = false`; the instance stays reachable on its private IP"
    } else {
        "set `ipv4_enabled = false`, and give the instance a `private_network` (or Private Service Connect) to connect through"
    };
    out.violation(resource, message)
        .at(IPV4_ENABLED)
        .fix(Fix::set(description, IPV4_ENABLED, false));
}
