//! Renderers: every output format is one module over the same [`Decision`].
//!
//! Every renderer is a pure function of the decision (and the rule list): the same decision
//! renders to the same bytes, whatever the machine, the clock or the terminal.

pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;

#[cfg(test)]
pub(crate) mod sample;

use crate::decision::{Decision, Outcome};
use crate::engine::RuleInfo;
use crate::finding::{Enforcement, PatchOp, SourceEdit};
use crate::value::Value;

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
        Format::Text => text::render(decision, options.color),
        Format::Json => json::render(decision),
        Format::Sarif => sarif::render(decision, options.rules),
        Format::Junit => junit::render(decision),
        Format::Markdown => markdown::render(decision),
    }
}

/// Renders a decision into a writer. JSON and SARIF are streamed (a 100k-resource plan's decision is
/// hundreds of megabytes); the other formats are built, then written.
pub fn render_to(
    format: Format,
    decision: &Decision,
    options: &RenderOptions<'_>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, decision)?;
            out.write_all(b"\n")
        }
        Format::Sarif => sarif::render_to(decision, options.rules, out),
        _ => out.write_all(render(format, decision, options).as_bytes()),
    }
}

/// The short label of an enforcement in human output.
pub(crate) fn enforcement_label(e: Enforcement) -> &'static str {
    match e {
        Enforcement::Deny => "DENY",
        Enforcement::RequireApproval => "APPROVAL",
        Enforcement::Warn => "WARN",
        Enforcement::Advisory => "INFO",
    }
}

/// The outcome in capitals (`REQUIRE APPROVAL`).
pub(crate) fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Allow => "ALLOW",
        Outcome::Warn => "WARN",
        Outcome::RequireApproval => "REQUIRE APPROVAL",
        Outcome::Deny => "DENY",
    }
}

/// `n thing` / `n things`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What the outcome means, in one phrase: `3 findings block this change`.
pub(crate) fn outcome_reason(d: &Decision) -> String {
    let s = &d.summary;
    match d.outcome {
        Outcome::Deny => {
            let errors = d.errors.len();
            match (s.deny, errors) {
                (0, e) => format!(
                    "{} failed, so the change is blocked (fail closed)",
                    plural(e, "engine", "engines")
                ),
                (n, 0) => format!(
                    "{} this change",
                    plural(n, "finding blocks", "findings block")
                ),
                (n, e) => format!(
                    "{} this change, and {} failed",
                    plural(n, "finding blocks", "findings block"),
                    plural(e, "engine", "engines")
                ),
            }
        }
        Outcome::RequireApproval => {
            format!(
                "{} approval before apply",
                plural(s.require_approval, "finding needs", "findings need")
            )
        }
        Outcome::Warn => format!(
            "{}, nothing blocks this change",
            plural(s.warn, "warning", "warnings")
        ),
        Outcome::Allow => "no blocking findings".to_owned(),
    }
}

/// `sha256:0123456789ab` — the algorithm and the first 12 hex digits.
pub(crate) fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algo, hex)) => format!("{algo}:{}", hex.chars().take(12).collect::<String>()),
        None => digest.chars().take(12).collect(),
    }
}

/// A value as compact JSON.
pub(crate) fn json_compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// One patch operation, compactly: `add /acl "private"`, `remove /tags/x`.
pub(crate) fn patch_op_compact(op: &PatchOp) -> String {
    match op {
        PatchOp::Add { path, value } => format!("add {path} {}", json_compact(value)),
        PatchOp::Replace { path, value } => format!("replace {path} {}", json_compact(value)),
        PatchOp::Remove { path } => format!("remove {path}"),
    }
}

/// The operations as a pretty-printed RFC 6902 document.
pub(crate) fn patch_json(ops: &[PatchOp]) -> String {
    serde_json::to_string_pretty(ops).unwrap_or_else(|_| "[]".to_owned())
}

/// A source edit as HCL: `metadata_options.http_tokens = "required"`; a `null` value (remove
/// the attribute) reads `# remove metadata_options.http_tokens`.
pub(crate) fn source_edit_hcl(edit: &SourceEdit) -> String {
    if edit.value.is_null() {
        format!("# remove {}", edit.attribute)
    } else {
        format!("{} = {}", edit.attribute, hcl_value(&edit.value))
    }
}

/// A JSON value written as an HCL expression.
pub(crate) fn hcl_value(value: &Value) -> String {
    match value {
        Value::String(s) => hcl_string(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(hcl_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(pairs) if pairs.is_empty() => "{}".to_owned(),
        Value::Object(pairs) => {
            let members: Vec<String> = pairs
                .iter()
                .map(|(k, v)| {
                    let key = if is_hcl_identifier(k) {
                        k.to_string()
                    } else {
                        hcl_string(k)
                    };
                    format!("{key} = {}", hcl_value(v))
                })
                .collect();
            format!("{{ {} }}", members.join(", "))
        }
        other => json_compact(other),
    }
}

fn hcl_string(s: &str) -> String {
    // JSON string escapes are valid HCL escapes; template sequences must be doubled.
    let quoted = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned());
    quoted.replace("${", "$${").replace("%{", "%%{")
}

fn is_hcl_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `plan.json:42`, `plan.json`, or `None` when the file is unknown.
pub(crate) fn location_label(location: &crate::resource::Location) -> Option<String> {
    let file = location.file.as_deref()?;
    Some(match location.line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_owned(),
    })
}

/// What covered a waived finding, in one phrase.
pub(crate) fn waiver_phrase(waiver: &crate::exceptions::Waiver) -> String {
    use crate::exceptions::{format_date, Waiver};
    match waiver {
        Waiver::Exception { exception: e } => {
            let owner = e
                .owner
                .as_deref()
                .map(|o| format!(", owner {o}"))
                .unwrap_or_default();
            format!(
                "exception `{}` on `{}`{owner}, expires {}",
                e.rule,
                e.resource,
                format_date(e.expires)
            )
        }
        Waiver::Tag { value, .. } => format!("tag `warden:ignore = \"{value}\"`"),
    }
}

/// The reason a waiver gives.
pub(crate) fn waiver_reason(waiver: &crate::exceptions::Waiver) -> &str {
    match waiver {
        crate::exceptions::Waiver::Exception { exception } => &exception.reason,
        crate::exceptions::Waiver::Tag { reason, .. } => reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatches_every_format() {
        let d = sample::decision();
        let rules = sample::rules();
        let options = RenderOptions {
            rules: &rules,
            color: false,
        };
        for format in [
            Format::Text,
            Format::Json,
            Format::Sarif,
            Format::Junit,
            Format::Markdown,
        ] {
            let out = render(format, &d, &options);
            assert!(!out.is_empty(), "{format:?}");
            assert!(out.ends_with('\n'), "{format:?} ends with a newline");
            assert_eq!(
                out,
                render(format, &d, &options),
                "{format:?} is deterministic"
            );
        }
        assert!(render(Format::Json, &d, &options).starts_with('{'));
        assert!(render(Format::Junit, &d, &options).starts_with("<?xml"));
    }

    #[test]
    fn hcl_values() {
        let v: Value = serde_json::from_str(r#"{"a":[1,"x${y}"],"b-c":true,"1d":null}"#).unwrap();
        assert_eq!(
            hcl_value(&v),
            r#"{ a = [1, "x$${y}"], b-c = true, "1d" = null }"#
        );
        assert_eq!(
            short_digest("sha256:0123456789abcdef"),
            "sha256:0123456789ab"
        );
        assert_eq!(short_digest("abc"), "abc");
    }
}
