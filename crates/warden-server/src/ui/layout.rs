//! The page shell (sidebar navigation, header, notices) and the small pieces every page
//! uses: outcome badges, digests, times, empty states.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use time::OffsetDateTime;
use warden_core::Outcome;

use super::assets;
use super::session::{csrf_field, Viewer};
use crate::error::ApiError;

/// The navigation entries, in sidebar order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// `/ui/`.
    Overview,
    /// `/ui/decisions`.
    Decisions,
    /// `/ui/approvals`.
    Approvals,
    /// `/ui/exceptions`.
    Exceptions,
    /// `/ui/environments`.
    Environments,
    /// `/ui/drift`.
    Drift,
    /// `/ui/audit`.
    Audit,
}

impl Nav {
    const ALL: [Nav; 7] = [
        Nav::Overview,
        Nav::Decisions,
        Nav::Approvals,
        Nav::Exceptions,
        Nav::Environments,
        Nav::Drift,
        Nav::Audit,
    ];

    fn href(self) -> &'static str {
        match self {
            Nav::Overview => "/ui/",
            Nav::Decisions => "/ui/decisions",
            Nav::Approvals => "/ui/approvals",
            Nav::Exceptions => "/ui/exceptions",
            Nav::Environments => "/ui/environments",
            Nav::Drift => "/ui/drift",
            Nav::Audit => "/ui/audit",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Nav::Overview => "Overview",
            Nav::Decisions => "Decisions",
            Nav::Approvals => "Approvals",
            Nav::Exceptions => "Exceptions",
            Nav::Environments => "Environments",
            Nav::Drift => "Drift",
            Nav::Audit => "Audit log",
        }
    }

    fn icon(self) -> &'static str {
        // 16×16 line icons, drawn with the text colour.
        match self {
            Nav::Overview => "M2 13h3V8H2zM6.5 13h3V3h-3zM11 13h3V6h-3z",
            Nav::Decisions => "M3 3h10M3 8h10M3 13h6",
            Nav::Approvals => "M3 8.5l3 3 7-7",
            Nav::Exceptions => "M8 2l6 11H2zM8 6.5v3M8 11.5v.5",
            Nav::Environments => "M2 4h12v4H2zM2 10h12v3H2z",
            Nav::Drift => "M2 10c2-4 4 2 6-2s4 2 6-2",
            Nav::Audit => "M4 2h6l3 3v9H4zM6 7h4M6 10h4",
        }
    }
}

/// A message at the top of a page.
#[derive(Debug, Clone)]
pub enum Notice {
    /// Something was done.
    Done(String),
    /// Something was refused or failed.
    Error(String),
}

/// The Warden mark.
#[must_use]
pub fn logo() -> Markup {
    html! {
        svg.logo viewBox="0 0 24 24" aria-hidden="true" {
            path d="M12 2l8 3v6c0 5-3.4 9.3-8 11-4.6-1.7-8-6-8-11V5z" {}
            path.check d="M8 12l3 3 5-6" {}
        }
    }
}

/// A document with the stylesheet and script, around `body`.
#[must_use]
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href=(assets::url("app.css"));
                script src=(assets::url("app.js")) defer {}
            }
            body { (body) }
        }
    }
}

