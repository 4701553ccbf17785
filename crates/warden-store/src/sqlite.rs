//! The SQLite store: one file, WAL, a busy timeout, migrations on open.
//!
//! Writes go through a pool of one connection and open with `BEGIN IMMEDIATE`, so writers
//! queue instead of failing on a lock upgrade, and the audit chain has one order; reads use a
//! separate pool. `synchronous = NORMAL` in WAL mode keeps every committed transaction across
//! a process crash (`kill -9`): a commit is in the WAL file (the operating system's page
//! cache) before it returns; [`OpenOptions::durable`] switches to `FULL` to keep them across
//! power loss as well, at the cost of an fsync per commit.
//!
//! A write whose future is dropped after `BEGIN IMMEDIATE` ran but before its `Transaction`
//! existed (a client that hangs up at the wrong moment: sqlx's `begin_with` awaits twice)
//! would leave the single writer connection inside that transaction, and every later write
//! would fail; a pooled connection found inside a transaction when acquired is closed
//! instead (closing rolls it back) and a fresh one opened.
//!
//! The SQL is written to run unchanged on PostgreSQL (`$n` parameters, `RETURNING`,
//! `ON CONFLICT DO NOTHING`, integer times); row decoding, validation and the statements that
//! are the same on both live in `shared.rs`, and [`crate::postgres`] adds the row locks
//! several processes need.

use std::io::Write;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection as _, Row, Sqlite, Transaction};
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
    stored_input_from, token_from, valid_name, InputRow, Migrations, StoredInputs,
    CREATE_MIGRATIONS_TABLE, INSERT_ENVIRONMENT_EVENT, INSERT_MIGRATION, NEXT_AUDIT_SEQ,
    UPDATE_ENVIRONMENT,
};
pub use crate::shared::{Clock, OpenOptions};
use crate::store::Store;

mod drift;
/// Row lock taken before an environment changes.
const LOCK_ROW: &str = "";

/// The schema migrations, in order: (version, name, SQL).
const MIGRATIONS: Migrations = &[
    (
        1,
        "0001_init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "0002_agents",
        include_str!("../migrations/sqlite/0002_agents.sql"),
    ),
    (
        3,
        "0003_environments",
        include_str!("../migrations/sqlite/0003_environments.sql"),
    ),
    (
        4,
        "0004_drift",
        include_str!("../migrations/sqlite/0004_drift.sql"),
    ),
    (
        5,
        "0005_ui",
        include_str!("../migrations/sqlite/0005_ui.sql"),
    ),
];

/// The embedded SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    clock: Clock,
    stored_inputs: Arc<StoredInputs>,
}

/// Options shared by the pools: SQLite connections are in-process, so there is nothing to
/// ping before lending one, but one left inside a transaction is closed, not lent.
fn pool_options(max: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max)
        .test_before_acquire(false)
        .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database `warden.db` in the data folder `dir`.
    pub async fn open_dir(dir: &Path, options: OpenOptions) -> Result<SqliteStore> {
        std::fs::create_dir_all(dir)?;
        SqliteStore::open(&dir.join("warden.db"), options).await
    }

    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path, options: OpenOptions) -> Result<SqliteStore> {
        let connect = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if options.durable {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true);
        let writer = pool_options(1).connect_with(connect.clone()).await?;
        migrate(&writer).await?;
        let reader = pool_options(4)
            .connect_with(connect.read_only(true))
            .await?;
        Ok(SqliteStore {
            writer,
            reader,
            clock: options.clock,
            stored_inputs: Arc::default(),
        })
    }

    /// The write pool, for tools and tests that must reach the raw tables (the tamper test).
    #[must_use]
    pub fn raw_pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// Closes both pools, waiting for connections in use.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    async fn begin(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    fn now_ms(&self) -> i64 {
        to_millis((self.clock)())
    }
}

