use super::firewall_admin_port_open_to_world::{exposure, narrow_sources, Reach, Source};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// `google_compute_firewall` ingress rules open to the whole internet (`0.0.0.0/0` or
    /// `::/0` in `source_ranges`, or no source at all, which Google Cloud reads as
    /// `0.0.0.0/0`) that allow anything other than the administration ports: a web port, a
    /// database port, a port range, ICMP. Rules that reach SSH (22), RDP (3389) or every
    /// port are left to `firewall-admin-port-open-to-world`, which denies them, so nothing is
    /// reported twice. Disabled rules and egress rules are ignored.
    ///
    /// ## Why it matters
    /// Every port open to the internet is attack surface that is scanned continuously. Some
    /// exposure is intended (HTTPS on a public web server), much is not (a database, a cache, a
    /// metrics endpoint opened "temporarily"), and the two look the same in a plan. The rule
    /// asks a human to confirm each one instead of blocking outright.
    ///
    /// ## Example
    /// ```yaml
    /// google_compute_firewall.postgres: { after: { network: default, source_ranges: ["0.0.0.0/0"], allow: [{ protocol: tcp, ports: ["5432"] }] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// google_compute_firewall.postgres: { after: { network: default, source_ranges: ["10.0.0.0/8"], allow: [{ protocol: tcp, ports: ["5432"] }] } }
    /// ```
    ///
    /// ## Fix
    /// Replaces the world-open ranges in `source_ranges` with `10.0.0.0/8`, a private range to
    /// narrow further (your VPC subnets, a peered network, a VPN); other ranges are kept. For
    /// traffic from Google Cloud load balancers, allow their ranges (`130.211.0.0/22`,
    /// `35.191.0.0/16`) instead of the internet. When the exposure is intended (a public web
    /// endpoint), approve it or record an exception.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [Google Cloud: VPC firewall rules](https://cloud.google.com/firewall/docs/firewalls)
    /// - [Terraform: google_compute_firewall](https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/compute_firewall)
    /// - Trivy `AVD-GCP-0027`
    pub(crate) static FIREWALL_OPEN_TO_WORLD = RuleMeta {
        id: "WD-GCP-002",
        name: "firewall-open-to-world",
        title: "Firewall rule opens a port to the internet",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &["google_compute_firewall"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["AVD-GCP-0027"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The private range a fix narrows world-open ranges to.
const FIX_CIDR: &str = "10.0.0.0/8";

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    let exposure = exposure(resource);
    // Unknown ports, and anything reaching an administration port, are
    // `firewall-admin-port-open-to-world`'s to report.
    match (&exposure.source, &exposure.reach) {
        (Source::Unknown(attribute), Reach::Known { admin, .. }) if admin.is_empty() => {
            out.unknown(resource, attribute)
        }
        (Source::World(from), Reach::Known { admin, described }) if admin.is_empty() => {
            out.violation(resource, format!("ingress from {from} allows {described}"))
                .at("source_ranges")
                .fix(narrow_sources(
                    resource,
                    FIX_CIDR,
                    format!("replace the world-open source ranges with a private range such as {FIX_CIDR}"),
                ));
        }
        _ => {}
    }
}