/// A full page: sidebar with the viewer, header with the title, notice, content.
#[must_use]
pub fn page(
    viewer: &Viewer,
    active: Nav,
    title: &str,
    notice: Option<&Notice>,
    content: Markup,
) -> Markup {
    let roles: Vec<&str> = viewer.token.roles.iter().map(|r| r.as_str()).collect();
    bare(
        &format!("{title} · Warden"),
        html! {
            div.shell {
                nav.sidebar aria-label="Main" {
                    a.brand href="/ui/" { (logo()) span { "Warden" } }
                    ul {
                        @for item in Nav::ALL {
                            li {
                                a href=(item.href()) class=@if item == active { "active" } {
                                    svg.icon viewBox="0 0 16 16" aria-hidden="true" { path d=(item.icon()) {} }
                                    (item.label())
                                }
                            }
                        }
                    }
                    div.who {
                        div.principal { (viewer.token.principal) " " (kind_chip(kind_name(viewer.token.kind))) }
                        div.muted.small { "token " code { (viewer.token.name) } }
                        div.muted.small { (roles.join(", ")) " · " (spaces_text(&viewer.token.spaces)) }
                        form method="post" action="/ui/logout" {
                            (csrf_field(viewer))
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main.content {
                    header.page-head { h1 { (title) } }
                    @if let Some(n) = notice {
                        @match n {
                            Notice::Done(text) => { p.alert.ok role="status" { (text) } }
                            Notice::Error(text) => { p.alert.error role="alert" { (text) } }
                        }
                    }
                    (content)
                }
            }
        },
    )
}

/// A page with only an error message (and its status).
pub fn error_page(viewer: &Viewer, active: Nav, status: StatusCode, message: &str) -> Response {
    (
        status,
        page(
            viewer,
            active,
            "Not available",
            Some(&Notice::Error(message.to_owned())),
            html! {},
        ),
    )
        .into_response()
}

/// An [`ApiError`] as a page.
pub fn api_error(viewer: &Viewer, active: Nav, e: &ApiError) -> Response {
    error_page(viewer, active, e.status(), &e.to_string())
}

fn spaces_text(spaces: &[String]) -> String {
    if spaces.iter().any(|s| s == "*") {
        "every space".into()
    } else {
        spaces.join(", ")
    }
}

/// The stored name of an actor kind.
#[must_use]
pub fn kind_name(kind: warden_core::ActorKind) -> &'static str {
    warden_store::model::actor_kind_str(kind)
}

/// A coloured outcome badge.
#[must_use]
pub fn outcome_badge(outcome: Outcome) -> Markup {
    let (class, label) = outcome_style(outcome);
    html! { span class=(format!("badge {class}")) { (label) } }
}

/// The CSS class and label of an outcome.
#[must_use]
pub fn outcome_style(outcome: Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Allow => ("allow", "allow"),
        Outcome::Warn => ("warn", "warn"),
        Outcome::RequireApproval => ("approval", "needs approval"),
        Outcome::Deny => ("deny", "deny"),
    }
}

/// A badge for a state name (`pending`, `granted` ...).
#[must_use]
pub fn state_badge(state: &str) -> Markup {
    let class = match state {
        "approved" | "granted" | "intact" => "allow",
        "pending" | "requested" => "approval",
        "rejected" | "revoked" | "broken" => "deny",
        "expiring" => "warn",
        _ => "neutral",
    };
    html! { span class=(format!("badge {class}")) { (state) } }
}

/// A chip naming an actor kind (agents stand out).
#[must_use]
pub fn kind_chip(kind: &str) -> Markup {
    html! { span class=(format!("chip kind-{kind}")) { (kind) } }
}

/// A digest, shortened, in monospace with the whole value as its title.
#[must_use]
pub fn digest(d: &str) -> Markup {
    let short = d.strip_prefix("sha256:").unwrap_or(d);
    let short = short.get(..12).unwrap_or(short);
    html! { code.digest title=(d) { (short) } }
}

/// `2026-03-01 12:00 UTC`.
#[must_use]
pub fn time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `5 min ago`, `in 3 h`.
#[must_use]
pub fn relative(now: OffsetDateTime, t: OffsetDateTime) -> String {
    let secs = (now - t).whole_seconds();
    let (future, secs) = (secs < 0, secs.unsigned_abs());
    let text = match secs {
        0..=59 => {
            return if future {
                "in a moment".into()
            } else {
                "just now".into()
            }
        }
        60..=3599 => format!("{} min", secs / 60),
        3600..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86_400),
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// A time element showing the relative time, the exact one on hover.
#[must_use]
pub fn when(now: OffsetDateTime, t: OffsetDateTime) -> Markup {
    html! { time datetime=(time(t)) title=(time(t)) { (relative(now, t)) } }
}

/// A monthly cost in USD with its sign.
#[must_use]
pub fn money_delta(delta: f64) -> String {
    let sign = if delta > 0.0 {
        "+"
    } else if delta < 0.0 {
        "−"
    } else {
        ""
    };
    format!("{sign}${:.2}/mo", delta.abs())
}

/// A friendly empty state.
#[must_use]
pub fn empty(title: &str, text: Markup) -> Markup {
    html! {
        div.empty {
            svg.empty-icon viewBox="0 0 24 24" aria-hidden="true" { path d="M4 7h16v12H4zM4 7l3-4h10l3 4M9 12h6" {} }
            h3 { (title) }
            p.muted { (text) }
        }
    }
}

/// `1 resource`, `3 resources`.
#[must_use]
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A name that holds a digest (`resources:sha256:…`, `policy/sha256:…`) with the digest
/// shortened like [`digest`].
#[must_use]
pub fn short_subject(s: &str) -> String {
    match s.split_once("sha256:") {
        Some((head, hex)) => format!("{head}{}…", hex.get(..12).unwrap_or(hex)),
        None => s.to_owned(),
    }
}
