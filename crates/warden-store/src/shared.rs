//! What the SQLite and PostgreSQL stores share: options, row decoding, validation, the audit
//! record and the SQL that is the same on both.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sqlx::Row;
use time::OffsetDateTime;

use crate::audit::{AuditEvent, AuditRecord};
use crate::error::{Result, StoreError};
use crate::mask::mask_text;
use crate::model::{
    audit_time, from_millis, parse_actor_kind, parse_outcome, Actor, Approval, ApprovalState,
    DecisionRecord, ExceptionRecord, ExceptionState, ExceptionUse, NewDecision, NewInput, Role,
    Space, StoredInput, Token,
};

/// A row of either database, read by column name: the column types the schema uses (TEXT and
/// BIGINT, either nullable) decode the same way from both.
pub(crate) trait StoreRow {
    /// A TEXT column.
    fn text(&self, col: &str) -> Result<String>;
    /// A nullable TEXT column.
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    /// A BIGINT column.
    fn int(&self, col: &str) -> Result<i64>;
    /// A nullable BIGINT column.
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    /// A nullable DOUBLE PRECISION column.
    fn opt_float(&self, col: &str) -> Result<Option<f64>>;
}

macro_rules! store_row {
    ($row:ty) => {
        impl StoreRow for $row {
            fn text(&self, col: &str) -> Result<String> {
                Ok(self.try_get(col)?)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>> {
                Ok(self.try_get(col)?)
            }
            fn int(&self, col: &str) -> Result<i64> {
                Ok(self.try_get(col)?)
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>> {
                Ok(self.try_get(col)?)
            }
            fn opt_float(&self, col: &str) -> Result<Option<f64>> {
                Ok(self.try_get(col)?)
            }
        }
    };
}
store_row!(sqlx::sqlite::SqliteRow);
store_row!(sqlx::postgres::PgRow);

/// Where the store's time comes from.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// How to open a store.
#[derive(Clone)]
pub struct OpenOptions {
    /// SQLite: `synchronous = FULL`, so committed transactions survive power loss, not only a
    /// crash. PostgreSQL: unused (durability is the server's `synchronous_commit`).
    pub durable: bool,
    /// SQLite: how long a writer waits for another process's lock. PostgreSQL: how long a
    /// request waits for a pooled connection.
    pub busy_timeout: Duration,
    /// The clock (the system's by default).
    pub clock: Clock,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions {
            durable: false,
            busy_timeout: Duration::from_secs(5),
            clock: Arc::new(OffsetDateTime::now_utc),
        }
    }
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("durable", &self.durable)
            .field("busy_timeout", &self.busy_timeout)
            .finish_non_exhaustive()
    }
}

/// Digests of input documents this process has seen committed. Warden never deletes an
/// input, so a digest once stored stays stored and the next decision over the same document
/// skips sending it to the database again (a plan is often 100 KB or more; the row would be
/// left untouched by `ON CONFLICT DO NOTHING` anyway). Bounded: cleared when full.
#[derive(Default)]
pub(crate) struct StoredInputs(std::sync::Mutex<std::collections::HashSet<String>>);

impl StoredInputs {
    const CAPACITY: usize = 4096;

    pub(crate) fn contains(&self, digest: &str) -> bool {
        self.0.lock().is_ok_and(|set| set.contains(digest))
    }

    pub(crate) fn insert_all<'a>(&self, digests: impl Iterator<Item = &'a str>) {
        if let Ok(mut set) = self.0.lock() {
            for digest in digests {
                if set.len() >= Self::CAPACITY {
                    set.clear();
                }
                set.insert(digest.to_owned());
            }
        }
    }
}

/// Takes the next sequence number of the chain and returns it with the hash it follows.
pub(crate) const NEXT_AUDIT_SEQ: &str =
    "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash";

pub(crate) fn check_audit_detail(event: &AuditEvent) -> Result<()> {
    if event.detail.is_object() {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "audit detail must be a JSON object".into(),
        ))
    }
}

/// The audit record with sequence number `seq` following `prev_hash`, hashed.
pub(crate) fn audit_record(
    seq: i64,
    prev_hash: String,
    now_ms: i64,
    actor: &Actor,
    event: AuditEvent,
) -> Result<AuditRecord> {
    let mut record = AuditRecord {
        seq,
        at: audit_time(from_millis(now_ms)?),
        actor: actor.principal.clone(),
        actor_kind: actor.kind_str().to_owned(),
        action: event.action,
        subject: event.subject,
        space: event.space,
        detail: event.detail,
        prev_hash,
        hash: String::new(),
    };
    record.hash = record.compute_hash()?;
    Ok(record)
}

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} `{value}`"))
}

