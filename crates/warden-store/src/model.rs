//! The objects the store keeps.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use warden_core::{ActorKind, Outcome};

use crate::error::{Result, StoreError};

/// A role a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, including tokens and spaces.
    Admin,
    /// Changes policy.
    PolicyAuthor,
    /// Approves requests and grants exceptions.
    Approver,
    /// Evaluates changes and requests exceptions.
    Requester,
    /// Reads.
    Viewer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::PolicyAuthor,
        Role::Approver,
        Role::Requester,
        Role::Viewer,
    ];

    /// The kebab-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::PolicyAuthor => "policy-author",
            Role::Approver => "approver",
            Role::Requester => "requester",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a kebab-case name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The name of an actor kind, as stored.
#[must_use]
pub fn actor_kind_str(kind: ActorKind) -> &'static str {
    match kind {
        ActorKind::Human => "human",
        ActorKind::Agent => "agent",
        ActorKind::Pipeline => "pipeline",
    }
}

/// Parses a stored actor kind.
#[must_use]
pub fn parse_actor_kind(s: &str) -> Option<ActorKind> {
    match s {
        "human" => Some(ActorKind::Human),
        "agent" => Some(ActorKind::Agent),
        "pipeline" => Some(ActorKind::Pipeline),
        _ => None,
    }
}

/// Parses a stored outcome.
#[must_use]
pub fn parse_outcome(s: &str) -> Option<Outcome> {
    [
        Outcome::Allow,
        Outcome::Warn,
        Outcome::RequireApproval,
        Outcome::Deny,
    ]
    .into_iter()
    .find(|o| o.as_str() == s)
}

/// Who does something: the authenticated principal behind a request, or the system itself
/// (expiry sweeps, bootstrap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Principal name (`alice`, `claude-infra`, `system`).
    pub principal: String,
    /// Human, agent or pipeline; `None` for the system.
    pub kind: Option<ActorKind>,
    /// Roles held (from the token).
    pub roles: Vec<Role>,
}

impl Actor {
    /// The store's own actor, for sweeps and bootstrap.
    #[must_use]
    pub fn system() -> Actor {
        Actor {
            principal: "system".into(),
            kind: None,
            roles: vec![Role::Admin],
        }
    }

    /// An actor from a token.
    #[must_use]
    pub fn from_token(token: &Token) -> Actor {
        Actor {
            principal: token.principal.clone(),
            kind: Some(token.kind),
            roles: token.roles.clone(),
        }
    }

    /// The stored kind name (`system` for the system).
    #[must_use]
    pub fn kind_str(&self) -> &'static str {
        self.kind.map_or("system", actor_kind_str)
    }

    /// True for an AI agent.
    #[must_use]
    pub fn is_agent(&self) -> bool {
        self.kind == Some(ActorKind::Agent)
    }

    /// True if the actor holds the role (admins hold every role).
    #[must_use]
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role) || self.roles.contains(&Role::Admin)
    }
}

/// Per-space rules for approvals and exceptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaceSettings {
    /// Approvals a request needs (at least 1).
    pub approvals_required: u32,
    /// Roles that may approve (an approver needs one of them).
    pub approver_roles: Vec<Role>,
    /// How long a pending approval request stays open, in seconds (`None`: no expiry).
    pub approval_ttl_secs: Option<i64>,
    /// Longest an exception may last, in days.
    pub max_exception_days: u32,
}

impl Default for SpaceSettings {
    fn default() -> SpaceSettings {
        SpaceSettings {
            approvals_required: 1,
            approver_roles: vec![Role::Approver],
            approval_ttl_secs: Some(7 * 24 * 3600),
            max_exception_days: 90,
        }
    }
}

/// A team or project scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Approval and exception rules.
    pub settings: SpaceSettings,
    /// When created.
    pub created_at: OffsetDateTime,
    /// When last changed.
    pub updated_at: OffsetDateTime,
}

/// A space to create or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSpace {
    /// Unique name (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// Free text.
    pub description: String,
    /// Approval and exception rules.
    pub settings: SpaceSettings,
}

