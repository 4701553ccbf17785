//! The PostgreSQL store: several `warden serve` replicas on one database behave as one.
//!
//! The SQL is SQLite's ([`crate::sqlite`]) wherever it is the same; what differs is how
//! concurrent writers from several processes are kept apart:
//!
//! - **One audit chain.** Every append starts with `UPDATE audit_head ... RETURNING`: the
//!   head row stays locked until the transaction ends, so appends from every replica are
//!   serialised in the database and each record links to the one committed before it. Every
//!   state change appends inside its own transaction, so a change and its record commit
//!   together or not at all.
//! - **State machines.** A transition locks its row first (`SELECT ... FOR UPDATE` on the
//!   approval, exception or token) and checks the state it then reads: two replicas approving
//!   the last required approval grant it once; the second sees it approved (a conflict, as
//!   SQLite's store answers). Opening an approval locks its space's row, so one pending
//!   request per change digest survives a race. A decision that uses exceptions holds them
//!   `FOR SHARE`, so none is revoked between the check and the record.
//! - **No deadlocks.** Rows are locked before the audit head, several in id (or digest)
//!   order, and the head is the last lock a transaction takes.
//! - **Migrations** run on connect inside one transaction holding an advisory lock, so two
//!   replicas starting at once do not both migrate.
//!
//! Transactions run at `READ COMMITTED`: a statement that waited for a row lock reads the
//! row as the other transaction committed it. Reads of the audit log for verification and
//! export use one `REPEATABLE READ` snapshot.

use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row, Transaction};
use time::OffsetDateTime;

use crate::audit::{self, AuditEvent, AuditRecord, ChainVerifier, Verification};
use crate::dashboard::{
    self, bind_params, DecisionQuery, DecisionStats, DecisionSummary, StatsQuery, UiSession,
};
use crate::drift::{
    DriftDay, DriftEvent, DriftFilter, DriftScan, DriftScanResult, DriftStats, NewDriftScan,
    ResourceTouch,
};
use crate::environments::{
    Blueprint, Environment, EnvironmentEvent, EnvironmentFilter, EnvironmentUpdate, NewBlueprint,
    NewEnvironment,
};
use crate::error::{Result, StoreError};
use crate::model::{
    actor_kind_str, audit_time, from_millis, parse_outcome, to_millis, token_hash, Actor,
    AgentQuery, AgentRecord, Approval, ApprovalFilter, ApprovalState, DecisionRecord,
    ExceptionRecord, ExceptionState, ExceptionUse, Expired, NewApproval, NewDecision, NewException,
    NewSpace, NewToken, PastDecision, Space, SpaceSettings, StoredInput, Token,
};
use crate::shared::{
    apply_environment_update, approval_from, audit_from, audit_record, blueprint_from,
    check_applied, check_audit_detail, check_decider, check_environment_update, corrupt,
    decision_event, decision_from, decision_record, environment_audit_event,
    environment_event_from, environment_from, exception_from, exception_use_from, follow_up_event,
    insert_decision_sql, insert_input_sql, non_empty, opt_time, prepare_decision, space_from,
    stored_input_from, token_from, valid_name, Clock, InputRow, Migrations, OpenOptions,
    StoredInputs, CREATE_MIGRATIONS_TABLE, INSERT_ENVIRONMENT_EVENT, INSERT_MIGRATION,
    NEXT_AUDIT_SEQ, UPDATE_ENVIRONMENT,
};
use crate::store::Store;

mod drift;
/// Row lock taken before an environment changes.
const LOCK_ROW: &str = " FOR UPDATE";

/// The schema migrations, in order: (version, name, SQL).
const MIGRATIONS: Migrations = &[
    (
        1,
        "0001_init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "0002_agents",
        include_str!("../migrations/postgres/0002_agents.sql"),
    ),
    (
        3,
        "0003_environments",
        include_str!("../migrations/postgres/0003_environments.sql"),
    ),
    (
        4,
        "0004_drift",
        include_str!("../migrations/postgres/0004_drift.sql"),
    ),
    (
        5,
        "0005_ui",
        include_str!("../migrations/postgres/0005_ui.sql"),
    ),
];

/// The advisory lock key held while migrating ("WARDEN" and the number 1).
const MIGRATION_LOCK: i64 = 0x5741_5244_454e_0001;

/// Connections per replica.
const MAX_CONNECTIONS: u32 = 8;

type Tx = Transaction<'static, Postgres>;
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    clock: Clock,
    stored_inputs: Arc<StoredInputs>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