/// Applies the migrations this build knows and the database lacks, each in a transaction.
async fn migrate(pool: &SqlitePool) -> Result<()> {
    sqlx::query(CREATE_MIGRATIONS_TABLE).execute(pool).await?;
    let applied: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT version, name, checksum FROM warden_migrations ORDER BY version")
            .fetch_all(pool)
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
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(fail)?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(fail)?;
        sqlx::query(INSERT_MIGRATION)
            .bind(version)
            .bind(name)
            .bind(audit::hash_canonical(sql))
            .bind(to_millis(OffsetDateTime::now_utc()))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
    }
    Ok(())
}

/// Appends one audit record inside the caller's transaction.
async fn append(
    tx: &mut Transaction<'static, Sqlite>,
    now_ms: i64,
    actor: &Actor,
    event: AuditEvent,
) -> Result<AuditRecord> {
    check_audit_detail(&event)?;
    let (seq, prev_hash): (i64, String) =
        sqlx::query_as(NEXT_AUDIT_SEQ).fetch_one(&mut **tx).await?;
    let record = audit_record(seq, prev_hash, now_ms, actor, event)?;
    bind_audit_insert(sqlx::query(INSERT_AUDIT), &record)?
        .execute(&mut **tx)
        .await?;
    Ok(record)
}

/// Stores an audit record and makes it the chain's head: two statements, one round trip to
/// the connection's thread (SQLite numbers `$N` across them). Bound by [`bind_audit_insert`].
const INSERT_AUDIT: &str = "INSERT INTO audit_log (seq, at, actor, actor_kind, action, subject, space, detail, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);
     UPDATE audit_head SET hash = $10 WHERE id = 1";

/// Binds [`INSERT_AUDIT`]'s parameters.
fn bind_audit_insert<'q>(
    query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    record: &'q AuditRecord,
) -> Result<sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>> {
    Ok(query
        .bind(record.seq)
        .bind(&record.at)
        .bind(&record.actor)
        .bind(&record.actor_kind)
        .bind(&record.action)
        .bind(&record.subject)
        .bind(&record.space)
        .bind(audit::canonical_json(&record.detail)?)
        .bind(&record.prev_hash)
        .bind(&record.hash))
}

/// A write transaction begun by a raw `BEGIN IMMEDIATE` at the head of a multi-statement
/// query and ended by a raw `COMMIT` at the tail of another, so that recording a decision
/// costs two round trips to the connection's thread instead of five. sqlx does not track
/// such a transaction (its pool's "inside a transaction" check would not see it), so this
/// guard owns the connection until [`RawWrite::committed`]: dropped before that (an error, or
/// the request's future dropped mid-way) it detaches and closes the connection, and closing
/// rolls the transaction back; the pool opens a fresh one.
struct RawWrite(Option<sqlx::pool::PoolConnection<Sqlite>>);

impl RawWrite {
    fn conn(&mut self) -> Result<&mut sqlx::SqliteConnection> {
        self.0
            .as_deref_mut()
            .ok_or_else(|| StoreError::Invalid("the write transaction has ended".into()))
    }

    /// The transaction committed: the connection goes back to the pool.
    fn committed(mut self) {
        self.0.take();
    }
}

impl Drop for RawWrite {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(conn.detach());
        }
    }
}

async fn load_approval<'e, E>(exec: E, id: i64) -> Result<Option<Approval>>
where
    E: sqlx::Executor<'e, Database = Sqlite> + Copy,
{
    let Some(row) = sqlx::query("SELECT * FROM approvals WHERE id = $1")
        .bind(id)
        .fetch_optional(exec)
        .await?
    else {
        return Ok(None);
    };
    let approvers: Vec<String> = sqlx::query_scalar(
        "SELECT principal FROM approval_votes WHERE approval_id = $1 ORDER BY created_at, principal",
    )
    .bind(id)
    .fetch_all(exec)
    .await?;
    Ok(Some(approval_from(&row, approvers)?))
}

