//! `warden explain <rule>`: a rule's documentation.

use anyhow::anyhow;

use crate::args::{ExplainArgs, ListFormat};
use crate::{output, Status};

/// Runs `warden explain`.
pub fn run(args: &ExplainArgs) -> anyhow::Result<Status> {
    let rule = warden_rules::find(&args.rule).ok_or_else(|| {
        let close: Vec<&str> = warden_rules::all()
            .iter()
            .filter(|r| {
                r.id.to_ascii_lowercase()
                    .contains(&args.rule.to_ascii_lowercase())
                    || r.name.contains(args.rule.as_str())
            })
            .map(|r| r.id)
            .take(5)
            .collect();
        if close.is_empty() {
            anyhow!("no rule `{}`; `warden rules` lists them", args.rule)
        } else {
            anyhow!(
                "no rule `{}`; did you mean {}?",
                args.rule,
                close.join(", ")
            )
        }
    })?;
    let text = match args.format {
        ListFormat::Text => format!(
            "{}\n{}\n",
            warden_rules::docs::header(rule),
            rule.markdown()
        ),
        ListFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "id": rule.id,
                "name": rule.name,
                "title": rule.title,
                "severity": rule.severity,
                "default_enforcement": rule.enforcement,
                "kinds": rule.kinds,
                "aliases": rule.aliases,
                "why": rule.why(),
                "docs": rule.markdown(),
                "help_uri": rule.help_uri(),
            }))? + "\n"
        }
    };
    output::stdout(&text)?;
    Ok(Status::Success)
}
