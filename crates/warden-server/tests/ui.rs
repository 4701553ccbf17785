//! The dashboard through `router(state).oneshot(...)`: login to a session cookie, the
//! security headers, CSRF and Origin checks, the same refusals as the API, and no token in
//! any page. The browser test (`crates/warden/tests/dashboard`) drives the same pages in
//! chromium.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;
use warden_core::ActorKind;
use warden_policy::{Policies, RegoOptions};
use warden_server::{ops, router, AppState};
use warden_store::{Actor, NewToken, OpenOptions, Role, SqliteStore, Store};

const COMPLIANT: &str = include_str!("../../../examples/terraform/compliant/plan.json");

async fn token(store: &dyn Store, name: &str, kind: ActorKind, roles: &[Role]) -> String {
    ops::create_token(
        store,
        &Actor::system(),
        &NewToken {
            name: name.into(),
            principal: name.into(),
            kind,
            roles: roles.to_vec(),
            spaces: vec!["dev".into()],
        },
    )
    .await
    .unwrap_or_else(|e| unreachable!("token {name}: {e}"))
    .1
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
    let store = Arc::new(
        SqliteStore::open_dir(dir.path(), OpenOptions::default())
            .await
            .unwrap_or_else(|e| unreachable!("{e}")),
    );
    let config = warden_policy::config::parse(
        "warden.toml",
        "[rules.required-tags-missing]\nenforcement = \"require_approval\"\ntags = { Team = '.+' }\n",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let policies = Policies::load(config, &[], &RegoOptions::default())
        .unwrap_or_else(|e| unreachable!("{e}"));
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
