//! Tool results shaped for self-correction: the first lines say what happened and what to
//! change, then the structured JSON. Built from the JSON the HTTP API answers, so the three
//! backends read the same.

use std::fmt::Write as _;

use serde_json::Value;
use warden_core::RuleInfo;

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `<rule id> on <resource>[ (<attribute>)]: <what to change> — <why>`.
fn finding_line(f: &Value) -> String {
    let what = f
        .get("fix")
        .and_then(|x| x.get("description"))
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
        .map_or_else(|| s(f, "message").to_owned(), str::to_owned);
    let attribute = f
        .get("attribute")
        .and_then(Value::as_str)
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    let mut line = format!(
        "{} on {}{attribute}: {what} — {}",
        s(f, "rule_id"),
        s(f, "resource"),
        s(f, "why")
    );
    if let Some(note) = f.get("note").and_then(Value::as_str) {
        let _ = write!(line, " (note: {note})");
    }
    line
}

/// An evaluation's result text: the outcome, what to change, then the decision JSON as
/// given (`json`: the decision document as the API answers it).
pub fn decision(json: &[u8]) -> Result<String, String> {
    let v: Value = serde_json::from_slice(json)
        .map_err(|e| format!("error: the decision is not JSON: {e}"))?;
    let mut out = decision_head(&v);
    let _ = writeln!(out, "\nDecision JSON:");
    out.push_str(&String::from_utf8_lossy(json));
    Ok(out)
}

/// The lines of a decision before its JSON: the outcome and one line per finding.
fn decision_head(v: &Value) -> String {
    let outcome = s(v, "outcome");
    let findings = v
        .get("findings")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let with = |e: &[&str]| -> Vec<&Value> {
        findings
            .iter()
            .filter(|f| e.contains(&s(f, "enforcement")))
            .collect()
    };
    let blocking = with(&["deny", "approval"]);
    let warnings = with(&["warn"]);
    let approval_id = v
        .get("approval")
        .and_then(|a| a.get("id"))
        .and_then(Value::as_i64)
        .or_else(|| {
            v.get("retry")
                .and_then(|r| r.get("approval_id"))
                .and_then(Value::as_i64)
        });
    let mut out = String::new();
    let _ = match outcome {
        "deny" => writeln!(
            out,
            "deny: the change is refused. Change the following and evaluate again:"
        ),
        "require_approval" => match approval_id {
            Some(id) => writeln!(
                out,
                "require_approval: a human approver must approve this exact change (approval \
request {id}; approval_status tells when), or change the following and evaluate again:"
            ),
            None => writeln!(
                out,
                "require_approval: a human approver must approve this change, or change the \
following and evaluate again:"
            ),
        },
        "warn" => writeln!(out, "warn: the change may go ahead, with warnings:"),
        "allow" => writeln!(out, "allow: the change may go ahead."),
        other => writeln!(out, "{other}:"),
    };
    if let Some(by) = v.get("approved_by").and_then(|a| a.get("id")) {
        let _ = writeln!(out, "allowed by approval request {by}.");
    }
    for f in &blocking {
        let _ = writeln!(out, "- {}", finding_line(f));
    }
    if !warnings.is_empty() {
        if outcome != "warn" {
            let _ = writeln!(out, "warnings (they do not block):");
        }
        for f in &warnings {
            let _ = writeln!(out, "- {}", finding_line(f));
        }
    }
    if let Some(errors) = v.get("errors").and_then(Value::as_array) {
        for e in errors {
            let _ = writeln!(
                out,
                "- engine error (fails closed): {}",
                e.get("message").and_then(Value::as_str).unwrap_or("")
            );
        }
    }
    let waived = v
        .get("waived")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if waived > 0 {
        let _ = writeln!(out, "{waived} finding(s) waived by exceptions.");
    }
    if let Some(id) = v.get("decision_id") {
        let _ = writeln!(
            out,
            "decision {id} recorded in space {}.",
            v.get("space").map_or_else(String::new, Value::to_string)
        );
    }
    out
}

