//! The HTTP adapters of the environment operations ([`super::api`]).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use warden_store::{EnvironmentFilter, EnvironmentState};

use super::api::{self, ExtendRequest, LaunchRequest};
use crate::error::ApiError;
use crate::ops::AppState;
use crate::{approval_id, body, json_body, query, token};

/// `GET /v1/blueprints`.
pub async fn list_blueprints(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let list = api::blueprints(&state, &token).await?;
    Ok(Json(json!({
        "blueprints": list.iter().map(api::blueprint_json).collect::<Vec<_>>()
    })))
}

/// `POST /v1/blueprints`: the body is the blueprint file (YAML).
pub async fn publish_blueprint(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let bytes = body(bytes)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::bad_request("the blueprint file is not UTF-8 text"))?;
    let b = api::publish(&state, &token, "blueprint", text).await?;
    Ok(Json(api::blueprint_json(&b)))
}

/// `GET /v1/blueprints/{name}`.
pub async fn get_blueprint(
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let Path(name) = name.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let b = api::blueprint(&state, &token, &name).await?;
    Ok(Json(api::blueprint_json(&b)))
}

/// `?space=&state=` of the environment list.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    space: Option<String>,
    state: Option<String>,
}

/// `GET /v1/environments[?space=&state=]`.
pub async fn list_environments(
    State(state): State<AppState>,
    q: Result<Query<ListQuery>, QueryRejection>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let q = query(q)?;
    let filter_state = q
        .state
        .as_deref()
        .map(|s| {
            EnvironmentState::parse(s).ok_or_else(|| {
                let names: Vec<&str> = EnvironmentState::ALL.iter().map(|s| s.as_str()).collect();
                ApiError::bad_request(format!("unknown state `{s}` ({})", names.join(", ")))
            })
        })
        .transpose()?;
    let list = api::environments(&state, &token, q.space.as_deref(), filter_state).await?;
    Ok(Json(json!({
        "environments": list.iter().map(api::environment_json).collect::<Vec<_>>()
    })))
}

/// `POST /v1/environments`: launch.
pub async fn launch(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let request: LaunchRequest = json_body(&body(bytes)?)?;
    if request.blueprint.is_empty() || request.space.is_empty() {
        return Err(ApiError::bad_request(
            "`blueprint` and `space` are required",
        ));
    }
    Ok(Json(api::launch(&state, &token, &request).await?.to_json()))
}

/// `GET /v1/environments/{id}`: the environment and its events.
pub async fn get_environment(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    let env = api::environment(&state, &token, id).await?;
    let events = state
        .store
        .environment_events(id)
        .await
        .map_err(|e| ApiError::store("reading the environment's events", e))?;
    let mut v = api::environment_json(&env);
    if let Value::Object(m) = &mut v {
        m.insert(
            "events".into(),
            events
                .iter()
                .map(|e| {
                    json!({
                        "at": warden_store::model::audit_time(e.at),
                        "actor": e.actor,
                        "kind": e.kind,
                        "from": e.from_state.map(EnvironmentState::as_str),
                        "to": e.to_state.as_str(),
                        "detail": e.detail,
                    })
                })
                .collect(),
        );
    }
    Ok(Json(v))
}

/// `POST /v1/environments/{id}/extend` (`{"until": RFC 3339}` or `{"by": "4h"}`).
pub async fn extend(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: axum::http::HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    let request: ExtendRequest = json_body(&body(bytes)?)?;
    Ok(Json(
        api::extend(&state, &token, id, &request).await?.to_json(),
    ))
}

/// `POST /v1/environments/{id}/terminate`.
pub async fn terminate(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = token(&state, &headers).await?;
    let id = approval_id(id)?;
    Ok(Json(api::terminate(&state, &token, id).await?.to_json()))
}

/// The environment gauges for `/metrics`, read from the store.
pub async fn gauges(state: &AppState) -> Result<String, ApiError> {
    let all = state
        .store
        .environments(&EnvironmentFilter::default())
        .await
        .map_err(|e| ApiError::store("reading metrics", e))?;
    let mut by_state = std::collections::BTreeMap::new();
    for s in EnvironmentState::ALL {
        by_state.insert(s.as_str().to_owned(), 0u64);
    }
    for e in &all {
        *by_state.entry(e.state.as_str().to_owned()).or_default() += 1;
    }
    let running: Vec<_> = all.into_iter().filter(|e| e.state.is_live()).collect();
    let cost = super::checkpoint::running_cost_by_space(&running);
    Ok(crate::metrics::render_environments(&by_state, &cost))
}
