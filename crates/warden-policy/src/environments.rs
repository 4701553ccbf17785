//! `[environments]`: the environment lifecycle of `warden serve` (docs/environments.md).
//!
//! ```toml
//! [environments]
//! runner = ["tofu"]                 # the IaC tool's argv (init, plan, show -json, apply ...)
//! workdir = "environments"          # one folder per environment (relative to this file)
//! blueprints = "blueprints/"        # blueprint files published at start (optional)
//! max-per-user = 3                  # environments one principal may have running
//! max-per-space = 10                # ... one space
//! max-total = 50                    # ... the account
//! max-monthly-cost = 500.0          # USD: per-environment cap (WD-ENV-004)
//! notify-url = "http://hooks.example/warden"   # POSTed when an environment starts expiring
//! notify-before-minutes = 30
//! reconcile-interval-seconds = 30
//! teardown-max-attempts = 3
//! command-timeout-seconds = 600     # one runner command
//!
//! [spaces.dev.environments]         # a space's budget and tighter limits
//! budget-monthly = 1000.0           # USD over the space's running environments (WD-ENV-005)
//! max-per-user = 2
//! ```
//!
//! The server applies them (`warden_server::environments`); the findings are WD-ENV-001..005,
//! registered in warden-rules for their ids and docs. `[agents] max-environments` bounds the
//! environments an agent may have running.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigError;

/// The default of `notify-before-minutes`.
pub const DEFAULT_NOTIFY_BEFORE_MINUTES: u32 = 30;
/// The default of `reconcile-interval-seconds`.
pub const DEFAULT_RECONCILE_SECONDS: u32 = 30;
/// The default of `teardown-max-attempts`.
pub const DEFAULT_TEARDOWN_ATTEMPTS: u32 = 3;
/// The default of `command-timeout-seconds`.
pub const DEFAULT_COMMAND_TIMEOUT_SECONDS: u32 = 600;

/// Concurrency and cost limits; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EnvironmentLimits {
    /// Environments one principal may have running.
    pub max_per_user: Option<u32>,
    /// Environments one space may have running.
    pub max_per_space: Option<u32>,
    /// USD a month: the cap on one environment's cost.
    pub max_monthly_cost: Option<f64>,
}

/// `[environments]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentSettings {
    /// The runner's argv (empty: environments are off).
    pub runner: Vec<String>,
    /// The folder holding one working folder per environment.
    pub workdir: PathBuf,
    /// A folder of blueprint files published at start.
    pub blueprints: Option<PathBuf>,
    /// The account's limits.
    pub limits: EnvironmentLimits,
    /// Environments the whole account may have running.
    pub max_total: Option<u32>,
    /// Where the expiry notification is POSTed.
    pub notify_url: Option<String>,
    /// How long before the end the notification goes out.
    pub notify_before: Duration,
    /// How often the reconcile loop runs.
    pub reconcile_interval: Duration,
    /// Teardown attempts before an environment is flagged `teardown_failed`.
    pub teardown_max_attempts: u32,
    /// Longest one runner command may take.
    pub command_timeout: Duration,
}

impl Default for EnvironmentSettings {
    fn default() -> Self {
        EnvironmentSettings {
            runner: Vec::new(),
            workdir: PathBuf::from("environments"),
            blueprints: None,
            limits: EnvironmentLimits::default(),
            max_total: None,
            notify_url: None,
            notify_before: Duration::from_secs(u64::from(DEFAULT_NOTIFY_BEFORE_MINUTES) * 60),
            reconcile_interval: Duration::from_secs(u64::from(DEFAULT_RECONCILE_SECONDS)),
            teardown_max_attempts: DEFAULT_TEARDOWN_ATTEMPTS,
            command_timeout: Duration::from_secs(u64::from(DEFAULT_COMMAND_TIMEOUT_SECONDS)),
        }
    }
}

impl EnvironmentSettings {
    /// True when a runner is configured.
    #[must_use]
    pub fn enabled(&self) -> bool {
        !self.runner.is_empty()
    }
}

/// `[spaces.<name>.environments]`, validated.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SpaceEnvironments {
    /// USD a month over the space's running environments.
    pub budget_monthly: Option<f64>,
    /// Limits at or below the account's.
    pub limits: EnvironmentLimits,
}

