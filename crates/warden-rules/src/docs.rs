//! Rule documentation pages, generated from the rule sources: `docs/rules/<id>.md`, the index
//! `docs/rules/README.md`, and `warden explain`. A test keeps the committed files current
//! (`WARDEN_UPDATE_GENERATED=1 cargo test -p warden-rules docs` rewrites them).

use std::fmt::Write as _;

use warden_core::Enforcement;

use crate::rule::{FixAvailability, RuleMeta, RuleStatus};

/// The summary lines shown above a rule's docs.
#[must_use]
pub fn header(rule: &RuleMeta) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}", rule.id, rule.name);
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", rule.title);
    let _ = writeln!(out);
    let _ = writeln!(out, "| | |");
    let _ = writeln!(out, "|---|---|");
    let _ = writeln!(out, "| Severity | {} |", rule.severity);
    let _ = writeln!(
        out,
        "| Default enforcement | {} |",
        enforcement_words(rule.enforcement)
    );
    let kinds = if rule.kinds.is_empty() {
        "every resource".to_owned()
    } else {
        crate::helpers::code_list(rule.kinds, ", ")
    };
    let _ = writeln!(out, "| Resource kinds | {kinds} |");
    let _ = writeln!(out, "| Fix | {} |", fix_words(rule.fix));
    if !rule.aliases.is_empty() {
        let _ = writeln!(out, "| Equivalent checks | {} |", rule.aliases.join(", "));
    }
    let status = match rule.status {
        RuleStatus::Stable { since } => format!("stable since {since}"),
        RuleStatus::Preview => "preview (advisory until promoted)".to_owned(),
    };
    let _ = writeln!(out, "| Status | {status} |");
    if !rule.params.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "Parameters (`[rules.{}]` in `warden.toml`):", rule.id);
        let _ = writeln!(out);
        let _ = writeln!(out, "| Parameter | Type | Default | Meaning |");
        let _ = writeln!(out, "|---|---|---|---|");
        for p in rule.params {
            let _ = writeln!(
                out,
                "| `{}` | {} | `{}` | {} |",
                p.name,
                p.kind.describe(),
                p.default,
                p.doc.replace('|', "\\|")
            );
        }
    }
    out
}

fn enforcement_words(e: Enforcement) -> &'static str {
    match e {
        Enforcement::Advisory => "advisory (reported, never blocks)",
        Enforcement::Warn => "warn",
        Enforcement::RequireApproval => "require approval",
        Enforcement::Deny => "deny",
    }
}

fn fix_words(f: FixAvailability) -> &'static str {
    match f {
        FixAvailability::Always => "always available",
        FixAvailability::Sometimes => "sometimes available",
        FixAvailability::None => "none (manual change)",
    }
}

/// The whole page of a rule: header, then its doc comment, then where it is defined.
#[must_use]
pub fn page(rule: &RuleMeta) -> String {
    let source = rule
        .location
        .split("crates/")
        .last()
        .map_or(rule.location.to_owned(), |s| format!("crates/{s}"));
    format!(
        "<!-- generated from {source}; do not edit: WARDEN_UPDATE_GENERATED=1 cargo test -p warden-rules docs -->\n{}\n{}\n\nSource: [`{source}`](../../{})\n",
        header(rule),
        rule.markdown(),
        source
    )
}

/// The index of every rule: `docs/rules/README.md`.
#[must_use]
pub fn index(rules: &[&RuleMeta]) -> String {
    let mut out = String::from(
        "<!-- generated; do not edit: WARDEN_UPDATE_GENERATED=1 cargo test -p warden-rules docs -->\n# Built-in rules\n\n",
    );
    let _ = writeln!(
        out,
        "{} rules. `warden rules` lists them; `warden explain <id>` prints a page.\n",
        rules.len()
    );
    let _ = writeln!(
        out,
        "| Id | Name | Severity | Default enforcement | Fix | Kinds |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for r in rules {
        let kinds = if r.kinds.is_empty() {
            "every resource".to_owned()
        } else {
            r.kinds.join(", ")
        };
        let fix = match r.fix {
            FixAvailability::Always => "yes",
            FixAvailability::Sometimes => "sometimes",
            FixAvailability::None => "no",
        };
        let _ = writeln!(
            out,
            "| [{id}]({id}.md) | {} | {} | {} | {fix} | {kinds} |",
            r.name,
            r.severity,
            r.enforcement,
            id = r.id
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// `docs/rules/` is generated from the rule sources and must match them.
    #[test]
    fn docs_are_current() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
        let update = std::env::var_os("WARDEN_UPDATE_GENERATED").is_some();
        let mut expected: Vec<(PathBuf, String)> = crate::all()
            .iter()
            .map(|r| (dir.join(format!("{}.md", r.id)), page(r)))
            .collect();
        expected.push((dir.join("README.md"), index(crate::all())));
        let mut stale = Vec::new();
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                if !expected.iter().any(|(p, _)| *p == entry.path()) {
                    std::fs::remove_file(entry.path()).unwrap();
                }
            }
        }
        for (path, text) in &expected {
            if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
                if update {
                    std::fs::write(path, text).unwrap();
                } else {
                    stale.push(path.display().to_string());
                }
            }
        }
        let orphans: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| !expected.iter().any(|(e, _)| e == p))
                    .map(|p| p.display().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let first: Vec<&String> = stale.iter().chain(&orphans).take(5).collect();
        assert!(
            stale.is_empty() && orphans.is_empty(),
            "docs/rules is out of date ({} stale, {} orphaned, e.g. {first:?}); run WARDEN_UPDATE_GENERATED=1 cargo test -p warden-rules docs",
            stale.len(),
            orphans.len()
        );
    }
}
