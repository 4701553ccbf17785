use crate::helpers::PortRange;
use crate::prelude::*;
use crate::rules::gcp::blocks;

declare_rule! {
    /// ## What it checks
    /// Network security group rules that let the whole internet reach SSH (tcp/22), RDP
    /// (tcp and udp/3389) or every port: inbound `Allow` rules whose source is `*`,
    /// `0.0.0.0/0`, `Internet` or `Any` (in `source_address_prefix` or
    /// `source_address_prefixes`) and whose `destination_port_range(s)` include 22 or 3389 or
    /// are `*`, for protocol `Tcp`, `Udp` (3389 only) or `*`. It reads standalone
    /// `azurerm_network_security_rule` resources and the inline `security_rule` blocks of
    /// `azurerm_network_security_group`. World-open rules that reach no administration port
    /// are left to `nsg-open-to-world`, so nothing is reported twice.
    ///
    /// ## Why it matters
    /// Remote-administration ports open to the internet are scanned within minutes of
    /// creation and brute-forced continuously; one weak password or unpatched RDP service gives
    /// an attacker a foothold inside your virtual network.
    ///
    /// ## Example
    /// ```yaml
    /// azurerm_network_security_rule.ssh:
    ///   after: { name: ssh, direction: Inbound, access: Allow, priority: 100, protocol: Tcp, source_port_range: "*", destination_port_range: "22", source_address_prefix: "*", destination_address_prefix: "*" }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// azurerm_network_security_rule.ssh:
    ///   after: { name: ssh, direction: Inbound, access: Allow, priority: 100, protocol: Tcp, source_port_range: "*", destination_port_range: "22", source_address_prefix: "10.0.0.0/8", destination_address_prefix: "*" }
    /// ```
    ///
    /// ## Fix
    /// Replaces the world-open source with `10.0.0.0/8` (in `source_address_prefixes`, the
    /// other prefixes are kept), a private range to narrow to your VPN or management subnet;
    /// the `VirtualNetwork` service tag is an alternative. Better still, reach VMs through
    /// Azure Bastion or just-in-time VM access and open no administration port at all.
    ///
    /// Rule priorities are not modelled: a higher-priority `Deny` rule may already block this
    /// traffic, but the `Allow` rule is still one edit away from exposing it.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Azure: Network security groups](https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview)
    /// - [Terraform: azurerm_network_security_rule](https://registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/network_security_rule)
    /// - Checkov `CKV_AZURE_9`, `CKV_AZURE_10`; Trivy `AVD-AZU-0047`
    pub(crate) static NSG_ADMIN_PORT_OPEN_TO_WORLD = RuleMeta {
        id: "WD-AZURE-001",
        name: "nsg-admin-port-open-to-world",
        title: "Network security group opens SSH, RDP or all ports to the internet",
        severity: Severity::Critical,
        enforcement: Enforcement::Deny,
        kinds: &["azurerm_network_security_rule", "azurerm_network_security_group"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AZURE_9", "CKV_AZURE_10", "AVD-AZU-0047"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The private range a fix narrows world-open sources to.
pub(super) const FIX_CIDR: &str = "10.0.0.0/8";

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let rules = match security_rules(resource, cx) {
        Ok(rules) => rules,
        Err(attribute) => return out.unknown(resource, attribute),
    };
    for rule in &rules {
        match (rule.source(resource), rule.reach(resource)) {
            (Source::Closed, _) => {}
            (Source::Unknown(attribute), Reach::Unknown(_)) => out.unknown(resource, &attribute),
            (Source::Unknown(attribute), Reach::Known { admin, .. }) if !admin.is_empty() => {
                out.unknown(resource, &attribute)
            }
            (Source::World(_), Reach::Unknown(attribute)) => out.unknown(resource, &attribute),
            (Source::World(keys), Reach::Known { admin, described }) if !admin.is_empty() => {
                let (attribute, fix) = rule.narrow(&keys);
                out.violation(
                    resource,
                    format!(
                        "{} allows inbound {described} from {}, which reaches {}",
                        rule.describe(),
                        rule.from(&keys),
                        helpers::describe_admin_ports(&admin)
                    ),
                )
                .at(&attribute)
                .fix(fix);
            }
            _ => {}
        }
    }
}

/// One security rule: a standalone `azurerm_network_security_rule` or an inline block.
#[derive(Debug, Clone)]
pub(super) struct SecurityRule<'a> {
    value: &'a Value,
    /// Attribute path prefix (`""` or `security_rule.3.`).
    prefix: String,
}

/// The security rules of a resource, or the attribute that hides them until apply.
pub(super) fn security_rules<'a>(
    resource: &'a Resource,
    cx: &CheckContext<'_>,
) -> Result<Vec<SecurityRule<'a>>, &'static str> {
    if resource.kind == "azurerm_network_security_rule" {
        return Ok(vec![SecurityRule {
            value: &resource.after,
            prefix: String::new(),
        }]);
    }
    // `security_rule` is optional and computed: standalone rules fill it in after apply.
    let (items, unknown) = blocks(resource, cx, "security_rule");
    if unknown {
        return Err("security_rule");
    }
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, value)| SecurityRule {
            value,
            prefix: format!("security_rule.{i}."),
        })
        .collect())
}

