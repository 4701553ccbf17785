//! `warden.toml`: read (serde, validation only), then resolved against the rule registry.
//!
//! ```toml
//! select = ["WD-AWS", "WD-GOV-003"]      # ids, id prefixes or names; default: every rule
//! ignore = ["s3-bucket-versioning-disabled"]
//! fail-on = "require_approval"            # warn | require_approval | deny | never
//! tag-waivers = true                      # honour `warden:ignore` resource tags
//!
//! [unknown]                               # findings on values known only after apply
//! deny = "require_approval"               # ... of rules enforced at deny
//! other = "warn"                          # ... of every other rule
//!
//! [rules.WD-GOV-001]                      # id or name
//! enforcement = "deny"                    # advisory | warn | require_approval | deny
//! allowed = { aws = ["eu-west-1", "eu-central-1"] }   # any other key is a rule parameter
//!
//! [[exceptions]]
//! rule = "WD-AWS-001"                     # id, name, id prefix or "*"
//! resource = "aws_s3_bucket.public_site*" # address glob
//! reason = "static website, reviewed in SEC-123"
//! owner = "web-team"
//! expires = 2026-12-31
//!
//! [rego]                                  # Rego policies (conftest conventions)
//! policies = ["policy/"]                  # files or folders, relative to this file
//! namespaces = ["main"]                   # packages holding deny/violation/warn rules
//! all-namespaces = false                  # query every package instead
//! data = ["data/", "bundle.tar.gz"]       # JSON/YAML files, folders, OPA bundles
//! timeout-ms = 10000                      # limit on one evaluation
//! allow-wall-clock = false                # time.now_ns() reads the clock, not the decision time
//!
//! [rego.values.main]                      # inline data: data.main.allowed_regions
//! allowed_regions = ["eu-west-1"]
//!
//! [cost]                                  # the estimate every decision carries (docs/cost.md)
//! catalog = "prices.json"                 # prices merged over the embedded catalog
//! usage = "usage.yaml"                    # GB stored, GB processed, hours per month
//! approval-above = 500.0                  # WD-COST-001: monthly delta (USD) needing approval
//! deny-above = 2000.0                     # ... and the one denied
//!
//! [risk]                                  # the risk score every decision carries (docs/risk.md)
//! production-spaces = ["prod*"]           # spaces whose changes score `production`
//! change-window = "Mon-Fri 08:00-18:00"   # UTC; changes outside it score `change_window`
//! approval-at = 70                        # WD-RISK-001: a score at or above needs approval
//! deny-at = 90                            # ... and at or above this is denied
//!
//! [agents]                                # agents' retry contract and quotas (`warden serve`)
//! max-attempts = 3                        # denied attempts before the next escalates to approval
//! changes-per-hour = 120                  # evaluations per agent per rolling hour
//! monthly-cost = 1000.0                   # USD of allowed monthly cost deltas per agent
//!
//! [drift]                                 # scheduled drift scans (`warden serve`, docs/drift.md)
//! interval-minutes = 60
//! [[drift.targets]]                       # one per workspace: a command printing a refresh-only plan
//! name = "network"
//! space = "prod"
//! command = ["./drift-plan.sh"]           # argv, no shell; `workdir`, `show`, `timeout-seconds`
//! [environments]                          # environment lifecycle (docs/environments.md)
//! runner = ["tofu"]                       # the IaC tool's argv
//! max-per-user = 3                        # concurrency; max-per-space, max-total
//! max-monthly-cost = 500.0                # per-environment cap (USD)
//!
//! [spaces.prod]                           # a space's layer (`warden serve`): it adds, never removes
//! description = "production accounts"
//! select = ["WD-GOV-007"]                 # more built-in rules, run in this space only
//! policies = ["policy/prod/"]             # more Kyverno or Rego policies (the account's [rego] settings)
//! data = ["data/prod.yaml"]               # more Rego data for them
//! approvals-required = 2                  # approval rules of the space
//! approver-roles = ["approver"]
//! approval-ttl-hours = 72
//! max-exception-days = 30
//! [spaces.prod.rules.WD-AWS-010]          # stricter enforcement, or other parameters (checked
//! enforcement = "deny"                    # in addition to the account's: never instead of)
//! [spaces.prod.cost]                      # lower cost thresholds (never higher)
//! approval-above = 200.0
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::Date;
use warden_core::{Enforcement, Exception};
use warden_rules::UnknownPolicy;

