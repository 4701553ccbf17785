//! The dashboard through `router(state).oneshot(...)`: login to a session cookie, the
//! security headers, CSRF and Origin checks, the same refusals as the API, and no token in
//! any page. The browser test (`crates/warden/tests/dashboard`) drives the same pages in
//! chromium.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;
use warden_core::ActorKind;
use warden_server::{router, AppState};
use warden_store::{Actor, OpenOptions, Role, SqliteStore, Store};

const COMPLIANT: &str = include_str!("../../../examples/terraform/compliant/plan.json");

async fn token(store: &dyn Store, name: &str, kind: ActorKind, roles: &[Role]) -> String {
    common::token(store, name, kind, roles, "dev").await
}

struct Fixture {
    _dir: tempfile::TempDir,
    app: Router,
    approver: String,
    requester: String,
    agent: String,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let store = common::sqlite(dir.path(), OpenOptions::default()).await;
    let policies = common::policies(
        "[rules.required-tags-missing]\nenforcement = \"require_approval\"\ntags = { Team = '.+' }\n",
    );
    let s: &dyn Store = store.as_ref();
    let approver = token(
        s,
        "alice",
        ActorKind::Human,
        &[Role::Approver, Role::Viewer],
    )
    .await;
    let requester = token(s, "bob", ActorKind::Human, &[Role::Requester]).await;
    let agent = token(
        s,
        "bot",
        ActorKind::Agent,
        &[Role::Requester, Role::Approver],
    )
    .await;
    let state = AppState::with_policies(policies, store);
    Fixture {
        _dir: dir,
        app: router(state),
        approver,
        requester,
        agent,
    }
}

async fn send(app: &Router, req: Request<Body>) -> (Response<Body>, String) {
    let resp = app
        .clone()
        .oneshot(req)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let (parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .to_bytes();
    (
        Response::from_parts(parts, Body::empty()),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path).header(header::HOST, "warden.test");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty())
        .unwrap_or_else(|e| unreachable!("{e}"))
}

fn form(path: &str, cookie: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::HOST, "warden.test")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap_or_else(|e| unreachable!("{e}"))
}

/// The value of `name="csrf"`'s field in a page.
fn csrf(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| unreachable!("no CSRF field in {page}"))
        .to_owned()
}

