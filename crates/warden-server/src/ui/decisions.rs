//! Decisions: the live, filtered list and one decision's page (the change summary, every
//! finding with why and fix, waived findings and what waived them, cost and risk, the
//! approval, the audit record and its place in the chain).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;
use time::Duration;
use warden_store::{DecisionQuery, DecisionSummary};

use super::layout::{self, Nav};
use super::session::{self, Viewer};
use crate::error::ApiError;
use crate::ops::{self, AppState};

/// Rows per page.
const PAGE: u32 = 50;

/// The list's filters, as the query string carries them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filters {
    outcome: Option<String>,
    space: Option<String>,
    actor: Option<String>,
    kind: Option<String>,
    range: Option<String>,
    before: Option<i64>,
}

fn non_empty(s: Option<&String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl Filters {
    fn query(&self, viewer: &Viewer) -> Result<DecisionQuery, ApiError> {
        let outcome = non_empty(self.outcome.as_ref())
            .map(|o| {
                warden_store::model::parse_outcome(&o)
                    .ok_or_else(|| ApiError::bad_request(format!("unknown outcome `{o}`")))
            })
            .transpose()?;
        let since = match self.range.as_deref() {
            Some("1h") => Some(viewer.now - Duration::hours(1)),
            Some("24h") => Some(viewer.now - Duration::hours(24)),
            Some("7d") => Some(viewer.now - Duration::days(7)),
            Some("30d") => Some(viewer.now - Duration::days(30)),
            _ => None,
        };
        Ok(DecisionQuery {
            within: None,
            space: non_empty(self.space.as_ref()),
            outcome,
            actor: non_empty(self.actor.as_ref()),
            actor_kind: non_empty(self.kind.as_ref())
                .filter(|k| ["human", "agent", "pipeline", "system"].contains(&k.as_str())),
            since,
            until: None,
            before_id: self.before,
            limit: PAGE,
        })
    }

    /// The query string of these filters, without the page.
    fn encoded(&self) -> String {
        let pairs = [
            ("outcome", &self.outcome),
            ("space", &self.space),
            ("actor", &self.actor),
            ("kind", &self.kind),
            ("range", &self.range),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| {
                non_empty(v.as_ref()).map(|v| format!("{k}={}", percent_encode(&v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a query value.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /ui/decisions`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Filters>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let filters = q;
    let result = async {
        let query = filters.query(&viewer)?;
        let rows = ops::decisions(state.store.as_ref(), &viewer.token, query).await?;
        let spaces = super::exceptions::visible_spaces(&state, &viewer.token).await?;
        Ok::<_, ApiError>((rows, spaces))
    }
    .await;
    let (rows, spaces) = match result {
        Ok(r) => r,
        Err(e) => return layout::api_error(&viewer, Nav::Decisions, &e),
    };
    let encoded = filters.encoded();
    let live = filters
        .before
        .is_none()
        .then(|| format!("/ui/decisions/rows?{encoded}"));
    let next = (rows.len() >= PAGE as usize)
        .then(|| rows.last().map(|d| d.id))
        .flatten();
    let selected = |v: &Option<String>, want: &str| v.as_deref() == Some(want);
    let content = html! {
        form.filters method="get" action="/ui/decisions" {
            label { "Outcome"
                select name="outcome" {
                    option value="" { "Any" }
                    @for (v, l) in [("allow", "allow"), ("warn", "warn"), ("require_approval", "needs approval"), ("deny", "deny")] {
                        option value=(v) selected[selected(&filters.outcome, v)] { (l) }
                    }
                }
            }
            label { "Space"
                select name="space" {
                    option value="" { "Any" }
                    @for s in &spaces {
                        option value=(s) selected[selected(&filters.space, s)] { (s) }
                    }
                }
            }
            label { "Actor"
                input type="text" name="actor" value=(filters.actor.clone().unwrap_or_default()) placeholder="principal";
            }
            label { "Actor kind"
                select name="kind" {
                    option value="" { "Any" }
                    @for k in ["human", "agent", "pipeline", "system"] {
                        option value=(k) selected[selected(&filters.kind, k)] { (k) }
                    }
                }
            }
            label { "Time"
                select name="range" {
                    option value="" { "All time" }
                    @for (v, l) in [("1h", "Last hour"), ("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days")] {
                        option value=(v) selected[selected(&filters.range, v)] { (l) }
                    }
                }
            }
            button.primary type="submit" { "Filter" }
            @if !encoded.is_empty() { a href="/ui/decisions" { "Clear" } }
        }
        div.panel.flush {
            div.panel-head.padded {
                h2 { "Decisions" }
                @if live.is_some() {
                    span.live title="Refreshed every 5 seconds" { "Live" }
                } @else {
                    a href=(format!("/ui/decisions?{encoded}")) { "Back to the newest" }
                }
            }
            (table(&viewer, &rows, live.as_deref()))
            div.pager {
                a href=(format!("/ui/decisions?{encoded}")) { "Refresh" }
                @if let Some(next) = next {
                    a href=(format!("/ui/decisions?{encoded}{}before={next}", if encoded.is_empty() { "" } else { "&" })) { "Older decisions →" }
                }
            }
        }
    };
    layout::page(&viewer, Nav::Decisions, "Decisions", None, content).into_response()
}

/// `GET /ui/decisions/rows`: the table's rows alone, for the live refresh.
pub async fn rows(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Filters>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(_) => return (axum::http::StatusCode::UNAUTHORIZED, "session ended").into_response(),
    };
    let filters = q;
    let rows = match filters.query(&viewer) {
        Ok(query) => ops::decisions(state.store.as_ref(), &viewer.token, query).await,
        Err(e) => Err(e),
    };
    match rows {
        Ok(rows) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body_rows(&viewer, &rows).into_string(),
        )
            .into_response(),
        Err(e) => (e.status(), e.to_string()).into_response(),
    }
}

/// The decisions table; `live` is the URL its rows refresh from.
#[must_use]
pub fn table(viewer: &Viewer, rows: &[DecisionSummary], live: Option<&str>) -> Markup {
    html! {
        table.decisions {
            thead {
                tr {
                    th { "Decision" } th { "Outcome" } th { "Space" } th { "Actor" }
                    th { "Subject" } th { "Change" } th.num { "Cost Δ" } th { "When" }
                }
            }
            tbody id="decision-rows" data-live=[live] {
                (body_rows(viewer, rows))
            }
        }
    }
}

fn body_rows(viewer: &Viewer, rows: &[DecisionSummary]) -> Markup {
    html! {
        @if rows.is_empty() {
            tr { td colspan="8" { (layout::empty("No decisions yet", html! {
                "Decisions appear here as changes are evaluated (" code { "POST /v1/evaluate" } ", " code { "warden check --server" } ", the admission webhook, MCP)."
            })) } }
        }
        @for d in rows {
            tr {
                td { a href=(format!("/ui/decisions/{}", d.id)) { "#" (d.id) } }
                td { (layout::outcome_badge(d.outcome)) }
                td { (d.space.as_deref().unwrap_or("—")) }
                td.nowrap { (d.actor) " " (layout::kind_chip(&d.actor_kind)) }
                td {
                    (d.subject.as_deref().map(layout::short_subject).unwrap_or_default())
                    @if let Some(n) = d.attempt.filter(|n| *n > 1) { span.muted.small { " · attempt " (n) } }
                }
                td { (layout::digest(&d.input_digest)) }
                td.num.nowrap { (d.cost_delta.map(layout::money_delta).unwrap_or_default()) }
                td.nowrap { (layout::when(viewer.now, d.created_at)) }
            }
        }
    }
}

/// `GET /ui/decisions/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<i64>() else {
        return layout::api_error(
            &viewer,
            Nav::Decisions,
            &ApiError::NotFound(format!("decision `{id}` not found")),
        );
    };
    match detail_content(&state, &viewer, id).await {
        Ok(content) => layout::page(
            &viewer,
            Nav::Decisions,
            &format!("Decision #{id}"),
            None,
            content,
        )
        .into_response(),
        Err(e) => layout::api_error(&viewer, Nav::Decisions, &e),
    }
}

async fn detail_content(state: &AppState, viewer: &Viewer, id: i64) -> Result<Markup, ApiError> {
    let store = state.store.as_ref();
    let d = ops::decision(store, &viewer.token, id).await?;
    let doc = d
        .document_value()
        .map_err(|e| ApiError::store("reading the decision", e))?;
    let audit = store
        .audit_for(&format!("decision/{id}"))
        .await
        .map_err(|e| ApiError::store("reading the audit log", e))?;
    let head = store.audit_head().await.ok().map(|(seq, _)| seq);
    let approvals = match &d.space {
        Some(space) => ops::approvals(store, &viewer.token, Some(space), None)
            .await?
            .into_iter()
            .filter(|a| a.decision_id == Some(id) || d.approval_id == Some(a.id))
            .collect(),
        None => Vec::new(),
    };
    let summary = &doc["summary"];
    let findings = doc["findings"].as_array().cloned().unwrap_or_default();
    let waived = doc["waived"].as_array().cloned().unwrap_or_default();
    let errors = doc["errors"].as_array().cloned().unwrap_or_default();
    let subject_record = audit.iter().find(|r| r.action == "decision.recorded");
    Ok(html! {
        div.panel {
            div.panel-head {
                h2 { (layout::outcome_badge(d.outcome)) " " (summary_line(summary)) }
                span.muted { (layout::when(viewer.now, d.created_at)) }
            }
            dl.facts {
                dt { "Space" } dd { (d.space.as_deref().unwrap_or("—")) }
                dt { "Actor" } dd { (d.actor) " " (layout::kind_chip(&d.actor_kind)) }
                @if let Some(r) = subject_record {
                    @if let Some(subject) = r.detail["subject"].as_str() {
                        dt { "Subject" } dd { (layout::short_subject(subject))
                            @if let Some(n) = r.detail["attempt"].as_i64() { span.muted { " · attempt " (n) } } }
                    }
                }
                dt { "Recorded" } dd { (layout::time(d.created_at)) }
                dt { "Change digest" } dd { code { (d.input_digest) } }
                dt { "Policy revision" } dd { code { (d.policy_revision) } }
                @if let Some(inputs) = doc["inputs"].as_array().filter(|i| !i.is_empty()) {
                    dt { "Inputs" } dd {
                        @for i in inputs { div { (text(&i["kind"])) " " span.muted { (text(&i["path"])) } } }
                    }
                }
                dt { "Evaluated" } dd { (text(&doc["evaluated_at"])) span.muted { " in " (text(&doc["duration_ms"])) " ms" } }
            }
        }
        @if !errors.is_empty() {
            div.panel {
                h2 { "Engine errors (the decision failed closed)" }
                @for e in &errors { p.alert.error { strong { (text(&e["engine"])) ": " } (text(&e["message"])) } }
            }
        }
        div.panel {
            h2 { "Findings (" (findings.len()) ")" }
            @if findings.is_empty() {
                p.muted { "No finding: nothing in this change violates a policy." }
            }
            @for f in &findings { (finding(f, None)) }
        }
        @if !waived.is_empty() {
            div.panel {
                h2 { "Waived findings (" (waived.len()) ")" }
                p.muted { "These would have counted; an exception or a waiver tag covered each." }
                @for f in &waived { (finding(f, Some(&f["waiver"]))) }
            }
        }
        div.grid.two {
            div.panel {
                h2 { "Cost" }
                (cost(&doc["cost"]))
            }
            div.panel {
                h2 { "Risk" }
                (risk(&doc["risk"]))
            }
        }
        div.grid.two {
            div.panel {
                h2 { "Approval" }
                @if approvals.is_empty() {
                    p.muted { @if d.outcome == warden_core::Outcome::RequireApproval { "No approval request is linked to this decision." } @else { "This decision needed no approval." } }
                }
                @for a in &approvals {
                    dl.facts {
                        dt { "Request" } dd { a href="/ui/approvals?state=all" { "#" (a.id) } " " (layout::state_badge(a.state.as_str())) }
                        dt { "Approvers" } dd { (a.approvers.len()) " of " (a.required) @if !a.approvers.is_empty() { " (" (a.approvers.join(", ")) ")" } }
                        @if let Some(by) = &a.resolved_by { dt { "Resolved by" } dd { (by) } }
                        @if let Some(r) = &a.reason { dt { "Reason" } dd { (r) } }
                        @if d.approval_id == Some(a.id) { dt { "Cited" } dd { "this decision was allowed by this approval" } }
                    }
                }
            }
            div.panel {
                h2 { "Audit record" }
                @if audit.is_empty() { p.muted { "No audit record names this decision." } }
                @for r in &audit {
                    dl.facts {
                        dt { "Action" } dd { code { (r.action) } }
                        dt { "Position" } dd { "record " (r.seq) @if let Some(h) = head { " of " (h) " in the chain" } }
                        dt { "At" } dd { (r.at) }
                        dt { "Hash" } dd { (layout::digest(&r.hash)) }
                        dt { "Follows" } dd { (layout::digest(&r.prev_hash)) }
                    }
                }
            }
        }
    })
}

/// A JSON value as display text (strings unquoted, null as nothing).
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn summary_line(summary: &Value) -> String {
    let n = |k: &str| summary[k].as_u64().unwrap_or(0);
    format!(
        "{} · {} ({} deny, {} approval, {} warn) · {} waived",
        layout::plural(n("resources"), "resource", "resources"),
        layout::plural(n("findings"), "finding", "findings"),
        n("deny"),
        n("require_approval"),
        n("warn"),
        n("waived")
    )
}

fn finding(f: &Value, waiver: Option<&Value>) -> Markup {
    let enforcement = text(&f["enforcement"]);
    let class = if waiver.is_some() {
        "finding waived".to_owned()
    } else {
        format!("finding {enforcement}")
    };
    let fix = &f["fix"];
    html! {
        div class=(class) {
            div.finding-head {
                span class=(format!("sev {}", text(&f["severity"]))) { (text(&f["severity"])) }
                span.rule { (text(&f["rule_id"])) }
                strong { (text(&f["title"])) }
                span.badge.neutral { (enforcement.replace('_', " ")) }
                @if f["unknown"] == true { span.badge.warn { "known after apply" } }
                @if let Some(uri) = f["help_uri"].as_str().filter(|u| u.starts_with("https://")) {
                    a.small href=(uri) rel="noopener noreferrer" { "rule docs" }
                }
            }
            p { code { (text(&f["resource"])) } @if let Some(a) = f["attribute"].as_str() { span.muted { " · " (a) } } }
            p { (text(&f["message"])) }
            @if let Some(why) = f["why"].as_str().filter(|w| !w.is_empty()) {
                p { span.label { "Why" } (why) }
            }
            @if fix.is_object() {
                p { span.label { "Fix" } (text(&fix["description"])) }
                @if let Some(attr) = fix["attribute"].as_str() {
                    pre { (attr) " = " (fix["value"].to_string()) }
                }
                @if let Some(patch) = fix["patch"].as_array().filter(|p| !p.is_empty()) {
                    pre { (serde_json::to_string_pretty(patch).unwrap_or_default()) }
                }
            }
            @if let Some(note) = f["note"].as_str() { p.muted { (note) } }
            @if let Some(w) = waiver {
                p {
                    span.label { "Waived by" }
                    @match w["kind"].as_str() {
                        Some("exception") => {
                            "exception on " code { (text(&w["rule"])) } " for " code { (text(&w["resource"])) }
                            " until " (text(&w["expires"])) ": " (text(&w["reason"]))
                            @if let Some(owner) = w["owner"].as_str() { span.muted { " (" (owner) ")" } }
                        }
                        Some("tag") => { "the tag " code { (text(&w["value"])) } ": " (text(&w["reason"])) }
                        _ => { (w.to_string()) }
                    }
                }
            }
        }
    }
}

fn cost(c: &Value) -> Markup {
    if !c.is_object() {
        return html! { p.muted { "No cost estimate for this change." } };
    }
    let money = |v: &Value| v.as_f64().map(|x| format!("${x:.2}")).unwrap_or_default();
    html! {
        dl.facts {
            dt { "Monthly delta" } dd { strong { (c["delta"].as_f64().map(layout::money_delta).unwrap_or_default()) } }
            dt { "Before → after" } dd { (money(&c["before"])) " → " (money(&c["after"])) " per month" }
            dt { "Priced" } dd { (text(&c["counts"]["priced"])) " resources" @if let Some(n) = c["unpriced"].as_array().filter(|u| !u.is_empty()) { span.muted { " · " (n.len()) " unpriced" } } }
            dt { "Prices as of" } dd { (text(&c["as_of"])) }
        }
    }
}

fn risk(r: &Value) -> Markup {
    if !r.is_object() {
        return html! { p.muted { "No risk score for this change." } };
    }
    let factors = r["factors"].as_array().cloned().unwrap_or_default();
    html! {
        p { strong { (text(&r["score"])) " / 100" } " · " (layout::state_badge(&text(&r["level"]))) }
        @if factors.is_empty() { p.muted { "No risk factor applied." } }
        @else {
            table {
                thead { tr { th { "Factor" } th.num { "Points" } th { "Why" } } }
                tbody {
                    @for f in &factors {
                        tr { td { code { (text(&f["factor"])) } } td.num { (text(&f["points"])) } td { (text(&f["detail"])) } }
                    }
                }
            }
        }
    }
}