use crate::agents::{AgentSettings, RawAgents};
use crate::cost::{CostSettings, Thresholds};
use crate::drift::{DriftSettings, RawDrift};
use crate::environments::{
    EnvironmentSettings, RawEnvironments, RawSpaceEnvironments, SpaceEnvironments,
};
use crate::risk::{RawRisk, RiskSettings};

/// The file name looked for upward from the input.
pub const FILE_NAME: &str = "warden.toml";

/// Why a configuration could not be used. Each names the file and the place in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read: {message}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        message: String,
    },
    /// The file is not valid TOML, or a key has the wrong type.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A value is well-formed but wrong (an unknown rule, a bad enforcement, an exception
    /// without a reason).
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line of the key, 0 when unknown.
        line: usize,
        /// The key (`rules.WD-AWS-999`, `exceptions[2].expires`).
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// When `warden check` exits non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailOn {
    /// Warnings fail too (exit 1).
    Warn,
    /// Approval (exit 3) and deny (exit 1) fail: the default.
    RequireApproval,
    /// Only deny fails.
    Deny,
    /// Never fail: report only.
    Never,
}

impl std::str::FromStr for FailOn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "warn" => FailOn::Warn,
            "require_approval" | "require-approval" | "approval" => FailOn::RequireApproval,
            "deny" => FailOn::Deny,
            "never" => FailOn::Never,
            other => {
                return Err(format!(
                "unknown fail-on level `{other}`; expected warn, require_approval, deny or never"
            ))
            }
        })
    }
}

/// Per-rule settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSettings {
    /// Enforcement override.
    pub enforcement: Option<Enforcement>,
    /// Parameters (validated against the rule's declared parameters when resolved).
    pub params: serde_json::Map<String, serde_json::Value>,
    /// 1-based line of the `[rules.X]` table, for errors.
    pub line: usize,
}

/// The configuration, validated but not yet resolved against the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where it was read from (`None`: defaults).
    pub path: Option<PathBuf>,
    /// Rule selectors to enable (`None`: every rule).
    pub select: Option<Vec<String>>,
    /// Rule selectors to disable.
    pub ignore: Vec<String>,
    /// Exit-code threshold.
    pub fail_on: FailOn,
    /// Honour `warden:ignore` tags.
    pub tag_waivers: bool,
    /// Enforcement of unknown-valued findings.
    pub unknown: UnknownPolicy,
    /// `[rules.<id or name>]` tables.
    pub rules: BTreeMap<String, RuleSettings>,
    /// `[[exceptions]]`.
    pub exceptions: Vec<Exception>,
    /// `[rego]`.
    pub rego: RegoSettings,
    /// `[spaces.<name>]`: each space's layer over this (the account's) policy.
    pub spaces: BTreeMap<String, SpaceConfig>,
    /// `[cost]`: catalog, usage and WD-COST-001's thresholds.
    pub cost: CostSettings,
    /// `[agents]`: the agents' retry contract and quotas (`warden serve`).
    pub agents: AgentSettings,
    /// `[risk]`: production spaces, the change window, WD-RISK-001's thresholds.
    pub risk: RiskSettings,
    /// `[drift]`: the targets `warden serve` scans for drift, and how often.
    pub drift: DriftSettings,
    /// `[environments]`: the environment lifecycle (`warden serve`).
    pub environments: EnvironmentSettings,
}

impl Config {
    /// The file it was read from, as errors name it ("configuration" for the defaults).
    #[must_use]
    pub fn source_name(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "configuration".to_owned(), |p| p.display().to_string())
    }
}

