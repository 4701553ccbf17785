use crate::helpers::{is_world, PortRange};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Network ACL entries that allow inbound traffic from the whole internet (`0.0.0.0/0` or
    /// `::/0`) to SSH (TCP 22), RDP (TCP and UDP 3389), or every port: separate
    /// `aws_network_acl_rule` resources (`egress = false`, `rule_action = "allow"`) and inline
    /// `ingress` entries of `aws_network_acl` (`action = "allow"`).
    ///
    /// Network ACLs are evaluated in rule-number order and the first match wins, so an allow
    /// is not reported for a port that a lower-numbered `deny` from the whole internet (same
    /// address family) already blocks, among the inline entries of the same ACL or among
    /// `aws_network_acl_rule` resources of the same `network_acl_id`.
    ///
    /// ## Why it matters
    /// A network ACL is the subnet-wide backstop behind security groups. Letting the internet
    /// reach remote-administration ports at that level means one permissive security group
    /// anywhere in the subnet exposes SSH or RDP, ports that are scanned within minutes and
    /// brute-forced continuously.
    ///
    /// ## Example
    /// ```yaml
    /// aws_network_acl_rule.ssh:
    ///   after: { network_acl_id: acl-0123456789abcdef0, rule_number: 100, egress: false, protocol: tcp, rule_action: allow, cidr_block: 0.0.0.0/0, from_port: 22, to_port: 22 }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_network_acl_rule.ssh:
    ///   after: { network_acl_id: acl-0123456789abcdef0, rule_number: 100, egress: false, protocol: tcp, rule_action: allow, cidr_block: 10.0.0.0/8, from_port: 22, to_port: 22 }
    /// ```
    ///
    /// ## Fix
    /// Narrows the entry to a private range: `10.0.0.0/8` for IPv4, `fd00::/8` for IPv6, to be
    /// narrowed further to your VPN or bastion. Network ACLs are stateless: if the entry also
    /// admitted return traffic for connections your instances open to the internet, add an
    /// entry that allows the ephemeral ports (1024-65535) from the internet, with a
    /// lower-numbered deny for 22 and 3389 in front of it.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Control subnet traffic with network access control lists](https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html)
    /// - Checkov `CKV_AWS_229`, `CKV_AWS_231`; Trivy `AVD-AWS-0105`
    pub(crate) static NETWORK_ACL_ADMIN_PORT_OPEN_TO_WORLD = RuleMeta {
        id: "WD-AWS-041",
        name: "network-acl-admin-port-open-to-world",
        title: "Network ACL allows SSH, RDP or all ports from the internet",
        severity: Severity::High,
        enforcement: Enforcement::Deny,
        kinds: &["aws_network_acl_rule", "aws_network_acl"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_229", "CKV_AWS_231", "AVD-AWS-0105"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The administration endpoints: (protocol, port).
const TARGETS: [(Protocol, i64); 3] = [
    (Protocol::Tcp, 22),
    (Protocol::Tcp, 3389),
    (Protocol::Udp, 3389),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    All,
    Tcp,
    Udp,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

/// One ingress entry, from either form.
#[derive(Debug, Clone, Copy)]
struct Entry {
    number: i64,
    allow: bool,
    /// The world-open family the entry matches, if it matches the whole internet.
    world: Option<Family>,
    protocol: Protocol,
    range: PortRange,
}

impl Entry {
    fn read(entry: &Value, number_key: &str, action_key: &str) -> Entry {
        let protocol = match entry
            .field("protocol")
            .as_str()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("-1" | "all") => Protocol::All,
            Some("6" | "tcp") => Protocol::Tcp,
            Some("17" | "udp") => Protocol::Udp,
            _ => Protocol::Other,
        };
        let world = if entry.field("cidr_block").as_str().is_some_and(is_world) {
            Some(Family::V4)
        } else if entry
            .field("ipv6_cidr_block")
            .as_str()
            .is_some_and(is_world)
        {
            Some(Family::V6)
        } else {
            None
        };
        Entry {
            number: entry.field(number_key).as_i64().unwrap_or(i64::MAX),
            allow: entry
                .field(action_key)
                .as_str()
                .is_some_and(|a| a.eq_ignore_ascii_case("allow")),
            world,
            protocol,
            range: PortRange::aws(entry),
        }
    }

    /// `true` when the entry matches traffic of `protocol` to `port`.
    fn covers(self, (protocol, port): (Protocol, i64)) -> bool {
        match self.protocol {
            Protocol::All => true,
            p if p == protocol => self.range.covers(port),
            _ => false,
        }
    }

    /// The administration endpoints the internet reaches through this entry, given the other
    /// entries of the same ACL and direction.
    fn reachable(self, others: &[Entry]) -> Vec<(Protocol, i64)> {
        let Some(family) = self.world.filter(|_| self.allow) else {
            return Vec::new();
        };
        TARGETS
            .into_iter()
            .filter(|&t| self.covers(t))
            .filter(|&t| {
                !others.iter().any(|o| {
                    !o.allow && o.world == Some(family) && o.number < self.number && o.covers(t)
                })
            })
            .collect()
    }

    fn describe(self, reachable: &[(Protocol, i64)]) -> String {
        let source = if self.world == Some(Family::V6) {
            "::/0"
        } else {
            "0.0.0.0/0"
        };
        let protocol = match self.protocol {
            Protocol::All => return format!("allows all traffic from `{source}`"),
            Protocol::Udp => "udp",
            _ => "tcp",
        };
        let mut text = format!(
            "allows {protocol} {} from `{source}`",
            self.range.describe()
        );
        if self.range.from != self.range.to {
            let ports: Vec<String> = reachable.iter().map(|(_, port)| port.to_string()).collect();
            text.push_str(&format!(", including {}", ports.join(" and ")));
        }
        text
    }
}

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.kind == "aws_network_acl" {
        check_inline(resource, out);
    } else {
        check_rule(resource, cx, out);
    }
}

fn check_inline(resource: &Resource, out: &mut Report<'_>) {
    if resource.is_unknown("ingress") && resource.after.get("ingress").is_none() {
        out.unknown(resource, "ingress");
        return;
    }
    let raw = resource.after.field("ingress").items();
    let entries: Vec<Entry> = raw
        .iter()
        .map(|e| Entry::read(e, "rule_no", "action"))
        .collect();
    for (i, entry) in entries.iter().enumerate() {
        let reachable = entry.reachable(&entries);
        if !reachable.is_empty() {
            report(resource, *entry, &reachable, &format!("ingress.{i}."), out);
            continue;
        }
        // An entry that may allow the internet to an administration port, had its unknown
        // parts the wrong value.
        if !TARGETS.into_iter().any(|t| entry.covers(t)) {
            continue;
        }
        let unknown = |key: &str| resource.is_unknown(&format!("ingress.{i}.{key}"));
        let key = if entry.world.is_some() && !entry.allow && unknown("action") {
            Some("action")
        } else if entry.world.is_none() && (entry.allow || unknown("action")) {
            ["cidr_block", "ipv6_cidr_block"]
                .into_iter()
                .find(|k| unknown(k))
        } else {
            None
        };
        if let Some(key) = key {
            out.unknown(resource, &format!("ingress.{i}.{key}"));
        }
    }
}

fn check_rule(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    if resource.after_bool("egress") == Some(true) {
        return;
    }
    let entry = Entry::read(&resource.after, "rule_number", "rule_action");
    let unknown_cidr = if entry.world.is_none() {
        match ["cidr_block", "ipv6_cidr_block"]
            .into_iter()
            .find(|k| resource.attr(k) == Attr::Unknown)
        {
            Some(key) => Some(key),
            None => return,
        }
    } else {
        None
    };
    for key in ["egress", "rule_action", "protocol", "from_port", "to_port"] {
        if resource.attr(key) == Attr::Unknown {
            out.unknown(resource, key);
            return;
        }
    }
    if !entry.allow {
        return;
    }
    if let Some(key) = unknown_cidr {
        if TARGETS.into_iter().any(|t| entry.covers(t)) {
            out.unknown(resource, key);
        }
        return;
    }
    let siblings: Vec<Entry> = cx
        .live_of_kind("aws_network_acl_rule")
        .filter(|other| other.address != resource.address && same_acl(cx, resource, other))
        .filter(|other| other.after_bool("egress") != Some(true))
        .map(|other| Entry::read(&other.after, "rule_number", "rule_action"))
        .collect();
    let reachable = entry.reachable(&siblings);
    if !reachable.is_empty() {
        report(resource, entry, &reachable, "", out);
    }
}

fn report(
    resource: &Resource,
    entry: Entry,
    reachable: &[(Protocol, i64)],
    prefix: &str,
    out: &mut Report<'_>,
) {
    let (key, cidr) = if entry.world == Some(Family::V6) {
        ("ipv6_cidr_block", "fd00::/8")
    } else {
        ("cidr_block", "10.0.0.0/8")
    };
    let attribute = format!("{prefix}{key}");
    let label = if entry.number == i64::MAX {
        String::new()
    } else {
        format!("rule {} ", entry.number)
    };
    out.violation(
        resource,
        format!("network ACL {label}{}", entry.describe(reachable)),
    )
    .at(&attribute)
    .fix(Fix::set(
        format!("restrict `{attribute}` to the private range {cidr} (your VPN or bastion)"),
        &attribute,
        cidr,
    ));
}

/// `true` when two `aws_network_acl_rule` resources belong to the same ACL: equal known
/// `network_acl_id`s, or, for ACLs created in the same plan, the same configuration
/// references from unindexed blocks (with `count`/`for_each` the instance is ambiguous).
fn same_acl(cx: &CheckContext<'_>, a: &Resource, b: &Resource) -> bool {
    if let (Some(x), Some(y)) = (a.after_str("network_acl_id"), b.after_str("network_acl_id")) {
        return x == y;
    }
    if a.index.is_some() || b.index.is_some() || a.module != b.module {
        return false;
    }
    match (cx.config_of(a), cx.config_of(b)) {
        (Some(x), Some(y)) => {
            let (x, y) = (
                x.references_of("network_acl_id"),
                y.references_of("network_acl_id"),
            );
            !x.is_empty() && x == y
        }
        _ => false,
    }
}
