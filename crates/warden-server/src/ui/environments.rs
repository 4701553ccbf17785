//! Environments: a per-space summary of running cost against the space's budget, the
//! environments by tab (active, expiring, pending approval, flagged, ended) and a detail
//! page (inputs, outputs, events, decisions) with Extend and Terminate forms. The forms call
//! the same [`api::extend`] and [`api::terminate`] as `/v1/environments`, so the API's role,
//! space and agent rules apply, and show the decision they made.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use warden_core::Outcome;
use warden_store::{Environment, EnvironmentEvent, EnvironmentState as S};

use super::layout::{self, Nav, Notice};
use super::session::{self, csrf_field, Viewer};
use super::{csrf, see_other, svg};
use crate::environments::api;
use crate::error::ApiError;
use crate::ops::{self, AppState};

/// Ended environments listed.
const ENDED_SHOWN: usize = 50;

/// A tab of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Active,
    Expiring,
    Pending,
    Flagged,
    Ended,
}

impl Tab {
    const ALL: [Tab; 5] = [
        Tab::Active,
        Tab::Expiring,
        Tab::Pending,
        Tab::Flagged,
        Tab::Ended,
    ];

    fn parse(s: Option<&str>) -> Tab {
        Tab::ALL
            .into_iter()
            .find(|t| Some(t.key()) == s)
            .unwrap_or(Tab::Active)
    }

    fn key(self) -> &'static str {
        match self {
            Tab::Active => "active",
            Tab::Expiring => "expiring",
            Tab::Pending => "pending",
            Tab::Flagged => "flagged",
            Tab::Ended => "ended",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Active => "Active",
            Tab::Expiring => "Expiring",
            Tab::Pending => "Pending approval",
            Tab::Flagged => "Flagged",
            Tab::Ended => "Ended",
        }
    }

    fn of(state: S) -> Tab {
        match state {
            S::Launching | S::Active => Tab::Active,
            S::Expiring | S::Expired | S::Terminating => Tab::Expiring,
            S::PendingApproval => Tab::Pending,
            S::TeardownFailed => Tab::Flagged,
            S::Terminated | S::Denied | S::Failed => Tab::Ended,
        }
    }

    fn empty(self) -> (&'static str, &'static str) {
        match self {
            Tab::Active => ("No active environments", "Environments launched through the API or `warden env launch` appear here while they run."),
            Tab::Expiring => ("Nothing expiring", "Environments close to their end, expired or being torn down appear here."),
            Tab::Pending => ("Nothing waiting", "Launches that need an approval wait here until an approver decides."),
            Tab::Flagged => ("Nothing flagged", "Environments whose teardown failed after every retry appear here for an operator."),
            Tab::Ended => ("No ended environments", "Terminated, denied and failed environments stay listed for the record."),
        }
    }
}

/// The list's query string.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    tab: Option<String>,
}

/// `GET /ui/environments`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match list_content(&state, &viewer, Tab::parse(q.tab.as_deref())).await {
        Ok(c) => layout::page(&viewer, Nav::Environments, "Environments", None, c).into_response(),
        Err(e) => layout::api_error(&viewer, Nav::Environments, &e),
    }
}

/// One space's running environments against its budget.
struct SpaceCost {
    running: usize,
    monthly: f64,
    budget: Option<f64>,
}

fn lifecycle_off(state: &AppState) -> bool {
    state
        .policies
        .current()
        .account()
        .config()
        .environments
        .runner
        .is_empty()
}