/// `[spaces.<name>]`: what a space adds to the account's policy. A space can only tighten:
/// the account's rules always run with the account's settings, and the space's rules run as
/// well (so a space can raise an enforcement or check other parameters, never lower or
/// switch off; loosening takes a governed exception).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpaceConfig {
    /// What the space is for.
    pub description: String,
    /// Built-in rules to run in this space besides those of `rules` (ids, prefixes, names).
    pub select: Vec<String>,
    /// `[spaces.<name>.rules.<id or name>]`: enforcement and parameters in this space.
    pub rules: BTreeMap<String, RuleSettings>,
    /// Kyverno or Rego policy files and folders (resolved against the configuration's folder).
    pub policies: Vec<PathBuf>,
    /// Rego data files, folders and bundles for them (resolved likewise).
    pub data: Vec<PathBuf>,
    /// Approval rules of the space (unset: the store's defaults).
    pub approvals: SpaceApprovals,
    /// `[spaces.<name>.cost]`: thresholds at or below the account's.
    pub cost: Thresholds,
    /// `[spaces.<name>.environments]`: the space's budget and limits (the account's where
    /// unset).
    pub environments: SpaceEnvironments,
    /// 1-based line of the `[spaces.<name>]` table, for errors.
    pub line: usize,
}

/// A space's approval rules as `warden.toml` gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpaceApprovals {
    /// Distinct approvals a request needs.
    pub required: Option<u32>,
    /// Roles that may approve (names as `warden token create --role` takes them).
    pub approver_roles: Option<Vec<String>>,
    /// Hours before a pending request expires.
    pub ttl_hours: Option<u32>,
    /// Longest exception a space grants, in days.
    pub max_exception_days: Option<u32>,
}

/// `[rego]`: Rego policies, their data and the sandbox.
#[derive(Debug, Clone, PartialEq)]
pub struct RegoSettings {
    /// Policy files or folders (resolved against the configuration's folder).
    pub policies: Vec<PathBuf>,
    /// Packages holding the conftest rules (`main` when empty).
    pub namespaces: Vec<String>,
    /// Query every package.
    pub all_namespaces: bool,
    /// Data files, folders and bundles (resolved against the configuration's folder).
    pub data: Vec<PathBuf>,
    /// Inline data merged at the root of `data` (`[rego.values]`).
    pub values: serde_json::Map<String, serde_json::Value>,
    /// Limit on one evaluation.
    pub timeout_ms: u64,
    /// `time.now_ns()` reads the wall clock instead of the decision time.
    pub allow_wall_clock: bool,
}

