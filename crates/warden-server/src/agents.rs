//! The agent retry contract and per-agent quotas (`[agents]` in `warden.toml`).
//!
//! An agent that gets a `deny` fixes what the findings name and submits again. Each
//! submission is an attempt at the same change, identified by its subject: the request's
//! (`?subject=` or `context.subject`), or one derived from the set of resource addresses the
//! change touches ([`change_subject`]). Warden counts the attempts itself from its decision
//! log — the denied (or held) decisions of this agent on this subject in this space, newest
//! first, until the last allowed one, inside `attempt-window-hours` — and a count the agent
//! sends (`context.attempt`) can only raise it. Once `max-attempts` attempts in a row were
//! not allowed, an attempt that would be denied escalates instead: its deny findings become
//! require_approval findings and WD-AGENT-001 lists the history, so a person decides.
//!
//! Quotas are checked for every agent evaluation after that: WD-AGENT-002 when the agent's
//! evaluations in the last hour reach `changes-per-hour`, WD-AGENT-003 when the monthly cost
//! deltas of its allowed changes this month plus this change's would pass `monthly-cost`.
//! Both deny, and an escalation never lifts them.

use serde_json::{json, Value};
use time::{Duration, OffsetDateTime, Time};
use warden_core::cost::money::{signed_usd, usd};
use warden_core::{ChangeSet, Decision, Enforcement, Finding, Outcome};
use warden_policy::agents::AgentSettings;
use warden_store::{AgentQuery, AgentRecord, PastDecision, Store};

use crate::error::ApiError;

/// How many past attempts a decision lists at most.
const HISTORY_LIMIT: u32 = 20;

/// The subject derived from a change: the digest of the sorted, distinct addresses of the
/// resources it touches, so a re-planned or edited version of the same change shares it.
#[must_use]
pub fn change_subject(change: &ChangeSet) -> String {
    let mut addresses: Vec<&str> = change
        .resources
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    addresses.sort_unstable();
    addresses.dedup();
    let digest = warden_core::digest::sha256_parts(addresses.iter().map(|a| a.as_bytes()));
    format!("resources:{digest}")
}

/// What the contract made of one agent evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// What the change is an attempt at.
    pub subject: String,
    /// This attempt's number (1 for the first).
    pub number: u32,
    /// `max-attempts` (0: never escalates).
    pub max_attempts: u32,
    /// The deny findings were escalated to require_approval.
    pub escalated: bool,
    /// The attempts before this one that were not allowed, newest first.
    pub history: Vec<PastDecision>,
    /// The agent's decisions in the last 24 hours, and how many of them were denied.
    pub recent: (u64, u64),
}

impl Attempt {
    /// Attempts left before the next denied one escalates (`None`: no cap).
    #[must_use]
    pub fn remaining(&self) -> Option<u32> {
        (self.max_attempts > 0).then(|| self.max_attempts.saturating_sub(self.number))
    }

    /// The `recent_denials` risk factor: 10 points when at least half of the agent's
    /// decisions in the last 24 hours (at least 3 of them) were denied, 5 at a quarter.
    #[must_use]
    pub fn denials_factor(&self) -> warden_core::risk::RiskFactor {
        let (total, denied) = self.recent;
        let points = match (total, denied) {
            (t, _) if t < 3 => 0,
            (t, d) if d * 2 >= t => 10,
            (t, d) if d * 4 >= t => 5,
            _ => 0,
        };
        warden_core::risk::RiskFactor::new(
            "recent_denials",
            points,
            format!("{denied} of the agent's {total} decisions in the last 24 hours were denied"),
        )
    }

    /// The members the retry hint carries.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "subject": self.subject,
            "attempt": self.number,
            "max_attempts": self.max_attempts,
            "remaining_attempts": self.remaining(),
            "escalated": self.escalated,
            "history": self.history.iter().map(|d| json!({
                "decision_id": d.id,
                "input_digest": d.input_digest,
                "outcome": d.outcome.as_str(),
                "at": warden_store::model::audit_time(d.created_at),
            })).collect::<Vec<_>>(),
        })
    }
}

