//! Finding, reading and compiling `.rego` files into one prepared regorus engine.
//!
//! Each file is parsed in the syntax it is written in ([`crate::source::Syntax`]: `import
//! rego.v1` or `if`/`contains` keywords → v1, else v0 as OPA's `--v0-compatible`; when that
//! guess fails to parse, the other syntax is tried before the error is reported). A file that
//! fails to parse or compile is left out and reported with file:line:column; the others still
//! load. The prepared engine is built once per policy set and cloned per evaluation.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{locate, Place, RegoError};
use crate::extensions::{self, Sandbox};
use crate::source::{self, Scan, Syntax};

/// Default limit on one evaluation (a query against one document, or one test).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// One policy file, read and scanned.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// The path as displayed in messages.
    pub path: String,
    /// The source text as written.
    pub source: String,
    /// What the scan found.
    pub scan: Scan,
}

impl PolicyFile {
    /// Scans source text read from `path`.
    #[must_use]
    pub fn new(path: impl Into<String>, source: String) -> PolicyFile {
        let scan = source::scan(&source);
        PolicyFile {
            path: path.into(),
            source,
            scan,
        }
    }

    /// Reads and scans a file.
    pub fn read(path: &Path) -> Result<PolicyFile, RegoError> {
        let source = std::fs::read_to_string(path).map_err(|e| RegoError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(PolicyFile::new(path.display().to_string(), source))
    }

    /// `true` for `*_test.rego`.
    #[must_use]
    pub fn is_test_file(&self) -> bool {
        self.path.ends_with("_test.rego")
    }

    /// The text regorus parses (rules with several bodies split).
    fn text(&self) -> &str {
        self.scan.rewritten.as_deref().unwrap_or(&self.source)
    }
}

/// `true` when the path names a Rego file.
#[must_use]
pub fn is_rego(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some("rego")
}

/// `true` when the path names a Rego test file (`*_test.rego`).
#[must_use]
pub fn is_rego_test(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("_test.rego"))
}

/// The `.rego` files below the paths (files as given, folders recursively, sorted, hidden
/// entries skipped). `tests` selects whether `*_test.rego` files are included. Paths that
/// cannot be read are returned as errors.
#[must_use]
pub fn discover(paths: &[PathBuf], tests: bool) -> (Vec<PathBuf>, Vec<RegoError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => walk(path, &mut files, &mut errors),
            Ok(_) => {
                if is_rego(path) && (tests || !is_rego_test(path)) {
                    files.push(path.clone());
                }
            }
            Err(e) => errors.push(RegoError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
        }
    }
    if !tests {
        files.retain(|f| !is_rego_test(f));
    }
    files.dedup();
    (files, errors)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<RegoError>) {
    let entries = match warden_core::inputs::visible_entries(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(RegoError::Io {
                path: dir.display().to_string(),
                message: e.to_string(),
            });
            return;
        }
    };
    for entry in entries {
        if entry.is_dir() {
            walk(&entry, out, errors);
        } else if is_rego(&entry) {
            out.push(entry);
        }
    }
}

/// How policies are compiled and evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Limit on one evaluation.
    pub timeout: Duration,
    /// Sandbox settings.
    pub sandbox: Sandbox,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: DEFAULT_TIMEOUT,
            sandbox: Sandbox::default(),
        }
    }
}

/// Policies compiled into a prepared engine.
#[derive(Clone)]
pub struct Compiled {
    /// The prepared engine: clone it per evaluation.
    pub engine: regorus::Engine,
    /// The files that loaded.
    pub files: Vec<PolicyFile>,
    /// Why the others did not.
    pub errors: Vec<RegoError>,
    /// Paths of the files that did not load.
    pub failed: Vec<String>,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field(
                "files",
                &self.files.iter().map(|f| &f.path).collect::<Vec<_>>(),
            )
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

fn base_engine(data: &regorus::Value, options: &Options) -> Result<regorus::Engine, RegoError> {
    let mut engine = regorus::Engine::new();
    extensions::register(&mut engine, options.sandbox).map_err(|message| RegoError::Policy {
        place: Place::default(),
        message,
    })?;
    if let Ok(check_interval) = std::num::NonZeroU32::try_from(256) {
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: options.timeout,
            check_interval,
        });
    }
    if *data != regorus::Value::Undefined {
        engine.add_data(data.clone()).map_err(|e| RegoError::Data {
            place: Place {
                file: "data".to_owned(),
                ..Place::default()
            },
            message: e.to_string(),
        })?;
    }
    Ok(engine)
}

/// Adds one file in its syntax (falling back to the other one when it does not parse).
fn add_file(engine: &mut regorus::Engine, file: &PolicyFile) -> Result<(), RegoError> {
    let first = file.scan.syntax;
    engine.set_rego_v0(first == Syntax::V0);
    let Err(error) = engine.add_policy(file.path.clone(), file.text().to_owned()) else {
        return Ok(());
    };
    engine.set_rego_v0(first != Syntax::V0);
    if engine
        .add_policy(file.path.clone(), file.text().to_owned())
        .is_ok()
    {
        return Ok(());
    }
    let (place, message) = locate(&format!("{error:#}"), &file.path);
    Err(RegoError::Policy { place, message })
}

