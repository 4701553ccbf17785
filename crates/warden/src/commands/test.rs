//! `warden test`: runs `kyverno-test.yaml` files and compares every expected result.

use std::fmt::Write as _;

use anyhow::bail;
use warden_kyverno::test_runner::{self, Case};

use crate::args::{ListFormat, TestArgs};
use crate::{output, Status};

/// Runs `warden test`.
pub fn run(args: &TestArgs) -> anyhow::Result<Status> {
    let mut files = Vec::new();
    for path in &args.paths {
        if path.is_dir() {
            files.extend(test_runner::discover(path));
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("{}: no such file or directory", path.display());
        }
    }
    if files.is_empty() {
        bail!(
            "no kyverno-test.yaml found below {}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let mut passed = 0usize;
    let mut failed = 0usize;
    let mut text = String::new();
    let mut json = Vec::new();
    // `validate.podSecurity` rules run Warden's built-in Pod Security Standards rules.
    let pod_security = warden_policy::pod_security::BuiltinPodSecurity::shared();
    for file in &files {
        let report = test_runner::run_test_file_with(file, Some(pod_security.clone()));
        let mut file_failed = Vec::new();
        for case in &report.cases {
            if case.matched() {
                passed += 1;
            } else {
                failed += 1;
                file_failed.push(case);
            }
        }
        // A test file whose policies or resources could not be loaded fails even if no case
        // compared: its errors are counted as failures, never silently passed.
        failed += report.errors.len();
        let _ = writeln!(
            text,
            "{} {} ({} cases)",
            if file_failed.is_empty() && report.errors.is_empty() {
                "ok  "
            } else {
                "FAIL"
            },
            file.display(),
            report.cases.len()
        );
        for error in &report.errors {
            let _ = writeln!(text, "    error: {error}");
        }
        for case in &file_failed {
            let _ = writeln!(text, "    {}", describe(case));
        }
        json.push(serde_json::json!({
            "file": file.display().to_string(),
            "cases": report.cases.iter().map(|c| serde_json::json!({
                "policy": c.policy,
                "rule": c.rule,
                "resource": c.resource,
                "kind": c.kind,
                "want": c.want.as_str(),
                "got": c.got.map(|g| g.as_str()),
                "passed": c.matched(),
                "message": c.message,
            })).collect::<Vec<_>>(),
            "errors": report.errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }));
    }
    match args.format {
        ListFormat::Text => {
            let _ = writeln!(text, "\n{passed} passed, {failed} failed");
            output::stdout(&text)?;
        }
        ListFormat::Json => {
            let doc = serde_json::json!({ "passed": passed, "failed": failed, "files": json });
            output::stdout(&(serde_json::to_string_pretty(&doc)? + "\n"))?;
        }
    }
    Ok(if failed == 0 {
        Status::Success
    } else {
        Status::Failure
    })
}

/// `policy/rule on Kind namespace/name: want fail, got pass (message)`.
fn describe(case: &Case) -> String {
    let rule = case
        .rule
        .as_deref()
        .map_or(String::new(), |r| format!("/{r}"));
    let kind = if case.kind.is_empty() {
        String::new()
    } else {
        format!("{} ", case.kind)
    };
    let got = case.got.map_or("no result", |g| g.as_str());
    let mut line = format!(
        "{}{rule} on {kind}{}: want {}, got {got}",
        case.policy,
        case.resource,
        case.want.as_str()
    );
    if !case.message.is_empty() {
        let _ = write!(line, " ({})", case.message.replace('\n', " "));
    }
    line
}
