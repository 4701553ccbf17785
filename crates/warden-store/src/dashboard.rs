//! What the web dashboard reads and keeps: a filtered, keyset-paged decision list, the
//! overview's aggregates, and server-side sessions. The types are public; the SQL both
//! databases share is built here.

use time::OffsetDateTime;
use warden_core::Outcome;

use crate::error::{Result, StoreError};
use crate::model::{from_millis, parse_outcome, to_millis, DecisionRecord};
use crate::shared::{corrupt, StoreRow};

/// Which decisions to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionQuery {
    /// Only decisions in these spaces (a token's spaces); `None`: every space, and decisions
    /// made outside any space.
    pub within: Option<Vec<String>>,
    /// Only this space.
    pub space: Option<String>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
    /// Only this principal.
    pub actor: Option<String>,
    /// Only this actor kind (`human`, `agent`, `pipeline`, `system`).
    pub actor_kind: Option<String>,
    /// Made at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Made before this time.
    pub until: Option<OffsetDateTime>,
    /// Keyset pagination: only ids below this one (the last id of the previous page).
    pub before_id: Option<i64>,
    /// At most this many (capped at [`DecisionQuery::MAX_LIMIT`]).
    pub limit: u32,
}

impl DecisionQuery {
    /// The largest page.
    pub const MAX_LIMIT: u32 = 500;
}

/// One decision in a list: its columns without the document.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionSummary {
    /// Id.
    pub id: i64,
    /// Space.
    pub space: Option<String>,
    /// Principal that asked.
    pub actor: String,
    /// Its kind (`human`, `agent`, `pipeline`, `system`).
    pub actor_kind: String,
    /// Digest of the evaluated inputs.
    pub input_digest: String,
    /// Policy revision used.
    pub policy_revision: String,
    /// Outcome.
    pub outcome: Outcome,
    /// An approval the decision cites.
    pub approval_id: Option<i64>,
    /// What the change was an attempt at.
    pub subject: Option<String>,
    /// Which attempt at the subject (agents).
    pub attempt: Option<i64>,
    /// Monthly cost delta in USD, when estimated.
    pub cost_delta: Option<f64>,
    /// When recorded.
    pub created_at: OffsetDateTime,
}

impl From<&DecisionRecord> for DecisionSummary {
    fn from(d: &DecisionRecord) -> DecisionSummary {
        DecisionSummary {
            id: d.id,
            space: d.space.clone(),
            actor: d.actor.clone(),
            actor_kind: d.actor_kind.clone(),
            input_digest: d.input_digest.clone(),
            policy_revision: d.policy_revision.clone(),
            outcome: d.outcome,
            approval_id: d.approval_id,
            subject: None,
            attempt: None,
            cost_delta: None,
            created_at: d.created_at,
        }
    }
}

/// What the overview aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    /// Only these spaces (`None`: all).
    pub within: Option<Vec<String>>,
    /// Decisions made at or after this time.
    pub since: OffsetDateTime,
    /// Width of a time bucket in seconds (at least 60).
    pub bucket_secs: i64,
    /// How many of the most violated rules to return.
    pub top_rules: u32,
}

/// Decisions with one outcome in one time bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeBucket {
    /// Start of the bucket.
    pub start: OffsetDateTime,
    /// The outcome.
    pub outcome: Outcome,
    /// How many.
    pub count: u64,
}

/// How often a rule had an unwaived finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleHits {
    /// Rule id.
    pub rule: String,
    /// Findings of the rule.
    pub findings: u64,
    /// Decisions with at least one of them.
    pub decisions: u64,
}

/// The overview's aggregates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionStats {
    /// Decisions per outcome per bucket, by bucket then outcome.
    pub buckets: Vec<OutcomeBucket>,
    /// Rules by decisions they appeared in, most first (ties by rule id).
    pub top_rules: Vec<RuleHits>,
    /// Decisions in the period.
    pub decisions: u64,
    /// Agent subjects (agent, space, subject) denied in the period.
    pub agent_denied_subjects: u64,
    /// Of those, the ones a later attempt got allowed (allow or warn): the agent corrected
    /// itself.
    pub agent_corrected_subjects: u64,
}

/// A dashboard session: the token it acts as and when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiSession {
    /// The token (unrevoked) the session was opened with.
    pub token: crate::model::Token,
    /// When opened.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// A value to bind to a generated statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
}

/// A `WHERE` clause over `decisions d` and its parameters, numbered from `$first`.
#[derive(Debug, Default)]
pub(crate) struct Where {
    pub(crate) sql: String,
    pub(crate) params: Vec<Param>,
    first: usize,
}