/// One line about an environment: id, blueprint, space, state, end, outputs.
fn environment_line(e: &Value) -> String {
    let mut line = format!(
        "environment {} ({} version {}) in space {}: {}, ends at {}",
        e.get("id").map_or_else(String::new, Value::to_string),
        s(e, "blueprint"),
        e.get("version").map_or_else(String::new, Value::to_string),
        s(e, "space"),
        s(e, "state"),
        s(e, "ends_at"),
    );
    if let Some(p) = e.get("pending_ends_at").and_then(Value::as_str) {
        let _ = write!(line, " (extension to {p} waits for approval)");
    }
    if let Some(a) = e.get("approval_id").and_then(Value::as_i64) {
        let _ = write!(line, ", approval request {a}");
    }
    if let Some(outputs) = e.get("outputs").and_then(Value::as_object) {
        if !outputs.is_empty() {
            let shown: Vec<String> = outputs
                .iter()
                .map(|(k, v)| match v {
                    Value::String(t) => format!("{k} = {t}"),
                    other => format!("{k} = {other}"),
                })
                .collect();
            let _ = write!(line, "; outputs: {}", shown.join(", "));
        }
    }
    if let Some(f) = e.get("flagged_reason").and_then(Value::as_str) {
        let _ = write!(line, "; flagged: {f}");
    }
    line
}

/// An environment request's result text (`v`: the answer of the environment API): the
/// decision's lines when one was made, the environment's line, a runner error, then the JSON.
#[must_use]
pub fn environment(v: &Value) -> String {
    let decided = v.get("outcome").is_some();
    let mut out = if decided {
        decision_head(v)
    } else {
        String::new()
    };
    if let Some(e) = v.get("environment") {
        let _ = writeln!(out, "{}", environment_line(e));
    }
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        let _ = writeln!(out, "runner error: {e}");
    }
    let label = if decided { "Decision" } else { "Environment" };
    let _ = write!(out, "\n{label} JSON:\n{v}");
    out
}

/// The environment list's result text: one line per environment, then the JSON
/// (`v`: `{"environments": [...]}` as the API answers it).
#[must_use]
pub fn environment_list(v: &Value) -> String {
    let list = v
        .get("environments")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut out = String::new();
    let _ = writeln!(out, "{} environment(s).", list.len());
    for e in list {
        let _ = writeln!(out, "- {}", environment_line(e));
    }
    let _ = write!(out, "\nEnvironments JSON:\n{v}");
    out
}

/// A rule's documentation, or a message naming close matches.
pub fn explain(rules: &[RuleInfo], wanted: &str) -> Result<String, String> {
    let w = wanted.trim();
    let Some(rule) = rules
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(w) || r.name == w)
    else {
        let lower = w.to_ascii_lowercase();
        let close: Vec<&str> = rules
            .iter()
            .filter(|r| {
                !lower.is_empty()
                    && (r.id.to_ascii_lowercase().contains(&lower) || r.name.contains(&lower))
            })
            .map(|r| r.id.as_str())
            .take(5)
            .collect();
        return Err(if close.is_empty() {
            format!("error: bad input: no rule `{w}` is in force; list_rules lists them")
        } else {
            format!(
                "error: bad input: no rule `{w}`; did you mean {}?",
                close.join(", ")
            )
        });
    };
    let mut out = format!(
        "{} {}: {}\nseverity {}, enforcement {} (default {}); kinds: {}\nwhy: {}\n",
        rule.id,
        rule.name,
        rule.title,
        rule.severity.as_str(),
        rule.enforcement.as_str(),
        rule.default_enforcement.as_str(),
        if rule.kinds.is_empty() {
            "every resource".to_owned()
        } else {
            rule.kinds.join(", ")
        },
        rule.why
    );
    if let Some(uri) = &rule.help_uri {
        let _ = writeln!(out, "docs: {uri}");
    }
    out.push('\n');
    out.push_str(&rule.docs);
    Ok(out)
}