impl Default for RegoSettings {
    fn default() -> Self {
        RegoSettings {
            policies: Vec::new(),
            namespaces: Vec::new(),
            all_namespaces: false,
            data: Vec::new(),
            values: serde_json::Map::new(),
            timeout_ms: 10_000,
            allow_wall_clock: false,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            select: None,
            ignore: Vec::new(),
            fail_on: FailOn::RequireApproval,
            tag_waivers: true,
            unknown: UnknownPolicy::default(),
            rules: BTreeMap::new(),
            exceptions: Vec::new(),
            rego: RegoSettings::default(),
            spaces: BTreeMap::new(),
            cost: CostSettings::default(),
            agents: AgentSettings::default(),
            risk: RiskSettings::default(),
            drift: DriftSettings::default(),
            environments: EnvironmentSettings::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    select: Option<Vec<String>>,
    #[serde(default)]
    ignore: Vec<String>,
    fail_on: Option<String>,
    tag_waivers: Option<bool>,
    unknown: Option<RawUnknown>,
    #[serde(default)]
    rules: BTreeMap<String, toml::Table>,
    #[serde(default)]
    exceptions: Vec<RawException>,
    rego: Option<RawRego>,
    #[serde(default)]
    spaces: BTreeMap<String, RawSpace>,
    cost: Option<RawCost>,
    agents: Option<RawAgents>,
    risk: Option<RawRisk>,
    drift: Option<RawDrift>,
    environments: Option<RawEnvironments>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCost {
    catalog: Option<PathBuf>,
    usage: Option<PathBuf>,
    approval_above: Option<toml::Value>,
    deny_above: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSpace {
    #[serde(default)]
    description: String,
    #[serde(default)]
    select: Vec<String>,
    #[serde(default)]
    rules: BTreeMap<String, toml::Table>,
    #[serde(default)]
    policies: Vec<PathBuf>,
    #[serde(default)]
    data: Vec<PathBuf>,
    approvals_required: Option<u32>,
    approver_roles: Option<Vec<String>>,
    approval_ttl_hours: Option<u32>,
    max_exception_days: Option<u32>,
    cost: Option<RawCost>,
    environments: Option<RawSpaceEnvironments>,
    // Keys that would loosen the account's policy: named in a clear error, not "unknown".
    ignore: Option<toml::Value>,
    exceptions: Option<toml::Value>,
    fail_on: Option<toml::Value>,
    tag_waivers: Option<toml::Value>,
    unknown: Option<toml::Value>,
    rego: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRego {
    #[serde(default)]
    policies: Vec<PathBuf>,
    #[serde(default)]
    namespaces: Vec<String>,
    all_namespaces: Option<bool>,
    #[serde(default)]
    data: Vec<PathBuf>,
    values: Option<toml::Table>,
    timeout_ms: Option<u64>,
    allow_wall_clock: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnknown {
    deny: Option<String>,
    other: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    rule: String,
    resource: Option<String>,
    reason: Option<String>,
    owner: Option<String>,
    expires: Option<toml::Value>,
}

/// Finds `warden.toml` in `start` (a file's folder, or a folder) or the nearest parent.
#[must_use]
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = if start.as_os_str() == "-" || start.as_os_str().is_empty() {
        std::env::current_dir().ok()?
    } else {
        std::fs::canonicalize(start).ok()?
    };
    let mut dir = if start.is_dir() {
        Some(start.as_path())
    } else {
        start.parent()
    };
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}

/// Reads and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse(&path.display().to_string(), &text).map(|mut c| {
        // Rego, catalog, usage and drift workdir paths are relative to the configuration file.
        let base = path.parent().unwrap_or(Path::new("."));
        let space_paths = c
            .spaces
            .values_mut()
            .flat_map(|s| s.policies.iter_mut().chain(s.data.iter_mut()));
        for p in c
            .rego
            .policies
            .iter_mut()
            .chain(c.rego.data.iter_mut())
            .chain(space_paths)
            .chain(c.cost.catalog.iter_mut())
            .chain(c.cost.usage.iter_mut())
            .chain(
                c.drift
                    .targets
                    .iter_mut()
                    .filter_map(|t| t.workdir.as_mut()),
            )
            .chain(std::iter::once(&mut c.environments.workdir))
            .chain(c.environments.blueprints.iter_mut())
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        c.path = Some(path.to_path_buf());
        c
    })
}

/// Parses configuration text; `name` is used in errors.
pub fn parse(name: &str, text: &str) -> Result<Config, ConfigError> {
    let file = name.to_owned();
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
        ConfigError::Syntax {
            path: name.to_owned(),
            line,
            column,
            message: e.message().replace('\n', " ").trim().to_owned(),
        }
    })?;
    let invalid = |key: String, needle: &str, message: String| ConfigError::Invalid {
        path: name.to_owned(),
        line: line_of(text, needle),
        key,
        message,
    };

