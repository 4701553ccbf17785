//! The decision's risk step: every decision carries a score 0–100 with its named factors
//! ([`warden_core::risk`]), and WD-RISK-001 escalates by the `[risk]` thresholds.
//!
//! ```toml
//! [risk]
//! production-spaces = ["prod*"]        # spaces whose changes add the `production` factor
//! change-window = "Mon-Fri 08:00-18:00" # UTC; a change outside it adds `change_window`
//! approval-at = 70                     # WD-RISK-001: a score at or above needs approval
//! deny-at = 90                         # ... and at or above this is denied
//! ```
//!
//! Factors of the change are scored here when the decision is made ([`change_factors`]);
//! factors of who asks and when ([`context_factors`]: an agent, a change outside the window;
//! the server adds the agent's recent denials) are applied with [`apply`], which can run
//! again on a decision (a remembered one, say) and replaces factors by name.
//!
//! Rego policies read the score as `data.warden.risk` ([`before_engines`]): the factors
//! known before any engine runs — every one but `unknown_values` (it counts findings) and
//! `recent_denials` (the server adds it from the decision log afterwards).

use serde::Deserialize;
use time::{OffsetDateTime, Time, Weekday};
use warden_core::cost::money::signed_usd;
use warden_core::cost::CostEstimate;
use warden_core::exceptions::glob_matches;
use warden_core::risk::{Risk, RiskFactor};
use warden_core::{Action, ActorKind, ChangeSet, Decision, Enforcement, Location, Mode};

use crate::config::ConfigError;

/// The id of the rule this step reports under.
pub const RULE_ID: &str = "WD-RISK-001";

/// `[risk]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskSettings {
    /// Globs of the spaces that are production.
    pub production_spaces: Vec<String>,
    /// When changes are expected (UTC); `None`: any time.
    pub change_window: Option<ChangeWindow>,
    /// A score at or above this needs approval.
    pub approval_at: Option<u8>,
    /// A score at or above this is denied.
    pub deny_at: Option<u8>,
}

impl Default for RiskSettings {
    fn default() -> Self {
        RiskSettings {
            production_spaces: vec!["prod*".to_owned(), "production*".to_owned()],
            change_window: None,
            approval_at: None,
            deny_at: None,
        }
    }
}

impl RiskSettings {
    /// Text for the policy revision (empty for the defaults).
    #[must_use]
    pub fn revision_part(&self) -> String {
        if *self == RiskSettings::default() {
            String::new()
        } else {
            format!("{self:?}")
        }
    }
}

/// Days and hours (UTC) in which changes are expected: `Mon-Fri 08:00-18:00`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeWindow {
    /// As written.
    pub text: String,
    days: Vec<Weekday>,
    start: Time,
    end: Time,
}

impl ChangeWindow {
    /// Parses `Mon-Fri 08:00-18:00`, `Sat,Sun 10:00-12:00` or `Mon-Sun 00:00-24:00`.
    ///
    /// # Errors
    /// A message saying what is expected.
    pub fn parse(text: &str) -> Result<ChangeWindow, String> {
        let expected = || {
            format!("expected days and UTC hours like \"Mon-Fri 08:00-18:00\", found \"{text}\"")
        };
        let (days, hours) = text.trim().split_once(' ').ok_or_else(expected)?;
        let day = |d: &str| -> Result<u8, String> {
            let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
            names
                .iter()
                .position(|n| d.trim().eq_ignore_ascii_case(n))
                .and_then(|i| u8::try_from(i).ok())
                .ok_or_else(expected)
        };
        let mut list = Vec::new();
        for part in days.split(',') {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let (a, b) = (day(a)?, day(b)?);
            let mut i = a;
            loop {
                list.push(i);
                if i == b {
                    break;
                }
                i = (i + 1) % 7;
            }
        }
        let weekdays = [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
            Weekday::Sunday,
        ];
        let time = |t: &str| -> Result<Time, String> {
            if t.trim() == "24:00" {
                return Ok(Time::MAX);
            }
            let (h, m) = t.trim().split_once(':').ok_or_else(expected)?;
            let (h, m): (u8, u8) = (
                h.parse().map_err(|_| expected())?,
                m.parse().map_err(|_| expected())?,
            );
            Time::from_hms(h, m, 0).map_err(|_| expected())
        };
        let (start, end) = hours.trim().split_once('-').ok_or_else(expected)?;
        let (start, end) = (time(start)?, time(end)?);
        if start >= end {
            return Err(format!("the window \"{text}\" ends before it starts"));
        }
        Ok(ChangeWindow {
            text: text.trim().to_owned(),
            days: list.into_iter().map(|i| weekdays[usize::from(i)]).collect(),
            start,
            end,
        })
    }