/// Compiles policy files with data (`regorus::Value::Undefined` for none) into a prepared
/// engine. A file that does not parse, or that makes compilation fail, is left out and
/// reported; the others load.
#[must_use]
pub fn compile(mut files: Vec<PolicyFile>, data: &regorus::Value, options: &Options) -> Compiled {
    // `with rule as ...` naming a rule of the same package (in any file) is qualified.
    let mut rules: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for f in &files {
        if let Some(package) = &f.scan.package {
            rules
                .entry(package.clone())
                .or_default()
                .extend(f.scan.rules.iter().map(|r| r.name.clone()));
        }
    }
    for f in &mut files {
        let Some(package) = f.scan.package.clone() else {
            continue;
        };
        if let Some(names) = rules.get(&package) {
            if let Some(out) = source::qualify_with_targets(f.text(), &package, names) {
                f.scan.rewritten = Some(out);
            }
        }
    }
    let mut errors = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let mut ok: Vec<PolicyFile> = Vec::with_capacity(files.len());
    let mut engine = match base_engine(data, options) {
        Ok(e) => e,
        Err(e) => {
            return Compiled {
                engine: regorus::Engine::new(),
                failed: files.iter().map(|f| f.path.clone()).collect(),
                files: Vec::new(),
                errors: vec![e],
            }
        }
    };
    for file in files {
        match add_file(&mut engine, &file) {
            Ok(()) => ok.push(file),
            Err(e) => {
                failed.push(file.path.clone());
                errors.push(e);
            }
        }
    }
    // Compilation (rule conflicts, unsafe variables, imports) happens when the engine is
    // first prepared. When it fails, the file the error names is left out and the rest
    // compiled again.
    for _ in 0..=ok.len() {
        let Err(error) = crate::guard(|| {
            engine
                .eval_query("true".to_owned(), false)
                .map_err(|e| format!("{e:#}"))
        }) else {
            break;
        };
        let (place, message) = locate(&error, "policies");
        let culprit = ok.iter().position(|f| f.path == place.file);
        errors.push(RegoError::Policy { place, message });
        let Some(culprit) = culprit else {
            failed.extend(ok.drain(..).map(|f| f.path));
            engine = regorus::Engine::new();
            break;
        };
        failed.push(ok.remove(culprit).path);
        engine = match base_engine(data, options) {
            Ok(e) => e,
            Err(e) => {
                errors.push(e);
                failed.extend(ok.drain(..).map(|f| f.path));
                regorus::Engine::new()
            }
        };
        let mut again = Vec::with_capacity(ok.len());
        for file in ok {
            match add_file(&mut engine, &file) {
                Ok(()) => again.push(file),
                Err(e) => {
                    failed.push(file.path.clone());
                    errors.push(e);
                }
            }
        }
        ok = again;
    }
    Compiled {
        engine,
        files: ok,
        errors,
        failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, src: &str) -> PolicyFile {
        PolicyFile::new(path, src.to_owned())
    }

    #[test]
    fn mixed_syntax_and_a_bad_file() {
        let compiled = compile(
            vec![
                file("v0.rego", "package a\ndeny[msg] { msg := \"v0\" }\n"),
                file(
                    "v1.rego",
                    "package b\nimport rego.v1\ndeny contains \"v1\" if { true }\n",
                ),
                file("bad.rego", "package c\n\ndeny[msg] {\n  msg := \n}\n"),
            ],
            &regorus::Value::Undefined,
            &Options::default(),
        );
        assert_eq!(compiled.files.len(), 2, "{:?}", compiled.errors);
        assert_eq!(compiled.failed, ["bad.rego"]);
        let e = compiled.errors[0].to_string();
        assert!(e.starts_with("bad.rego:"), "{e}");
        let mut engine = compiled.engine.clone();
        let v = engine.eval_rule("data.a.deny".to_owned()).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "[\"v0\"]");
        let v = engine.eval_rule("data.b.deny".to_owned()).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "[\"v1\"]");
    }

    #[test]
    fn several_bodies_and_compat_builtins() {
        let compiled = compile(
            vec![file(
                "m.rego",
                "package m\np[x] {\n  x := 1\n} {\n  x := 2\n}\nr { re_match(\"^a+$\", \"aaa\"); any([false, true]); all([]) }\nd := set_diff({1, 2}, {2})\nc := cast_array({3})\n",
            )],
            &regorus::Value::Undefined,
            &Options::default(),
        );
        assert!(compiled.errors.is_empty(), "{:?}", compiled.errors);
        let mut engine = compiled.engine.clone();
        let json = |e: &mut regorus::Engine, r: &str| {
            serde_json::to_string(&e.eval_rule(r.to_owned()).unwrap()).unwrap()
        };
        assert_eq!(json(&mut engine, "data.m.p"), "[1,2]");
        assert_eq!(json(&mut engine, "data.m.r"), "true");
        assert_eq!(json(&mut engine, "data.m.d"), "[1]");
        assert_eq!(json(&mut engine, "data.m.c"), "[3]");
    }

    #[test]
    fn sandboxed_builtins() {
        let compiled = compile(
            vec![file(
                "s.rego",
                "package s\nt := time.now_ns()\nh := http.send({\"method\": \"get\", \"url\": \"http://x\"})\n",
            )],
            &regorus::Value::Undefined,
            &Options::default(),
        );
        assert!(compiled.errors.is_empty(), "{:?}", compiled.errors);
        crate::extensions::set_now_ns(1_700_000_000_000_000_000);
        let mut engine = compiled.engine.clone();
        assert_eq!(
            serde_json::to_string(&engine.eval_rule("data.s.t".to_owned()).unwrap()).unwrap(),
            "1700000000000000000"
        );
        let e = engine.eval_rule("data.s.h".to_owned()).unwrap_err();
        assert!(format!("{e:#}").contains("http.send is disabled"), "{e:#}");
    }
}
