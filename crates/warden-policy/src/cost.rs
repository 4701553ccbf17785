//! The decision's cost step: every decision carries the estimate of its change sets, and
//! WD-COST-001 checks the monthly delta against the `[cost]` thresholds (a space's may be
//! lower).
//!
//! ```toml
//! [cost]
//! catalog = "prices.json"     # merged over the embedded catalog (their entries win)
//! usage = "usage.yaml"        # GB stored, GB processed, hours per month ...
//! approval-above = 500.0      # monthly delta in USD above which the change needs approval
//! deny-above = 2000.0         # ... above which it is denied
//!
//! [spaces.dev.cost]
//! approval-above = 100.0      # a space may only lower a threshold
//! ```
//!
//! WD-COST-001 is registered in warden-rules for its id, docs and configuration
//! (`Check::Derived`): the built-in engine does not run it, since the delta is the
//! decision's — every input together, priced with the user's catalog and usage — and this
//! step makes its finding before exceptions and waivers apply, like any other finding.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use warden_core::cost::money::{signed_usd, usd};
use warden_core::cost::{Catalog, CostError, CostEstimate, CostLimit, LimitScope, Usage};
use warden_core::{ChangeSet, Enforcement, Finding, Location};
use warden_rules::{ResolvedRule, UnknownPolicy};

use crate::config::ConfigError;

/// The id of the rule this step reports under.
pub const RULE_ID: &str = "WD-COST-001";

/// Monthly-delta thresholds in USD; `None` is no threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    /// Above this, the change needs approval.
    pub approval_above: Option<f64>,
    /// Above this, the change is denied.
    pub deny_above: Option<f64>,
}

impl Thresholds {
    /// `true` when no threshold is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.approval_above.is_none() && self.deny_above.is_none()
    }

    /// Text for the policy revision.
    pub(crate) fn revision_part(&self) -> String {
        format!(
            "approval-above={:?} deny-above={:?}",
            self.approval_above, self.deny_above
        )
    }
}

/// `[cost]` as `warden.toml` gives it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostSettings {
    /// A catalog file merged over the embedded one (resolved against the configuration's
    /// folder).
    pub catalog: Option<PathBuf>,
    /// A usage file (resolved likewise).
    pub usage: Option<PathBuf>,
    /// The account's thresholds.
    pub thresholds: Thresholds,
    /// 1-based lines of `catalog` and `usage`, for errors (0 when unknown).
    pub lines: (usize, usize),
}

/// The catalog, usage and thresholds a policy set prices decisions with.
#[derive(Debug, Clone, Default)]
pub struct CostPolicy {
    /// `None`: the embedded catalog alone.
    catalog: Option<Arc<Catalog>>,
    usage: Arc<Usage>,
    thresholds: Thresholds,
    /// Digests of the catalog and usage files, for the policy revision.
    digests: Vec<String>,
}

impl CostPolicy {
    /// Reads the catalog and usage files of `[cost]`; `config_path` names the configuration
    /// in errors (`warden.toml:3: cost.catalog: prices.json:3:5: ...`).
    pub fn load(settings: &CostSettings, config_path: &str) -> Result<CostPolicy, ConfigError> {
        let invalid = |key: &str, line: usize, e: CostError| ConfigError::Invalid {
            path: config_path.to_owned(),
            line,
            key: format!("cost.{key}"),
            message: e.to_string(),
        };
        let catalog = settings
            .catalog
            .as_deref()
            .map(Catalog::load)
            .transpose()
            .map_err(|e| invalid("catalog", settings.lines.0, e))?;
        let usage = settings
            .usage
            .as_deref()
            .map(Usage::load)
            .transpose()
            .map_err(|e| invalid("usage", settings.lines.1, e))?;
        let mut policy = CostPolicy::new(catalog, usage, settings.thresholds);
        policy.digests = [&settings.catalog, &settings.usage]
            .into_iter()
            .flatten()
            .map(|p| file_digest(p))
            .collect();
        Ok(policy)
    }

    /// A policy over a user's catalog (merged over the embedded one) and usage.
    #[must_use]
    pub fn new(
        catalog: Option<Catalog>,
        usage: Option<Usage>,
        thresholds: Thresholds,
    ) -> CostPolicy {
        CostPolicy {
            catalog: catalog.map(|mine| Arc::new(Catalog::embedded().merged_with(mine))),
            usage: Arc::new(usage.unwrap_or_default()),
            thresholds,
            digests: Vec::new(),
        }
    }