    /// Whether `at` (converted to UTC) falls inside the window.
    #[must_use]
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        let at = at.to_offset(time::UtcOffset::UTC);
        self.days.contains(&at.weekday()) && at.time() >= self.start && at.time() < self.end
    }
}

/// `[risk]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawRisk {
    production_spaces: Option<Vec<String>>,
    change_window: Option<String>,
    approval_at: Option<u8>,
    deny_at: Option<u8>,
}

impl RawRisk {
    /// Validates the table; `line` finds a key's line for errors.
    pub(crate) fn validate(
        self,
        file: &str,
        line: impl Fn(&str) -> usize,
    ) -> Result<RiskSettings, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: file.to_owned(),
            line: line(key),
            key: format!("risk.{key}"),
            message,
        };
        for (key, value) in [("approval-at", self.approval_at), ("deny-at", self.deny_at)] {
            if value.is_some_and(|v| v == 0 || v > 100) {
                return Err(invalid(key, "expected a score from 1 to 100".into()));
            }
        }
        if let (Some(a), Some(d)) = (self.approval_at, self.deny_at) {
            if a > d {
                return Err(invalid(
                    "approval-at",
                    format!("approval-at ({a}) is above deny-at ({d})"),
                ));
            }
        }
        let change_window = self
            .change_window
            .map(|w| ChangeWindow::parse(&w).map_err(|m| invalid("change-window", m)))
            .transpose()?;
        Ok(RiskSettings {
            production_spaces: self
                .production_spaces
                .unwrap_or_else(|| RiskSettings::default().production_spaces),
            change_window,
            approval_at: self.approval_at,
            deny_at: self.deny_at,
        })
    }
}

/// Kinds that hold data, beyond WD-GOV's stateful list (which the step reads too).
const STATEFUL_KUBERNETES: &[&str] = &["PersistentVolumeClaim", "PersistentVolume", "StatefulSet"];

/// Kinds whose changes alter who may do what, or what is reachable.
const EXPOSURE_KINDS: &[&str] = &[
    "*_iam_*",
    "aws_iam*",
    "google_*iam*",
    "azurerm_role_*",
    "azurerm_*_policy*",
    "*security_group*",
    "*firewall*",
    "*network_security*",
    "aws_lb*",
    "aws_alb*",
    "aws_elb*",
    "*load_balancer*",
    "*internet_gateway*",
    "*nat_gateway*",
    "aws_route*",
    "*vpc_peering*",
    "*public_access_block*",
    "*bucket_policy*",
    "*bucket_acl*",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ServiceAccount",
    "Service",
    "Ingress",
    "NetworkPolicy",
];

/// The factors of the change itself: blast radius, stateful resources destroyed or
/// replaced, IAM and network exposure, the cost delta, findings on unknown values, and a
/// production space.
#[must_use]
pub fn change_factors(
    changes: &[&ChangeSet],
    cost: Option<&CostEstimate>,
    unknown: usize,
    space: Option<&str>,
    settings: &RiskSettings,
) -> Vec<RiskFactor> {
    let managed = || {
        changes
            .iter()
            .flat_map(|c| c.resources.iter())
            .filter(|r| r.mode == Mode::Managed)
    };
    let deleted = managed().filter(|r| r.action == Action::Delete).count();
    let replaced = managed().filter(|r| r.action == Action::Replace).count();
    let mut factors = Vec::new();
    if deleted + replaced > 0 {
        factors.push(RiskFactor::new(
            "blast_radius",
            points(4 * deleted + 6 * replaced, 30),
            format!("{deleted} destroyed, {replaced} replaced"),
        ));
    }
    let stateful_kinds = stateful_kinds();
    let stateful: Vec<&str> = managed()
        .filter(|r| r.action.destroys())
        .filter(|r| {
            STATEFUL_KUBERNETES.contains(&r.kind.as_str())
                || stateful_kinds.iter().any(|k| glob_matches(k, &r.kind))
        })
        .map(|r| r.address.as_str())
        .collect();
    if !stateful.is_empty() {
        factors.push(RiskFactor::new(
            "stateful",
            points(15 + 5 * (stateful.len() - 1), 25),
            format!(
                "data-holding resources destroyed or replaced: {}",
                list(&stateful)
            ),
        ));
    }
    let exposed: Vec<&str> = managed()
        .filter(|r| {
            matches!(
                r.action,
                Action::Create | Action::Update | Action::Delete | Action::Replace
            )
        })
        .filter(|r| EXPOSURE_KINDS.iter().any(|k| glob_matches(k, &r.kind)))
        .map(|r| r.address.as_str())
        .collect();
    if !exposed.is_empty() {
        factors.push(RiskFactor::new(
            "exposure",
            points(10 + 2 * (exposed.len() - 1), 20),
            format!("IAM or network exposure changes: {}", list(&exposed)),
        ));
    }
    if let Some(cost) = cost {
        let p = match cost.delta {
            d if d >= 10_000.0 => 20,
            d if d >= 1_000.0 => 10,
            d if d >= 100.0 => 5,
            _ => 0,
        };
        factors.push(RiskFactor::new(
            "cost",
            p,
            format!("monthly cost delta {}", signed_usd(cost.delta)),
        ));
    }
    if unknown > 0 {
        factors.push(RiskFactor::new(
            "unknown_values",
            points(3 * unknown, 10),
            format!("{unknown} findings depend on values known only after apply"),
        ));
    }
    if let Some(space) = space.filter(|s| {
        settings
            .production_spaces
            .iter()
            .any(|g| glob_matches(g, s))
    }) {
        factors.push(RiskFactor::new(
            "production",
            15,
            format!("space `{space}` is production (`risk.production-spaces`)"),
        ));
    }
    factors
}

