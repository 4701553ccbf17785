//! Drift under a policy set, shared by `warden drift` and `warden serve`, and `[drift]`: the
//! targets `warden serve` scans on a schedule.
//!
//! ```toml
//! [drift]
//! interval-minutes = 60                   # how often every target is scanned (fractions too: 0.5)
//!
//! [[drift.targets]]
//! name = "network"                        # letters, digits, `-`, `_`, `.`
//! space = "prod"                          # the space its drift events belong to
//! workdir = "infra/network"               # relative to this file
//! command = ["tofu", "plan", "-refresh-only", "-out", "drift.tfplan", "-input=false"]
//! show = ["tofu", "show", "-json", "drift.tfplan"]   # optional second step: its output is the plan
//! timeout-seconds = 600
//! ```
//!
//! Without `show`, `command` itself prints the plan's JSON on standard output. Commands run
//! without a shell (argv as written).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Deserialize;
use time::OffsetDateTime;
use warden_core::drift::{self, verdict::VerdictOptions, Comparison, DriftReport};
use warden_core::engine::RuleInfo;
use warden_core::{ChangeSet, Decision};

use crate::config::ConfigError;

/// Id of the built-in rule that finds secrets written into the configuration: the attributes
/// its findings name are masked in drift reports (and their values in what the server keeps).
pub const SECRET_RULE: &str = "WD-GOV-008";

/// The default of `interval-minutes`.
pub const DEFAULT_INTERVAL_MINUTES: u32 = 60;

/// The default of `timeout-seconds`.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 600;

/// The drift report of a comparison: `evaluate` (one policy set, or a space's layered one)
/// on the last-known and on the live state, told apart by [`drift::verdict`], with the
/// `WD-DRIFT-001` rule as `rules` configure it.
pub fn verdict(
    comparison: Comparison,
    evaluate: impl Fn(&ChangeSet) -> Decision,
    rules: &[RuleInfo],
) -> DriftReport {
    let last_known = evaluate(&comparison.last_known);
    let live = evaluate(&comparison.live);
    let rule = rules.iter().find(|r| r.id == drift::RULE_ID);
    drift::verdict::apply(
        comparison,
        (&last_known).into(),
        (&live).into(),
        &VerdictOptions {
            rule,
            secret_rules: &[SECRET_RULE],
        },
    )
}

impl crate::PolicySet {
    /// The drift report of a comparison under this policy set at time `now`.
    #[must_use]
    pub fn drift(&self, comparison: Comparison, now: OffsetDateTime) -> DriftReport {
        crate::spaces::Layered::alone(self).drift(comparison, now)
    }
}

/// `[drift]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftSettings {
    /// Time between scans of every target (`interval-minutes`; at least a second).
    pub interval: std::time::Duration,
    /// What to scan.
    pub targets: Vec<DriftTarget>,
}

impl Default for DriftSettings {
    fn default() -> Self {
        DriftSettings {
            interval: std::time::Duration::from_secs(u64::from(DEFAULT_INTERVAL_MINUTES) * 60),
            targets: Vec::new(),
        }
    }
}

/// `[[drift.targets]]`: one workspace (or set of manifests) and the command that prints its
/// refresh-only plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftTarget {
    /// Unique name.
    pub name: String,
    /// The space its drift events belong to.
    pub space: String,
    /// argv run in `workdir`: prints the plan's JSON, or (with `show`) writes the plan file.
    pub command: Vec<String>,
    /// argv run after `command`: prints the plan's JSON.
    pub show: Option<Vec<String>>,
    /// Where the commands run (resolved against the configuration's folder).
    pub workdir: Option<PathBuf>,
    /// Limit on each command.
    pub timeout_seconds: u64,
}

/// `[drift]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawDrift {
    interval_minutes: Option<toml::Value>,
    #[serde(default)]
    targets: Vec<RawTarget>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTarget {
    name: String,
    space: String,
    command: Vec<String>,
    show: Option<Vec<String>>,
    workdir: Option<PathBuf>,
    timeout_seconds: Option<u64>,
}