/// Applies the retry contract and the quotas of the agent `principal` to its decision in
/// `space`: escalates after `max-attempts` failed attempts at `subject`, adds the quota
/// findings, and returns the attempt. One store read.
///
/// # Errors
/// When the store cannot be read.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, each argument distinct"
)]
pub async fn apply(
    store: &dyn Store,
    settings: &AgentSettings,
    principal: &str,
    space: &str,
    subject: String,
    claimed: Option<u32>,
    now: OffsetDateTime,
    decision: &mut Decision,
) -> Result<Attempt, ApiError> {
    let record = store
        .agent_record(&AgentQuery {
            principal,
            space,
            subject: &subject,
            attempts_since: now - Duration::hours(i64::from(settings.attempt_window_hours)),
            attempts_limit: HISTORY_LIMIT,
            hour_since: now - Duration::HOUR,
            month_since: now
                .replace_day(1)
                .unwrap_or(now)
                .replace_time(Time::MIDNIGHT),
            recent_since: now - Duration::DAY,
        })
        .await
        .map_err(|e| ApiError::store("reading the agent's record", e))?;
    let history: Vec<PastDecision> = record
        .attempts
        .iter()
        .take_while(|d| matches!(d.outcome, Outcome::Deny | Outcome::RequireApproval))
        .cloned()
        .collect();
    let counted = u32::try_from(history.len()).unwrap_or(u32::MAX);
    let number = counted.saturating_add(1).max(claimed.unwrap_or(1));
    let mut attempt = Attempt {
        subject,
        number,
        max_attempts: settings.max_attempts,
        escalated: false,
        history,
        recent: (record.recent, record.recent_denied),
    };
    if settings.max_attempts > 0
        && number > settings.max_attempts
        && decision.outcome == Outcome::Deny
    {
        escalate(decision, principal, &attempt);
        attempt.escalated = true;
    }
    check_quotas(decision, settings, principal, &record, now);
    decision.refresh();
    Ok(attempt)
}

/// Turns the deny findings into require_approval ones and adds WD-AGENT-001 with the history.
fn escalate(decision: &mut Decision, principal: &str, attempt: &Attempt) {
    let previous = attempt.number - 1;
    let note = format!(
        "escalated to require_approval: attempt {} at this change by agent {principal} after {previous} that were not allowed (`max-attempts` = {})",
        attempt.number, attempt.max_attempts
    );
    for f in &mut decision.findings {
        if f.enforcement == Enforcement::Deny {
            f.enforcement = Enforcement::RequireApproval;
            f.note = Some(match f.note.take() {
                Some(n) => format!("{n}; {note}"),
                None => note.clone(),
            });
        }
    }
    let listed: Vec<String> = attempt
        .history
        .iter()
        .map(|d| {
            format!(
                "decision {} ({}, {}, {})",
                d.id,
                d.outcome.as_str(),
                d.input_digest,
                warden_store::model::audit_time(d.created_at)
            )
        })
        .collect();
    let shown = if attempt.history.len() < previous as usize {
        format!(
            "; {} of them listed (the agent counted {previous})",
            attempt.history.len()
        )
    } else {
        String::new()
    };
    decision.findings.push(finding(
        "WD-AGENT-001",
        Enforcement::RequireApproval,
        principal,
        format!(
            "attempt {} at this change ({}) by agent {principal}; the {previous} before it were not allowed: {}{shown}. The denied findings need a person's approval instead",
            attempt.number,
            attempt.subject,
            listed.join(", ")
        ),
    ));
}

/// Adds WD-AGENT-002 / WD-AGENT-003 when the agent is over a quota.
fn check_quotas(
    decision: &mut Decision,
    settings: &AgentSettings,
    principal: &str,
    record: &AgentRecord,
    now: OffsetDateTime,
) {
    let quotas = settings.quotas_of(principal);
    if let Some(limit) = quotas.changes_per_hour {
        if record.changes_last_hour >= u64::from(limit) {
            let frees = record.oldest_in_hour.map_or(now, |t| t + Duration::HOUR);
            decision.findings.push(finding(
                "WD-AGENT-002",
                Enforcement::Deny,
                principal,
                format!(
                    "agent {principal} submitted {} changes in the last hour; its quota `changes-per-hour` is {limit}; the next slot frees at {}",
                    record.changes_last_hour,
                    warden_store::model::audit_time(frees)
                ),
            ));
        }
    }
    if let Some(budget) = quotas.monthly_cost {
        let delta = decision.cost.as_ref().map_or(0.0, |c| c.delta);
        let total = record.cost_this_month + delta;
        if delta > 0.0 && total > budget {
            decision.findings.push(finding(
                "WD-AGENT-003",
                Enforcement::Deny,
                principal,
                format!(
                    "agent {principal}'s monthly cost budget `monthly-cost` is {}: committed this month {}, this change {}, over by {} (headroom before it: {})",
                    usd(budget),
                    usd(record.cost_this_month),
                    signed_usd(delta),
                    usd(total - budget),
                    usd((budget - record.cost_this_month).max(0.0))
                ),
            ));
        }
    }
}

/// A finding of one of the WD-AGENT rules, on the agent.
fn finding(rule_id: &str, enforcement: Enforcement, principal: &str, message: String) -> Finding {
    warden_rules::derived_finding(
        rule_id,
        format!("agent/{principal}"),
        "agent",
        enforcement,
        message,
    )
}
