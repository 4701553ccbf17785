use crate::helpers::PortRange;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// `google_compute_firewall` rules that let the whole internet (`0.0.0.0/0` or `::/0`)
    /// reach SSH (tcp/22) or RDP (tcp and udp/3389): an `allow` block with protocol `all`, or
    /// `tcp`/`udp` whose `ports` include 22 or 3389 (entries like `"20-30"` count, and no
    /// `ports` means every port). Only enabled ingress rules count (`direction` defaults to
    /// `INGRESS`, `disabled = true` turns a rule off). An ingress rule without any source
    /// (`source_ranges`, `source_tags` and `source_service_accounts` all empty) applies to
    /// `0.0.0.0/0` and counts too. World-open rules that reach no administration port are
    /// left to `firewall-open-to-world`, so nothing is reported twice.
    ///
    /// ## Why it matters
    /// Remote-administration ports open to the internet are scanned within minutes of
    /// creation and brute-forced continuously; one weak credential or unpatched daemon gives
    /// an attacker a shell inside your VPC. In GCP a rule without `target_tags` applies to
    /// every instance of the network that has an external IP.
    ///
    /// ## Example
    /// ```yaml
    /// google_compute_firewall.ssh: { after: { network: default, source_ranges: ["0.0.0.0/0"], allow: [{ protocol: tcp, ports: ["22"] }] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// google_compute_firewall.ssh: { after: { network: default, source_ranges: ["35.235.240.0/20"], allow: [{ protocol: tcp, ports: ["22"] }] } }
    /// ```
    ///
    /// ## Fix
    /// Replaces the world-open ranges in `source_ranges` with `35.235.240.0/20`, the range
    /// Identity-Aware Proxy (IAP) TCP forwarding connects from: SSH and RDP then go through
    /// `gcloud compute ssh --tunnel-through-iap` (or an IAP tunnel), authenticated and
    /// authorized by IAM (`roles/iap.tunnelResourceAccessor`), and nothing is exposed to the
    /// internet. If you do not use IAP, put your VPN or bastion range there instead. Other,
    /// non-world ranges in the list are kept.
    ///
    /// A higher-priority `deny` rule may already block this traffic; the rule does not model
    /// rule priorities, so keep the exposure out of the `allow` rule itself.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Google Cloud: VPC firewall rules](https://cloud.google.com/firewall/docs/firewalls)
    /// - [Google Cloud: Using IAP for TCP forwarding](https://cloud.google.com/iap/docs/using-tcp-forwarding)
    /// - [Terraform: google_compute_firewall](https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/compute_firewall)
    /// - Checkov `CKV_GCP_2`, `CKV_GCP_3`; Trivy `AVD-GCP-0027`
    pub(crate) static FIREWALL_ADMIN_PORT_OPEN_TO_WORLD = RuleMeta {
        id: "WD-GCP-001",
        name: "firewall-admin-port-open-to-world",
        title: "Firewall rule opens SSH, RDP or all ports to the internet",
        severity: Severity::Critical,
        enforcement: Enforcement::Deny,
        kinds: &["google_compute_firewall"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_GCP_2", "CKV_GCP_3", "AVD-GCP-0027"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The range Identity-Aware Proxy TCP forwarding connects from.
const IAP_RANGE: &str = "35.235.240.0/20";

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let exposure = exposure(resource);
    match (&exposure.source, &exposure.reach) {
        (Source::Closed, _) | (_, Reach::Nothing) => {}
        (Source::Unknown(attribute), Reach::Unknown) => out.unknown(resource, attribute),
        (Source::Unknown(attribute), Reach::Known { admin, .. }) if !admin.is_empty() => {
            out.unknown(resource, attribute)
        }
        (Source::World(_), Reach::Unknown) => out.unknown(resource, "allow"),
        (Source::World(from), Reach::Known { admin, described }) if !admin.is_empty() => {
            out.violation(resource, format!("ingress from {from} allows {described}, which reaches {}", helpers::describe_admin_ports(admin)))
                .at("source_ranges")
                .fix(narrow_sources(
                    resource,
                    IAP_RANGE,
                    format!(
                        "replace the world-open source ranges with {IAP_RANGE} (Identity-Aware Proxy TCP forwarding; \
                         connect with `gcloud compute ssh --tunnel-through-iap`) or your VPN/bastion range"
                    ),
                ));
        }
        _ => {}
    }
}

/// Where the traffic a firewall rule admits comes from.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Source {
    /// Not from the whole internet (egress, disabled, or restricted sources).
    Closed,
    /// From the whole internet; how, for messages.
    World(String),
    /// Cannot tell: the attribute is known only after apply.
    Unknown(&'static str),
}

/// What a firewall rule's `allow` blocks admit.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Reach {
    /// Nothing (a `deny` rule).
    Nothing,
    /// Known protocols and ports: the administration ports among them, and a description.
    Known {
        /// Administration ports reached (SSH 22, RDP 3389), sorted.
        admin: Vec<i64>,
        /// What is allowed (`tcp:22,443`, `all protocols and ports`).
        described: String,
    },
    /// Cannot tell: the `allow` blocks are known only after apply.
    Unknown,
}

