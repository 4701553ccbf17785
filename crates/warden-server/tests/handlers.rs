//! The API through `router(state).oneshot(...)`: no socket, a real SQLite store.

mod common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use common::{call, token};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;
use warden_core::ActorKind;
use warden_policy::{Policies, RegoOptions};
use warden_server::{ops, router, router_with_limit, AppState};
use warden_store::{OpenOptions, Role, SqliteStore, Store};

const COMPLIANT: &str = include_str!("../../../examples/terraform/compliant/plan.json");
const INSECURE: &str = include_str!("../../../examples/terraform/insecure-web-app/plan.json");
/// The compliant plan lacks a `Team` tag: with this policy it needs approval.
const NEEDS_TEAM: &str =
    "[rules.required-tags-missing]\nenforcement = \"require_approval\"\ntags = { Team = '.+' }\n";

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    state: AppState,
    alice: String,
    bob: String,
    agent: String,
    viewer: String,
    other_space: String,
}

async fn fixture(policy_toml: &str) -> Fixture {
    fixture_with_clock(policy_toml, Arc::new(AtomicI64::new(0))).await
}

/// A fixture whose store clock runs `skew` seconds ahead of the real one.
async fn fixture_with_clock(policy_toml: &str, skew: Arc<AtomicI64>) -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let options = OpenOptions {
        clock: common::skewed_clock(skew),
        ..OpenOptions::default()
    };
    let store = common::sqlite(dir.path(), options).await;
    let policies = common::policies(policy_toml);
    let s: &dyn Store = store.as_ref();
    let alice = token(s, "alice", ActorKind::Human, &[Role::Requester], "dev").await;
    let bob = token(
        s,
        "bob",
        ActorKind::Human,
        &[Role::Approver, Role::Requester],
        "dev",
    )
    .await;
    // An agent holding the approver role still may not approve.
    let agent = token(
        s,
        "claude-infra",
        ActorKind::Agent,
        &[Role::Requester, Role::Approver],
        "dev",
    )
    .await;
    let viewer = token(s, "val", ActorKind::Human, &[Role::Viewer], "dev").await;
    let other_space = token(
        s,
        "olga",
        ActorKind::Human,
        &[Role::Approver, Role::Requester],
        "prod",
    )
    .await;
    let state = AppState::with_policies(policies, store.clone());
    Fixture {
        _dir: dir,
        store,
        state,
        alice,
        bob,
        agent,
        viewer,
        other_space,
    }
}

fn error_of(v: &Value) -> &str {
    v["error"]
        .as_str()
        .unwrap_or_else(|| unreachable!("no error field: {v}"))
}

#[tokio::test]
async fn health_and_readiness_need_no_token() {
    let f = fixture("").await;
    let (s, v) = call(router(f.state.clone()), "GET", "/healthz", None, "").await;
    assert_eq!((s, v), (StatusCode::OK, json!({"status": "ok"})));
    let (s, v) = call(router(f.state.clone()), "GET", "/readyz", None, "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["policy_revision"],
        json!(f.state.policies.current().revision())
    );
}

#[tokio::test]
async fn missing_or_invalid_tokens_are_401_and_nothing_is_recorded() {
    let f = fixture("").await;
    let (s, v) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        None,
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(error_of(&v).contains("Authorization"), "{v}");
    let (s, v) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some("wdn_nope"),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(error_of(&v).contains("unknown or revoked"), "{v}");
    let (s, _) = call(router(f.state.clone()), "GET", "/v1/approvals/1", None, "").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(
        router(f.state.clone()),
        "POST",
        "/v1/approvals/1/approve",
        Some("Basic x"),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(f
        .store
        .latest_decision(Some("dev"), "x", "y")
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .is_none());
    let events: Vec<String> = f
        .store
        .audit_records(0, 1000)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(
        !events.iter().any(|e| e.starts_with("decision")),
        "{events:?}"
    );
}

#[tokio::test]
async fn evaluate_allow_and_deny_are_recorded_with_their_id() {
    let f = fixture("").await;
    let (s, v) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "allow");
    let id = v["decision_id"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{v}"));
    let stored = f
        .store
        .decision(id)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .unwrap_or_else(|| unreachable!("decision {id} not stored"));
    assert_eq!(stored.actor, "alice");
    assert_eq!(stored.outcome.as_str(), "allow");
    assert_eq!(stored.space.as_deref(), Some("dev"));
    assert_eq!(json!(stored.input_digest), v["input_digest"]);
    assert!(f
        .store
        .input(v["inputs"][0]["digest"].as_str().unwrap_or_default())
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .is_some());

    let (s, v) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        INSECURE,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "deny");
    assert!(v["findings"].as_array().is_some_and(|a| !a.is_empty()));
    assert!(v["decision_id"].as_i64() > Some(id));
    assert!(
        v.get("approval").is_none(),
        "a deny opens no approval request: {v}"
    );
    assert!(f
        .store
        .verify_audit()
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .is_intact());
}