    let mut config = Config {
        select: raw.select,
        ignore: raw.ignore,
        ..Config::default()
    };
    if let Some(f) = raw.fail_on {
        config.fail_on = f
            .parse()
            .map_err(|m| invalid("fail-on".into(), "fail-on", m))?;
    }
    if let Some(t) = raw.tag_waivers {
        config.tag_waivers = t;
    }
    if let Some(u) = raw.unknown {
        if let Some(d) = u.deny {
            config.unknown.deny_rules = d
                .parse()
                .map_err(|m| invalid("unknown.deny".into(), "deny", m))?;
        }
        if let Some(o) = u.other {
            config.unknown.other_rules = o
                .parse()
                .map_err(|m| invalid("unknown.other".into(), "other", m))?;
        }
    }
    if let Some(r) = raw.rego {
        if r.timeout_ms == Some(0) {
            return Err(invalid(
                "rego.timeout-ms".into(),
                "timeout-ms",
                "expected a limit above 0 milliseconds".into(),
            ));
        }
        let values = match r.values {
            Some(t) => match serde_json::to_value(&t) {
                Ok(serde_json::Value::Object(m)) => m,
                Ok(_) => serde_json::Map::new(),
                Err(e) => return Err(invalid("rego.values".into(), "values", e.to_string())),
            },
            None => serde_json::Map::new(),
        };
        let defaults = RegoSettings::default();
        config.rego = RegoSettings {
            policies: r.policies,
            namespaces: r.namespaces,
            all_namespaces: r.all_namespaces.unwrap_or(false),
            data: r.data,
            values,
            timeout_ms: r.timeout_ms.unwrap_or(defaults.timeout_ms),
            allow_wall_clock: r.allow_wall_clock.unwrap_or(false),
        };
    }
    config.rules = rule_tables(raw.rules, "rules", text, &invalid)?;
    if let Some(cost) = raw.cost {
        let lines = (
            line_in_tables(text, &["[cost]"], "catalog"),
            line_in_tables(text, &["[cost]"], "usage"),
        );
        config.cost = CostSettings {
            thresholds: thresholds(&cost, "cost", &["[cost]"], text, name)?,
            catalog: cost.catalog,
            usage: cost.usage,
            lines,
        };
    }
    if let Some(risk) = raw.risk {
        config.risk = risk.validate(name, |key| line_in_tables(text, &["[risk]"], key))?;
    }
    if let Some(drift) = raw.drift {
        config.drift = drift.validate(name, text)?;
    }
    if let Some(agents) = raw.agents {
        config.agents = agents.validate(name, |key| {
            line_in_tables(text, &["[agents.principals", "[agents]"], key)
        })?;
    }
    if let Some(env) = raw.environments {
        config.environments =
            env.validate(name, |key| line_in_tables(text, &["[environments]"], key))?;
    }
    for (name, space) in raw.spaces {
        let prefix = format!("spaces.{name}");
        let header = format!("[spaces.{name}]");
        let loosening = [
            ("ignore", space.ignore.is_some()),
            ("exceptions", space.exceptions.is_some()),
            ("fail-on", space.fail_on.is_some()),
            ("tag-waivers", space.tag_waivers.is_some()),
            ("unknown", space.unknown.is_some()),
        ];
        if let Some((key, _)) = loosening.iter().find(|(_, set)| *set) {
            return Err(invalid(
                format!("{prefix}.{key}"),
                key,
                format!("a space cannot set `{key}`: the account's rules always apply in every space, and a space can only add to them; to let one finding through, request a governed exception (`POST /v1/exceptions`)"),
            ));
        }
        if space.rego.is_some() {
            return Err(invalid(
                format!("{prefix}.rego"),
                &header,
                "a space takes Rego policies in `policies` and their data in `data`; namespaces and sandbox settings are the account's `[rego]`".into(),
            ));
        }
        if space.approvals_required == Some(0) {
            return Err(invalid(
                format!("{prefix}.approvals-required"),
                "approvals-required",
                "expected at least 1 approval".into(),
            ));
        }
        let cost = match &space.cost {
            None => Thresholds::default(),
            Some(raw) => space_thresholds(raw, &name, config.cost.thresholds, text, &file)?,
        };
        let environments = match space.environments {
            None => SpaceEnvironments {
                budget_monthly: None,
                limits: config.environments.limits,
            },
            Some(raw) => {
                let table = format!("[spaces.{name}.environments]");
                raw.validate(&name, &config.environments.limits, &file, |key| {
                    line_in_tables(text, &[table.as_str()], key)
                })?
            }
        };
        config.spaces.insert(
            name.clone(),
            SpaceConfig {
                description: space.description,
                select: space.select,
                rules: rule_tables(space.rules, &format!("{prefix}.rules"), text, &invalid)?,
                policies: space.policies,
                data: space.data,
                approvals: SpaceApprovals {
                    required: space.approvals_required,
                    approver_roles: space.approver_roles,
                    ttl_hours: space.approval_ttl_hours,
                    max_exception_days: space.max_exception_days,
                },
                cost,
                environments,
                line: line_of(text, &header),
            },
        );
    }
    for (i, e) in raw.exceptions.into_iter().enumerate() {
        let key = |field: &str| format!("exceptions[{i}].{field}");
        let reason = e.reason.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
            invalid(
                key("reason"),
                &e.rule,
                "an exception needs a `reason` (why it is acceptable)".into(),
            )
        })?;
        let expires = match e.expires {
            None => {
                return Err(invalid(
                    key("expires"),
                    &e.rule,
                    "an exception needs an `expires` date (YYYY-MM-DD)".into(),
                ))
            }
            Some(v) => parse_date(&v).map_err(|m| invalid(key("expires"), &e.rule, m))?,
        };
        config.exceptions.push(Exception {
            rule: e.rule,
            resource: e.resource.unwrap_or_else(|| "*".to_owned()),
            reason,
            owner: e.owner,
            expires,
        });
    }
    Ok(config)
}