/// Where the traffic a rule admits comes from.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Source {
    /// Not inbound-allowed from the internet.
    Closed,
    /// From the internet, through these attributes (`source_address_prefix`).
    World(Vec<&'static str>),
    /// Cannot tell: this attribute is known only after apply.
    Unknown(String),
}

/// What a rule admits.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Reach {
    /// Known protocol and ports.
    Known {
        /// Administration ports reached (SSH 22, RDP 3389).
        admin: Vec<i64>,
        /// What is allowed (`Tcp port 443`).
        described: String,
    },
    /// Cannot tell: this attribute is known only after apply.
    Unknown(String),
}

const SOURCES: [&str; 2] = ["source_address_prefix", "source_address_prefixes"];

impl SecurityRule<'_> {
    fn path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// `rule "ssh"` or `the rule`.
    pub(super) fn describe(&self) -> String {
        match self.value.field("name").as_str().filter(|n| !n.is_empty()) {
            Some(name) => format!("rule `{name}`"),
            None => "the rule".to_owned(),
        }
    }

    /// `` `*` `` or `` `Internet` and `0.0.0.0/0` ``.
    pub(super) fn from(&self, keys: &[&str]) -> String {
        let mut found: Vec<&str> = Vec::new();
        for key in keys {
            found.extend(helpers::string_or_list(Some(self.value.field(key))));
        }
        found.retain(|s| helpers::is_world(s));
        helpers::code_list(found, " and ")
    }

    pub(super) fn source(&self, resource: &Resource) -> Source {
        let mut undecided: Option<String> = None;
        for (key, wanted) in [("direction", "Inbound"), ("access", "Allow")] {
            match self.value.field(key).as_str() {
                Some(v) if !v.eq_ignore_ascii_case(wanted) => return Source::Closed,
                None if resource.is_unknown(&self.path(key)) => {
                    undecided = undecided.or_else(|| Some(self.path(key)))
                }
                _ => {}
            }
        }
        let world: Vec<&'static str> = SOURCES
            .into_iter()
            .filter(|key| match self.value.field(key) {
                Value::String(s) => helpers::is_world(s),
                other => helpers::any_world(Some(other)),
            })
            .collect();
        if world.is_empty() {
            return match SOURCES
                .into_iter()
                .find(|key| resource.is_unknown(&self.path(key)))
            {
                Some(key) => Source::Unknown(self.path(key)),
                None => Source::Closed,
            };
        }
        match undecided {
            Some(attribute) => Source::Unknown(attribute),
            None => Source::World(world),
        }
    }

    pub(super) fn reach(&self, resource: &Resource) -> Reach {
        for key in [
            "protocol",
            "destination_port_range",
            "destination_port_ranges",
        ] {
            if resource.is_unknown(&self.path(key)) {
                return Reach::Unknown(self.path(key));
            }
        }
        let protocol = self.value.field("protocol").as_str().unwrap_or("*");
        let mut ports: Vec<&str> = Vec::new();
        if let Some(p) = self
            .value
            .field("destination_port_range")
            .as_str()
            .filter(|p| !p.trim().is_empty())
        {
            ports.push(p);
        }
        ports.extend(
            self.value
                .field("destination_port_ranges")
                .items()
                .iter()
                .filter_map(Value::as_str),
        );
        if ports.is_empty() {
            ports.push("*");
        }
        let lower = protocol.to_ascii_lowercase();
        let carries_ports = matches!(lower.as_str(), "tcp" | "udp" | "*" | "any");
        let mut admin: Vec<i64> = Vec::new();
        if carries_ports {
            for range in ports.iter().filter_map(|p| PortRange::parse(p, false)) {
                admin.extend(range.admin_ports_over(&lower));
            }
        }
        admin.sort_unstable();
        admin.dedup();
        let what = if matches!(lower.as_str(), "*" | "any") {
            "any protocol".to_owned()
        } else {
            protocol.to_owned()
        };
        let described = if !carries_ports {
            what
        } else if ports.iter().any(|p| p.trim() == "*") {
            format!("{what} on all ports")
        } else if ports.len() == 1 && !ports.iter().any(|p| p.contains('-')) {
            format!("{what} to port {}", ports.join(","))
        } else {
            format!("{what} to ports {}", ports.join(","))
        };
        Reach::Known { admin, described }
    }

    /// The finding's attribute and a fix replacing the world-open sources with [`FIX_CIDR`].
    pub(super) fn narrow(&self, keys: &[&'static str]) -> (String, Fix) {
        let mut fix: Option<Fix> = None;
        for key in keys {
            let path = self.path(key);
            let value = if *key == "source_address_prefix" {
                Value::from(FIX_CIDR)
            } else {
                helpers::without_world(self.value.field(key), Some(FIX_CIDR))
            };
            fix = Some(match fix {
                None => Fix::set(
                    format!("replace the world-open source with a private range such as {FIX_CIDR} (your VPN or management subnet)"),
                    &path,
                    value,
                ),
                Some(f) => f.and_set(&path, value),
            });
        }
        let attribute = self.path(keys.first().copied().unwrap_or("source_address_prefix"));
        let fix = fix.unwrap_or_else(|| Fix::set("restrict the source", &attribute, FIX_CIDR));
        (attribute, fix)
    }
}