/// An API token as stored: its secret only as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Id.
    pub id: i64,
    /// Unique name (`claude-infra`).
    pub name: String,
    /// Principal the token acts as.
    pub principal: String,
    /// Human, agent or pipeline.
    pub kind: ActorKind,
    /// Roles granted.
    pub roles: Vec<Role>,
    /// Spaces it may act in (`*` for all).
    pub spaces: Vec<String>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: OffsetDateTime,
    /// When revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

impl Token {
    /// True if the token may act in the space.
    #[must_use]
    pub fn allows_space(&self, space: &str) -> bool {
        self.spaces.iter().any(|s| s == "*" || s == space)
    }
}

/// A token to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Unique name.
    pub name: String,
    /// Principal the token acts as.
    pub principal: String,
    /// Human, agent or pipeline.
    pub kind: ActorKind,
    /// Roles granted.
    pub roles: Vec<Role>,
    /// Spaces it may act in (`*` for all).
    pub spaces: Vec<String>,
}

/// The stored hash of a token secret (`sha256:<hex>`). Tokens are long random strings, so a
/// plain SHA-256 is enough; the secret itself is never stored.
#[must_use]
pub fn token_hash(secret: &str) -> String {
    crate::audit::hash_canonical(secret)
}

/// An input document to store with a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInput<'a> {
    /// `sha256:<hex>` of the original bytes (the digest in the decision's inputs).
    pub digest: String,
    /// Kind (`terraform-plan`, `kubernetes` ...).
    pub kind: String,
    /// The document's text (borrowed when the caller still holds it); secrets are masked
    /// before it is stored.
    pub content: std::borrow::Cow<'a, str>,
}

/// A stored input document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInput {
    /// Digest of the original bytes (the stored text differs when secrets were masked).
    pub digest: String,
    /// Kind.
    pub kind: String,
    /// Text with secrets masked.
    pub content: String,
    /// How many secret occurrences were masked.
    pub masked_secrets: i64,
    /// When first stored.
    pub created_at: OffsetDateTime,
}

/// An exception applied by a decision (recorded as a use, in the same transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExceptionUse {
    /// The exception.
    pub exception_id: i64,
    /// Rule of the finding it waived.
    pub rule: String,
    /// Resource address of the finding.
    pub resource: String,
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDecision<'a> {
    /// The decision.
    pub decision: &'a warden_core::Decision,
    /// The decision serialized as JSON (`serde_json::to_string(decision)`), when the caller
    /// already has it: the store then does not serialize it again. `None`: the store does.
    pub text: Option<&'a str>,
    /// The space it was made in.
    pub space: Option<String>,
    /// The documents evaluated (stored once per digest).
    pub inputs: Vec<NewInput<'a>>,
    /// Secret values to mask in the inputs and the decision document.
    pub secrets: Vec<String>,
    /// Governed exceptions that waived findings.
    pub exception_uses: Vec<NewExceptionUse>,
    /// An approval the decision cites: must be `approved`, in the same space, for a change
    /// digest equal to the decision's input digest.
    pub approval_id: Option<i64>,
    /// What the change is an attempt at (the agent retry contract): the request's subject,
    /// or one derived from the change.
    pub subject: Option<String>,
    /// Which attempt at `subject` this is (1 for the first), for agents.
    pub attempt: Option<u32>,
    /// The monthly cost delta of the change in USD, when estimated.
    pub cost_delta: Option<f64>,
    /// The addresses of the resources the change touches (created, updated, replaced or
    /// deleted; not no-op or read), kept with the decision so drift can be attributed to it.
    pub resources: Vec<String>,
    /// One more audit record to append in the same transaction, after `decision.recorded`
    /// (the admission webhook's `admission.reviewed`): its subject becomes `decision/<id>`
    /// and `decision_id` is added to its detail.
    pub follow_up: Option<crate::audit::AuditEvent>,
}

