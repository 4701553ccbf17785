//! `[agents]`: the retry contract and quotas of agent principals (`warden serve`).
//!
//! ```toml
//! [agents]
//! max-attempts = 3            # denied attempts at one change before the next escalates to
//!                             # require_approval with the attempt history (0: never escalate)
//! attempt-window-hours = 24   # attempts older than this do not count
//! changes-per-hour = 120      # evaluations per agent in a rolling hour (unset: no quota)
//! monthly-cost = 1000.0       # USD: monthly cost deltas of an agent's allowed changes this
//!                             # calendar month (unset: no budget)
//! max-environments = 2        # environments an agent may have running (WD-ENV-003)
//!
//! [agents.principals.claude-infra]   # one agent's own quotas, replacing the defaults above
//! changes-per-hour = 20
//! monthly-cost = 200.0
//! ```
//!
//! The server applies them (`warden_server::agents`); the rules they report under are
//! WD-AGENT-001 (attempts exhausted), WD-AGENT-002 (change quota) and WD-AGENT-003 (cost
//! budget), registered in warden-rules for their ids and docs.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::ConfigError;

/// The default of `max-attempts`: three denied attempts, then a person looks.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The default of `attempt-window-hours`.
pub const DEFAULT_ATTEMPT_WINDOW_HOURS: u32 = 24;

/// `[agents]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSettings {
    /// Denied attempts at one change before the next one escalates (0: never).
    pub max_attempts: u32,
    /// Attempts older than this many hours do not count.
    pub attempt_window_hours: u32,
    /// Quotas of every agent without its own.
    pub quotas: AgentQuotas,
    /// `[agents.principals.<name>]`: an agent's own quotas (replacing the defaults).
    pub principals: BTreeMap<String, AgentQuotas>,
    /// Environments one agent may have running (unset: only `[environments]`' limits).
    pub max_environments: Option<u32>,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            attempt_window_hours: DEFAULT_ATTEMPT_WINDOW_HOURS,
            quotas: AgentQuotas::default(),
            principals: BTreeMap::new(),
            max_environments: None,
        }
    }
}

impl AgentSettings {
    /// The quotas of the agent `principal`.
    #[must_use]
    pub fn quotas_of(&self, principal: &str) -> &AgentQuotas {
        self.principals.get(principal).unwrap_or(&self.quotas)
    }

    /// Text for the policy revision (empty for the defaults).
    #[must_use]
    pub fn revision_part(&self) -> String {
        if *self == AgentSettings::default() {
            String::new()
        } else {
            format!("{self:?}")
        }
    }
}

/// An agent's quotas; `None` is no quota.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AgentQuotas {
    /// Evaluations in a rolling hour.
    pub changes_per_hour: Option<u32>,
    /// USD a month: the monthly cost deltas of the agent's allowed changes this month.
    pub monthly_cost: Option<f64>,
}

/// `[agents]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawAgents {
    max_attempts: Option<u32>,
    attempt_window_hours: Option<u32>,
    changes_per_hour: Option<u32>,
    monthly_cost: Option<toml::Value>,
    max_environments: Option<u32>,
    #[serde(default)]
    principals: BTreeMap<String, RawQuotas>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawQuotas {
    changes_per_hour: Option<u32>,
    monthly_cost: Option<toml::Value>,
}

impl RawAgents {
    /// Validates the table. `line` finds the line of a key for errors.
    pub(crate) fn validate(
        self,
        file: &str,
        line: impl Fn(&str) -> usize,
    ) -> Result<AgentSettings, ConfigError> {
        let invalid = |key: String, needle: &str, message: String| ConfigError::Invalid {
            path: file.to_owned(),
            line: line(needle),
            key,
            message,
        };
        let window = self
            .attempt_window_hours
            .unwrap_or(DEFAULT_ATTEMPT_WINDOW_HOURS);
        if window == 0 {
            return Err(invalid(
                "agents.attempt-window-hours".into(),
                "attempt-window-hours",
                "expected at least 1 hour".into(),
            ));
        }
        let quotas = |prefix: &str, raw: RawQuotas| -> Result<AgentQuotas, ConfigError> {
            let monthly_cost = match raw.monthly_cost {
                None => None,
                Some(value) => Some(usd(&value).ok_or_else(|| {
                    invalid(
                        format!("{prefix}.monthly-cost"),
                        "monthly-cost",
                        format!("expected a monthly amount in USD (a number ≥ 0), found {value}"),
                    )
                })?),
            };
            Ok(AgentQuotas {
                changes_per_hour: raw.changes_per_hour,
                monthly_cost,
            })
        };
        let mut principals = BTreeMap::new();
        for (name, raw) in self.principals {
            let q = quotas(&format!("agents.principals.{name}"), raw)?;
            principals.insert(name, q);
        }
        Ok(AgentSettings {
            max_attempts: self.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS),
            attempt_window_hours: window,
            quotas: quotas(
                "agents",
                RawQuotas {
                    changes_per_hour: self.changes_per_hour,
                    monthly_cost: self.monthly_cost,
                },
            )?,
            principals,
            max_environments: self.max_environments,
        })
    }
}

/// A TOML number ≥ 0 as USD.
pub(crate) fn usd(value: &toml::Value) -> Option<f64> {
    #[expect(clippy::cast_precision_loss, reason = "a monthly amount in USD")]
    let n = match value {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some(n)
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
        assert_eq!(c.agents.max_attempts, 3);
        assert_eq!(c.agents.quotas.changes_per_hour, None);
        assert_eq!(c.agents.revision_part(), "");
    }

    #[test]
    fn quotas_and_per_principal_overrides() {
        let c = parse(
            "[agents]\nmax-attempts = 2\nchanges-per-hour = 100\nmonthly-cost = 500\n\
             [agents.principals.claude-infra]\nchanges-per-hour = 5\n",
        )
        .unwrap();
        assert_eq!(c.agents.max_attempts, 2);
        assert_eq!(c.agents.quotas_of("other").changes_per_hour, Some(100));
        assert_eq!(c.agents.quotas_of("other").monthly_cost, Some(500.0));
        let own = c.agents.quotas_of("claude-infra");
        assert_eq!(own.changes_per_hour, Some(5));
        // An agent's own table replaces the defaults: no budget unless it sets one.
        assert_eq!(own.monthly_cost, None);
        assert_ne!(c.agents.revision_part(), "");
    }

    #[test]
    fn bad_values_are_named_with_their_line() {
        let e = parse("[agents]\nmonthly-cost = \"lots\"\n").unwrap_err();
        assert!(e.contains("agents.monthly-cost"), "{e}");
        assert!(e.contains(":2"), "{e}");
        let e = parse("[agents]\nattempt-window-hours = 0\n").unwrap_err();
        assert!(e.contains("at least 1 hour"), "{e}");
        let e = parse("[agents]\nmax-attempt = 3\n").unwrap_err();
        assert!(e.contains("max-attempt"), "{e}");
    }
}