#[tokio::test]
async fn evaluate_checks_role_space_and_body() {
    let f = fixture("").await;
    let app = || router(f.state.clone());
    let (s, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.viewer),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(error_of(&v).contains("requester"), "{v}");
    let (s, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=prod",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = call(app(), "POST", "/v1/evaluate", Some(&f.alice), COMPLIANT).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_of(&v).contains("space"), "{v}");
    let (s, v) = call(app(), "POST", "/v1/evaluate?space=dev", Some(&f.alice), "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error_of(&v).contains("empty"), "{v}");
    let (s, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        "{\"format_version\": ",
    )
    .await;
    assert!(s.is_client_error(), "{s} {v}");
    assert!(!error_of(&v).is_empty());
    let (s, v) = call(
        router_with_limit(f.state.clone(), 1024),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(error_of(&v).contains("larger"), "{v}");
    let (s, v) = call(app(), "GET", "/v1/nothing", Some(&f.alice), "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(error_of(&v).contains("endpoint"));
}

#[tokio::test]
async fn require_approval_then_another_principal_approves_then_allow() {
    let f = fixture(NEEDS_TEAM).await;
    let app = || router(f.state.clone());
    let (s, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "require_approval");
    let approval = &v["approval"];
    assert_eq!(approval["state"], "pending");
    assert_eq!(approval["change_digest"], v["input_digest"]);
    assert_eq!(approval["decision_id"], v["decision_id"]);
    assert_eq!(approval["requested_by"], "alice");
    let id = approval["id"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{v}"));

    // Before approval, the same change still needs approval (the same request).
    let (_, again) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(again["outcome"], "require_approval");
    assert_eq!(again["approval"]["id"], json!(id));

    // The agent polls.
    let (s, polled) = call(
        app(),
        "GET",
        &format!("/v1/approvals/{id}"),
        Some(&f.agent),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(polled["state"], "pending");

    let (s, approved) = call(
        app(),
        "POST",
        &format!("/v1/approvals/{id}/approve"),
        Some(&f.bob),
        "{\"note\": \"ok\"}",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{approved}");
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["approvers"], json!(["bob"]));

    let (s, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "allow");
    assert_eq!(v["approved_by"]["id"], json!(id));
    let stored = f
        .store
        .decision(v["decision_id"].as_i64().unwrap_or_default())
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .unwrap_or_else(|| unreachable!("not stored"));
    assert_eq!(stored.approval_id, Some(id));
    assert_eq!(stored.outcome.as_str(), "allow");

    // An edited change does not inherit the approval.
    let edited = COMPLIANT.replacen('{', "{\"warden_test_edit\": 1, ", 1);
    let (_, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        &edited,
    )
    .await;
    assert_eq!(v["outcome"], "require_approval", "{v}");
    assert_ne!(v["approval"]["id"], json!(id));
    assert!(f
        .store
        .verify_audit()
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .is_intact());
}

#[tokio::test]
async fn agents_requesters_and_strangers_cannot_approve() {
    let f = fixture(NEEDS_TEAM).await;
    let app = || router(f.state.clone());
    // Bob (an approver) asks, so he may not approve his own request.
    let (_, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.bob),
        COMPLIANT,
    )
    .await;
    let id = v["approval"]["id"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{v}"));
    let approve = format!("/v1/approvals/{id}/approve");

    let (s, v) = call(app(), "POST", &approve, Some(&f.bob), "").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(error_of(&v).contains("requested this"), "{v}");

    let (s, v) = call(app(), "POST", &approve, Some(&f.agent), "").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(error_of(&v).contains("agent"), "{v}");

    let (s, v) = call(app(), "POST", &approve, Some(&f.alice), "").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(error_of(&v).contains("approver"), "{v}");

    // A token of another space does not even see the request.
    let (s, _) = call(app(), "POST", &approve, Some(&f.other_space), "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        app(),
        "GET",
        &format!("/v1/approvals/{id}"),
        Some(&f.other_space),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (_, v) = call(
        app(),
        "GET",
        &format!("/v1/approvals/{id}"),
        Some(&f.viewer),
        "",
    )
    .await;
    assert_eq!(v["state"], "pending");
    assert_eq!(v["approvers"], json!([]));
    let (_, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.bob),
        COMPLIANT,
    )
    .await;
    assert_eq!(v["outcome"], "require_approval");
}

#[tokio::test]
async fn reject_needs_a_reason_and_ends_the_request() {
    let f = fixture(NEEDS_TEAM).await;
    let app = || router(f.state.clone());
    let (_, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    let id = v["approval"]["id"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{v}"));
    let reject = format!("/v1/approvals/{id}/reject");
    let (s, v) = call(app(), "POST", &reject, Some(&f.bob), "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = call(app(), "POST", &reject, Some(&f.bob), "{\"reason\": ").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(error_of(&v).contains("JSON"), "{v}");
    let (s, v) = call(
        app(),
        "POST",
        &reject,
        Some(&f.bob),
        "{\"reason\": \"no Team tag\"}",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "rejected");
    assert_eq!(v["reason"], "no Team tag");
    let (s, v) = call(
        app(),
        "POST",
        &format!("/v1/approvals/{id}/approve"),
        Some(&f.bob),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, _) = call(app(), "GET", "/v1/approvals/abc", Some(&f.bob), "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(app(), "GET", "/v1/approvals/999", Some(&f.bob), "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = call(
        app(),
        "GET",
        "/v1/approvals?state=rejected",
        Some(&f.viewer),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["approvals"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_decision_that_cannot_be_recorded_is_a_5xx_never_an_allow() {
    let f = fixture("").await;
    sqlx_fail_decisions(&f.store).await;
    let (s, v) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert!(s.is_server_error(), "{s} {v}");
    assert!(v.get("outcome").is_none(), "{v}");
    assert!(error_of(&v).contains("not given"), "{v}");
    // The store's detail stays out of the response.
    assert!(!error_of(&v).contains("disk full"), "{v}");
}

/// Makes every decision insert fail, as a full disk would.
async fn sqlx_fail_decisions(store: &SqliteStore) {
    use sqlx::Executor as _;
    store
        .raw_pool()
        .execute("CREATE TRIGGER fail_decisions BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
}

#[tokio::test]
async fn secrets_the_secret_rule_finds_are_masked_in_what_is_stored() {
    let f = fixture("").await;
    let plan = include_str!("secret_plan.json");
    assert!(plan.contains("Hunter2-prod-x9"));
    let (s, v) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        plan,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        v["findings"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["rule_id"] == ops::SECRET_RULE)),
        "{v}"
    );
    let digest = v["inputs"][0]["digest"].as_str().unwrap_or_default();
    let input = f
        .store
        .input(digest)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .unwrap_or_else(|| unreachable!("input not stored"));
    assert!(
        !input.content.contains("Hunter2-prod-x9"),
        "{}",
        input.content
    );
    assert_eq!(
        input.masked_secrets, 2,
        "after value and configuration constant"
    );
    let mut export = Vec::new();
    f.store
        .export_audit(None, &mut export)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert!(!String::from_utf8_lossy(&export).contains("Hunter2-prod-x9"));
}

#[tokio::test]
async fn a_granted_exception_waives_until_it_expires_and_the_decision_says_so() {
    let skew = Arc::new(AtomicI64::new(0));
    let f = fixture_with_clock(NEEDS_TEAM, skew.clone()).await;
    let app = || router(f.state.clone());
    let request = r#"{"rule": "required-tags-missing", "resource": "*", "justification": "Team tags land next sprint", "ticket": "OPS-42", "days": 7}"#;
    let (s, v) = call(app(), "POST", "/v1/exceptions", Some(&f.agent), request).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "space is required: {v}");
    let (s, v) = call(
        app(),
        "POST",
        "/v1/exceptions?space=dev",
        Some(&f.agent),
        "{\"rule\": 1}",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = call(
        app(),
        "POST",
        "/v1/exceptions?space=dev",
        Some(&f.viewer),
        request,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    // Agents may request exceptions.
    let (s, v) = call(
        app(),
        "POST",
        "/v1/exceptions?space=dev",
        Some(&f.agent),
        request,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["state"], "requested");
    let id = v["id"].as_i64().unwrap_or_else(|| unreachable!("{v}"));
    let grant = format!("/v1/exceptions/{id}/grant");

    // Requested, not granted: nothing is waived.
    let (_, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(v["outcome"], "require_approval", "{v}");

    let (s, v) = call(app(), "POST", &grant, Some(&f.agent), "").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(error_of(&v).contains("agents never grant"), "{v}");
    let (s, v) = call(app(), "POST", &grant, Some(&f.alice), "").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = call(app(), "POST", &grant, Some(&f.bob), "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "granted");
    assert_eq!(v["decided_by"], "bob");

    let (s, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "allow", "{v}");
    assert!(v.get("approval").is_none(), "{v}");
    let waived = v["waived"].as_array().cloned().unwrap_or_default();
    assert!(!waived.is_empty(), "{v}");
    assert!(
        waived.iter().all(|w| w["waiver"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("#{id}")))),
        "{v}"
    );
    let uses = f
        .store
        .exception_uses(id)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(uses.len(), waived.len());
    assert_eq!(Some(uses[0].decision_id), v["decision_id"].as_i64());

    // Eight days later it no longer applies, at once (no sweep ran), and the finding says why.
    skew.store(8 * 86_400, Ordering::SeqCst);
    let (_, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(v["outcome"], "require_approval", "{v}");
    assert!(
        v["findings"].as_array().is_some_and(|a| a
            .iter()
            .any(|x| x["note"].as_str().is_some_and(|n| n.contains("expired")))),
        "{v}"
    );

    // The requester of an exception cannot grant it.
    let (_, v) = call(
        app(),
        "POST",
        "/v1/exceptions?space=dev",
        Some(&f.bob),
        request,
    )
    .await;
    let own = v["id"].as_i64().unwrap_or_else(|| unreachable!("{v}"));
    let (s, v) = call(
        app(),
        "POST",
        &format!("/v1/exceptions/{own}/grant"),
        Some(&f.bob),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = call(
        app(),
        "GET",
        &format!("/v1/exceptions/{own}"),
        Some(&f.other_space),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert!(f
        .store
        .verify_audit()
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .is_intact());
}

async fn text(app: Router, uri: &str) -> (StatusCode, String) {
    let (status, bytes) = common::raw(app, "GET", uri, None, "").await;
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn metrics_count_decisions_pending_approvals_and_time_to_approval() {
    let f = fixture(NEEDS_TEAM).await;
    let app = || router(f.state.clone());
    let (_, v) = call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.agent),
        COMPLIANT,
    )
    .await;
    let id = v["approval"]["id"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{v}"));
    call(
        app(),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        INSECURE,
    )
    .await;
    let (s, m) = text(app(), "/metrics").await;
    assert_eq!(s, StatusCode::OK);
    for line in [
        "warden_decisions_total{outcome=\"require_approval\",space=\"dev\",actor_kind=\"agent\"} 1",
        "warden_decisions_total{outcome=\"deny\",space=\"dev\",actor_kind=\"human\"} 1",
        "warden_evaluation_seconds_count 2",
        "warden_approvals_pending 1",
        "warden_exceptions_active 0",
        "warden_time_to_approval_seconds_count 0",
    ] {
        assert!(m.lines().any(|l| l == line), "missing `{line}` in\n{m}");
    }
    assert!(m.contains("warden_rule_findings_total{rule=\"WD-"), "{m}");
    call(
        app(),
        "POST",
        &format!("/v1/approvals/{id}/approve"),
        Some(&f.bob),
        "",
    )
    .await;
    let (_, m) = text(app(), "/metrics").await;
    assert!(m.lines().any(|l| l == "warden_approvals_pending 0"), "{m}");
    assert!(
        m.lines()
            .any(|l| l == "warden_time_to_approval_seconds_count 1"),
        "{m}"
    );
}

#[tokio::test]
async fn agents_get_a_retry_hint_naming_what_to_change_and_others_do_not() {
    let f = fixture("").await;
    let (s, v) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.agent),
        INSECURE,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "deny");
    let change = v["retry"]["change"]
        .as_array()
        .unwrap_or_else(|| unreachable!("no retry.change: {v}"));
    // One entry per blocking finding, in the findings' order, with the fix summary.
    let blocking: Vec<&Value> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["enforcement"] != "advisory")
        .collect();
    assert!(!blocking.is_empty());
    assert_eq!(change.len(), blocking.len(), "{v}");
    for (hint, finding) in change.iter().zip(&blocking) {
        assert_eq!(hint["rule_id"], finding["rule_id"]);
        assert_eq!(hint["resource"], finding["resource"]);
        assert_eq!(hint["fix"], finding["fix"]["description"]);
    }
    assert!(change.iter().any(|h| h["fix"].is_string()), "{v}");
    // The first attempt at this change: two more before a person is asked.
    assert_eq!(v["retry"]["attempt"], 1, "{v}");
    assert_eq!(v["retry"]["remaining_attempts"], 2, "{v}");
    assert_eq!(v["retry"]["escalated"], false, "{v}");
    assert!(
        v["retry"].get("approval_id").is_none(),
        "a deny opens no request: {v}"
    );

    // A human gets no hint; neither does an agent whose change is allowed.
    let (_, v) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        INSECURE,
    )
    .await;
    assert!(v.get("retry").is_none(), "{v}");
    let (_, v) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.agent),
        COMPLIANT,
    )
    .await;
    assert_eq!(v["outcome"], "allow");
    assert!(v.get("retry").is_none(), "{v}");
}

#[tokio::test]
async fn an_agents_require_approval_hint_names_the_request_to_wait_for() {
    let f = fixture(NEEDS_TEAM).await;
    let (s, v) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.agent),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "require_approval");
    assert_eq!(v["retry"]["approval_id"], v["approval"]["id"], "{v}");
    let change = v["retry"]["change"].as_array().cloned().unwrap_or_default();
    assert!(
        change
            .iter()
            .any(|h| h["rule_id"] == v["findings"][0]["rule_id"]
                && h["enforcement"] == "require_approval"),
        "{v}"
    );
}

#[tokio::test]
async fn a_token_over_its_rate_limit_gets_429_with_retry_after_and_others_do_not() {
    let f = fixture("").await;
    // Two at once, then one every 1000 s: the third request is over the limit.
    let state = f
        .state
        .clone()
        .with_rate_limit(warden_server::ratelimit::RateLimit::new(0.001, 2));
    for _ in 0..2 {
        let (s, v) = call(
            router(state.clone()),
            "POST",
            "/v1/evaluate?space=dev",
            Some(&f.alice),
            COMPLIANT,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let decisions_before = f
        .store
        .audit_records(0, 10_000)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .len();
    let req = Request::post("/v1/approvals/1/approve")
        .header("authorization", format!("Bearer {}", f.alice))
        .body(Body::empty())
        .unwrap_or_else(|e| unreachable!("{e}"));
    let res = router(state.clone())
        .oneshot(req)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| unreachable!("no Retry-After: {:?}", res.headers()));
    assert!((990..=1000).contains(&retry_after), "{retry_after}");
    let bytes = res
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| unreachable!("{e}"));
    assert!(error_of(&v).contains("rate limit"), "{v}");
    assert!(error_of(&v).contains("alice"), "{v}");
    let (s, _) = call(
        router(state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // Nothing was recorded for the refused requests.
    let decisions_after = f
        .store
        .audit_records(0, 10_000)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .len();
    assert_eq!(decisions_before, decisions_after);

    // Another token has its own bucket; unauthenticated and token-free endpoints are not
    // counted against anyone.
    let (s, v) = call(
        router(state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.bob),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = call(router(state.clone()), "GET", "/healthz", None, "").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        router(state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some("wdn_not_a_token"),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_space_layer_tightens_the_account_policy() {
    // The account asks approval for a missing Team tag; prod denies it, with the account's
    // tag parameters.
    let toml =
        format!("{NEEDS_TEAM}[spaces.prod.rules.required-tags-missing]\nenforcement = \"deny\"\n");
    let f = fixture(&toml).await;
    let (s, dev) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{dev}");
    assert_eq!(dev["outcome"], "require_approval", "{dev}");
    let (s, prod) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=prod",
        Some(&f.other_space),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{prod}");
    assert_eq!(prod["outcome"], "deny", "{prod}");
    assert_ne!(dev["policy_revision"], prod["policy_revision"]);
    // One finding per resource, not one per layer.
    let findings = |v: &Value| v["findings"].as_array().map_or(0, Vec::len);
    assert_eq!(findings(&dev), findings(&prod));
}

#[tokio::test]
async fn reload_puts_clean_policies_in_force_and_keeps_them_on_error() {
    use warden_server::reload::{reload, Loader, Reloaded};
    let f = fixture("").await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let path = dir.path().join("warden.toml");
    let loader: Loader = {
        let path = path.clone();
        Arc::new(move || {
            let config = warden_policy::config::load(&path).map_err(|e| e.to_string())?;
            Policies::load(config, &[], &RegoOptions::default()).map_err(|e| e.to_string())
        })
    };
    let evaluate = || async {
        call(
            router(f.state.clone()),
            "POST",
            "/v1/evaluate?space=dev",
            Some(&f.alice),
            COMPLIANT,
        )
        .await
        .1
    };
    assert_eq!(evaluate().await["outcome"], "allow");
    let first = f.state.policies.current().revision().to_owned();

    std::fs::write(
        &path,
        format!("{NEEDS_TEAM}[spaces.dev]\napprovals-required = 2\n"),
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let done = reload(&f.state, &loader).await;
    let Ok(Reloaded::Replaced { previous, revision }) = done else {
        unreachable!("{done:?}")
    };
    assert_eq!(previous, first);
    assert_eq!(f.state.policies.current().revision(), revision);
    let v = evaluate().await;
    assert_eq!(v["outcome"], "require_approval", "{v}");
    let in_dev = f
        .state
        .policies
        .current()
        .layered("dev")
        .revision()
        .to_owned();
    assert_eq!(v["policy_revision"], json!(in_dev));
    let dev = f
        .store
        .space("dev")
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .unwrap_or_else(|| unreachable!("dev"));
    assert_eq!(dev.settings.approvals_required, 2);
    let records = f
        .store
        .audit_records(0, 10_000)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let loaded = records
        .iter()
        .find(|r| r.action == "policy.loaded")
        .unwrap_or_else(|| unreachable!("no policy.loaded record"));
    assert_eq!(loaded.detail["previous"], json!(first));
    assert_eq!(loaded.detail["revision"], json!(revision));
    assert_eq!(loaded.detail["spaces"]["dev"], json!(in_dev));

    // Same files: nothing new in force.
    assert_eq!(reload(&f.state, &loader).await, Ok(Reloaded::Unchanged));

    // A broken configuration, then a policy that does not compile: both keep what is in force.
    std::fs::write(&path, "bogus = 1\n").unwrap_or_else(|e| unreachable!("{e}"));
    let e = reload(&f.state, &loader).await.unwrap_err();
    assert!(e.contains("bogus"), "{e}");
    std::fs::write(dir.path().join("p.rego"), "package main\ndeny[msg {\n")
        .unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::write(&path, "[rego]\npolicies = [\"p.rego\"]\n")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let e = reload(&f.state, &loader).await.unwrap_err();
    assert!(e.contains("p.rego"), "{e}");
    std::fs::write(&path, "[spaces.dev]\napprover-roles = [\"boss\"]\n")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let e = reload(&f.state, &loader).await.unwrap_err();
    assert!(e.contains("spaces.dev.approver-roles"), "{e}");
    assert_eq!(f.state.policies.current().revision(), revision);
    assert_eq!(evaluate().await["outcome"], "require_approval");
    let (_, text) = text(router(f.state.clone()), "/metrics").await;
    assert!(
        text.contains("warden_policy_reloads_total{result=\"failed\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("warden_policy_reloads_total{result=\"ok\"} 2"),
        "{text}"
    );
    assert!(
        text.contains(&format!("warden_policy_info{{revision=\"{revision}\"}} 1")),
        "{text}"
    );
}

#[tokio::test]
async fn a_structured_change_request_is_evaluated_and_checked_against_its_operation() {
    let f = fixture(NEEDS_TEAM).await;
    let plan: Value = serde_json::from_str(COMPLIANT).unwrap_or_else(|e| unreachable!("{e}"));
    let request = |operation: &str, context: Value| {
        json!({ "operation": operation, "change": plan, "context": context }).to_string()
    };
    let launch = request(
        "launch",
        json!({"space": "dev", "environment": "pr-7", "actor": "dana", "labels": {"ticket": "OPS-7"}}),
    );
    let post = |uri: &'static str, body: String| {
        let app = router(f.state.clone());
        let alice = f.alice.clone();
        async move { call(app, "POST", uri, Some(&alice), &body).await }
    };
    let (s, v) = post("/v1/evaluate", launch.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "require_approval", "{v}");
    assert_eq!(v["space"], "dev");
    assert_eq!(
        v["request"],
        json!({"operation": "launch", "environment": "pr-7", "on_behalf_of": "dana", "labels": {"ticket": "OPS-7"}})
    );
    // The same request twice: the same decision, the same change digest.
    let (_, again) = post("/v1/evaluate?space=dev", launch).await;
    assert_eq!(again["outcome"], v["outcome"]);
    assert_eq!(again["input_digest"], v["input_digest"]);
    assert_eq!(again["findings"], v["findings"]);

    // The plan creates resources: not a terminate.
    let (s, v) = post("/v1/evaluate?space=dev", request("terminate", json!({}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(error_of(&v).contains("only deletes"), "{v}");
    let (s, v) = post(
        "/v1/evaluate?space=dev",
        request("apply", json!({"space": "prod"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(error_of(&v).contains("`prod`"), "{v}");
    let (s, v) = post("/v1/evaluate?space=dev", request("deploy", json!({}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(error_of(&v).contains("expected apply"), "{v}");
    let (s, v) = post("/v1/evaluate", request("apply", json!({}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(error_of(&v).contains("context.space"), "{v}");
}

#[tokio::test]
async fn the_audit_chain_verifies_over_the_api_and_a_tampered_one_is_named() {
    use sqlx::Executor as _;
    let f = fixture("").await;
    let auditor = token(
        f.store.as_ref(),
        "audrey",
        ActorKind::Human,
        &[Role::Viewer],
        "*",
    )
    .await;
    let (s, _) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(&f.alice),
        COMPLIANT,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let verify = |t: String| {
        let app = router(f.state.clone());
        async move { call(app, "GET", "/v1/audit/verify", Some(&t), "").await }
    };
    let (s, v) = verify(auditor.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["intact"], true, "{v}");
    assert!(v["records"].as_u64().unwrap_or(0) >= 7, "{v}");
    assert_eq!(v["broken"], Value::Null);
    assert_eq!(v["head"]["seq"], v["records"]);

    // A viewer of one space, and a requester, may not.
    let (s, v) = verify(f.viewer.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(error_of(&v).contains("every space"), "{v}");
    let (s, _) = verify(f.alice.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    f.store
        .raw_pool()
        .execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let (s, v) = verify(auditor).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["intact"], false, "{v}");
    assert_eq!(v["broken"]["seq"], 3, "{v}");
    assert_eq!(v["records"], 2, "{v}");
}

#[tokio::test]
async fn the_same_change_again_is_answered_from_memory_and_recorded_like_the_first() {
    let f = fixture("").await;
    let alice = f.alice.clone();
    let evaluate = |state: AppState| {
        let alice = alice.clone();
        async move {
            call(
                router(state),
                "POST",
                "/v1/evaluate?space=dev",
                Some(&alice),
                INSECURE,
            )
            .await
        }
    };
    let (s1, first) = evaluate(f.state.clone()).await;
    let (s2, second) = evaluate(f.state.clone()).await;
    assert_eq!(
        (s1, s2),
        (StatusCode::OK, StatusCode::OK),
        "{first} {second}"
    );
    assert!(first.get("memoized").is_none(), "{first}");
    assert_eq!(second["memoized"], true, "{second}");
    for member in [
        "outcome",
        "findings",
        "waived",
        "summary",
        "input_digest",
        "policy_revision",
    ] {
        assert_eq!(first[member], second[member], "{member}");
    }
    assert_ne!(first["decision_id"], second["decision_id"]);
    for v in [&first, &second] {
        let id = v["decision_id"].as_i64().unwrap_or_default();
        let stored = f
            .store
            .decision(id)
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        let stored = stored.unwrap_or_else(|| unreachable!("decision {id} not stored"));
        let doc = stored
            .document_value()
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(doc["findings"], first["findings"]);
        assert_eq!(doc["evaluated_at"], v["evaluated_at"]);
    }
    assert!(f
        .store
        .verify_audit()
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .is_intact());

    // Another space, another key; a memo of capacity 0 never answers.
    let off = f.state.clone().with_memo_capacity(0);
    let (_, third) = evaluate(off).await;
    assert!(third.get("memoized").is_none(), "{third}");
    assert_eq!(third["findings"], first["findings"]);
}

#[tokio::test]
async fn policies_that_may_read_the_clock_are_never_answered_from_memory() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::write(
        dir.path().join("policy.rego"),
        "package main\n\ndeny contains msg if {\n  time.now_ns() < 0\n  msg := \"never\"\n}\n",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let f = fixture("").await;
    let config =
        warden_policy::config::parse("warden.toml", "").unwrap_or_else(|e| unreachable!("{e}"));
    let policies = Policies::load(config, &[dir.path().to_path_buf()], &RegoOptions::default())
        .unwrap_or_else(|e| unreachable!("{e}"));
    let state = AppState::with_policies(policies, f.store.clone());
    for _ in 0..2 {
        let (s, v) = call(
            router(state.clone()),
            "POST",
            "/v1/evaluate?space=dev",
            Some(&f.alice),
            COMPLIANT,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(v.get("memoized").is_none(), "{v}");
    }
}

async fn evaluate_as(f: &Fixture, token: &str, body: &str) -> Value {
    let (s, v) = call(
        router(f.state.clone()),
        "POST",
        "/v1/evaluate?space=dev",
        Some(token),
        body,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

fn rule_ids(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule_id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn an_agent_denied_max_attempts_times_is_escalated_to_a_person() {
    let f = fixture("[agents]\nmax-attempts = 2\n").await;
    let first = evaluate_as(&f, &f.agent, INSECURE).await;
    let second = evaluate_as(&f, &f.agent, INSECURE).await;
    for (n, v) in [(1, &first), (2, &second)] {
        assert_eq!(v["outcome"], "deny", "{v}");
        assert_eq!(v["retry"]["attempt"], n, "{v}");
        assert_eq!(v["retry"]["remaining_attempts"], 2 - n, "{v}");
    }
    // A person's decisions on the same change neither count nor escalate.
    assert_eq!(evaluate_as(&f, &f.alice, INSECURE).await["outcome"], "deny");

    let third = evaluate_as(&f, &f.agent, INSECURE).await;
    assert_eq!(third["outcome"], "require_approval", "{third}");
    assert_eq!(third["retry"]["escalated"], true, "{third}");
    assert_eq!(third["retry"]["attempt"], 3);
    let history: Vec<&Value> = third["retry"]["history"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(
        history
            .iter()
            .map(|h| h["decision_id"].clone())
            .collect::<Vec<_>>(),
        [second["decision_id"].clone(), first["decision_id"].clone()],
        "newest first: {third}"
    );
    let escalation = third["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|x| x["rule_id"] == "WD-AGENT-001")
        .unwrap_or_else(|| unreachable!("no WD-AGENT-001: {third}"));
    let message = escalation["message"].as_str().unwrap_or_default();
    for id in [&first["decision_id"], &second["decision_id"]] {
        assert!(
            message.contains(&format!("decision {id} (deny")),
            "{message}"
        );
    }
    // The blocking findings are held for approval, each saying why.
    assert!(third["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|x| x["enforcement"] != "deny"));
    assert!(third["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|x| x["note"]
            .as_str()
            .is_some_and(|n| n.contains("escalated to require_approval"))));
    let id = third["approval"]["id"].clone();
    assert_eq!(third["retry"]["approval_id"], id);

    // A person approves; the agent's next submission of that exact change is allowed.
    let (s, approved) = call(
        router(f.state.clone()),
        "POST",
        &format!("/v1/approvals/{id}/approve"),
        Some(&f.bob),
        "{}",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{approved}");
    let fourth = evaluate_as(&f, &f.agent, INSECURE).await;
    assert_eq!(fourth["outcome"], "allow", "{fourth}");
    assert_eq!(fourth["approved_by"]["id"], id);
    let record = f
        .store
        .decision(fourth["decision_id"].as_i64().unwrap_or_default())
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert!(record.is_some());
}

#[tokio::test]
async fn an_agents_own_attempt_count_can_only_raise_warden_s() {
    let f = fixture("").await;
    let request = |attempt: u32| {
        format!(
            "{{\"operation\": \"apply\", \"change\": {INSECURE}, \"context\": {{\"attempt\": {attempt}}}}}"
        )
    };
    let v = evaluate_as(&f, &f.agent, &request(7)).await;
    assert_eq!(v["retry"]["attempt"], 7, "{v}");
    assert_eq!(
        v["outcome"], "require_approval",
        "past the default cap of 3: {v}"
    );
    assert!(rule_ids(&v).contains(&"WD-AGENT-001".to_owned()));
    // A lower claim than Warden's own count is ignored (one decision on record now).
    let v = evaluate_as(&f, &f.agent, &request(1)).await;
    assert_eq!(v["retry"]["attempt"], 2, "{v}");
}

#[tokio::test]
async fn an_agent_over_its_changes_per_hour_quota_is_denied_and_people_are_not() {
    let f = fixture(
        "[agents]\nchanges-per-hour = 5\n[agents.principals.claude-infra]\nchanges-per-hour = 2\n",
    )
    .await;
    for _ in 0..2 {
        assert_eq!(
            evaluate_as(&f, &f.agent, COMPLIANT).await["outcome"],
            "allow"
        );
    }
    let v = evaluate_as(&f, &f.agent, COMPLIANT).await;
    assert_eq!(v["outcome"], "deny", "{v}");
    assert_eq!(rule_ids(&v), ["WD-AGENT-002"]);
    let message = v["findings"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("submitted 2 changes in the last hour")
            && message.contains("`changes-per-hour` is 2")
            && message.contains("frees at"),
        "{message}"
    );
    assert_eq!(v["findings"][0]["resource"], "agent/claude-infra");
    // Escalation never lifts a quota: the agent's fourth try is still denied.
    assert_eq!(
        evaluate_as(&f, &f.agent, COMPLIANT).await["outcome"],
        "deny"
    );
    for _ in 0..3 {
        assert_eq!(
            evaluate_as(&f, &f.alice, COMPLIANT).await["outcome"],
            "allow"
        );
    }
}

/// One m5.large: about $70-80 a month, whatever the region.
const ONE_INSTANCE: &str = r#"{"format_version": "1.2", "resource_changes": [{
  "address": "aws_instance.app", "mode": "managed", "type": "aws_instance", "name": "app",
  "provider_name": "registry.terraform.io/hashicorp/aws",
  "change": {"actions": ["create"], "before": null,
             "after": {"instance_type": "m5.large", "ebs_block_device": [],
                       "root_block_device": [{"volume_size": 20, "volume_type": "gp3", "encrypted": true}]},
             "after_unknown": {"id": true}}}]}"#;

#[tokio::test]
async fn an_agent_over_its_monthly_cost_budget_is_denied_with_the_headroom() {
    let f = fixture("select = [\"WD-COST-001\"]\n[agents]\nmonthly-cost = 100\n").await;
    let first = evaluate_as(&f, &f.agent, ONE_INSTANCE).await;
    let delta = first["cost"]["delta"].as_f64().unwrap_or_default();
    assert!((50.0..100.0).contains(&delta), "{first}");
    assert_eq!(first["outcome"], "allow", "{first}");
    let second = evaluate_as(&f, &f.agent, ONE_INSTANCE).await;
    assert_eq!(second["outcome"], "deny", "{second}");
    assert_eq!(rule_ids(&second), ["WD-AGENT-003"]);
    let message = second["findings"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("`monthly-cost` is $100.00") && message.contains("committed this month $"),
        "{message}"
    );
    // Denied changes commit nothing: the budget still has the same headroom.
    let third = evaluate_as(&f, &f.agent, ONE_INSTANCE).await;
    assert_eq!(
        third["findings"][0]["message"],
        second["findings"][0]["message"]
    );
}

fn factor_names(v: &Value) -> Vec<String> {
    v["risk"]["factors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["factor"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_risk_score_counts_who_asks_even_on_a_remembered_decision() {
    // The compliant plan edits a security group: exposure +10.
    let f = fixture("[risk]\napproval-at = 20\n").await;
    let human = evaluate_as(&f, &f.alice, COMPLIANT).await;
    assert_eq!(human["outcome"], "allow", "{human}");
    assert_eq!(human["risk"]["score"], 10, "{human}");
    // The same change, remembered, from an agent: +10 for the agent, at the threshold.
    let agent = evaluate_as(&f, &f.agent, COMPLIANT).await;
    assert_eq!(agent["memoized"], true);
    assert_eq!(factor_names(&agent), ["agent", "exposure"], "{agent}");
    assert_eq!(agent["outcome"], "require_approval", "{agent}");
    assert_eq!(rule_ids(&agent), ["WD-RISK-001"]);
    // And the person again: the agent's factor does not stick to the remembered decision.
    let human = evaluate_as(&f, &f.alice, COMPLIANT).await;
    assert_eq!(human["outcome"], "allow", "{human}");
    assert_eq!(factor_names(&human), ["exposure"], "{human}");
}

#[tokio::test]
async fn an_agent_denied_again_and_again_scores_recent_denials() {
    let f = fixture("[agents]\nmax-attempts = 0\n").await;
    for _ in 0..3 {
        assert_eq!(evaluate_as(&f, &f.agent, INSECURE).await["outcome"], "deny");
    }
    let v = evaluate_as(&f, &f.agent, INSECURE).await;
    let names = factor_names(&v);
    assert!(names.contains(&"recent_denials".to_owned()), "{v}");
    let detail = v["risk"]["factors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|x| x["factor"] == "recent_denials")
        .map(|x| x["detail"].clone());
    assert_eq!(
        detail,
        Some(json!(
            "3 of the agent's 3 decisions in the last 24 hours were denied"
        ))
    );
}
