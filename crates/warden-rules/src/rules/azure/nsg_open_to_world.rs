use super::nsg_admin_port_open_to_world::{security_rules, Reach, Source};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Network security group rules that let the whole internet reach anything other than
    /// the administration ports: inbound `Allow` rules whose source is `*`, `0.0.0.0/0`,
    /// `Internet` or `Any` (in `source_address_prefix` or `source_address_prefixes`) and whose
    /// destination ports are a web port, a database port, a range, or whose protocol is
    /// `Icmp`, `Esp` or `Ah`. It reads standalone `azurerm_network_security_rule` resources and
    /// the inline `security_rule` blocks of `azurerm_network_security_group`. Rules that reach
    /// SSH (22), RDP (3389) or every port are left to `nsg-admin-port-open-to-world`, which
    /// denies them, so nothing is reported twice.
    ///
    /// ## Why it matters
    /// Every port open to the internet is attack surface that is scanned continuously. Some
    /// exposure is intended (HTTPS on a public web server), much is not (a database, a cache, a
    /// management API opened "temporarily"), and the two look the same in a plan. The rule
    /// asks a human to confirm each one instead of blocking outright.
    ///
    /// ## Example
    /// ```yaml
    /// azurerm_network_security_rule.sql:
    ///   after: { name: sql, direction: Inbound, access: Allow, priority: 110, protocol: Tcp, destination_port_range: "1433", source_address_prefix: Internet, destination_address_prefix: "*" }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// azurerm_network_security_rule.sql:
    ///   after: { name: sql, direction: Inbound, access: Allow, priority: 110, protocol: Tcp, destination_port_range: "1433", source_address_prefix: VirtualNetwork, destination_address_prefix: "*" }
    /// ```
    ///
    /// ## Fix
    /// Replaces the world-open source with `10.0.0.0/8` (in `source_address_prefixes`, the
    /// other prefixes are kept), a private range to narrow further; service tags such as
    /// `VirtualNetwork` or `AzureLoadBalancer` are alternatives. When the exposure is intended
    /// (a public web endpoint), approve it or record an exception; consider Azure Front Door
    /// or Application Gateway with a WAF in front of it.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Azure: Network security groups](https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview)
    /// - [Terraform: azurerm_network_security_rule](https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/network_security_rule)
    /// - Trivy `AVD-AZU-0047`
    pub(crate) static NSG_OPEN_TO_WORLD = RuleMeta {
        id: "WD-AZURE-002",
        name: "nsg-open-to-world",
        title: "Network security group opens a port to the internet",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &["azurerm_network_security_rule", "azurerm_network_security_group"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["AVD-AZU-0047"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    // Unknown rule lists and ports, and anything reaching an administration port, are
    // `nsg-admin-port-open-to-world`'s to report.
    let Ok(rules) = security_rules(resource, cx) else {
        return;
    };
    for rule in &rules {
        match (rule.source(resource), rule.reach(resource)) {
            (Source::Unknown(attribute), Reach::Known { admin, .. }) if admin.is_empty() => {
                out.unknown(resource, &attribute)
            }
            (Source::World(keys), Reach::Known { admin, described }) if admin.is_empty() => {
                let (attribute, fix) = rule.narrow(&keys);
                out.violation(
                    resource,
                    format!(
                        "{} allows inbound {described} from {}",
                        rule.describe(),
                        rule.from(&keys)
                    ),
                )
                .at(&attribute)
                .fix(fix);
            }
            _ => {}
        }
    }
}
