//! `--format text`: the report a person reads in a terminal or a CI log.
//!
//! Findings are grouped by resource (the resource with the strictest finding first), each with
//! its message, why the rule exists and how to fix it; then what was waived, engine errors, and
//! a closing summary whose first line is the outcome in words. Lines are wrapped at
//! [`WIDTH`] columns whatever the terminal, so the output is the same everywhere.
//!
//! Every string that comes from the input or a policy is cleaned of control characters, so a
//! resource name cannot move the cursor or change colours.

use std::fmt::Write as _;

use crate::decision::{Decision, Outcome, WaivedFinding};
use crate::finding::{Enforcement, Finding, Fix};

use super::{
    enforcement_label, location_label, outcome_reason, outcome_word, patch_op_compact, plural,
    short_digest, source_edit_hcl, waiver_phrase, waiver_reason,
};

/// Column at which text is wrapped.
pub const WIDTH: usize = 100;

/// Indent of a finding's header line.
const FINDING_INDENT: usize = 2;
/// Indent of a finding's body (message, why, fix, note).
const BODY_INDENT: usize = 4;
/// Width of the `why:` / `fix:` / `note:` labels, so their text lines up.
const LABEL_WIDTH: usize = 6;

/// ANSI styles, applied only when colour is on.
#[derive(Debug, Clone, Copy)]
struct Paint {
    on: bool,
}

impl Paint {
    fn apply(self, codes: &str, s: &str) -> String {
        if self.on && !s.is_empty() {
            format!("\x1b[{codes}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn bold(self, s: &str) -> String {
        self.apply("1", s)
    }
    fn dim(self, s: &str) -> String {
        self.apply("2", s)
    }
    fn enforcement(self, e: Enforcement, s: &str) -> String {
        self.apply(enforcement_style(e), s)
    }
    fn outcome(self, o: Outcome, s: &str) -> String {
        self.apply(
            match o {
                Outcome::Deny => "1;31",
                Outcome::RequireApproval => "1;33",
                Outcome::Warn => "1;33",
                Outcome::Allow => "1;32",
            },
            s,
        )
    }
}

fn enforcement_style(e: Enforcement) -> &'static str {
    match e {
        Enforcement::Deny => "1;31",
        Enforcement::RequireApproval => "1;33",
        Enforcement::Warn => "33",
        Enforcement::Advisory => "36",
    }
}

/// The human report.
#[must_use]
pub fn render(decision: &Decision, color: bool) -> String {
    let paint = Paint { on: color };
    let mut out = String::new();

    for (address, findings) in group_by_resource(&decision.findings) {
        render_resource(&mut out, paint, address, &findings);
    }
    if !decision.waived.is_empty() {
        render_waived(&mut out, paint, &decision.waived);
    }
    if !decision.errors.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint.apply(
                "1;31",
                &format!("Engine errors ({})", decision.errors.len())
            )
        );
        for e in &decision.errors {
            let head = format!("error[{}]: ", clean(&e.engine));
            let body = wrap_lines(&e.message, WIDTH.saturating_sub(2 + head.chars().count()));
            for (i, line) in body.iter().enumerate() {
                if i == 0 {
                    let _ = writeln!(out, "  {}{line}", paint.apply("1;31", &head));
                } else {
                    let _ = writeln!(out, "  {:width$}{line}", "", width = head.chars().count());
                }
            }
        }
        out.push('\n');
    }
    render_summary(&mut out, paint, decision);
    out
}

/// Findings grouped by resource address, in the order of each resource's first (strictest)
/// finding; within a resource, the decision's order.
fn group_by_resource(findings: &[Finding]) -> Vec<(&str, Vec<&Finding>)> {
    let mut groups: Vec<(&str, Vec<&Finding>)> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for f in findings {
        let i = *index.entry(f.resource.as_str()).or_insert(groups.len());
        match groups.get_mut(i) {
            Some((_, group)) => group.push(f),
            None => groups.push((&f.resource, vec![f])),
        }
    }
    groups
}

fn render_resource(out: &mut String, paint: Paint, address: &str, findings: &[&Finding]) {
    let Some(first) = findings.first() else {
        return;
    };
    let _ = writeln!(
        out,
        "{} {}",
        paint.bold(&clean(address)),
        paint.dim(&format!(
            "({}, {})",
            clean(&first.resource_kind),
            first.action.as_str()
        ))
    );
    if let Some(loc) = location_label(&first.location) {
        let _ = writeln!(out, " {} {}", paint.apply("1;34", "-->"), clean(&loc));
    }
    for f in findings {
        out.push('\n');
        render_finding(out, paint, f);
    }
    out.push('\n');
}

