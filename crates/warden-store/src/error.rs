//! The one error type of the store.

/// What went wrong in a store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed (I/O, lock timeout, constraint).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A schema migration could not be applied or does not match this build.
    #[error("migration {version} ({name}): {message}")]
    Migration {
        /// Migration number.
        version: i64,
        /// Migration file name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// The object does not exist.
    #[error("{kind} {id} not found")]
    NotFound {
        /// What was looked up (`approval`, `exception`, `token`, `space`).
        kind: &'static str,
        /// The id or name looked up.
        id: String,
    },
    /// The actor may not do this (an agent approving, a requester approving their own request).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The object is not in a state that allows this (approving a rejected request, a
    /// duplicate name, a vote already cast).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request itself is malformed (an empty justification, an expiry in the past).
    #[error("invalid: {0}")]
    Invalid(String),
    /// Stored data cannot be read back (a bad timestamp, unknown enum value, bad JSON).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A document could not be serialized.
    #[error("serialization failed: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing an export or creating the data folder failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