/// `[environments]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawEnvironments {
    #[serde(default)]
    runner: Vec<String>,
    workdir: Option<PathBuf>,
    blueprints: Option<PathBuf>,
    max_per_user: Option<u32>,
    max_per_space: Option<u32>,
    max_total: Option<u32>,
    max_monthly_cost: Option<toml::Value>,
    notify_url: Option<String>,
    notify_before_minutes: Option<u32>,
    reconcile_interval_seconds: Option<u32>,
    teardown_max_attempts: Option<u32>,
    command_timeout_seconds: Option<u32>,
}

/// `[spaces.<name>.environments]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawSpaceEnvironments {
    budget_monthly: Option<toml::Value>,
    max_per_user: Option<u32>,
    max_per_space: Option<u32>,
    max_monthly_cost: Option<toml::Value>,
}

type Invalid<'a> = &'a dyn Fn(String, &str, String) -> ConfigError;

fn usd_key(
    prefix: &str,
    key: &str,
    value: Option<toml::Value>,
    invalid: Invalid<'_>,
) -> Result<Option<f64>, ConfigError> {
    match value {
        None => Ok(None),
        Some(v) => crate::agents::usd(&v).map(Some).ok_or_else(|| {
            invalid(
                format!("{prefix}.{key}"),
                key,
                format!("expected a monthly amount in USD (a number ≥ 0), found {v}"),
            )
        }),
    }
}

impl RawEnvironments {
    /// Validates the table. `line` finds the line of a key for errors.
    pub(crate) fn validate(
        self,
        file: &str,
        line: impl Fn(&str) -> usize,
    ) -> Result<EnvironmentSettings, ConfigError> {
        let invalid = |key: String, needle: &str, message: String| ConfigError::Invalid {
            path: file.to_owned(),
            line: line(needle),
            key,
            message,
        };
        if self.runner.first().is_some_and(|c| c.trim().is_empty()) {
            return Err(invalid(
                "environments.runner".into(),
                "runner",
                "expected the command as an argv list, e.g. [\"tofu\"]".into(),
            ));
        }
        let at_least_one = |key: &str, v: Option<u32>| -> Result<(), ConfigError> {
            if v == Some(0) {
                Err(invalid(
                    format!("environments.{key}"),
                    key,
                    "expected at least 1".into(),
                ))
            } else {
                Ok(())
            }
        };
        at_least_one(
            "reconcile-interval-seconds",
            self.reconcile_interval_seconds,
        )?;
        at_least_one("teardown-max-attempts", self.teardown_max_attempts)?;
        at_least_one("command-timeout-seconds", self.command_timeout_seconds)?;
        if let Some(url) = &self.notify_url {
            if !url.starts_with("http://") {
                return Err(invalid(
                    "environments.notify-url".into(),
                    "notify-url",
                    format!("expected an http:// URL, found `{url}`"),
                ));
            }
        }
        let defaults = EnvironmentSettings::default();
        Ok(EnvironmentSettings {
            runner: self.runner,
            workdir: self.workdir.unwrap_or(defaults.workdir),
            blueprints: self.blueprints,
            limits: EnvironmentLimits {
                max_per_user: self.max_per_user,
                max_per_space: self.max_per_space,
                max_monthly_cost: usd_key(
                    "environments",
                    "max-monthly-cost",
                    self.max_monthly_cost,
                    &invalid,
                )?,
            },
            max_total: self.max_total,
            notify_url: self.notify_url,
            notify_before: self
                .notify_before_minutes
                .map_or(defaults.notify_before, |m| {
                    Duration::from_secs(u64::from(m) * 60)
                }),
            reconcile_interval: self
                .reconcile_interval_seconds
                .map_or(defaults.reconcile_interval, |s| {
                    Duration::from_secs(u64::from(s))
                }),
            teardown_max_attempts: self
                .teardown_max_attempts
                .unwrap_or(defaults.teardown_max_attempts),
            command_timeout: self
                .command_timeout_seconds
                .map_or(defaults.command_timeout, |s| {
                    Duration::from_secs(u64::from(s))
                }),
        })
    }
}

