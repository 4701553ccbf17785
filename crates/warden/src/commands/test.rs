//! `warden test`: runs `kyverno-test.yaml` files and compares every expected result, and runs
//! the `test_*` rules of `.rego` files like `opa test`; one closing line for both.

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
            if !warden_rego::loader::is_rego(path) {
                files.push(path.clone());
            }
        } else {
            bail!("{}: no such file or directory", path.display());
        }
    }
    let run = args
        .run
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--run: {e}"))?;
    let rego = rego::run(&args.paths, &args.data, run.as_ref());
    if files.is_empty() && rego.is_none() {
        bail!(
            "no kyverno-test.yaml or .rego file found below {}",
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
    let mut rego_json = serde_json::Value::Null;
    if let Some(report) = &rego {
        let (p, f) = rego::counts(report);
        passed += p;
        failed += f;
        rego::text(report, &mut text);
        rego_json = rego::json(report);
    }
    match args.format {
        ListFormat::Text => {
            let _ = writeln!(text, "\n{passed} passed, {failed} failed");
            output::stdout(&text)?;
        }
        ListFormat::Json => {
            let mut doc = serde_json::json!({ "passed": passed, "failed": failed, "files": json });
            if !rego_json.is_null() {
                doc["rego"] = rego_json;
            }
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

/// The Rego half of `warden test`.
mod rego {
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};

    use warden_rego::data::DataSet;
    use warden_rego::test_runner::{Outcome, TestReport};
    use warden_rego::{Options, PolicyFile, RegoError};

    /// Runs every `.rego` below the paths (with their data) in one engine, as `opa test
    /// PATH...` does; `None` when there is no `.rego` file.
    pub(super) fn run(
        paths: &[PathBuf],
        data: &[PathBuf],
        filter: Option<&regex::Regex>,
    ) -> Option<TestReport> {
        let (files, mut errors) = warden_rego::loader::discover(paths, true);
        if files.is_empty() {
            return None;
        }
        let mut set = DataSet::default();
        errors.extend(set.add_paths(data));
        for root in paths.iter().filter(|p| p.is_dir()) {
            let mut found = Vec::new();
            if let Err(e) = warden_rego::data::walk_data(root, &mut found) {
                errors.push(e);
            }
            for (file, prefix) in found {
                if !looks_like_data(&file) {
                    continue;
                }
                if let Err(e) = set.add_file(&file, &prefix) {
                    errors.push(e);
                }
            }
        }
        let mut policies = Vec::new();
        for file in &files {
            match PolicyFile::read(file) {
                Ok(p) => policies.push(p),
                Err(e) => errors.push(e),
            }
        }
        let mut report =
            warden_rego::test_runner::run(policies, &set.to_regorus(), &Options::default(), filter);
        errors.append(&mut report.errors);
        report.errors = errors;
        Some(report)
    }

    /// JSON and YAML beside the policies are data, except Kubernetes manifests, Kyverno
    /// policies and `kyverno-test.yaml` files.
    fn looks_like_data(path: &Path) -> bool {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("kyverno-test.") {
            return false;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            return true;
        };
        !(text.lines().any(|l| l.starts_with("apiVersion"))
            && text.lines().any(|l| l.starts_with("kind")))
    }

    /// Passed, and failed (failed and errored tests, plus files that failed to load and hold
    /// no test, so a broken policy never passes silently).
    pub(super) fn counts(report: &TestReport) -> (usize, usize) {
        let orphan_errors = report
            .errors
            .iter()
            .filter(|e| !report.results.iter().any(|r| r.place.file == e.file()))
            .count();
        (report.passed(), report.failed() + orphan_errors)
    }

    pub(super) fn text(report: &TestReport, out: &mut String) {
        for e in &report.errors {
            let _ = writeln!(out, "error: {e}");
        }
        for r in &report.results {
            match &r.outcome {
                Outcome::Pass => {}
                Outcome::Skip => {
                    let _ = writeln!(out, "SKIP {}: {}.{}", r.place, r.package, r.name);
                }
                Outcome::Fail => {
                    let _ = writeln!(
                        out,
                        "FAIL {}: {}.{} ({:.1} ms)",
                        r.place,
                        r.package,
                        r.name,
                        r.duration.as_secs_f64() * 1e3
                    );
                }
                Outcome::Error(e) => {
                    let _ = writeln!(out, "ERROR {}: {}.{}\n    {e}", r.place, r.package, r.name);
                }
            }
        }
        let (p, f) = counts(report);
        let _ = writeln!(
            out,
            "rego: {p} passed, {f} failed, {} skipped",
            report.skipped()
        );
    }

    pub(super) fn json(report: &TestReport) -> serde_json::Value {
        serde_json::json!({
            "results": report.results.iter().map(|r| {
                let mut v = serde_json::json!({
                    "package": r.package,
                    "name": r.name,
                    "file": r.place.file,
                    "line": r.place.line,
                    "column": r.place.column,
                    "outcome": r.outcome.as_str(),
                    "duration_ms": r.duration.as_secs_f64() * 1e3,
                });
                if let Outcome::Error(e) = &r.outcome {
                    v["error"] = serde_json::Value::from(e.clone());
                }
                v
            }).collect::<Vec<_>>(),
            "errors": report.errors.iter().map(RegoError::to_string).collect::<Vec<_>>(),
        })
    }
}
