//! Property tests: random sequences of approval and exception operations, by actors of every
//! kind, with the clock moving, checked step by step against a small model of the state
//! machines (pending -> approved | rejected | expired | superseded; requested -> granted |
//! rejected, granted -> revoked | expired) and of how many audit records each step writes.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use time::Duration;
use warden_core::Outcome;
use warden_store::{
    Actor, ApprovalFilter, ApprovalState, ExceptionState, NewApproval, NewDecision, NewException,
    NewExceptionUse, OpenOptions, SqliteStore, Store, StoreError,
};

use crate::conformance::{self, ManualClock};

const TTL_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;
const REQUIRED: usize = 2;

#[derive(Debug, Clone)]
enum Op {
    Open { by: usize, digest: u8 },
    Approve { by: usize, which: usize },
    Reject { by: usize, which: usize },
    RequestEx { by: usize, days: i64 },
    GrantEx { by: usize, which: usize },
    RejectEx { by: usize, which: usize },
    RevokeEx { by: usize, which: usize },
    UseEx { which: usize },
    Advance { minutes: i64 },
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    let by = 0..5usize;
    let which = 0..8usize;
    prop_oneof![
        3 => (by.clone(), 0..3u8).prop_map(|(by, digest)| Op::Open { by, digest }),
        4 => (by.clone(), which.clone()).prop_map(|(by, which)| Op::Approve { by, which }),
        1 => (by.clone(), which.clone()).prop_map(|(by, which)| Op::Reject { by, which }),
        2 => (by.clone(), 1..40i64).prop_map(|(by, days)| Op::RequestEx { by, days }),
        3 => (by.clone(), which.clone()).prop_map(|(by, which)| Op::GrantEx { by, which }),
        1 => (by.clone(), which.clone()).prop_map(|(by, which)| Op::RejectEx { by, which }),
        1 => (by, which.clone()).prop_map(|(by, which)| Op::RevokeEx { by, which }),
        2 => which.prop_map(|which| Op::UseEx { which }),
        2 => (0..3000i64).prop_map(|minutes| Op::Advance { minutes }),
        1 => Just(Op::Sweep),
    ]
}

/// alice, bob, carol (humans; alice also requests), an agent holding the approver role, a
/// viewer.
fn actors() -> [Actor; 5] {
    [
        conformance::alice(),
        conformance::bob(),
        conformance::carol(),
        conformance::agent(),
        conformance::viewer(),
    ]
}
const AGENT: usize = 3;
const VIEWER: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res {
    Ok,
    NotFound,
    Conflict,
    Forbidden,
    Invalid,
}

fn res<T>(r: &Result<T, StoreError>) -> Res {
    match r {
        Ok(_) => Res::Ok,
        Err(StoreError::NotFound { .. }) => Res::NotFound,
        Err(StoreError::Conflict(_)) => Res::Conflict,
        Err(StoreError::Forbidden(_)) => Res::Forbidden,
        Err(StoreError::Invalid(_)) => Res::Invalid,
        Err(e) => panic!("unexpected error {e}"),
    }
}

struct MApproval {
    id: i64,
    requester: usize,
    digest: u8,
    state: ApprovalState,
    votes: Vec<usize>,
    expires: i64,
}

struct MException {
    id: i64,
    requester: usize,
    state: ExceptionState,
    expires: i64,
    uses: usize,
}

#[derive(Default)]
struct Model {
    now: i64,
    approvals: Vec<MApproval>,
    exceptions: Vec<MException>,
    audit: usize,
}

/// The refusal, if any, of a decision by `by` on something requested by `requester`: agents,
/// the requester and non-approvers are refused (`AGENT` holds the approver role but is an
/// agent; `VIEWER` holds no approver role).
fn decider(by: usize, requester: Option<usize>) -> Option<Res> {
    if by == AGENT || Some(by) == requester || by == VIEWER {
        Some(Res::Forbidden)
    } else {
        None
    }
}

impl Model {
    fn pick_approval(&self, which: usize) -> Option<usize> {
        let i = which % (self.approvals.len() + 1);
        (i < self.approvals.len()).then_some(i)
    }

    fn pick_exception(&self, which: usize) -> Option<usize> {
        let i = which % (self.exceptions.len() + 1);
        (i < self.exceptions.len()).then_some(i)
    }