async fn load_approval_tx(
    tx: &mut Transaction<'static, Sqlite>,
    id: i64,
) -> Result<Option<Approval>> {
    let Some(row) = sqlx::query("SELECT * FROM approvals WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(None);
    };
    let approvers: Vec<String> = sqlx::query_scalar(
        "SELECT principal FROM approval_votes WHERE approval_id = $1 ORDER BY created_at, principal",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(Some(approval_from(&row, approvers)?))
}

/// Reads approval `id` as the transaction left it, then commits: what a change to an approval
/// returns.
async fn commit_approval(mut tx: Transaction<'static, Sqlite>, id: i64) -> Result<Approval> {
    let a = load_approval_tx(&mut tx, id).await?;
    tx.commit().await?;
    a.ok_or_else(|| StoreError::NotFound {
        kind: "approval",
        id: id.to_string(),
    })
}

async fn load_exception_tx(
    tx: &mut Transaction<'static, Sqlite>,
    id: i64,
) -> Result<ExceptionRecord> {
    let row = sqlx::query("SELECT * FROM exceptions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: "exception",
            id: id.to_string(),
        })?;
    exception_from(&row)
}

async fn space_settings_tx(
    tx: &mut Transaction<'static, Sqlite>,
    name: &str,
) -> Result<SpaceSettings> {
    let row = sqlx::query("SELECT * FROM spaces WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            kind: "space",
            id: name.to_owned(),
        })?;
    Ok(space_from(&row)?.settings)
}

/// Binds the parameters of [`insert_input_sql`] for each row, in order.
fn bind_inputs<'q>(
    mut query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    rows: &'q [InputRow<'q>],
    now: i64,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for (input, content, masked) in rows {
        query = query
            .bind(&input.digest)
            .bind(&input.kind)
            .bind(content.as_ref())
            .bind(i64::try_from(*masked).unwrap_or(i64::MAX))
            .bind(now);
    }
    query
}

/// Binds the parameters of [`insert_decision_sql`].
fn bind_decision<'q>(
    query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    actor: &'q Actor,
    new: &'q NewDecision<'q>,
    document: &'q str,
    now: i64,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
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

/// The addresses a decision touched as a JSON array, or `None` when there are none.
fn resources_json(new: &NewDecision<'_>) -> Result<Option<String>> {
    if new.resources.is_empty() {
        return Ok(None);
    }
    Ok(Some(serde_json::to_string(&new.resources)?))
}