/// The rules in force, one per line, those matching `filter` only.
#[must_use]
pub fn rule_list(rules: &[RuleInfo], filter: Option<&str>) -> String {
    let filter = filter
        .map(|f| f.trim().to_ascii_lowercase())
        .filter(|f| !f.is_empty());
    let matches = |r: &RuleInfo| {
        filter.as_ref().is_none_or(|f| {
            r.id.to_ascii_lowercase().contains(f)
                || r.name.contains(f.as_str())
                || r.title.to_ascii_lowercase().contains(f)
                || r.kinds.iter().any(|k| k.to_ascii_lowercase().contains(f))
        })
    };
    let mut out = String::new();
    let mut n = 0;
    for r in rules.iter().filter(|r| matches(r)) {
        n += 1;
        let kinds = if r.kinds.is_empty() {
            "every resource".to_owned()
        } else {
            r.kinds.join(",")
        };
        let _ = writeln!(
            out,
            "{} {} [{} / {}] ({kinds}): {}",
            r.id,
            r.name,
            r.severity.as_str(),
            r.enforcement.as_str(),
            r.title
        );
    }
    let _ = write!(
        out,
        "{n} rule(s){}. explain_rule tells what a rule checks, why, and how to fix it.",
        filter
            .as_ref()
            .map(|f| format!(" matching `{f}`"))
            .unwrap_or_default()
    );
    out
}

/// An exception request's result text.
#[must_use]
pub fn exception(v: &Value) -> String {
    format!(
        "exception {} requested ({}): rule {} on {} in space {}. A human approver must grant \
it; until then the finding still applies.\n\nException JSON:\n{v}",
        v.get("id").map_or_else(String::new, Value::to_string),
        s(v, "state"),
        s(v, "rule"),
        s(v, "resource"),
        s(v, "space"),
    )
}

/// An approval request's result text.
#[must_use]
pub fn approval(v: &Value) -> String {
    let state = s(v, "state");
    let next = match state {
        "approved" => "evaluate the same change again: it is allowed citing this request",
        "pending" => "wait for a human approver, or change what the findings ask",
        "rejected" => "change what the findings ask and evaluate again",
        "superseded" => "a newer change for the same subject replaced it",
        _ => "evaluate the change again",
    };
    format!(
        "approval request {} is {state}: {next}.\n\nApproval JSON:\n{v}",
        v.get("id").map_or_else(String::new, Value::to_string)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blocking_findings_come_first_with_fix_and_why() {
        let v = json!({
            "outcome": "deny",
            "findings": [
                {"rule_id": "WD-AWS-002", "resource": "aws_security_group.web", "enforcement": "deny",
                 "message": "SSH open", "why": "bots scan port 22", "attribute": "ingress",
                 "fix": {"description": "restrict cidr_blocks"}},
                {"rule_id": "WD-GOV-001", "resource": "aws_instance.a", "enforcement": "warn",
                 "message": "missing tag owner", "why": "ownership"},
            ],
            "decision_id": 4, "space": "dev"
        });
        let text = decision(v.to_string().as_bytes()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("deny:"), "{text}");
        assert_eq!(
            lines[1],
            "- WD-AWS-002 on aws_security_group.web (ingress): restrict cidr_blocks — bots scan port 22"
        );
        assert_eq!(lines[2], "warnings (they do not block):");
        assert_eq!(
            lines[3],
            "- WD-GOV-001 on aws_instance.a: missing tag owner — ownership"
        );
        assert!(text.contains("decision 4 recorded in space \"dev\""));
        let json_part = text.split("Decision JSON:\n").nth(1).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Value>(json_part).ok(), Some(v));
    }

    #[test]
    fn environments_say_state_end_and_outputs() {
        let env = json!({"id": 7, "blueprint": "sandbox", "version": 1, "space": "dev",
                         "state": "active", "ends_at": "2026-01-01T08:00:00Z",
                         "outputs": {"url": "https://x"}, "approval_id": null});
        let v = json!({"outcome": "allow", "findings": [], "decision_id": 3, "environment": env});
        let text = environment(&v);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "allow: the change may go ahead.");
        assert!(
            text.contains(
                "environment 7 (sandbox version 1) in space dev: active, ends at \
2026-01-01T08:00:00Z; outputs: url = https://x"
            ),
            "{text}"
        );
        let json_part = text.split("Decision JSON:\n").nth(1).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Value>(json_part).ok(), Some(v));
        // No decision (a cancelled launch): the environment alone.
        let text = environment(&json!({"environment": {"id": 8, "state": "terminated"}}));
        assert!(text.starts_with("environment 8 "), "{text}");
        assert!(text.contains("Environment JSON:"), "{text}");
        let list = environment_list(&json!({"environments": [env]}));
        assert!(
            list.starts_with("1 environment(s).\n- environment 7 "),
            "{list}"
        );
    }
}