    /// Approve or reject.
    fn decide_approval(&mut self, by: usize, which: usize, approve: bool) -> Res {
        let Some(i) = self.pick_approval(which) else {
            return Res::NotFound;
        };
        let now = self.now;
        let a = &mut self.approvals[i];
        if a.state != ApprovalState::Pending {
            return Res::Conflict;
        }
        if a.expires <= now {
            a.state = ApprovalState::Expired;
            self.audit += 1;
            return Res::Conflict;
        }
        if let Some(r) = decider(by, Some(a.requester)) {
            return r;
        }
        if !approve {
            a.state = ApprovalState::Rejected;
            self.audit += 1;
            return Res::Ok;
        }
        if a.votes.contains(&by) {
            return Res::Conflict;
        }
        a.votes.push(by);
        self.audit += 1;
        if a.votes.len() >= REQUIRED {
            a.state = ApprovalState::Approved;
            self.audit += 1;
        }
        Res::Ok
    }

    fn decide_exception(
        &mut self,
        by: usize,
        which: usize,
        from: ExceptionState,
        to: ExceptionState,
    ) -> Res {
        let Some(i) = self.pick_exception(which) else {
            return Res::NotFound;
        };
        let now = self.now;
        let e = &mut self.exceptions[i];
        if e.state != from {
            return Res::Conflict;
        }
        if e.expires <= now {
            e.state = ExceptionState::Expired;
            self.audit += 1;
            return Res::Conflict;
        }
        let requester = (to != ExceptionState::Revoked).then_some(e.requester);
        if let Some(r) = decider(by, requester) {
            return r;
        }
        e.state = to;
        self.audit += 1;
        Res::Ok
    }
}

