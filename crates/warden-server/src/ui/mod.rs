//! The web dashboard served by `warden serve` under `/ui`: server-rendered HTML ([`maud`],
//! escaped by default), one small script and one stylesheet embedded in the binary
//! ([`assets`]), charts drawn as SVG on the server ([`svg`]). No CDN, works offline.
//!
//! Security: a token logs in once and becomes a server-side session ([`session`]: random
//! secret in an `HttpOnly; SameSite=Strict` cookie, only its hash in the store, so replicas
//! share sessions); every form carries the session's CSRF token and every POST is checked
//! against it and the request's `Origin`/`Sec-Fetch-Site` ([`csrf`]); every response has a
//! strict Content-Security-Policy (no inline script or style) and `nosniff`,
//! `Referrer-Policy`, `frame-ancestors 'none'`. Every action calls the same [`crate::ops`]
//! function as the JSON API, so an agent's token is refused here exactly as there.
//!
//! One file per page; a page is a `GET` handler rendering [`layout::page`] and, for its
//! forms, `POST` handlers that check the CSRF token, call `ops`, and redirect with a notice
//! or render the page again with the refusal. The audit chain's status is verified per chain
//! head ([`chain`]), not by a walk of the whole log on every visit.

pub mod approvals;
pub mod assets;
pub mod audit;
pub mod chain;
pub mod csrf;
pub mod decisions;
pub mod drift;
pub mod environments;
pub mod exceptions;
pub mod layout;
pub mod overview;
pub mod session;
pub mod svg;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::ops::AppState;

/// The dashboard's settings.
#[derive(Debug, Clone, Default)]
pub struct UiSettings {
    /// Mark the session cookie `Secure` (set when serving over TLS, or behind a proxy that
    /// terminates it).
    pub secure_cookies: bool,
}

/// The Content-Security-Policy of every dashboard response: only this origin's script and
/// stylesheet, no inline code, no framing, forms only to this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The dashboard's routes (`/` redirects to `/ui/`). Not in the OpenAPI table: they serve
/// HTML to a browser, not the JSON API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(overview::page))
        .route("/ui/", get(overview::page))
        .route("/ui/login", get(session::login_form).post(session::login))
        .route("/ui/logout", post(session::logout))
        .route("/ui/decisions", get(decisions::list))
        .route("/ui/decisions/rows", get(decisions::rows))
        .route("/ui/decisions/{id}", get(decisions::detail))
        .route("/ui/approvals", get(approvals::page))
        .route("/ui/approvals/{id}/approve", post(approvals::approve))
        .route("/ui/approvals/{id}/reject", post(approvals::reject))
        .route(
            "/ui/exceptions",
            get(exceptions::page).post(exceptions::request),
        )
        .route("/ui/exceptions/{id}/{action}", post(exceptions::decide))
        .route("/ui/environments", get(environments::page))
        .route("/ui/environments/{id}", get(environments::detail))
        .route("/ui/environments/{id}/extend", post(environments::extend))
        .route(
            "/ui/environments/{id}/terminate",
            post(environments::terminate),
        )
        .route("/ui/drift", get(drift::page))
        .route("/ui/audit", get(audit::page))
        .route("/ui/assets/{name}", get(assets::serve))
        .route("/ui/{*rest}", get(not_found))
        .layer(axum::middleware::map_response(security_headers))
}

/// The headers every dashboard response carries; pages are never cached (assets set their
/// own long cache).
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    layout::error_page(
        &viewer,
        layout::Nav::Overview,
        StatusCode::NOT_FOUND,
        "There is no such page.",
    )
}

/// A `303 See Other` to a dashboard page (after a form).
pub(crate) fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}