pub(crate) fn opt_time(ms: Option<i64>) -> Result<Option<OffsetDateTime>> {
    ms.map(from_millis).transpose()
}

pub(crate) fn roles_from(text: &str) -> Result<Vec<Role>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("roles `{text}`: {e}")))
}

pub(crate) fn u32_from(n: i64, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} {n}")))
}

pub(crate) fn space_from(row: &impl StoreRow) -> Result<Space> {
    let settings: String = row.text("settings")?;
    Ok(Space {
        name: row.text("name")?,
        description: row.text("description")?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(format!("space settings: {e}")))?,
        created_at: from_millis(row.int("created_at")?)?,
        updated_at: from_millis(row.int("updated_at")?)?,
    })
}

pub(crate) fn token_from(row: &impl StoreRow) -> Result<Token> {
    let kind: String = row.text("kind")?;
    let spaces: String = row.text("spaces")?;
    Ok(Token {
        id: row.int("id")?,
        name: row.text("name")?,
        principal: row.text("principal")?,
        kind: parse_actor_kind(&kind).ok_or_else(|| corrupt("actor kind", &kind))?,
        roles: roles_from(&row.text("roles")?)?,
        spaces: serde_json::from_str(&spaces)
            .map_err(|e| StoreError::Corrupt(format!("token spaces: {e}")))?,
        created_by: row.text("created_by")?,
        created_at: from_millis(row.int("created_at")?)?,
        revoked_at: opt_time(row.opt_int("revoked_at")?)?,
    })
}

pub(crate) fn decision_from(row: &impl StoreRow) -> Result<DecisionRecord> {
    let outcome: String = row.text("outcome")?;
    let document: String = row.text("document")?;
    Ok(DecisionRecord {
        id: row.int("id")?,
        space: row.opt_text("space")?,
        actor: row.text("actor")?,
        actor_kind: row.text("actor_kind")?,
        input_digest: row.text("input_digest")?,
        policy_revision: row.text("policy_revision")?,
        outcome: parse_outcome(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
        approval_id: row.opt_int("approval_id")?,
        document,
        created_at: from_millis(row.int("created_at")?)?,
    })
}

pub(crate) fn approval_from(row: &impl StoreRow, approvers: Vec<String>) -> Result<Approval> {
    let state: String = row.text("state")?;
    Ok(Approval {
        id: row.int("id")?,
        space: row.text("space")?,
        subject: row.text("subject")?,
        change_digest: row.text("change_digest")?,
        decision_id: row.opt_int("decision_id")?,
        requested_by: row.text("requested_by")?,
        requester_kind: row.text("requester_kind")?,
        state: ApprovalState::parse(&state).ok_or_else(|| corrupt("approval state", &state))?,
        required: u32_from(row.int("required")?, "required approvals")?,
        approver_roles: roles_from(&row.text("approver_roles")?)?,
        approvers,
        created_at: from_millis(row.int("created_at")?)?,
        expires_at: opt_time(row.opt_int("expires_at")?)?,
        resolved_at: opt_time(row.opt_int("resolved_at")?)?,
        resolved_by: row.opt_text("resolved_by")?,
        reason: row.opt_text("reason")?,
    })
}

pub(crate) fn exception_from(row: &impl StoreRow) -> Result<ExceptionRecord> {
    let state: String = row.text("state")?;
    Ok(ExceptionRecord {
        id: row.int("id")?,
        space: row.text("space")?,
        rule: row.text("rule")?,
        resource_glob: row.text("resource_glob")?,
        justification: row.text("justification")?,
        ticket: row.opt_text("ticket")?,
        requested_by: row.text("requested_by")?,
        requester_kind: row.text("requester_kind")?,
        state: ExceptionState::parse(&state).ok_or_else(|| corrupt("exception state", &state))?,
        created_at: from_millis(row.int("created_at")?)?,
        expires_at: from_millis(row.int("expires_at")?)?,
        decided_by: row.opt_text("decided_by")?,
        decided_at: opt_time(row.opt_int("decided_at")?)?,
        reason: row.opt_text("reason")?,
    })
}

pub(crate) fn audit_from(row: &impl StoreRow) -> Result<AuditRecord> {
    let detail: String = row.text("detail")?;
    Ok(AuditRecord {
        seq: row.int("seq")?,
        at: row.text("at")?,
        actor: row.text("actor")?,
        actor_kind: row.text("actor_kind")?,
        action: row.text("action")?,
        subject: row.text("subject")?,
        space: row.opt_text("space")?,
        detail: serde_json::from_str(&detail)
            .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
        prev_hash: row.text("prev_hash")?,
        hash: row.text("hash")?,
    })
}

pub(crate) fn valid_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{what} `{name}`: 1-64 letters, digits, `-`, `_` or `.`"
        )))
    }
}

