use super::security_group::{self, Scope};
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

/// Ingress to SSH, RDP or every port; a CIDR known only after apply is reported whatever the
/// ports, since it may open one.
static SCOPE: Scope = Scope {
    ports: in_scope,
    describe,
    fix_note: " (your VPN or bastion)",
};

/// `true` when the range is this rule's to report: every port, or one that includes an
/// administration port.
fn in_scope(range: helpers::PortRange) -> bool {
    range.is_all() || !range.admin_ports().is_empty()
}

/// What the rule reaches, for a message: `port 22`, `ports 0-1024`, `all ports`.
fn describe(_rule: &Value, range: helpers::PortRange) -> String {
    range.describe()
}

fn check(resource: &Resource, _cx: &CheckContext<'_>, out: &mut Report<'_>) {
    security_group::check(resource, &SCOPE, out);
}