/// The factors of who asks and when: an agent (10), a change outside the change window
/// (10). Each is returned even at 0 points, so [`apply`] replaces a stale one.
#[must_use]
pub fn context_factors(
    settings: &RiskSettings,
    actor_kind: ActorKind,
    now: OffsetDateTime,
) -> Vec<RiskFactor> {
    let agent = actor_kind == ActorKind::Agent;
    let mut factors = vec![RiskFactor::new(
        "agent",
        if agent { 10 } else { 0 },
        "proposed by an AI agent",
    )];
    let outside = settings.change_window.as_ref().filter(|w| !w.contains(now));
    factors.push(RiskFactor::new(
        "change_window",
        if outside.is_some() { 10 } else { 0 },
        outside.map_or_else(String::new, |w| {
            format!("outside the change window `{}` (UTC)", w.text)
        }),
    ));
    factors
}

/// The score Rego policies see as `data.warden.risk`: the change's factors (with the cost
/// estimate made before the engines run, no findings yet) and those of its context.
#[must_use]
pub fn before_engines(
    changes: &[&ChangeSet],
    cost: Option<&CostEstimate>,
    space: Option<&str>,
    settings: &RiskSettings,
    now: OffsetDateTime,
) -> Risk {
    let mut factors = change_factors(changes, cost, 0, space, settings);
    let kind = changes
        .first()
        .map_or(ActorKind::Human, |c| c.context.actor_kind);
    factors.extend(context_factors(settings, kind, now));
    Risk::from_factors(factors)
}

/// Sets the decision's risk to its current factors with `factors` merged in (replacing
/// factors of the same name), and makes the WD-RISK-001 finding by the thresholds again.
/// `rule` gives the resolved WD-RISK-001; it is asked for only when a threshold is set.
pub fn apply(
    decision: &mut Decision,
    settings: &RiskSettings,
    factors: Vec<RiskFactor>,
    rule: impl FnOnce() -> Option<warden_rules::ResolvedRule>,
) {
    let risk = match decision.risk.take() {
        Some(r) => r.with(factors),
        None => Risk::from_factors(factors),
    };
    decision.findings.retain(|f| f.rule_id != RULE_ID);
    let thresholds = settings.approval_at.is_some() || settings.deny_at.is_some();
    if let Some(rule) = thresholds.then(rule).flatten() {
        let over = |at: Option<u8>| at.filter(|&a| risk.score >= a);
        let breached = over(settings.deny_at)
            .map(|a| (Enforcement::Deny, "deny-at", a))
            .or_else(|| over(settings.approval_at).map(|a| (rule.enforcement, "approval-at", a)));
        if let Some((enforcement, key, at)) = breached {
            let factors = risk
                .factors
                .iter()
                .map(|f| {
                    format!(
                        "{} +{} ({})",
                        f.factor.replace('_', " "),
                        f.points,
                        f.detail
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            decision.findings.push(rule.derived_finding(
                "change".to_owned(),
                "change",
                Location::default(),
                enforcement,
                format!(
                    "the risk score is {}, at or above `risk.{key}` = {at}: {factors}",
                    risk.score
                ),
                false,
            ));
        }
    }
    decision.risk = Some(risk);
    decision.refresh();
}

/// WD-GOV-007's default list of data-holding kinds, parsed once.
fn stateful_kinds() -> &'static [String] {
    static KINDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KINDS.get_or_init(|| {
        warden_rules::find("stateful-resource-destroyed")
            .and_then(|m| m.param_default("kinds"))
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    })
}

fn points(n: usize, cap: u8) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX).min(cap)
}

