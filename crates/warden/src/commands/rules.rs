//! `warden rules`: every built-in rule.

use std::fmt::Write as _;

use crate::args::{ListFormat, RulesArgs};
use crate::{output, Status};

/// Runs `warden rules`.
pub fn run(args: &RulesArgs) -> anyhow::Result<Status> {
    let rules = warden_rules::all();
    let text = match args.format {
        ListFormat::Json => {
            let list: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "name": r.name,
                        "title": r.title,
                        "severity": r.severity,
                        "default_enforcement": r.enforcement,
                        "kinds": r.kinds,
                        "fix": format!("{:?}", r.fix).to_lowercase(),
                        "aliases": r.aliases,
                        "parameters": r.params.iter().map(|p| serde_json::json!({
                            "name": p.name, "type": p.kind.describe(), "default": serde_json::from_str::<serde_json::Value>(p.default).unwrap_or_default(), "doc": p.doc,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::to_string_pretty(&list)? + "\n"
        }
        ListFormat::Text => {
            let name_width = rules.iter().map(|r| r.name.len()).max().unwrap_or(4);
            let mut out = String::new();
            let _ = writeln!(
                out,
                "{:<12} {:<name_width$} {:<8} {:<16} KINDS",
                "ID", "NAME", "SEVERITY", "ENFORCEMENT"
            );
            for r in rules {
                let kinds = if r.kinds.is_empty() {
                    "(every resource)".to_owned()
                } else {
                    r.kinds.join(", ")
                };
                let _ = writeln!(
                    out,
                    "{:<12} {:<name_width$} {:<8} {:<16} {kinds}",
                    r.id,
                    r.name,
                    r.severity.as_str(),
                    r.enforcement.as_str()
                );
            }
            let _ = writeln!(out, "\n{} rules. `warden explain <ID>` shows what a rule checks, why, and how to fix it.", rules.len());
            out
        }
    };
    output::stdout(&text)?;
    Ok(Status::Success)
}