/// A past decision, as the agent retry contract lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastDecision {
    /// Decision id.
    pub id: i64,
    /// Digest of the change decided.
    pub input_digest: String,
    /// Its outcome.
    pub outcome: Outcome,
    /// When.
    pub created_at: OffsetDateTime,
}

/// What [`crate::Store::agent_record`] looks up: an agent's recent decisions on a subject,
/// and its use of its quotas.
#[derive(Debug, Clone, Copy)]
pub struct AgentQuery<'a> {
    /// The agent's principal.
    pub principal: &'a str,
    /// The space of the change.
    pub space: &'a str,
    /// What the change is an attempt at.
    pub subject: &'a str,
    /// Decisions on `subject` from this time on.
    pub attempts_since: OffsetDateTime,
    /// At most this many of them (newest first).
    pub attempts_limit: u32,
    /// Start of the rolling hour of the change quota.
    pub hour_since: OffsetDateTime,
    /// Start of the month of the cost budget.
    pub month_since: OffsetDateTime,
    /// Start of the period of the recent deny rate (every subject, every space).
    pub recent_since: OffsetDateTime,
}

/// An agent's recent decisions on a subject and its use of its quotas.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentRecord {
    /// Its decisions on the subject (every space's own), newest first.
    pub attempts: Vec<PastDecision>,
    /// Its decisions since `hour_since`, every space, and the oldest of them.
    pub changes_last_hour: u64,
    /// When the oldest decision counted in `changes_last_hour` was made.
    pub oldest_in_hour: Option<OffsetDateTime>,
    /// Sum of the cost deltas of its allowed and warned decisions since `month_since`.
    pub cost_this_month: f64,
    /// Its decisions since `recent_since`.
    pub recent: u64,
    /// Of those, the denied ones.
    pub recent_denied: u64,
}

/// A recorded decision.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    /// Id (`decision_id` in responses).
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
    /// The outcome.
    pub outcome: Outcome,
    /// An approval the decision cites.
    pub approval_id: Option<i64>,
    /// The decision document as stored: JSON text, secrets masked ([`Self::document_value`]
    /// parses it).
    pub document: String,
    /// When recorded.
    pub created_at: OffsetDateTime,
}

impl DecisionRecord {
    /// The decision document parsed.
    ///
    /// # Errors
    /// When the stored text is not JSON (a corrupt store).
    pub fn document_value(&self) -> Result<serde_json::Value, crate::StoreError> {
        serde_json::from_str(&self.document)
            .map_err(|e| crate::StoreError::Corrupt(format!("decision {} document: {e}", self.id)))
    }
}

/// State of an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    /// Waiting for approvers.
    Pending,
    /// Enough approvers said yes.
    Approved,
    /// An approver said no.
    Rejected,
    /// Nobody decided in time.
    Expired,
    /// A request for a newer version of the same change replaced it.
    Superseded,
}

impl ApprovalState {
    /// The snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalState::Pending => "pending",
            ApprovalState::Approved => "approved",
            ApprovalState::Rejected => "rejected",
            ApprovalState::Expired => "expired",
            ApprovalState::Superseded => "superseded",
        }
    }

    /// Parses the name.
    #[must_use]
    pub fn parse(s: &str) -> Option<ApprovalState> {
        [
            ApprovalState::Pending,
            ApprovalState::Approved,
            ApprovalState::Rejected,
            ApprovalState::Expired,
            ApprovalState::Superseded,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// An approval request to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApproval {
    /// Space (its settings give the rules).
    pub space: String,
    /// What the change is about, stable across re-plans (a workspace, a release name): a new
    /// request for the same subject with another digest supersedes pending ones.
    pub subject: String,
    /// Digest of the exact change (the decision's input digest).
    pub change_digest: String,
    /// The `require_approval` decision that opened it.
    pub decision_id: Option<i64>,
}

/// An approval request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// Id.
    pub id: i64,
    /// Space.
    pub space: String,
    /// Subject.
    pub subject: String,
    /// Digest of the exact change it is bound to.
    pub change_digest: String,
    /// The decision that opened it.
    pub decision_id: Option<i64>,
    /// Who asked.
    pub requested_by: String,
    /// Their kind.
    pub requester_kind: String,
    /// State.
    pub state: ApprovalState,
    /// Approvals needed (from the space's settings when opened).
    pub required: u32,
    /// Roles that may approve (from the space's settings when opened).
    pub approver_roles: Vec<Role>,
    /// Principals who approved so far.
    pub approvers: Vec<String>,
    /// When opened.
    pub created_at: OffsetDateTime,
    /// When a pending request expires.
    pub expires_at: Option<OffsetDateTime>,
    /// When it left `pending`.
    pub resolved_at: Option<OffsetDateTime>,
    /// Who moved it out of `pending` (the last approver, the rejecter, `system`).
    pub resolved_by: Option<String>,
    /// Rejection reason.
    pub reason: Option<String>,
}

