//! The audit chain's status for the dashboard, without walking the whole log on every
//! visit: the result is kept with the verifier's state at the head it reached. A visit
//! reads the head (one row); the same head answers from the cache, a newer one walks only
//! the records appended since, and the whole chain is walked again from genesis when the
//! last full walk is older than [`FULL_WALK_EVERY`] (so an edit of an old record is found
//! within that time). Pages say when the chain was verified and when it was walked whole.

use time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;
use warden_store::audit::ChainVerifier;
use warden_store::{BrokenLink, Store, StoreError, Token, Verification};

use crate::error::ApiError;
use crate::ops::{self, AppState};

/// How old the last walk from genesis may be before a visit walks the whole chain again.
pub const FULL_WALK_EVERY: Duration = Duration::minutes(15);

/// Records read per page of a walk.
const PAGE: u32 = 1000;

/// What the dashboard shows about the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainStatus {
    /// Records checked up to the first break (all of them when intact).
    pub records: u64,
    /// The store's head when verified: `seq` and `hash`.
    pub head: (i64, String),
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
    /// When this head was verified.
    pub verified_at: OffsetDateTime,
    /// When the chain was last walked from its first record.
    pub full_walk_at: OffsetDateTime,
    /// Records walked to reach this result (all of them on a full walk, the new ones on an
    /// incremental one, none when the head had not moved).
    pub walked: u64,
}

impl ChainStatus {
    /// True when no link is broken.
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

struct Cached {
    /// The walk's state after the head's record (only kept while intact).
    verifier: ChainVerifier,
    status: ChainStatus,
}

/// The cached verification, shared by every dashboard request of this process.
#[derive(Default)]
pub struct ChainCache {
    inner: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for ChainCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainCache")
    }
}

impl ChainCache {
    /// The chain's status at the store's current head, walking only what the cache has not
    /// seen (see the module docs). Callers check the viewer's authorisation first.
    ///
    /// # Errors
    /// The store's, when the head or the records cannot be read.
    pub async fn status(&self, store: &dyn Store) -> Result<ChainStatus, StoreError> {
        // One walk at a time: visitors arriving together share its result.
        let mut cached = self.inner.lock().await;
        let head = store.audit_head().await?;
        let now = store.now();
        let fresh = |c: &Cached| now - c.status.full_walk_at < FULL_WALK_EVERY;
        if let Some(c) = cached
            .as_mut()
            .filter(|c| fresh(c) && c.status.head == head)
        {
            c.status.walked = 0;
            return Ok(c.status.clone());
        }
        // Continue from the cached head when it is intact and the log only grew; otherwise
        // walk from genesis.
        let (mut verifier, from, full_walk_at) = match cached.as_ref() {
            Some(c) if fresh(c) && c.status.is_intact() && head.0 > c.status.head.0 => {
                (c.verifier.clone(), c.status.head.0, c.status.full_walk_at)
            }
            _ => (ChainVerifier::from_genesis(), 0, now),
        };
        let walked = walk(store, &mut verifier, from, head.0).await?;
        let settled = settle(verifier, head, now, full_walk_at, walked);
        let status = settled.status.clone();
        *cached = Some(settled);
        Ok(status)
    }
}

/// Feeds the records with `after < seq <= until` to the verifier; returns how many.
async fn walk(
    store: &dyn Store,
    verifier: &mut ChainVerifier,
    after: i64,
    until: i64,
) -> Result<u64, StoreError> {
    let mut after = after;
    let mut walked = 0u64;
    while after < until && !verifier.is_broken() {
        let records = store.audit_records(after, PAGE).await?;
        let Some(last) = records.last() else { break };
        after = last.seq;
        for r in records.iter().take_while(|r| r.seq <= until) {
            verifier.push(r);
            walked += 1;
            if verifier.is_broken() {
                break;
            }
        }
    }
    Ok(walked)
}

fn settle(
    verifier: ChainVerifier,
    head: (i64, String),
    now: OffsetDateTime,
    full_walk_at: OffsetDateTime,
    walked: u64,
) -> Cached {
    let Verification {
        records, broken, ..
    } = verifier.clone().finish(Some(head.clone()));
    Cached {
        verifier,
        status: ChainStatus {
            records,
            head,
            broken,
            verified_at: now,
            full_walk_at,
            walked,
        },
    }
}

/// The chain's status for a viewer: the same authorisation as `GET /v1/audit/verify`
/// ([`ops::require_audit_reader`]), then the cache.
///
/// # Errors
/// 403 for a token without every space; the store's errors.
pub async fn for_viewer(state: &AppState, token: &Token) -> Result<ChainStatus, ApiError> {
    ops::require_audit_reader(token)?;
    state
        .audit_chain
        .status(state.store.as_ref())
        .await
        .map_err(|e| ApiError::store("verifying the audit log", e))
}

/// "verified just now; walked whole 3 min ago" — when the result was established.
#[must_use]
pub fn freshness(now: OffsetDateTime, status: &ChainStatus) -> String {
    let verified = super::layout::relative(now, status.verified_at);
    let full = super::layout::relative(now, status.full_walk_at);
    if verified == full {
        format!("verified {verified}, from the first record")
    } else {
        format!("verified {verified}; walked whole {full}")
    }
}
