//! The approvals queue: requests with the change digest and what the change would do;
//! approve with a note or reject with a reason through [`ops::approve`] and [`ops::reject`],
//! so the requester, agents and tokens without the role are refused as the API refuses them.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;
use warden_store::{Approval, ApprovalState};

use super::layout::{self, Nav, Notice};
use super::session::{self, csrf_field, Viewer};
use super::{csrf, see_other};
use crate::error::ApiError;
use crate::ops::{self, AppState};

/// The page's query string.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    state: Option<String>,
    done: Option<String>,
    id: Option<i64>,
}

const TABS: [(&str, &str); 5] = [
    ("pending", "Pending"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("expired", "Expired"),
    ("all", "All"),
];

/// `GET /ui/approvals`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let notice = match (q.done.as_deref(), q.id) {
        (Some("approved"), Some(id)) => Some(Notice::Done(format!(
            "Your approval of request #{id} is recorded."
        ))),
        (Some("rejected"), Some(id)) => Some(Notice::Done(format!("Request #{id} is rejected."))),
        _ => None,
    };
    render(&state, &viewer, q.state.as_deref(), notice, None).await
}

/// Renders the page with a notice (after a form) and a status for refusals.
async fn render(
    state: &AppState,
    viewer: &Viewer,
    tab: Option<&str>,
    notice: Option<Notice>,
    status: Option<axum::http::StatusCode>,
) -> Response {
    let tab = TABS
        .iter()
        .map(|(k, _)| *k)
        .find(|k| Some(*k) == tab)
        .unwrap_or("pending");
    match content(state, viewer, tab).await {
        Ok(content) => {
            let page = layout::page(
                viewer,
                Nav::Approvals,
                "Approvals",
                notice.as_ref(),
                content,
            );
            (status.unwrap_or(axum::http::StatusCode::OK), page).into_response()
        }
        Err(e) => layout::api_error(viewer, Nav::Approvals, &e),
    }
}

async fn content(state: &AppState, viewer: &Viewer, tab: &str) -> Result<Markup, ApiError> {
    let store = state.store.as_ref();
    let all = ops::approvals(store, &viewer.token, None, None).await?;
    let count = |s: &str| {
        all.iter()
            .filter(|a| s == "all" || a.state.as_str() == s)
            .count()
    };
    let shown: Vec<&Approval> = all
        .iter()
        .filter(|a| tab == "all" || a.state.as_str() == tab)
        .collect();
    let mut cards = Vec::with_capacity(shown.len());
    for a in shown.iter().take(100) {
        let decision = match a.decision_id {
            Some(id) => ops::decision(store, &viewer.token, id)
                .await
                .ok()
                .and_then(|d| d.document_value().ok()),
            None => None,
        };
        cards.push(card(viewer, a, decision.as_ref()));
    }
    let is_agent = viewer.token.kind == warden_core::ActorKind::Agent;
    Ok(html! {
        nav.tabs aria-label="State" {
            @for (k, label) in TABS {
                a href=(format!("/ui/approvals?state={k}")) class=@if k == tab { "active" } {
                    (label) span.count { (count(k)) }
                }
            }
        }
        @if is_agent && tab == "pending" {
            p.alert.info { "You are signed in with an agent's token: agents never approve or reject; a person does." }
        }
        @if cards.is_empty() {
            div.panel { (layout::empty(
                if tab == "pending" { "Nothing waiting for approval" } else { "No requests here" },
                html! { "A change whose decision is " strong { "require_approval" } " opens a request bound to its exact digest; it shows up here." },
            )) }
        }
        @for c in cards { (c) }
    })
}

