//! What the server's integration tests share: a SQLite store in a folder (its clock skewed
//! if need be), policies from a `warden.toml` text, tokens made through `ops`, and requests
//! sent through the router with `oneshot` (no socket).
#![allow(
    dead_code,
    reason = "each test binary compiles this module and uses part of it"
)]

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;
use warden_core::ActorKind;
use warden_policy::{Policies, RegoOptions};
use warden_server::ops;
use warden_store::{Actor, NewToken, OpenOptions, Role, SqliteStore, Store};

/// A token named `name` (its principal too) of `kind` with `roles` in `space`; returns the
/// secret.
pub async fn token(
    store: &dyn Store,
    name: &str,
    kind: ActorKind,
    roles: &[Role],
    space: &str,
) -> String {
    ops::create_token(
        store,
        &Actor::system(),
        &NewToken {
            name: name.into(),
            principal: name.into(),
            kind,
            roles: roles.to_vec(),
            spaces: vec![space.into()],
        },
    )
    .await
    .unwrap_or_else(|e| unreachable!("token {name}: {e}"))
    .1
}

/// A store clock running `skew` seconds ahead of the real one (tests move it on).
pub fn skewed_clock(skew: Arc<AtomicI64>) -> warden_store::Clock {
    Arc::new(move || {
        time::OffsetDateTime::now_utc() + time::Duration::seconds(skew.load(Ordering::SeqCst))
    })
}

/// A SQLite store in `dir`.
pub async fn sqlite(dir: &Path, options: OpenOptions) -> Arc<SqliteStore> {
    Arc::new(
        SqliteStore::open_dir(dir, options)
            .await
            .unwrap_or_else(|e| unreachable!("{e}")),
    )
}

/// The policies of a `warden.toml` reading `toml`, with no policy folders.
pub fn policies(toml: &str) -> Policies {
    let config =
        warden_policy::config::parse("warden.toml", toml).unwrap_or_else(|e| unreachable!("{e}"));
    Policies::load(config, &[], &RegoOptions::default()).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Sends a request through `app` (with `Authorization: Bearer TOKEN` when there is a token);
/// returns the status and the body.
pub async fn raw(
    app: Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req
        .body(Body::from(body.to_owned()))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let res = app
        .oneshot(req)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let status = res.status();
    let bytes = res
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .to_bytes();
    (status, bytes.to_vec())
}

/// [`raw`] with the body parsed as JSON (the test fails if it is not JSON).
pub async fn call(
    app: Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let (status, bytes) = raw(app, method, uri, token, body).await;
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        unreachable!(
            "{status}: not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, value)
}