async fn list_content(state: &AppState, viewer: &Viewer, tab: Tab) -> Result<Markup, ApiError> {
    let all = api::environments(state, &viewer.token, None, None).await?;
    let mut costs: BTreeMap<String, SpaceCost> = BTreeMap::new();
    {
        let policies = state.policies.current();
        let config = policies.account().config();
        for space in super::exceptions::visible_spaces(state, &viewer.token).await? {
            let budget = config
                .spaces
                .get(&space)
                .and_then(|s| s.environments.budget_monthly);
            if budget.is_some() {
                costs.insert(
                    space,
                    SpaceCost {
                        running: 0,
                        monthly: 0.0,
                        budget,
                    },
                );
            }
        }
        for e in all.iter().filter(|e| e.state.is_live()) {
            let c = costs.entry(e.space.clone()).or_insert_with(|| SpaceCost {
                running: 0,
                monthly: 0.0,
                budget: config
                    .spaces
                    .get(&e.space)
                    .and_then(|s| s.environments.budget_monthly),
            });
            c.running += 1;
            c.monthly += e.monthly_cost.unwrap_or(0.0);
        }
    }
    let count = |t: Tab| all.iter().filter(|e| Tab::of(e.state) == t).count();
    let mut rows: Vec<&Environment> = all.iter().filter(|e| Tab::of(e.state) == tab).collect();
    match tab {
        Tab::Ended => {
            rows.sort_by_key(|e| std::cmp::Reverse(e.updated_at));
            rows.truncate(ENDED_SHOWN);
        }
        _ => rows.sort_by_key(|e| e.ends_at),
    }
    let running: Vec<&Environment> = all.iter().filter(|e| e.state.is_live()).collect();
    let monthly: f64 = running.iter().filter_map(|e| e.monthly_cost).sum();
    let (title, text) = tab.empty();
    Ok(html! {
        @if lifecycle_off(state) {
            p.alert.info { "The environment lifecycle is off on this server (no " code { "[environments] runner" } "): stored environments are shown, launches and teardowns are refused." }
        }
        div.cards {
            div.card {
                div.label { "Live" }
                div.value { (running.len()) }
                div.hint { (count(Tab::Active)) " active, " (count(Tab::Expiring)) " ending, " (count(Tab::Pending)) " pending, " (count(Tab::Flagged)) " flagged" }
            }
            div.card {
                div.label { "Monthly cost" }
                div.value { (money(monthly)) }
                div.hint { "of live environments" }
            }
            div.card {
                div.label { "Pending approval" }
                a.value href="/ui/environments?tab=pending" { (count(Tab::Pending)) }
                div.hint { "launches waiting for an approver" }
            }
            div.card {
                div.label { "Flagged" }
                a.value.bad[count(Tab::Flagged) > 0] href="/ui/environments?tab=flagged" { (count(Tab::Flagged)) }
                div.hint { "teardown failed, needs an operator" }
            }
        }
        div.panel.flush {
            div.panel-head.padded { h2 { "Cost per space" } span.muted.small { "live environments against " code { "[spaces.<name>.environments] budget-monthly" } } }
            @if costs.is_empty() {
                (layout::empty("No live environments", html! { "No space in view has live environments or an environment budget." }))
            } @else {
                table.rules {
                    thead { tr { th { "Space" } th.num { "Live" } th.num { "Monthly cost" } th.num { "Budget" } th {} th.num { "Used" } } }
                    tbody {
                        @for (space, c) in &costs {
                            tr {
                                td { (space) }
                                td.num { (c.running) }
                                td.num { (money(c.monthly)) }
                                td.num { @if let Some(b) = c.budget { (money(b)) } @else { span.muted { "no budget" } } }
                                td.bar-cell { @if let Some(b) = c.budget { (svg::budget_meter(c.monthly, b)) } }
                                td.num.nowrap {
                                    @if let Some(b) = c.budget.filter(|b| *b > 0.0) {
                                        span.bad[c.monthly > b] { (format!("{:.0}%", c.monthly * 100.0 / b)) }
                                    } @else { "—" }
                                }
                            }
                        }
                    }
                }
            }
        }
        nav.tabs aria-label="Environment state" {
            @for t in Tab::ALL {
                a href=(format!("/ui/environments?tab={}", t.key())) class=@if t == tab { "active" } {
                    (t.label()) span.count { (count(t)) }
                }
            }
        }
        div.panel.flush {
            @if rows.is_empty() {
                (layout::empty(title, html! { (text) }))
            } @else {
                (table(viewer.now, &rows, tab))
            }
        }
    })
}

fn table(now: OffsetDateTime, rows: &[&Environment], tab: Tab) -> Markup {
    html! {
        table.environments {
            thead { tr {
                th { "#" } th { "Blueprint" } th { "Space" } th { "Owner" } th { "State" }
                th { @if tab == Tab::Ended { "Ended" } @else { "Ends" } }
                th.num { "Monthly cost" }
            } }
            tbody {
                @for e in rows {
                    tr id=(format!("environment-{}", e.id)) {
                        td { a href=(format!("/ui/environments/{}", e.id)) { "#" (e.id) } }
                        td { a href=(format!("/ui/environments/{}", e.id)) { code { (e.blueprint) "@" (e.version) } } }
                        td { (e.space) }
                        td.nowrap { (e.owner) " " (layout::kind_chip(&e.owner_kind)) }
                        td { (state_badge(e.state)) }
                        td.nowrap {
                            @if tab == Tab::Ended { (layout::when(now, e.updated_at)) }
                            @else {
                                (layout::when(now, e.ends_at))
                                @if let Some(p) = e.pending_ends_at {
                                    div.muted.small { "→ " (layout::relative(now, p)) ", awaiting approval" }
                                }
                            }
                        }
                        td.num { (e.monthly_cost.map_or_else(|| "—".to_owned(), money)) }
                    }
                }
            }
        }
    }
}

