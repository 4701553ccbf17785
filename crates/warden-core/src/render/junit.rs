//! `--format junit`: JUnit XML, for CI systems that show test reports.
//!
//! One `<testsuite name="warden">` with one `<testcase>` per (rule, resource) pair: the class
//! is the rule id, the name the resource address. Findings that deny or require approval are
//! `<failure>`s; warnings and advisory findings pass and say what they found in
//! `<system-out>`, so they do not fail the build; waived findings are `<skipped>`. Engine
//! errors are `<error>` test cases. A clean decision is one passing test case, `warden check`,
//! so the report is never empty.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::decision::Decision;
use crate::finding::{Enforcement, Finding};

use super::{
    enforcement_label, location_label, outcome_reason, outcome_word, patch_op_compact,
    source_edit_hcl,
};
use super::{waiver_phrase, waiver_reason};

/// What happened to one (rule, resource) pair.
struct Case<'a> {
    rule: &'a str,
    resource: &'a str,
    active: Vec<&'a Finding>,
    waived: Vec<&'a crate::decision::WaivedFinding>,
}

impl Case<'_> {
    /// The strictest active enforcement.
    fn enforcement(&self) -> Option<Enforcement> {
        self.active.iter().map(|f| f.enforcement).max()
    }

    fn fails(&self) -> bool {
        matches!(
            self.enforcement(),
            Some(Enforcement::Deny | Enforcement::RequireApproval)
        )
    }

    fn skipped(&self) -> bool {
        self.active.is_empty()
    }
}

fn cases(decision: &Decision) -> Vec<Case<'_>> {
    let mut cases: Vec<Case<'_>> = Vec::new();
    // (rule, resource) → index in `cases`: first-seen order, without a quadratic search.
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    for f in &decision.findings {
        let next = cases.len();
        let i = *index
            .entry((f.rule_id.as_str(), f.resource.as_str()))
            .or_insert(next);
        if i == cases.len() {
            cases.push(Case {
                rule: &f.rule_id,
                resource: &f.resource,
                active: Vec::new(),
                waived: Vec::new(),
            });
        }
        if let Some(c) = cases.get_mut(i) {
            c.active.push(f);
        }
    }
    for w in &decision.waived {
        let next = cases.len();
        let i = *index
            .entry((w.finding.rule_id.as_str(), w.finding.resource.as_str()))
            .or_insert(next);
        if i == cases.len() {
            cases.push(Case {
                rule: &w.finding.rule_id,
                resource: &w.finding.resource,
                active: Vec::new(),
                waived: Vec::new(),
            });
        }
        if let Some(c) = cases.get_mut(i) {
            c.waived.push(w);
        }
    }
    cases
}

