//! Integration tests: the conformance suite run against SQLite and PostgreSQL, SQLite-specific
//! tests (tamper, reopen, raw storage), PostgreSQL replicas racing, and the state machine
//! property tests.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests: a failed step is a failed test"
)]

mod conformance;
mod drift;
mod model;
mod postgres;
mod sqlite;
