//! The store conformance suite: written once against `&dyn Store`, run by every
//! implementation (`sqlite.rs`, `postgres.rs`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use serde_json::json;
use time::{Duration, OffsetDateTime};
use warden_core::{ActorKind, Decision, Outcome};
use warden_store::audit::verify_jsonl;
use warden_store::{
    Actor, AgentQuery, ApprovalFilter, ApprovalState, AuditEvent, ExceptionState, NewApproval,
    NewDecision, NewException, NewExceptionUse, NewInput, NewSpace, NewToken, Role, SpaceSettings,
    Store, StoreError,
};

/// A clock the tests move by hand; stores under test read it.
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// Starts at 2026-03-01T12:00:00Z.
    pub fn new() -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(1_772_366_400_000)))
    }

    /// The clock function to give a store.
    pub fn clock(&self) -> warden_store::Clock {
        let ms = self.0.clone();
        Arc::new(move || {
            OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(ms.load(Ordering::SeqCst)) * 1_000_000,
            )
            .unwrap()
        })
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(
            i64::try_from(by.whole_milliseconds()).unwrap(),
            Ordering::SeqCst,
        );
    }

    /// Now.
    pub fn now(&self) -> OffsetDateTime {
        (self.clock())()
    }
}

pub fn actor(name: &str, kind: ActorKind, roles: &[Role]) -> Actor {
    Actor {
        principal: name.into(),
        kind: Some(kind),
        roles: roles.to_vec(),
    }
}

pub fn alice() -> Actor {
    actor(
        "alice",
        ActorKind::Human,
        &[Role::Requester, Role::Approver],
    )
}
pub fn bob() -> Actor {
    actor("bob", ActorKind::Human, &[Role::Approver])
}
pub fn carol() -> Actor {
    actor("carol", ActorKind::Human, &[Role::Approver])
}
pub fn agent() -> Actor {
    // An agent token that was (wrongly) given the approver role still cannot approve.
    actor(
        "claude-infra",
        ActorKind::Agent,
        &[Role::Requester, Role::Approver],
    )
}
pub fn viewer() -> Actor {
    actor("vic", ActorKind::Human, &[Role::Viewer])
}

pub fn space(name: &str, required: u32) -> NewSpace {
    NewSpace {
        name: name.into(),
        description: format!("{name} space"),
        settings: SpaceSettings {
            approvals_required: required,
            approver_roles: vec![Role::Approver],
            approval_ttl_secs: Some(3600),
            max_exception_days: 30,
        },
    }
}

pub fn decision(input_digest: &str, outcome: Outcome, note: &str) -> Decision {
    Decision {
        schema_version: 1,
        outcome,
        summary: warden_core::Summary::default(),
        findings: Vec::new(),
        waived: Vec::new(),
        errors: Vec::new(),
        inputs: Vec::new(),
        input_digest: input_digest.into(),
        policy_revision: "sha256:policy-1".into(),
        bundles: Vec::new(),
        evaluated_at: "2026-03-01T12:00:00Z".into(),
        duration_ms: 1.0,
        tool: warden_core::decision::Tool {
            name: "warden".into(),
            version: note.into(),
        },
        cost: None,
        risk: None,
    }
}

fn conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
}
fn forbidden<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(matches!(r, Err(StoreError::Forbidden(_))), "{r:?}");
}
fn invalid<T: std::fmt::Debug>(r: Result<T, StoreError>) {
    assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
}

async fn actions(store: &dyn Store) -> Vec<String> {
    store
        .audit_records(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| format!("{} {}", r.action, r.subject))
        .collect()
}

/// Runs every conformance check on a fresh, empty store whose clock is `clock`.
pub async fn run(store: &dyn Store, clock: &ManualClock) {
    spaces(store).await;
    tokens(store).await;
    decisions_and_inputs(store).await;
    approvals(store, clock).await;
    exceptions(store, clock).await;
    agent_records(store, clock).await;
    follow_ups(store).await;
    crate::drift::run(store, clock).await;
    environments(store, clock).await;
    audit_chain(store).await;
    dashboard(store, clock).await;
}

async fn spaces(store: &dyn Store) {
    let before = actions(store).await.len();
    let dev = store
        .put_space(&Actor::system(), &space("dev", 1))
        .await
        .unwrap();
    assert_eq!(dev.settings.approvals_required, 1);
    let mut prod = space("prod", 2);
    store.put_space(&Actor::system(), &prod).await.unwrap();
    prod.description = "production".into();
    let updated = store.put_space(&alice(), &prod).await.unwrap();
    assert_eq!(updated.description, "production");
    assert_eq!(store.space("prod").await.unwrap().unwrap(), updated);
    assert!(store.space("nope").await.unwrap().is_none());
    assert!(store.space_with_exceptions("nope").await.unwrap().is_none());
    assert_eq!(
        store.space_with_exceptions("prod").await.unwrap(),
        Some((updated.clone(), vec![]))
    );
    let names: Vec<String> = store
        .spaces()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["dev", "prod"]);
    invalid(store.put_space(&alice(), &space("bad name!", 1)).await);
    invalid(store.put_space(&alice(), &space("zero", 0)).await);
    let log = actions(store).await;
    assert_eq!(
        log[before..],
        [
            "space.created space/dev",
            "space.created space/prod",
            "space.updated space/prod"
        ]
    );
}

