//! The objects of the environment lifecycle: blueprints, environments and their events.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// A blueprint to publish: its file as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBlueprint {
    /// Unique name (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// The blueprint file (YAML), validated by the caller.
    pub document: String,
}

/// A published version of a blueprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blueprint {
    /// Name.
    pub name: String,
    /// Version: 1 for the first publish, one more for each publish that changed it.
    pub version: i64,
    /// The file (YAML).
    pub document: String,
    /// `sha256:<hex>` of the document.
    pub digest: String,
    /// Who published it.
    pub published_by: String,
    /// When.
    pub published_at: OffsetDateTime,
}

/// Where an environment is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentState {
    /// Planned; waiting for the approval its launch decision asked for.
    PendingApproval,
    /// Being planned and applied.
    Launching,
    /// Running.
    Active,
    /// Running, its end near (the notification went out).
    Expiring,
    /// Past its end, to be torn down.
    Expired,
    /// Being torn down (on request or after expiry).
    Terminating,
    /// Torn down.
    Terminated,
    /// Teardown failed `teardown-max-attempts` times: flagged for an operator.
    TeardownFailed,
    /// The launch was denied.
    Denied,
    /// The launch failed (the runner or the apply).
    Failed,
}

impl EnvironmentState {
    /// Every state.
    pub const ALL: [EnvironmentState; 10] = [
        EnvironmentState::PendingApproval,
        EnvironmentState::Launching,
        EnvironmentState::Active,
        EnvironmentState::Expiring,
        EnvironmentState::Expired,
        EnvironmentState::Terminating,
        EnvironmentState::Terminated,
        EnvironmentState::TeardownFailed,
        EnvironmentState::Denied,
        EnvironmentState::Failed,
    ];

    /// The snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EnvironmentState::PendingApproval => "pending_approval",
            EnvironmentState::Launching => "launching",
            EnvironmentState::Active => "active",
            EnvironmentState::Expiring => "expiring",
            EnvironmentState::Expired => "expired",
            EnvironmentState::Terminating => "terminating",
            EnvironmentState::Terminated => "terminated",
            EnvironmentState::TeardownFailed => "teardown_failed",
            EnvironmentState::Denied => "denied",
            EnvironmentState::Failed => "failed",
        }
    }

    /// Parses the name.
    #[must_use]
    pub fn parse(s: &str) -> Option<EnvironmentState> {
        EnvironmentState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// True while the environment holds (or may yet hold) infrastructure: it counts
    /// against concurrency limits and budgets.
    #[must_use]
    pub fn is_live(self) -> bool {
        !matches!(
            self,
            EnvironmentState::Terminated | EnvironmentState::Denied | EnvironmentState::Failed
        )
    }
}

/// An environment to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEnvironment {
    /// Blueprint name.
    pub blueprint: String,
    /// Blueprint version.
    pub version: i64,
    /// Space.
    pub space: String,
    /// Inputs (a JSON object).
    pub inputs: Value,
    /// First state.
    pub state: EnvironmentState,
    /// When it ends.
    pub ends_at: OffsetDateTime,
    /// Monthly cost in USD, when known.
    pub monthly_cost: Option<f64>,
    /// Detail of its `requested` event.
    pub detail: Value,
}

/// An environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// Id.
    pub id: i64,
    /// Blueprint name.
    pub blueprint: String,
    /// Blueprint version.
    pub version: i64,
    /// Space.
    pub space: String,
    /// Who launched it.
    pub owner: String,
    /// Their kind (`human`, `agent`, `pipeline`).
    pub owner_kind: String,
    /// Inputs (a JSON object).
    pub inputs: Value,
    /// State.
    pub state: EnvironmentState,
    /// When requested.
    pub created_at: OffsetDateTime,
    /// When last changed.
    pub updated_at: OffsetDateTime,
    /// When it ends.
    pub ends_at: OffsetDateTime,
    /// An end asked for by an extension waiting for approval.
    pub pending_ends_at: Option<OffsetDateTime>,
    /// The runner's outputs (`output -json`).
    pub outputs: Option<Value>,
    /// Monthly cost in USD, when known.
    pub monthly_cost: Option<f64>,
    /// The last decision on it.
    pub decision_id: Option<i64>,
    /// The approval request it waits for.
    pub approval_id: Option<i64>,
    /// Teardown attempts so far.
    pub teardown_attempts: u32,
    /// When the next teardown attempt is due.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Why it is flagged for an operator.
    pub flagged_reason: Option<String>,
}

/// A change to an environment, recorded as one event (and one audit record
/// `environment.<event>`) in the same transaction. Fields left `None` are unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvironmentUpdate {
    /// The event (`launched`, `teardown_attempt`, `extended` ...).
    pub event: String,
    /// The states the change applies from: in any other the update is a conflict and nothing
    /// is written (empty: any state).
    pub from: Vec<EnvironmentState>,
    /// The new state.
    pub state: Option<EnvironmentState>,
    /// Detail of the event (a JSON object).
    pub detail: Value,
    /// A new end.
    pub ends_at: Option<OffsetDateTime>,
    /// An end waiting for approval (`Some(None)` clears it).
    pub pending_ends_at: Option<Option<OffsetDateTime>>,
    /// The runner's outputs.
    pub outputs: Option<Value>,
    /// The monthly cost.
    pub monthly_cost: Option<f64>,
    /// The last decision.
    pub decision_id: Option<i64>,
    /// The approval it waits for (`Some(None)` clears it).
    pub approval_id: Option<Option<i64>>,
    /// Teardown attempts so far.
    pub teardown_attempts: Option<u32>,
    /// When the next teardown attempt is due (`Some(None)` clears it).
    pub next_attempt_at: Option<Option<OffsetDateTime>>,
    /// Why it is flagged (`Some(None)` clears it).
    pub flagged_reason: Option<Option<String>>,
}

/// Which environments to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvironmentFilter {
    /// Only this space.
    pub space: Option<String>,
    /// Only these states (empty: every state).
    pub states: Vec<EnvironmentState>,
}

/// One event of an environment's lifecycle.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentEvent {
    /// Id.
    pub id: i64,
    /// The environment.
    pub environment_id: i64,
    /// When.
    pub at: OffsetDateTime,
    /// Who (`system` for the reconcile loop).
    pub actor: String,
    /// What (`requested`, `launched`, `teardown_attempt` ...).
    pub kind: String,
    /// The state before.
    pub from_state: Option<EnvironmentState>,
    /// The state after.
    pub to_state: EnvironmentState,
    /// Detail (a JSON object).
    pub detail: Value,
}
