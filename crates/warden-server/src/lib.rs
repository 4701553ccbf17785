//! Warden's control plane over HTTP.
//!
//! [`router`] builds the whole API from an [`AppState`] (the policy and the store), so tests
//! drive it with `oneshot` and no socket; [`serve`] runs it on a listener until a shutdown
//! signal, finishing in-flight requests. Handlers are protocol adapters: authorisation and
//! the work live in [`ops`], which the `warden` commands call too.
//!
//! Endpoints: `POST /v1/evaluate?space=S[&subject=X]`, `GET /v1/approvals[?space=&state=]`,
//! `GET /v1/approvals/{id}`, `POST /v1/approvals/{id}/approve` (body optional:
//! `{"note": "..."}`), `POST /v1/approvals/{id}/reject` (`{"reason": "..."}`),
//! `POST /v1/exceptions?space=S` (`{"rule", "resource", "justification", "ticket", "days"}`),
//! `GET /v1/exceptions/{id}`, `POST /v1/exceptions/{id}/grant`,
//! `POST /v1/exceptions/{id}/reject` (`{"reason": "..."}`), `GET /v1/audit/verify` (viewer
//! over every space), `POST /v1/drift/scans?space=S&target=T` (a refresh-only plan, or
//! `{"manifests", "live"}`: [`drift`]), `GET /v1/drift[?space=&target=&state=open|resolved]`,
//! `GET /v1/drift/{id}`, `GET /healthz`, `GET /readyz`,
//! `GET /metrics` (Prometheus text; like the health endpoints, no token: it holds counts, no
//! content), `GET /openapi.json` (the OpenAPI 3.1 document of all of these, [`openapi`]).
//! `POST /v1/admission[?space=S]` is the Kubernetes validating admission webhook
//! ([`admission`]): served only over TLS ([`tls`]), it is the one `/v1` endpoint without a
//! token (kube-apiserver sends none).
//! `POST /mcp` is the MCP endpoint for AI agents (streamable HTTP, stateless; [`mcp`]): a
//! JSON-RPC protocol rather than a REST operation, so it is documented in `docs/mcp.md`
//! rather than the OpenAPI table.
//! Every other `/v1` endpoint and `/mcp` need a bearer token and count against that token's rate limit
//! ([`ratelimit`]; 429 with `Retry-After` when over it); errors are `{"error": "..."}`.

pub mod admission;
pub mod agents;
pub mod change_request;
pub mod drift;
pub mod environments;
pub mod error;
pub mod http_client;
pub mod mcp;
pub mod memo;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod ratelimit;
pub mod reload;
pub mod tls;
pub mod ui;

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use warden_store::{ApprovalState, Token};

pub use error::ApiError;
pub use ops::AppState;

/// Largest request body accepted (a 50 MiB plan is already a very large one).
pub const MAX_BODY_BYTES: usize = 50 * 1024 * 1024;

/// How long a request may take before it is answered 408 and dropped.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole API.
pub fn router(state: AppState) -> Router {
    router_with_limit(state, MAX_BODY_BYTES)
}

/// The whole API with another body size limit (tests use a small one).
pub fn router_with_limit(state: AppState, max_body_bytes: usize) -> Router {
    let mut router = Router::new();
    for (_, path, handler) in routes() {
        router = router.route(path, handler);
    }
    let mcp = Router::new()
        .route_service("/mcp", mcp::service(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            mcp_auth,
        ));
    router
        .merge(mcp)
        .merge(ui::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// Every endpoint: method, path and handler. The router and the OpenAPI document are both
/// built from this table, so an endpoint cannot be served without being documented.
fn routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::POST, "/v1/evaluate", post(evaluate)),
        (Method::GET, "/v1/decisions", get(list_decisions)),
        (Method::GET, "/v1/decisions/{id}", get(get_decision)),
        (Method::POST, "/v1/admission", post(admission_review)),
        (Method::GET, "/v1/approvals", get(list_approvals)),
        (Method::GET, "/v1/approvals/{id}", get(get_approval)),
        (Method::POST, "/v1/approvals/{id}/approve", post(approve)),
        (Method::POST, "/v1/approvals/{id}/reject", post(reject)),
        (Method::POST, "/v1/exceptions", post(request_exception)),
        (Method::GET, "/v1/exceptions/{id}", get(get_exception)),
        (
            Method::POST,
            "/v1/exceptions/{id}/grant",
            post(grant_exception),
        ),
        (
            Method::POST,
            "/v1/exceptions/{id}/reject",
            post(reject_exception),
        ),
        (Method::POST, "/v1/drift/scans", post(drift_scan)),
        (Method::GET, "/v1/drift", get(list_drift)),
        (Method::GET, "/v1/drift/{id}", get(get_drift)),
        (
            Method::GET,
            "/v1/blueprints",
            get(environments::handlers::list_blueprints),
        ),
        (
            Method::POST,
            "/v1/blueprints",
            post(environments::handlers::publish_blueprint),
        ),
        (
            Method::GET,
            "/v1/blueprints/{name}",
            get(environments::handlers::get_blueprint),
        ),
        (
            Method::GET,
            "/v1/environments",
            get(environments::handlers::list_environments),
        ),
        (
            Method::POST,
            "/v1/environments",
            post(environments::handlers::launch),
        ),
        (
            Method::GET,
            "/v1/environments/{id}",
            get(environments::handlers::get_environment),
        ),
        (
            Method::POST,
            "/v1/environments/{id}/extend",
            post(environments::handlers::extend),
        ),
        (
            Method::POST,
            "/v1/environments/{id}/terminate",
            post(environments::handlers::terminate),
        ),
        (
            Method::POST,
            "/v1/exceptions/{id}/revoke",
            post(revoke_exception),
        ),
        (Method::GET, "/v1/audit/verify", get(verify_audit)),
        (Method::GET, "/healthz", get(healthz)),
        (Method::GET, "/readyz", get(readyz)),
        (Method::GET, "/metrics", get(metrics)),
        (Method::GET, "/openapi.json", get(openapi_json)),
    ]
}

