//! The environment endpoints through `oneshot` (no socket), with the fake runner of
//! `examples/environments`: roles, blueprint validation, launch checkpoints, approvals acted
//! on by a reconcile pass, expiry with a moved clock, teardown.

mod common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};
use warden_core::ActorKind;
use warden_server::{router, AppState};
use warden_store::{OpenOptions, Role, Store};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/environments");

struct Fixture {
    dir: tempfile::TempDir,
    state: AppState,
    skew: Arc<AtomicI64>,
    author: String,
    alice: String,
    bob: String,
}

async fn token(store: &dyn Store, name: &str, roles: &[Role]) -> String {
    common::token(store, name, ActorKind::Human, roles, "dev").await
}

async fn fixture(runner: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let skew = Arc::new(AtomicI64::new(0));
    let options = OpenOptions {
        clock: common::skewed_clock(Arc::clone(&skew)),
        ..OpenOptions::default()
    };
    let store = common::sqlite(dir.path(), options).await;
    let toml = if runner {
        format!(
            "[rules.WD-GOV-001]\nallowed = {{ aws = [\"eu-west-1\"] }}\n[environments]\nrunner = [\"{EXAMPLE}/fake-runner.sh\"]\nworkdir = \"{}\"\nmax-per-user = 1\nteardown-max-attempts = 1\n",
            dir.path().join("work").display()
        )
    } else {
        String::new()
    };
    let policies = common::policies(&toml);
    let st: &dyn Store = store.as_ref();
    let author = token(st, "pat", &[Role::PolicyAuthor]).await;
    let alice = token(st, "alice", &[Role::Requester]).await;
    let bob = token(st, "bob", &[Role::Approver]).await;
    Fixture {
        state: AppState::with_policies(policies, store),
        dir,
        skew,
        author,
        alice,
        bob,
    }
}

async fn call(
    f: &Fixture,
    method: &str,
    uri: &str,
    token: &str,
    body: String,
) -> (StatusCode, Value) {
    let (status, bytes) =
        common::raw(router(f.state.clone()), method, uri, Some(token), &body).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn blueprint() -> String {
    std::fs::read_to_string(format!("{EXAMPLE}/sandbox.yaml"))
        .unwrap_or_else(|e| unreachable!("{e}"))
        .replace(
            "examples/environments/sandbox",
            &format!("{EXAMPLE}/sandbox"),
        )
}

#[tokio::test]
async fn publishing_needs_a_policy_author_and_a_valid_file() {
    let f = fixture(true).await;
    let (status, v) = call(&f, "POST", "/v1/blueprints", &f.alice, blueprint()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, v) = call(
        &f,
        "POST",
        "/v1/blueprints",
        &f.author,
        "name: x\nsource: {path: s}\nduration: {default: 9h, max: 8h}\n".into(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("blueprint:3:"),
        "{v}"
    );
    let (status, v) = call(&f, "POST", "/v1/blueprints", &f.author, blueprint()).await;
    assert_eq!(
        (status, v["version"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{v}"
    );
    let (_, v) = call(&f, "GET", "/v1/blueprints", &f.alice, String::new()).await;
    assert_eq!(v["blueprints"][0]["name"], "sandbox");
    let (status, _) = call(&f, "GET", "/v1/blueprints/nope", &f.alice, String::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn launching_without_a_runner_is_a_conflict() {
    let f = fixture(false).await;
    call(&f, "POST", "/v1/blueprints", &f.author, blueprint()).await;
    let (status, v) = call(
        &f,
        "POST",
        "/v1/environments",
        &f.alice,
        json!({"blueprint": "sandbox", "space": "dev"}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"].as_str().unwrap_or_default().contains("runner"),
        "{v}"
    );
}

#[tokio::test]
async fn launch_checkpoints_approval_expiry_and_teardown() {
    let f = fixture(true).await;
    call(&f, "POST", "/v1/blueprints", &f.author, blueprint()).await;
    let launch = |inputs: Value, duration: &str| {
        json!({"blueprint": "sandbox", "space": "dev", "inputs": inputs, "duration": duration})
            .to_string()
    };
    // An input the blueprint does not allow and one it does not declare: denied before any
    // plan (no working folder), one recorded decision.
    let (status, v) = call(
        &f,
        "POST",
        "/v1/environments",
        &f.alice,
        launch(
            json!({"instance_type": "x1.32xlarge", "colour": "red"}),
            "1h",
        ),
    )
    .await;
    assert_eq!(
        (status, v["outcome"].as_str()),
        (StatusCode::OK, Some("deny")),
        "{v}"
    );
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule_id"].as_str())
        .collect();
    assert_eq!(rules, vec!["WD-ENV-001", "WD-ENV-001"], "{v}");
    assert!(v["decision_id"].is_i64());
    let denied = v["environment"]["id"].as_i64().unwrap_or_default();
    assert!(!f.dir.path().join(format!("work/{denied}")).exists());

    // Longer than the maximum: the plan is made, the decision asks for approval, nothing is
    // applied until it is granted; a reconcile pass then applies it.
    let (_, v) = call(
        &f,
        "POST",
        "/v1/environments",
        &f.alice,
        launch(json!({}), "4d"),
    )
    .await;
    assert_eq!(v["outcome"], "require_approval", "{v}");
    assert_eq!(v["environment"]["state"], "pending_approval");
    let id = v["environment"]["id"].as_i64().unwrap_or_default();
    let approval = v["approval"]["id"].as_i64().unwrap_or_default();
    // One per user: a second launch meanwhile is denied (the pending one counts).
    let (_, v2) = call(
        &f,
        "POST",
        "/v1/environments",
        &f.alice,
        launch(json!({}), "1h"),
    )
    .await;
    assert!(
        v2["findings"].to_string().contains("`max-per-user` is 1"),
        "{v2}"
    );
    let (status, _) = call(
        &f,
        "POST",
        &format!("/v1/approvals/{approval}/approve"),
        &f.bob,
        String::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    warden_server::environments::lifecycle::reconcile(&f.state)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let (_, env) = call(
        &f,
        "GET",
        &format!("/v1/environments/{id}"),
        &f.alice,
        String::new(),
    )
    .await;
    assert_eq!(env["state"], "active", "{env}");
    assert_eq!(
        env["outputs"]["url"],
        "https://sandbox.eu-west-1.example.com"
    );

    // Past its end (the store's clock moved): a notice, then expiry and teardown.
    f.skew.store(5 * 86_400, Ordering::SeqCst);
    for _ in 0..2 {
        warden_server::environments::lifecycle::reconcile(&f.state)
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
    }
    let (_, env) = call(
        &f,
        "GET",
        &format!("/v1/environments/{id}"),
        &f.alice,
        String::new(),
    )
    .await;
    let kinds: Vec<&str> = env["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(env["state"], "terminated", "{env}");
    assert_eq!(
        kinds,
        vec![
            "requested",
            "approval_required",
            "launched",
            "expiring",
            "expired",
            "teardown_started",
            "terminated"
        ]
    );
    let (_, listed) = call(
        &f,
        "GET",
        "/v1/environments?state=terminated",
        &f.alice,
        String::new(),
    )
    .await;
    assert_eq!(listed["environments"].as_array().map(Vec::len), Some(1));
    let (status, _) = call(
        &f,
        "GET",
        "/v1/environments?state=bogus",
        &f.alice,
        String::new(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