async fn check(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let clock = ManualClock::new();
    let store = SqliteStore::open_dir(
        dir.path(),
        OpenOptions {
            clock: clock.clock(),
            ..OpenOptions::default()
        },
    )
    .await
    .unwrap();
    let mut space = conformance::space("dev", 2);
    space.settings.approval_ttl_secs = Some(TTL_MS / 1000);
    store.put_space(&Actor::system(), &space).await.unwrap();
    let people = actors();
    let mut m = Model {
        now: warden_store::model::to_millis(clock.now()),
        audit: 1,
        ..Model::default()
    };
    let d = conformance::decision("sha256:x", Outcome::Allow, "model");

    for (step, op) in ops.iter().enumerate() {
        let (got, want) = match *op {
            Op::Open { by, digest } => {
                let r = store
                    .open_approval(
                        &people[by],
                        &NewApproval {
                            space: "dev".into(),
                            subject: "stack".into(),
                            change_digest: format!("sha256:change-{digest}"),
                            decision_id: None,
                        },
                    )
                    .await;
                let now = m.now;
                let existing = m.approvals.iter().rposition(|a| {
                    a.state == ApprovalState::Pending && a.digest == digest && a.expires > now
                });
                if let (Some(i), Ok(a)) = (existing, &r) {
                    prop_assert_eq!(a.id, m.approvals[i].id, "step {}: same request", step);
                } else if let Ok(a) = &r {
                    m.audit += 1;
                    for old in &mut m.approvals {
                        if old.state == ApprovalState::Pending {
                            old.state = ApprovalState::Superseded;
                            m.audit += 1;
                        }
                    }
                    m.approvals.push(MApproval {
                        id: a.id,
                        requester: by,
                        digest,
                        state: ApprovalState::Pending,
                        votes: vec![],
                        expires: now + TTL_MS,
                    });
                }
                (res(&r), Res::Ok)
            }
            Op::Approve { by, which } => {
                let id = m.pick_approval(which).map_or(9999, |i| m.approvals[i].id);
                let r = store.approve(&people[by], id, None).await;
                (res(&r), m.decide_approval(by, which, true))
            }
            Op::Reject { by, which } => {
                let id = m.pick_approval(which).map_or(9999, |i| m.approvals[i].id);
                let r = store.reject(&people[by], id, "no").await;
                (res(&r), m.decide_approval(by, which, false))
            }
            Op::RequestEx { by, days } => {
                let r = store
                    .request_exception(
                        &people[by],
                        &NewException {
                            space: "dev".into(),
                            rule: "WD-AWS-001".into(),
                            resource_glob: "*".into(),
                            justification: "needed".into(),
                            ticket: None,
                            expires_at: clock.now() + Duration::days(days),
                        },
                    )
                    .await;
                let want = if days > 30 { Res::Invalid } else { Res::Ok };
                if let Ok(x) = &r {
                    m.audit += 1;
                    m.exceptions.push(MException {
                        id: x.id,
                        requester: by,
                        state: ExceptionState::Requested,
                        expires: m.now + days * DAY_MS,
                        uses: 0,
                    });
                }
                (res(&r), want)
            }
            Op::GrantEx { by, which } => {
                let id = m.pick_exception(which).map_or(9999, |i| m.exceptions[i].id);
                let r = store.grant_exception(&people[by], id).await;
                let want = m.decide_exception(
                    by,
                    which,
                    ExceptionState::Requested,
                    ExceptionState::Granted,
                );
                (res(&r), want)
            }
            Op::RejectEx { by, which } => {
                let id = m.pick_exception(which).map_or(9999, |i| m.exceptions[i].id);
                let r = store.reject_exception(&people[by], id, "no").await;
                let want = m.decide_exception(
                    by,
                    which,
                    ExceptionState::Requested,
                    ExceptionState::Rejected,
                );
                (res(&r), want)
            }
            Op::RevokeEx { by, which } => {
                let id = m.pick_exception(which).map_or(9999, |i| m.exceptions[i].id);
                let r = store.revoke_exception(&people[by], id, "done").await;
                let want =
                    m.decide_exception(by, which, ExceptionState::Granted, ExceptionState::Revoked);
                (res(&r), want)
            }
            Op::UseEx { which } => {
                let pick = m.pick_exception(which);
                let id = pick.map_or(9999, |i| m.exceptions[i].id);
                let r = store
                    .record_decision(
                        &people[AGENT],
                        &NewDecision {
                            decision: &d,
                            text: None,
                            space: Some("dev".into()),
                            inputs: vec![],
                            secrets: vec![],
                            exception_uses: vec![NewExceptionUse {
                                exception_id: id,
                                rule: "WD-AWS-001".into(),
                                resource: "aws_instance.a".into(),
                            }],
                            approval_id: None,
                            subject: None,
                            attempt: None,
                            cost_delta: None,
                            resources: Vec::new(),
                            follow_up: None,
                        },
                    )
                    .await;
                let now = m.now;
                let want = match pick {
                    None => Res::NotFound,
                    Some(i) => {
                        let e = &mut m.exceptions[i];
                        if e.state == ExceptionState::Granted && e.expires > now {
                            e.uses += 1;
                            m.audit += 2;
                            Res::Ok
                        } else {
                            Res::Conflict
                        }
                    }
                };
                (res(&r), want)
            }
            Op::Advance { minutes } => {
                clock.advance(Duration::minutes(minutes));
                m.now += minutes * 60_000;
                (Res::Ok, Res::Ok)
            }
            Op::Sweep => {
                let r = store.expire_due().await;
                let now = m.now;
                let mut want_a = vec![];
                for a in &mut m.approvals {
                    if a.state == ApprovalState::Pending && a.expires <= now {
                        a.state = ApprovalState::Expired;
                        want_a.push(a.id);
                    }
                }
                let mut want_e = vec![];
                for e in &mut m.exceptions {
                    if matches!(e.state, ExceptionState::Requested | ExceptionState::Granted)
                        && e.expires <= now
                    {
                        e.state = ExceptionState::Expired;
                        want_e.push(e.id);
                    }
                }
                m.audit += want_a.len() + want_e.len();
                if let Ok(x) = &r {
                    prop_assert_eq!(&x.approvals, &want_a, "step {}", step);
                    prop_assert_eq!(&x.exceptions, &want_e, "step {}", step);
                }
                (res(&r), Res::Ok)
            }
        };
        prop_assert_eq!(got, want, "step {}: {:?}", step, op);
    }

    // The whole state agrees with the model.
    let mut stored = store.approvals(&ApprovalFilter::default()).await.unwrap();
    stored.reverse();
    prop_assert_eq!(stored.len(), m.approvals.len());
    for (s, a) in stored.iter().zip(&m.approvals) {
        prop_assert_eq!((s.id, s.state), (a.id, a.state));
        prop_assert_eq!(s.approvers.len(), a.votes.len());
    }
    let active = store.active_exceptions("dev").await.unwrap();
    let stored = store.exceptions("dev").await.unwrap();
    prop_assert_eq!(stored.len(), m.exceptions.len());
    for (s, e) in stored.iter().zip(&m.exceptions) {
        prop_assert_eq!((s.id, s.state), (e.id, e.state));
        prop_assert_eq!(store.exception_uses(e.id).await.unwrap().len(), e.uses);
        let is_active = e.state == ExceptionState::Granted && e.expires > m.now;
        prop_assert_eq!(active.iter().any(|x| x.id == e.id), is_active);
    }
    let v = store.verify_audit().await.unwrap();
    prop_assert!(v.is_intact(), "{:?}", v);
    prop_assert_eq!(v.records, m.audit as u64, "audit records written");
    store.close().await;
    Ok(())
}

#[test]
fn approvals_and_exceptions_follow_the_model() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        rt.block_on(check(ops))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
