//! Environments (docs/environments.md): blueprints in a catalog, launched, extended and
//! terminated through checkpoints, driven by the configured IaC runner, torn down when they
//! expire.
//!
//! - [`blueprint`]: the blueprint file, parsed and validated.
//! - [`checkpoint`]: consumption and lifecycle findings (WD-ENV-001..005).
//! - [`runner`]: the IaC tool's commands, one working folder per environment.
//! - [`api`]: the operations (launch, extend, terminate, publish, reads) with their
//!   authorisation, and the HTTP handlers.
//! - [`drift`]: each running environment scanned for drift as target `env-<id>`; its open
//!   drift closed at teardown.
//! - [`lifecycle`]: the reconcile loop: approvals granted, expiry notices, expiry, teardown
//!   with retries; everything read from the store, so a restart resumes where it stopped.

pub mod api;
pub mod blueprint;
pub mod checkpoint;
pub mod drift;
pub mod handlers;
pub mod lifecycle;
pub mod runner;

use std::collections::HashSet;
use std::sync::Mutex;

/// Environments this process is working on (a launch, a teardown): the reconcile loop leaves
/// them alone, and a second request on one is a conflict. After a restart the set is empty,
/// so environments left in a transitional state are resumed.
#[derive(Debug, Default)]
pub struct Busy(Mutex<HashSet<i64>>);

/// Releases an environment claimed with [`Busy::claim`] when dropped.
#[derive(Debug)]
pub struct Claim<'a> {
    busy: &'a Busy,
    id: i64,
}

impl Busy {
    /// Claims environment `id`; `None` when this process is already working on it.
    pub fn claim(&self, id: i64) -> Option<Claim<'_>> {
        let mut set = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.insert(id).then_some(Claim { busy: self, id })
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        let mut set = self
            .busy
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.remove(&self.id);
    }
}
