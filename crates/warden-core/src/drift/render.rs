//! The drift report as text: per resource, the violations it introduced first, then the
//! attribute diff, then the remediation; a closing summary. Deterministic, no colour; every
//! string from the input is cleaned of control characters; values longer than
//! [`VALUE_WIDTH`] characters are shortened (the JSON report has them whole).

use std::fmt::Write as _;

use super::{DriftReport, DriftedResource, Source, Status, Suggestion, Violation};
use crate::finding::Finding;
use crate::render::enforcement_label;
use crate::render::text::clean;

/// Values are cut to this many characters in text.
pub const VALUE_WIDTH: usize = 120;

/// The human report.
#[must_use]
pub fn text(report: &DriftReport) -> String {
    let mut out = String::new();
    for r in &report.drifted {
        let findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.resource == r.address)
            .collect();
        resource(&mut out, report.source, r, &findings);
    }
    if !report.errors.is_empty() {
        let _ = writeln!(
            out,
            "Errors ({}): the verdict is incomplete",
            report.errors.len()
        );
        for e in &report.errors {
            let _ = writeln!(out, "  error[{}]: {}", clean(&e.engine), clean(&e.message));
        }
        out.push('\n');
    }
    summary(&mut out, report);
    out
}

fn resource(out: &mut String, source: Source, r: &DriftedResource, findings: &[&Finding]) {
    let how = match (r.status, source) {
        (Status::Changed, Source::Terraform) => "changed outside Terraform",
        (Status::Changed, Source::Kubernetes) => "differs from its manifest",
        (Status::Deleted, _) => "deleted outside Terraform",
        (Status::Missing, _) => "missing from the cluster",
        (Status::Extra, _) => "in the cluster, not in the manifests",
    };
    let place = r
        .location
        .file
        .as_deref()
        .map(|f| match (r.location.line, r.location.pointer.as_deref()) {
            (Some(line), _) => format!(" ({}:{line})", clean(f)),
            (None, Some(p)) if !p.is_empty() => format!(" ({} {})", clean(f), clean(p)),
            _ => format!(" ({})", clean(f)),
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} {} [{}]: {how}{place}",
        sign(r.status),
        clean(&r.address),
        clean(&r.resource_kind)
    );
    if findings.is_empty() {
        for v in &r.introduced {
            violation(out, "introduced", v);
        }
    }
    for f in findings {
        let _ = writeln!(
            out,
            "    {} {} [{}]: {}",
            enforcement_label(f.enforcement),
            clean(&f.rule_id),
            f.severity,
            clean(&f.message)
        );
        if let Some(a) = &f.attribute {
            let _ = writeln!(out, "        at {}", clean(a));
        }
    }
    for v in &r.pre_existing {
        violation(out, "pre-existing", v);
    }
    for v in &r.resolved {
        violation(out, "resolved", v);
    }
    if !r.changes.is_empty() {
        let _ = writeln!(
            out,
            "    {} → live:",
            match source {
                Source::Terraform => "last known",
                Source::Kubernetes => "manifest",
            }
        );
        for c in &r.changes {
            let value = |v: &crate::value::Value| short(&crate::render::json_compact(v));
            let line = match c.change {
                super::ChangeKind::Added => format!("+ {}: {}", clean(&c.path), value(&c.after)),
                super::ChangeKind::Removed => {
                    format!("- {}: {}", clean(&c.path), value(&c.before))
                }
                super::ChangeKind::Changed => format!(
                    "~ {}: {} → {}",
                    clean(&c.path),
                    value(&c.before),
                    value(&c.after)
                ),
            };
            let _ = writeln!(out, "      {line}");
        }
    }
    let m = &r.remediation;
    let word = match m.suggested {
        Suggestion::Revert => "revert",
        Suggestion::Adopt => "adopt",
    };
    let _ = writeln!(out, "    remediation: {word} ({})", clean(&m.reason));
    let _ = writeln!(out, "      revert: {}", clean(&m.revert));
    if !m.adopt.is_empty() {
        let target = match source {
            Source::Terraform => "the configuration",
            Source::Kubernetes => "the manifest",
        };
        let _ = writeln!(out, "      adopt: change {target}:");
        for line in &m.adopt {
            // A value is shortened; a comment says what to do and stays whole.
            let line = clean(line);
            let line = if line.starts_with('#') {
                line
            } else {
                short(&line)
            };
            let _ = writeln!(out, "        {line}");
        }
    }
    for note in &r.notes {
        let _ = writeln!(out, "    note: {}", clean(note));
    }
    out.push('\n');
}

fn violation(out: &mut String, label: &str, v: &Violation) {
    let at = v
        .attribute
        .as_deref()
        .map(|a| format!(" (at {})", clean(a)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "    {label} {} [{}]: {}{at}",
        clean(&v.rule_id),
        v.severity,
        clean(&v.message)
    );
}

fn sign(status: Status) -> char {
    match status {
        Status::Changed => '~',
        Status::Deleted | Status::Missing => '-',
        Status::Extra => '+',
    }
}

fn summary(out: &mut String, report: &DriftReport) {
    let s = &report.summary;
    let noun = |n: usize| if n == 1 { "resource" } else { "resources" };
    if s.drifted == 0 {
        let _ = writeln!(
            out,
            "No drift: {} {} compared.",
            s.compared,
            noun(s.compared)
        );
        return;
    }
    let mut parts = Vec::new();
    for (n, word) in [
        (s.changed, "changed"),
        (s.deleted, "deleted"),
        (s.missing, "missing"),
        (s.extra, "extra"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    let _ = writeln!(
        out,
        "Drift: {} of {} {} ({}), {} attribute {}.",
        s.drifted,
        s.compared,
        noun(s.compared),
        parts.join(", "),
        s.attribute_changes,
        if s.attribute_changes == 1 {
            "change"
        } else {
            "changes"
        }
    );
    let _ = writeln!(
        out,
        "Policy: {} introduced by the drift, {} pre-existing, {} resolved.",
        plural(s.introduced, "violation", "violations"),
        s.pre_existing,
        s.resolved
    );
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A value cut to [`VALUE_WIDTH`] characters.
fn short(s: &str) -> String {
    if s.chars().count() <= VALUE_WIDTH {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(VALUE_WIDTH).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_cleaned() {
        let report = DriftReport::new(Source::Terraform, Vec::new());
        assert_eq!(text(&report), "No drift: 0 resources compared.\n");
        assert_eq!(clean("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(short(&"x".repeat(200)).chars().count(), VALUE_WIDTH + 1);
    }
}