/// What a firewall rule exposes.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Exposure {
    /// Where the traffic comes from.
    pub(super) source: Source,
    /// What it reaches.
    pub(super) reach: Reach,
}

/// Reads a `google_compute_firewall` rule.
pub(super) fn exposure(resource: &Resource) -> Exposure {
    Exposure {
        source: source(resource),
        reach: reach(resource),
    }
}

fn source(resource: &Resource) -> Source {
    match resource.attr("disabled") {
        Attr::Known(v) if v.as_bool() == Some(true) => return Source::Closed,
        Attr::Unknown => return Source::Unknown("disabled"),
        _ => {}
    }
    // `direction` is optional and computed (default INGRESS): unknown means "not set".
    if resource
        .after_str("direction")
        .is_some_and(|d| d.eq_ignore_ascii_case("EGRESS"))
    {
        return Source::Closed;
    }
    let ranges = match resource.attr("source_ranges") {
        Attr::Known(v) => v.items(),
        Attr::Unknown => return Source::Unknown("source_ranges"),
        Attr::Absent => &[],
    };
    let world: Vec<&str> = ranges
        .iter()
        .filter_map(Value::as_str)
        .filter(|c| helpers::is_world(c))
        .collect();
    if !world.is_empty() {
        return Source::World(helpers::code_list(&world, " and "));
    }
    if ranges.iter().any(|c| c.as_str().is_none()) && resource.is_unknown("source_ranges") {
        return Source::Unknown("source_ranges");
    }
    if !ranges.is_empty() {
        return Source::Closed;
    }
    // No source range: Google Cloud applies the rule to 0.0.0.0/0 unless source tags or
    // service accounts select the sources.
    for key in ["source_tags", "source_service_accounts"] {
        match resource.attr(key) {
            Attr::Known(v) if !v.items().is_empty() => return Source::Closed,
            Attr::Unknown => return Source::Unknown(key),
            _ => {}
        }
    }
    Source::World(
        "any address (no source ranges, tags or service accounts means `0.0.0.0/0`)".to_owned(),
    )
}

fn reach(resource: &Resource) -> Reach {
    let blocks = resource.after.field("allow").items();
    if blocks.is_empty() {
        return if resource.is_unknown("allow") {
            Reach::Unknown
        } else {
            Reach::Nothing
        };
    }
    let mut admin: Vec<i64> = Vec::new();
    let mut described: Vec<String> = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let Some(protocol) = block
            .field("protocol")
            .as_str()
            .map(str::to_ascii_lowercase)
        else {
            if resource.is_unknown(&format!("allow.{i}.protocol")) {
                return Reach::Unknown;
            }
            continue;
        };
        let ports = block.field("ports").items();
        if ports.iter().any(|p| p.as_str().is_none())
            || (ports.is_empty() && resource.is_unknown(&format!("allow.{i}.ports")))
        {
            return Reach::Unknown;
        }
        let name = match protocol.as_str() {
            "6" => "tcp",
            "17" => "udp",
            "132" => "sctp",
            other => other,
        };
        if name == "all" {
            admin.extend(helpers::ADMIN_PORTS);
            described.push("all protocols and ports".to_owned());
            continue;
        }
        if !matches!(name, "tcp" | "udp" | "sctp") {
            described.push(name.to_owned());
            continue;
        }
        let ranges: Vec<PortRange> = if ports.is_empty() {
            vec![PortRange {
                from: 0,
                to: 65535,
                all_protocols: false,
            }]
        } else {
            ports
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|p| PortRange::parse(p, false))
                .collect()
        };
        for range in &ranges {
            admin.extend(range.admin_ports_over(name));
        }
        if ports.is_empty() {
            described.push(format!("{name} on all ports"));
        } else {
            let list: Vec<&str> = ports.iter().filter_map(Value::as_str).collect();
            described.push(format!("{name}:{}", list.join(",")));
        }
    }
    admin.sort_unstable();
    admin.dedup();
    Reach::Known {
        admin,
        described: described.join(", "),
    }
}

/// A fix replacing the world-open ranges in `source_ranges` with `cidr` (kept ranges stay; an
/// empty result gets `cidr`, since no source at all would mean `0.0.0.0/0` again).
pub(super) fn narrow_sources(resource: &Resource, cidr: &str, description: String) -> Fix {
    let kept = helpers::without_world(resource.after.field("source_ranges"), Some(cidr));
    Fix::set(description, "source_ranges", kept)
}
