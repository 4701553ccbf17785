//! Drift: open drift per environment, the drifted attributes, the policy verdict and the
//! drift rate over time. Drift reports are not kept by this server yet (`warden drift`
//! runs on the command line), so the page says so; it slots in here when the store keeps
//! them.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::{self, Nav};
use super::session;
use crate::ops::AppState;

/// `GET /ui/drift`.
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let content = html! {
        div.panel {
            (layout::empty("Drift scans are not configured", html! {
                "This server does not record drift scans yet; run " code { "warden drift" } " in a pipeline for now. When scans are recorded, this page shows open drift per environment, the drifted attributes, the policy verdict and the drift rate over time."
            }))
        }
    };
    layout::page(&viewer, Nav::Drift, "Drift", None, content).into_response()
}
