//! Warden's control-plane store.
//!
//! [`Store`] is everything `warden serve` keeps: decisions with their input digest and policy
//! revision, input documents by digest (secrets masked), approval requests bound to the digest
//! of the exact change, governed exceptions and their uses, hashed API tokens, spaces, the
//! dashboard's sessions and reads ([`dashboard`]), drift scans and events ([`drift`]),
//! environments and blueprints ([`environments`]), and the hash-chained audit log
//! ([`audit`]). [`SqliteStore`] is the embedded implementation;
//! [`PostgresStore`] serves several replicas on one database and shares most of its SQL.
//!
//! Every state change writes its audit record in the same transaction. The store knows only
//! core types: no HTTP, no engines.

pub mod audit;
pub mod dashboard;
pub mod drift;
pub mod environments;
pub mod error;
pub mod mask;
pub mod model;
pub mod postgres;
mod shared;
pub mod sqlite;
pub mod store;

pub use audit::{AuditEvent, AuditRecord, Break, BrokenLink, Verification};
pub use dashboard::{
    DecisionQuery, DecisionStats, DecisionSummary, OutcomeBucket, RuleHits, StatsQuery, UiSession,
};
pub use drift::{
    DriftDay, DriftEvent, DriftFilter, DriftScan, DriftScanResult, DriftState, DriftStats,
    NewDriftEvent, NewDriftScan, RemediationTimes, ResourceTouch, SpaceDrift,
};
pub use environments::{
    Blueprint, Environment, EnvironmentEvent, EnvironmentFilter, EnvironmentState,
    EnvironmentUpdate, NewBlueprint, NewEnvironment,
};
pub use error::{Result, StoreError};
pub use model::{
    token_hash, Actor, AgentQuery, AgentRecord, Approval, ApprovalFilter, ApprovalState,
    DecisionRecord, ExceptionRecord, ExceptionState, ExceptionUse, Expired, NewApproval,
    NewDecision, NewException, NewExceptionUse, NewInput, NewSpace, NewToken, PastDecision, Role,
    Space, SpaceSettings, StoredInput, Token,
};
pub use postgres::PostgresStore;
pub use shared::{Clock, OpenOptions};
pub use sqlite::SqliteStore;
pub use store::Store;
