use super::{blocks, planned, Planned};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Cloud SQL instances (`google_sql_database_instance`) whose
    /// `settings.ip_configuration.authorized_networks` contain `0.0.0.0/0` (or `::/0`): every
    /// address on the internet may connect to the instance's public IP. Instances with
    /// `ipv4_enabled = false` have no public IP, so their authorized networks expose nothing
    /// and are not reported.
    ///
    /// ## Why it matters
    /// An authorized network of `0.0.0.0/0` puts the database's login prompt on the internet:
    /// it is found by scanners within hours and then brute-forced, and any vulnerability in the
    /// database engine becomes remotely exploitable. Applications should connect through the
    /// Cloud SQL Auth Proxy or connectors, or over a private IP.
    ///
    /// ## Example
    /// ```yaml
    /// google_sql_database_instance.main:
    ///   after: { settings: [{ tier: db-f1-micro, ip_configuration: [{ ipv4_enabled: true, authorized_networks: [{ name: anyone, value: "0.0.0.0/0" }] }] }] }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// google_sql_database_instance.main:
    ///   after: { settings: [{ tier: db-f1-micro, ip_configuration: [{ ipv4_enabled: true, authorized_networks: [{ name: office, value: "203.0.113.0/24" }] }] }] }
    /// ```
    ///
    /// ## Fix
    /// Removes the world-open entries from `authorized_networks` and keeps the others. Add the
    /// specific addresses that need direct access (an office, a CI runner), or connect through
    /// the Cloud SQL Auth Proxy, which needs no authorized network at all.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Google Cloud: Authorize with authorized networks](https://cloud.google.com/sql/docs/mysql/authorize-networks)
    /// - [Terraform: google_sql_database_instance](https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/sql_database_instance)
    /// - Checkov `CKV_GCP_11`; Trivy `AVD-GCP-0017`
    pub(crate) static SQL_INSTANCE_AUTHORIZED_NETWORK_OPEN_TO_WORLD = RuleMeta {
        id: "WD-GCP-003",
        name: "sql-instance-authorized-network-open-to-world",
        title: "Cloud SQL instance authorizes connections from the whole internet",
        severity: Severity::Critical,
        enforcement: Enforcement::Deny,
        kinds: &["google_sql_database_instance"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_GCP_11", "AVD-GCP-0017"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const NETWORKS: &str = "settings.0.ip_configuration.0.authorized_networks";

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    // Without a public IP the authorized networks admit nothing.
    if let Planned::Set(v) = planned(resource, cx, "settings.0.ip_configuration.0.ipv4_enabled") {
        if v.as_bool() == Some(false) {
            return;
        }
    }
    let (networks, unknown) = blocks(resource, cx, NETWORKS);
    if unknown {
        out.unknown(resource, NETWORKS);
        return;
    }
    let open: Vec<&Value> = networks
        .iter()
        .filter(|n| n.field("value").as_str().is_some_and(helpers::is_world))
        .collect();
    if open.is_empty() {
        if let Some(i) =
            (0..networks.len()).find(|i| resource.is_unknown(&format!("{NETWORKS}.{i}.value")))
        {
            out.unknown(resource, &format!("{NETWORKS}.{i}.value"));
        }
        return;
    }
    let named: Vec<String> = open
        .iter()
        .map(
            |n| match n.field("name").as_str().filter(|s| !s.is_empty()) {
                Some(name) => format!(
                    "`{name}` (`{}`)",
                    n.field("value").as_str().unwrap_or_default()
                ),
                None => format!("`{}`", n.field("value").as_str().unwrap_or_default()),
            },
        )
        .collect();
    let kept: Vec<Value> = networks
        .iter()
        .filter(|n| !n.field("value").as_str().is_some_and(helpers::is_world))
        .cloned()
        .collect();
    out.violation(
        resource,
        format!("authorized network {} lets any address on the internet connect to the instance's public IP", named.join(", ")),
    )
    .at(NETWORKS)
    .fix(Fix::set(
        "remove the world-open authorized networks (connect through the Cloud SQL Auth Proxy or list specific addresses)",
        NETWORKS,
        Value::from(kept),
    ));
}