/// Which approval requests to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalFilter {
    /// Only this space.
    pub space: Option<String>,
    /// Only this state.
    pub state: Option<ApprovalState>,
}

/// State of a governed exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionState {
    /// Asked for, not decided.
    Requested,
    /// Granted: applies until it expires or is revoked.
    Granted,
    /// Refused.
    Rejected,
    /// Withdrawn after it was granted.
    Revoked,
    /// Past its expiry.
    Expired,
}

impl ExceptionState {
    /// The snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionState::Requested => "requested",
            ExceptionState::Granted => "granted",
            ExceptionState::Rejected => "rejected",
            ExceptionState::Revoked => "revoked",
            ExceptionState::Expired => "expired",
        }
    }

    /// Parses the name.
    #[must_use]
    pub fn parse(s: &str) -> Option<ExceptionState> {
        [
            ExceptionState::Requested,
            ExceptionState::Granted,
            ExceptionState::Rejected,
            ExceptionState::Revoked,
            ExceptionState::Expired,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// An exception to request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewException {
    /// Space it applies in.
    pub space: String,
    /// Rule id or name it waives.
    pub rule: String,
    /// Resource addresses it covers (glob).
    pub resource_glob: String,
    /// Why (required).
    pub justification: String,
    /// Ticket reference.
    pub ticket: Option<String>,
    /// When it stops applying (at most the space's `max_exception_days` away).
    pub expires_at: OffsetDateTime,
}

/// A governed exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRecord {
    /// Id.
    pub id: i64,
    /// Space.
    pub space: String,
    /// Rule it waives.
    pub rule: String,
    /// Resources it covers (glob).
    pub resource_glob: String,
    /// Why.
    pub justification: String,
    /// Ticket.
    pub ticket: Option<String>,
    /// Who asked.
    pub requested_by: String,
    /// Their kind.
    pub requester_kind: String,
    /// State as stored (an expired exception may still read `granted` until the sweep; see
    /// [`ExceptionRecord::is_active`]).
    pub state: ExceptionState,
    /// When requested.
    pub created_at: OffsetDateTime,
    /// When it stops applying.
    pub expires_at: OffsetDateTime,
    /// Who granted, rejected or revoked it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<OffsetDateTime>,
    /// Rejection or revocation reason.
    pub reason: Option<String>,
}

impl ExceptionRecord {
    /// True if it applies at `now`: granted and not yet expired.
    #[must_use]
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.state == ExceptionState::Granted && now < self.expires_at
    }
}

/// A recorded use of an exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionUse {
    /// Id.
    pub id: i64,
    /// The exception.
    pub exception_id: i64,
    /// The decision that used it.
    pub decision_id: i64,
    /// Rule of the waived finding.
    pub rule: String,
    /// Resource of the waived finding.
    pub resource: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// What an expiry sweep changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expired {
    /// Approval requests moved to `expired`.
    pub approvals: Vec<i64>,
    /// Exceptions moved to `expired`.
    pub exceptions: Vec<i64>,
}

/// Milliseconds since the epoch.
#[must_use]
pub fn to_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The time of a stored millisecond count.
pub fn from_millis(ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {ms}: {e}")))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC), the audit log's time format.
#[must_use]
pub fn audit_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