fn render_finding(out: &mut String, paint: Paint, f: &Finding) {
    let label = format!("{:<8}", enforcement_label(f.enforcement));
    let severity = format!("{:<8}", f.severity.as_str());
    let mut header = format!(
        "{:indent$}{}  {}  {}  {}",
        "",
        paint.enforcement(f.enforcement, &label),
        severity,
        paint.bold(&clean(&f.rule_id)),
        clean(&f.rule_name),
        indent = FINDING_INDENT
    );
    if f.unknown {
        header.push_str("  ");
        header.push_str(&paint.apply("35", "(unknown: known only after apply)"));
    }
    let _ = writeln!(out, "{}", header.trim_end());

    let body = " ".repeat(BODY_INDENT);
    for line in wrap_lines(&f.message, WIDTH - BODY_INDENT) {
        let _ = writeln!(out, "{body}{line}");
    }
    if !f.why.trim().is_empty() {
        labelled(out, paint, "why:", &f.why, |p, s| p.dim(s));
    }
    if let Some(fix) = &f.fix {
        render_fix(out, paint, fix);
    }
    if let Some(note) = &f.note {
        labelled(out, paint, "note:", note, |p, s| p.apply("33", s));
    }
}

/// `    why:  text`, wrapped so continuation lines line up with the text.
fn labelled(
    out: &mut String,
    paint: Paint,
    label: &str,
    text: &str,
    style: impl Fn(Paint, &str) -> String,
) {
    let lead = BODY_INDENT + LABEL_WIDTH;
    for (i, line) in wrap_lines(text, WIDTH - lead).iter().enumerate() {
        if i == 0 {
            let head = format!("{:indent$}{label:<LABEL_WIDTH$}", "", indent = BODY_INDENT);
            let _ = writeln!(out, "{}", style(paint, &format!("{head}{line}")));
        } else {
            let _ = writeln!(out, "{}", style(paint, &format!("{:lead$}{line}", "")));
        }
    }
}

fn render_fix(out: &mut String, paint: Paint, fix: &Fix) {
    let lead = " ".repeat(BODY_INDENT + LABEL_WIDTH);
    labelled(out, paint, "fix:", &fix.description, |p, s| {
        // Only the label is coloured: the description is the part to read.
        match s.split_once("fix:") {
            Some((before, after)) => format!("{before}{}{after}", p.apply("32", "fix:")),
            None => s.to_owned(),
        }
    });
    for edit in &fix.source {
        let _ = writeln!(
            out,
            "{lead}{}",
            paint.apply("32", &clean(&source_edit_hcl(edit)))
        );
    }
    if !fix.patch.is_empty() {
        let ops: Vec<String> = fix
            .patch
            .iter()
            .map(|op| clean(&patch_op_compact(op)))
            .collect();
        let one_line = format!("patch: {}", ops.join("; "));
        if lead.len() + one_line.chars().count() <= WIDTH {
            let _ = writeln!(out, "{lead}{}", paint.dim(&one_line));
        } else {
            let _ = writeln!(out, "{lead}{}", paint.dim("patch:"));
            for op in ops {
                let _ = writeln!(out, "{lead}  {}", paint.dim(&op));
            }
        }
    }
    if let Some(snippet) = &fix.snippet {
        for line in snippet.trim_end_matches('\n').split('\n') {
            let line = clean(line.trim_end_matches('\r'));
            if line.trim().is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "{lead}  {}", paint.apply("32", &line));
            }
        }
    }
}

fn render_waived(out: &mut String, paint: Paint, waived: &[WaivedFinding]) {
    let _ = writeln!(out, "{}", paint.bold(&format!("Waived ({})", waived.len())));
    for w in waived {
        let f = &w.finding;
        let _ = writeln!(
            out,
            "  {}  {}  on {}",
            paint.bold(&clean(&f.rule_id)),
            clean(&f.rule_name),
            clean(&f.resource)
        );
        labelled(out, paint, "by:", &waiver_phrase(&w.waiver), |p, s| {
            p.dim(s)
        });
        labelled(out, paint, "why:", waiver_reason(&w.waiver), |p, s| {
            p.dim(s)
        });
    }
    out.push('\n');
}