impl RawDrift {
    /// Validates the table; `text` is the file's, to name the line of a bad key.
    pub(crate) fn validate(self, file: &str, text: &str) -> Result<DriftSettings, ConfigError> {
        let invalid = |key: String, line: usize, message: String| ConfigError::Invalid {
            path: file.to_owned(),
            line,
            key,
            message,
        };
        let minutes = match &self.interval_minutes {
            None => f64::from(DEFAULT_INTERVAL_MINUTES),
            Some(toml::Value::Integer(i)) => i64_as_f64(*i),
            Some(toml::Value::Float(f)) => *f,
            Some(_) => f64::NAN,
        };
        let seconds = minutes * 60.0;
        if !(seconds.is_finite() && (1.0..=31_536_000.0).contains(&seconds)) {
            return Err(invalid(
                "drift.interval-minutes".into(),
                key_line(text, "[drift]", 0, "interval-minutes"),
                "expected a number of minutes from 1 second (0.0167) to a year".into(),
            ));
        }
        let interval = std::time::Duration::from_secs_f64(seconds);
        let mut names = BTreeSet::new();
        let mut targets = Vec::with_capacity(self.targets.len());
        for (i, t) in self.targets.into_iter().enumerate() {
            let at = |key: &str| key_line(text, "[[drift.targets]]", i, key);
            let key = |k: &str| format!("drift.targets[{i}].{k}");
            for (field, value) in [("name", &t.name), ("space", &t.space)] {
                if !valid_name(value) {
                    return Err(invalid(
                        key(field),
                        at(field),
                        format!("`{value}`: expected 1-64 letters, digits, `-`, `_` or `.`"),
                    ));
                }
            }
            if !names.insert(t.name.clone()) {
                return Err(invalid(
                    key("name"),
                    at("name"),
                    format!("a target named `{}` is already defined", t.name),
                ));
            }
            for (field, argv) in [("command", Some(&t.command)), ("show", t.show.as_ref())] {
                if argv.is_some_and(|a| a.first().is_none_or(|p| p.trim().is_empty())) {
                    return Err(invalid(
                        key(field),
                        at(field),
                        "expected a program and its arguments, like [\"tofu\", \"plan\"]".into(),
                    ));
                }
            }
            let timeout = t.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
            if timeout == 0 {
                return Err(invalid(
                    key("timeout-seconds"),
                    at("timeout-seconds"),
                    "expected at least 1 second".into(),
                ));
            }
            targets.push(DriftTarget {
                name: t.name,
                space: t.space,
                command: t.command,
                show: t.show,
                workdir: t.workdir,
                timeout_seconds: timeout,
            });
        }
        Ok(DriftSettings { interval, targets })
    }
}

#[expect(clippy::cast_precision_loss, reason = "a number of minutes")]
fn i64_as_f64(i: i64) -> f64 {
    i as f64
}

/// A space or target name as the store takes it.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The line of `key` inside the `nth` table with header `header`; failing that, the
/// header's line; 0 when there is none.
fn key_line(text: &str, header: &str, nth: usize, key: &str) -> usize {
    let mut seen = 0;
    let mut inside = false;
    let mut header_line = 0;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            inside = trimmed.starts_with(header) && {
                seen += 1;
                seen == nth + 1
            };
            if inside {
                header_line = i + 1;
            }
        } else if inside && trimmed.starts_with(key) {
            return i + 1;
        }
    }
    header_line
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn parse(text: &str) -> Result<Config, String> {
        crate::config::parse("warden.toml", text).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_without_the_table() {
        let c = parse("").unwrap();
        assert_eq!(c.drift.interval.as_secs(), 3600);
        assert!(c.drift.targets.is_empty());
    }

    #[test]
    fn targets_are_read() {
        let c = parse(
            "[drift]\ninterval-minutes = 5\n\n[[drift.targets]]\nname = \"net\"\nspace = \"prod\"\n\
             command = [\"tofu\", \"plan\"]\nshow = [\"tofu\", \"show\", \"-json\", \"p\"]\n\
             workdir = \"infra\"\n\n[[drift.targets]]\nname = \"k8s\"\nspace = \"dev\"\ncommand = [\"./scan\"]\n",
        )
        .unwrap();
        assert_eq!(c.drift.interval.as_secs(), 300);
        let fast = parse("[drift]\ninterval-minutes = 0.05\n").unwrap();
        assert_eq!(fast.drift.interval.as_secs(), 3);
        let [net, k8s] = c.drift.targets.as_slice() else {
            panic!("two targets: {:?}", c.drift.targets)
        };
        assert_eq!(net.show.as_ref().map(Vec::len), Some(4));
        assert_eq!(net.workdir.as_deref(), Some(std::path::Path::new("infra")));
        assert_eq!(k8s.timeout_seconds, super::DEFAULT_TIMEOUT_SECONDS);
        assert_eq!(k8s.show, None);
    }

    #[test]
    fn bad_values_are_named_with_their_line() {
        let e = parse("[drift]\ninterval-minutes = 0\n").unwrap_err();
        assert!(
            e.contains("drift.interval-minutes") && e.contains(":2"),
            "{e}"
        );
        let e = parse("[drift]\ninterval-minutes = \"hourly\"\n").unwrap_err();
        assert!(e.contains("drift.interval-minutes"), "{e}");
        let two = "[[drift.targets]]\nname = \"a\"\nspace = \"s\"\ncommand = [\"x\"]\n\
                   [[drift.targets]]\nname = \"a b\"\nspace = \"s\"\ncommand = [\"x\"]\n";
        let e = parse(two).unwrap_err();
        assert!(
            e.contains("drift.targets[1].name") && e.contains(":6"),
            "{e}"
        );
        let e =
            parse("[[drift.targets]]\nname = \"a\"\nspace = \"s\"\ncommand = []\n").unwrap_err();
        assert!(
            e.contains("drift.targets[0].command") && e.contains(":4"),
            "{e}"
        );
        let e = parse(
            "[[drift.targets]]\nname = \"a\"\nspace = \"s\"\ncommand = [\"x\"]\n\
             [[drift.targets]]\nname = \"a\"\nspace = \"t\"\ncommand = [\"x\"]\n",
        )
        .unwrap_err();
        assert!(e.contains("already defined"), "{e}");
        let e = parse("[[drift.targets]]\nname = \"a\"\nspace = \"s\"\n").unwrap_err();
        assert!(e.contains("command"), "{e}");
    }
}
