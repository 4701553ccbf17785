//! Environments: active and expiring environments, cost per environment and per space
//! against budget, extend and terminate. This server has no environment lifecycle yet, so
//! the page says so; the page slots in here when the store keeps environments.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::{self, Nav};
use super::session;
use crate::ops::AppState;

/// `GET /ui/environments`.
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let viewer = match session::viewer(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let content = html! {
        div.panel {
            (layout::empty("Environments are not configured", html! {
                "This server does not run the environment lifecycle yet. When it does, this page lists active and expiring environments, their cost against each space's budget, and lets you extend or terminate them."
            }))
        }
    };
    layout::page(&viewer, Nav::Environments, "Environments", None, content).into_response()
}
