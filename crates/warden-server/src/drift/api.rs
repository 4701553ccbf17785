//! The drift operations behind `/v1/drift`, with their authorisation: submitting a scan
//! needs `requester` (pipelines and people that run scans hold it) in the space; reading
//! drift needs any role in the space (viewer is enough).

use serde_json::{json, Map, Value};
use warden_store::{Actor, DriftEvent, DriftFilter, DriftScan, DriftState, Role, Token};

use super::attribution::rfc3339;
use super::scan::{self, ScanOf, Scanned};
use crate::error::ApiError;
use crate::ops::{require_role, require_space, AppState};

/// `POST /v1/drift/scans?space=S&target=T`: scans the body (a refresh-only plan, or
/// `{"manifests", "live"}`) as `target` of `space` and records it. The answer is
/// [`scan_json`].
pub async fn submit(
    state: &AppState,
    token: &Token,
    space: &str,
    target: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    require_role(token, Role::Requester, "submitting a drift scan")?;
    require_space(token, space)?;
    let started_at = state.store.now();
    let comparison = scan::compare(body).map_err(ApiError::bad_request)?;
    if state
        .store
        .space(space)
        .await
        .map_err(|e| ApiError::store("looking up the space", e))?
        .is_none()
    {
        return Err(ApiError::NotFound(format!(
            "space `{space}` does not exist"
        )));
    }
    let report = scan::report(state, space, comparison, started_at).await?;
    let of = ScanOf {
        space,
        target,
        source: "api",
        started_at,
    };
    let scanned = scan::record(state, &Actor::from_token(token), of, Ok(report)).await?;
    scan_json(&scanned)
}

/// What a recorded scan answers: `scan`, the `report` (each drifted resource with its
/// `event_id`, `event` — `opened` or `kept` — and `attribution`), the `resolved` events, and
/// `text`: the report as `warden drift` prints it, with attribution and resolutions.
pub fn scan_json(scanned: &Scanned) -> Result<Value, ApiError> {
    let result = &scanned.result;
    let mut out = Map::new();
    out.insert("scan".into(), scan_record_json(&result.scan));
    let mut text = String::new();
    if let Some(report) = &scanned.report {
        let mut value = serde_json::to_value(report).map_err(|e| ApiError::Internal {
            public: "the drift report could not be serialized".into(),
            detail: e.to_string(),
        })?;
        if let Some(Value::Array(drifted)) = value.get_mut("drifted") {
            for r in drifted.iter_mut() {
                let address = r["address"].as_str().unwrap_or_default().to_owned();
                let found = result
                    .opened
                    .iter()
                    .map(|e| (e, "opened"))
                    .chain(result.kept.iter().map(|e| (e, "kept")))
                    .find(|(e, _)| e.address == address);
                if let (Some((e, how)), Some(obj)) = (found, r.as_object_mut()) {
                    obj.insert("event_id".into(), json!(e.id));
                    obj.insert("event".into(), json!(how));
                    obj.insert("attribution".into(), e.attribution.clone());
                }
            }
        }
        out.insert("report".into(), value);
        text.push_str(&warden_core::drift::render::text(report));
    }
    for (e, how) in result
        .opened
        .iter()
        .map(|e| (e, "opened"))
        .chain(result.kept.iter().map(|e| (e, "still open")))
    {
        let who = e.attribution["summary"].as_str().unwrap_or("unknown");
        text.push_str(&format!(
            "drift event {} ({how}) {}: {who}\n",
            e.id, e.address
        ));
    }
    for e in &result.resolved {
        text.push_str(&format!(
            "drift event {} resolved: {} is back in line\n",
            e.id, e.address
        ));
    }
    if let Some(error) = &result.scan.error {
        text.push_str(&format!("scan failed: {error}\n"));
    }
    out.insert(
        "resolved".into(),
        Value::Array(result.resolved.iter().map(event_json).collect()),
    );
    out.insert("text".into(), Value::String(text));
    Ok(Value::Object(out))
}

/// `GET /v1/drift?space=&target=&state=open|resolved&limit=`: drift events in the token's
/// spaces, newest first.
pub async fn list(
    state: &AppState,
    token: &Token,
    space: Option<&str>,
    target: Option<&str>,
    drift_state: Option<&str>,
    limit: Option<u32>,
) -> Result<Value, ApiError> {
    require_reader(token)?;
    if let Some(space) = space {
        require_space(token, space)?;
    }
    let drift_state = match drift_state {
        None | Some("") => None,
        Some("open") => Some(DriftState::Open),
        Some("resolved") => Some(DriftState::Resolved),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown state `{other}` (open, resolved)"
            )))
        }
    };
    let events = state
        .store
        .drift_events(&DriftFilter {
            space: space.map(str::to_owned),
            target: target.map(str::to_owned),
            state: drift_state,
            limit: limit.unwrap_or(500),
        })
        .await
        .map_err(|e| ApiError::store("listing drift", e))?;
    let visible: Vec<Value> = events
        .iter()
        .filter(|e| token.allows_space(&e.space))
        .map(event_json)
        .collect();
    Ok(json!({ "drift": visible }))
}

/// `GET /v1/drift/{id}`: one drift event the token may see.
pub async fn get(state: &AppState, token: &Token, id: i64) -> Result<Value, ApiError> {
    require_reader(token)?;
    let not_found = || ApiError::NotFound(format!("drift event {id} not found"));
    let e = state
        .store
        .drift_event(id)
        .await
        .map_err(|e| ApiError::store("reading the drift event", e))?
        .ok_or_else(not_found)?;
    if !token.allows_space(&e.space) {
        // Do not reveal events in other spaces.
        return Err(not_found());
    }
    Ok(event_json(&e))
}

/// Fails unless the token has a role (viewer is enough).
pub(crate) fn require_reader(token: &Token) -> Result<(), ApiError> {
    if token.roles.is_empty() {
        return Err(ApiError::Forbidden(format!(
            "reading drift needs a role (viewer is enough); token `{}` has none",
            token.name
        )));
    }
    Ok(())
}

/// A drift event as the API shows it.
#[must_use]
pub fn event_json(e: &DriftEvent) -> Value {
    json!({
        "id": e.id,
        "space": e.space,
        "target": e.target,
        "address": e.address,
        "resource_kind": e.resource_kind,
        "status": e.status,
        "state": if e.is_open() { "open" } else { "resolved" },
        "changes": e.changes,
        "introduced": e.introduced,
        "severity": e.severity,
        "attribution": e.attribution,
        "remediation": e.remediation,
        "opened_scan": e.opened_scan,
        "opened_at": rfc3339(e.opened_at),
        "last_scan": e.last_scan,
        "last_seen_at": rfc3339(e.last_seen_at),
        "resolved_scan": e.resolved_scan,
        "resolved_at": e.resolved_at.map(rfc3339),
    })
}

/// A drift scan as the API shows it.
#[must_use]
pub fn scan_record_json(s: &DriftScan) -> Value {
    json!({
        "id": s.id,
        "space": s.space,
        "target": s.target,
        "source": s.source,
        "actor": s.actor,
        "started_at": rfc3339(s.started_at),
        "finished_at": rfc3339(s.finished_at),
        "compared": s.compared,
        "drifted": s.drifted,
        "result": s.result(),
        "error": s.error,
        "summary": s.summary,
    })
}
