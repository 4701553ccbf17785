use crate::helpers::{any_world, PortRange};
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// Security group ingress from the whole internet (`0.0.0.0/0` or `::/0`) that reaches an
    /// administration port: SSH (22), RDP (3389), or every port. It reads inline `ingress`
    /// blocks of `aws_security_group`, `aws_security_group_rule` with `type = "ingress"`, and
    /// `aws_vpc_security_group_ingress_rule`.
    ///
    /// ## Why it matters
    /// Remote-administration ports open to the internet are scanned within minutes of
    /// creation and brute-forced continuously; one weak credential or unpatched daemon gives
    /// an attacker a shell inside your network.
    ///
    /// ## Example
    /// ```yaml
    /// aws_security_group_rule.ssh: { action: create, after: { type: ingress, protocol: tcp, from_port: 22, to_port: 22, cidr_blocks: ["0.0.0.0/0"] } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_security_group_rule.ssh: { action: create, after: { type: ingress, protocol: tcp, from_port: 22, to_port: 22, cidr_blocks: ["10.0.0.0/8"] } }
    /// ```
    ///
    /// ## Fix
    /// Replaces the world-open CIDRs with `10.0.0.0/8`, a private range to narrow further
    /// (your VPN or bastion). Better still, use AWS Systems Manager Session Manager and open
    /// no administration port at all.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: Security group rules](https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html)
    /// - Checkov `CKV_AWS_24`, `CKV_AWS_25`, `CKV_AWS_277`; Trivy `AVD-AWS-0107`
    pub(crate) static SECURITY_GROUP_ADMIN_PORT_OPEN_TO_WORLD = RuleMeta {
        id: "WD-AWS-007",
        name: "security-group-admin-port-open-to-world",
        title: "Security group opens SSH, RDP or all ports to the internet",
        severity: Severity::Critical,
        enforcement: Enforcement::Deny,
        kinds: &["aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_277", "AVD-AWS-0107"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

/// The private range a fix narrows world-open CIDRs to.
const FIX_CIDR: &str = "10.0.0.0/8";

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
    let range = PortRange::aws(rule);
    if !range.is_all() && range.admin_ports().is_empty() {
        return;
    }
    for key in open {
        let attribute = format!("{prefix}{key}");
        let kept: Vec<Value> = rule
            .field(key)
            .items()
            .iter()
            .filter(|c| !c.as_str().is_some_and(helpers::is_world))
            .cloned()
            .collect();
        let mut replacement = kept;
        if key == "cidr_blocks" && replacement.is_empty() {
            replacement.push(Value::from(FIX_CIDR));
        }
        out.violation(
            resource,
            format!("ingress from `{}` reaches {}", if key == "cidr_blocks" { "0.0.0.0/0" } else { "::/0" }, range.describe()),
        )
        .at(&attribute)
        .fix(Fix::set(
            format!("restrict `{attribute}` to a private range such as {FIX_CIDR} (your VPN or bastion)"),
            &attribute,
            Value::from(replacement),
        ));
    }
}

fn check_vpc_rule(resource: &Resource, out: &mut Report<'_>) {
    for key in ["cidr_ipv4", "cidr_ipv6"] {
        match resource.attr(key) {
            Attr::Known(v) if v.as_str().is_some_and(helpers::is_world) => {
                let range = PortRange::aws(&resource.after);
                if range.is_all() || !range.admin_ports().is_empty() {
                    let fix = if key == "cidr_ipv4" {
                        Fix::set(
                            format!("restrict `cidr_ipv4` to {FIX_CIDR} (your VPN or bastion)"),
                            key,
                            FIX_CIDR,
                        )
                    } else {
                        Fix::remove("remove the world-open IPv6 range", key)
                    };
                    out.violation(
                        resource,
                        format!(
                            "ingress from `{}` reaches {}",
                            v.as_str().unwrap_or_default(),
                            range.describe()
                        ),
                    )
                    .at(key)
                    .fix(fix);
                }
            }
            Attr::Unknown => out.unknown(resource, key),
            _ => {}
        }
    }
}
