//! `opa test` for Warden: every `test_*` rule of the loaded modules passes when it evaluates
//! to `true`; `todo_test_*` rules are skipped. Each test runs on its own clone of the
//! prepared engine, under the evaluation time limit, with builtin errors undefined as in
//! `opa test` (`warden check` fails closed on them instead). Tests in a file that failed to load are
//! failures that carry the load error, never silently dropped.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::error::{locate, Place, RegoError};
use crate::loader::{compile, Compiled, Options, PolicyFile};

/// How a test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Evaluated to `true`.
    Pass,
    /// Undefined, `false`, or another value.
    Fail,
    /// Evaluation failed, or the file did not load.
    Error(String),
    /// A `todo_test_*` rule.
    Skip,
}

impl Outcome {
    /// `pass`, `fail`, `error` or `skip`.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error(_) => "error",
            Outcome::Skip => "skip",
        }
    }
}

/// One test rule's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// Package (`main`, `rules.tf.aws`).
    pub package: String,
    /// Rule name (`test_deny_public`).
    pub name: String,
    /// Where the rule is defined.
    pub place: Place,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it took.
    pub duration: Duration,
}

/// The results of one run.
#[derive(Debug, Clone, Default)]
pub struct TestReport {
    /// Every test rule, in file order.
    pub results: Vec<TestResult>,
    /// Files that did not load (their tests are in `results` as errors).
    pub errors: Vec<RegoError>,
}

impl TestReport {
    /// Tests that passed.
    #[must_use]
    pub fn passed(&self) -> usize {
        self.count(|o| *o == Outcome::Pass)
    }

    /// Tests that failed or errored.
    #[must_use]
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fail | Outcome::Error(_)))
    }

    /// Tests skipped (`todo_`).
    #[must_use]
    pub fn skipped(&self) -> usize {
        self.count(|o| *o == Outcome::Skip)
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.outcome)).count()
    }
}

/// `data.a.b.rule`, quoting segments that are not identifiers (`data.a["b-c"].rule`).
#[must_use]
pub fn rule_path(package: &str, rule: &str) -> String {
    let mut out = String::from("data");
    for segment in package.split('.').chain(std::iter::once(rule)) {
        if !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !segment.starts_with(|c: char| c.is_ascii_digit())
        {
            out.push('.');
            out.push_str(segment);
        } else {
            out.push_str(&format!("[{}]", serde_json::Value::from(segment)));
        }
    }
    out
}

/// Compiles the files with the data and runs every test rule whose `package.name` matches
/// `run` (all when `None`).
#[must_use]
pub fn run(
    files: Vec<PolicyFile>,
    data: &regorus::Value,
    options: &Options,
    run: Option<&regex::Regex>,
) -> TestReport {
    // Tests of files that will fail to load, found before compiling takes the files.
    let declared: Vec<(String, Vec<TestHead>)> =
        files.iter().map(|f| (f.path.clone(), heads(f))).collect();
    let compiled = compile(files, data, options);
    run_compiled(&compiled, &declared, run)
}

#[derive(Debug, Clone)]
struct TestHead {
    package: String,
    name: String,
    place: Place,
    todo: bool,
}

fn heads(file: &PolicyFile) -> Vec<TestHead> {
    let package = file.scan.package.clone().unwrap_or_default();
    file.scan
        .rules
        .iter()
        .filter(|r| !r.default)
        .filter_map(|r| {
            let todo = r.name.starts_with("todo_test_");
            (todo || r.name.starts_with("test_")).then(|| TestHead {
                package: package.clone(),
                name: r.name.clone(),
                place: Place {
                    file: file.path.clone(),
                    line: r.line,
                    column: r.column,
                },
                todo,
            })
        })
        .collect()
}

