use super::security_group::{self, Scope};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Security group ingress from the whole internet (`0.0.0.0/0` or `::/0`) to ports other
    /// than the administration ports: a web port, a database port, a port range. It reads
    /// inline `ingress` blocks of `aws_security_group`, `aws_security_group_rule` with
    /// `type = "ingress"`, and `aws_vpc_security_group_ingress_rule`. Ranges that include SSH
    /// (22) or RDP (3389), and all-port rules, are left to
    /// `security-group-admin-port-open-to-world`, which denies them, so nothing is reported
    /// twice.
    ///
    /// ## Why it matters
    /// Every port open to the internet is attack surface that is scanned continuously. Some
    /// exposure is intended (HTTPS on a public load balancer), much is not (a database, a
    /// cache, a metrics endpoint opened "temporarily"), and the two look the same in a plan.
    /// The rule asks a human to confirm each one instead of blocking outright.
    ///
    /// ## Example
    /// ```yaml
    /// aws_security_group_rule.postgres: { after: { type: ingress, protocol: tcp, from_port: 5432, to_port: 5432, cidr_blocks: ["0.0.0.0/0"] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_security_group_rule.postgres: { after: { type: ingress, protocol: tcp, from_port: 5432, to_port: 5432, cidr_blocks: ["10.0.0.0/8"] } }
    /// ```
    ///
    /// ## Fix
    /// Replaces the world-open IPv4 CIDRs with `10.0.0.0/8`, a private range to narrow further
    /// (the VPC, a peer network, a VPN), and removes a world-open IPv6 range. When the exposure
    /// is intended (a public web endpoint), approve it or record an exception instead.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Security group rules](https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html)
    /// - Checkov `CKV_AWS_260`; Trivy `AVD-AWS-0107`
    pub(crate) static SECURITY_GROUP_OPEN_TO_WORLD = RuleMeta {
        id: "WD-AWS-008",
        name: "security-group-open-to-world",
        title: "Security group opens a port to the internet",
        severity: Severity::Medium,
        enforcement: Enforcement::RequireApproval,
        kinds: &["aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_260", "AVD-AWS-0107"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// Ingress to ports other than the administration ports; unknown CIDRs of rules reaching an
/// administration port are left to `security-group-admin-port-open-to-world`.
static SCOPE: Scope = Scope {
    ports: in_scope,
    describe,
    fix_note: "",
};

/// `true` when the range is this rule's to report: not all ports, and no administration port
/// (those belong to `security-group-admin-port-open-to-world`).
fn in_scope(range: helpers::PortRange) -> bool {
    !range.is_all() && range.admin_ports().is_empty()
}

/// What the rule reaches, for a message: `port 443`, `ports 8000-8100`, `ICMP`.
fn describe(rule: &Value, range: helpers::PortRange) -> String {
    let protocol = rule
        .field("protocol")
        .as_str()
        .or_else(|| rule.field("ip_protocol").as_str())
        .unwrap_or_default();
    match protocol.to_ascii_lowercase().as_str() {
        "icmp" | "1" => "ICMP".to_owned(),
        "icmpv6" | "58" => "ICMPv6".to_owned(),
        _ => range.describe(),
    }
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    security_group::check(resource, &SCOPE, out);
}