pub(crate) fn non_empty(what: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        Err(StoreError::Invalid(format!("{what} is required")))
    } else {
        Ok(())
    }
}

/// The checks shared by every decision on a request or exception: agents never decide, the
/// requester never decides their own, and the decider holds one of the space's approver roles.
pub(crate) fn check_decider(
    actor: &Actor,
    requested_by: &str,
    roles: &[Role],
    what: &str,
) -> Result<()> {
    if actor.is_agent() {
        return Err(StoreError::Forbidden(format!(
            "agents cannot decide {what}s ({} is an agent)",
            actor.principal
        )));
    }
    if actor.principal == requested_by {
        return Err(StoreError::Forbidden(format!(
            "{} requested this {what} and cannot decide it",
            actor.principal
        )));
    }
    if !roles.iter().any(|r| actor.has_role(*r)) {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        return Err(StoreError::Forbidden(format!(
            "deciding this {what} needs one of the roles [{}]",
            names.join(", ")
        )));
    }
    Ok(())
}

/// An input document to insert with a decision: the input, its masked text and how many
/// secrets were masked in it.
pub(crate) type InputRow<'a> = (&'a NewInput<'a>, std::borrow::Cow<'a, str>, usize);

/// Inserts one input document (parameters from `$first`: digest, kind, content,
/// masked_secrets, created_at); a digest already stored is left as it is.
pub(crate) fn insert_input_sql(first: usize) -> String {
    let [a, b, c, d, e] = [first, first + 1, first + 2, first + 3, first + 4];
    format!(
        "INSERT INTO inputs (digest, kind, content, masked_secrets, created_at)
         VALUES (${a}, ${b}, ${c}, ${d}, ${e}) ON CONFLICT (digest) DO NOTHING;"
    )
}

/// Inserts a decision and returns its id (parameters from `$first`: space, actor,
/// actor_kind, input_digest, policy_revision, outcome, approval_id, document, created_at).
pub(crate) fn insert_decision_sql(first: usize) -> String {
    let p: Vec<String> = (first..first + 12).map(|n| format!("${n}")).collect();
    format!(
        "INSERT INTO decisions (space, actor, actor_kind, input_digest, policy_revision, outcome, approval_id, document, created_at, subject, attempt, cost_delta)
         VALUES ({}) RETURNING id;",
        p.join(", ")
    )
}

/// A decision's follow-up event ([`NewDecision::follow_up`]) bound to decision `id`.
pub(crate) fn follow_up_event(id: i64, event: &AuditEvent) -> AuditEvent {
    let mut event = event.clone();
    event.subject = format!("decision/{id}");
    if let serde_json::Value::Object(detail) = &mut event.detail {
        detail.insert("decision_id".into(), json!(id));
    }
    event
}

/// The `decision.recorded` audit event of decision `id`.
pub(crate) fn decision_event(id: i64, new: &NewDecision<'_>, masked_total: usize) -> AuditEvent {
    let d = new.decision;
    let inputs: Vec<&str> = new.inputs.iter().map(|i| i.digest.as_str()).collect();
    AuditEvent::new(
        "decision.recorded",
        format!("decision/{id}"),
        new.space.as_deref(),
        json!({
            "outcome": d.outcome.as_str(),
            "input_digest": d.input_digest,
            "policy_revision": d.policy_revision,
            "inputs": inputs,
            "approval_id": new.approval_id,
            "findings": d.findings.len(),
            "masked_secrets": masked_total,
            "subject": new.subject,
            "attempt": new.attempt,
        }),
    )
}

pub(crate) fn exception_use_from(row: &impl StoreRow) -> Result<ExceptionUse> {
    Ok(ExceptionUse {
        id: row.int("id")?,
        exception_id: row.int("exception_id")?,
        decision_id: row.int("decision_id")?,
        rule: row.text("rule")?,
        resource: row.text("resource")?,
        created_at: from_millis(row.int("created_at")?)?,
    })
}