/// An environment state as a badge.
fn state_badge(state: S) -> Markup {
    let class = match state {
        S::Active => "allow",
        S::Expiring | S::Expired => "warn",
        S::PendingApproval => "approval",
        S::TeardownFailed | S::Denied | S::Failed => "deny",
        S::Launching | S::Terminating | S::Terminated => "neutral",
    };
    html! { span class=(format!("badge {class}")) { (state.as_str().replace('_', " ")) } }
}

/// `$1,234.50/mo`.
fn money(v: f64) -> String {
    let cents = format!("{:.2}", v.abs());
    let (whole, frac) = cents.split_once('.').unwrap_or((&cents, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 { "−" } else { "" };
    format!("{sign}${grouped}.{frac}/mo")
}

/// The detail page's query string: the decision a form just made.
#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    action: Option<String>,
    decision: Option<i64>,
}

/// `GET /ui/environments/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = match (q.action.as_deref(), q.decision) {
        (Some(action), Some(d)) => Some((action.to_owned(), Some(d))),
        (Some(action), None) => Some((action.to_owned(), None)),
        _ => None,
    };
    render_detail(&state, &viewer, id, result, None, StatusCode::OK).await
}

async fn render_detail(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    result: Option<(String, Option<i64>)>,
    notice: Option<Notice>,
    status: StatusCode,
) -> Response {
    match detail_content(state, viewer, id, result).await {
        Ok(c) => (
            status,
            layout::page(
                viewer,
                Nav::Environments,
                &format!("Environment #{id}"),
                notice.as_ref(),
                c,
            ),
        )
            .into_response(),
        Err(e) => layout::api_error(viewer, Nav::Environments, &e),
    }
}

async fn detail_content(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    result: Option<(String, Option<i64>)>,
) -> Result<Markup, ApiError> {
    let e = api::environment(state, &viewer.token, id).await?;
    let events = state
        .store
        .environment_events(id)
        .await
        .map_err(|err| ApiError::store("reading the environment's events", err))?;
    let outcome = match &result {
        Some((action, Some(d))) => Some((
            action.clone(),
            Some(ops::decision(state.store.as_ref(), &viewer.token, *d).await?),
        )),
        Some((action, None)) => Some((action.clone(), None)),
        None => None,
    };
    let now = viewer.now;
    let can_extend = matches!(e.state, S::Active | S::Expiring);
    let can_terminate = e.state.is_live();
    Ok(html! {
        @if let Some((action, decision)) = &outcome { (result_panel(&e, action, decision.as_ref())) }
        div.panel {
            div.panel-head {
                h2 { code { (e.blueprint) "@" (e.version) } " " (state_badge(e.state)) }
                span.muted { "requested " (layout::when(now, e.created_at)) }
            }
            dl.facts {
                dt { "Space" } dd { (e.space) }
                dt { "Owner" } dd { (e.owner) " " (layout::kind_chip(&e.owner_kind)) }
                dt { @if e.state.is_live() { "Ends" } @else { "Was to end" } }
                dd { (layout::when(now, e.ends_at)) span.muted { " · " (layout::time(e.ends_at)) } }
                @if let Some(p) = e.pending_ends_at {
                    dt { "Extension asked" }
                    dd {
                        "to " (layout::time(p)) ", waiting for "
                        @if let Some(a) = e.approval_id { a href="/ui/approvals" { "approval request #" (a) } } @else { "an approval" }
                    }
                }
                dt { "Monthly cost" } dd { (e.monthly_cost.map_or_else(|| "not estimated".to_owned(), money)) }
                dt { "Last decision" }
                dd { @if let Some(d) = e.decision_id { a href=(format!("/ui/decisions/{d}")) { "decision #" (d) } } @else { "—" } }
                @if e.teardown_attempts > 0 {
                    dt { "Teardown attempts" }
                    dd { (e.teardown_attempts) @if let Some(n) = e.next_attempt_at { span.muted { " · next " (layout::relative(now, n)) } } }
                }
                @if let Some(r) = &e.flagged_reason { dt { "Flagged" } dd.bad { (r) } }
            }
        }
        @if can_extend || can_terminate {
            div.panel {
                h2 { "Actions" }
                div.actions {
                    @if can_extend {
                        form.inline method="post" action=(format!("/ui/environments/{id}/extend")) {
                            (csrf_field(viewer))
                            label.small.muted for="extend-by" { "Extend by" }
                            input #extend-by type="text" name="by" value="4h" size="6" required aria-label="Extend by (a duration like 4h or 2d)";
                            button.primary type="submit" { "Extend" }
                        }
                    }
                    @if can_terminate {
                        form.inline method="post" action=(format!("/ui/environments/{id}/terminate")) {
                            (csrf_field(viewer))
                            button.danger type="submit" { @if e.state == S::PendingApproval { "Cancel launch" } @else { "Terminate" } }
                        }
                    }
                }
                p.muted.small { "Each action is a decision under the space's policies, like " code { "warden env extend" } " and " code { "warden env terminate" } ": an extension past the blueprint's maximum needs an approval." }
            }
        }
        div.grid.two {
            div.panel.flush {
                h2 { "Inputs" }
                (key_values(&e.inputs, "No inputs", "The blueprint took no inputs."))
            }
            div.panel.flush {
                h2 { "Outputs" }
                @match &e.outputs {
                    Some(o) => { (key_values(o, "No outputs", "The runner reported no outputs.")) }
                    None => { (layout::empty("No outputs yet", html! { "Outputs appear once the environment is launched; sensitive ones are masked by the runner before they are stored." })) }
                }
            }
        }
        div.panel.flush {
            div.panel-head.padded { h2 { "Events" } span.muted.small { "each one an audit record" } }
            (timeline(now, &events))
        }
    })
}