fn render_summary(out: &mut String, paint: Paint, d: &Decision) {
    let s = &d.summary;
    let word = outcome_word(d.outcome);
    let _ = writeln!(
        out,
        "{} {}",
        paint.outcome(d.outcome, word),
        paint.bold(&format!("— {}", outcome_reason(d)))
    );

    let mut counts = vec![
        format!("{} deny", s.deny),
        format!("{} require approval", s.require_approval),
        format!("{} warn", s.warn),
        format!("{} advisory", s.advisory),
        format!("{} waived", s.waived),
    ];
    if !d.errors.is_empty() {
        counts.push(plural(d.errors.len(), "engine error", "engine errors"));
    }
    let _ = writeln!(out, "  {}", counts.join(" · "));
    if s.unknown > 0 {
        let text = format!(
            "{} on values known only after apply: neither pass nor fail, enforced as configured",
            plural(s.unknown, "finding is", "findings are"),
        );
        for (i, line) in wrap_lines(&text, WIDTH - 4).iter().enumerate() {
            let indent = if i == 0 { 2 } else { 4 };
            let _ = writeln!(out, "{:indent$}{}", "", paint.apply("35", line));
        }
    }
    let lines = [
        d.cost.as_ref().map(|c| format!("Cost: {}", c.summary())),
        d.risk
            .as_ref()
            .map(|r| format!("Risk: {}", clean(&r.summary()))),
    ];
    for line in lines.iter().flatten() {
        for (i, line) in wrap_lines(line, WIDTH - 4).iter().enumerate() {
            let indent = if i == 0 { 2 } else { 4 };
            let _ = writeln!(out, "{:indent$}{line}", "");
        }
    }
    let _ = writeln!(
        out,
        "  {}",
        paint.dim(&format!(
            "{} and {} evaluated · input {} · policy {}",
            plural(s.resources, "resource", "resources"),
            plural(s.rules, "rule", "rules"),
            clean(&short_digest(&d.input_digest)),
            clean(&short_digest(&d.policy_revision)),
        ))
    );
}

/// Splits text into lines (on `\n`), cleans each, and wraps each at `width` columns on spaces.
fn wrap_lines(text: &str, width: usize) -> Vec<String> {
    let width = width.max(20);
    let mut out = Vec::new();
    for raw in text.trim_end().split('\n') {
        let line = clean(raw.trim_end_matches('\r'));
        let mut current = String::new();
        let mut current_len = 0usize;
        for word in line.split(' ').filter(|w| !w.is_empty()) {
            let len = word.chars().count();
            if current_len > 0 && current_len + 1 + len > width {
                out.push(std::mem::take(&mut current));
                current_len = 0;
            }
            if current_len > 0 {
                current.push(' ');
                current_len += 1;
            }
            current.push_str(word);
            current_len += len;
        }
        out.push(current);
    }
    out
}

/// Replaces control characters (escape sequences, carriage returns, NULs ...) with a visible
/// `\u{..}` form; tabs become spaces.
pub(crate) fn clean(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push(' '),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample;

    #[test]
    fn snapshot_plain() {
        insta::assert_snapshot!("text_plain", render(&sample::decision(), false));
    }

    #[test]
    fn snapshot_color() {
        insta::assert_snapshot!("text_color", render(&sample::decision(), true));
    }

    #[test]
    fn snapshot_clean() {
        insta::assert_snapshot!("text_clean", render(&sample::clean(), false));
    }

    #[test]
    fn plain_has_no_escape_codes_and_lines_fit() {
        let out = render(&sample::decision(), false);
        assert!(!out.contains('\x1b'));
        for line in out.lines() {
            assert!(line.chars().count() <= WIDTH, "too long: {line}");
        }
    }

    #[test]
    fn control_characters_are_neutralised() {
        let mut d = sample::decision();
        d.findings[0].message = "evil \x1b[2J name\ttab".to_owned();
        let out = render(&d, false);
        assert!(!out.contains('\x1b'));
        assert!(out.contains("evil \\u{1b}[2J name tab"));
    }

    #[test]
    fn outcome_lines() {
        let mut d = sample::clean();
        assert!(render(&d, false).starts_with("ALLOW — no blocking findings\n"));
        d.findings = sample::decision()
            .findings
            .into_iter()
            .filter(|f| f.enforcement == Enforcement::Warn)
            .collect();
        d.refresh();
        assert!(render(&d, false).contains("\nWARN — 2 warnings, nothing blocks this change\n"));
        d.findings = sample::decision()
            .findings
            .into_iter()
            .filter(|f| f.enforcement == Enforcement::RequireApproval)
            .collect();
        d.refresh();
        assert!(render(&d, false)
            .contains("\nREQUIRE APPROVAL — 1 finding needs approval before apply\n"));
        d.errors = sample::decision().errors;
        d.findings.clear();
        d.refresh();
        assert!(render(&d, false)
            .contains("\nDENY — 1 engine failed, so the change is blocked (fail closed)\n"));
    }
}