fn run_compiled(
    compiled: &Compiled,
    declared: &[(String, Vec<TestHead>)],
    run: Option<&regex::Regex>,
) -> TestReport {
    let mut report = TestReport {
        results: Vec::new(),
        errors: compiled.errors.clone(),
    };
    // `opa test` evaluates builtins non-strictly: a builtin error (a type error, a bad
    // format) makes the expression undefined. (`warden check` keeps them errors: fail closed.)
    let mut prepared = compiled.engine.clone();
    prepared.set_strict_builtin_errors(false);
    // One evaluation per (package, rule): several definitions of a test rule are one rule.
    let mut evaluated: BTreeMap<String, (Outcome, Duration)> = BTreeMap::new();
    for (path, tests) in declared {
        let load_error = compiled.failed.iter().any(|f| f == path).then(|| {
            compiled
                .errors
                .iter()
                .find(|e| e.file() == path)
                .map_or_else(|| "the file did not load".to_owned(), ToString::to_string)
        });
        for test in tests {
            let full = format!("{}.{}", test.package, test.name);
            if run.is_some_and(|re| !re.is_match(&full)) {
                continue;
            }
            let (outcome, duration) = if test.todo {
                (Outcome::Skip, Duration::ZERO)
            } else if let Some(e) = &load_error {
                (Outcome::Error(e.clone()), Duration::ZERO)
            } else {
                evaluated
                    .entry(full)
                    .or_insert_with(|| evaluate(&prepared, test))
                    .clone()
            };
            report.results.push(TestResult {
                package: test.package.clone(),
                name: test.name.clone(),
                place: test.place.clone(),
                outcome,
                duration,
            });
        }
    }
    report
}

fn evaluate(prepared: &regorus::Engine, test: &TestHead) -> (Outcome, Duration) {
    let start = Instant::now();
    let mut engine = prepared.clone();
    let path = rule_path(&test.package, &test.name);
    let outcome = match crate::guard(|| engine.eval_rule(path).map_err(|e| format!("{e:#}"))) {
        Ok(regorus::Value::Bool(true)) => Outcome::Pass,
        Ok(_) => Outcome::Fail,
        Err(e) => {
            let (place, message) = locate(&e, &test.place.file);
            Outcome::Error(format!("{place}: {message}"))
        }
    };
    (outcome, start.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_fail_skip_error_and_filter() {
        let files = vec![
            PolicyFile::new(
                "p.rego",
                "package main\ndeny[msg] { input.x; msg := \"x\" }\n".to_owned(),
            ),
            PolicyFile::new(
                "p_test.rego",
                "package main\n\ntest_denies { deny[\"x\"] with input as {\"x\": true} }\ntest_wrong { deny[\"y\"] with input as {\"x\": true} }\ntodo_test_later { false }\ntest_error { 1 / 0 }\n".to_owned(),
            ),
            PolicyFile::new("broken_test.rego", "package b\ntest_a {\n".to_owned()),
        ];
        let report = run(
            files.clone(),
            &regorus::Value::Undefined,
            &Options::default(),
            None,
        );
        let got: Vec<_> = report
            .results
            .iter()
            .map(|r| (r.name.as_str(), r.outcome.as_str(), r.place.line))
            .collect();
        assert_eq!(
            got,
            [
                ("test_denies", "pass", 3),
                ("test_wrong", "fail", 4),
                ("todo_test_later", "skip", 5),
                // A builtin error is undefined, as in `opa test` (no --show-builtin-errors).
                ("test_error", "fail", 6),
                ("test_a", "error", 2)
            ]
        );
        assert_eq!(
            (report.passed(), report.failed(), report.skipped()),
            (1, 3, 1)
        );
        assert!(report.errors[0]
            .to_string()
            .starts_with("broken_test.rego:"));

        let re = regex::Regex::new("denies").unwrap();
        let report = run(
            files,
            &regorus::Value::Undefined,
            &Options::default(),
            Some(&re),
        );
        assert_eq!(report.results.len(), 1);
    }

    #[test]
    fn quoted_paths() {
        assert_eq!(rule_path("a.b", "test_x"), "data.a.b.test_x");
        assert_eq!(rule_path("a.b-c", "t"), "data.a[\"b-c\"].t");
    }
}
