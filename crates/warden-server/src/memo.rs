//! Decisions remembered by the exact change they were made for.
//!
//! "The same request twice gives the same decision": evaluation is a function of the change's
//! bytes, the policy revision, the space, the operation and, through the configuration's
//! exceptions, the date. When the loaded engines read nothing else (no Rego or Kyverno
//! policy, which may read the clock), a decision made once can be given again without parsing
//! and evaluating the document: agents retry, pipelines re-run, and a plan of 100 KB costs
//! about a millisecond to parse and evaluate. What happens after evaluation is never
//! remembered: governed exceptions, approvals, the record and its audit entry are applied to
//! every request.
//!
//! The key holds the SHA-256 digest of the document (never a weaker hash: a collision would
//! hand one change another's decision). Bounded: the oldest entry leaves first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use warden_core::Decision;

/// What identifies an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemoKey {
    /// `sha256:<hex>` of the document as evaluated.
    pub digest: String,
    /// The policy revision it was evaluated under (account and space layer).
    pub revision: String,
    /// The space.
    pub space: String,
    /// The change request's operation, if any.
    pub operation: Option<&'static str>,
    /// The decision date (the configuration's exceptions expire by date).
    pub date: time::Date,
}

/// An evaluation to give again: the decision as the engines made it (before governed
/// exceptions and approvals), the stored input's kind and the secrets to mask.
#[derive(Debug)]
pub struct Memoized {
    /// The decision before exceptions and approvals.
    pub decision: Decision,
    /// The input kind the store records.
    pub kind: String,
    /// Secret values found, masked in what is stored.
    pub secrets: Vec<String>,
    /// The subject derived from the change ([`crate::agents::change_subject`]).
    pub subject: String,
    /// The addresses the change touches ([`crate::ops::touched_addresses`]).
    pub resources: Vec<String>,
}

/// A bounded map from evaluation to its result (first in, first out).
#[derive(Debug)]
pub struct DecisionMemo {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<MemoKey, Arc<Memoized>>,
    order: VecDeque<MemoKey>,
}

impl DecisionMemo {
    /// A memo of at most `capacity` decisions (0: remembers nothing).
    #[must_use]
    pub fn new(capacity: usize) -> DecisionMemo {
        DecisionMemo {
            capacity,
            inner: Mutex::default(),
        }
    }

    /// `true` when it remembers anything at all.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// The remembered evaluation for this key.
    #[must_use]
    pub fn get(&self, key: &MemoKey) -> Option<Arc<Memoized>> {
        if !self.enabled() {
            return None;
        }
        self.inner.lock().ok()?.map.get(key).cloned()
    }

    /// Remembers an evaluation, forgetting the oldest when full.
    pub fn put(&self, key: MemoKey, value: Memoized) {
        if !self.enabled() {
            return;
        }
        let Ok(mut entries) = self.inner.lock() else {
            return;
        };
        if entries.map.contains_key(&key) {
            return;
        }
        while entries.map.len() >= self.capacity {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            entries.map.remove(&oldest);
        }
        entries.order.push_back(key.clone());
        entries.map.insert(key, Arc::new(value));
    }

    /// How many evaluations it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |e| e.map.len())
    }

    /// `true` when it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(digest: &str) -> MemoKey {
        MemoKey {
            digest: digest.into(),
            revision: "sha256:r".into(),
            space: "dev".into(),
            operation: None,
            date: time::Date::MIN,
        }
    }

    fn memoized() -> Memoized {
        let policy = warden_policy::PolicySet::load(warden_policy::Config::default())
            .expect("the default policy loads");
        Memoized {
            decision: policy.evaluate(&[], time::OffsetDateTime::UNIX_EPOCH),
            kind: "terraform_plan".into(),
            secrets: Vec::new(),
            subject: "resources:none".into(),
            resources: Vec::new(),
        }
    }

    #[test]
    fn remembers_by_the_whole_key_and_forgets_the_oldest_first() {
        let memo = DecisionMemo::new(2);
        memo.put(key("a"), memoized());
        memo.put(key("b"), memoized());
        assert!(memo.get(&key("a")).is_some());
        let other_space = MemoKey {
            space: "prod".into(),
            ..key("a")
        };
        assert!(
            memo.get(&other_space).is_none(),
            "the space is part of the key"
        );
        let other_revision = MemoKey {
            revision: "sha256:s".into(),
            ..key("a")
        };
        assert!(memo.get(&other_revision).is_none());
        memo.put(key("c"), memoized());
        assert_eq!(memo.len(), 2);
        assert!(memo.get(&key("a")).is_none(), "the oldest left");
        assert!(memo.get(&key("b")).is_some() && memo.get(&key("c")).is_some());
    }

    #[test]
    fn capacity_zero_remembers_nothing() {
        let memo = DecisionMemo::new(0);
        memo.put(key("a"), memoized());
        assert!(memo.get(&key("a")).is_none());
        assert!(memo.is_empty());
    }
}