/// True for a `postgres://` or `postgresql://` URL: what selects this store.
#[must_use]
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/database`)
    /// and applies pending migrations. `options.busy_timeout` bounds the wait for a pooled
    /// connection; `options.durable` is the server's business (`synchronous_commit`).
    pub async fn connect(url: &str, options: OpenOptions) -> Result<PostgresStore> {
        if !is_postgres_url(url) {
            return Err(StoreError::Invalid(
                "a PostgreSQL URL starts with postgres:// or postgresql://".into(),
            ));
        }
        // The URL may hold a password: errors name what is wrong with it, never echo it.
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Invalid(format!("the PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(options.busy_timeout)
            .connect_with(connect)
            .await?;
        migrate(&pool).await?;
        Ok(PostgresStore {
            pool,
            clock: options.clock,
            stored_inputs: Arc::default(),
        })
    }

    /// The pool, for tools and tests that must reach the raw tables.
    #[must_use]
    pub fn raw_pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin(&self) -> Result<Tx> {
        Ok(self.pool.begin().await?)
    }

    /// A read-only transaction on one snapshot: the audit log and its head as of one moment.
    async fn snapshot(&self) -> Result<Tx> {
        Ok(self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?)
    }

    fn now_ms(&self) -> i64 {
        to_millis((self.clock)())
    }
}

/// Applies the migrations this build knows and the database lacks, in one transaction that
/// holds the migration advisory lock (a replica starting meanwhile waits, then finds them
/// applied).
async fn migrate(pool: &PgPool) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query(CREATE_MIGRATIONS_TABLE)
        .execute(&mut *tx)
        .await?;
    let applied: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT version, name, checksum FROM warden_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await?;
    check_applied(MIGRATIONS, &applied)?;
    for (version, name, sql) in MIGRATIONS {
        if applied.iter().any(|a| a.0 == *version) {
            continue;
        }
        let fail = |e: sqlx::Error| StoreError::Migration {
            version: *version,
            name: (*name).to_owned(),
            message: e.to_string(),
        };
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(fail)?;
        sqlx::query(INSERT_MIGRATION)
            .bind(version)
            .bind(name)
            .bind(audit::hash_canonical(sql))
            .bind(to_millis(OffsetDateTime::now_utc()))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
    }
    tx.commit().await?;
    Ok(())
}

/// Appends one audit record inside the caller's transaction. The first append of a
/// transaction locks the chain's head until it ends.
async fn append(tx: &mut Tx, now_ms: i64, actor: &Actor, event: AuditEvent) -> Result<AuditRecord> {
    check_audit_detail(&event)?;
    let (seq, prev_hash): (i64, String) =
        sqlx::query_as(NEXT_AUDIT_SEQ).fetch_one(&mut **tx).await?;
    let record = audit_record(seq, prev_hash, now_ms, actor, event)?;
    sqlx::query(INSERT_AUDIT)
        .bind(record.seq)
        .bind(&record.at)
        .bind(&record.actor)
        .bind(&record.actor_kind)
        .bind(&record.action)
        .bind(&record.subject)
        .bind(&record.space)
        .bind(audit::canonical_json(&record.detail)?)
        .bind(&record.prev_hash)
        .bind(&record.hash)
        .execute(&mut **tx)
        .await?;
    Ok(record)
}

/// Stores an audit record and makes it the chain's head, in one statement.
const INSERT_AUDIT: &str = "WITH head AS (UPDATE audit_head SET hash = $10 WHERE id = 1)
     INSERT INTO audit_log (seq, at, actor, actor_kind, action, subject, space, detail, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// A unique-key violation (a name taken by a concurrent writer) as a conflict.
fn unique_conflict(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what()),
        _ => StoreError::Database(e),
    }
}

/// Whether a load takes the row's lock.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lock {
    /// A plain read.
    None,
    /// `FOR UPDATE`: the row is about to change.
    Update,
}

impl Lock {
    fn suffix(self) -> &'static str {
        match self {
            Lock::None => "",
            Lock::Update => " FOR UPDATE",
        }
    }
}

async fn load_approval(pool: &PgPool, id: i64) -> Result<Option<Approval>> {
    let Some(row) = sqlx::query("SELECT * FROM approvals WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let approvers: Vec<String> = sqlx::query_scalar(APPROVERS)
        .bind(id)
        .fetch_all(pool)
        .await?;
    Ok(Some(approval_from(&row, approvers)?))
}

/// The principals who voted for an approval request.
const APPROVERS: &str =
    "SELECT principal FROM approval_votes WHERE approval_id = $1 ORDER BY created_at, principal";

async fn load_approval_tx(tx: &mut Tx, id: i64, lock: Lock) -> Result<Option<Approval>> {
    let sql = format!("SELECT * FROM approvals WHERE id = $1{}", lock.suffix());
    let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await? else {
        return Ok(None);
    };
    let approvers: Vec<String> = sqlx::query_scalar(APPROVERS)
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
    Ok(Some(approval_from(&row, approvers)?))
}

/// Reads approval `id` as the transaction left it, then commits: what a change to an approval
/// returns.
async fn commit_approval(mut tx: Tx, id: i64) -> Result<Approval> {
    let a = load_approval_tx(&mut tx, id, Lock::None).await?;
    tx.commit().await?;
    a.ok_or_else(|| StoreError::NotFound {
        kind: "approval",
        id: id.to_string(),
    })
}

async fn load_exception_tx(tx: &mut Tx, id: i64, lock: Lock) -> Result<ExceptionRecord> {
    let sql = format!("SELECT * FROM exceptions WHERE id = $1{}", lock.suffix());
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: "exception",
            id: id.to_string(),
        })?;
    exception_from(&row)
}

async fn space_settings_tx(tx: &mut Tx, name: &str, lock: Lock) -> Result<SpaceSettings> {
    let sql = format!("SELECT * FROM spaces WHERE name = $1{}", lock.suffix());
    let row = sqlx::query(&sql)
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: "space",
            id: name.to_owned(),
        })?;
    Ok(space_from(&row)?.settings)
}

/// Binds the parameters of [`insert_input_sql`] for one input.
fn bind_input<'q>(query: PgQuery<'q>, row: &'q InputRow<'q>, now: i64) -> PgQuery<'q> {
    let (input, content, masked) = row;
    query
        .bind(&input.digest)
        .bind(&input.kind)
        .bind(content.as_ref())
        .bind(i64::try_from(*masked).unwrap_or(i64::MAX))
        .bind(now)
}

/// Binds the parameters of [`insert_decision_sql`].
fn bind_decision<'q>(
    query: PgQuery<'q>,
    actor: &'q Actor,
    new: &'q NewDecision<'q>,
    document: &'q str,
    now: i64,
) -> PgQuery<'q> {
    let d = new.decision;
    query
        .bind(&new.space)
        .bind(&actor.principal)
        .bind(actor.kind_str())
        .bind(&d.input_digest)
        .bind(&d.policy_revision)
        .bind(d.outcome.as_str())
        .bind(new.approval_id)
        .bind(document)
        .bind(now)
        .bind(&new.subject)
        .bind(new.attempt.map(i64::from))
        .bind(new.cost_delta)
}

impl PostgresStore {
    /// Records a decision, its inputs, the exception uses and their audit records in one
    /// transaction. A cited approval must be approved for this digest in this space (an
    /// approved request never changes state again); used exceptions are held `FOR SHARE`
    /// and re-checked, so a revocation committed meanwhile is a conflict and nothing is
    /// written. Inputs go in digest order and rows are locked before the audit head, so
    /// concurrent decisions never deadlock.
    async fn record(
        &self,
        actor: &Actor,
        new: &NewDecision<'_>,
        document: &str,
        inputs: &[InputRow<'_>],
        masked_total: usize,
        now: i64,
    ) -> Result<i64> {
        let d = new.decision;
        let mut tx = self.begin().await?;
        let mut sorted: Vec<&InputRow<'_>> = inputs.iter().collect();
        sorted.sort_by(|a, b| a.0.digest.cmp(&b.0.digest));
        let insert_input = insert_input_sql(1);
        for row in sorted {
            bind_input(sqlx::query(&insert_input), row, now)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(approval_id) = new.approval_id {
            let a = load_approval_tx(&mut tx, approval_id, Lock::None)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    kind: "approval",
                    id: approval_id.to_string(),
                })?;
            if a.state != ApprovalState::Approved
                || a.change_digest != d.input_digest
                || new.space.as_deref() != Some(a.space.as_str())
            {
                return Err(StoreError::Conflict(format!(
                    "approval {approval_id} ({}, {} in space {}) does not approve this change",
                    a.state.as_str(),
                    a.change_digest,
                    a.space
                )));
            }
        }
        let mut exception_ids: Vec<i64> =
            new.exception_uses.iter().map(|u| u.exception_id).collect();
        exception_ids.sort_unstable();
        exception_ids.dedup();
        let rows = sqlx::query("SELECT * FROM exceptions WHERE id = ANY($1) ORDER BY id FOR SHARE")
            .bind(&exception_ids)
            .fetch_all(&mut *tx)
            .await?;
        let exceptions = rows
            .iter()
            .map(exception_from)
            .collect::<Result<Vec<_>>>()?;
        for e in &exceptions {
            if e.state != ExceptionState::Granted || to_millis(e.expires_at) <= now {
                return Err(StoreError::Conflict(format!(
                    "exception {} no longer applies ({})",
                    e.id,
                    if e.state == ExceptionState::Granted {
                        "expired"
                    } else {
                        e.state.as_str()
                    }
                )));
            }
            if new.space.as_deref() != Some(e.space.as_str()) {
                return Err(StoreError::Conflict(format!(
                    "exception {} belongs to space {}",
                    e.id, e.space
                )));
            }
        }
        let id: i64 = bind_decision(
            sqlx::query(&insert_decision_sql(1)),
            actor,
            new,
            document,
            now,
        )
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if !new.resources.is_empty() {
            sqlx::query(
                "INSERT INTO change_resources (space, input_digest, address)
                 SELECT $1, $2, a FROM unnest($3::text[]) AS a
                 WHERE NOT EXISTS (SELECT 1 FROM change_resources
                                   WHERE input_digest = $2 AND space IS NOT DISTINCT FROM $1)",
            )
            .bind(&new.space)
            .bind(&new.decision.input_digest)
            .bind(&new.resources)
            .execute(&mut *tx)
            .await?;
        }
        for u in &new.exception_uses {
            let e = exceptions
                .iter()
                .find(|e| e.id == u.exception_id)
                .ok_or_else(|| StoreError::NotFound {
                    kind: "exception",
                    id: u.exception_id.to_string(),
                })?;
            sqlx::query(
                "INSERT INTO exception_uses (exception_id, decision_id, rule, resource, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(e.id)
            .bind(id)
            .bind(&u.rule)
            .bind(&u.resource)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            append(
                &mut tx,
                now,
                actor,
                AuditEvent::new(
                    "exception.used",
                    format!("exception/{}", e.id),
                    Some(&e.space),
                    json!({ "decision_id": id, "rule": u.rule, "resource": u.resource }),
                ),
            )
            .await?;
        }
        append(&mut tx, now, actor, decision_event(id, new, masked_total)).await?;
        if let Some(event) = &new.follow_up {
            append(&mut tx, now, actor, follow_up_event(id, event)).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Marks a pending approval expired inside `tx` (with its audit record).
    async fn expire_approval(tx: &mut Tx, now: i64, a: &Approval) -> Result<()> {
        sqlx::query(
            "UPDATE approvals SET state = 'expired', resolved_at = $1, resolved_by = 'system' WHERE id = $2",
        )
        .bind(now)
        .bind(a.id)
        .execute(&mut **tx)
        .await?;
        append(
            tx,
            now,
            &Actor::system(),
            AuditEvent::new(
                "approval.expired",
                format!("approval/{}", a.id),
                Some(&a.space),
                json!({ "change_digest": a.change_digest }),
            ),
        )
        .await?;
        Ok(())
    }

    /// Marks an exception expired inside `tx` (with its audit record).
    async fn expire_exception(tx: &mut Tx, now: i64, e: &ExceptionRecord) -> Result<()> {
        sqlx::query("UPDATE exceptions SET state = 'expired' WHERE id = $1")
            .bind(e.id)
            .execute(&mut **tx)
            .await?;
        append(
            tx,
            now,
            &Actor::system(),
            AuditEvent::new(
                "exception.expired",
                format!("exception/{}", e.id),
                Some(&e.space),
                json!({ "rule": e.rule, "was": e.state.as_str() }),
            ),
        )
        .await?;
        Ok(())
    }

    /// Loads a pending approval for a decision on it; expires it (committing) if overdue.
    async fn pending_approval(&self, id: i64) -> Result<(Tx, Approval, i64)> {
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let a = load_approval_tx(&mut tx, id, Lock::Update)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "approval",
                id: id.to_string(),
            })?;
        if a.state != ApprovalState::Pending {
            return Err(StoreError::Conflict(format!(
                "approval {id} is {}, not pending",
                a.state.as_str()
            )));
        }
        if a.expires_at.is_some_and(|t| to_millis(t) <= now) {
            PostgresStore::expire_approval(&mut tx, now, &a).await?;
            tx.commit().await?;
            return Err(StoreError::Conflict(format!("approval {id} has expired")));
        }
        Ok((tx, a, now))
    }

    /// Loads an exception in one of `states` for a decision on it; expires it (committing)
    /// if overdue.
    async fn live_exception(
        &self,
        id: i64,
        states: &[ExceptionState],
    ) -> Result<(Tx, ExceptionRecord, i64)> {
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let e = load_exception_tx(&mut tx, id, Lock::Update).await?;
        if !states.contains(&e.state) {
            return Err(StoreError::Conflict(format!(
                "exception {id} is {}",
                e.state.as_str()
            )));
        }
        if to_millis(e.expires_at) <= now {
            PostgresStore::expire_exception(&mut tx, now, &e).await?;
            tx.commit().await?;
            return Err(StoreError::Conflict(format!("exception {id} has expired")));
        }
        Ok((tx, e, now))
    }

    async fn decide_exception(
        &self,
        actor: &Actor,
        id: i64,
        from: ExceptionState,
        to: ExceptionState,
        reason: Option<&str>,
    ) -> Result<ExceptionRecord> {
        let (mut tx, e, now) = self.live_exception(id, &[from]).await?;
        let settings = space_settings_tx(&mut tx, &e.space, Lock::None).await?;
        if to == ExceptionState::Revoked {
            // Revoking tightens: any non-agent approver may, the requester included.
            check_decider(actor, "", &settings.approver_roles, "exception")?;
        } else {
            check_decider(
                actor,
                &e.requested_by,
                &settings.approver_roles,
                "exception",
            )?;
        }
        sqlx::query(
            "UPDATE exceptions SET state = $1, decided_by = $2, decided_at = $3, reason = $4 WHERE id = $5",
        )
        .bind(to.as_str())
        .bind(&actor.principal)
        .bind(now)
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let action = match to {
            ExceptionState::Granted => "exception.granted",
            ExceptionState::Rejected => "exception.rejected",
            _ => "exception.revoked",
        };
        let mut detail = json!({ "rule": e.rule, "resource_glob": e.resource_glob });
        if let (Some(r), Some(obj)) = (reason, detail.as_object_mut()) {
            obj.insert("reason".into(), Value::from(r));
        }
        append(
            &mut tx,
            now,
            actor,
            AuditEvent::new(action, format!("exception/{id}"), Some(&e.space), detail),
        )
        .await?;
        let out = load_exception_tx(&mut tx, id, Lock::None).await?;
        tx.commit().await?;
        Ok(out)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn put_space(&self, actor: &Actor, space: &NewSpace) -> Result<Space> {
        valid_name("space name", &space.name)?;
        if space.settings.approvals_required == 0 {
            return Err(StoreError::Invalid(
                "approvals_required must be at least 1".into(),
            ));
        }
        if space.settings.approver_roles.is_empty() {
            return Err(StoreError::Invalid(
                "approver_roles must name at least one role".into(),
            ));
        }
        let settings = serde_json::to_string(&space.settings)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        // Two replicas may create the same space at once (each syncs its configuration on
        // start): the insert waits for the other's and then does nothing; the update follows.
        let created = sqlx::query(
            "INSERT INTO spaces (name, description, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (name) DO NOTHING RETURNING name",
        )
        .bind(&space.name)
        .bind(&space.description)
        .bind(&settings)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        let existed = !created;
        if existed {
            sqlx::query(
                "UPDATE spaces SET description = $1, settings = $2, updated_at = $3 WHERE name = $4",
            )
            .bind(&space.description)
            .bind(&settings)
            .bind(now)
            .bind(&space.name)
            .execute(&mut *tx)
            .await?;
        }
        append(
            &mut tx,
            now,
            actor,
            AuditEvent::new(
                if existed {
                    "space.updated"
                } else {
                    "space.created"
                },
                format!("space/{}", space.name),
                Some(&space.name),
                json!({ "settings": serde_json::to_value(&space.settings)? }),
            ),
        )
        .await?;
        let row = sqlx::query("SELECT * FROM spaces WHERE name = $1")
            .bind(&space.name)
            .fetch_one(&mut *tx)
            .await?;
        let out = space_from(&row)?;
        tx.commit().await?;
        Ok(out)
    }

    async fn space(&self, name: &str) -> Result<Option<Space>> {
        sqlx::query("SELECT * FROM spaces WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(space_from)
            .transpose()
    }

    async fn space_with_exceptions(
        &self,
        name: &str,
    ) -> Result<Option<(Space, Vec<ExceptionRecord>)>> {
        let Some(space) = self.space(name).await? else {
            return Ok(None);
        };
        Ok(Some((space, self.exceptions(name).await?)))
    }

    async fn spaces(&self) -> Result<Vec<Space>> {
        sqlx::query("SELECT * FROM spaces ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(space_from)
            .collect()
    }

    async fn create_token(&self, actor: &Actor, token: &NewToken, secret: &str) -> Result<Token> {
        valid_name("token name", &token.name)?;
        non_empty("principal", &token.principal)?;
        if secret.len() < 16 {
            return Err(StoreError::Invalid(
                "a token secret must be at least 16 characters".into(),
            ));
        }
        if token.spaces.is_empty() {
            return Err(StoreError::Invalid(
                "a token needs at least one space (`*` for all)".into(),
            ));
        }
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let taken = sqlx::query("SELECT id FROM tokens WHERE name = $1 OR secret_hash = $2")
            .bind(&token.name)
            .bind(token_hash(secret))
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if taken {
            return Err(StoreError::Conflict(format!(
                "a token named {} (or with this secret) exists",
                token.name
            )));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO tokens (name, secret_hash, principal, kind, roles, spaces, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&token.name)
        .bind(token_hash(secret))
        .bind(&token.principal)
        .bind(actor_kind_str(token.kind))
        .bind(serde_json::to_string(&token.roles)?)
        .bind(serde_json::to_string(&token.spaces)?)
        .bind(&actor.principal)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            unique_conflict(e, || {
                format!(
                    "a token named {} (or with this secret) exists",
                    token.name
                )
            })
        })?;
        append(
            &mut tx,
            now,
            actor,
            AuditEvent::new(
                "token.created",
                format!("token/{id}"),
                None,
                json!({
                    "name": token.name,
                    "principal": token.principal,
                    "kind": actor_kind_str(token.kind),
                    "roles": token.roles,
                    "spaces": token.spaces,
                }),
            ),
        )
        .await?;
        let row = sqlx::query("SELECT * FROM tokens WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let out = token_from(&row)?;
        tx.commit().await?;
        Ok(out)
    }

    async fn authenticate(&self, secret: &str) -> Result<Option<Token>> {
        sqlx::query("SELECT * FROM tokens WHERE secret_hash = $1 AND revoked_at IS NULL")
            .bind(token_hash(secret))
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(token_from)
            .transpose()
    }

    async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<Token> {
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let row = sqlx::query("SELECT * FROM tokens WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "token",
                id: id.to_string(),
            })?;
        let token = token_from(&row)?;
        if token.revoked_at.is_some() {
            return Err(StoreError::Conflict(format!(
                "token {id} is already revoked"
            )));
        }
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            now,
            actor,
            AuditEvent::new(
                "token.revoked",
                format!("token/{id}"),
                None,
                json!({ "name": token.name, "principal": token.principal }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Token {
            revoked_at: Some(from_millis(now)?),
            ..token
        })
    }

    async fn tokens(&self) -> Result<Vec<Token>> {
        sqlx::query("SELECT * FROM tokens ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(token_from)
            .collect()
    }

    async fn record_decision(
        &self,
        actor: &Actor,
        new: &NewDecision<'_>,
    ) -> Result<DecisionRecord> {
        let prepared = prepare_decision(new, &self.stored_inputs)?;
        let (document, inputs, masked_total) =
            (prepared.document, prepared.inputs, prepared.masked_total);
        let now = self.now_ms();
        let id = self
            .record(actor, new, &document, &inputs, masked_total, now)
            .await?;
        self.stored_inputs
            .insert_all(new.inputs.iter().map(|i| i.digest.as_str()));
        decision_record(id, actor, new, document.into_owned(), now)
    }

    async fn decision(&self, id: i64) -> Result<Option<DecisionRecord>> {
        sqlx::query("SELECT * FROM decisions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(decision_from)
            .transpose()
    }

    async fn latest_decision(
        &self,
        space: Option<&str>,
        input_digest: &str,
        policy_revision: &str,
    ) -> Result<Option<DecisionRecord>> {
        sqlx::query(
            "SELECT * FROM decisions WHERE input_digest = $1 AND policy_revision = $2
             AND (space = $3 OR (space IS NULL AND $3 IS NULL)) ORDER BY id DESC LIMIT 1",
        )
        .bind(input_digest)
        .bind(policy_revision)
        .bind(space)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(decision_from)
        .transpose()
    }

    async fn agent_record(&self, q: &AgentQuery<'_>) -> Result<AgentRecord> {
        let attempts = sqlx::query(
            "SELECT id, input_digest, outcome, created_at FROM decisions
              WHERE actor = $1 AND space = $2 AND subject = $3 AND created_at >= $4
              ORDER BY id DESC LIMIT $5",
        )
        .bind(q.principal)
        .bind(q.space)
        .bind(q.subject)
        .bind(to_millis(q.attempts_since))
        .bind(i64::from(q.attempts_limit))
        .fetch_all(&self.pool)
        .await?;
        let usage = sqlx::query(
            "SELECT (SELECT min(created_at) FROM decisions WHERE actor = $1 AND created_at >= $2) AS oldest,
                    (SELECT count(*) FROM decisions WHERE actor = $1 AND created_at >= $2) AS n,
                    CAST((SELECT COALESCE(sum(cost_delta), 0) FROM decisions
                           WHERE actor = $1 AND created_at >= $3 AND outcome IN ('allow', 'warn')) AS DOUBLE PRECISION) AS cost,
                    (SELECT count(*) FROM decisions WHERE actor = $1 AND created_at >= $4) AS recent,
                    (SELECT count(*) FROM decisions
                      WHERE actor = $1 AND created_at >= $4 AND outcome = 'deny') AS recent_denied",
        )
        .bind(q.principal)
        .bind(to_millis(q.hour_since))
        .bind(to_millis(q.month_since))
        .bind(to_millis(q.recent_since))
        .fetch_one(&self.pool)
        .await?;
        let count = |name: &str| -> Result<u64> {
            u64::try_from(usage.try_get::<i64, _>(name)?)
                .map_err(|_| corrupt("decision count", "negative"))
        };
        let mut record = AgentRecord {
            attempts: Vec::with_capacity(attempts.len()),
            changes_last_hour: count("n")?,
            oldest_in_hour: opt_time(usage.try_get("oldest")?)?,
            cost_this_month: usage.try_get("cost")?,
            recent: count("recent")?,
            recent_denied: count("recent_denied")?,
        };
        for row in &attempts {
            let outcome: String = row.try_get("outcome")?;
            record.attempts.push(PastDecision {
                id: row.try_get("id")?,
                input_digest: row.try_get("input_digest")?,
                outcome: parse_outcome(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
                created_at: from_millis(row.try_get("created_at")?)?,
            });
        }
        Ok(record)
    }

    async fn input(&self, digest: &str) -> Result<Option<StoredInput>> {
        sqlx::query("SELECT * FROM inputs WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(stored_input_from)
            .transpose()
    }

    async fn open_approval(&self, actor: &Actor, request: &NewApproval) -> Result<Approval> {
        non_empty("subject", &request.subject)?;
        non_empty("change digest", &request.change_digest)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        // The space's row lock serialises openings in the space across replicas: the
        // second of two racing requests for one change finds the first's and returns it.
        let settings = space_settings_tx(&mut tx, &request.space, Lock::Update).await?;
        let existing: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM approvals WHERE space = $1 AND change_digest = $2 AND state = 'pending'
             AND (expires_at IS NULL OR expires_at > $3) ORDER BY id DESC LIMIT 1",
        )
        .bind(&request.space)
        .bind(&request.change_digest)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id,)) = existing {
            let a = load_approval_tx(&mut tx, id, Lock::None).await?;
            tx.rollback().await?;
            return a.ok_or_else(|| StoreError::NotFound {
                kind: "approval",
                id: id.to_string(),
            });
        }
        // Locked now, before the audit head: requests this one supersedes.
        let older: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM approvals WHERE space = $1 AND subject = $2 AND state = 'pending' ORDER BY id FOR UPDATE",
        )
        .bind(&request.space)
        .bind(&request.subject)
        .fetch_all(&mut *tx)
        .await?;
        let expires = settings
            .approval_ttl_secs
            .map(|s| now.saturating_add(s.saturating_mul(1000)));
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO approvals (space, subject, change_digest, decision_id, requested_by, requester_kind,
                                    state, required, approver_roles, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10) RETURNING id",
        )
        .bind(&request.space)
        .bind(&request.subject)
        .bind(&request.change_digest)
        .bind(request.decision_id)
        .bind(&actor.principal)
        .bind(actor.kind_str())
        .bind(i64::from(settings.approvals_required))
        .bind(serde_json::to_string(&settings.approver_roles)?)
        .bind(now)
        .bind(expires)
        .fetch_one(&mut *tx)
        .await?;
        append(
            &mut tx,
            now,
            actor,
            AuditEvent::new(
                "approval.opened",
                format!("approval/{id}"),
                Some(&request.space),
                json!({
                    "subject": request.subject,
                    "change_digest": request.change_digest,
                    "decision_id": request.decision_id,
                    "required": settings.approvals_required,
                    "approver_roles": settings.approver_roles,
                    "expires_at": expires,
                }),
            ),
        )
        .await?;
        for (old,) in older {
            sqlx::query(
                "UPDATE approvals SET state = 'superseded', resolved_at = $1, resolved_by = $2 WHERE id = $3",
            )
            .bind(now)
            .bind(&actor.principal)
            .bind(old)
            .execute(&mut *tx)
            .await?;
            append(
                &mut tx,
                now,
                actor,
                AuditEvent::new(
                    "approval.superseded",
                    format!("approval/{old}"),
                    Some(&request.space),
                    json!({ "superseded_by": id }),
                ),
            )
            .await?;
        }
        commit_approval(tx, id).await
    }

    async fn approval(&self, id: i64) -> Result<Option<Approval>> {
        load_approval(&self.pool, id).await
    }

    async fn approvals(&self, filter: &ApprovalFilter) -> Result<Vec<Approval>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM approvals WHERE ($1 IS NULL OR space = $1) AND ($2 IS NULL OR state = $2)
             ORDER BY id DESC",
        )
        .bind(&filter.space)
        .bind(filter.state.map(ApprovalState::as_str))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(a) = load_approval(&self.pool, id).await? {
                out.push(a);
            }
        }
        Ok(out)
    }

    async fn approve(&self, actor: &Actor, id: i64, note: Option<&str>) -> Result<Approval> {
        let (mut tx, a, now) = self.pending_approval(id).await?;
        check_decider(
            actor,
            &a.requested_by,
            &a.approver_roles,
            "approval request",
        )?;
        if a.approvers.contains(&actor.principal) {
            return Err(StoreError::Conflict(format!(
                "{} already approved request {id}",
                actor.principal
            )));
        }
        sqlx::query(
            "INSERT INTO approval_votes (approval_id, principal, note, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(&actor.principal)
        .bind(note)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let count = a.approvers.len() + 1;
        append(
            &mut tx,
            now,
            actor,
            AuditEvent::new(
                "approval.vote",
                format!("approval/{id}"),
                Some(&a.space),
                json!({ "approvals": count, "required": a.required, "note": note }),
            ),
        )
        .await?;
        if count >= usize::try_from(a.required).unwrap_or(usize::MAX) {
            sqlx::query(
                "UPDATE approvals SET state = 'approved', resolved_at = $1, resolved_by = $2 WHERE id = $3",
            )
            .bind(now)
            .bind(&actor.principal)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            append(
                &mut tx,
                now,
                actor,
                AuditEvent::new(
                    "approval.approved",
                    format!("approval/{id}"),
                    Some(&a.space),
                    json!({ "change_digest": a.change_digest, "approvals": count }),
                ),
            )
            .await?;
        }
        commit_approval(tx, id).await
    }

    async fn reject(&self, actor: &Actor, id: i64, reason: &str) -> Result<Approval> {
        non_empty("a rejection reason", reason)?;
        let (mut tx, a, now) = self.pending_approval(id).await?;
        check_decider(
            actor,
            &a.requested_by,
            &a.approver_roles,
            "approval request",
        )?;
        sqlx::query(
            "UPDATE approvals SET state = 'rejected', resolved_at = $1, resolved_by = $2, reason = $3 WHERE id = $4",
        )
        .bind(now)
        .bind(&actor.principal)
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            now,
            actor,
            AuditEvent::new(
                "approval.rejected",
                format!("approval/{id}"),
                Some(&a.space),
                json!({ "change_digest": a.change_digest, "reason": reason }),
            ),
        )
        .await?;
        commit_approval(tx, id).await
    }

    async fn approved_change(&self, space: &str, change_digest: &str) -> Result<Option<Approval>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM approvals WHERE space = $1 AND change_digest = $2 AND state = 'approved'
             ORDER BY id DESC LIMIT 1",
        )
        .bind(space)
        .bind(change_digest)
        .fetch_optional(&self.pool)
        .await?;
        match id {
            Some(id) => load_approval(&self.pool, id).await,
            None => Ok(None),
        }
    }

    async fn request_exception(&self, actor: &Actor, ex: &NewException) -> Result<ExceptionRecord> {
        non_empty("rule", &ex.rule)?;
        non_empty("resource glob", &ex.resource_glob)?;
        non_empty("justification", &ex.justification)?;
        let now = self.now_ms();
        let expires = to_millis(ex.expires_at);
        if expires <= now {
            return Err(StoreError::Invalid(
                "the expiry is not in the future".into(),
            ));
        }
        let mut tx = self.begin().await?;
        let settings = space_settings_tx(&mut tx, &ex.space, Lock::None).await?;
        let max_ms = i64::from(settings.max_exception_days) * 86_400_000;
        if expires - now > max_ms {
            return Err(StoreError::Invalid(format!(
                "space {} allows exceptions of at most {} days",
                ex.space, settings.max_exception_days
            )));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO exceptions (space, rule, resource_glob, justification, ticket, requested_by,
                                     requester_kind, state, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested', $8, $9) RETURNING id",
        )
        .bind(&ex.space)
        .bind(&ex.rule)
        .bind(&ex.resource_glob)
        .bind(&ex.justification)
        .bind(&ex.ticket)
        .bind(&actor.principal)
        .bind(actor.kind_str())
        .bind(now)
        .bind(expires)
        .fetch_one(&mut *tx)
        .await?;
        append(
            &mut tx,
            now,
            actor,
            AuditEvent::new(
                "exception.requested",
                format!("exception/{id}"),
                Some(&ex.space),
                json!({
                    "rule": ex.rule,
                    "resource_glob": ex.resource_glob,
                    "justification": ex.justification,
                    "ticket": ex.ticket,
                    "expires_at": audit_time(ex.expires_at),
                }),
            ),
        )
        .await?;
        let out = load_exception_tx(&mut tx, id, Lock::None).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn grant_exception(&self, actor: &Actor, id: i64) -> Result<ExceptionRecord> {
        self.decide_exception(
            actor,
            id,
            ExceptionState::Requested,
            ExceptionState::Granted,
            None,
        )
        .await
    }

    async fn reject_exception(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<ExceptionRecord> {
        non_empty("a rejection reason", reason)?;
        self.decide_exception(
            actor,
            id,
            ExceptionState::Requested,
            ExceptionState::Rejected,
            Some(reason),
        )
        .await
    }

    async fn revoke_exception(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<ExceptionRecord> {
        non_empty("a revocation reason", reason)?;
        self.decide_exception(
            actor,
            id,
            ExceptionState::Granted,
            ExceptionState::Revoked,
            Some(reason),
        )
        .await
    }

    async fn exception(&self, id: i64) -> Result<Option<ExceptionRecord>> {
        sqlx::query("SELECT * FROM exceptions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(exception_from)
            .transpose()
    }

    async fn exceptions(&self, space: &str) -> Result<Vec<ExceptionRecord>> {
        sqlx::query("SELECT * FROM exceptions WHERE space = $1 ORDER BY id")
            .bind(space)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(exception_from)
            .collect()
    }

    async fn active_exceptions(&self, space: &str) -> Result<Vec<ExceptionRecord>> {
        sqlx::query(
            "SELECT * FROM exceptions WHERE space = $1 AND state = 'granted' AND expires_at > $2 ORDER BY id",
        )
        .bind(space)
        .bind(self.now_ms())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(exception_from)
        .collect()
    }

    async fn exception_uses(&self, id: i64) -> Result<Vec<ExceptionUse>> {
        sqlx::query("SELECT * FROM exception_uses WHERE exception_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(exception_use_from)
            .collect()
    }

    async fn expire_due(&self) -> Result<Expired> {
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let mut out = Expired::default();
        // Every due row is locked (in id order) before the first audit record takes the head.
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM approvals WHERE state = 'pending' AND expires_at IS NOT NULL AND expires_at <= $1
             ORDER BY id FOR UPDATE",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let rows = sqlx::query(
            "SELECT * FROM exceptions WHERE state IN ('requested', 'granted') AND expires_at <= $1
             ORDER BY id FOR UPDATE",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for id in ids {
            if let Some(a) = load_approval_tx(&mut tx, id, Lock::None).await? {
                PostgresStore::expire_approval(&mut tx, now, &a).await?;
                out.approvals.push(id);
            }
        }
        for row in &rows {
            let e = exception_from(row)?;
            PostgresStore::expire_exception(&mut tx, now, &e).await?;
            out.exceptions.push(e.id);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn record_drift_scan(
        &self,
        actor: &Actor,
        scan: &NewDriftScan,
    ) -> Result<DriftScanResult> {
        self.drift_record(actor, scan).await
    }

    async fn last_drift_scan(&self, space: &str, target: &str) -> Result<Option<DriftScan>> {
        self.drift_last_scan(space, target).await
    }

    async fn drift_events(&self, filter: &DriftFilter) -> Result<Vec<DriftEvent>> {
        self.drift_events_filtered(filter).await
    }

    async fn drift_event(&self, id: i64) -> Result<Option<DriftEvent>> {
        self.drift_event_by_id(id).await
    }

    async fn resource_touches(
        &self,
        space: &str,
        addresses: &[String],
        since: Option<OffsetDateTime>,
    ) -> Result<Vec<ResourceTouch>> {
        self.touches(space, addresses, since).await
    }

    async fn drift_stats(
        &self,
        window_since: OffsetDateTime,
        bounds_secs: &[f64],
    ) -> Result<DriftStats> {
        self.drift_statistics(window_since, bounds_secs).await
    }

    async fn drift_series(&self, since: OffsetDateTime, width_secs: i64) -> Result<Vec<DriftDay>> {
        self.drift_days(since, width_secs).await
    }

    async fn publish_blueprint(&self, actor: &Actor, bp: &NewBlueprint) -> Result<Blueprint> {
        valid_name("blueprint name", &bp.name)?;
        non_empty("blueprint document", &bp.document)?;
        let digest = crate::audit::hash_canonical(&bp.document);
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let latest =
            sqlx::query("SELECT * FROM blueprints WHERE name = $1 ORDER BY version DESC LIMIT 1")
                .bind(&bp.name)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| blueprint_from(&r))
                .transpose()?;
        if let Some(latest) = latest.as_ref().filter(|l| l.digest == digest) {
            return Ok(latest.clone());
        }
        let version = latest.map_or(1, |l| l.version + 1);
        sqlx::query(
            "INSERT INTO blueprints (name, version, document, digest, published_by, published_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&bp.name)
        .bind(version)
        .bind(&bp.document)
        .bind(&digest)
        .bind(&actor.principal)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            now,
            actor,
            AuditEvent::new(
                "blueprint.published",
                format!("blueprint/{}", bp.name),
                None,
                json!({"name": bp.name, "version": version, "digest": digest}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Blueprint {
            name: bp.name.clone(),
            version,
            document: bp.document.clone(),
            digest,
            published_by: actor.principal.clone(),
            published_at: from_millis(now)?,
        })
    }

    async fn blueprint(&self, name: &str, version: Option<i64>) -> Result<Option<Blueprint>> {
        sqlx::query(
            "SELECT * FROM blueprints WHERE name = $1 AND ($2 IS NULL OR version = $2)
             ORDER BY version DESC LIMIT 1",
        )
        .bind(name)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| blueprint_from(&r))
        .transpose()
    }

    async fn blueprints(&self) -> Result<Vec<Blueprint>> {
        sqlx::query(
            "SELECT b.* FROM blueprints b
             WHERE b.version = (SELECT max(version) FROM blueprints l WHERE l.name = b.name)
             ORDER BY b.name",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(blueprint_from)
        .collect()
    }

    async fn create_environment(&self, actor: &Actor, env: &NewEnvironment) -> Result<Environment> {
        if !env.inputs.is_object() || !env.detail.is_object() {
            return Err(StoreError::Invalid(
                "environment inputs and detail must be JSON objects".into(),
            ));
        }
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO environments (blueprint, version, space, owner, owner_kind, inputs, state,
                 created_at, updated_at, ends_at, monthly_cost, teardown_attempts)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, 0) RETURNING id",
        )
        .bind(&env.blueprint)
        .bind(env.version)
        .bind(&env.space)
        .bind(&actor.principal)
        .bind(actor.kind_str())
        .bind(env.inputs.to_string())
        .bind(env.state.as_str())
        .bind(now)
        .bind(to_millis(env.ends_at))
        .bind(env.monthly_cost)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(INSERT_ENVIRONMENT_EVENT)
            .bind(id)
            .bind(now)
            .bind(&actor.principal)
            .bind("requested")
            .bind(None::<String>)
            .bind(env.state.as_str())
            .bind(env.detail.to_string())
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query("SELECT * FROM environments WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let created = environment_from(&row)?;
        append(
            &mut tx,
            now,
            actor,
            environment_audit_event(&created, "requested", None, &env.detail),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn environment(&self, id: i64) -> Result<Option<Environment>> {
        sqlx::query("SELECT * FROM environments WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| environment_from(&r))
            .transpose()
    }

    async fn environments(&self, filter: &EnvironmentFilter) -> Result<Vec<Environment>> {
        let states: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
        sqlx::query(
            "SELECT * FROM environments WHERE ($1 IS NULL OR space = $1)
             AND ($2 = '' OR $2 LIKE '%,' || state || ',%') ORDER BY id",
        )
        .bind(&filter.space)
        .bind(if states.is_empty() {
            String::new()
        } else {
            format!(",{},", states.join(","))
        })
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(environment_from)
        .collect()
    }

    async fn update_environment(
        &self,
        actor: &Actor,
        id: i64,
        update: &EnvironmentUpdate,
    ) -> Result<Environment> {
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT * FROM environments WHERE id = $1{LOCK_ROW}"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: "environment",
            id: id.to_string(),
        })?;
        let before = environment_from(&row)?;
        check_environment_update(&before, update)?;
        let from = before.state;
        let env = apply_environment_update(before, update, from_millis(now)?);
        sqlx::query(UPDATE_ENVIRONMENT)
            .bind(env.state.as_str())
            .bind(now)
            .bind(to_millis(env.ends_at))
            .bind(env.pending_ends_at.map(to_millis))
            .bind(env.outputs.as_ref().map(ToString::to_string))
            .bind(env.monthly_cost)
            .bind(env.decision_id)
            .bind(env.approval_id)
            .bind(i64::from(env.teardown_attempts))
            .bind(env.next_attempt_at.map(to_millis))
            .bind(&env.flagged_reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT_ENVIRONMENT_EVENT)
            .bind(id)
            .bind(now)
            .bind(&actor.principal)
            .bind(&update.event)
            .bind(from.as_str())
            .bind(env.state.as_str())
            .bind(update.detail.to_string())
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            now,
            actor,
            environment_audit_event(&env, &update.event, Some(from), &update.detail),
        )
        .await?;
        tx.commit().await?;
        Ok(env)
    }

    async fn environment_events(&self, id: i64) -> Result<Vec<EnvironmentEvent>> {
        sqlx::query("SELECT * FROM environment_events WHERE environment_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(environment_event_from)
            .collect()
    }

    fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn append_audit(&self, actor: &Actor, event: &AuditEvent) -> Result<AuditRecord> {
        non_empty("action", &event.action)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let record = append(&mut tx, now, actor, event.clone()).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn audit_records(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>> {
        sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(audit_from)
            .collect()
    }

    async fn audit_head(&self) -> Result<(i64, String)> {
        Ok(
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn verify_audit(&self) -> Result<Verification> {
        // One read transaction: a consistent snapshot of the log and its head.
        let mut tx = self.snapshot().await?;
        let head: (i64, String) = sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let mut verifier = ChainVerifier::from_genesis();
        let mut after = i64::MIN;
        'pages: loop {
            let rows =
                sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000")
                    .bind(after)
                    .fetch_all(&mut *tx)
                    .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("seq")?;
            for row in &rows {
                match audit_from(row) {
                    Ok(record) => verifier.push(&record),
                    Err(e) => {
                        let seq: i64 = row.try_get("seq").unwrap_or(-1);
                        verifier.push_unreadable(seq, e.to_string());
                    }
                }
                if verifier.is_broken() {
                    break 'pages;
                }
            }
        }
        tx.rollback().await?;
        Ok(verifier.finish(Some(head)))
    }

    async fn export_audit(
        &self,
        since: Option<OffsetDateTime>,
        out: &mut (dyn Write + Send),
    ) -> Result<u64> {
        let since = since.map_or_else(String::new, audit_time);
        let mut tx = self.snapshot().await?;
        let mut after: i64 = 0;
        let mut written = 0;
        loop {
            let rows = sqlx::query(
                "SELECT * FROM audit_log WHERE seq > $1 AND at >= $2 ORDER BY seq LIMIT 1000",
            )
            .bind(after)
            .bind(&since)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("seq")?;
            let records = rows.iter().map(audit_from).collect::<Result<Vec<_>>>()?;
            written += audit::write_jsonl(&records, out)?;
        }
        tx.rollback().await?;
        out.flush()?;
        Ok(written)
    }

    async fn decisions(&self, query: &DecisionQuery) -> Result<Vec<DecisionSummary>> {
        let (sql, params) = dashboard::decisions_sql(query);
        bind_params!(sqlx::query(&sql), &params)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(dashboard::summary_from)
            .collect()
    }

    async fn decision_stats(&self, query: &StatsQuery) -> Result<DecisionStats> {
        dashboard::check_stats(query)?;
        let (sql, params) = dashboard::buckets_sql(query);
        let buckets = bind_params!(sqlx::query(&sql), &params)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(dashboard::bucket_from)
            .collect::<Result<Vec<_>>>()?;
        let (sql, params) = dashboard::top_rules_sql(
            query,
            "jsonb_array_elements(d.document::jsonb -> 'findings') f",
            "f ->> 'rule_id'",
        );
        let top_rules = bind_params!(sqlx::query(&sql), &params)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(dashboard::rule_hits_from)
            .collect::<Result<Vec<_>>>()?;
        let (sql, params) = dashboard::self_correction_sql(query);
        let row = bind_params!(sqlx::query(&sql), &params)
            .fetch_one(&self.pool)
            .await?;
        Ok(DecisionStats {
            decisions: buckets.iter().map(|b| b.count).sum(),
            buckets,
            top_rules,
            agent_denied_subjects: dashboard::count(row.try_get("denied")?)?,
            agent_corrected_subjects: dashboard::count(row.try_get("corrected")?)?,
        })
    }

    async fn audit_for(&self, subject: &str) -> Result<Vec<AuditRecord>> {
        sqlx::query("SELECT * FROM audit_log WHERE subject = $1 ORDER BY seq")
            .bind(subject)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(audit_from)
            .collect()
    }

    async fn create_session(
        &self,
        token: &Token,
        secret_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<UiSession> {
        let now = self.now_ms();
        dashboard::check_session(secret_hash, expires_at, now)?;
        let mut tx = self.begin().await?;
        sqlx::query(dashboard::DELETE_EXPIRED_SESSIONS)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(dashboard::INSERT_SESSION)
            .bind(secret_hash)
            .bind(token.id)
            .bind(now)
            .bind(to_millis(expires_at))
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            now,
            &Actor::from_token(token),
            AuditEvent::new(
                "session.opened",
                format!("token/{}", token.id),
                None,
                json!({ "token": token.name, "expires_at": audit_time(expires_at) }),
            ),
        )
        .await?;
        let row = sqlx::query(dashboard::SELECT_SESSION)
            .bind(secret_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "token",
                id: token.id.to_string(),
            })?;
        let out = dashboard::session_from(&row)?;
        tx.commit().await?;
        Ok(out)
    }

    async fn session(&self, secret_hash: &str) -> Result<Option<UiSession>> {
        sqlx::query(dashboard::SELECT_SESSION)
            .bind(secret_hash)
            .bind(self.now_ms())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(dashboard::session_from)
            .transpose()
    }

    async fn end_session(&self, secret_hash: &str) -> Result<bool> {
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let Some(row) = sqlx::query(dashboard::SELECT_SESSION)
            .bind(secret_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(false);
        };
        let session = dashboard::session_from(&row)?;
        sqlx::query("DELETE FROM ui_sessions WHERE secret_hash = $1")
            .bind(secret_hash)
            .execute(&mut *tx)
            .await?;
        append(
            &mut tx,
            now,
            &Actor::from_token(&session.token),
            AuditEvent::new(
                "session.closed",
                format!("token/{}", session.token.id),
                None,
                json!({ "token": session.token.name }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