/// The JUnit XML report.
#[must_use]
pub fn render(decision: &Decision) -> String {
    let cases = cases(decision);
    let failures = cases.iter().filter(|c| c.fails()).count();
    let skipped = cases.iter().filter(|c| c.skipped()).count();
    let errors = decision.errors.len();
    let clean = cases.is_empty() && errors == 0;
    let tests = cases.len() + errors + usize::from(clean);
    let time = format!("{:.3}", decision.duration_ms.max(0.0) / 1000.0);

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!(
        "tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time}\""
    );
    let _ = writeln!(out, "<testsuites name=\"warden\" {counts}>");
    let _ = writeln!(
        out,
        "  <testsuite name=\"warden\" {counts} timestamp=\"{}\">",
        attr(decision.evaluated_at.trim_end_matches('Z'))
    );
    out.push_str("    <properties>\n");
    for (name, value) in [
        ("outcome", decision.outcome.as_str()),
        ("input_digest", decision.input_digest.as_str()),
        ("policy_revision", decision.policy_revision.as_str()),
        ("warden_version", decision.tool.version.as_str()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            attr(value)
        );
    }
    out.push_str("    </properties>\n");

    if clean {
        let _ = writeln!(
            out,
            "    <testcase classname=\"warden\" name=\"warden check\" time=\"{time}\">\n      <system-out>{}</system-out>\n    </testcase>",
            text(&format!("{} — {}", outcome_word(decision.outcome), outcome_reason(decision)))
        );
    }
    for case in &cases {
        render_case(&mut out, case);
    }
    for e in &decision.errors {
        let _ = writeln!(
            out,
            "    <testcase classname=\"warden.engine\" name=\"{}\">\n      <error message=\"{}\" type=\"engine-error\">{}</error>\n    </testcase>",
            attr(&e.engine),
            attr(&e.message),
            text(&e.message)
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn render_case(out: &mut String, case: &Case<'_>) {
    let file = case
        .active
        .first()
        .copied()
        .or_else(|| case.waived.first().map(|w| &w.finding))
        .and_then(|f| f.location.file.as_deref());
    let file_attr = file
        .map(|f| format!(" file=\"{}\"", attr(f)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"{file_attr}>",
        attr(case.rule),
        attr(case.resource)
    );
    let details: String = case
        .active
        .iter()
        .map(|f| details(f))
        .collect::<Vec<_>>()
        .join("\n");
    match (case.enforcement(), case.active.first()) {
        (Some(e @ (Enforcement::Deny | Enforcement::RequireApproval)), Some(first)) => {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                attr(first.message.trim()),
                e.as_str(),
                text(&details)
            );
        }
        (Some(_), Some(_)) => {
            let _ = writeln!(out, "      <system-out>{}</system-out>", text(&details));
        }
        _ => {
            let reasons: Vec<String> = case
                .waived
                .iter()
                .map(|w| {
                    format!(
                        "waived by {}: {}",
                        waiver_phrase(&w.waiver),
                        waiver_reason(&w.waiver)
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "      <skipped message=\"{}\"/>",
                attr(&reasons.join("; "))
            );
        }
    }
    out.push_str("    </testcase>\n");
}

/// The body of a failure or of system-out: everything a person needs to act.
fn details(f: &Finding) -> String {
    let mut s = format!(
        "{} {} {} {} on {}",
        enforcement_label(f.enforcement),
        f.severity,
        f.rule_id,
        f.rule_name,
        f.resource
    );
    if let Some(loc) = location_label(&f.location) {
        let _ = write!(s, " ({loc})");
    }
    if f.unknown {
        s.push_str(" [unknown: known only after apply]");
    }
    let _ = write!(s, "\n{}", f.message.trim_end());
    if !f.why.trim().is_empty() {
        let _ = write!(s, "\nwhy: {}", f.why.trim());
    }
    if let Some(fix) = &f.fix {
        let _ = write!(s, "\nfix: {}", fix.description);
        for edit in &fix.source {
            let _ = write!(s, "\n  {}", source_edit_hcl(edit));
        }
        if !fix.patch.is_empty() {
            let ops: Vec<String> = fix.patch.iter().map(patch_op_compact).collect();
            let _ = write!(s, "\n  patch: {}", ops.join("; "));
        }
        if let Some(snippet) = &fix.snippet {
            for line in snippet.trim_end().lines() {
                let _ = write!(s, "\n    {line}");
            }
        }
    }
    if let Some(note) = &f.note {
        let _ = write!(s, "\nnote: {note}");
    }
    s
}

/// Escapes element text. Characters XML 1.0 forbids even as references (most C0 controls,
/// U+FFFE, U+FFFF) are written as visible `\u{..}` text instead.
fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value; newlines and tabs become references so they survive attribute
/// value normalisation.
fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\n' | '\t' => out.push(c),
            c if forbidden_in_xml(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// `true` for characters outside XML 1.0's `Char` production.
fn forbidden_in_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!("junit", render(&sample::decision()));
    }

    #[test]
    fn snapshot_clean() {
        insta::assert_snapshot!("junit_clean", render(&sample::clean()));
    }

    /// A small, strict well-formedness check: tags balance, attributes are quoted, and no raw
    /// `<`, `&` or forbidden character appears in text.
    fn assert_well_formed(xml: &str) {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .expect("declaration");
        assert!(!body.chars().any(forbidden_in_xml), "forbidden character");
        let mut stack: Vec<String> = Vec::new();
        let mut rest = body;
        while let Some(start) = rest.find('<') {
            let text = &rest[..start];
            assert!(!text.contains('>'), "raw `>` in text: {text}");
            for (i, _) in text.match_indices('&') {
                let entity = &text[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#10;", "&#13;", "&#9;"]
                        .iter()
                        .any(|e| entity.starts_with(e)),
                    "bad entity in {text}"
                );
            }
            let end = rest[start..].find('>').expect("unclosed tag") + start;
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "`<` inside tag {tag}");
            assert_eq!(
                tag.matches('"').count() % 2,
                0,
                "unbalanced quotes in {tag}"
            );
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "mismatched close");
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().expect("tag name");
                stack.push(name.to_owned());
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        assert_eq!(rest, "\n");
    }

    fn count(xml: &str, needle: &str) -> usize {
        xml.matches(needle).count()
    }

    #[test]
    fn well_formed_with_counts() {
        let d = sample::decision();
        let xml = render(&d);
        assert_well_formed(&xml);
        // 5 active (rule, resource) pairs + 2 waived + 1 engine error.
        assert_eq!(count(&xml, "<testcase "), 8);
        assert_eq!(count(&xml, "<failure "), 2);
        assert_eq!(count(&xml, "<skipped "), 2);
        assert_eq!(count(&xml, "<error "), 1);
        assert_eq!(count(&xml, "<system-out>"), 3);
        assert!(xml.contains(
            "<testsuite name=\"warden\" tests=\"8\" failures=\"2\" errors=\"1\" skipped=\"2\""
        ));
        assert!(xml.contains("web &lt;prod|blue&gt; &amp; owner is \"ops\""));

        let clean = render(&sample::clean());
        assert_well_formed(&clean);
        assert_eq!(count(&clean, "<testcase "), 1);
        assert!(clean.contains("name=\"warden check\""));
        assert!(clean.contains("tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\""));
    }

    #[test]
    fn hostile_strings_are_escaped() {
        let mut d = sample::decision();
        d.findings[0].resource = "a[\"<x>&'\\\"\"]".to_owned();
        d.findings[0].message = "bell\u{7} nul\u{0} esc\u{1b} ]]> \r\n tab\t \u{fffe}".to_owned();
        let xml = render(&d);
        assert_well_formed(&xml);
        assert!(xml.contains("name=\"a[&quot;&lt;x&gt;&amp;&apos;\\&quot;&quot;]\""));
        assert!(xml.contains("bell\\u{7} nul\\u{0} esc\\u{1b} ]]&gt; &#13;&#10; tab&#9; \\u{fffe}"));
    }

    #[test]
    fn warnings_do_not_fail() {
        let mut d = sample::decision();
        d.findings.retain(|f| f.enforcement <= Enforcement::Warn);
        d.errors.clear();
        d.refresh();
        let xml = render(&d);
        assert_well_formed(&xml);
        assert_eq!(count(&xml, "<failure "), 0);
        assert!(xml.contains("failures=\"0\" errors=\"0\""));
    }
}
