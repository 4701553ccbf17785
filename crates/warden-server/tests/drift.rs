//! Drift through the API (`oneshot`, a real SQLite store): scans open and resolve events,
//! attribution to the decision that touched a resource, roles and spaces, metrics.

mod common;

use axum::http::StatusCode;
use common::token;
use serde_json::Value;
use warden_core::ActorKind;
use warden_policy::{Policies, RegoOptions};
use warden_server::{router, AppState};
use warden_store::{Role, Store};

const OPENED: &str = include_str!("fixtures/drift/sg-opened.json");
const CLEAN: &str = include_str!("fixtures/drift/clean.json");
const CHANGE: &str = include_str!("fixtures/drift/sg-change.json");
const ADDRESS: &str = "aws_security_group.api";

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    pipeline: String,
    viewer: String,
    outsider: String,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let store = common::sqlite(dir.path(), warden_store::OpenOptions::default()).await;
    let policies = Policies::load(
        warden_policy::Config::default(),
        &[],
        &RegoOptions::default(),
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let s: &dyn Store = store.as_ref();
    let pipeline = token(s, "ci", ActorKind::Pipeline, &[Role::Requester], "prod").await;
    let viewer = token(s, "val", ActorKind::Human, &[Role::Viewer], "prod").await;
    let outsider = token(s, "olga", ActorKind::Human, &[Role::Requester], "dev").await;
    Fixture {
        _dir: dir,
        state: AppState::with_policies(policies, store),
        pipeline,
        viewer,
        outsider,
    }
}

async fn call(
    f: &Fixture,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    common::call(router(f.state.clone()), method, uri, token, body).await
}

async fn raw(
    f: &Fixture,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, Vec<u8>) {
    common::raw(router(f.state.clone()), method, uri, token, body).await
}

