//! `--format json`: the decision document, versioned by `schema_version`.

use crate::decision::Decision;

/// Pretty-printed JSON with a trailing newline.
#[must_use]
pub fn render(decision: &Decision) -> String {
    let mut out = serde_json::to_string_pretty(decision).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    out.push('\n');
    out
}