async fn tokens(store: &dyn Store) {
    let secret = "wdn_0123456789abcdef0123456789abcdef";
    let new = NewToken {
        name: "claude-infra".into(),
        principal: "claude-infra".into(),
        kind: ActorKind::Agent,
        roles: vec![Role::Requester],
        spaces: vec!["dev".into()],
    };
    let t = store
        .create_token(&Actor::system(), &new, secret)
        .await
        .unwrap();
    assert_eq!(
        (t.kind, t.roles.as_slice()),
        (ActorKind::Agent, &[Role::Requester][..])
    );
    assert!(t.allows_space("dev") && !t.allows_space("prod"));
    let found = store.authenticate(secret).await.unwrap().unwrap();
    assert_eq!(found, t);
    assert!(store
        .authenticate("wdn_wrong-secret-0000000000")
        .await
        .unwrap()
        .is_none());
    // The stored hash is not a secret that authenticates.
    assert!(store
        .authenticate(&warden_store::token_hash(secret))
        .await
        .unwrap()
        .is_none());
    conflict(
        store
            .create_token(&Actor::system(), &new, "wdn_another-secret-000000")
            .await,
    );
    invalid(
        store
            .create_token(
                &Actor::system(),
                &NewToken {
                    name: "short".into(),
                    ..new.clone()
                },
                "short",
            )
            .await,
    );
    let revoked = store.revoke_token(&Actor::system(), t.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(store.authenticate(secret).await.unwrap().is_none());
    conflict(store.revoke_token(&Actor::system(), t.id).await);
    assert!(matches!(
        store.revoke_token(&Actor::system(), 9999).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(store.tokens().await.unwrap().len(), 1);
    let log = actions(store).await;
    assert!(log.ends_with(&[
        format!("token.created token/{}", t.id),
        format!("token.revoked token/{}", t.id)
    ]));
    // No audit record carries the secret or its hash.
    for r in store.audit_records(0, 10_000).await.unwrap() {
        let text = r.detail.to_string();
        assert!(!text.contains(secret) && !text.contains(&warden_store::token_hash(secret)));
    }
}

async fn decisions_and_inputs(store: &dyn Store) {
    let secret = "Hunter2-prod-password".to_string();
    let content = format!(r#"{{"resource":{{"password":"{secret}"}}}}"#);
    let d = decision("sha256:input-a", Outcome::Warn, &secret);
    let rec = store
        .record_decision(
            &agent(),
            &NewDecision {
                decision: &d,
                text: None,
                space: Some("dev".into()),
                inputs: vec![NewInput {
                    digest: "sha256:input-a".into(),
                    kind: "terraform-plan".into(),
                    content: content.clone().into(),
                }],
                secrets: vec![secret.clone()],
                exception_uses: vec![],
                approval_id: None,
                subject: None,
                attempt: None,
                cost_delta: None,
                resources: Vec::new(),
                follow_up: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(rec.outcome, Outcome::Warn);
    assert_eq!(rec.actor_kind, "agent");
    assert!(
        !rec.document.to_string().contains(&secret),
        "decision document masked"
    );
    let input = store.input("sha256:input-a").await.unwrap().unwrap();
    assert!(!input.content.contains(&secret));
    assert!(input.content.contains(warden_store::mask::MASK));
    assert_eq!(input.masked_secrets, 1);

    // The same input again is stored once; the latest decision is found by digest + revision.
    let d2 = decision("sha256:input-a", Outcome::Warn, "second");
    let rec2 = store
        .record_decision(
            &agent(),
            &NewDecision {
                decision: &d2,
                text: Some(&serde_json::to_string(&d2).unwrap()),
                space: Some("dev".into()),
                inputs: vec![NewInput {
                    digest: "sha256:input-a".into(),
                    kind: "terraform-plan".into(),
                    content: "other text, ignored: first write wins".into(),
                }],
                secrets: vec![],
                exception_uses: vec![],
                approval_id: None,
                subject: None,
                attempt: None,
                cost_delta: None,
                resources: Vec::new(),
                follow_up: None,
            },
        )
        .await
        .unwrap();
    assert!(rec2.id > rec.id);
    assert_eq!(store.input("sha256:input-a").await.unwrap().unwrap(), input);
    let latest = store
        .latest_decision(Some("dev"), "sha256:input-a", "sha256:policy-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, rec2.id);
    assert!(store
        .latest_decision(Some("prod"), "sha256:input-a", "sha256:policy-1")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .latest_decision(Some("dev"), "sha256:input-a", "sha256:policy-2")
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.decision(rec.id).await.unwrap().unwrap(), rec);
    assert!(store.decision(9999).await.unwrap().is_none());

    let records = store.audit_records(0, 10_000).await.unwrap();
    let last = records.last().unwrap();
    assert_eq!(last.action, "decision.recorded");
    assert_eq!(last.actor, "claude-infra");
    assert_eq!(last.actor_kind, "agent");
    assert_eq!(last.detail["input_digest"], "sha256:input-a");
    assert_eq!(last.detail["policy_revision"], "sha256:policy-1");
    assert!(records
        .iter()
        .all(|r| !r.detail.to_string().contains(&secret)));
}

async fn approvals(store: &dyn Store, clock: &ManualClock) {
    let open = |digest: &str| NewApproval {
        space: "dev".into(),
        subject: "workspace/network".into(),
        change_digest: digest.into(),
        decision_id: None,
    };
    // An agent asks; the request is bound to the change digest.
    let a = store
        .open_approval(&agent(), &open("sha256:change-1"))
        .await
        .unwrap();
    assert_eq!(a.state, ApprovalState::Pending);
    assert_eq!((a.required, a.requested_by.as_str()), (1, "claude-infra"));
    assert!(a.expires_at.is_some());
    // Asking again for the same change gives the same request.
    let again = store
        .open_approval(&agent(), &open("sha256:change-1"))
        .await
        .unwrap();
    assert_eq!(again.id, a.id);

    forbidden(store.approve(&agent(), a.id, None).await);
    forbidden(store.approve(&viewer(), a.id, None).await);
    let self_approve = actor("claude-infra", ActorKind::Human, &[Role::Approver]);
    forbidden(store.approve(&self_approve, a.id, None).await);
    assert!(store
        .approved_change("dev", "sha256:change-1")
        .await
        .unwrap()
        .is_none());

    let approved = store
        .approve(&bob(), a.id, Some("looks fine"))
        .await
        .unwrap();
    assert_eq!(approved.state, ApprovalState::Approved);
    assert_eq!(approved.approvers, ["bob"]);
    assert_eq!(approved.resolved_by.as_deref(), Some("bob"));
    assert_eq!(
        store
            .approved_change("dev", "sha256:change-1")
            .await
            .unwrap()
            .map(|x| x.id),
        Some(a.id)
    );
    // Bound to the exact change: another digest, or another space, is not approved.
    assert!(store
        .approved_change("dev", "sha256:change-2")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .approved_change("prod", "sha256:change-1")
        .await
        .unwrap()
        .is_none());
    conflict(store.approve(&carol(), a.id, None).await);
    conflict(store.reject(&carol(), a.id, "too late").await);

    // A decision may cite the approval only for the same change in the same space.
    for (digest, sp, ok) in [
        ("sha256:change-1", "dev", true),
        ("sha256:change-2", "dev", false),
        ("sha256:change-1", "prod", false),
    ] {
        let d = decision(digest, Outcome::Allow, "approved");
        let r = store
            .record_decision(
                &agent(),
                &NewDecision {
                    decision: &d,
                    text: None,
                    space: Some(sp.into()),
                    inputs: vec![],
                    secrets: vec![],
                    exception_uses: vec![],
                    approval_id: Some(a.id),
                    subject: None,
                    attempt: None,
                    cost_delta: None,
                    resources: Vec::new(),
                    follow_up: None,
                },
            )
            .await;
        if ok {
            assert_eq!(r.unwrap().approval_id, Some(a.id));
        } else {
            conflict(r);
        }
    }

    // Two approvers in prod; the same approver twice does not count twice.
    let p = store
        .open_approval(
            &alice(),
            &NewApproval {
                space: "prod".into(),
                ..open("sha256:change-9")
            },
        )
        .await
        .unwrap();
    assert_eq!(p.required, 2);
    forbidden(store.approve(&alice(), p.id, None).await);
    let one = store.approve(&bob(), p.id, None).await.unwrap();
    assert_eq!(one.state, ApprovalState::Pending);
    conflict(store.approve(&bob(), p.id, None).await);
    let two = store.approve(&carol(), p.id, None).await.unwrap();
    assert_eq!(two.state, ApprovalState::Approved);
    assert_eq!(two.approvers, ["bob", "carol"]);

    // A re-planned change supersedes the pending request for the same subject.
    let r1 = store
        .open_approval(&alice(), &open("sha256:change-3"))
        .await
        .unwrap();
    let r2 = store
        .open_approval(&alice(), &open("sha256:change-4"))
        .await
        .unwrap();
    assert_ne!(r1.id, r2.id);
    let r1 = store.approval(r1.id).await.unwrap().unwrap();
    assert_eq!(r1.state, ApprovalState::Superseded);
    conflict(store.approve(&bob(), r1.id, None).await);

    // Rejection needs a reason and is final.
    invalid(store.reject(&bob(), r2.id, "  ").await);
    forbidden(store.reject(&agent(), r2.id, "no").await);
    let rej = store
        .reject(&bob(), r2.id, "opens port 22 to the world")
        .await
        .unwrap();
    assert_eq!(rej.state, ApprovalState::Rejected);
    assert_eq!(rej.reason.as_deref(), Some("opens port 22 to the world"));
    conflict(store.approve(&carol(), r2.id, None).await);

    // Expiry: a pending request past its time cannot be approved and reads expired.
    let e = store
        .open_approval(&alice(), &open("sha256:change-5"))
        .await
        .unwrap();
    let s = store
        .open_approval(
            &alice(),
            &NewApproval {
                subject: "other".into(),
                ..open("sha256:change-6")
            },
        )
        .await
        .unwrap();
    clock.advance(Duration::hours(2));
    conflict(store.approve(&bob(), e.id, None).await);
    assert_eq!(
        store.approval(e.id).await.unwrap().unwrap().state,
        ApprovalState::Expired
    );
    let swept = store.expire_due().await.unwrap();
    assert_eq!(swept.approvals, [s.id]);
    assert_eq!(
        store.approval(s.id).await.unwrap().unwrap().state,
        ApprovalState::Expired
    );
    assert!(store.expire_due().await.unwrap().approvals.is_empty());

    let pending = store
        .approvals(&ApprovalFilter {
            space: Some("dev".into()),
            state: Some(ApprovalState::Pending),
        })
        .await
        .unwrap();
    assert!(pending.is_empty());
    let all_dev = store
        .approvals(&ApprovalFilter {
            space: Some("dev".into()),
            state: None,
        })
        .await
        .unwrap();
    assert_eq!(all_dev.len(), 5);
    assert!(
        all_dev.windows(2).all(|w| w[0].id > w[1].id),
        "newest first"
    );
    assert!(matches!(
        store.approve(&bob(), 9999, None).await,
        Err(StoreError::NotFound { .. })
    ));

    let log = actions(store).await;
    for expected in [
        format!("approval.opened approval/{}", a.id),
        format!("approval.vote approval/{}", a.id),
        format!("approval.approved approval/{}", a.id),
        format!("approval.superseded approval/{}", r1.id),
        format!("approval.rejected approval/{}", r2.id),
        format!("approval.expired approval/{}", e.id),
        format!("approval.expired approval/{}", s.id),
    ] {
        assert_eq!(
            log.iter().filter(|l| **l == expected).count(),
            1,
            "{expected} once in {log:#?}"
        );
    }
    // Refused attempts wrote nothing: exactly one opened record for the repeated request.
    let records = store.audit_records(0, 10_000).await.unwrap();
    let vote = records
        .iter()
        .find(|r| r.action == "approval.vote" && r.subject == format!("approval/{}", a.id))
        .unwrap();
    assert_eq!(
        (vote.actor.as_str(), vote.actor_kind.as_str()),
        ("bob", "human")
    );
}

async fn exceptions(store: &dyn Store, clock: &ManualClock) {
    let now = clock.now();
    let new = NewException {
        space: "dev".into(),
        rule: "WD-AWS-001".into(),
        resource_glob: "aws_security_group.bastion*".into(),
        justification: "bastion needs ssh until the VPN lands".into(),
        ticket: Some("SEC-42".into()),
        expires_at: now + Duration::days(7),
    };
    invalid(
        store
            .request_exception(
                &agent(),
                &NewException {
                    justification: " ".into(),
                    ..new.clone()
                },
            )
            .await,
    );
    invalid(
        store
            .request_exception(
                &agent(),
                &NewException {
                    expires_at: now - Duration::days(1),
                    ..new.clone()
                },
            )
            .await,
    );
    invalid(
        store
            .request_exception(
                &agent(),
                &NewException {
                    expires_at: now + Duration::days(31),
                    ..new.clone()
                },
            )
            .await,
    );
    assert!(matches!(
        store
            .request_exception(
                &agent(),
                &NewException {
                    space: "nope".into(),
                    ..new.clone()
                }
            )
            .await,
        Err(StoreError::NotFound { kind: "space", .. })
    ));

    // Agents may request; nobody may grant their own; agents never grant.
    let x = store.request_exception(&agent(), &new).await.unwrap();
    assert_eq!(x.state, ExceptionState::Requested);
    assert!(store.active_exceptions("dev").await.unwrap().is_empty());
    forbidden(store.grant_exception(&agent(), x.id).await);
    forbidden(store.grant_exception(&viewer(), x.id).await);
    let mine = store.request_exception(&bob(), &new).await.unwrap();
    forbidden(store.grant_exception(&bob(), mine.id).await);
    let refused = store
        .reject_exception(&carol(), mine.id, "use the VPN")
        .await
        .unwrap();
    assert_eq!(refused.state, ExceptionState::Rejected);
    conflict(store.grant_exception(&carol(), mine.id).await);

    let granted = store.grant_exception(&bob(), x.id).await.unwrap();
    assert_eq!(granted.state, ExceptionState::Granted);
    assert_eq!(granted.decided_by.as_deref(), Some("bob"));
    assert!(granted.is_active(clock.now()));
    assert_eq!(
        store.active_exceptions("dev").await.unwrap(),
        std::slice::from_ref(&granted)
    );
    assert!(store.active_exceptions("prod").await.unwrap().is_empty());
    conflict(store.grant_exception(&carol(), x.id).await);

    // Every use is recorded with the decision, in the same transaction.
    let d = decision("sha256:input-x", Outcome::Allow, "x");
    let use_it = |space: &str| NewDecision {
        decision: &d,
        text: None,
        space: Some(space.into()),
        inputs: vec![],
        secrets: vec![],
        exception_uses: vec![NewExceptionUse {
            exception_id: x.id,
            rule: "WD-AWS-001".into(),
            resource: "aws_security_group.bastion".into(),
        }],
        approval_id: None,
        subject: None,
        attempt: None,
        cost_delta: None,
        resources: Vec::new(),
        follow_up: None,
    };
    let rec = store
        .record_decision(&agent(), &use_it("dev"))
        .await
        .unwrap();
    let uses = store.exception_uses(x.id).await.unwrap();
    assert_eq!(uses.len(), 1);
    assert_eq!(
        (uses[0].decision_id, uses[0].resource.as_str()),
        (rec.id, "aws_security_group.bastion")
    );
    // An exception of another space cannot be used, and the failed decision writes nothing.
    let before = store.audit_records(0, 10_000).await.unwrap().len();
    conflict(store.record_decision(&agent(), &use_it("prod")).await);

    // Expiry applies at once, before any sweep: not active, and a use is refused.
    clock.advance(Duration::days(8));
    assert!(store.active_exceptions("dev").await.unwrap().is_empty());
    assert!(!store
        .exception(x.id)
        .await
        .unwrap()
        .unwrap()
        .is_active(clock.now()));
    conflict(store.record_decision(&agent(), &use_it("dev")).await);
    assert_eq!(store.audit_records(0, 10_000).await.unwrap().len(), before);
    assert_eq!(store.exception_uses(x.id).await.unwrap().len(), 1);
    let swept = store.expire_due().await.unwrap();
    assert!(swept.exceptions.contains(&x.id));
    assert_eq!(
        store.exception(x.id).await.unwrap().unwrap().state,
        ExceptionState::Expired
    );

    // Revocation.
    let y = store
        .request_exception(
            &alice(),
            &NewException {
                expires_at: clock.now() + Duration::days(1),
                ..new.clone()
            },
        )
        .await
        .unwrap();
    store.grant_exception(&bob(), y.id).await.unwrap();
    forbidden(store.revoke_exception(&agent(), y.id, "no").await);
    let revoked = store
        .revoke_exception(&alice(), y.id, "VPN is live")
        .await
        .unwrap();
    assert_eq!(revoked.state, ExceptionState::Revoked);
    assert!(store.active_exceptions("dev").await.unwrap().is_empty());
    assert_eq!(store.exceptions("dev").await.unwrap().len(), 3);
    // What an evaluation reads: the space and every exception of it, in id order.
    let (dev, with) = store.space_with_exceptions("dev").await.unwrap().unwrap();
    assert_eq!(dev, store.space("dev").await.unwrap().unwrap());
    assert_eq!(with, store.exceptions("dev").await.unwrap());
    assert!(with.windows(2).all(|w| w[0].id < w[1].id));

    let log = actions(store).await;
    for expected in [
        format!("exception.requested exception/{}", x.id),
        format!("exception.granted exception/{}", x.id),
        format!("exception.used exception/{}", x.id),
        format!("exception.expired exception/{}", x.id),
        format!("exception.rejected exception/{}", mine.id),
        format!("exception.revoked exception/{}", y.id),
    ] {
        assert_eq!(
            log.iter().filter(|l| **l == expected).count(),
            1,
            "{expected} once"
        );
    }
}

/// Records a decision by `who` on `subject` in space `qa`.
async fn attempt(
    store: &dyn Store,
    who: &Actor,
    subject: &str,
    outcome: Outcome,
    cost_delta: Option<f64>,
) -> i64 {
    let digest = format!("sha256:{subject}-{}", store.now().unix_timestamp_nanos());
    let d = decision(&digest, outcome, "attempt");
    store
        .record_decision(
            who,
            &NewDecision {
                decision: &d,
                text: None,
                space: Some("qa".into()),
                inputs: vec![],
                secrets: vec![],
                exception_uses: vec![],
                approval_id: None,
                subject: Some(subject.into()),
                attempt: Some(1),
                cost_delta,
                resources: Vec::new(),
                follow_up: None,
            },
        )
        .await
        .unwrap()
        .id
}

async fn agent_records(store: &dyn Store, clock: &ManualClock) {
    let bot = actor("bot", ActorKind::Agent, &[Role::Requester]);
    let other = actor("other-bot", ActorKind::Agent, &[Role::Requester]);
    let month_start = clock.now();
    let old = attempt(store, &bot, "net", Outcome::Deny, None).await;
    clock.advance(Duration::hours(2));
    attempt(store, &bot, "db", Outcome::Allow, Some(120.5)).await;
    attempt(store, &bot, "db", Outcome::RequireApproval, Some(1000.0)).await;
    let d1 = attempt(store, &bot, "net", Outcome::Deny, Some(-5.0)).await;
    clock.advance(Duration::minutes(1));
    let d2 = attempt(store, &bot, "net", Outcome::Warn, Some(30.0)).await;
    attempt(store, &other, "net", Outcome::Deny, Some(99.0)).await;
    let now = clock.now();
    let query = AgentQuery {
        principal: "bot",
        space: "qa",
        subject: "net",
        attempts_since: now - Duration::hours(1),
        attempts_limit: 10,
        hour_since: now - Duration::hours(1),
        month_since: month_start,
        recent_since: month_start,
    };
    let r = store.agent_record(&query).await.unwrap();
    // Newest first, this subject and actor only, inside the window.
    let ids: Vec<i64> = r.attempts.iter().map(|a| a.id).collect();
    assert_eq!(ids, [d2, d1]);
    assert_eq!(r.attempts[0].outcome, Outcome::Warn);
    assert_eq!(r.attempts[1].outcome, Outcome::Deny);
    // Every subject counts towards the hour; the decision two hours back does not.
    assert_eq!(r.changes_last_hour, 4);
    assert!(r.oldest_in_hour.is_some_and(|t| t < now));
    // Allowed and warned deltas of this month only: 120.5 + 30 (the held 1000 and the denied
    // -5 are not committed).
    assert!(
        (r.cost_this_month - 150.5).abs() < 1e-9,
        "{}",
        r.cost_this_month
    );
    let wider = store
        .agent_record(&AgentQuery {
            attempts_since: month_start,
            attempts_limit: 2,
            ..query
        })
        .await
        .unwrap();
    assert_eq!(wider.attempts.len(), 2, "the limit holds");
    let all = store
        .agent_record(&AgentQuery {
            attempts_since: month_start,
            ..query
        })
        .await
        .unwrap();
    assert_eq!(all.attempts.last().map(|a| a.id), Some(old));
    let nobody = store
        .agent_record(&AgentQuery {
            principal: "nobody",
            ..query
        })
        .await
        .unwrap();
    assert!(nobody.attempts.is_empty());
    assert_eq!(nobody.changes_last_hour, 0);
    assert_eq!(nobody.oldest_in_hour, None);
    assert!(nobody.cost_this_month.abs() < f64::EPSILON);
}

/// A decision's follow-up record lands right after `decision.recorded`, bound to the decision.
async fn follow_ups(store: &dyn Store) {
    let d = decision("sha256:reviewed", Outcome::Deny, "follow-up");
    let id = store
        .record_decision(
            &agent(),
            &NewDecision {
                decision: &d,
                text: None,
                space: Some("dev".into()),
                inputs: vec![],
                secrets: vec![],
                exception_uses: vec![],
                approval_id: None,
                subject: None,
                attempt: None,
                cost_delta: None,
                resources: Vec::new(),
                follow_up: Some(AuditEvent::new(
                    "admission.reviewed",
                    "set by the store",
                    Some("dev"),
                    json!({ "uid": "abc", "allowed": false }),
                )),
            },
        )
        .await
        .unwrap()
        .id;
    let log = store.audit_records(0, 100_000).await.unwrap();
    let [.., recorded, reviewed] = log.as_slice() else {
        unreachable!("at least two records")
    };
    assert_eq!(recorded.action, "decision.recorded");
    assert_eq!(recorded.subject, format!("decision/{id}"));
    assert_eq!(reviewed.action, "admission.reviewed");
    assert_eq!(reviewed.subject, format!("decision/{id}"));
    assert_eq!(reviewed.detail["decision_id"], json!(id));
    assert_eq!(reviewed.detail["uid"], "abc");
    assert_eq!(reviewed.seq, recorded.seq + 1);
    assert!(store.verify_audit().await.unwrap().is_intact());
}

async fn environments(store: &dyn Store, clock: &ManualClock) {
    use warden_store::{
        EnvironmentFilter, EnvironmentState as S, EnvironmentUpdate, NewBlueprint, NewEnvironment,
    };
    store.put_space(&alice(), &space("envs", 1)).await.unwrap();
    let publish = |doc: &str| NewBlueprint {
        name: "sandbox".into(),
        document: doc.into(),
    };
    let v1 = store
        .publish_blueprint(&alice(), &publish("name: sandbox\n"))
        .await
        .unwrap();
    assert_eq!((v1.version, v1.published_by.as_str()), (1, "alice"));
    // The same document again is the same version; a changed one is the next.
    let again = store
        .publish_blueprint(&bob(), &publish("name: sandbox\n"))
        .await
        .unwrap();
    assert_eq!(again, v1);
    let v2 = store
        .publish_blueprint(&bob(), &publish("name: sandbox\n# v2\n"))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    invalid(
        store
            .publish_blueprint(
                &bob(),
                &NewBlueprint {
                    name: "bad name".into(),
                    document: "x".into(),
                },
            )
            .await,
    );
    assert_eq!(
        store.blueprint("sandbox", None).await.unwrap(),
        Some(v2.clone())
    );
    assert_eq!(store.blueprint("sandbox", Some(1)).await.unwrap(), Some(v1));
    assert_eq!(store.blueprint("nope", None).await.unwrap(), None);
    assert_eq!(store.blueprints().await.unwrap(), vec![v2]);

    let ends = clock.now() + Duration::hours(8);
    let env = store
        .create_environment(
            &agent(),
            &NewEnvironment {
                blueprint: "sandbox".into(),
                version: 2,
                space: "envs".into(),
                inputs: json!({"region": "eu-west-1"}),
                state: S::Launching,
                ends_at: ends,
                monthly_cost: Some(12.5),
                detail: json!({"duration": "8h"}),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            env.owner.as_str(),
            env.owner_kind.as_str(),
            env.state,
            env.ends_at
        ),
        ("claude-infra", "agent", S::Launching, ends)
    );
    assert_eq!(env.monthly_cost, Some(12.5));
    clock.advance(Duration::minutes(1));
    let active = store
        .update_environment(
            &Actor::system(),
            env.id,
            &EnvironmentUpdate {
                event: "launched".into(),
                from: vec![S::Launching],
                state: Some(S::Active),
                detail: json!({"decision_id": 7}),
                outputs: Some(json!({"url": "https://x"})),
                decision_id: Some(7),
                ..EnvironmentUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(active.state, S::Active);
    assert_eq!(active.outputs, Some(json!({"url": "https://x"})));
    assert_eq!(active.decision_id, Some(7));
    assert!(active.updated_at > env.updated_at);
    // From a state the update does not allow: a conflict, nothing written.
    conflict(
        store
            .update_environment(
                &Actor::system(),
                env.id,
                &EnvironmentUpdate {
                    event: "launched".into(),
                    from: vec![S::Launching],
                    state: Some(S::Active),
                    detail: json!({}),
                    ..EnvironmentUpdate::default()
                },
            )
            .await,
    );
    let flagged = store
        .update_environment(
            &Actor::system(),
            env.id,
            &EnvironmentUpdate {
                event: "teardown_failed".into(),
                state: Some(S::TeardownFailed),
                detail: json!({"attempt": 3}),
                teardown_attempts: Some(3),
                flagged_reason: Some(Some("destroy failed".into())),
                approval_id: Some(None),
                ..EnvironmentUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(flagged.teardown_attempts, 3);
    assert_eq!(flagged.flagged_reason.as_deref(), Some("destroy failed"));
    assert_eq!(store.environment(env.id).await.unwrap(), Some(flagged));
    assert_eq!(store.environment(env.id + 100).await.unwrap(), None);
    assert!(matches!(
        store
            .update_environment(
                &Actor::system(),
                env.id + 100,
                &EnvironmentUpdate {
                    event: "x".into(),
                    detail: json!({}),
                    ..EnvironmentUpdate::default()
                },
            )
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let listed = |space: Option<&str>, states: Vec<S>| EnvironmentFilter {
        space: space.map(str::to_owned),
        states,
    };
    assert_eq!(
        store
            .environments(&listed(None, vec![]))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .environments(&listed(Some("envs"), vec![S::Active, S::TeardownFailed]))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .environments(&listed(Some("envs"), vec![S::Active]))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .environments(&listed(Some("other"), vec![]))
        .await
        .unwrap()
        .is_empty());
    let events = store.environment_events(env.id).await.unwrap();
    let kinds: Vec<(&str, Option<S>, S)> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.from_state, e.to_state))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("requested", None, S::Launching),
            ("launched", Some(S::Launching), S::Active),
            ("teardown_failed", Some(S::Active), S::TeardownFailed),
        ]
    );
    let audited = actions(store).await;
    let subject = format!("environment/{}", env.id);
    for action in [
        "environment.requested",
        "environment.launched",
        "environment.teardown_failed",
    ] {
        assert!(
            audited.contains(&format!("{action} {subject}")),
            "{action}: {audited:?}"
        );
    }
    assert!(audited.contains(&"blueprint.published blueprint/sandbox".to_owned()));
}

async fn audit_chain(store: &dyn Store) {
    let rec = store
        .append_audit(
            &alice(),
            &AuditEvent::new(
                "policy.reloaded",
                "policy/dev",
                Some("dev"),
                json!({"revision": "sha256:policy-2"}),
            ),
        )
        .await
        .unwrap();
    invalid(
        store
            .append_audit(
                &alice(),
                &AuditEvent::new("x", "y", None, json!({"f": 0.5})),
            )
            .await,
    );
    invalid(
        store
            .append_audit(&alice(), &AuditEvent::new("x", "y", None, json!([1])))
            .await,
    );

    let records = store.audit_records(0, 10_000).await.unwrap();
    assert_eq!(records.last().unwrap(), &rec);
    assert_eq!(
        store.audit_head().await.unwrap(),
        (rec.seq, rec.hash.clone()),
        "the head names the last record"
    );
    assert!(records
        .windows(2)
        .all(|w| w[1].seq == w[0].seq + 1 && w[1].prev_hash == w[0].hash));
    assert_eq!(records[0].seq, 1);
    assert_eq!(records[0].prev_hash, warden_store::audit::GENESIS_HASH);
    let page = store.audit_records(3, 2).await.unwrap();
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 5]);

    let v = store.verify_audit().await.unwrap();
    assert!(v.is_intact(), "{v:?}");
    assert_eq!(v.records, records.len() as u64);
    assert_eq!(v.last, Some((rec.seq, rec.hash.clone())));

    let mut out = Vec::new();
    let n = store.export_audit(None, &mut out).await.unwrap();
    assert_eq!(n, records.len() as u64);
    let checked = verify_jsonl(&mut out.as_slice()).unwrap();
    assert!(checked.is_intact() && checked.records == n);
    // A partial export (since a time after everything) is empty; since the start is whole.
    let mut none = Vec::new();
    let since = time::OffsetDateTime::now_utc() + Duration::days(3650);
    assert_eq!(store.export_audit(Some(since), &mut none).await.unwrap(), 0);
    let text = String::from_utf8(out).unwrap();
    let tampered = text.replacen("\"actor\":\"bob\"", "\"actor\":\"eve\"", 1);
    let broken = verify_jsonl(&mut tampered.as_bytes())
        .unwrap()
        .broken
        .unwrap();
    let first_bob = records.iter().find(|r| r.actor == "bob").unwrap();
    assert_eq!(broken.seq, first_bob.seq);
}

fn finding(rule: &str, resource: &str) -> warden_core::Finding {
    warden_core::Finding {
        rule_id: rule.into(),
        rule_name: rule.to_lowercase(),
        title: format!("{rule} title"),
        severity: warden_core::Severity::High,
        enforcement: warden_core::Enforcement::Deny,
        resource: resource.into(),
        resource_kind: "aws_s3_bucket".into(),
        action: warden_core::Action::Create,
        attribute: None,
        location: warden_core::Location::default(),
        message: "bad".into(),
        why: "because".into(),
        fix: None,
        unknown: false,
        aliases: vec![],
        help_uri: None,
        note: None,
    }
}

/// Records a decision in space `space` by `who` with these rules' findings.
async fn dash_decision(
    store: &dyn Store,
    who: &Actor,
    space: &str,
    subject: &str,
    outcome: Outcome,
    rules: &[&str],
) -> i64 {
    let mut d = decision(
        &format!("sha256:ui-{subject}-{}", store.now().unix_timestamp_nanos()),
        outcome,
        "ui",
    );
    d.findings = rules
        .iter()
        .enumerate()
        .map(|(i, r)| finding(r, &format!("aws_s3_bucket.b{i}")))
        .collect();
    store
        .record_decision(
            who,
            &NewDecision {
                decision: &d,
                text: None,
                space: Some(space.into()),
                inputs: vec![],
                secrets: vec![],
                exception_uses: vec![],
                approval_id: None,
                subject: Some(subject.into()),
                attempt: Some(1),
                cost_delta: Some(12.5),
                follow_up: None,
                resources: Vec::new(),
            },
        )
        .await
        .unwrap()
        .id
}

/// The dashboard's reads (filtered, keyset-paged list; the overview's aggregates; audit
/// records by subject) and its sessions.
async fn dashboard(store: &dyn Store, clock: &ManualClock) {
    use warden_store::{DecisionQuery, StatsQuery};
    clock.advance(Duration::days(60));
    let start = clock.now();
    let bot = actor("ui-bot", ActorKind::Agent, &[Role::Requester]);
    let a1 = dash_decision(store, &bot, "ui", "net", Outcome::Deny, &["WD-A", "WD-B"]).await;
    let a2 = dash_decision(store, &bot, "ui", "net", Outcome::Allow, &[]).await;
    let a3 = dash_decision(store, &bot, "ui", "db", Outcome::Deny, &["WD-A"]).await;
    clock.advance(Duration::hours(2));
    let h1 = dash_decision(
        store,
        &alice(),
        "ui",
        "web",
        Outcome::Warn,
        &["WD-A", "WD-A"],
    )
    .await;
    let o1 = dash_decision(store, &alice(), "ui-other", "web", Outcome::Deny, &["WD-C"]).await;

    let all = |q: DecisionQuery| async move { store.decisions(&q).await.unwrap() };
    let ids = |v: Vec<warden_store::DecisionSummary>| v.iter().map(|d| d.id).collect::<Vec<_>>();
    let since = DecisionQuery {
        since: Some(start),
        limit: 100,
        ..DecisionQuery::default()
    };
    assert_eq!(
        ids(all(since.clone()).await),
        [o1, h1, a3, a2, a1],
        "newest first"
    );
    let page = all(DecisionQuery {
        limit: 2,
        ..since.clone()
    })
    .await;
    assert_eq!(ids(page.clone()), [o1, h1]);
    let next = all(DecisionQuery {
        limit: 2,
        before_id: page.last().map(|d| d.id),
        ..since.clone()
    })
    .await;
    assert_eq!(
        ids(next),
        [a3, a2],
        "the next page starts below the last id"
    );
    let first = &page[1];
    assert_eq!(first.actor, "alice");
    assert_eq!(first.actor_kind, "human");
    assert_eq!(first.outcome, Outcome::Warn);
    assert_eq!(first.subject.as_deref(), Some("web"));
    assert_eq!(first.cost_delta, Some(12.5));
    let denied = all(DecisionQuery {
        outcome: Some(Outcome::Deny),
        ..since.clone()
    })
    .await;
    assert_eq!(ids(denied), [o1, a3, a1]);
    let agents = all(DecisionQuery {
        actor_kind: Some("agent".into()),
        space: Some("ui".into()),
        ..since.clone()
    })
    .await;
    assert_eq!(ids(agents), [a3, a2, a1]);
    let by_alice = all(DecisionQuery {
        actor: Some("alice".into()),
        ..since.clone()
    })
    .await;
    assert_eq!(ids(by_alice), [o1, h1]);
    let early = all(DecisionQuery {
        until: Some(start + Duration::hours(1)),
        ..since.clone()
    })
    .await;
    assert_eq!(ids(early), [a3, a2, a1]);
    let scoped = all(DecisionQuery {
        within: Some(vec!["ui-other".into(), "nowhere".into()]),
        ..since.clone()
    })
    .await;
    assert_eq!(ids(scoped), [o1], "a token's spaces bound the list");
    let none = all(DecisionQuery {
        within: Some(vec![]),
        ..since.clone()
    })
    .await;
    assert!(none.is_empty());
    let star = all(DecisionQuery {
        within: Some(vec!["*".into()]),
        ..since.clone()
    })
    .await;
    assert_eq!(star.len(), 5);

    let stats = store
        .decision_stats(&StatsQuery {
            within: Some(vec!["ui".into()]),
            since: start,
            bucket_secs: 3600,
            top_rules: 10,
        })
        .await
        .unwrap();
    assert_eq!(stats.decisions, 4);
    let buckets: Vec<(i64, &str, u64)> = stats
        .buckets
        .iter()
        .map(|b| {
            (
                b.start.unix_timestamp() / 3600 - start.unix_timestamp() / 3600,
                b.outcome.as_str(),
                b.count,
            )
        })
        .collect();
    // Buckets start on the hour (of the Unix epoch).
    assert!(stats
        .buckets
        .iter()
        .all(|b| b.start.unix_timestamp() % 3600 == 0));
    assert_eq!(buckets, [(0, "allow", 1), (0, "deny", 2), (2, "warn", 1)]);
    let rules: Vec<(&str, u64, u64)> = stats
        .top_rules
        .iter()
        .map(|r| (r.rule.as_str(), r.findings, r.decisions))
        .collect();
    assert_eq!(
        rules,
        [("WD-A", 4, 3), ("WD-B", 1, 1)],
        "WD-C is another space's"
    );
    // The bot was denied on two subjects and allowed on one of them later.
    assert_eq!(stats.agent_denied_subjects, 2);
    assert_eq!(stats.agent_corrected_subjects, 1);
    let later = store
        .decision_stats(&StatsQuery {
            within: None,
            since: start + Duration::hours(1),
            bucket_secs: 86_400,
            top_rules: 1,
        })
        .await
        .unwrap();
    assert_eq!(later.decisions, 2);
    assert_eq!(later.top_rules.len(), 1);
    assert_eq!(later.agent_denied_subjects, 0);
    invalid(
        store
            .decision_stats(&StatsQuery {
                within: None,
                since: start,
                bucket_secs: 1,
                top_rules: 1,
            })
            .await,
    );

    let about = store.audit_for(&format!("decision/{a1}")).await.unwrap();
    assert_eq!(about.len(), 1);
    assert_eq!(about[0].action, "decision.recorded");
    assert!(store.audit_for("decision/0").await.unwrap().is_empty());

    // Sessions: stored by hash, bound to an unrevoked token, ending at expiry or logout.
    let (token, _) = (
        store
            .create_token(
                &Actor::system(),
                &NewToken {
                    name: "ui-viewer".into(),
                    principal: "uma".into(),
                    kind: ActorKind::Human,
                    roles: vec![Role::Viewer],
                    spaces: vec!["ui".into()],
                },
                "ui-viewer-secret-0123456789",
            )
            .await
            .unwrap(),
        (),
    );
    let hash = warden_store::token_hash("session-secret-1");
    invalid(
        store
            .create_session(&token, "plain", start + Duration::hours(1))
            .await,
    );
    invalid(store.create_session(&token, &hash, start).await);
    let s = store
        .create_session(&token, &hash, clock.now() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(s.token, token);
    assert_eq!(store.session(&hash).await.unwrap(), Some(s.clone()));
    assert!(store
        .session(&warden_store::token_hash("other"))
        .await
        .unwrap()
        .is_none());
    clock.advance(Duration::hours(2));
    assert!(store.session(&hash).await.unwrap().is_none(), "expired");
    let hash2 = warden_store::token_hash("session-secret-2");
    store
        .create_session(&token, &hash2, clock.now() + Duration::hours(1))
        .await
        .unwrap();
    assert!(store.session(&hash2).await.unwrap().is_some());
    assert!(store.end_session(&hash2).await.unwrap());
    assert!(store.session(&hash2).await.unwrap().is_none(), "logged out");
    assert!(!store.end_session(&hash2).await.unwrap());
    let hash3 = warden_store::token_hash("session-secret-3");
    store
        .create_session(&token, &hash3, clock.now() + Duration::hours(1))
        .await
        .unwrap();
    store
        .revoke_token(&Actor::system(), token.id)
        .await
        .unwrap();
    assert!(
        store.session(&hash3).await.unwrap().is_none(),
        "a revoked token's sessions stop at once"
    );
    let acts = actions(store).await;
    let tail: Vec<&str> = acts.iter().rev().take(5).map(String::as_str).collect();
    let subject = format!("token/{}", token.id);
    assert_eq!(
        tail,
        [
            format!("token.revoked {subject}"),
            format!("session.opened {subject}"),
            format!("session.closed {subject}"),
            format!("session.opened {subject}"),
            format!("session.opened {subject}"),
        ]
    );
    assert!(store.verify_audit().await.unwrap().is_intact());
}