/// `[<prefix>.<rule>]` tables: `enforcement` and the rule's parameters.
fn rule_tables(
    tables: BTreeMap<String, toml::Table>,
    prefix: &str,
    text: &str,
    invalid: &dyn Fn(String, &str, String) -> ConfigError,
) -> Result<BTreeMap<String, RuleSettings>, ConfigError> {
    let mut out = BTreeMap::new();
    for (key, table) in tables {
        let header = format!("{prefix}.{key}]");
        let line = match line_of(text, &header) {
            0 => line_of(text, &key),
            n => n,
        };
        let mut settings = RuleSettings {
            line,
            ..RuleSettings::default()
        };
        for (param, value) in table {
            if param == "enforcement" {
                let s = value.as_str().ok_or_else(|| {
                    invalid(
                        format!("{prefix}.{key}.enforcement"),
                        &key,
                        "expected a string".into(),
                    )
                })?;
                settings.enforcement = Some(
                    s.parse()
                        .map_err(|m| invalid(format!("{prefix}.{key}.enforcement"), &key, m))?,
                );
            } else {
                let json = serde_json::to_value(&value).map_err(|e| {
                    invalid(format!("{prefix}.{key}.{param}"), &param, e.to_string())
                })?;
                settings.params.insert(param, json);
            }
        }
        out.insert(key, settings);
    }
    Ok(out)
}

/// `[spaces.<name>.cost]`: thresholds only, each at or below the account's.
fn space_thresholds(
    raw: &RawCost,
    name: &str,
    account: Thresholds,
    text: &str,
    file: &str,
) -> Result<Thresholds, ConfigError> {
    let prefix = format!("spaces.{name}.cost");
    let tables = [format!("[spaces.{name}.cost]"), format!("[spaces.{name}]")];
    let tables = [tables[0].as_str(), tables[1].as_str()];
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        path: file.to_owned(),
        line: line_in_tables(text, &tables, key),
        key: format!("{prefix}.{key}"),
        message,
    };
    for (key, set) in [
        ("catalog", raw.catalog.is_some()),
        ("usage", raw.usage.is_some()),
    ] {
        if set {
            return Err(invalid(
                key,
                format!("a space prices with the account's catalog and usage file: set `{key}` in `[cost]`"),
            ));
        }
    }
    let mine = thresholds(raw, &prefix, &tables, text, file)?;
    for (key, theirs, mine) in [
        (
            "approval-above",
            account.approval_above,
            mine.approval_above,
        ),
        ("deny-above", account.deny_above, mine.deny_above),
    ] {
        if let (Some(theirs), Some(mine)) = (theirs, mine) {
            if mine > theirs {
                return Err(invalid(
                    key,
                    format!("`{mine}` is looser than the account's `{theirs}` (`cost.{key}`): a space can only lower a cost threshold"),
                ));
            }
        }
    }
    Ok(mine)
}