fn list(addresses: &[&str]) -> String {
    let shown: Vec<&str> = addresses.iter().take(3).copied().collect();
    let more = addresses.len() - shown.len();
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn change_windows_parse_and_contain() {
        let w = ChangeWindow::parse("Mon-Fri 08:00-18:00").unwrap_or_else(|e| unreachable!("{e}"));
        assert!(w.contains(at("2026-11-23T08:00:00Z")), "Monday 08:00");
        assert!(
            !w.contains(at("2026-11-23T18:00:00Z")),
            "the end is excluded"
        );
        assert!(!w.contains(at("2026-11-22T12:00:00Z")), "Sunday");
        assert!(
            w.contains(at("2026-11-23T10:30:00+02:00"))
                && !w.contains(at("2026-11-23T09:30:00+02:00")),
            "converted to UTC: 08:30 is inside, 07:30 is not"
        );
        let weekend =
            ChangeWindow::parse("Sat,Sun 00:00-24:00").unwrap_or_else(|e| unreachable!("{e}"));
        assert!(weekend.contains(at("2026-11-22T23:59:00Z")));
        let wraps =
            ChangeWindow::parse("Fri-Mon 10:00-11:00").unwrap_or_else(|e| unreachable!("{e}"));
        assert!(wraps.contains(at("2026-11-22T10:30:00Z")));
        assert!(!wraps.contains(at("2026-11-25T10:30:00Z")), "Wednesday");
        for bad in [
            "weekdays",
            "Mon-Fri 9-17",
            "Mon-Fri 18:00-08:00",
            "Mon-Xyz 08:00-09:00",
        ] {
            assert!(ChangeWindow::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn context_factors_score_agents_and_the_window() {
        let settings = RiskSettings {
            change_window: ChangeWindow::parse("Mon-Fri 08:00-18:00").ok(),
            ..RiskSettings::default()
        };
        let sunday = at("2026-11-22T12:00:00Z");
        let r = Risk::from_factors(context_factors(&settings, ActorKind::Agent, sunday));
        assert_eq!(r.score, 20, "{}", r.summary());
        let monday = at("2026-11-23T12:00:00Z");
        let r = r.with(context_factors(&settings, ActorKind::Human, monday));
        assert_eq!(r.score, 0, "stale factors are replaced: {}", r.summary());
    }

    /// A plan in `prod` that replaces a database and opens a security group, by an agent.
    const RISKY: &str = r#"{"format_version": "1.2", "resource_changes": [
      {"address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance", "name": "main",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["delete", "create"], "before": {"instance_class": "db.t3.micro"},
                  "after": {"instance_class": "db.t3.small"}}},
      {"address": "aws_security_group.db", "mode": "managed", "type": "aws_security_group", "name": "db",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["update"], "before": {"name": "db"}, "after": {"name": "db"}}}]}"#;

    fn evaluate(toml: &str, space: &str, kind: ActorKind) -> Decision {
        let config =
            crate::config::parse("warden.toml", toml).unwrap_or_else(|e| unreachable!("{e}"));
        let policies = crate::Policies::load(config, &[], &crate::RegoOptions::default())
            .unwrap_or_else(|e| unreachable!("{e}"));
        let input = warden_core::inputs::InputBytes {
            name: "plan.json".into(),
            bytes: RISKY.as_bytes().to_vec(),
        };
        let mut change = warden_core::inputs::parse(&input).unwrap_or_else(|e| unreachable!("{e}"));
        change.context.actor_kind = kind;
        policies
            .layered(space)
            .evaluate(&[&change], at("2026-11-22T12:00:00Z"))
    }

    #[test]
    fn every_decision_carries_its_factors_and_thresholds_escalate() {
        // `select` keeps the other rules out of the outcome.
        let d = evaluate(
            "select = [\"WD-RISK-001\"]\n[spaces.prod]\n",
            "prod",
            ActorKind::Agent,
        );
        let risk = d.risk.clone().unwrap_or_else(|| unreachable!("no risk"));
        let names: Vec<&str> = risk.factors.iter().map(|f| f.factor.as_str()).collect();
        for expected in [
            "blast_radius",
            "stateful",
            "exposure",
            "production",
            "agent",
        ] {
            assert!(names.contains(&expected), "{expected}: {}", risk.summary());
        }
        // replaced 6 + stateful 15 + exposure 10 + production 15 + agent 10
        assert_eq!(risk.score, 56, "{}", risk.summary());
        assert_eq!(
            d.outcome,
            warden_core::Outcome::Allow,
            "no threshold, no finding"
        );

        let toml = "select = [\"WD-RISK-001\"]\n[risk]\napproval-at = 50\ndeny-at = 80\nchange-window = \"Mon-Fri 08:00-18:00\"\n[spaces.prod]\n";
        let d = evaluate(toml, "prod", ActorKind::Agent);
        // Sunday noon is outside the window: +10.
        assert_eq!(d.risk.as_ref().map(|r| r.score), Some(66));
        assert_eq!(d.outcome, warden_core::Outcome::RequireApproval);
        let f = &d.findings[0];
        assert_eq!(f.rule_id, "WD-RISK-001");
        assert!(
            f.message
                .starts_with("the risk score is 66, at or above `risk.approval-at` = 50: "),
            "{}",
            f.message
        );
        assert!(f.message.contains("change window +10"), "{}", f.message);
        // A person in a development space: under the threshold.
        let d = evaluate(toml, "dev", ActorKind::Human);
        assert_eq!(d.risk.as_ref().map(|r| r.score), Some(41));
        assert_eq!(d.outcome, warden_core::Outcome::Allow);
    }

    #[test]
    fn rego_policies_read_the_score_before_the_engines() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let policy = dir.path().join("risk.rego");
        std::fs::write(
            &policy,
            "package main\n\n\
             deny contains msg if {\n\
               data.warden.risk.score >= 50\n\
               names := [f.factor | some f in data.warden.risk.factors]\n\
               msg := sprintf(\"risk %d (%s): %s\", [data.warden.risk.score, data.warden.risk.level, concat(\",\", names)])\n\
             }\n",
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let decide = |space: &str, kind: ActorKind| {
            let config = crate::config::parse("warden.toml", "select = [\"WD-RISK-001\"]\n")
                .unwrap_or_else(|e| unreachable!("{e}"));
            let policies = crate::Policies::load(
                config,
                std::slice::from_ref(&policy),
                &crate::RegoOptions::default(),
            )
            .unwrap_or_else(|e| unreachable!("{e}"));
            let input = warden_core::inputs::InputBytes {
                name: "plan.json".into(),
                bytes: RISKY.as_bytes().to_vec(),
            };
            let mut change =
                warden_core::inputs::parse(&input).unwrap_or_else(|e| unreachable!("{e}"));
            change.context.actor_kind = kind;
            policies
                .layered(space)
                .evaluate(&[&change], at("2026-11-22T12:00:00Z"))
        };
        // replaced 6 + stateful 15 + exposure 10 + agent 10 = 41: under the policy's 50.
        let d = decide("dev", ActorKind::Agent);
        assert_eq!(d.outcome, warden_core::Outcome::Allow, "{:?}", d.findings);
        // In a production space (+15) the policy denies, naming the factors it saw.
        let config = "[risk]\nproduction-spaces = [\"prod\"]\n[spaces.prod]\n";
        let policies = crate::Policies::load(
            crate::config::parse("warden.toml", config).unwrap_or_else(|e| unreachable!("{e}")),
            std::slice::from_ref(&policy),
            &crate::RegoOptions::default(),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let input = warden_core::inputs::InputBytes {
            name: "plan.json".into(),
            bytes: RISKY.as_bytes().to_vec(),
        };
        let mut change = warden_core::inputs::parse(&input).unwrap_or_else(|e| unreachable!("{e}"));
        change.context.actor_kind = ActorKind::Agent;
        let d = policies
            .layered("prod")
            .evaluate(&[&change], at("2026-11-22T12:00:00Z"));
        let rego: Vec<&str> = d
            .findings
            .iter()
            .filter(|f| f.message.starts_with("risk "))
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(
            rego,
            ["risk 56 (high): production,stateful,agent,exposure,blast_radius"],
            "{:?} {:?}",
            d.errors,
            d.risk
        );
        assert_eq!(d.risk.as_ref().map(|r| r.score), Some(56));
    }

    #[test]
    fn bad_settings_are_named() {
        for (toml, needle) in [
            ("[risk]\napproval-at = 0\n", "risk.approval-at"),
            ("[risk]\napproval-at = 90\ndeny-at = 80\n", "above deny-at"),
            ("[risk]\nchange-window = \"always\"\n", "risk.change-window"),
            ("[risk]\nthreshold = 3\n", "threshold"),
        ] {
            let e = crate::config::parse("warden.toml", toml)
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{toml}: {e}");
        }
    }
}
