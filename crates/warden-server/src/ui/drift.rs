//! Drift: the open drift events grouped by space and target (an environment, a workspace),
//! each with its drifted attributes (the stored diff, masked before it was stored), the
//! policy verdict (the violations the live state introduces), who changed it as far as
//! Warden knows, and how to remediate it; resolved events in a second tab; and the drift
//! rate over time (per day: scans that found drift against all successful scans).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use warden_store::{DriftEvent, DriftFilter, DriftState};

use super::layout::{self, Nav};
use super::session::{self, Viewer};
use super::svg;
use crate::drift::api::require_reader;
use crate::error::ApiError;
use crate::ops::AppState;

/// Days in the drift rate chart.
const DAYS: i64 = 30;
/// Resolved events listed (the newest).
const RESOLVED_SHOWN: u32 = 100;

/// The page's query string.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    tab: Option<String>,
}

/// `GET /ui/drift`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let resolved = q.tab.as_deref() == Some("resolved");
    match content(&state, &viewer, resolved).await {
        Ok(c) => layout::page(&viewer, Nav::Drift, "Drift", None, c).into_response(),
        Err(e) => layout::api_error(&viewer, Nav::Drift, &e),
    }
}

async fn events(
    state: &AppState,
    viewer: &Viewer,
    drift_state: DriftState,
    limit: u32,
) -> Result<Vec<DriftEvent>, ApiError> {
    Ok(state
        .store
        .drift_events(&DriftFilter {
            state: Some(drift_state),
            limit,
            ..DriftFilter::default()
        })
        .await
        .map_err(|e| ApiError::store("listing drift", e))?
        .into_iter()
        .filter(|e| viewer.token.allows_space(&e.space))
        .collect())
}

/// The first day of the chart: `DAYS` days ending with today (UTC).
fn first_day(now: OffsetDateTime) -> OffsetDateTime {
    let today = now.unix_timestamp().div_euclid(86_400) * 86_400;
    OffsetDateTime::from_unix_timestamp(today - (DAYS - 1) * 86_400).unwrap_or(now)
}

async fn content(state: &AppState, viewer: &Viewer, resolved: bool) -> Result<Markup, ApiError> {
    require_reader(&viewer.token)?;
    let open = events(state, viewer, DriftState::Open, 0).await?;
    let closed = events(state, viewer, DriftState::Resolved, RESOLVED_SHOWN).await?;
    let start = first_day(viewer.now);
    let series: Vec<_> = state
        .store
        .drift_series(start, 86_400)
        .await
        .map_err(|e| ApiError::store("reading the drift rate", e))?
        .into_iter()
        .filter(|d| viewer.token.allows_space(&d.space))
        .collect();
    let mut columns = Vec::new();
    for i in 0..DAYS {
        let at = start + Duration::days(i);
        let (scans, drifted) = series
            .iter()
            .filter(|d| d.start == at)
            .fold((0, 0), |(s, d), x| (s + x.scans, d + x.drifted));
        let month = at.month().to_string();
        columns.push(svg::Column {
            label: format!("{} {}", month.get(..3).unwrap_or(&month), at.day()),
            counts: [scans - drifted.min(scans), 0, 0, drifted],
        });
    }
    let scans: u64 = series.iter().map(|d| d.scans).sum();
    let drifted: u64 = series.iter().map(|d| d.drifted).sum();
    let mut groups: BTreeMap<(&str, &str), Vec<&DriftEvent>> = BTreeMap::new();
    for e in &open {
        groups
            .entry((e.space.as_str(), e.target.as_str()))
            .or_default()
            .push(e);
    }
    let violating = open
        .iter()
        .filter(|e| introduced(e).next().is_some())
        .count();
    let unknown_actor = open
        .iter()
        .filter(|e| e.attribution["via"] == "out-of-band")
        .count();
    Ok(html! {
        div.cards {
            div.card {
                div.label { "Open drift" }
                div.value.bad[!open.is_empty()] { (open.len()) }
                div.hint { (layout::plural(open.len() as u64, "resource", "resources")) " in " (layout::plural(groups.len() as u64, "target", "targets")) }
            }
            div.card {
                div.label { "Violating policy" }
                div.value.bad[violating > 0] { (violating) }
                div.hint { "open drift the live state breaks a rule with" }
            }
            div.card {
                div.label { "Out of band" }
                div.value { (unknown_actor) }
                div.hint { "open drift no Warden decision explains" }
            }
            div.card {
                div.label { "Drift rate" }
                div.value { (percent(drifted, scans)) }
                div.hint { (drifted) " of " (layout::plural(scans, "scan", "scans")) " found drift, last " (DAYS) " days" }
            }
        }
        div.panel {
            div.panel-head {
                h2 { "Drift rate per day" }
                div.legend { span.allow { "clean scans" } span.deny { "scans that found drift" } }
            }
            (svg::outcome_bars(&columns, &format!("Scans per day, clean and with drift, last {DAYS} days")))
        }
        nav.tabs aria-label="Drift state" {
            a href="/ui/drift" class=@if !resolved { "active" } { "Open" span.count { (open.len()) } }
            a href="/ui/drift?tab=resolved" class=@if resolved { "active" } { "Resolved" span.count { (closed.len()) @if closed.len() >= RESOLVED_SHOWN as usize { "+" } } }
        }
        @if resolved {
            div.panel.flush {
                @if closed.is_empty() {
                    (layout::empty("Nothing resolved yet", html! { "When a later scan finds a drifted resource back in line, its event is resolved and listed here." }))
                } @else {
                    (resolved_table(viewer.now, &closed))
                }
            }
        } @else if groups.is_empty() {
            div.panel {
                (layout::empty("No open drift", html! { "Every scanned target matches its code. Scans come from " code { "warden drift --server" } ", " code { "POST /v1/drift/scans" } " and the " code { "[drift]" } " schedule." }))
            }
        } @else {
            @for ((space, target), list) in &groups {
                div.panel.drift-group {
                    div.panel-head {
                        h2 { (space) " / " code { (target) } }
                        span.muted.small {
                            (layout::plural(list.len() as u64, "resource", "resources")) " drifted · last seen "
                            (layout::when(viewer.now, list.iter().map(|e| e.last_seen_at).max().unwrap_or(viewer.now)))
                        }
                    }
                    @for e in list { (event_card(viewer.now, e)) }
                }
            }
        }
    })
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "—".into();
    }
    #[allow(clippy::cast_precision_loss, reason = "a percentage for display")]
    let p = part as f64 * 100.0 / whole as f64;
    format!("{p:.0}%")
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The violations an event introduces.
fn introduced(e: &DriftEvent) -> impl Iterator<Item = &Value> {
    e.introduced.as_array().into_iter().flatten()
}

