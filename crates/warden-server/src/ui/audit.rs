//! The audit log: the hash chain's status (verified per head through [`super::chain`]) and
//! the latest records.
//! Like `GET /v1/audit/verify`, it needs a token for every space: the log covers them all.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::layout::{self, Nav};
use super::session::{self, Viewer};
use crate::error::ApiError;
use crate::ops::AppState;

/// Records shown.
const RECENT: u32 = 50;

/// `GET /ui/audit`.
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match content(&state, &viewer).await {
        Ok(c) => layout::page(&viewer, Nav::Audit, "Audit log", None, c).into_response(),
        Err(e) => layout::api_error(&viewer, Nav::Audit, &e),
    }
}

async fn content(state: &AppState, viewer: &Viewer) -> Result<Markup, ApiError> {
    let v = super::chain::for_viewer(state, &viewer.token).await?;
    let head = v.head.0;
    let mut records = state
        .store
        .audit_records((head - i64::from(RECENT)).max(0), RECENT)
        .await
        .map_err(|e| ApiError::store("reading the audit log", e))?;
    records.retain(|r| r.seq <= head);
    records.reverse();
    let intact = v.is_intact();
    Ok(html! {
        div.cards {
            div.card {
                div.label { "Chain" }
                div.value.ok[intact].bad[!intact] { @if intact { "Intact" } @else { "Broken" } }
                div.hint { (super::chain::freshness(viewer.now, &v)) }
            }
            div.card {
                div.label { "Records" }
                div.value { (v.records) }
                div.hint { "checked from the first; " (layout::plural(v.walked, "record", "records")) " walked on this visit" }
            }
            div.card {
                div.label { "Head" }
                div.value { (head) }
                div.hint { (layout::digest(&v.head.1)) }
            }
        }
        @if !intact {
            p.alert.error {
                @if let Some(b) = &v.broken { "The chain is broken at record " (b.seq) ": " (b.reason.to_string()) }
                ". Records from there on cannot be trusted; compare with an exported copy (" code { "warden audit export" } ")."
            }
        }
        div.panel.flush {
            div.panel-head.padded { h2 { "Latest records" } span.muted.small { "each record carries the hash of the one before it" } }
            table {
                thead { tr { th { "Seq" } th { "At" } th { "Action" } th { "Subject" } th { "Space" } th { "Actor" } th { "Hash" } } }
                tbody {
                    @for r in &records {
                        tr {
                            td.num { (r.seq) }
                            td.nowrap.muted { (r.at) }
                            td { code { (r.action) } }
                            td {
                                @if let Some(id) = r.subject.strip_prefix("decision/") {
                                    a href=(format!("/ui/decisions/{id}")) { (r.subject) }
                                } @else { span title=(r.subject) { (layout::short_subject(&r.subject)) } }
                            }
                            td { (r.space.as_deref().unwrap_or("—")) }
                            td.nowrap { (r.actor) " " (layout::kind_chip(&r.actor_kind)) }
                            td { (layout::digest(&r.hash)) }
                        }
                    }
                }
            }
        }
    })
}
