//! Integration tests: the conformance suite run against SQLite, SQLite-specific tests (tamper,
//! reopen, raw storage) and the state machine property tests.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests: a failed step is a failed test"
)]

mod conformance;
mod model;
mod sqlite;