/// A value of the diff, compact (`(absent)` for null).
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "(absent)".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn event_card(now: OffsetDateTime, e: &DriftEvent) -> Markup {
    let severity = e.severity.as_deref();
    let class = if severity.is_some() {
        "finding deny"
    } else {
        "finding warn"
    };
    let changes: Vec<&Value> = e.changes.as_array().into_iter().flatten().collect();
    html! {
        div class=(class) id=(format!("drift-{}", e.id)) {
            div.finding-head {
                @if let Some(s) = severity { span class=(format!("sev {s}")) { (s) } }
                strong { code { (e.address) } }
                span.chip { (e.resource_kind) }
                span.badge.neutral { (e.status) }
                span.muted.small { "opened " (layout::when(now, e.opened_at)) " · last seen " (layout::when(now, e.last_seen_at)) }
            }
            @if !changes.is_empty() {
                table.diff {
                    thead { tr { th { "Attribute" } th { "Change" } th { "In the code" } th { "Live" } } }
                    tbody {
                        @for c in &changes {
                            tr {
                                td { code { (text(&c["path"])) } }
                                td.nowrap { (text(&c["change"])) @if c["sensitive"] == true { " " span.chip { "sensitive" } } }
                                td { code.before { (shown(&c["before"])) } }
                                td { code.after { (shown(&c["after"])) } }
                            }
                        }
                    }
                }
            }
            @if introduced(e).next().is_some() {
                p { span.label { "Verdict" } "the live state introduces:" }
                ul.violations {
                    @for v in introduced(e) {
                        li {
                            span class=(format!("sev {}", text(&v["severity"]))) { (text(&v["severity"])) } " "
                            span.rule { (text(&v["rule_id"])) } " "
                            (text(&v["title"]))
                            @if let Some(a) = v["attribute"].as_str() { span.muted { " · " code { (a) } } }
                            div.muted.small { (text(&v["message"])) }
                        }
                    }
                }
            } @else {
                p { span.label { "Verdict" } "no rule is broken by the live state." }
            }
            p { span.label { "Changed by" } (attribution(&e.attribution)) }
            (remediation(&e.remediation))
        }
    }
}

fn attribution(a: &Value) -> Markup {
    html! {
        @if a["via"] == "out-of-band" || a.is_null() {
            span.badge.warn { "out of band" } " actor unknown: no Warden decision touched this resource since the last scan"
        } @else {
            @if let Some(actor) = a["actor"].as_str() {
                (actor) " " (layout::kind_chip(text(&a["actor_kind"]))) " "
            }
            "through " (if a["via"] == "admission" { "the admission webhook" } else { "Warden's API" })
            @if let Some(d) = a["decision_id"].as_i64() {
                ", " a href=(format!("/ui/decisions/{d}")) { "decision #" (d) }
            }
            @if let Some(o) = a["outcome"].as_str() { " (" (o) ")" }
        }
    }
}

fn remediation(r: &Value) -> Markup {
    let suggested = text(&r["suggested"]);
    let adopt: Vec<&str> = r["adopt"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    html! {
        @if !suggested.is_empty() {
            p { span.label { "Remediate" } strong { (suggested) } " — " (text(&r["reason"])) }
            div.grid.two.remedies {
                @if let Some(cmd) = r["revert"].as_str().filter(|c| !c.is_empty()) {
                    div { div.small.muted { "Revert (re-apply the code)" } pre { (cmd) } }
                }
                @if !adopt.is_empty() {
                    div { div.small.muted { "Adopt (change the code to what is live)" } pre { (adopt.join("\n")) } }
                }
            }
        }
    }
}

fn resolved_table(now: OffsetDateTime, events: &[DriftEvent]) -> Markup {
    html! {
        table {
            thead { tr { th { "Resource" } th { "Space / target" } th { "Severity" } th { "Opened" } th { "Resolved" } th { "Open for" } th { "Changed by" } } }
            tbody {
                @for e in events {
                    tr {
                        td { code { (e.address) } }
                        td { (e.space) " / " code { (e.target) } }
                        td { @if let Some(s) = &e.severity { span class=(format!("sev {s}")) { (s) } } @else { span.muted { "—" } } }
                        td.nowrap { (layout::when(now, e.opened_at)) }
                        td.nowrap { @if let Some(r) = e.resolved_at { (layout::when(now, r)) } }
                        td.nowrap { @if let Some(r) = e.resolved_at { (layout::relative(r, e.opened_at).trim_end_matches(" ago")) } }
                        td { @if e.attribution["via"] == "out-of-band" { span.muted { "out of band" } } @else { (text(&e.attribution["actor"])) } }
                    }
                }
            }
        }
    }
}
