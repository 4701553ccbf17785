//! The `Store` trait: everything the control plane keeps.

use std::io::Write;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::audit::{AuditEvent, AuditRecord, Verification};
use crate::dashboard::{DecisionQuery, DecisionStats, DecisionSummary, StatsQuery, UiSession};
use crate::drift::{
    DriftDay, DriftEvent, DriftFilter, DriftScan, DriftScanResult, DriftStats, NewDriftScan,
    ResourceTouch,
};
use crate::environments::{
    Blueprint, Environment, EnvironmentEvent, EnvironmentFilter, EnvironmentUpdate, NewBlueprint,
    NewEnvironment,
};
use crate::error::Result;
use crate::model::{
    Actor, AgentQuery, AgentRecord, Approval, ApprovalFilter, DecisionRecord, ExceptionRecord,
    ExceptionUse, Expired, NewApproval, NewDecision, NewException, NewSpace, NewToken, Space,
    StoredInput, Token,
};

/// The control plane's storage. Every method that changes state appends its audit record(s)
/// in the same transaction, so either both are stored or neither is; an error means nothing
/// was written.
///
/// The store enforces the invariants that belong to the data: approval and exception state
/// machines, "never the requester", "agents never approve or grant", approver roles from the
/// space's settings, exception length limits. Endpoint authorisation (which role may call
/// what, space scoping of tokens) is the server's.
///
/// Object-safe: the server holds an `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync {
    // --- spaces -------------------------------------------------------------------------

    /// Creates a space, or replaces the description and settings of an existing one.
    async fn put_space(&self, actor: &Actor, space: &NewSpace) -> Result<Space>;
    /// A space by name.
    async fn space(&self, name: &str) -> Result<Option<Space>>;
    /// Every space, by name.
    async fn spaces(&self) -> Result<Vec<Space>>;
    /// A space with its exceptions (every state, by id): what an evaluation in the space
    /// reads, in one round trip where the database allows.
    async fn space_with_exceptions(
        &self,
        name: &str,
    ) -> Result<Option<(Space, Vec<ExceptionRecord>)>>;

    // --- tokens -------------------------------------------------------------------------

    /// Stores a token under the hash of `secret` (the caller generates the secret and shows
    /// it once).
    async fn create_token(&self, actor: &Actor, token: &NewToken, secret: &str) -> Result<Token>;
    /// The unrevoked token whose secret this is.
    async fn authenticate(&self, secret: &str) -> Result<Option<Token>>;
    /// Revokes a token.
    async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<Token>;
    /// Every token, revoked ones included, by id.
    async fn tokens(&self) -> Result<Vec<Token>>;

    // --- decisions and inputs -----------------------------------------------------------

    /// Records a decision with its inputs (masked, stored once per digest) and the exception
    /// uses it made. Fails with a conflict if a used exception is no longer active, or if a
    /// cited approval is not an approved request for this input digest in this space.
    async fn record_decision(
        &self,
        actor: &Actor,
        decision: &NewDecision<'_>,
    ) -> Result<DecisionRecord>;
    /// A decision by id.
    async fn decision(&self, id: i64) -> Result<Option<DecisionRecord>>;
    /// The latest decision on these inputs under this policy revision in this space.
    async fn latest_decision(
        &self,
        space: Option<&str>,
        input_digest: &str,
        policy_revision: &str,
    ) -> Result<Option<DecisionRecord>>;
    /// An input document by digest.
    async fn input(&self, digest: &str) -> Result<Option<StoredInput>>;
    /// An agent's recent decisions on a subject in a space, and its use of its quotas (the
    /// agent retry contract): one read.
    async fn agent_record(&self, query: &AgentQuery<'_>) -> Result<AgentRecord>;

    // --- approvals ----------------------------------------------------------------------

    /// Opens an approval request bound to a change digest under the space's rules. A
    /// pending request for the same space and digest is returned as it is; pending requests
    /// for the same subject with another digest are superseded.
    async fn open_approval(&self, actor: &Actor, request: &NewApproval) -> Result<Approval>;
    /// An approval request by id.
    async fn approval(&self, id: i64) -> Result<Option<Approval>>;
    /// Approval requests, newest first.
    async fn approvals(&self, filter: &ApprovalFilter) -> Result<Vec<Approval>>;
    /// Adds the actor's approval; the request becomes `approved` once enough approvers agree.
    async fn approve(&self, actor: &Actor, id: i64, note: Option<&str>) -> Result<Approval>;
    /// Rejects a pending request.
    async fn reject(&self, actor: &Actor, id: i64, reason: &str) -> Result<Approval>;
    /// The approved request for exactly this change in this space, if any.
    async fn approved_change(&self, space: &str, change_digest: &str) -> Result<Option<Approval>>;

    // --- exceptions ---------------------------------------------------------------------

    /// Requests an exception (state `requested`).
    async fn request_exception(
        &self,
        actor: &Actor,
        exception: &NewException,
    ) -> Result<ExceptionRecord>;
    /// Grants a requested exception.
    async fn grant_exception(&self, actor: &Actor, id: i64) -> Result<ExceptionRecord>;
    /// Rejects a requested exception.
    async fn reject_exception(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<ExceptionRecord>;
    /// Revokes a granted exception.
    async fn revoke_exception(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
    ) -> Result<ExceptionRecord>;
    /// An exception by id.
    async fn exception(&self, id: i64) -> Result<Option<ExceptionRecord>>;
    /// Exceptions of a space (every state), by id.
    async fn exceptions(&self, space: &str) -> Result<Vec<ExceptionRecord>>;
    /// Exceptions that apply in the space now: granted and unexpired (whether or not a sweep
    /// has run).
    async fn active_exceptions(&self, space: &str) -> Result<Vec<ExceptionRecord>>;
    /// Recorded uses of an exception.
    async fn exception_uses(&self, id: i64) -> Result<Vec<ExceptionUse>>;

    // --- drift --------------------------------------------------------------------------

    /// Records a drift scan of a target: opens an event per newly drifted resource, keeps
    /// (updating the diff and last sighting) the open events still drifted, resolves the
    /// open events of the same space and target no longer drifted; audit records
    /// `drift.scan`, `drift.opened`, `drift.resolved`. A failed scan (`error` set) is stored
    /// and changes no event. The space must exist.
    async fn record_drift_scan(
        &self,
        actor: &Actor,
        scan: &NewDriftScan,
    ) -> Result<DriftScanResult>;
    /// The latest successful scan of a target.
    async fn last_drift_scan(&self, space: &str, target: &str) -> Result<Option<DriftScan>>;
    /// Drift events, newest first.
    async fn drift_events(&self, filter: &DriftFilter) -> Result<Vec<DriftEvent>>;
    /// A drift event by id.
    async fn drift_event(&self, id: i64) -> Result<Option<DriftEvent>>;
    /// For each address, the newest decision in the space at or after `since` (any time
    /// when `None`) whose change touched it; addresses no decision touched are left out.
    async fn resource_touches(
        &self,
        space: &str,
        addresses: &[String],
        since: Option<OffsetDateTime>,
    ) -> Result<Vec<ResourceTouch>>;
    /// Drift counts per space, drift rate over the scans finished since `window_since`, and
    /// the opened → resolved histogram with these upper bounds (seconds).
    async fn drift_stats(
        &self,
        window_since: OffsetDateTime,
        bounds_secs: &[f64],
    ) -> Result<DriftStats>;
    /// Successful scans finished at or after `since`, per space and per bucket of
    /// `width_secs` seconds counted from `since`: how many, and how many found drift
    /// (the dashboard's drift rate over time). Ordered by bucket, then space.
    async fn drift_series(&self, since: OffsetDateTime, width_secs: i64) -> Result<Vec<DriftDay>>;
    // --- environments -------------------------------------------------------------------

    /// Publishes a blueprint: version 1, or one more than the latest when the document
    /// changed; the same document as the latest returns the latest unchanged. Audited
    /// `blueprint.published`.
    async fn publish_blueprint(&self, actor: &Actor, blueprint: &NewBlueprint)
        -> Result<Blueprint>;
    /// A blueprint's version (`None`: the latest).
    async fn blueprint(&self, name: &str, version: Option<i64>) -> Result<Option<Blueprint>>;
    /// The latest version of every blueprint, by name.
    async fn blueprints(&self) -> Result<Vec<Blueprint>>;
    /// Creates an environment owned by the actor, with its `requested` event and audit
    /// record.
    async fn create_environment(
        &self,
        actor: &Actor,
        environment: &NewEnvironment,
    ) -> Result<Environment>;
    /// An environment by id.
    async fn environment(&self, id: i64) -> Result<Option<Environment>>;
    /// Environments, by id.
    async fn environments(&self, filter: &EnvironmentFilter) -> Result<Vec<Environment>>;
    /// Changes an environment: the update, its event and its audit record in one
    /// transaction; a conflict (nothing written) when the environment is not in one of
    /// `update.from`.
    async fn update_environment(
        &self,
        actor: &Actor,
        id: i64,
        update: &EnvironmentUpdate,
    ) -> Result<Environment>;
    /// An environment's events, in order.
    async fn environment_events(&self, id: i64) -> Result<Vec<EnvironmentEvent>>;

    // --- time ---------------------------------------------------------------------------

    /// Moves pending approvals and requested or granted exceptions past their expiry to
    /// `expired`, one audit record each.
    async fn expire_due(&self) -> Result<Expired>;
    /// The store's clock (fixed in tests).
    fn now(&self) -> OffsetDateTime;

    /// Closes the store's connections, waiting for those in use (the default does nothing).
    /// Every committed change is stored whether or not this is called.
    async fn close(&self) {}

    // --- audit --------------------------------------------------------------------------

    /// Appends an event that has no other state in the store (a policy reload, a failed
    /// login).
    async fn append_audit(&self, actor: &Actor, event: &AuditEvent) -> Result<AuditRecord>;
    /// Audit records with `seq > after`, at most `limit`, in order.
    async fn audit_records(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>>;
    /// The chain's head: the last record's `seq` and `hash` (`0` and the genesis hash when
    /// the log is empty). One row read, so callers can tell whether the log grew.
    async fn audit_head(&self) -> Result<(i64, String)>;
    /// Walks the whole chain against the stored head and names the first broken link.
    async fn verify_audit(&self) -> Result<Verification>;
    /// Writes the records at or after `since` as JSONL (see [`crate::audit`]). Returns the
    /// number written.
    async fn export_audit(
        &self,
        since: Option<OffsetDateTime>,
        out: &mut (dyn Write + Send),
    ) -> Result<u64>;

    // --- dashboard ----------------------------------------------------------------------

    /// Decisions matching the query, newest first; the next page starts below the last id.
    async fn decisions(&self, query: &DecisionQuery) -> Result<Vec<DecisionSummary>>;
    /// The overview's aggregates over the decisions made since `query.since`.
    async fn decision_stats(&self, query: &StatsQuery) -> Result<DecisionStats>;
    /// The audit records about one subject (`decision/12`), in chain order.
    async fn audit_for(&self, subject: &str) -> Result<Vec<AuditRecord>>;
    /// Opens a dashboard session for a token, stored under the hash of its secret (the
    /// caller generates the secret and sets it as a cookie), with its `session.opened` audit
    /// record; sessions that have ended are dropped.
    async fn create_session(
        &self,
        token: &Token,
        secret_hash: &str,
        expires_at: OffsetDateTime,
    ) -> Result<UiSession>;
    /// The unexpired session stored under this hash, if its token is not revoked.
    async fn session(&self, secret_hash: &str) -> Result<Option<UiSession>>;
    /// Ends a session (logout) with its `session.closed` audit record; false if there was
    /// no such live session.
    async fn end_session(&self, secret_hash: &str) -> Result<bool>;
}