/// What the form just did: the decision with its outcome, or the cancellation.
fn result_panel(e: &Environment, action: &str, d: Option<&warden_store::DecisionRecord>) -> Markup {
    let verb = if action == "extend" {
        "Extension"
    } else {
        "Termination"
    };
    let Some(d) = d else {
        return html! { p.alert.ok role="status" { "Launch cancelled: environment #" (e.id) " will not be launched." } };
    };
    let doc = d.document_value().unwrap_or(Value::Null);
    let blocking: Vec<&Value> = doc["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter(|f| f["enforcement"] == "deny" || f["enforcement"] == "require_approval")
                .collect()
        })
        .unwrap_or_default();
    let class = match d.outcome {
        Outcome::Allow | Outcome::Warn => "alert ok",
        Outcome::RequireApproval => "alert info",
        Outcome::Deny => "alert error",
    };
    html! {
        div class=(class) role="status" {
            strong { (verb) " " (layout::outcome_badge(d.outcome)) }
            " "
            @match d.outcome {
                Outcome::Allow | Outcome::Warn => {
                    @if action == "extend" { "Environment #" (e.id) " now ends " (layout::time(e.ends_at)) "." }
                    @else { "Environment #" (e.id) " is " (e.state.as_str().replace('_', " ")) "." }
                }
                Outcome::RequireApproval => {
                    "Needs approval: "
                    @if let Some(a) = e.approval_id.or(d.approval_id) { a href="/ui/approvals" { "request #" (a) } } @else { "an approval request" }
                    " is open; the change happens once it is granted."
                }
                Outcome::Deny => { "Denied; nothing changed." }
            }
            " " a href=(format!("/ui/decisions/{}", d.id)) { "Decision #" (d.id) }
            @if !blocking.is_empty() {
                ul {
                    @for f in &blocking {
                        li { code { (f["rule_id"].as_str().unwrap_or_default()) } ": " (f["message"].as_str().unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An event detail's value: times as the rest of the dashboard shows them.
fn detail_value(v: &Value) -> String {
    v.as_str()
        .and_then(|s| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok())
        .map_or_else(|| value_text(v), layout::time)
}

fn key_values(v: &Value, empty_title: &str, empty_text: &str) -> Markup {
    let entries: Vec<(&String, &Value)> = v
        .as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    html! {
        @if entries.is_empty() {
            (layout::empty(empty_title, html! { (empty_text) }))
        } @else {
            table {
                thead { tr { th { "Name" } th { "Value" } } }
                tbody {
                    @for (k, v) in &entries {
                        tr { td { code { (k) } } td { code { (value_text(v)) } } }
                    }
                }
            }
        }
    }
}

fn timeline(now: OffsetDateTime, events: &[EnvironmentEvent]) -> Markup {
    html! {
        @if events.is_empty() {
            (layout::empty("No events", html! { "Nothing has happened to this environment yet." }))
        } @else {
            table {
                thead { tr { th { "When" } th { "Event" } th { "State" } th { "By" } th { "Detail" } } }
                tbody {
                    @for ev in events.iter().rev() {
                        tr {
                            td.nowrap { (layout::when(now, ev.at)) }
                            td { code { (ev.kind) } }
                            td.nowrap {
                                @if let Some(from) = ev.from_state.filter(|f| *f != ev.to_state) {
                                    span.muted { (from.as_str().replace('_', " ")) " → " }
                                }
                                (state_badge(ev.to_state))
                            }
                            td { (ev.actor) }
                            td { (event_detail(&ev.detail)) }
                        }
                    }
                }
            }
        }
    }
}

fn event_detail(detail: &Value) -> Markup {
    let Some(m) = detail.as_object() else {
        return html! {};
    };
    html! {
        @for (k, v) in m {
            @if k == "decision_id" {
                @if let Some(d) = v.as_i64() { a.nowrap href=(format!("/ui/decisions/{d}")) { "decision #" (d) } " " }
            } @else if !v.is_null() {
                span.muted.small { (k.replace('_', " ")) ": " } span.small { (detail_value(v)) } " "
            }
        }
    }
}

/// The Extend form.
#[derive(Debug, Deserialize)]
pub struct ExtendForm {
    csrf: Option<String>,
    by: String,
}

/// `POST /ui/environments/{id}/extend`: [`api::extend`] by the given duration.
pub async fn extend(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ExtendForm>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = async {
        csrf::check(&headers, &viewer.csrf, form.csrf.as_deref())?;
        let request = api::ExtendRequest {
            until: None,
            by: Some(form.by.trim().to_owned()),
        };
        api::extend(&state, &viewer.token, id, &request).await
    }
    .await;
    answered(&state, &viewer, id, "extend", result).await
}

/// The Terminate form.
#[derive(Debug, Deserialize)]
pub struct TerminateForm {
    csrf: Option<String>,
}

/// `POST /ui/environments/{id}/terminate`: [`api::terminate`].
pub async fn terminate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<TerminateForm>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = async {
        csrf::check(&headers, &viewer.csrf, form.csrf.as_deref())?;
        api::terminate(&state, &viewer.token, id).await
    }
    .await;
    answered(&state, &viewer, id, "terminate", result).await
}

/// Redirects to the detail page showing the decision, or renders it with the refusal.
async fn answered(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    action: &str,
    result: Result<api::Answer, ApiError>,
) -> Response {
    match result {
        Ok(answer) => {
            if let Some(err) = answer.error {
                let decision = answer.decided.as_ref().map(|d| d.record_id);
                return render_detail(
                    state,
                    viewer,
                    id,
                    Some((action.to_owned(), decision)),
                    Some(Notice::Error(format!("The runner failed: {err}"))),
                    StatusCode::BAD_GATEWAY,
                )
                .await;
            }
            let decision = answer
                .decided
                .map(|d| format!("&decision={}", d.record_id))
                .unwrap_or_default();
            see_other(&format!("/ui/environments/{id}?action={action}{decision}"))
        }
        Err(e) => {
            render_detail(
                state,
                viewer,
                id,
                None,
                Some(Notice::Error(format!(
                    "Could not {action} environment #{id}: {e}"
                ))),
                e.status(),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_and_tabs_cover_every_state() {
        assert_eq!(money(0.0), "$0.00/mo");
        assert_eq!(money(1234.5), "$1,234.50/mo");
        assert_eq!(money(999.999), "$1,000.00/mo");
        assert_eq!(money(1_234_567.0), "$1,234,567.00/mo");
        for s in S::ALL {
            assert_eq!(Tab::of(s) == Tab::Ended, !s.is_live(), "{s:?}");
        }
        assert_eq!(Tab::parse(Some("flagged")), Tab::Flagged);
        assert_eq!(Tab::parse(Some("nonsense")), Tab::Active);
    }
}
