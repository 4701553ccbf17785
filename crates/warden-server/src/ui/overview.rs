//! The overview: decisions per outcome over time, the most violated rules (policy hit rate),
//! agent self-correction, pending approvals, active exceptions and the audit chain.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use warden_core::Outcome;
use warden_store::{ApprovalState, DecisionStats};

use super::layout::{self, Nav};
use super::session::{self, Viewer};
use super::svg;
use crate::error::ApiError;
use crate::ops::{self, AppState};

/// A period the overview covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The last 24 hours, hourly.
    Day,
    /// The last 7 days, daily.
    Week,
    /// The last 30 days, daily.
    Month,
}

impl Range {
    /// Parses `24h`, `7d`, `30d` (default 7d).
    #[must_use]
    pub fn parse(s: Option<&str>) -> Range {
        match s {
            Some("24h") => Range::Day,
            Some("30d") => Range::Month,
            _ => Range::Week,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Range::Day => "last 24 hours",
            Range::Week => "last 7 days",
            Range::Month => "last 30 days",
        }
    }

    /// (number of buckets, bucket width in seconds).
    fn buckets(self) -> (i64, i64) {
        match self {
            Range::Day => (24, 3600),
            Range::Week => (7, 86_400),
            Range::Month => (30, 86_400),
        }
    }
}

/// The overview's query string.
#[derive(Debug, Default, Deserialize)]
pub struct OverviewQuery {
    range: Option<String>,
}

/// `GET /ui/`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OverviewQuery>,
) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let range = Range::parse(q.range.as_deref());
    match content(&state, &viewer, range).await {
        Ok(content) => {
            layout::page(&viewer, Nav::Overview, "Overview", None, content).into_response()
        }
        Err(e) => layout::api_error(&viewer, Nav::Overview, &e),
    }
}

/// The first bucket's start: `n` buckets of `width` seconds ending with the current one.
fn first_bucket(now: OffsetDateTime, n: i64, width: i64) -> OffsetDateTime {
    let current = now.unix_timestamp().div_euclid(width) * width;
    OffsetDateTime::from_unix_timestamp(current - (n - 1) * width).unwrap_or(now)
}

fn columns(stats: &DecisionStats, start: OffsetDateTime, n: i64, width: i64) -> Vec<svg::Column> {
    (0..n)
        .map(|i| {
            let at = start + Duration::seconds(i * width);
            let mut counts = [0u64; 4];
            for b in stats.buckets.iter().filter(|b| b.start == at) {
                let k = match b.outcome {
                    Outcome::Allow => 0,
                    Outcome::Warn => 1,
                    Outcome::RequireApproval => 2,
                    Outcome::Deny => 3,
                };
                counts[k] += b.count;
            }
            let label = if width < 86_400 {
                format!("{:02}:00", at.hour())
            } else {
                let month = at.month().to_string();
                format!("{} {}", month.get(..3).unwrap_or(&month), at.day())
            };
            svg::Column { label, counts }
        })
        .collect()
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "—".into();
    }
    #[allow(clippy::cast_precision_loss, reason = "a percentage for display")]
    let p = part as f64 * 100.0 / whole as f64;
    format!("{p:.0}%")
}

