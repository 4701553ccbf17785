//! `--format markdown`: a pull-request comment.
//!
//! A heading with the outcome, a summary table, a table of findings, then a collapsed
//! `<details>` block per finding with why and how to fix it; waived findings, engine errors and
//! the digests close it. GitHub refuses comments over 65,536 characters, so the comment is kept
//! under [`LIMIT`]: findings (strictest first) are dropped from the end, and the comment says
//! exactly how many were left out and how to get the full report.
//!
//! Everything that comes from the input or a policy is escaped for where it lands: table cells
//! (`|`, newlines), Markdown text (emphasis, links, raw HTML), HTML (`<summary>`), code spans and
//! fenced blocks (fences longer than any backtick run in the content).

use std::fmt::Write as _;

use crate::decision::{Decision, Outcome, WaivedFinding};
use crate::exceptions::{format_date, Waiver};
use crate::finding::{Finding, Fix};

use super::{
    enforcement_label, location_label, outcome_reason, outcome_word, patch_json, plural,
    short_digest, source_edit_hcl, waiver_reason,
};

/// The most characters a rendered comment has (GitHub's limit is 65,536).
pub const LIMIT: usize = 65_000;

/// Room kept for the truncation notice and rounding.
const NOTICE_RESERVE: usize = 600;

/// The most characters of one code block (snippet, patch) shown.
const MAX_BLOCK: usize = 4_000;

/// The most engine errors listed.
const MAX_ERRORS: usize = 20;

/// A hidden marker, so a bot can find and update its previous comment.
pub const MARKER: &str = "<!-- warden:check -->";

/// The status word of an outcome.
fn status_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Deny => "blocked",
        Outcome::RequireApproval => "needs approval",
        Outcome::Warn => "passed with warnings",
        Outcome::Allow => "passed",
    }
}

/// The pull-request comment.
#[must_use]
pub fn render(decision: &Decision) -> String {
    let head = head(decision);
    let foot = foot(decision);

    let rows: Vec<String> = decision.findings.iter().map(finding_row).collect();
    let blocks: Vec<String> = decision.findings.iter().map(finding_details).collect();
    let waived_rows: Vec<String> = decision.waived.iter().map(waived_row).collect();

    let findings_header = "#### Findings\n\n| Level | Severity | Rule | Resource | Message |\n| --- | --- | --- | --- | --- |\n";
    let details_header = "\n<br>\n\n";
    let waived_header =
        "#### Waived\n\n| Rule | Resource | Waived by | Reason |\n| --- | --- | --- | --- |\n";

    let fixed = len(&head)
        + len(&foot)
        + NOTICE_RESERVE
        + len(findings_header)
        + len(details_header)
        + len(waived_header);
    let mut budget = LIMIT.saturating_sub(fixed);

    let mut shown = 0usize;
    for (row, block) in rows.iter().zip(&blocks) {
        let cost = len(row) + len(block);
        if cost > budget {
            break;
        }
        budget -= cost;
        shown += 1;
    }
    let mut waived_shown = 0usize;
    if shown == rows.len() {
        for row in &waived_rows {
            if len(row) > budget {
                break;
            }
            budget -= len(row);
            waived_shown += 1;
        }
    }

    let mut out = head;
    let omitted = rows.len() - shown;
    let waived_omitted = waived_rows.len() - waived_shown;
    if omitted > 0 || waived_omitted > 0 {
        let mut left_out = Vec::new();
        if omitted > 0 {
            left_out.push(format!("{omitted} of {} findings", rows.len()));
        }
        if waived_omitted > 0 {
            left_out.push(format!(
                "{waived_omitted} of {} waived findings",
                waived_rows.len()
            ));
        }
        let _ = write!(
            out,
            "> [!NOTE]\n> This comment is truncated to stay under GitHub's comment size limit: {} {} left out. \
             Run `warden check --format json` (or `--format text`) for the full report.\n\n",
            left_out.join(" and "),
            if omitted + waived_omitted == 1 { "is" } else { "are" }
        );
    }

    if decision.findings.is_empty() {
        out.push_str("No findings.\n\n");
    } else if shown > 0 {
        out.push_str(findings_header);
        for row in rows.iter().take(shown) {
            out.push_str(row);
        }
        out.push_str(details_header);
        for block in blocks.iter().take(shown) {
            out.push_str(block);
        }
    }
    if waived_shown > 0 {
        out.push_str(waived_header);
        for row in waived_rows.iter().take(waived_shown) {
            out.push_str(row);
        }
        out.push('\n');
    }
    out.push_str(&foot);
    out
}

