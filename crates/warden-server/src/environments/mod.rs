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
        // `then`, not `then_some`: an eager `Claim` for an id already claimed would be dropped
        // here, locking the mutex this guard holds (a deadlock) and releasing the other claim.
        set.insert(id).then(|| Claim { busy: self, id })
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

#[cfg(test)]
mod tests {
    use super::Busy;

    #[test]
    fn a_claimed_environment_is_refused_until_released() {
        let busy = Busy::default();
        let first = busy.claim(1);
        assert!(first.is_some());
        assert!(busy.claim(1).is_none(), "claimed twice");
        assert!(busy.claim(2).is_some(), "another environment is free");
        // The refused claim released nothing: 1 is still claimed.
        assert!(busy.claim(1).is_none());
        drop(first);
        assert!(busy.claim(1).is_some(), "released on drop");
    }
}