impl Where {
    fn new(first: usize) -> Where {
        Where {
            sql: "TRUE".into(),
            params: Vec::new(),
            first,
        }
    }

    fn next(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("${}", self.first + self.params.len() - 1)
    }

    fn and(&mut self, column: &str, op: &str, p: Param) {
        let n = self.next(p);
        self.sql.push_str(&format!(" AND d.{column} {op} {n}"));
    }

    fn within(&mut self, spaces: Option<&Vec<String>>) {
        let Some(spaces) = spaces else { return };
        if spaces.iter().any(|s| s == "*") {
            return;
        }
        if spaces.is_empty() {
            self.sql.push_str(" AND FALSE");
            return;
        }
        let list: Vec<String> = spaces
            .iter()
            .map(|s| self.next(Param::Text(s.clone())))
            .collect();
        self.sql
            .push_str(&format!(" AND d.space IN ({})", list.join(", ")));
    }
}

/// The list's columns (no document).
pub(crate) const SUMMARY_COLUMNS: &str = "d.id, d.space, d.actor, d.actor_kind, d.input_digest, d.policy_revision, d.outcome, d.approval_id, d.subject, d.attempt, d.cost_delta, d.created_at";

/// The filter of a decision list, parameters from `$1`.
pub(crate) fn decisions_where(q: &DecisionQuery) -> Where {
    let mut w = Where::new(1);
    w.within(q.within.as_ref());
    if let Some(s) = &q.space {
        w.and("space", "=", Param::Text(s.clone()));
    }
    if let Some(o) = q.outcome {
        w.and("outcome", "=", Param::Text(o.as_str().into()));
    }
    if let Some(a) = &q.actor {
        w.and("actor", "=", Param::Text(a.clone()));
    }
    if let Some(k) = &q.actor_kind {
        w.and("actor_kind", "=", Param::Text(k.clone()));
    }
    if let Some(t) = q.since {
        w.and("created_at", ">=", Param::Int(to_millis(t)));
    }
    if let Some(t) = q.until {
        w.and("created_at", "<", Param::Int(to_millis(t)));
    }
    if let Some(id) = q.before_id {
        w.and("id", "<", Param::Int(id));
    }
    w
}

/// The page of decisions `q` asks for: the statement and its parameters.
pub(crate) fn decisions_sql(q: &DecisionQuery) -> (String, Vec<Param>) {
    let mut w = decisions_where(q);
    let limit = w.next(Param::Int(i64::from(
        q.limit.clamp(1, DecisionQuery::MAX_LIMIT),
    )));
    (
        format!(
            "SELECT {SUMMARY_COLUMNS} FROM decisions d WHERE {} ORDER BY d.id DESC LIMIT {limit}",
            w.sql
        ),
        w.params,
    )
}

/// The filter of the overview's aggregates, parameters from `$1`.
pub(crate) fn stats_where(q: &StatsQuery) -> Where {
    let mut w = Where::new(1);
    w.and("created_at", ">=", Param::Int(to_millis(q.since)));
    w.within(q.within.as_ref());
    w
}

/// Checks a stats query.
pub(crate) fn check_stats(q: &StatsQuery) -> Result<()> {
    if q.bucket_secs < 60 {
        return Err(StoreError::Invalid(format!(
            "a time bucket is at least 60 seconds, not {}",
            q.bucket_secs
        )));
    }
    Ok(())
}

/// Decisions per bucket and outcome: `bucket`, `outcome`, `n`.
pub(crate) fn buckets_sql(q: &StatsQuery) -> (String, Vec<Param>) {
    let mut w = stats_where(q);
    let width = w.next(Param::Int(q.bucket_secs.saturating_mul(1000)));
    (
        format!(
            "SELECT (d.created_at / {width}) * {width} AS bucket, d.outcome AS outcome, count(*) AS n
               FROM decisions d WHERE {} GROUP BY 1, 2 ORDER BY 1, 2",
            w.sql
        ),
        w.params,
    )
}

/// Agent subjects denied, and of those corrected later: `denied`, `corrected`.
pub(crate) fn self_correction_sql(q: &StatsQuery) -> (String, Vec<Param>) {
    let w = stats_where(q);
    (
        format!(
            "SELECT count(*) AS denied, COALESCE(sum(CASE WHEN EXISTS (
                 SELECT 1 FROM decisions a
                  WHERE a.actor = g.actor AND a.subject = g.subject
                    AND (a.space = g.space OR (a.space IS NULL AND g.space IS NULL))
                    AND a.id > g.first_deny AND a.outcome IN ('allow', 'warn'))
                 THEN 1 ELSE 0 END), 0) AS corrected
               FROM (SELECT d.actor, d.space, d.subject, min(d.id) AS first_deny
                       FROM decisions d
                      WHERE {} AND d.actor_kind = 'agent' AND d.outcome = 'deny'
                        AND d.subject IS NOT NULL
                      GROUP BY d.actor, d.space, d.subject) g",
            w.sql
        ),
        w.params,
    )
}

