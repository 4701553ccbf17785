//! Login, logout and the session behind every page.
//!
//! Logging in takes an API token once ([`crate::ops::authenticate_secret`]) and opens a
//! server-side session: a random secret goes to the browser as an `HttpOnly;
//! SameSite=Strict` cookie, the store keeps only its hash (so several replicas share
//! sessions), and the session ends at its expiry, at logout, or when its token is revoked.
//! The login form has its own CSRF token, a random value in a short-lived cookie that the
//! form must repeat.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use time::OffsetDateTime;
use warden_store::Token;

use super::{csrf, layout, see_other};
use crate::error::ApiError;
use crate::ops::{self, AppState};

/// The session cookie's name.
pub const COOKIE: &str = "warden_session";

/// The login form's CSRF cookie.
const LOGIN_COOKIE: &str = "warden_login";

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;

/// Who is looking at a page: the session's token and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The token the session acts as (never rendered: only its name, principal and roles).
    pub token: Token,
    /// The session's CSRF token.
    pub csrf: String,
    /// The store's time when the request came in.
    pub now: OffsetDateTime,
}

/// A cookie's value from the request.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// 32 random bytes as hex.
fn random_hex() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal {
        public: "no randomness for a session".into(),
        detail: e.to_string(),
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The viewer of a request, or the response to send instead: a redirect to the login page
/// without a live session, a 429 over the token's rate limit.
pub async fn viewer(state: &AppState, headers: &HeaderMap) -> Result<Viewer, Response> {
    let Some(secret) = cookie(headers, COOKIE).filter(|s| !s.is_empty()) else {
        return Err(see_other("/ui/login"));
    };
    let session = state
        .store
        .session(&warden_store::token_hash(secret))
        .await
        .map_err(|e| plain_error(&ApiError::store("reading the session", e)))?;
    let Some(session) = session else {
        return Err(see_other("/ui/login"));
    };
    if let Err(wait) = state.rate_limiter.check(session.token.id) {
        return Err(plain_error(&ApiError::TooManyRequests {
            message: format!(
                "token `{}` is over its rate limit; retry in {:.1} s",
                session.token.name,
                wait.as_secs_f64()
            ),
            retry_after: wait,
        }));
    }
    Ok(Viewer {
        token: session.token,
        csrf: csrf::token_for(secret),
        now: state.store.now(),
    })
}

/// An error outside any page (no session to draw the navigation for).
fn plain_error(e: &ApiError) -> Response {
    let body = layout::bare(
        "Warden",
        html! {
            div.login-card {
                h1 { "Something went wrong" }
                p.alert.error { (e.to_string()) }
                a href="/ui/" { "Back to the dashboard" }
            }
        },
    );
    (e.status(), body).into_response()
}

/// The login page.
pub async fn login_form() -> Response {
    login_page(StatusCode::OK, None)
}

fn login_page(status: StatusCode, error: Option<&str>) -> Response {
    let nonce = match random_hex() {
        Ok(n) => n,
        Err(e) => return plain_error(&e),
    };
    let body = layout::bare(
        "Sign in · Warden",
        html! {
            div.login-card {
                div.brand.big { (layout::logo()) span { "Warden" } }
                h1 { "Sign in to the dashboard" }
                p.muted { "Paste an API token (" code { "warden token create" } "). It is checked once; the browser keeps only a session cookie, and the token's roles decide what you may do." }
                @if let Some(error) = error {
                    p.alert.error role="alert" { (error) }
                }
                form method="post" action="/ui/login" {
                    input type="hidden" name="csrf" value=(nonce);
                    label for="token" { "API token" }
                    input #token type="password" name="token" autocomplete="off" required autofocus placeholder="wdn_…";
                    button.primary type="submit" { "Sign in" }
                }
            }
        },
    );
    (
        status,
        [(
            header::SET_COOKIE,
            format!(
                "{LOGIN_COOKIE}={nonce}; HttpOnly; SameSite=Strict; Path=/ui/login; Max-Age=900"
            ),
        )],
        body,
    )
        .into_response()
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
    csrf: String,
}

/// Checks the token and opens a session.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return login_page(StatusCode::BAD_REQUEST, Some("The form was incomplete."));
    };
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if let Err(e) = csrf::check(&headers, expected, Some(&form.csrf)).and_then(|()| {
        if expected.is_empty() {
            Err(ApiError::Forbidden("the login form expired".into()))
        } else {
            Ok(())
        }
    }) {
        return login_page(e.status(), Some(&format!("{e}. Try again.")));
    }
    let token = match ops::authenticate_secret(state.store.as_ref(), form.token.trim()).await {
        Ok(t) => t,
        Err(ApiError::Unauthorized(_)) => {
            return login_page(
                StatusCode::UNAUTHORIZED,
                Some("That token is unknown or revoked."),
            )
        }
        Err(e) => return login_page(e.status(), Some(&e.to_string())),
    };
    match open_session(&state, &token).await {
        Ok(secret) => {
            let secure = if state.ui.secure_cookies {
                "; Secure"
            } else {
                ""
            };
            with_cookies(
                see_other("/ui/"),
                &[
                    format!(
                        "{COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
                        SESSION_HOURS * 3600
                    ),
                    format!(
                        "{LOGIN_COOKIE}=; HttpOnly; SameSite=Strict; Path=/ui/login; Max-Age=0"
                    ),
                ],
            )
        }
        Err(e) => login_page(e.status(), Some(&e.to_string())),
    }
}

async fn open_session(state: &AppState, token: &Token) -> Result<String, ApiError> {
    let secret = random_hex()?;
    let expires = state.store.now() + time::Duration::hours(SESSION_HOURS);
    state
        .store
        .create_session(token, &warden_store::token_hash(&secret), expires)
        .await
        .map_err(|e| ApiError::store("opening the session", e))?;
    Ok(secret)
}

/// The logout form's fields.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// Ends the session.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(secret) = cookie(&headers, COOKIE) else {
        return see_other("/ui/login");
    };
    if let Err(e) = csrf::check(&headers, &csrf::token_for(secret), form.csrf.as_deref()) {
        return plain_error(&e);
    }
    if let Err(e) = state
        .store
        .end_session(&warden_store::token_hash(secret))
        .await
    {
        return plain_error(&ApiError::store("ending the session", e));
    }
    with_cookies(
        see_other("/ui/login"),
        &[format!(
            "{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
        )],
    )
}

/// Adds `Set-Cookie` headers (one each: a header array would keep only the last).
fn with_cookies(mut response: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = header::HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// The hidden field every form of the session carries.
#[must_use]
pub fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="csrf" value=(viewer.csrf); }
}