fn len(s: &str) -> usize {
    s.chars().count()
}

fn head(d: &Decision) -> String {
    let s = &d.summary;
    let mut out = format!(
        "{MARKER}\n### Warden: {} ({})\n\n**{}.**\n\n",
        outcome_word(d.outcome),
        status_word(d.outcome),
        capitalize(&outcome_reason(d))
    );
    out.push_str("| Deny | Require approval | Warn | Advisory | Waived | Resources | Rules |\n");
    out.push_str("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        s.deny, s.require_approval, s.warn, s.advisory, s.waived, s.resources, s.rules
    );
    if s.unknown > 0 {
        let _ = writeln!(
            out,
            "{} on values known only after apply: neither a pass nor a fail, enforced at {} configured level.\n",
            plural(s.unknown, "finding depends", "findings depend"),
            if s.unknown == 1 { "its" } else { "their" }
        );
    }
    if let Some(cost) = &d.cost {
        // `$` escaped: GitHub reads `$…$` as math.
        let _ = writeln!(
            out,
            "**Cost:** {}.\n",
            inline(&cost.summary(), false).replace('$', "\\$")
        );
    }
    if let Some(risk) = &d.risk {
        let _ = writeln!(
            out,
            "**Risk:** {}.\n",
            inline(&risk.summary(), false).replace('$', "\\$")
        );
    }
    if !d.errors.is_empty() {
        out.push_str("#### Engine errors\n\n");
        for e in d.errors.iter().take(MAX_ERRORS) {
            let _ = writeln!(
                out,
                "- {}: {}",
                code(&e.engine, false),
                inline(&truncate(&e.message, 1_000), false)
            );
        }
        if d.errors.len() > MAX_ERRORS {
            let _ = writeln!(out, "- and {} more", d.errors.len() - MAX_ERRORS);
        }
        out.push('\n');
    }
    out
}