impl RawSpaceEnvironments {
    /// Validates a space's table against the account's limits (a space only tightens).
    pub(crate) fn validate(
        self,
        space: &str,
        account: &EnvironmentLimits,
        file: &str,
        line: impl Fn(&str) -> usize,
    ) -> Result<SpaceEnvironments, ConfigError> {
        let prefix = format!("spaces.{space}.environments");
        let invalid = |key: String, needle: &str, message: String| ConfigError::Invalid {
            path: file.to_owned(),
            line: line(needle),
            key,
            message,
        };
        let looser = |key: &str, own: Option<u32>, theirs: Option<u32>| match (own, theirs) {
            (Some(o), Some(t)) if o > t => Err(invalid(
                format!("{prefix}.{key}"),
                key,
                format!("{o} is above the account's {t}: a space can only tighten"),
            )),
            _ => Ok(()),
        };
        looser("max-per-user", self.max_per_user, account.max_per_user)?;
        looser("max-per-space", self.max_per_space, account.max_per_space)?;
        let cap = usd_key(&prefix, "max-monthly-cost", self.max_monthly_cost, &invalid)?;
        if let (Some(own), Some(theirs)) = (cap, account.max_monthly_cost) {
            if own > theirs {
                return Err(invalid(
                    format!("{prefix}.max-monthly-cost"),
                    "max-monthly-cost",
                    format!("{own} is above the account's {theirs}: a space can only tighten"),
                ));
            }
        }
        Ok(SpaceEnvironments {
            budget_monthly: usd_key(&prefix, "budget-monthly", self.budget_monthly, &invalid)?,
            limits: EnvironmentLimits {
                max_per_user: self.max_per_user.or(account.max_per_user),
                max_per_space: self.max_per_space.or(account.max_per_space),
                max_monthly_cost: cap.or(account.max_monthly_cost),
            },
        })
    }
}

/// Parses a duration like `45s`, `30m`, `8h` or `3d` (one number, one unit).
///
/// # Errors
/// A message naming what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let expected = || format!("`{text}`: expected a duration like 30m, 8h or 3d");
    let unit_at = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(expected)?;
    let (n, unit) = t.split_at(unit_at);
    let n: u64 = n.parse().map_err(|_| expected())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(expected()),
    };
    if n == 0 {
        return Err(format!("`{text}`: a duration must be above zero"));
    }
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(expected)
}

/// A duration as `parse_duration` reads it (the largest exact unit).
#[must_use]
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn parse(text: &str) -> Result<Config, String> {
        crate::config::parse("warden.toml", text).map_err(|e| e.to_string())
    }

    #[test]
    fn off_without_the_table() {
        let c = parse("").unwrap();
        assert!(!c.environments.enabled());
        assert_eq!(c.agents.max_environments, None);
    }

    #[test]
    fn settings_space_budgets_and_agent_quota() {
        let c = parse(
            "[environments]\nrunner = [\"tofu\"]\nmax-per-user = 3\nmax-monthly-cost = 500\n\
             notify-before-minutes = 5\n[agents]\nmax-environments = 2\n\
             [spaces.dev.environments]\nbudget-monthly = 1000\nmax-per-user = 2\n",
        )
        .unwrap();
        assert_eq!(c.environments.runner, vec!["tofu".to_owned()]);
        assert_eq!(c.environments.notify_before, Duration::from_secs(300));
        assert_eq!(c.agents.max_environments, Some(2));
        let dev = c.spaces.get("dev").unwrap().environments;
        assert_eq!(dev.budget_monthly, Some(1000.0));
        assert_eq!(dev.limits.max_per_user, Some(2));
        assert_eq!(dev.limits.max_monthly_cost, Some(500.0));
    }

    #[test]
    fn bad_values_are_named_with_their_line() {
        let e =
            parse("[environments]\nrunner = [\"tofu\"]\nmax-monthly-cost = \"x\"\n").unwrap_err();
        assert!(
            e.contains("environments.max-monthly-cost") && e.contains(":3"),
            "{e}"
        );
        let e = parse(
            "[environments]\nmax-per-user = 3\n[spaces.dev.environments]\nmax-per-user = 5\n",
        )
        .unwrap_err();
        assert!(
            e.contains("spaces.dev.environments.max-per-user") && e.contains(":4"),
            "{e}"
        );
        let e = parse("[environments]\nteardown-max-attempts = 0\n").unwrap_err();
        assert!(e.contains("at least 1"), "{e}");
        let e = parse("[environments]\nrunnr = []\n").unwrap_err();
        assert!(e.contains("runnr"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("8h"), Ok(Duration::from_secs(8 * 3600)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("8").is_err());
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("3w").is_err());
        assert_eq!(format_duration(Duration::from_secs(72 * 3600)), "3d");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
    }
}
