use crate::helpers::{any_world, PortRange};
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

/// The private range a fix narrows world-open CIDRs to.
const FIX_CIDR: &str = "10.0.0.0/8";

/// `true` when the range is this rule's to report: not all ports, and no administration port
/// (those belong to `security-group-admin-port-open-to-world`).
fn in_scope(range: PortRange) -> bool {
    !range.is_all() && range.admin_ports().is_empty()
}

/// What the rule reaches, for a message: `port 443`, `ports 8000-8100`, `ICMP`.
fn describe(rule: &Value, range: PortRange) -> String {
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
    match resource.kind.as_str() {
        "aws_security_group" => {
            if resource.is_unknown("ingress") && resource.after.get("ingress").is_none() {
                out.unknown(resource, "ingress");
                return;
            }
            for (i, rule) in resource.after.field("ingress").items().iter().enumerate() {
                check_rule(resource, rule, &format!("ingress.{i}."), out);
            }
        }
        "aws_security_group_rule" => {
            if resource.after_str("type") == Some("ingress") {
                check_rule(resource, &resource.after, "", out);
            }
        }
        _ => check_vpc_rule(resource, out),
    }
}

fn check_rule(resource: &Resource, rule: &Value, prefix: &str, out: &mut Report<'_>) {
    if rule.field("self").as_bool() == Some(true) && rule.get("cidr_blocks").is_none() {
        return;
    }
    let range = PortRange::aws(rule);
    if !in_scope(range) {
        return;
    }
    let open: Vec<&str> = ["cidr_blocks", "ipv6_cidr_blocks"]
        .into_iter()
        .filter(|k| any_world(rule.get(k)))
        .collect();
    if open.is_empty() {
        for k in ["cidr_blocks", "ipv6_cidr_blocks"] {
            if resource.is_unknown(&format!("{prefix}{k}")) {
                out.unknown(resource, &format!("{prefix}{k}"));
                return;
            }
        }
        return;
    }
    for key in open {
        let attribute = format!("{prefix}{key}");
        let mut replacement: Vec<Value> = rule
            .field(key)
            .items()
            .iter()
            .filter(|c| !c.as_str().is_some_and(helpers::is_world))
            .cloned()
            .collect();
        if key == "cidr_blocks" && replacement.is_empty() {
            replacement.push(Value::from(FIX_CIDR));
        }
        out.violation(
            resource,
            format!(
                "ingress from `{}` reaches {}",
                if key == "cidr_blocks" {
                    "0.0.0.0/0"
                } else {
                    "::/0"
                },
                describe(rule, range)
            ),
        )
        .at(&attribute)
        .fix(Fix::set(
            format!("restrict `{attribute}` to a private range such as {FIX_CIDR}"),
            &attribute,
            Value::from(replacement),
        ));
    }
}

fn check_vpc_rule(resource: &Resource, out: &mut Report<'_>) {
    let range = PortRange::aws(&resource.after);
    if !in_scope(range) {
        return;
    }
    for key in ["cidr_ipv4", "cidr_ipv6"] {
        match resource.attr(key) {
            Attr::Known(v) if v.as_str().is_some_and(helpers::is_world) => {
                let fix = if key == "cidr_ipv4" {
                    Fix::set(format!("restrict `cidr_ipv4` to {FIX_CIDR}"), key, FIX_CIDR)
                } else {
                    Fix::remove("remove the world-open IPv6 range", key)
                };
                out.violation(
                    resource,
                    format!(
                        "ingress from `{}` reaches {}",
                        v.as_str().unwrap_or_default(),
                        describe(&resource.after, range)
                    ),
                )
                .at(key)
                .fix(fix);
            }
            Attr::Unknown => out.unknown(resource, key),
            _ => {}
        }
    }
}
