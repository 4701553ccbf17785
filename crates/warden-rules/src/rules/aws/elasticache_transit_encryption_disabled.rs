use super::planned::left_to_provider;
use crate::prelude::*;

declare_rule! {
    /// ## What it checks
    /// ElastiCache replication groups (`aws_elasticache_replication_group`, Redis OSS and
    /// Valkey) with `transit_encryption_enabled` set to `false` or left out, which AWS treats
    /// as off. The provider computes the argument when the configuration leaves it out, so
    /// the plan shows it as known after apply; the rule then reads the configuration. Members
    /// of a global datastore (`global_replication_group_id`) inherit the setting from it and
    /// are skipped.
    ///
    /// ## Why it matters
    /// Without in-transit encryption, every command and reply between clients and the cache,
    /// and the replication stream between nodes, crosses the network in clear text. Caches
    /// hold session tokens, personal data and query results; anyone who can capture traffic
    /// in the VPC can read or alter them. In-transit encryption is also required for Redis
    /// AUTH tokens and RBAC users to be meaningful.
    ///
    /// ## Example
    /// ```yaml
    /// aws_elasticache_replication_group.sessions: { after: { replication_group_id: sessions, engine: redis, transit_encryption_enabled: false } }
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// aws_elasticache_replication_group.sessions: { after: { replication_group_id: sessions, engine: redis, transit_encryption_enabled: true } }
    /// ```
    ///
    /// ## Fix
    /// Sets `transit_encryption_enabled = true`. Clients must then connect with TLS. On an
    /// existing group, Redis OSS 7 and later can migrate in place through
    /// `transit_encryption_mode = "preferred"` then `"required"`; older engines or provider
    /// versions replace the group.
    ///
    /// ## Parameters
    /// None.
    ///
    /// ## References
    /// - [AWS: ElastiCache in-transit encryption (TLS)](https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption.html)
    /// - Checkov `CKV_AWS_30`; Trivy `AVD-AWS-0051`
    pub(crate) static ELASTICACHE_TRANSIT_ENCRYPTION_DISABLED = RuleMeta {
        id: "WD-AWS-042",
        name: "elasticache-transit-encryption-disabled",
        title: "ElastiCache replication group does not encrypt data in transit",
        severity: Severity::Medium,
        enforcement: Enforcement::Warn,
        kinds: &["aws_elasticache_replication_group"],
        fix: FixAvailability::Always,
        params: &[],
        aliases: &["CKV_AWS_30", "AVD-AWS-0051"],
        status: RuleStatus::Stable { since: "0.1.0" },
        check: Check::Resource(check),
    };
}

const ATTRIBUTE: &str = "transit_encryption_enabled";

fn check(resource: &Resource, cx: &CheckContext<'_>, out: &mut Report<'_>) {
    match resource.attr("global_replication_group_id") {
        Attr::Known(v) if v.as_str().is_some_and(|s| !s.is_empty()) => return,
        Attr::Unknown if !left_to_provider(resource, cx, "global_replication_group_id") => return,
        _ => {}
    }
    let reason = match resource.attr(ATTRIBUTE) {
        Attr::Known(v) if v.as_bool() == Some(true) => return,
        Attr::Known(_) => "sets `transit_encryption_enabled = false`",
        Attr::Unknown if left_to_provider(resource, cx, ATTRIBUTE) => {
            "leaves `transit_encryption_enabled` unset, which is off"
        }
        Attr::Unknown => {
            out.unknown(resource, ATTRIBUTE);
            return;
        }
        Attr::Absent => "leaves `transit_encryption_enabled` unset, which is off",
    };
    let id = helpers::label(resource, "replication_group_id");
    out.violation(
        resource,
        format!("replication group{id} {reason}: traffic to the cache is not encrypted"),
    )
    .at(ATTRIBUTE)
    .fix(Fix::set(
        "encrypt traffic in transit (clients must use TLS)",
        ATTRIBUTE,
        true,
    ));
}