pub(crate) fn stored_input_from(row: &impl StoreRow) -> Result<StoredInput> {
    Ok(StoredInput {
        digest: row.text("digest")?,
        kind: row.text("kind")?,
        content: row.text("content")?,
        masked_secrets: row.int("masked_secrets")?,
        created_at: from_millis(row.int("created_at")?)?,
    })
}

/// A decision made ready to store: its document and inputs masked.
pub(crate) struct PreparedDecision<'a> {
    /// The decision's JSON, secrets masked.
    pub(crate) document: std::borrow::Cow<'a, str>,
    /// The inputs to insert (those not known to be stored already).
    pub(crate) inputs: Vec<InputRow<'a>>,
    /// Secrets masked in the document and the inputs.
    pub(crate) masked_total: usize,
}

/// Serializes (unless given) and masks a decision and its inputs; inputs `stored` already
/// holds are left out.
pub(crate) fn prepare_decision<'a>(
    new: &'a NewDecision<'a>,
    stored: &StoredInputs,
) -> Result<PreparedDecision<'a>> {
    let d = new.decision;
    debug_assert!(
        new.text
            .is_none_or(|t| serde_json::to_string(d).is_ok_and(|own| own == t)),
        "NewDecision.text must be the decision's own serialization"
    );
    let (document, doc_masked) = match new.text {
        Some(text) => mask_text(text, &new.secrets),
        None => {
            let owned = serde_json::to_string(d)?;
            let (masked, n) = match mask_text(&owned, &new.secrets) {
                (std::borrow::Cow::Owned(masked), n) => (Some(masked), n),
                (std::borrow::Cow::Borrowed(_), n) => (None, n),
            };
            (std::borrow::Cow::Owned(masked.unwrap_or(owned)), n)
        }
    };
    if doc_masked > 0 {
        serde_json::from_str::<serde::de::IgnoredAny>(&document).map_err(|e| {
            StoreError::Invalid(format!("the decision is not valid JSON once masked: {e}"))
        })?;
    }
    let mut masked_total = doc_masked;
    let mut inputs = Vec::new();
    for input in &new.inputs {
        let known = stored.contains(&input.digest);
        if known && new.secrets.is_empty() {
            continue;
        }
        let (content, n) = mask_text(&input.content, &new.secrets);
        masked_total += n;
        if !known {
            inputs.push((input, content, n));
        }
    }
    Ok(PreparedDecision {
        document,
        inputs,
        masked_total,
    })
}

/// The record of a decision just stored as `id`.
pub(crate) fn decision_record(
    id: i64,
    actor: &Actor,
    new: &NewDecision<'_>,
    document: String,
    now: i64,
) -> Result<DecisionRecord> {
    let d = new.decision;
    Ok(DecisionRecord {
        id,
        space: new.space.clone(),
        actor: actor.principal.clone(),
        actor_kind: actor.kind_str().to_owned(),
        input_digest: d.input_digest.clone(),
        policy_revision: d.policy_revision.clone(),
        outcome: d.outcome,
        approval_id: new.approval_id,
        document,
        created_at: from_millis(now)?,
    })
}

/// The schema migrations of one database, in order: (version, name, SQL).
pub(crate) type Migrations = &'static [(i64, &'static str, &'static str)];

/// Checks the migrations a database has applied (version, name, checksum) against this
/// build's: none unknown, none changed.
pub(crate) fn check_applied(known: Migrations, applied: &[(i64, String, String)]) -> Result<()> {
    for (version, name, checksum) in applied {
        match known.iter().find(|m| m.0 == *version) {
            None => {
                return Err(StoreError::Migration {
                    version: *version,
                    name: name.clone(),
                    message: "the database is newer than this build of warden".into(),
                })
            }
            Some((_, _, sql)) if crate::audit::hash_canonical(sql) != *checksum => {
                return Err(StoreError::Migration {
                    version: *version,
                    name: name.clone(),
                    message: "applied with different contents than this build's".into(),
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Creates the table of applied migrations if it is missing.
pub(crate) const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS warden_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
    applied_at BIGINT NOT NULL)";

/// Records a migration as applied: version, name, checksum, time.
pub(crate) const INSERT_MIGRATION: &str =
    "INSERT INTO warden_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)";