fn foot(d: &Decision) -> String {
    format!(
        "<sub>warden {} · input {} · policy {} · {}</sub>\n",
        html(&d.tool.version),
        code(&short_digest(&d.input_digest), false),
        code(&short_digest(&d.policy_revision), false),
        html(&d.evaluated_at)
    )
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn finding_row(f: &Finding) -> String {
    let mut message = inline(f.message.trim(), true);
    if f.unknown {
        message.push_str(" *(unknown: known only after apply)*");
    }
    format!(
        "| **{}** | {} | {} {} | {} | {} |\n",
        enforcement_label(f.enforcement),
        f.severity,
        code(&f.rule_id, true),
        inline(&f.rule_name, true),
        code(&f.resource, true),
        message
    )
}

fn finding_details(f: &Finding) -> String {
    let mut out = format!(
        "<details>\n<summary><b>{}</b> <code>{}</code> {} on <code>{}</code></summary>\n\n",
        enforcement_label(f.enforcement),
        html(&f.rule_id),
        html(&f.rule_name),
        html(&f.resource)
    );
    let _ = writeln!(out, "{}\n", inline(f.message.trim(), false));
    if f.unknown {
        out.push_str(
            "*The value is known only after apply: this is neither a pass nor a fail, and is enforced at its configured level.*\n\n",
        );
    }
    let mut facts = vec![
        format!("**Severity:** {}", f.severity),
        format!(
            "**Resource:** {} ({})",
            code(&f.resource_kind, false),
            f.action.as_str()
        ),
    ];
    if let Some(loc) = location_label(&f.location) {
        facts.push(format!("**Location:** {}", code(&loc, false)));
    }
    if let Some(attribute) = &f.attribute {
        facts.push(format!("**Attribute:** {}", code(attribute, false)));
    }
    let _ = writeln!(out, "{}\n", facts.join(" · "));
    if !f.why.trim().is_empty() {
        let _ = writeln!(out, "**Why:** {}\n", inline(f.why.trim(), false));
    }
    if let Some(fix) = &f.fix {
        render_fix(&mut out, fix);
    }
    if let Some(note) = &f.note {
        let _ = writeln!(out, "> **Note:** {}\n", inline(note, false));
    }
    let mut links = Vec::new();
    if let Some(uri) = &f.help_uri {
        if uri.starts_with("https://") || uri.starts_with("http://") {
            links.push(format!(
                "[Rule documentation](<{}>)",
                uri.replace(['<', '>', '\n', '\r'], "")
            ));
        }
    }
    if !f.aliases.is_empty() {
        links.push(format!(
            "Also known as {}",
            f.aliases
                .iter()
                .map(|a| code(a, false))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !links.is_empty() {
        let _ = writeln!(out, "{}\n", links.join(" · "));
    }
    out.push_str("</details>\n\n");
    out
}

fn render_fix(out: &mut String, fix: &Fix) {
    let _ = writeln!(out, "**Fix:** {}\n", inline(fix.description.trim(), false));
    if !fix.source.is_empty() {
        let hcl: Vec<String> = fix.source.iter().map(source_edit_hcl).collect();
        out.push_str(&fence("hcl", &truncate(&hcl.join("\n"), MAX_BLOCK)));
    }
    if let Some(snippet) = &fix.snippet {
        out.push_str(&fence("hcl", &truncate(snippet.trim_end(), MAX_BLOCK)));
    }
    if !fix.patch.is_empty() {
        out.push_str("JSON Patch (RFC 6902) against the planned values:\n\n");
        out.push_str(&fence(
            "json",
            &truncate(&patch_json(&fix.patch), MAX_BLOCK),
        ));
    }
}

fn waived_row(w: &WaivedFinding) -> String {
    let by = match &w.waiver {
        Waiver::Exception { exception: e } => {
            let owner = e
                .owner
                .as_deref()
                .map(|o| format!(", owner {}", inline(o, true)))
                .unwrap_or_default();
            format!(
                "exception {} on {}{owner}, expires {}",
                code(&e.rule, true),
                code(&e.resource, true),
                format_date(e.expires)
            )
        }
        Waiver::Tag { value, .. } => format!(
            "tag {}",
            code(&format!("warden:ignore = \"{value}\""), true)
        ),
    };
    format!(
        "| {} | {} | {by} | {} |\n",
        code(&w.finding.rule_id, true),
        code(&w.finding.resource, true),
        inline(waiver_reason(&w.waiver), true)
    )
}

/// At most `max` characters, with a note when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push_str("\n… (truncated; run `warden check --format json` for all of it)");
    out
}

/// A fenced code block whose fence is longer than any backtick run in the content.
fn fence(lang: &str, content: &str) -> String {
    let ticks = "`".repeat(longest_run(content, '`').max(2) + 1);
    format!("{ticks}{lang}\n{}\n{ticks}\n\n", content.replace('\r', ""))
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// A code span holding `s` literally (in a table, `|` is escaped as GFM requires).
fn code(s: &str, table: bool) -> String {
    let mut content = s.replace(['\n', '\r'], " ");
    if table {
        content = content.replace('|', "\\|");
    }
    let ticks = "`".repeat(longest_run(&content, '`') + 1);
    let pad = if content.starts_with('`') || content.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{content}{pad}{ticks}")
}

/// Text for HTML context (`<summary>`).
fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Markdown text that keeps the writer's code spans (`` `acl` ``) and neutralises everything
/// else: emphasis, links, headings, raw HTML. Newlines become `<br>`; in a table `|` is
/// escaped.
fn inline(s: &str, table: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '`' {
            let run = chars
                .get(i..)
                .map_or(0, |rest| rest.iter().take_while(|&&x| x == '`').count());
            if let Some(end) = closing_run(&chars, i + run, run) {
                let content: String = chars
                    .get(i + run..end)
                    .map(|c| c.iter().collect())
                    .unwrap_or_default();
                let content = content.replace(['\n', '\r'], " ");
                let content = if table {
                    content.replace('|', "\\|")
                } else {
                    content
                };
                let ticks = "`".repeat(run);
                let _ = write!(out, "{ticks}{content}{ticks}");
                i = end + run;
                continue;
            }
            for _ in 0..run {
                out.push_str("\\`");
            }
            i += run;
            continue;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' if table => out.push_str("\\|"),
            '\\' | '*' | '_' | '[' | ']' | '#' | '~' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {}
            '\n' => out.push_str("<br>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// The index of the next run of exactly `n` backticks at or after `from`.
fn closing_run(chars: &[char], from: usize, n: usize) -> Option<usize> {
    let mut j = from;
    while j < chars.len() {
        if chars.get(j) == Some(&'`') {
            let run = chars
                .get(j..)
                .map_or(0, |rest| rest.iter().take_while(|&&x| x == '`').count());
            if run == n {
                return Some(j);
            }
            j += run;
        } else {
            j += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!("markdown", render(&sample::decision()));
    }

    #[test]
    fn snapshot_clean() {
        insta::assert_snapshot!("markdown_clean", render(&sample::clean()));
    }

    #[test]
    fn escapes_cells_and_text() {
        assert_eq!(
            inline("a | b\nc <x> & `p|q`", true),
            "a \\| b<br>c &lt;x&gt; &amp; `p\\|q`"
        );
        assert_eq!(
            inline("*x* [l](u) `open", false),
            "\\*x\\* \\[l\\](u) \\`open"
        );
        assert_eq!(code("a`b", false), "``a`b``");
        assert_eq!(code("`a", false), "`` `a ``");
        assert_eq!(fence("hcl", "x ```` y"), "`````hcl\nx ```` y\n`````\n\n");
        let out = render(&sample::decision());
        assert!(out.contains(
            "web &lt;prod\\|blue&gt; &amp; owner is \"ops\".<br>Finance reports group by it."
        ));
        // Every table row has exactly as many unescaped pipes as the header.
        for line in out.lines().filter(|l| l.starts_with("| ")) {
            let pipes = line.replace("\\|", "").matches('|').count();
            assert!(pipes == 6 || pipes == 5 || pipes == 8, "{line}");
        }
    }

    #[test]
    fn huge_decisions_stay_under_the_limit() {
        let mut d = sample::decision();
        let template = d.findings.clone();
        d.findings = (0..2_500)
            .map(|i| {
                let mut f = template[i % template.len()].clone();
                f.resource = format!("aws_s3_bucket.b[{i}]");
                f
            })
            .collect();
        d.refresh();
        let out = render(&d);
        let chars = out.chars().count();
        assert!(chars < LIMIT, "{chars} characters");
        let shown = out.matches("<details>").count();
        assert!(shown > 10, "only {shown} findings shown");
        let omitted = 2_500 - shown;
        assert!(
            out.contains(&format!(
                "{omitted} of 2500 findings and 2 of 2 waived findings are left out"
            )),
            "{}",
            out.lines()
                .find(|l| l.contains("[!NOTE]") || l.contains("left out"))
                .unwrap_or_default()
        );
        assert!(out.contains("--format json"));
        assert!(out.ends_with("</sub>\n"));
        // Table rows and details agree.
        assert_eq!(out.lines().filter(|l| l.starts_with("| **")).count(), shown);
    }

    #[test]
    fn huge_snippets_are_cut() {
        let mut d = sample::decision();
        if let Some(fix) = d.findings.iter_mut().find_map(|f| f.fix.as_mut()) {
            fix.snippet = Some("x".repeat(100_000));
        }
        let out = render(&d);
        assert!(out.chars().count() < LIMIT);
        assert!(out.contains("(truncated;"));
        assert_eq!(out.matches("<details>").count(), d.findings.len());
    }
}