fn card(viewer: &Viewer, a: &Approval, decision: Option<&Value>) -> Markup {
    let pending = a.state == ApprovalState::Pending;
    html! {
        article.request id=(format!("approval-{}", a.id)) {
            div.request-head {
                div {
                    h3 { "#" (a.id) " · " (a.subject) }
                    div.request-meta {
                        "space " strong { (a.space) } " · requested by " (a.requested_by) " " (layout::kind_chip(&a.requester_kind))
                        " · " (layout::when(viewer.now, a.created_at))
                        @if let (true, Some(exp)) = (pending, a.expires_at) { " · expires " (layout::when(viewer.now, exp)) }
                    }
                }
                (layout::state_badge(a.state.as_str()))
            }
            div.would {
                div { "Change " (layout::digest(&a.change_digest))
                    @if let Some(id) = a.decision_id { " · " a href=(format!("/ui/decisions/{id}")) { "decision #" (id) } } }
                @if let Some(d) = decision { (would_do(d)) }
                div.muted.small { "Approvals: " (a.approvers.len()) " of " (a.required)
                    @if !a.approvers.is_empty() { " (" (a.approvers.join(", ")) ")" }
                    " · approver roles: " (a.approver_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")) }
                @if let Some(by) = &a.resolved_by { div.muted.small { "Resolved by " (by) @if let Some(r) = &a.reason { ": " (r) } } }
            }
            @if pending {
                div.actions {
                    form.inline method="post" action=(format!("/ui/approvals/{}/approve", a.id)) {
                        (csrf_field(viewer))
                        input type="text" name="note" placeholder="Note (optional)" aria-label="Approval note";
                        button.approve type="submit" { "Approve" }
                    }
                    form.inline method="post" action=(format!("/ui/approvals/{}/reject", a.id)) {
                        (csrf_field(viewer))
                        input type="text" name="reason" placeholder="Reason (required)" aria-label="Rejection reason";
                        button.danger type="submit" { "Reject" }
                    }
                }
            }
        }
    }
}

/// What the change would do: its resources and the findings that hold it.
fn would_do(d: &Value) -> Markup {
    let held: Vec<&Value> = d["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter(|f| f["enforcement"] == "require_approval" || f["enforcement"] == "deny")
                .collect()
        })
        .unwrap_or_default();
    let resources = d["summary"]["resources"].as_u64().unwrap_or(0);
    let delta = d["cost"]["delta"].as_f64();
    html! {
        div {
            (layout::plural(resources, "resource", "resources")) " changed"
            @if let Some(delta) = delta { " · " (layout::money_delta(delta)) }
            @if let Some(score) = d["risk"]["score"].as_u64() { " · risk " (score) "/100" }
        }
        @if !held.is_empty() {
            ul {
                @for f in held.iter().take(8) {
                    li { code { (f["rule_id"].as_str().unwrap_or_default()) } " on " code { (f["resource"].as_str().unwrap_or_default()) } ": " (f["message"].as_str().unwrap_or_default()) }
                }
                @if held.len() > 8 { li.muted { (held.len() - 8) " more" } }
            }
        }
    }
}

/// An approve or reject form.
#[derive(Debug, Deserialize)]
pub struct DecideForm {
    csrf: Option<String>,
    note: Option<String>,
    reason: Option<String>,
}

/// `POST /ui/approvals/{id}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<DecideForm>,
) -> Response {
    decide(state, headers, id, form, true).await
}

/// `POST /ui/approvals/{id}/reject`.
pub async fn reject(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<DecideForm>,
) -> Response {
    decide(state, headers, id, form, false).await
}

async fn decide(
    state: AppState,
    headers: HeaderMap,
    id: i64,
    form: DecideForm,
    approve: bool,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let store = state.store.as_ref();
    let result = async {
        csrf::check(&headers, &viewer.csrf, form.csrf.as_deref())?;
        if approve {
            let note = form
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty());
            let a = ops::approve(store, &viewer.token, id, note).await?;
            if let (ApprovalState::Approved, Some(at)) = (a.state, a.resolved_at) {
                state
                    .metrics
                    .approved_after((at - a.created_at).as_seconds_f64());
            }
        } else {
            ops::reject(
                store,
                &viewer.token,
                id,
                form.reason.as_deref().unwrap_or_default(),
            )
            .await?;
        }
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => see_other(&format!(
            "/ui/approvals?done={}&id={id}",
            if approve { "approved" } else { "rejected" }
        )),
        Err(e) => {
            let doing = if approve { "approve" } else { "reject" };
            render(
                &state,
                &viewer,
                Some("pending"),
                Some(Notice::Error(format!(
                    "Could not {doing} request #{id}: {e}"
                ))),
                Some(e.status()),
            )
            .await
        }
    }
}