/// The method and path of every endpoint the router serves, in table order.
#[must_use]
pub fn endpoints() -> Vec<(Method, &'static str)> {
    routes().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// Serves the API on the listener until `shutdown` completes, then stops accepting and
/// finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

pub(crate) async fn token(state: &AppState, headers: &HeaderMap) -> Result<Token, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::Unauthorized("the Authorization header is not text".into()))
        })
        .transpose()?;
    let token = ops::authenticate(state.store.as_ref(), header).await?;
    if let Err(wait) = state.rate_limiter.check(token.id) {
        return Err(ApiError::TooManyRequests {
            message: format!(
                "token `{}` is over its rate limit; retry in {:.1} s",
                token.name,
                wait.as_secs_f64()
            ),
            retry_after: wait,
        });
    }
    Ok(token)
}

pub(crate) fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|r| ApiError::BadRequest {
        status: r.status(),
        message: if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "the request body is larger than the server accepts".into()
        } else {
            r.body_text()
        },
    })
}

/// The JSON body of a request, or `T::default()` when it is empty.
pub(crate) fn json_body<T: for<'de> Deserialize<'de> + Default>(
    bytes: &[u8],
) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON here: {e}")))
}

pub(crate) fn query<T>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(format!("bad query string: {}", e.body_text())))
}

#[derive(Debug, Deserialize)]
struct EvaluateQuery {
    space: Option<String>,
    subject: Option<String>,
}

async fn evaluate(
    State(state): State<AppState>,
    q: Result<Query<EvaluateQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let token = token(&state, &headers).await?;
    let q = query(q)?;
    let bytes = body(bytes)?;
    let request = change_request::parse(&bytes)?;
    let context = request.as_ref().map(|r| &r.context);
    let space = match (
        q.space.as_deref().filter(|s| !s.is_empty()),
        context.and_then(|c| c.space.as_deref()),
    ) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::bad_request(format!(
                "the query names space `{a}` and the change request's context `{b}`"
            )))
        }
        (Some(s), _) | (None, Some(s)) => s,
        (None, None) => {
            return Err(ApiError::bad_request(
                "`space` query parameter is required (or `context.space` in a change request)",
            ))
        }
    };
    ops::evaluate(
        &state,
        &token,
        ops::EvaluateRequest {
            space,
            subject: q
                .subject
                .as_deref()
                .or_else(|| context.and_then(|c| c.subject.as_deref())),
            body: request.as_ref().map_or(&bytes[..], |r| &r.document[..]),
            request: request.as_ref(),
            open_approval: true,
            checkpoint: None,
        },
    )
    .await
    .map(|bytes| {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response()
    })
}

/// The admission webhook: no bearer token (kube-apiserver sends none; the TLS connection
/// is the authentication, and the endpoint is off without TLS). See [`admission`].
async fn admission_review(
    State(state): State<AppState>,
    q: Result<Query<SpaceQuery>, axum::extract::rejection::QueryRejection>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let bytes = body(bytes)?;
    admission::review(&state, q.space.as_deref(), &bytes)
        .await
        .map(Json)
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    space: Option<String>,
    state: Option<String>,
}

async fn list_approvals(
    State(state): State<AppState>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let q = query(q)?;
    let filter_state = q
        .state
        .as_deref()
        .map(|s| {
            ApprovalState::parse(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown state `{s}` (pending, approved, rejected, expired, superseded)"
                ))
            })
        })
        .transpose()?;
    let list = ops::approvals(
        state.store.as_ref(),
        &token,
        q.space.as_deref(),
        filter_state,
    )
    .await?;
    Ok(Json(json!({
        "approvals": list.iter().map(ops::approval_json).collect::<Vec<_>>()
    })))
}