    /// The prices: the embedded catalog, with the user's merged over it.
    #[must_use]
    pub fn catalog(&self) -> &Catalog {
        self.catalog
            .as_deref()
            .unwrap_or_else(|| Catalog::embedded())
    }

    /// The usage file's figures.
    #[must_use]
    pub fn usage(&self) -> &Usage {
        &self.usage
    }

    /// The account's thresholds.
    #[must_use]
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// The estimate of every change set together.
    #[must_use]
    pub fn estimate(&self, changes: &[&ChangeSet]) -> CostEstimate {
        warden_core::cost::estimate_all(changes, self.catalog(), &self.usage)
    }

    /// Parts of the policy revision: thresholds and the files' digests.
    pub(crate) fn revision_parts(&self) -> Vec<String> {
        let mut parts = vec![format!("cost {}", self.thresholds.revision_part())];
        parts.extend(self.digests.iter().cloned());
        parts
    }
}

fn file_digest(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| warden_core::digest::sha256(&b))
        .unwrap_or_default()
}

/// One threshold in force, with the setting it comes from.
#[derive(Debug, Clone, PartialEq)]
struct Limit {
    name: String,
    value: f64,
}

/// The thresholds a decision is checked against: per tier, the lowest of the account's
/// (when WD-COST-001 is enabled there) and the space's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effective {
    approval: Option<Limit>,
    deny: Option<Limit>,
}

impl Effective {
    /// Adds thresholds set under `prefix` (`cost`, `spaces.dev.cost`), keeping the lower of
    /// each tier.
    #[must_use]
    pub fn with(mut self, prefix: &str, thresholds: &Thresholds) -> Effective {
        let lower = |slot: &mut Option<Limit>, key: &str, value: Option<f64>| {
            if let Some(value) = value {
                if slot.as_ref().is_none_or(|l| value < l.value) {
                    *slot = Some(Limit {
                        name: format!("{prefix}.{key}"),
                        value,
                    });
                }
            }
        };
        lower(
            &mut self.approval,
            "approval-above",
            thresholds.approval_above,
        );
        lower(&mut self.deny, "deny-above", thresholds.deny_above);
        self
    }

    fn is_empty(&self) -> bool {
        self.approval.is_none() && self.deny.is_none()
    }
}