/// The most violated rules, given each database's way to list a document's findings as
/// rows with a `rule` column (`findings` names the table expression, e.g. SQLite's
/// `json_each(d.document, '$.findings') f` with `json_extract(f.value, '$.rule_id')`):
/// `rule`, `findings`, `decisions`.
pub(crate) fn top_rules_sql(q: &StatsQuery, from: &str, rule: &str) -> (String, Vec<Param>) {
    let mut w = stats_where(q);
    let limit = w.next(Param::Int(i64::from(q.top_rules.min(100))));
    (
        format!(
            "SELECT {rule} AS rule, count(*) AS findings, count(DISTINCT d.id) AS decisions
               FROM decisions d, {from}
              WHERE {}
              GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT {limit}",
            w.sql
        ),
        w.params,
    )
}

/// Binds generated parameters ([`Param`]) to a query of either database, in order.
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for p in $params {
            query = match p {
                $crate::dashboard::Param::Text(s) => query.bind(s.as_str()),
                $crate::dashboard::Param::Int(i) => query.bind(*i),
            };
        }
        query
    }};
}
pub(crate) use bind_params;

/// Decodes a decision summary row.
pub(crate) fn summary_from(row: &impl StoreRow) -> Result<DecisionSummary> {
    let outcome = row.text("outcome")?;
    Ok(DecisionSummary {
        id: row.int("id")?,
        space: row.opt_text("space")?,
        actor: row.text("actor")?,
        actor_kind: row.text("actor_kind")?,
        input_digest: row.text("input_digest")?,
        policy_revision: row.text("policy_revision")?,
        outcome: parse_outcome(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
        approval_id: row.opt_int("approval_id")?,
        subject: row.opt_text("subject")?,
        attempt: row.opt_int("attempt")?,
        cost_delta: row.opt_float("cost_delta")?,
        created_at: from_millis(row.int("created_at")?)?,
    })
}

/// Decodes a bucket row.
pub(crate) fn bucket_from(row: &impl StoreRow) -> Result<OutcomeBucket> {
    let outcome = row.text("outcome")?;
    Ok(OutcomeBucket {
        start: from_millis(row.int("bucket")?)?,
        outcome: parse_outcome(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
        count: count(row.int("n")?)?,
    })
}

/// Decodes a rule row.
pub(crate) fn rule_hits_from(row: &impl StoreRow) -> Result<RuleHits> {
    Ok(RuleHits {
        rule: row.opt_text("rule")?.unwrap_or_default(),
        findings: count(row.int("findings")?)?,
        decisions: count(row.int("decisions")?)?,
    })
}

/// A count column.
pub(crate) fn count(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| corrupt("count", &n.to_string()))
}

/// Stores a session (`$1` secret hash, `$2` token id, `$3` created, `$4` expires).
pub(crate) const INSERT_SESSION: &str =
    "INSERT INTO ui_sessions (secret_hash, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";

/// Drops sessions that ended before `$1`.
pub(crate) const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM ui_sessions WHERE expires_at <= $1";

/// The session with secret hash `$1` unexpired at `$2`, with its unrevoked token's columns.
pub(crate) const SELECT_SESSION: &str =
    "SELECT t.*, s.created_at AS session_created_at, s.expires_at AS session_expires_at
       FROM ui_sessions s JOIN tokens t ON t.id = s.token_id
      WHERE s.secret_hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL";

/// Decodes [`SELECT_SESSION`]'s row.
pub(crate) fn session_from(row: &impl StoreRow) -> Result<UiSession> {
    Ok(UiSession {
        token: crate::shared::token_from(row)?,
        created_at: from_millis(row.int("session_created_at")?)?,
        expires_at: from_millis(row.int("session_expires_at")?)?,
    })
}

/// Checks a new session's fields.
pub(crate) fn check_session(secret_hash: &str, expires_at: OffsetDateTime, now: i64) -> Result<()> {
    if !secret_hash.starts_with("sha256:") {
        return Err(StoreError::Invalid(
            "a session is stored under the `sha256:` hash of its secret".into(),
        ));
    }
    if to_millis(expires_at) <= now {
        return Err(StoreError::Invalid(
            "a session's expiry is not in the future".into(),
        ));
    }
    Ok(())
}