/// A numeric id from the path.
pub(crate) fn approval_id(
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<i64, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::bad_request(e.body_text()))?;
    id.parse::<i64>()
        .map_err(|_| ApiError::bad_request(format!("id `{id}` is not a number")))
}

async fn get_approval(
    State(state): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    let a = ops::approval(state.store.as_ref(), &token, id).await?;
    Ok(Json(ops::approval_json(&a)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    note: Option<String>,
}

async fn approve(
    State(state): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    let b: ApproveBody = json_body(&body(bytes)?)?;
    let a = ops::approve(state.store.as_ref(), &token, id, b.note.as_deref()).await?;
    if let (ApprovalState::Approved, Some(at)) = (a.state, a.resolved_at) {
        state
            .metrics
            .approved_after((at - a.created_at).as_seconds_f64());
    }
    Ok(Json(ops::approval_json(&a)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason: Option<String>,
}

async fn reject(
    State(state): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    let b: RejectBody = json_body(&body(bytes)?)?;
    let reason = b
        .reason
        .ok_or_else(|| ApiError::bad_request("a rejection needs `{\"reason\": \"...\"}`"))?;
    let a = ops::reject(state.store.as_ref(), &token, id, &reason).await?;
    Ok(Json(ops::approval_json(&a)))
}

#[derive(Debug, Deserialize)]
struct SpaceQuery {
    space: Option<String>,
}

async fn request_exception(
    State(state): State<AppState>,
    q: Result<Query<SpaceQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let token = token(&state, &headers).await?;
    let q = query(q)?;
    let space = q
        .space
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("`space` query parameter is required"))?;
    let bytes = body(bytes)?;
    let request: ops::ExceptionRequest = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "an exception request is {{\"rule\", \"resource\", \"justification\", \"ticket\", \"days\"}}: {e}"
        ))
    })?;
    let e = ops::request_exception(state.store.as_ref(), &token, space, &request).await?;
    Ok((StatusCode::CREATED, Json(ops::exception_json(&e))))
}

async fn get_exception(
    State(state): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    let e = ops::exception(state.store.as_ref(), &token, id).await?;
    Ok(Json(ops::exception_json(&e)))
}

async fn grant_exception(
    State(state): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    let e = ops::decide_exception(state.store.as_ref(), &token, id, true, None).await?;
    Ok(Json(ops::exception_json(&e)))
}

async fn reject_exception(
    State(state): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    let b: RejectBody = json_body(&body(bytes)?)?;
    let e =
        ops::decide_exception(state.store.as_ref(), &token, id, false, b.reason.as_deref()).await?;
    Ok(Json(ops::exception_json(&e)))
}

#[derive(Debug, Deserialize)]
struct DriftScanQuery {
    space: Option<String>,
    target: Option<String>,
}

async fn drift_scan(
    State(state): State<AppState>,
    q: Result<Query<DriftScanQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let token = token(&state, &headers).await?;
    let q = query(q)?;
    let required = |v: Option<String>, name: &str| {
        v.filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::bad_request(format!("`{name}` query parameter is required")))
    };
    let space = required(q.space, "space")?;
    let target = required(q.target, "target")?;
    let bytes = body(bytes)?;
    let answer = drift::api::submit(&state, &token, &space, &target, &bytes).await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

#[derive(Debug, Deserialize)]
struct DriftListQuery {
    space: Option<String>,
    target: Option<String>,
    state: Option<String>,
    limit: Option<u32>,
}

async fn list_drift(
    State(state): State<AppState>,
    q: Result<Query<DriftListQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let q = query(q)?;
    let empty_none = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    drift::api::list(
        &state,
        &token,
        empty_none(&q.space).as_deref(),
        empty_none(&q.target).as_deref(),
        q.state.as_deref(),
        q.limit,
    )
    .await
    .map(Json)
}

async fn get_drift(
    State(state): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    drift::api::get(&state, &token, id).await.map(Json)
}

async fn revoke_exception(
    State(state): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    let b: RejectBody = json_body(&body(bytes)?)?;
    let reason = b
        .reason
        .ok_or_else(|| ApiError::bad_request("a revocation needs `{\"reason\": \"...\"}`"))?;
    let e = ops::revoke_exception(state.store.as_ref(), &token, id, &reason).await?;
    Ok(Json(ops::exception_json(&e)))
}

#[derive(Debug, Deserialize)]
struct DecisionsQuery {
    space: Option<String>,
    outcome: Option<String>,
    actor: Option<String>,
    actor_kind: Option<String>,
    since: Option<String>,
    until: Option<String>,
    before: Option<i64>,
    limit: Option<u32>,
}

