//! Governed exceptions: requested, active (and expiring soon), and past ones; request,
//! grant, reject and revoke as the token's roles allow, through the same [`ops`] functions
//! as the API.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use time::Duration;
use warden_store::{ExceptionRecord, ExceptionState, Token};

use super::layout::{self, Nav, Notice};
use super::session::{self, csrf_field, Viewer};
use super::{csrf, see_other};
use crate::error::ApiError;
use crate::ops::{self, AppState};

/// An active exception expiring within this is "expiring soon".
const EXPIRING: Duration = Duration::days(7);

/// The spaces a token may see: its own, or every space for `*`.
pub async fn visible_spaces(state: &AppState, token: &Token) -> Result<Vec<String>, ApiError> {
    if token.spaces.iter().any(|s| s == "*") {
        Ok(state
            .store
            .spaces()
            .await
            .map_err(|e| ApiError::store("listing spaces", e))?
            .into_iter()
            .map(|s| s.name)
            .collect())
    } else {
        Ok(token.spaces.clone())
    }
}

/// The page's query string.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    done: Option<String>,
    id: Option<i64>,
}

/// `GET /ui/exceptions`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let notice = q.id.and_then(|id| {
        let what = match q.done.as_deref()? {
            "requested" => "requested; an approver grants or rejects it",
            "grant" => "granted",
            "reject" => "rejected",
            "revoke" => "revoked",
            _ => return None,
        };
        Some(Notice::Done(format!("Exception #{id} {what}.")))
    });
    render(&state, &viewer, notice, StatusCode::OK).await
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    match content(state, viewer).await {
        Ok(content) => (
            status,
            layout::page(
                viewer,
                Nav::Exceptions,
                "Exceptions",
                notice.as_ref(),
                content,
            ),
        )
            .into_response(),
        Err(e) => layout::api_error(viewer, Nav::Exceptions, &e),
    }
}