async fn scan(f: &Fixture, target: &str, body: &str) -> Value {
    let (s, v) = call(
        f,
        "POST",
        &format!("/v1/drift/scans?space=prod&target={target}"),
        Some(&f.pipeline),
        body,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

#[tokio::test]
async fn a_scan_opens_attributes_and_resolves_drift() {
    let f = fixture().await;

    // The group opened to the internet by hand: WD-DRIFT-001, out of band.
    let first = scan(&f, "network", OPENED).await;
    assert_eq!(first["scan"]["result"], "drift", "{first}");
    assert_eq!(first["scan"]["source"], "api");
    assert_eq!(first["scan"]["actor"], "ci");
    let findings = first["report"]["findings"]
        .as_array()
        .unwrap_or_else(|| unreachable!("{first}"));
    assert!(
        findings.iter().any(|x| x["rule_id"] == "WD-DRIFT-001"
            && x["resource"] == ADDRESS
            && x["message"]
                .as_str()
                .is_some_and(|m| m.contains("WD-AWS-007"))),
        "{first}"
    );
    let drifted = &first["report"]["drifted"][0];
    assert_eq!(drifted["address"], ADDRESS);
    assert_eq!(drifted["event"], "opened");
    assert_eq!(drifted["attribution"]["via"], "out-of-band");
    assert_eq!(
        drifted["attribution"]["summary"],
        "out of band, actor unknown"
    );
    assert_eq!(drifted["remediation"]["suggested"], "revert");
    let id = drifted["event_id"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{drifted}"));
    let text = first["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("WD-DRIFT-001") && text.contains("out of band, actor unknown"),
        "{text}"
    );

    // Scanned again: the same event, kept.
    let again = scan(&f, "network", OPENED).await;
    assert_eq!(again["report"]["drifted"][0]["event"], "kept");
    assert_eq!(again["report"]["drifted"][0]["event_id"], id);

    // Reads: the open event, for a viewer of the space, not for another space's token.
    let (s, v) = call(
        &f,
        "GET",
        "/v1/drift?space=prod&state=open",
        Some(&f.viewer),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["drift"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["drift"][0]["severity"], "critical");
    let (s, v) = call(&f, "GET", &format!("/v1/drift/{id}"), Some(&f.viewer), "").await;
    assert_eq!(
        (s, &v["state"]),
        (StatusCode::OK, &Value::from("open")),
        "{v}"
    );
    let (s, _) = call(&f, "GET", &format!("/v1/drift/{id}"), Some(&f.outsider), "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = call(&f, "GET", "/v1/drift", Some(&f.outsider), "").await;
    assert_eq!(
        (s, v["drift"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );

    // Back in line: resolved.
    let clean = scan(&f, "network", CLEAN).await;
    assert_eq!(clean["scan"]["result"], "clean");
    assert_eq!(clean["resolved"][0]["id"], id);
    assert_eq!(clean["resolved"][0]["state"], "resolved");
    let (_, v) = call(
        &f,
        "GET",
        "/v1/drift?space=prod&state=resolved",
        Some(&f.viewer),
        "",
    )
    .await;
    assert_eq!(v["drift"].as_array().map(Vec::len), Some(1));

    // A change to the group through Warden's API, then the same drift: attributed to it.
    let (s, decided) = call(
        &f,
        "POST",
        "/v1/evaluate?space=prod",
        Some(&f.pipeline),
        CHANGE,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{decided}");
    let decision_id = decided["decision_id"].clone();
    let attributed = scan(&f, "network", OPENED).await;
    let who = &attributed["report"]["drifted"][0]["attribution"];
    assert_eq!(who["via"], "warden-api", "{attributed}");
    assert_eq!(who["decision_id"], decision_id);
    assert_eq!(who["actor"], "ci");
    assert_eq!(who["actor_kind"], "pipeline");
    assert_ne!(
        attributed["report"]["drifted"][0]["event_id"], id,
        "a new event"
    );

    // Metrics read from the store.
    let (s, bytes) = raw(&f, "GET", "/metrics", None, "").await;
    assert_eq!(s, StatusCode::OK);
    let metrics = String::from_utf8_lossy(&bytes);
    for line in [
        "warden_drift_open{space=\"prod\"} 1",
        "warden_drift_scans_total{space=\"prod\",result=\"drift\"} 3",
        "warden_drift_scans_total{space=\"prod\",result=\"clean\"} 1",
        "warden_drift_rate{space=\"prod\"} 0.75",
        "warden_drift_time_to_remediation_seconds_count 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing `{line}` in\n{metrics}"
        );
    }

    // The audit log has the scan, the openings and the resolution.
    let actions: Vec<String> = f
        .state
        .store
        .audit_records(0, 1000)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.action)
        .collect();
    for action in ["drift.scan", "drift.opened", "drift.resolved"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn scans_check_role_space_and_body() {
    let f = fixture().await;
    let uri = "/v1/drift/scans?space=prod&target=network";
    let (s, v) = call(&f, "POST", uri, Some(&f.viewer), OPENED).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["error"].as_str().is_some_and(|e| e.contains("requester")),
        "{v}"
    );
    let (s, _) = call(&f, "POST", uri, Some(&f.outsider), OPENED).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(&f, "POST", uri, None, OPENED).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = call(
        &f,
        "POST",
        "/v1/drift/scans?space=prod",
        Some(&f.pipeline),
        OPENED,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"].as_str().is_some_and(|e| e.contains("target")),
        "{v}"
    );
    let (s, v) = call(
        &f,
        "POST",
        uri,
        Some(&f.pipeline),
        "{\"resource_changes\": [",
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = call(
        &f,
        "POST",
        "/v1/drift/scans?space=prod&target=a%20b",
        Some(&f.pipeline),
        OPENED,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("drift target")),
        "{v}"
    );
    let (s, v) = call(&f, "GET", "/v1/drift?state=stale", Some(&f.viewer), "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = call(&f, "GET", "/v1/drift/x", Some(&f.viewer), "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Nothing was recorded.
    let (_, v) = call(&f, "GET", "/v1/drift", Some(&f.viewer), "").await;
    assert_eq!(v["drift"].as_array().map(Vec::len), Some(0));

    // Kubernetes: manifests against live objects.
    let body = r#"{"manifests": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {mode: strict}\n",
                   "live": {"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "settings", "namespace": "shop", "uid": "u1"}, "data": {"mode": "lax"}}]}}"#;
    let v = scan(&f, "shop-manifests", body).await;
    assert_eq!(v["report"]["source"], "kubernetes", "{v}");
    assert_eq!(
        v["report"]["drifted"][0]["address"],
        "v1/ConfigMap/shop/settings"
    );
    assert_eq!(v["report"]["drifted"][0]["event"], "opened");
}