/// An RFC 3339 time from the query string.
fn query_time(name: &str, value: Option<&str>) -> Result<Option<time::OffsetDateTime>, ApiError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).map_err(
                |e| ApiError::bad_request(format!("`{name}` is not an RFC 3339 time ({e}): `{v}`")),
            )
        })
        .transpose()
}

async fn list_decisions(
    State(state): State<AppState>,
    q: Result<Query<DecisionsQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let q = query(q)?;
    let outcome = q
        .outcome
        .as_deref()
        .filter(|o| !o.is_empty())
        .map(|o| {
            warden_store::model::parse_outcome(o).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown outcome `{o}` (allow, warn, require_approval, deny)"
                ))
            })
        })
        .transpose()?;
    let actor_kind = q.actor_kind.filter(|k| !k.is_empty());
    if let Some(k) = &actor_kind {
        if !["human", "agent", "pipeline", "system"].contains(&k.as_str()) {
            return Err(ApiError::bad_request(format!(
                "unknown actor_kind `{k}` (human, agent, pipeline, system)"
            )));
        }
    }
    let limit = q.limit.unwrap_or(50);
    let list = ops::decisions(
        state.store.as_ref(),
        &token,
        warden_store::DecisionQuery {
            within: None,
            space: q.space.filter(|s| !s.is_empty()),
            outcome,
            actor: q.actor.filter(|a| !a.is_empty()),
            actor_kind,
            since: query_time("since", q.since.as_deref())?,
            until: query_time("until", q.until.as_deref())?,
            before_id: q.before,
            limit,
        },
    )
    .await?;
    let next = (list.len() >= limit.clamp(1, warden_store::DecisionQuery::MAX_LIMIT) as usize)
        .then(|| list.last().map(|d| d.id))
        .flatten();
    Ok(Json(json!({
        "decisions": list.iter().map(ops::decision_summary_json).collect::<Vec<_>>(),
        "next_before": next,
    })))
}

async fn get_decision(
    State(state): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    let d = ops::decision(state.store.as_ref(), &token, id).await?;
    let mut out = ops::decision_summary_json(&(&d).into());
    let document = d
        .document_value()
        .map_err(|e| ApiError::store("reading the decision", e))?;
    if let Value::Object(o) = &mut out {
        o.remove("subject");
        o.remove("attempt");
        o.remove("cost_delta");
        o.insert("decision".into(), document);
    }
    Ok(Json(out))
}

async fn verify_audit(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    ops::verify_audit(state.store.as_ref(), &token)
        .await
        .map(Json)
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.audit_records(i64::MAX, 1).await {
        Ok(_) => Json(json!({
            "status": "ready",
            "policy_revision": state.policies.current().revision(),
        }))
        .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "the store is not reachable" })),
        )
            .into_response(),
    }
}

/// Prometheus text; the gauges are read from the store (503 when it cannot be read).
async fn metrics(State(state): State<AppState>) -> Response {
    let envs = environments::handlers::gauges(&state).await;
    match gauges(&state).await.and_then(|g| envs.map(|e| (g, e))) {
        Ok((g, g_env)) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            {
                let mut text = state.metrics.render(g, state.policies.current().revision());
                text.push_str(&g_env);
                text
            },
        )
            .into_response(),
        Err(e) => {
            let mut r = e.into_response();
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            r
        }
    }
}

async fn gauges(state: &AppState) -> Result<metrics::Gauges, ApiError> {
    let store = state.store.as_ref();
    let err = |e| ApiError::store("reading metrics", e);
    let pending = store
        .approvals(&warden_store::ApprovalFilter {
            space: None,
            state: Some(ApprovalState::Pending),
        })
        .await
        .map_err(err)?;
    let mut active = 0u64;
    for space in store.spaces().await.map_err(err)? {
        active += store
            .active_exceptions(&space.name)
            .await
            .map_err(err)?
            .len() as u64;
    }
    let drift = store
        .drift_stats(
            store.now() - metrics::DRIFT_RATE_WINDOW,
            &metrics::REMEDIATION_BUCKETS,
        )
        .await
        .map_err(err)?;
    Ok(metrics::Gauges {
        approvals_pending: pending.len() as u64,
        exceptions_active: active,
        drift,
    })
}

/// `/mcp` needs a bearer token as `/v1` does (401 without, 429 over the rate limit); the
/// token goes to the tools in the request's extensions.
async fn mcp_auth(
    State(state): State<AppState>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match token(&state, request.headers()).await {
        Ok(token) => {
            request.extensions_mut().insert(token);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

async fn openapi_json() -> Json<Value> {
    Json(openapi::document())
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}