async fn content(state: &AppState, viewer: &Viewer) -> Result<Markup, ApiError> {
    let spaces = visible_spaces(state, &viewer.token).await?;
    let mut all: Vec<ExceptionRecord> = Vec::new();
    for space in &spaces {
        all.extend(
            state
                .store
                .exceptions(space)
                .await
                .map_err(|e| ApiError::store("listing exceptions", e))?,
        );
    }
    all.sort_by_key(|e| std::cmp::Reverse(e.id));
    let now = viewer.now;
    let open = |e: &ExceptionRecord| e.state == ExceptionState::Requested && e.expires_at > now;
    let requested: Vec<&ExceptionRecord> = all.iter().filter(|e| open(e)).collect();
    let active: Vec<&ExceptionRecord> = all.iter().filter(|e| e.is_active(now)).collect();
    let past: Vec<&ExceptionRecord> = all
        .iter()
        .filter(|e| !(e.is_active(now) || open(e)))
        .take(50)
        .collect();
    let writable: Vec<&String> = spaces
        .iter()
        .filter(|s| viewer.token.allows_space(s))
        .collect();
    Ok(html! {
        div.panel.flush {
            div.panel-head.padded { h2 { "Waiting for a decision (" (requested.len()) ")" } }
            @if requested.is_empty() {
                (layout::empty("No open requests", html! { "Requests from people and agents appear here for an approver to grant or reject." }))
            } @else {
                (table(viewer, &requested, Section::Requested))
            }
        }
        div.panel.flush {
            div.panel-head.padded { h2 { "Active (" (active.len()) ")" } }
            @if active.is_empty() {
                (layout::empty("No active exceptions", html! { "Every finding counts: no exception waives anything right now." }))
            } @else {
                (table(viewer, &active, Section::Active))
            }
        }
        div.panel.flush {
            div.panel-head.padded { h2 { "Expired, revoked and rejected" } }
            @if past.is_empty() {
                (layout::empty("Nothing here yet", html! { "Exceptions that ended stay listed for the record." }))
            } @else {
                (table(viewer, &past, Section::Past))
            }
        }
        div.panel {
            h2 { "Request an exception" }
            form method="post" action="/ui/exceptions" {
                (csrf_field(viewer))
                div.form-grid {
                    label { "Space"
                        select name="space" required {
                            @for s in &writable { option value=(s) { (s) } }
                        }
                    }
                    label { "Rule (id, name, or prefix)" input type="text" name="rule" required placeholder="WD-AWS-001"; }
                    label { "Resources (glob)" input type="text" name="resource" required placeholder="aws_s3_bucket.logs*"; }
                    label { "Days" input type="number" name="days" min="1" max="365" value="14" required; }
                    label { "Ticket" input type="text" name="ticket" placeholder="SEC-123"; }
                    label.wide { "Justification" textarea name="justification" rows="2" required placeholder="Why the rule cannot hold here, and until when" {} }
                }
                div.actions { button.primary type="submit" { "Request exception" } }
            }
        }
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Requested,
    Active,
    Past,
}

fn table(viewer: &Viewer, rows: &[&ExceptionRecord], section: Section) -> Markup {
    html! {
        table {
            thead { tr {
                th { "#" } th { "Space" } th { "Rule" } th { "Resources" } th { "Justification" }
                th { "Requested by" } th { @if section == Section::Past { "Ended" } @else { "Expires" } } th { "State" }
                @if section != Section::Past { th { "" } }
            } }
            tbody {
                @for e in rows {
                    @let expiring = section == Section::Active && e.expires_at - viewer.now < EXPIRING;
                    tr id=(format!("exception-{}", e.id)) {
                        td { (e.id) }
                        td { (e.space) }
                        td { code { (e.rule) } }
                        td { code { (e.resource_glob) } }
                        td { (e.justification) @if let Some(t) = &e.ticket { span.muted.small { " · " (t) } } }
                        td.nowrap { (e.requested_by) " " (layout::kind_chip(&e.requester_kind)) }
                        td.nowrap { (layout::when(viewer.now, e.decided_at.filter(|_| section == Section::Past && e.state != ExceptionState::Expired).unwrap_or(e.expires_at))) }
                        td {
                            @if expiring { (layout::state_badge("expiring")) }
                            @else if e.state == ExceptionState::Granted && !e.is_active(viewer.now) { (layout::state_badge("expired")) }
                            @else { (layout::state_badge(e.state.as_str())) }
                            @if let Some(by) = &e.decided_by { div.muted.small { "by " (by) } }
                        }
                        @match section {
                            Section::Requested => {
                                td.nowrap {
                                    (action(viewer, e.id, "grant", "Grant", None))
                                    (action(viewer, e.id, "reject", "Reject", Some("Reason")))
                                }
                            }
                            Section::Active => {
                                td.nowrap { (action(viewer, e.id, "revoke", "Revoke", Some("Reason"))) }
                            }
                            Section::Past => {}
                        }
                    }
                }
            }
        }
    }
}

fn action(viewer: &Viewer, id: i64, verb: &str, label: &str, reason: Option<&str>) -> Markup {
    html! {
        form.inline method="post" action=(format!("/ui/exceptions/{id}/{verb}")) {
            (csrf_field(viewer))
            @if let Some(r) = reason { input type="text" name="reason" placeholder=(r) aria-label=(r) required; }
            button class=@if verb == "grant" { "approve" } @else { "danger" } type="submit" { (label) }
        }
    }
}

/// The request form.
#[derive(Debug, Deserialize)]
pub struct RequestForm {
    csrf: Option<String>,
    space: String,
    rule: String,
    resource: String,
    justification: String,
    ticket: Option<String>,
    days: String,
}

/// `POST /ui/exceptions`: requests an exception.
pub async fn request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<RequestForm>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = async {
        csrf::check(&headers, &viewer.csrf, form.csrf.as_deref())?;
        let days = form.days.trim().parse::<u32>().map_err(|_| {
            ApiError::bad_request(format!("`{}` is not a number of days", form.days))
        })?;
        ops::request_exception(
            state.store.as_ref(),
            &viewer.token,
            form.space.trim(),
            &ops::ExceptionRequest {
                rule: form.rule.trim().to_owned(),
                resource: form.resource.trim().to_owned(),
                justification: form.justification.trim().to_owned(),
                ticket: form
                    .ticket
                    .as_deref()
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
                days,
            },
        )
        .await
    }
    .await;
    match result {
        Ok(e) => see_other(&format!("/ui/exceptions?done=requested&id={}", e.id)),
        Err(e) => {
            render(
                &state,
                &viewer,
                Some(Notice::Error(format!(
                    "Could not request the exception: {e}"
                ))),
                e.status(),
            )
            .await
        }
    }
}

/// A grant, reject or revoke form.
#[derive(Debug, Deserialize)]
pub struct DecideForm {
    csrf: Option<String>,
    reason: Option<String>,
}

/// `POST /ui/exceptions/{id}/{grant|reject|revoke}`.
pub async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, verb)): Path<(i64, String)>,
    Form(form): Form<DecideForm>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let store = state.store.as_ref();
    let result = async {
        csrf::check(&headers, &viewer.csrf, form.csrf.as_deref())?;
        let reason = form
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        match verb.as_str() {
            "grant" => ops::decide_exception(store, &viewer.token, id, true, None).await,
            "reject" => ops::decide_exception(store, &viewer.token, id, false, reason).await,
            "revoke" => {
                ops::revoke_exception(store, &viewer.token, id, reason.unwrap_or_default()).await
            }
            other => Err(ApiError::NotFound(format!("no exception action `{other}`"))),
        }
    }
    .await;
    match result {
        Ok(_) => see_other(&format!("/ui/exceptions?done={verb}&id={id}")),
        Err(e) => {
            render(
                &state,
                &viewer,
                Some(Notice::Error(format!(
                    "Could not {verb} exception #{id}: {e}"
                ))),
                e.status(),
            )
            .await
        }
    }
}
