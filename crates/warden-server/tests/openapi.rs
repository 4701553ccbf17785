//! The OpenAPI document: generated from the router's table, served at `/openapi.json`, and
//! checked in as `docs/openapi.json` (`WARDEN_UPDATE_GENERATED=1 cargo test -p warden-server
//! --test openapi` rewrites it).

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;
use warden_policy::PolicySet;
use warden_server::{endpoints, openapi, router, AppState};
use warden_store::{OpenOptions, SqliteStore};

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

fn generated() -> String {
    let text =
        serde_json::to_string_pretty(&openapi::document()).unwrap_or_else(|e| unreachable!("{e}"));
    format!("{text}\n")
}

#[test]
fn docs_openapi_json_is_what_the_code_generates() {
    let path = checked_in();
    let want = generated();
    if std::env::var_os("WARDEN_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &want).unwrap_or_else(|e| unreachable!("{e}"));
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/openapi.json is out of date; run WARDEN_UPDATE_GENERATED=1 cargo test -p warden-server --test openapi"
    );
}

#[test]
fn every_routed_endpoint_has_an_operation() {
    let doc = openapi::document();
    let mut ids = std::collections::BTreeSet::new();
    for (method, path) in endpoints() {
        let op = &doc["paths"][path][method.as_str().to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{method} {path} is routed but not documented"
        );
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        assert!(ids.insert(id.clone()), "operationId `{id}` twice");
        assert!(op["responses"].is_object(), "{method} {path}: no responses");
    }
    let documented: usize = doc["paths"]
        .as_object()
        .map(|p| {
            p.values()
                .filter_map(Value::as_object)
                .map(|o| o.len())
                .sum()
        })
        .unwrap_or(0);
    assert_eq!(documented, endpoints().len());
    // Every $ref resolves.
    let text = doc.to_string();
    for piece in text.split("\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap_or_default();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref to {name}"
        );
    }
}

#[tokio::test]
async fn the_server_serves_the_document_without_a_token() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let store = SqliteStore::open_dir(dir.path(), OpenOptions::default())
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let policy =
        PolicySet::load(warden_policy::Config::default()).unwrap_or_else(|e| unreachable!("{e}"));
    let app = router(AppState::new(policy, Arc::new(store)));
    let req = Request::get("/openapi.json")
        .body(Body::empty())
        .unwrap_or_else(|e| unreachable!("{e}"));
    let res = app
        .oneshot(req)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .to_bytes();
    let served: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(served, openapi::document());
    assert_eq!(served["openapi"], "3.1.0");
}