/// `name=value` of a `Set-Cookie` header named `name`.
fn set_cookie(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// Logs in with a token; returns the session cookie (`warden_session=...`).
async fn login(app: &Router, secret: &str) -> String {
    let (resp, page) = send(app, get("/ui/login", None)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let nonce_cookie = set_cookie(&resp, "warden_login")
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .unwrap_or_else(|| unreachable!("no login cookie"));
    let body = format!("token={secret}&csrf={}", csrf(&page));
    let (resp, _) = send(app, form("/ui/login", &nonce_cookie, &body)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&resp, "warden_session").unwrap_or_else(|| unreachable!("no session"));
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(session.contains(attr), "{session}");
    }
    assert!(!session.contains("Secure"), "not over TLS: {session}");
    session.split(';').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn login_session_headers_csrf_and_refusals() {
    let f = fixture().await;
    // No session: the pages send the browser to the login form; `/` goes to the dashboard.
    let (resp, _) = send(&f.app, get("/ui/approvals", None)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[header::LOCATION], "/ui/login");
    let (resp, _) = send(&f.app, get("/", None)).await;
    assert_eq!(resp.headers()[header::LOCATION], "/ui/");
    // A login form without its cookie is refused.
    let (resp, page) = send(&f.app, form("/ui/login", "", "token=x&csrf=y")).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{page}");

    let cookie = login(&f.app, &f.approver).await;
    let (resp, page) = send(&f.app, get("/ui/", Some(&cookie))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers();
    let csp = h[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap_or_default();
    for d in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(d), "{csp}");
    }
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::CACHE_CONTROL], "no-store");
    assert!(page.contains("Decisions by outcome"));
    assert!(
        !page.contains("<script>") && !page.contains("style="),
        "no inline script or style"
    );
    assert!(!page.contains(&f.approver), "the token is never rendered");

    // A change needing approval, through the API.
    let req = Request::post("/v1/evaluate?space=dev")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.requester))
        .body(Body::from(COMPLIANT))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let (resp, body) = send(&f.app, req).await;
    assert_eq!(resp.status(), StatusCode::OK, "{body}");
    let (_, rows) = send(&f.app, get("/ui/decisions/rows", Some(&cookie))).await;
    assert!(
        rows.contains("needs approval") && rows.contains("/ui/decisions/1"),
        "{rows}"
    );
    let (_, page) = send(&f.app, get("/ui/decisions/1", Some(&cookie))).await;
    assert!(
        page.contains("WD-GOV-003") && page.contains("decision.recorded"),
        "{page}"
    );

    // Approving needs the session's CSRF token and this origin.
    let (_, page) = send(&f.app, get("/ui/approvals", Some(&cookie))).await;
    let token = csrf(&page);
    let (resp, page) = send(
        &f.app,
        form("/ui/approvals/1/approve", &cookie, "csrf=forged"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(page.contains("CSRF token does not match"));
    let mut foreign = form("/ui/approvals/1/approve", &cookie, &format!("csrf={token}"));
    foreign.headers_mut().insert(
        header::ORIGIN,
        "https://evil.example"
            .parse()
            .unwrap_or_else(|_| unreachable!()),
    );
    let (resp, _) = send(&f.app, foreign).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // An agent's session is refused as the API refuses it (even with the approver role).
    let bot = login(&f.app, &f.agent).await;
    let (_, page) = send(&f.app, get("/ui/approvals", Some(&bot))).await;
    let (resp, page) = send(
        &f.app,
        form(
            "/ui/approvals/1/approve",
            &bot,
            &format!("csrf={}", csrf(&page)),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(page.contains("agents never approve"), "{page}");

    // The approver's approval goes through.
    let (resp, _) = send(
        &f.app,
        form(
            "/ui/approvals/1/approve",
            &cookie,
            &format!("csrf={token}&note=ok"),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, page) = send(&f.app, get("/ui/approvals?state=approved", Some(&cookie))).await;
    assert!(page.contains("Resolved by alice"), "{page}");

    // Logout ends the session on the server, not only in the browser.
    let (resp, _) = send(
        &f.app,
        form("/ui/logout", &cookie, &format!("csrf={token}")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (resp, _) = send(&f.app, get("/ui/", Some(&cookie))).await;
    assert_eq!(resp.headers()[header::LOCATION], "/ui/login");
}

#[tokio::test]
async fn assets_are_versioned_and_cached() {
    let f = fixture().await;
    let url = warden_server::ui::assets::url("app.css");
    assert!(url.contains("?v="), "{url}");
    let (resp, css) = send(&f.app, get(&url, None)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(css.contains(":root"));
    assert!(resp.headers()[header::CACHE_CONTROL]
        .to_str()
        .unwrap_or_default()
        .contains("immutable"));
    let etag = resp.headers()[header::ETAG].clone();
    let mut again = get(&url, None);
    again.headers_mut().insert(header::IF_NONE_MATCH, etag);
    let (resp, _) = send(&f.app, again).await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/environments");
const DRIFTED: &str = include_str!("fixtures/drift/sg-opened.json");

fn api(method: &str, path: &str, token: &str, body: String) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "warden.test")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body))
        .unwrap_or_else(|e| unreachable!("{e}"))
}

#[tokio::test]
async fn environments_drift_and_the_audit_chain_cache() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let store = common::sqlite(dir.path(), OpenOptions::default()).await;
    let toml = format!(
        "[environments]\nrunner = [\"{EXAMPLE}/fake-runner.sh\"]\nworkdir = \"{}\"\n[spaces.dev.environments]\nbudget-monthly = 25.0\n",
        dir.path().join("work").display()
    );
    let policies = common::policies(&toml);
    let s: &dyn Store = store.as_ref();
    let author = common::token(s, "pat", ActorKind::Human, &[Role::PolicyAuthor], "dev").await;
    let rita = common::token(
        s,
        "rita",
        ActorKind::Human,
        &[Role::Requester, Role::Viewer],
        "dev",
    )
    .await;
    let viewer = common::token(s, "vic", ActorKind::Agent, &[Role::Viewer], "dev").await;
    let outsider = common::token(s, "olga", ActorKind::Human, &[Role::Requester], "ops").await;
    let auditor = common::token(s, "aud", ActorKind::Human, &[Role::Viewer], "*").await;
    let app = router(AppState::with_policies(policies, store));

    // An environment launched and a drift scan submitted through the API.
    let bp = std::fs::read_to_string(format!("{EXAMPLE}/sandbox.yaml"))
        .unwrap_or_else(|e| unreachable!("{e}"))
        .replace(
            "examples/environments/sandbox",
            &format!("{EXAMPLE}/sandbox"),
        );
    let (resp, body) = send(&app, api("POST", "/v1/blueprints", &author, bp)).await;
    assert!(resp.status().is_success(), "{body}");
    let launch = r#"{"blueprint": "sandbox", "space": "dev", "duration": "2h"}"#;
    let (_, body) = send(&app, api("POST", "/v1/environments", &rita, launch.into())).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(v["environment"]["state"], "active", "{body}");
    let id = v["environment"]["id"].as_i64().unwrap_or_default();
    let scan = "/v1/drift/scans?space=dev&target=sandbox-1";
    let (resp, body) = send(&app, api("POST", scan, &rita, DRIFTED.into())).await;
    assert!(resp.status().is_success(), "{body}");

    // The list: the environment, the space's cost against its budget.
    let cookie = login(&app, &rita).await;
    let (resp, page) = send(&app, get("/ui/environments", Some(&cookie))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    for text in [
        "sandbox@1",
        &format!("/ui/environments/{id}"),
        "Cost per space",
        "$9.20/mo",
        "$25.00/mo",
        "37%",
        "rita",
    ] {
        assert!(page.contains(text), "{text} missing: {page}");
    }
    let (_, page) = send(&app, get("/ui/environments?tab=ended", Some(&cookie))).await;
    assert!(page.contains("No ended environments"), "{page}");

    // The detail page, then Extend: CSRF checked, then the same operation as the API.
    let detail = format!("/ui/environments/{id}");
    let (_, page) = send(&app, get(&detail, Some(&cookie))).await;
    assert!(page.contains("Extend") && page.contains("Events"), "{page}");
    assert!(
        page.contains("launched") && page.contains("/ui/decisions/"),
        "{page}"
    );
    let token = csrf(&page);
    let extend = format!("{detail}/extend");
    let (resp, page) = send(&app, form(&extend, &cookie, "csrf=forged&by=2h")).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(page.contains("CSRF token does not match"), "{page}");
    let (resp, _) = send(&app, form(&extend, &cookie, &format!("csrf={token}&by=2h"))).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(to.contains("action=extend&decision="), "{to}");
    let (_, page) = send(&app, get(&to, Some(&cookie))).await;
    assert!(
        page.contains("now ends") && page.contains("badge allow"),
        "{page}"
    );
    // Past the blueprint's 72 h maximum: an approval is opened, the end does not move.
    let (resp, _) = send(&app, form(&extend, &cookie, &format!("csrf={token}&by=5d"))).await;
    let to = resp.headers()[header::LOCATION]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    let (_, page) = send(&app, get(&to, Some(&cookie))).await;
    assert!(page.contains("Needs approval"), "{page}");
    assert!(
        page.contains("WD-ENV-002"),
        "the finding that held it: {page}"
    );
    let (resp, page) = send(
        &app,
        form(&extend, &cookie, &format!("csrf={token}&by=soon")),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("Could not extend"), "{page}");

    // A viewer (an agent here) is refused as the API refuses it; another space sees nothing.
    let vic = login(&app, &viewer).await;
    let (_, page) = send(&app, get(&detail, Some(&vic))).await;
    let (resp, page) = send(
        &app,
        form(&extend, &vic, &format!("csrf={}&by=1h", csrf(&page))),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(page.contains("requester"), "{page}");
    let olga = login(&app, &outsider).await;
    let (resp, _) = send(&app, get(&detail, Some(&olga))).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (_, page) = send(&app, get("/ui/environments", Some(&olga))).await;
    assert!(!page.contains("sandbox@1"), "{page}");

    // Drift: the open event with its diff, verdict, attribution and remediation.
    let (resp, page) = send(&app, get("/ui/drift", Some(&cookie))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    for text in [
        "Drift rate per day",
        "sandbox-1",
        "aws_security_group.api",
        "Verdict",
        "out of band",
        "Remediate",
        "100%",
    ] {
        assert!(page.contains(text), "{text} missing: {page}");
    }
    assert!(
        !page.contains("style="),
        "no inline style: the CSP forbids it"
    );
    let (_, page) = send(&app, get("/ui/drift", Some(&olga))).await;
    assert!(page.contains("No open drift"), "{page}");
    let (_, page) = send(&app, get("/ui/drift?tab=resolved", Some(&cookie))).await;
    assert!(page.contains("Nothing resolved yet"), "{page}");

    // Terminate through the form.
    let (resp, _) = send(
        &app,
        form(
            &format!("{detail}/terminate"),
            &cookie,
            &format!("csrf={token}"),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, page) = send(&app, get("/ui/environments?tab=ended", Some(&cookie))).await;
    assert!(
        page.contains("sandbox@1") && page.contains("terminated"),
        "{page}"
    );

    // The audit chain: walked whole once, then only what is new.
    let aud = login(&app, &auditor).await;
    let (_, first) = send(&app, get("/ui/audit", Some(&aud))).await;
    assert!(first.contains("Intact"), "{first}");
    let (_, second) = send(&app, get("/ui/audit", Some(&aud))).await;
    assert!(
        second.contains("0 records walked on this visit"),
        "{second}"
    );
    // One new record (a session opened): only it is walked.
    login(&app, &outsider).await;
    let (_, third) = send(&app, get("/ui/audit", Some(&aud))).await;
    assert!(third.contains("1 record walked on this visit"), "{third}");
    let (_, overview) = send(&app, get("/ui/", Some(&aud))).await;
    assert!(overview.contains("verified just now"), "{overview}");
}

#[tokio::test]
async fn audit_chain_cache_walks_new_records_and_the_whole_chain_when_stale() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use warden_server::ui::chain::{ChainCache, FULL_WALK_EVERY};
    use warden_store::AuditEvent;

    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let skew = Arc::new(AtomicI64::new(0));
    let clock = common::skewed_clock(Arc::clone(&skew));
    let store = SqliteStore::open_dir(
        dir.path(),
        OpenOptions {
            clock,
            ..OpenOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| unreachable!("{e}"));
    let append = |i: i64| {
        let store = &store;
        async move {
            store
                .append_audit(
                    &Actor::system(),
                    &AuditEvent::new("test.event", "x", None, serde_json::json!({ "i": i })),
                )
                .await
                .unwrap_or_else(|e| unreachable!("{e}"))
        }
    };
    for i in 0..5 {
        append(i).await;
    }
    let all = store
        .audit_records(0, 1000)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
        .len() as u64;
    let cache = ChainCache::default();
    let first = cache
        .status(&store)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert!(first.is_intact());
    assert_eq!((first.records, first.walked), (all, all));
    let again = cache
        .status(&store)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(
        (again.records, again.walked),
        (all, 0),
        "same head: no walk"
    );
    append(5).await;
    append(6).await;
    let grown = cache
        .status(&store)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(
        (grown.records, grown.walked),
        (all + 2, 2),
        "only the new records"
    );
    assert_eq!(grown.full_walk_at, first.full_walk_at);

    // An old record edited: not seen while the cache is fresh (the head did not move), found
    // by the whole walk once the last one is older than FULL_WALK_EVERY.
    sqlx::raw_sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        .execute(store.raw_pool())
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    let cached = cache
        .status(&store)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert!(cached.is_intact() && cached.walked == 0);
    skew.store(FULL_WALK_EVERY.whole_seconds() + 60, Ordering::SeqCst);
    let rewalked = cache
        .status(&store)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert!(!rewalked.is_intact(), "{rewalked:?}");
    assert_eq!(rewalked.broken.as_ref().map(|b| b.seq), Some(2));
    assert!(rewalked.full_walk_at > first.full_walk_at);
    assert_eq!(
        store
            .verify_audit()
            .await
            .unwrap_or_else(|e| unreachable!("{e}"))
            .broken
            .map(|b| b.seq),
        Some(2),
        "the same answer as the store's own walk"
    );
}