/// Checks the estimate against the thresholds: records each threshold in the estimate's
/// `limits` and adds the WD-COST-001 finding when the delta is above one (or, under them,
/// when resources went unpriced for values known only after apply). `rule` is the resolved
/// WD-COST-001 (its enforcement applies to the approval tier); `unknown_policy` the
/// account's policy for findings on values known only after apply.
pub fn check(
    estimate: &mut CostEstimate,
    limits: &Effective,
    rule: &ResolvedRule,
    unknown_policy: UnknownPolicy,
    changes: &[&ChangeSet],
    findings: &mut Vec<Finding>,
) {
    if limits.is_empty() {
        return;
    }
    record_limits(estimate, limits);
    let amount = estimate.delta;
    let Some(first) = changes.first() else {
        return;
    };
    let plan = &first.input.path;
    let head = format!(
        "the monthly cost delta of this change is {} (before {}, after {})",
        signed_usd(amount),
        usd(estimate.before),
        usd(estimate.after)
    );
    let unpriced = match estimate.counts.unpriced {
        0 => String::new(),
        n => format!(
            "; {} not priced and not counted (`warden cost` lists them)",
            if n == 1 {
                "1 resource is".to_owned()
            } else {
                format!("{n} resources are")
            }
        ),
    };
    let over = |l: &Limit| {
        format!(
            "above `{}` = {} by {} (headroom {})",
            l.name,
            usd(l.value),
            usd(amount - l.value),
            usd(l.value - amount)
        )
    };
    let deny_breached = limits.deny.as_ref().filter(|l| amount > l.value);
    let approval_breached = limits.approval.as_ref().filter(|l| amount > l.value);
    let (enforcement, message, unknown) = if let Some(deny) = deny_breached {
        (
            Enforcement::Deny,
            format!("{head}: {}{unpriced}", over(deny)),
            false,
        )
    } else if let Some(approval) = approval_breached {
        let room = limits
            .deny
            .as_ref()
            .map(|d| {
                format!(
                    "; {} below `{}` = {}",
                    usd(d.value - amount),
                    d.name,
                    usd(d.value)
                )
            })
            .unwrap_or_default();
        (
            rule.enforcement,
            format!("{head}: {}{room}{unpriced}", over(approval)),
            false,
        )
    } else {
        let unknown: Vec<String> = estimate
            .unknown()
            .map(|u| format!("`{}` ({})", u.address, u.reason))
            .collect();
        if unknown.is_empty() {
            return;
        }
        let strictest = if limits.deny.is_some() {
            Enforcement::Deny
        } else {
            rule.enforcement
        };
        let shown: Vec<&str> = unknown.iter().take(3).map(String::as_str).collect();
        let more = if unknown.len() > shown.len() {
            format!(" and {} more", unknown.len() - shown.len())
        } else {
            String::new()
        };
        let nearest = [&limits.approval, &limits.deny]
            .into_iter()
            .flatten()
            .map(|l| {
                format!(
                    "`{}` = {} (headroom {})",
                    l.name,
                    usd(l.value),
                    usd(l.value - amount)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        (
            unknown_policy.for_rule(strictest),
            format!(
                "{head}, under {nearest}, but {} could not be priced because a value is known only after apply: {}{more}; the threshold cannot be checked until then",
                if unknown.len() == 1 { "1 resource".to_owned() } else { format!("{} resources", unknown.len()) },
                shown.join(", ")
            ),
            true,
        )
    };
    findings.push(rule.derived_finding(
        plan.clone(),
        "terraform_plan",
        Location {
            file: Some(plan.clone()),
            line: None,
            pointer: None,
        },
        enforcement,
        message,
        unknown,
    ));
}

/// Records each threshold in the estimate's `limits`, with the amount and the headroom.
pub fn record_limits(estimate: &mut CostEstimate, limits: &Effective) {
    for limit in [&limits.approval, &limits.deny].into_iter().flatten() {
        estimate.limits.push(CostLimit::check(
            limit.name.clone(),
            LimitScope::Change,
            limit.value,
            estimate.delta,
        ));
    }
}

/// WD-COST-001 resolved with its defaults, for a space that sets thresholds when the
/// account does not run the rule.
#[must_use]
pub fn default_rule(unknown: UnknownPolicy) -> Option<ResolvedRule> {
    let meta = warden_rules::find(RULE_ID)?;
    Some(ResolvedRule::defaults(
        meta,
        unknown.for_rule(meta.enforcement),
    ))
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use crate::config;
    use crate::{Policies, RegoOptions};

    use super::*;

    fn plan(resources: &str) -> ChangeSet {
        let text = format!(r#"{{"format_version":"1.2","resource_changes":[{resources}]}}"#);
        warden_core::inputs::parse(&warden_core::inputs::InputBytes {
            name: "plan.json".into(),
            bytes: text.into_bytes(),
        })
        .unwrap()
    }

    fn instances(n: usize, instance_type: &str) -> ChangeSet {
        let list: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"address":"aws_instance.w[{i}]","mode":"managed","type":"aws_instance","name":"w","index":{i},
                        "provider_name":"registry.terraform.io/hashicorp/aws",
                        "change":{{"actions":["create"],"before":null,
                          "after":{{"instance_type":"{instance_type}","metadata_options":[{{"http_tokens":"required"}}],
                                   "root_block_device":[{{"volume_size":8,"volume_type":"gp3","encrypted":true}}]}}}}}}"#
                )
            })
            .collect();
        plan(&list.join(","))
    }

    fn decide(toml: &str, space: &str, change: &ChangeSet) -> warden_core::Decision {
        let p = Policies::load(
            config::parse("warden.toml", toml).unwrap(),
            &[],
            &RegoOptions::default(),
        )
        .unwrap();
        p.layered(space)
            .evaluate(&[change], OffsetDateTime::UNIX_EPOCH)
    }

    fn cost_findings(d: &warden_core::Decision) -> Vec<&Finding> {
        d.findings.iter().filter(|f| f.rule_id == RULE_ID).collect()
    }

    #[test]
    fn every_decision_on_a_priced_plan_carries_the_estimate() {
        // 2 × m5.large: 2 × (0.096 × 730 = 70.08 + 8 GB gp3 × 0.08 = 0.64) = 141.44
        let d = decide("", "default", &instances(2, "m5.large"));
        let cost = d.cost.as_ref().unwrap();
        assert_eq!((cost.before, cost.after, cost.delta), (0.0, 141.44, 141.44));
        assert!(cost.limits.is_empty());
        assert!(cost_findings(&d).is_empty());
        // Nothing the catalog knows: no estimate.
        let iam = plan(
            r#"{"address":"aws_iam_role.r","mode":"managed","type":"aws_iam_role","name":"r",
                "change":{"actions":["create"],"before":null,"after":{"name":"r"}}}"#,
        );
        assert!(decide("", "default", &iam).cost.is_none());
    }

    #[test]
    fn thresholds_require_approval_then_deny() {
        let toml = "[cost]\napproval-above = 100.0\ndeny-above = 300\n";
        // 2 × m5.large = 141.44: above 100 by 41.44, 158.56 below 300
        let d = decide(toml, "default", &instances(2, "m5.large"));
        assert_eq!(d.outcome, warden_core::Outcome::RequireApproval);
        let f = cost_findings(&d);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].enforcement, Enforcement::RequireApproval);
        assert_eq!(f[0].resource, "plan.json");
        assert_eq!(
            f[0].message,
            "the monthly cost delta of this change is +$141.44 (before $0.00, after $141.44): above `cost.approval-above` = $100.00 by $41.44 (headroom -$41.44); $158.56 below `cost.deny-above` = $300.00"
        );
        let limits = &d.cost.as_ref().unwrap().limits;
        assert_eq!(limits.len(), 2);
        assert_eq!((limits[0].headroom, limits[0].exceeded), (-41.44, true));
        assert_eq!((limits[1].headroom, limits[1].exceeded), (158.56, false));
        // 5 × m5.large = 353.60: above 300 by 53.60
        let d = decide(toml, "default", &instances(5, "m5.large"));
        assert_eq!(d.outcome, warden_core::Outcome::Deny);
        let f = cost_findings(&d);
        assert_eq!(f[0].enforcement, Enforcement::Deny);
        assert!(
            f[0].message
                .contains("above `cost.deny-above` = $300.00 by $53.60 (headroom -$53.60)"),
            "{}",
            f[0].message
        );
        // Under both: no finding, the limits recorded.
        let d = decide(toml, "default", &instances(1, "t3.micro"));
        assert!(cost_findings(&d).is_empty());
        assert_eq!(d.cost.unwrap().limits.len(), 2);
    }

    #[test]
    fn a_space_lowers_the_thresholds_and_exceptions_waive() {
        let toml = "[cost]\napproval-above = 500.0\n[spaces.dev.cost]\napproval-above = 100.0\n";
        let change = instances(2, "m5.large"); // 141.44
        assert!(cost_findings(&decide(toml, "default", &change)).is_empty());
        let dev = decide(toml, "dev", &change);
        let f = cost_findings(&dev);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("`spaces.dev.cost.approval-above` = $100.00"),
            "{}",
            f[0].message
        );
        assert_eq!(
            dev.cost.unwrap().limits[0].name,
            "spaces.dev.cost.approval-above"
        );
        // An exception covers it like any finding.
        let waived = format!(
            "{toml}[[exceptions]]\nrule = \"WD-COST-001\"\nreason = \"load test\"\nexpires = 2999-01-01\n"
        );
        let d = decide(&waived, "dev", &change);
        assert!(cost_findings(&d).is_empty());
        assert!(d.waived.iter().any(|w| w.finding.rule_id == RULE_ID));
        // A space raises the enforcement of the approval tier.
        let raised = format!("{toml}[spaces.dev.rules.WD-COST-001]\nenforcement = \"deny\"\n");
        let d = decide(&raised, "dev", &change);
        assert_eq!(cost_findings(&d)[0].enforcement, Enforcement::Deny);
        assert_eq!(
            cost_findings(&decide(&raised, "default", &change)).len(),
            0,
            "the account's threshold is 500"
        );
        // Ignored in the account: only the space's thresholds apply.
        let ignored = "ignore = [\"WD-COST-001\"]\n[cost]\napproval-above = 120.0\n[spaces.dev.cost]\napproval-above = 100.0\n";
        assert!(cost_findings(&decide(ignored, "default", &change)).is_empty());
        assert_eq!(cost_findings(&decide(ignored, "dev", &change)).len(), 1);
    }

    #[test]
    fn values_known_only_after_apply_are_not_a_pass() {
        let change = plan(
            r#"{"address":"aws_instance.a","mode":"managed","type":"aws_instance","name":"a",
                "change":{"actions":["create"],"before":null,"after":{"instance_type":null},
                          "after_unknown":{"instance_type":true}}}"#,
        );
        let d = decide("[cost]\napproval-above = 100.0\n", "default", &change);
        let f = cost_findings(&d);
        assert_eq!(f.len(), 1);
        assert!(f[0].unknown);
        assert_eq!(f[0].enforcement, Enforcement::Warn);
        assert!(
            f[0].message
                .contains("`aws_instance.a` (`instance_type` is known only after apply)"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn a_user_catalog_and_usage_file_price_the_decision() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("prices.json"),
            r#"{"as_of":"2025-06","tables":{"aws.ec2":{"prices":{"us-east-1":{"m5.large":0.05}}}}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("usage.yaml"),
            "aws_instance: { hours_per_month: 100 }\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("warden.toml"),
            "[cost]\ncatalog = \"prices.json\"\nusage = \"usage.yaml\"\n",
        )
        .unwrap();
        let config = config::load(&dir.path().join("warden.toml")).unwrap();
        let p = Policies::load(config, &[], &RegoOptions::default()).unwrap();
        let d = p
            .layered("default")
            .evaluate(&[&instances(1, "m5.large")], OffsetDateTime::UNIX_EPOCH);
        let cost = d.cost.unwrap();
        // 0.05 × 100 h = 5.00; root 8 GB gp3 × 0.08 = 0.64; total 5.64
        assert_eq!(cost.after, 5.64);
        assert_eq!(cost.catalogs.len(), 2);
        assert!(cost.usage.unwrap().ends_with("usage.yaml"));
        // The files are part of the revision.
        let before = p.revision().to_owned();
        std::fs::write(
            dir.path().join("usage.yaml"),
            "aws_instance: { hours_per_month: 200 }\n",
        )
        .unwrap();
        let config = config::load(&dir.path().join("warden.toml")).unwrap();
        let again = Policies::load(config, &[], &RegoOptions::default()).unwrap();
        assert_ne!(before, again.revision());
        assert!(p.watched_paths().iter().any(|w| w.ends_with("usage.yaml")));
    }

    #[test]
    fn cost_settings_errors_name_the_file_and_the_key() {
        let err = |t: &str| {
            config::parse("warden.toml", t)
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        let e = err("[cost]\napproval-above = \"lots\"\n");
        assert_eq!(
            e,
            "warden.toml:2: cost.approval-above: expected a monthly amount in USD (a number ≥ 0), found the string \"lots\""
        );
        let e = err("[cost]\ndeny-above = -5\n");
        assert!(e.starts_with("warden.toml:2: cost.deny-above:"), "{e}");
        let e = err("[cost]\napprove-above = 1\n");
        assert!(
            e.starts_with("warden.toml:2:") && e.contains("approve-above"),
            "{e}"
        );
        let e = err("[cost]\ndeny-above = 1000\n[spaces.dev]\ndescription = \"d\"\n[spaces.dev.cost]\ndeny-above = 5000\n");
        assert!(
            e.starts_with("warden.toml:6: spaces.dev.cost.deny-above:") && e.contains("looser"),
            "{e}"
        );
        let e = err("[spaces.dev]\ncost = { catalog = \"p.json\" }\n");
        assert!(
            e.starts_with("warden.toml:2: spaces.dev.cost.catalog:"),
            "{e}"
        );
        // Lower, or equal, is fine; integers are amounts too.
        let c = config::parse(
            "warden.toml",
            "[cost]\napproval-above = 500\n[spaces.dev.cost]\napproval-above = 500.0\ndeny-above = 10\n",
        )
        .unwrap();
        assert_eq!(c.cost.thresholds.approval_above, Some(500.0));
        assert_eq!(c.spaces["dev"].cost.deny_above, Some(10.0));
    }

    #[test]
    fn bad_cost_files_name_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("usage.yaml"),
            "aws_s3_bucket.b: { storage_g: 1 }\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("warden.toml"),
            "[cost]\nusage = \"usage.yaml\"\n",
        )
        .unwrap();
        let config = config::load(&dir.path().join("warden.toml")).unwrap();
        let err = Policies::load(config, &[], &RegoOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("warden.toml")
                && err.contains("cost.usage")
                && err.contains("usage.yaml: aws_s3_bucket.b.storage_g"),
            "{err}"
        );
    }
}