/// The thresholds of a `[cost]` table (`prefix` names its keys in errors; `tables` are the
/// headers it may be under, for their lines).
fn thresholds(
    raw: &RawCost,
    prefix: &str,
    tables: &[&str],
    text: &str,
    file: &str,
) -> Result<Thresholds, ConfigError> {
    let amount = |key: &str, value: &Option<toml::Value>| -> Result<Option<f64>, ConfigError> {
        let Some(value) = value else {
            return Ok(None);
        };
        #[expect(clippy::cast_precision_loss, reason = "a monthly amount in USD")]
        let number = match value {
            toml::Value::Integer(i) => Some(*i as f64),
            toml::Value::Float(f) => Some(*f),
            _ => None,
        };
        number
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map(Some)
            .ok_or_else(|| ConfigError::Invalid {
                path: file.to_owned(),
                line: line_in_tables(text, tables, key),
                key: format!("{prefix}.{key}"),
                message: format!(
                    "expected a monthly amount in USD (a number ≥ 0), found {}",
                    match value {
                        toml::Value::String(s) => format!("the string \"{s}\""),
                        other => other.to_string(),
                    }
                ),
            })
    };
    Ok(Thresholds {
        approval_above: amount("approval-above", &raw.approval_above)?,
        deny_above: amount("deny-above", &raw.deny_above)?,
    })
}

/// The line of `key` in the first of `tables` (headers: `[cost]`, `[spaces.dev]`) that has
/// it; 0 when none does.
fn line_in_tables(text: &str, tables: &[&str], key: &str) -> usize {
    tables
        .iter()
        .map(|table| {
            let mut inside = false;
            for (i, line) in text.lines().enumerate() {
                let trimmed = line.trim_start();
                if trimmed.starts_with('[') {
                    inside = trimmed.starts_with(table);
                } else if inside && trimmed.contains(key) {
                    return i + 1;
                }
            }
            0
        })
        .find(|&line| line > 0)
        .unwrap_or(0)
}

/// Accepts a TOML date (`2026-12-31`), a date-time, or a string `"2026-12-31"`.
fn parse_date(value: &toml::Value) -> Result<Date, String> {
    let text = match value {
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::String(s) => s.clone(),
        other => {
            return Err(format!(
                "expected a date like 2026-12-31, found a {}",
                other.type_str()
            ))
        }
    };
    let day = text.get(..10).unwrap_or(&text);
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(day, format).map_err(|_| format!("`{text}` is not a date like 2026-12-31"))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The first line mentioning `needle`, 0 when none does.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_configuration() {
        let c = parse(
            "warden.toml",
            r#"
select = ["WD-AWS"]
ignore = ["s3-bucket-versioning-disabled"]
fail-on = "deny"
[unknown]
deny = "warn"
[rules.WD-GOV-001]
enforcement = "require_approval"
allowed = { aws = ["eu-west-1"] }
[[exceptions]]
rule = "WD-AWS-001"
resource = "aws_s3_bucket.site"
reason = "public website"
expires = 2026-12-31
"#,
        )
        .unwrap();
        assert_eq!(c.fail_on, FailOn::Deny);
        assert_eq!(c.unknown.deny_rules, Enforcement::Warn);
        let gov = &c.rules["WD-GOV-001"];
        assert_eq!(gov.enforcement, Some(Enforcement::RequireApproval));
        assert_eq!(
            gov.params["allowed"],
            serde_json::json!({"aws": ["eu-west-1"]})
        );
        assert_eq!(c.exceptions[0].expires, time::macros::date!(2026 - 12 - 31));
    }

    #[test]
    fn errors_name_the_place() {
        let err = parse("w.toml", "select = [\"a\"\nfail-on = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("w.toml:"), "{err}");
        let err = parse("w.toml", "bogus = 1\n").unwrap_err().to_string();
        assert!(err.contains("w.toml:1:1") && err.contains("bogus"), "{err}");
        let err = parse(
            "w.toml",
            "[[exceptions]]\nrule = \"WD-AWS-001\"\nexpires = 2026-01-01\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("reason"), "{err}");
        let err = parse(
            "w.toml",
            "[[exceptions]]\nrule = \"X\"\nreason = \"r\"\nexpires = \"soon\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("exceptions[0].expires") && err.contains(":2:"),
            "{err}"
        );
        let err = parse("w.toml", "[rules.X]\nenforcement = \"loud\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("rules.X.enforcement") && err.contains("loud"),
            "{err}"
        );
    }
}
