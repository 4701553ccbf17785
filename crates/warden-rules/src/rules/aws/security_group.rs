//! The walk over security group ingress that `security-group-admin-port-open-to-world`
//! (WD-AWS-007) and `security-group-open-to-world` (WD-AWS-008) share: inline `ingress` blocks
//! of `aws_security_group`, `aws_security_group_rule` with `type = "ingress"`, and
//! `aws_vpc_security_group_ingress_rule`, with the fixes that narrow world-open CIDRs. Each
//! rule says only which ports are its to report, in a [`Scope`].

use crate::helpers::{any_world, PortRange};
use crate::prelude::*;

/// The private range a fix narrows world-open CIDRs to.
const FIX_CIDR: &str = "10.0.0.0/8";

/// What one security group rule reports; the walk and the fixes are shared.
pub(super) struct Scope {
    /// `true` when ingress to the port range is the rule's to report.
    pub(super) ports: fn(PortRange) -> bool,
    /// What an ingress rule (block) reaches, for a message: `port 443`, `all ports`.
    pub(super) describe: fn(&Value, PortRange) -> String,
    /// Said after [`FIX_CIDR`] in a fix's description (`" (your VPN or bastion)"`, or `""`).
    pub(super) fix_note: &'static str,
}

/// Checks the ingress of a security group, security group rule or VPC ingress rule.
pub(super) fn check(resource: &Resource, scope: &Scope, out: &mut Report<'_>) {
    match resource.kind.as_str() {
        "aws_security_group" => {
            if resource.is_unknown("ingress") && resource.after.get("ingress").is_none() {
                out.unknown(resource, "ingress");
                return;
            }
            for (i, rule) in resource.after.field("ingress").items().iter().enumerate() {
                check_rule(resource, scope, rule, &format!("ingress.{i}."), out);
            }
        }
        "aws_security_group_rule" => {
            if resource.after_str("type") == Some("ingress") {
                check_rule(resource, scope, &resource.after, "", out);
            }
        }
        _ => check_vpc_rule(resource, scope, out),
    }
}

/// One ingress rule with `cidr_blocks`/`ipv6_cidr_blocks`: an inline block (attribute paths
/// under `prefix`) or an `aws_security_group_rule`.
fn check_rule(
    resource: &Resource,
    scope: &Scope,
    rule: &Value,
    prefix: &str,
    out: &mut Report<'_>,
) {
    if rule.field("self").as_bool() == Some(true) && rule.get("cidr_blocks").is_none() {
        return;
    }
    let range = PortRange::aws(rule);
    let in_scope = (scope.ports)(range);
    if !in_scope {
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
        let fallback = (key == "cidr_blocks").then_some(FIX_CIDR);
        out.violation(
            resource,
            format!(
                "ingress from `{}` reaches {}",
                if key == "cidr_blocks" {
                    "0.0.0.0/0"
                } else {
                    "::/0"
                },
                (scope.describe)(rule, range)
            ),
        )
        .at(&attribute)
        .fix(Fix::set(
            format!(
                "restrict `{attribute}` to a private range such as {FIX_CIDR}{}",
                scope.fix_note
            ),
            &attribute,
            helpers::without_world(rule.field(key), fallback),
        ));
    }
}

/// An `aws_vpc_security_group_ingress_rule`: one `cidr_ipv4` or `cidr_ipv6`.
fn check_vpc_rule(resource: &Resource, scope: &Scope, out: &mut Report<'_>) {
    let range = PortRange::aws(&resource.after);
    let in_scope = (scope.ports)(range);
    if !in_scope {
        return;
    }
    for key in ["cidr_ipv4", "cidr_ipv6"] {
        match resource.attr(key) {
            Attr::Known(v) if v.as_str().is_some_and(helpers::is_world) => {
                let fix = if key == "cidr_ipv4" {
                    Fix::set(
                        format!("restrict `cidr_ipv4` to {FIX_CIDR}{}", scope.fix_note),
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
                        (scope.describe)(&resource.after, range)
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