async fn content(state: &AppState, viewer: &Viewer, range: Range) -> Result<Markup, ApiError> {
    let store = state.store.as_ref();
    let (n, width) = range.buckets();
    let start = first_bucket(viewer.now, n, width);
    let stats = ops::decision_stats(store, &viewer.token, start, width).await?;
    let pending = ops::approvals(store, &viewer.token, None, Some(ApprovalState::Pending)).await?;
    let mut active_exceptions = 0usize;
    let mut expiring = 0usize;
    for space in super::exceptions::visible_spaces(state, &viewer.token).await? {
        for e in store
            .active_exceptions(&space)
            .await
            .map_err(|e| ApiError::store("reading exceptions", e))?
        {
            active_exceptions += 1;
            if e.expires_at - viewer.now < Duration::days(7) {
                expiring += 1;
            }
        }
    }
    let chain = super::chain::for_viewer(state, &viewer.token).await.ok();
    let count = |o: Outcome| -> u64 {
        stats
            .buckets
            .iter()
            .filter(|b| b.outcome == o)
            .map(|b| b.count)
            .sum()
    };
    let denied = count(Outcome::Deny);
    let held = count(Outcome::RequireApproval);
    let recent = ops::decisions(
        store,
        &viewer.token,
        warden_store::DecisionQuery {
            limit: 6,
            ..warden_store::DecisionQuery::default()
        },
    )
    .await?;
    Ok(html! {
        div.page-tools {
            nav.tabs aria-label="Period" {
                @for r in [Range::Day, Range::Week, Range::Month] {
                    a href=(format!("/ui/?range={}", r.key())) class=@if r == range { "active" } { (r.label()) }
                }
            }
        }
        div.cards {
            div.card {
                div.label { "Decisions" }
                div.value { (stats.decisions) }
                div.hint { (range.label()) }
            }
            div.card {
                div.label { "Denied" }
                div.value.bad[denied > 0] { (denied) }
                div.hint { (percent(denied, stats.decisions)) " of decisions" }
            }
            div.card {
                div.label { "Pending approvals" }
                a.value href="/ui/approvals" { (pending.len()) }
                div.hint { (held) " held for approval in the period" }
            }
            div.card {
                div.label { "Active exceptions" }
                a.value href="/ui/exceptions" { (active_exceptions) }
                div.hint { (expiring) " expiring within 7 days" }
            }
            div.card {
                div.label { "Agent self-correction" }
                div.value { (percent(stats.agent_corrected_subjects, stats.agent_denied_subjects)) }
                div.hint { (stats.agent_corrected_subjects) " of " (stats.agent_denied_subjects) " denied agent changes allowed after a retry" }
            }
            div.card {
                div.label { "Audit chain" }
                @match &chain {
                    Some(c) if c.is_intact() => {
                        a.value.ok href="/ui/audit" { "Intact" }
                        div.hint title=(super::chain::freshness(viewer.now, c)) { (c.records) " records, verified " (layout::relative(viewer.now, c.verified_at)) }
                    }
                    Some(c) => {
                        a.value.bad href="/ui/audit" { "Broken" }
                        div.hint { "first broken link at record " (c.broken.as_ref().map_or(0, |b| b.seq)) }
                    }
                    None => {
                        div.value { "—" }
                        div.hint { "needs a token for every space" }
                    }
                }
            }
        }
        div.panel {
            div.panel-head {
                h2 { "Decisions by outcome" }
                div.legend {
                    span.allow { "allow" } span.warn { "warn" } span.approval { "needs approval" } span.deny { "deny" }
                }
            }
            (svg::outcome_bars(&columns(&stats, start, n, width), &format!("Decisions by outcome, {}", range.label())))
        }
        div.grid.two {
            div.panel.flush {
                h2 { "Top violated rules" }
                @if stats.top_rules.is_empty() {
                    (layout::empty("No findings", html! { "No decision in the period had a finding." }))
                } @else {
                    table.rules {
                        thead { tr { th { "Rule" } th.num { "Findings" } th.num { "Hit rate" } th {} } }
                        tbody {
                            @for r in &stats.top_rules {
                                tr {
                                    td { code { (r.rule) } }
                                    td.num { (r.findings) }
                                    td.num title="Share of decisions with a finding of this rule" { (percent(r.decisions, stats.decisions)) }
                                    td.bar-cell { (svg::meter(r.decisions, stats.decisions)) }
                                }
                            }
                        }
                    }
                }
            }
            div.panel.flush {
                h2 { "Waiting for approval" }
                @if pending.is_empty() {
                    (layout::empty("Nothing waiting", html! { "No change is waiting for an approver." }))
                } @else {
                    table {
                        thead { tr { th { "Request" } th { "Space" } th { "Requested by" } th { "Opened" } } }
                        tbody {
                            @for a in pending.iter().take(6) {
                                tr {
                                    td { a href="/ui/approvals" { "#" (a.id) " " (a.subject) } }
                                    td { (a.space) }
                                    td { (a.requested_by) " " (layout::kind_chip(&a.requester_kind)) }
                                    td.nowrap { (layout::when(viewer.now, a.created_at)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        div.panel.flush {
            div.panel-head.padded {
                h2 { "Latest decisions" }
            }
            (super::decisions::table(viewer, &recent, None))
        }
    })
}