impl SqliteStore {
    /// Records a decision that cites no approval and used no exception — the common case,
    /// nothing to re-check inside the transaction — in two round trips: `BEGIN IMMEDIATE`,
    /// the inputs, the decision, the addresses it touched and the next audit sequence number
    /// in one; the audit record, the new chain head and `COMMIT` in the other (see
    /// [`RawWrite`]).
    async fn record_plain_decision(
        &self,
        actor: &Actor,
        new: &NewDecision<'_>,
        document: &str,
        inputs: &[InputRow<'_>],
        masked_total: usize,
        now: i64,
    ) -> Result<i64> {
        let mut sql = String::from("BEGIN IMMEDIATE;");
        for i in 0..inputs.len() {
            sql.push_str(&insert_input_sql(1 + 5 * i));
        }
        let first = 1 + 5 * inputs.len();
        sql.push_str(&insert_decision_sql(first));
        // The touched addresses ride in the same round trip, after the decision's insert.
        let resources = resources_json(new)?;
        if resources.is_some() {
            sql.push_str(&drift::insert_resources_sql(first + 12));
        }
        sql.push_str(NEXT_AUDIT_SEQ);
        let mut write = RawWrite(Some(self.writer.acquire().await?));
        let mut query = bind_decision(
            bind_inputs(sqlx::query(&sql), inputs, now),
            actor,
            new,
            document,
            now,
        );
        if let Some(list) = &resources {
            query = query
                .bind(&new.space)
                .bind(&new.decision.input_digest)
                .bind(list);
        }
        let rows = query.fetch_all(&mut *write.conn()?).await?;
        let [decision_row, head_row] = rows.as_slice() else {
            return Err(StoreError::Corrupt(format!(
                "recording a decision returned {} rows, not 2",
                rows.len()
            )));
        };
        let id: i64 = decision_row.try_get(0)?;
        let (seq, prev_hash): (i64, String) = (head_row.try_get(0)?, head_row.try_get(1)?);
        let record = audit_record(
            seq,
            prev_hash,
            now,
            actor,
            decision_event(id, new, masked_total),
        )?;
        let commit = format!("{INSERT_AUDIT};COMMIT");
        bind_audit_insert(sqlx::query(&commit), &record)?
            .execute(&mut *write.conn()?)
            .await?;
        write.committed();
        Ok(id)
    }

    /// Records a decision that cites an approval or used exceptions, re-checking each inside
    /// the transaction (an approval withdrawn or an exception revoked meanwhile is a
    /// conflict, and nothing is written), or that has a follow-up audit record.
    async fn record_governed_decision(
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
        let insert_input = insert_input_sql(1);
        for row in inputs {
            bind_inputs(sqlx::query(&insert_input), std::slice::from_ref(row), now)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(approval_id) = new.approval_id {
            let a = load_approval_tx(&mut tx, approval_id)
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
        if let Some(list) = resources_json(new)? {
            sqlx::query(&drift::insert_resources_sql(1))
                .bind(&new.space)
                .bind(&d.input_digest)
                .bind(list)
                .execute(&mut *tx)
                .await?;
        }
        for u in &new.exception_uses {
            let e = load_exception_tx(&mut tx, u.exception_id).await?;
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
    async fn expire_approval(
        tx: &mut Transaction<'static, Sqlite>,
        now: i64,
        a: &Approval,
    ) -> Result<()> {
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
    async fn expire_exception(
        tx: &mut Transaction<'static, Sqlite>,
        now: i64,
        e: &ExceptionRecord,
    ) -> Result<()> {
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
    async fn pending_approval(
        &self,
        id: i64,
    ) -> Result<(Transaction<'static, Sqlite>, Approval, i64)> {
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let a = load_approval_tx(&mut tx, id)
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
            SqliteStore::expire_approval(&mut tx, now, &a).await?;
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
    ) -> Result<(Transaction<'static, Sqlite>, ExceptionRecord, i64)> {
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let e = load_exception_tx(&mut tx, id).await?;
        if !states.contains(&e.state) {
            return Err(StoreError::Conflict(format!(
                "exception {id} is {}",
                e.state.as_str()
            )));
        }
        if to_millis(e.expires_at) <= now {
            SqliteStore::expire_exception(&mut tx, now, &e).await?;
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
        let settings = space_settings_tx(&mut tx, &e.space).await?;
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
        let out = load_exception_tx(&mut tx, id).await?;
        tx.commit().await?;
        Ok(out)
    }
}

#[async_trait]
impl Store for SqliteStore {
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
        let existed = sqlx::query("SELECT name FROM spaces WHERE name = $1")
            .bind(&space.name)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
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
        } else {
            sqlx::query(
                "INSERT INTO spaces (name, description, settings, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(&space.name)
            .bind(&space.description)
            .bind(&settings)
            .bind(now)
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
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(space_from)
            .transpose()
    }

    async fn space_with_exceptions(
        &self,
        name: &str,
    ) -> Result<Option<(Space, Vec<ExceptionRecord>)>> {
        // Two statements, one round trip; `is_space` tells their rows apart.
        let rows = sqlx::query(
            "SELECT 1 AS is_space, * FROM spaces WHERE name = $1;
             SELECT 0 AS is_space, * FROM exceptions WHERE space = $1 ORDER BY id",
        )
        .bind(name)
        .fetch_all(&self.reader)
        .await?;
        let Some((first, rest)) = rows.split_first() else {
            return Ok(None);
        };
        if first.try_get::<i64, _>("is_space")? != 1 {
            return Ok(None);
        }
        let exceptions = rest.iter().map(exception_from).collect::<Result<_>>()?;
        Ok(Some((space_from(first)?, exceptions)))
    }

    async fn spaces(&self) -> Result<Vec<Space>> {
        sqlx::query("SELECT * FROM spaces ORDER BY name")
            .fetch_all(&self.reader)
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
        .await?;
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
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(token_from)
            .transpose()
    }

    async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<Token> {
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let row = sqlx::query("SELECT * FROM tokens WHERE id = $1")
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
            .fetch_all(&self.reader)
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
        // A follow-up record takes the ordinary transaction: the two-round-trip path chains
        // exactly one audit record.
        let plain =
            new.approval_id.is_none() && new.exception_uses.is_empty() && new.follow_up.is_none();
        let id = if plain {
            self.record_plain_decision(actor, new, &document, &inputs, masked_total, now)
                .await?
        } else {
            self.record_governed_decision(actor, new, &document, &inputs, masked_total, now)
                .await?
        };
        self.stored_inputs
            .insert_all(new.inputs.iter().map(|i| i.digest.as_str()));
        decision_record(id, actor, new, document.into_owned(), now)
    }

    async fn decision(&self, id: i64) -> Result<Option<DecisionRecord>> {
        sqlx::query("SELECT * FROM decisions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.reader)
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
        .fetch_optional(&self.reader)
        .await?
        .as_ref()
        .map(decision_from)
        .transpose()
    }

    async fn agent_record(&self, q: &AgentQuery<'_>) -> Result<AgentRecord> {
        // Two statements, one round trip; `kind` tells their rows apart.
        let rows = sqlx::query(
            "SELECT 'attempt' AS kind, id, input_digest, outcome, created_at, 0 AS n, 0.0 AS cost
               FROM decisions
              WHERE actor = $1 AND space = $2 AND subject = $3 AND created_at >= $4
              ORDER BY id DESC LIMIT $5;
             SELECT 'usage' AS kind, 0 AS id, '' AS input_digest, '' AS outcome,
                    (SELECT min(created_at) FROM decisions WHERE actor = $1 AND created_at >= $6) AS created_at,
                    (SELECT count(*) FROM decisions WHERE actor = $1 AND created_at >= $6) AS n,
                    CAST((SELECT COALESCE(sum(cost_delta), 0) FROM decisions
                           WHERE actor = $1 AND created_at >= $7 AND outcome IN ('allow', 'warn')) AS DOUBLE PRECISION) AS cost,
                    (SELECT count(*) FROM decisions WHERE actor = $1 AND created_at >= $8) AS recent,
                    (SELECT count(*) FROM decisions
                      WHERE actor = $1 AND created_at >= $8 AND outcome = 'deny') AS recent_denied",
        )
        .bind(q.principal)
        .bind(q.space)
        .bind(q.subject)
        .bind(to_millis(q.attempts_since))
        .bind(i64::from(q.attempts_limit))
        .bind(to_millis(q.hour_since))
        .bind(to_millis(q.month_since))
        .bind(to_millis(q.recent_since))
        .fetch_all(&self.reader)
        .await?;
        let mut record = AgentRecord::default();
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            if kind == "usage" {
                record.changes_last_hour = u64::try_from(row.try_get::<i64, _>("n")?)
                    .map_err(|_| corrupt("decision count", "negative"))?;
                record.oldest_in_hour = opt_time(row.try_get("created_at")?)?;
                record.cost_this_month = row.try_get("cost")?;
                let count = |name: &str| -> Result<u64> {
                    u64::try_from(row.try_get::<i64, _>(name)?)
                        .map_err(|_| corrupt("decision count", "negative"))
                };
                record.recent = count("recent")?;
                record.recent_denied = count("recent_denied")?;
            } else {
                let outcome: String = row.try_get("outcome")?;
                record.attempts.push(PastDecision {
                    id: row.try_get("id")?,
                    input_digest: row.try_get("input_digest")?,
                    outcome: parse_outcome(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
                    created_at: from_millis(row.try_get("created_at")?)?,
                });
            }
        }
        Ok(record)
    }

    async fn input(&self, digest: &str) -> Result<Option<StoredInput>> {
        sqlx::query("SELECT * FROM inputs WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.reader)
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
        let settings = space_settings_tx(&mut tx, &request.space).await?;
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
            let a = load_approval_tx(&mut tx, id).await?;
            tx.rollback().await?;
            return a.ok_or_else(|| StoreError::NotFound {
                kind: "approval",
                id: id.to_string(),
            });
        }
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
        let older: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM approvals WHERE space = $1 AND subject = $2 AND state = 'pending' AND id <> $3 ORDER BY id",
        )
        .bind(&request.space)
        .bind(&request.subject)
        .bind(id)
        .fetch_all(&mut *tx)
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
        load_approval(&self.reader, id).await
    }

    async fn approvals(&self, filter: &ApprovalFilter) -> Result<Vec<Approval>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM approvals WHERE ($1 IS NULL OR space = $1) AND ($2 IS NULL OR state = $2)
             ORDER BY id DESC",
        )
        .bind(&filter.space)
        .bind(filter.state.map(ApprovalState::as_str))
        .fetch_all(&self.reader)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(a) = load_approval(&self.reader, id).await? {
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
        .fetch_optional(&self.reader)
        .await?;
        match id {
            Some(id) => load_approval(&self.reader, id).await,
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
        let settings = space_settings_tx(&mut tx, &ex.space).await?;
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
        let out = load_exception_tx(&mut tx, id).await?;
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
            .fetch_optional(&self.reader)
            .await?
            .as_ref()
            .map(exception_from)
            .transpose()
    }

    async fn exceptions(&self, space: &str) -> Result<Vec<ExceptionRecord>> {
        sqlx::query("SELECT * FROM exceptions WHERE space = $1 ORDER BY id")
            .bind(space)
            .fetch_all(&self.reader)
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
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(exception_from)
        .collect()
    }

    async fn exception_uses(&self, id: i64) -> Result<Vec<ExceptionUse>> {
        sqlx::query("SELECT * FROM exception_uses WHERE exception_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(exception_use_from)
            .collect()
    }

    async fn expire_due(&self) -> Result<Expired> {
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let mut out = Expired::default();
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM approvals WHERE state = 'pending' AND expires_at IS NOT NULL AND expires_at <= $1 ORDER BY id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for id in ids {
            if let Some(a) = load_approval_tx(&mut tx, id).await? {
                SqliteStore::expire_approval(&mut tx, now, &a).await?;
                out.approvals.push(id);
            }
        }
        let rows = sqlx::query(
            "SELECT * FROM exceptions WHERE state IN ('requested', 'granted') AND expires_at <= $1 ORDER BY id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let e = exception_from(row)?;
            SqliteStore::expire_exception(&mut tx, now, &e).await?;
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
        .fetch_optional(&self.reader)
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
        .fetch_all(&self.reader)
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
            .fetch_optional(&self.reader)
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
        .fetch_all(&self.reader)
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
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(environment_event_from)
            .collect()
    }

    fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
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
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(audit_from)
            .collect()
    }

    async fn audit_head(&self) -> Result<(i64, String)> {
        Ok(
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&self.reader)
                .await?,
        )
    }

    async fn verify_audit(&self) -> Result<Verification> {
        // One read transaction: a consistent snapshot of the log and its head.
        let mut tx = self.reader.begin().await?;
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
        let mut tx = self.reader.begin().await?;
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
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(dashboard::summary_from)
            .collect()
    }

    async fn decision_stats(&self, query: &StatsQuery) -> Result<DecisionStats> {
        dashboard::check_stats(query)?;
        let (sql, params) = dashboard::buckets_sql(query);
        let buckets = bind_params!(sqlx::query(&sql), &params)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(dashboard::bucket_from)
            .collect::<Result<Vec<_>>>()?;
        let (sql, params) = dashboard::top_rules_sql(
            query,
            "json_each(d.document, '$.findings') f",
            "json_extract(f.value, '$.rule_id')",
        );
        let top_rules = bind_params!(sqlx::query(&sql), &params)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(dashboard::rule_hits_from)
            .collect::<Result<Vec<_>>>()?;
        let (sql, params) = dashboard::self_correction_sql(query);
        let row = bind_params!(sqlx::query(&sql), &params)
            .fetch_one(&self.reader)
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
            .fetch_all(&self.reader)
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
            .fetch_optional(&self.reader)
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
