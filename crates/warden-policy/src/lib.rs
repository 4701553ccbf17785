//! The composition root shared by `warden check` and `warden serve`: a [`Config`] becomes a
//! [`PolicySet`] (engines with their rules resolved, and a revision digest), which turns change
//! sets into a [`Decision`].

pub mod agents;
pub mod config;
pub mod cost;
pub mod drift;
pub mod environments;
pub mod pod_security;
pub mod risk;
pub mod spaces;

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;
use warden_core::decide::{decide, DecideOptions};
use warden_core::exceptions::rule_selector_matches;
use warden_core::{ChangeSet, Decision, Engine, RuleInfo};
use warden_rules::{BuiltinEngine, ResolvedRule, RuleMeta};

pub use config::{Config, ConfigError, FailOn, RegoSettings, SpaceConfig};
pub use spaces::{Layered, Policies};

/// Rego settings given on the command line (they add to, or replace, `[rego]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegoOptions {
    /// `--namespace` (replaces `[rego] namespaces` when given).
    pub namespaces: Vec<String>,
    /// `--all-namespaces`.
    pub all_namespaces: bool,
    /// `--data` (added to `[rego] data`).
    pub data: Vec<std::path::PathBuf>,
}

/// The loaded policy: enabled rules with their configuration, user policies (Kyverno), and
/// its revision.
#[derive(Debug)]
pub struct PolicySet {
    config: Config,
    builtin: BuiltinEngine,
    kyverno: Option<warden_kyverno::engine::KyvernoEngine>,
    rego: Option<warden_rego::RegoEngine>,
    /// OPA bundles the Rego policies and data came from.
    bundles: Vec<warden_core::BundleRevision>,
    /// Policy files that failed to load: each makes every decision `deny` (fail closed).
    load_errors: Vec<warden_core::EngineError>,
    rules: Vec<RuleInfo>,
    revision: String,
    /// The catalog, usage and thresholds decisions are priced with.
    cost: cost::CostPolicy,
}

impl PolicySet {
    /// Resolves the configuration against the rule registry: selection, enforcement,
    /// parameters (names and types checked), and computes the revision.
    pub fn load(config: Config) -> Result<PolicySet, ConfigError> {
        let path = config.source_name();
        let invalid = |key: String, line: usize, message: String| ConfigError::Invalid {
            path: path.clone(),
            line,
            key,
            message,
        };
        let all = warden_rules::all();

        for (label, selectors) in [
            ("select", config.select.as_deref().unwrap_or(&[])),
            ("ignore", &config.ignore[..]),
        ] {
            for s in selectors {
                if !all.iter().any(|r| rule_selector_matches(s, r.id, r.name)) {
                    return Err(invalid(
                        label.to_owned(),
                        0,
                        format!("`{s}` matches no rule (see `warden rules`)"),
                    ));
                }
            }
        }
        let mut settings: HashMap<&str, &config::RuleSettings> = HashMap::new();
        for (key, s) in &config.rules {
            let meta = warden_rules::find(key).ok_or_else(|| {
                invalid(
                    format!("rules.{key}"),
                    s.line,
                    format!("no rule `{key}` (see `warden rules`)"),
                )
            })?;
            for (name, value) in &s.params {
                let param = meta.params.iter().find(|p| p.name == name).ok_or_else(|| {
                    let known: Vec<&str> = meta.params.iter().map(|p| p.name).collect();
                    invalid(
                        format!("rules.{key}.{name}"),
                        s.line,
                        if known.is_empty() {
                            format!("{} takes no parameters", meta.id)
                        } else {
                            format!(
                                "{} has no parameter `{name}`; it takes {}",
                                meta.id,
                                known.join(", ")
                            )
                        },
                    )
                })?;
                if !param.kind.accepts(value) {
                    return Err(invalid(
                        format!("rules.{key}.{name}"),
                        s.line,
                        format!("expected a {}", param.kind.describe()),
                    ));
                }
            }
            if settings.insert(meta.id, s).is_some() {
                return Err(invalid(
                    format!("rules.{key}"),
                    s.line,
                    format!("{} is configured twice (by id and by name)", meta.id),
                ));
            }
        }

        let selected = |r: &RuleMeta| {
            config
                .select
                .as_ref()
                .is_none_or(|sel| sel.iter().any(|s| rule_selector_matches(s, r.id, r.name)))
                && !config
                    .ignore
                    .iter()
                    .any(|s| rule_selector_matches(s, r.id, r.name))
        };
        let resolved: Vec<ResolvedRule> = all
            .iter()
            .copied()
            .filter(|r| selected(r))
            .map(|meta| {
                let s = settings.get(meta.id);
                // A preview rule reports but never blocks until promoted, unless configured.
                let default = match meta.status {
                    warden_rules::RuleStatus::Preview => warden_core::Enforcement::Advisory,
                    warden_rules::RuleStatus::Stable { .. } => meta.enforcement,
                };
                let enforcement = s.and_then(|s| s.enforcement).unwrap_or(default);
                let mut params = serde_json::Map::new();
                for p in meta.params {
                    let shared = || {
                        warden_rules::SHARED_PARAMS
                            .iter()
                            .find(|(rule, param, _)| *rule == meta.id && *param == p.name)
                            .and_then(|(_, _, from)| settings.get(from))
                            .and_then(|from| from.params.get(p.name))
                            .cloned()
                    };
                    let value = s
                        .and_then(|s| s.params.get(p.name))
                        .cloned()
                        .or_else(shared)
                        .or_else(|| meta.param_default(p.name));
                    if let Some(v) = value {
                        params.insert(p.name.to_owned(), v);
                    }
                }
                ResolvedRule {
                    meta,
                    enforcement,
                    unknown_enforcement: config.unknown.for_rule(enforcement),
                    params,
                    why: meta.why(),
                    help_uri: meta.help_uri(),
                }
            })
            .collect();

        let cost = cost::CostPolicy::load(&config.cost, &path)?;
        let revision = revision(&resolved, &config, &cost);
        let builtin = BuiltinEngine::new(resolved);
        let rules = builtin.rules();
        Ok(PolicySet {
            config,
            builtin,
            kyverno: None,
            rego: None,
            bundles: Vec::new(),
            load_errors: Vec::new(),
            rules,
            revision,
            cost,
        })
    }

    /// [`PolicySet::load`], then the user policies of `policy` paths, `[rego]` and `--data`
    /// ([`PolicySet::add_policies`]) when there are any.
    pub fn load_with_policies(
        config: Config,
        policy: &[std::path::PathBuf],
        rego: &RegoOptions,
    ) -> Result<PolicySet, ConfigError> {
        let user_policies = !policy.is_empty()
            || !config.rego.policies.is_empty()
            || !config.rego.data.is_empty()
            || !rego.data.is_empty();
        let mut set = PolicySet::load(config)?;
        if user_policies {
            set.add_policies(policy, rego);
        }
        Ok(set)
    }

    /// Adds Kyverno policies (`ClusterPolicy`, `Policy`, `PolicyException`, and CEL
    /// `ValidatingPolicy`) from files and
    /// folders (`*.yaml`, `*.yml`, `*.json`, recursively). A file that fails to load does not
    /// stop the others; it is recorded and makes every decision `deny` until fixed. The
    /// revision then covers the policy files' contents too.
    pub fn add_kyverno_policies(&mut self, paths: &[std::path::PathBuf]) {
        let mut policies = Vec::new();
        let mut exceptions = Vec::new();
        let mut validating = Vec::new();
        let mut digests = vec![self.revision.clone()];
        for file in policy_files(paths, &mut self.load_errors) {
            digests.push(
                std::fs::read(&file)
                    .map(|b| warden_core::digest::sha256(&b))
                    .unwrap_or_default(),
            );
            let loaded = warden_kyverno::policy::load_file_all(&file);
            policies.extend(loaded.policies);
            exceptions.extend(loaded.exceptions);
            validating.extend(loaded.validating_policies);
            self.load_errors
                .extend(loaded.errors.into_iter().map(|e| warden_core::EngineError {
                    engine: "kyverno".to_owned(),
                    message: format!("policy failed to load: {e}"),
                }));
        }
        let engine = warden_kyverno::engine::KyvernoEngine::new(policies, exceptions)
            .with_validating_policies(validating)
            .with_pod_security(pod_security::BuiltinPodSecurity::shared());
        self.rules.extend(engine.rules());
        self.kyverno = Some(engine);
        self.revision = warden_core::digest::sha256_parts(digests.iter().map(String::as_bytes));
    }

    /// Adds user policies from files and folders that may mix Kyverno YAML and Rego: `.rego`
    /// files (test files excepted) go to the Rego engine, the rest to Kyverno (only when there
    /// is any). The `[rego]` section of the configuration adds its own policies, data and
    /// settings.
    pub fn add_policies(&mut self, paths: &[std::path::PathBuf], rego: &RegoOptions) {
        let mut kyverno = Vec::new();
        let mut rego_paths = self.config.rego.policies.clone();
        for path in paths {
            if path.is_dir() {
                let (files, _) = warden_rego::loader::discover(std::slice::from_ref(path), false);
                if !files.is_empty() {
                    rego_paths.push(path.clone());
                }
                let mut yaml = Vec::new();
                let mut errors = Vec::new();
                yaml.extend(policy_files(std::slice::from_ref(path), &mut errors));
                if !yaml.is_empty() || files.is_empty() {
                    kyverno.push(path.clone());
                }
            } else if warden_rego::loader::is_rego(path) {
                rego_paths.push(path.clone());
            } else {
                kyverno.push(path.clone());
            }
        }
        if !kyverno.is_empty() {
            self.add_kyverno_policies(&kyverno);
        }
        let mut data = self.config.rego.data.clone();
        data.extend(rego.data.iter().cloned());
        if !rego_paths.is_empty() || !data.is_empty() {
            self.add_rego_policies(&rego_paths, &data, rego);
        }
    }

    /// Adds Rego policies (`.rego` files below the paths, `*_test.rego` excepted) with data
    /// (JSON/YAML files, folders, OPA bundles, plus `[rego.values]`). A policy or data file
    /// that fails to load does not stop the others; it is recorded and makes every decision
    /// `deny` until fixed. The revision then covers the policy and data files too.
    pub fn add_rego_policies(
        &mut self,
        paths: &[std::path::PathBuf],
        data: &[std::path::PathBuf],
        options: &RegoOptions,
    ) {
        let settings = &self.config.rego;
        let error = |e: warden_rego::RegoError| warden_core::EngineError {
            engine: "rego".to_owned(),
            message: format!("policy failed to load: {e}"),
        };
        let mut digests = vec![self.revision.clone()];
        let mut set = warden_rego::data::DataSet::default();
        if !settings.values.is_empty() {
            if let Err(e) = set.add_value(
                "warden.toml [rego.values]",
                &[],
                serde_json::Value::Object(settings.values.clone()),
            ) {
                self.load_errors.push(error(e));
            }
            digests.push(serde_json::Value::Object(settings.values.clone()).to_string());
        }
        self.load_errors
            .extend(set.add_paths(data).into_iter().map(error));
        let (files, errors) = warden_rego::loader::discover(paths, false);
        self.load_errors.extend(errors.into_iter().map(error));
        let mut policies = Vec::new();
        for file in &files {
            match warden_rego::PolicyFile::read(file) {
                Ok(p) => {
                    digests.push(warden_core::digest::sha256(p.source.as_bytes()));
                    policies.push(p);
                }
                Err(e) => self.load_errors.push(error(e)),
            }
        }
        for (name, source) in std::mem::take(&mut set.policies) {
            policies.push(warden_rego::PolicyFile::new(name, source));
        }
        for (name, digest) in &set.files {
            digests.push(format!("{name} {digest}"));
        }
        let mut namespaces = warden_rego::Namespaces::default();
        let names: Vec<String> = if options.namespaces.is_empty() {
            settings.namespaces.clone()
        } else {
            options.namespaces.clone()
        };
        if !names.is_empty() {
            namespaces.names = names;
        }
        namespaces.all = options.all_namespaces || settings.all_namespaces;
        digests.push(format!(
            "namespaces={} all={} wall-clock={}",
            namespaces.names.join(","),
            namespaces.all,
            settings.allow_wall_clock
        ));
        let compile_options = warden_rego::Options {
            timeout: std::time::Duration::from_millis(settings.timeout_ms),
            sandbox: warden_rego::extensions::Sandbox {
                wall_clock: settings.allow_wall_clock,
            },
        };
        if policies.is_empty() {
            self.load_errors.push(warden_core::EngineError {
                engine: "rego".to_owned(),
                message: format!(
                    "no Rego policy found in {}",
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let compiled = warden_rego::compile(policies, &set.to_regorus(), &compile_options);
        self.load_errors
            .extend(compiled.errors.iter().cloned().map(error));
        let engine = warden_rego::RegoEngine::new(compiled, &namespaces);
        self.rules.extend(engine.rules());
        self.rego = Some(engine);
        self.bundles = set
            .bundles
            .iter()
            .map(|b| warden_core::BundleRevision {
                path: b.path.clone(),
                revision: b.revision.clone(),
            })
            .collect();
        self.revision = warden_core::digest::sha256_parts(digests.iter().map(String::as_bytes));
    }

    /// `true` when Rego policies are loaded (callers then attach raw plan documents:
    /// [`warden_core::TerraformInfo::document`]).
    #[must_use]
    pub fn wants_raw_documents(&self) -> bool {
        self.rego.is_some()
    }

    /// `true` when a loaded engine may read the decision time beyond its date (Rego's
    /// `time.now_ns`, Kyverno's time functions), so two evaluations of the same change can
    /// differ within a day. Built-in rules read nothing but the change; the configuration's
    /// exceptions read the date.
    #[must_use]
    pub fn reads_clock(&self) -> bool {
        self.rego.is_some() || self.kyverno.is_some()
    }

    /// The raw document of a plan, as the loaded engines that read it want it: converted
    /// once, ahead of evaluation, into the Rego engine's input (only the parts its policies
    /// read), so the text need not be kept, and its Rego rules already evaluated at the
    /// decision time `now` when they do not need the parsed plan (so a caller can do it
    /// while the plan is parsed; [`PolicySet::evaluate`] at the same `now` then only builds
    /// the findings). `None` when no engine reads raw documents.
    #[must_use]
    pub fn prepare_document(
        &self,
        text: &str,
        now: OffsetDateTime,
    ) -> Option<warden_core::RawDocument> {
        self.rego
            .as_ref()
            .map(|rego| rego.prepare_document_at(text, now_ns(now)))
    }

    /// The configuration this set was built from.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The catalog, usage and thresholds this set prices decisions with.
    #[must_use]
    pub fn cost(&self) -> &cost::CostPolicy {
        &self.cost
    }

    /// WD-COST-001 as configured, when enabled.
    /// The resolved WD-RISK-001, or the rule with its defaults when it is not selected (the
    /// `[risk]` thresholds are configuration of their own).
    #[must_use]
    pub fn risk_rule(&self) -> Option<warden_rules::ResolvedRule> {
        self.builtin
            .resolved()
            .iter()
            .find(|r| r.meta.id == risk::RULE_ID)
            .cloned()
            .or_else(|| {
                let meta = warden_rules::find(risk::RULE_ID)?;
                Some(warden_rules::ResolvedRule::defaults(meta, meta.enforcement))
            })
    }

    fn cost_rule(&self) -> Option<&warden_rules::ResolvedRule> {
        self.builtin
            .resolved()
            .iter()
            .find(|r| r.meta.id == cost::RULE_ID)
    }

    /// Every enabled rule.
    #[must_use]
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// `sha256:<hex>` of the Warden version, the enabled rules with their enforcement and
    /// parameters, the exceptions and the unknown-value policy.
    #[must_use]
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// Evaluates change sets (one per input) into one decision, at time `now`.
    #[must_use]
    pub fn evaluate(&self, changes: &[&ChangeSet], now: OffsetDateTime) -> Decision {
        Layered::alone(self).evaluate(changes, now)
    }

    /// Whether one of this set's Rego policies reads `data.warden.risk`.
    fn reads_risk(&self) -> bool {
        self.rego
            .as_ref()
            .is_some_and(warden_rego::RegoEngine::reads_risk)
    }

    /// The findings of every engine on the change sets, with this set's load errors and the
    /// engines' errors.
    fn collect(
        &self,
        changes: &[&ChangeSet],
        now: OffsetDateTime,
        risk: Option<&serde_json::Value>,
        findings: &mut Vec<warden_core::Finding>,
        errors: &mut Vec<warden_core::EngineError>,
    ) {
        errors.extend(self.load_errors.iter().cloned());
        for c in changes {
            if let Err(e) = self.builtin.evaluate(c, findings) {
                errors.push(e);
            }
            if let Some(kyverno) = &self.kyverno {
                if let Err(e) = kyverno.evaluate(c, findings) {
                    errors.push(e);
                }
            }
            if let Some(rego) = &self.rego {
                if let Err(e) = rego.evaluate_with(c, now_ns(now), risk, findings) {
                    errors.push(e);
                }
            }
        }
    }

    /// The decision on collected findings under this set's exceptions and waiver settings.
    fn decide(
        &self,
        changes: &[&ChangeSet],
        findings: Vec<warden_core::Finding>,
        errors: Vec<warden_core::EngineError>,
        now: OffsetDateTime,
        policy_revision: String,
        rules: usize,
    ) -> Decision {
        let evaluated_at = Decision::timestamp(now);
        let options = DecideOptions {
            exceptions: &self.config.exceptions,
            today: now.date(),
            tag_waivers: self.config.tag_waivers,
            policy_revision,
            rules,
            evaluated_at,
            duration_ms: 0.0,
            version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        decide(changes, findings, errors, &options)
    }
}

/// A plan that says it errored is incomplete: fail closed, whoever asks.
fn errored_plans(changes: &[&ChangeSet]) -> Vec<warden_core::EngineError> {
    changes
        .iter()
        .filter(|c| c.terraform.as_ref().is_some_and(|t| t.errored))
        .map(|c| warden_core::EngineError {
            engine: "input".to_owned(),
            message: format!(
                "{}: the plan says it errored (`errored: true`); its resource changes are incomplete, so the change cannot be allowed",
                c.input.path
            ),
        })
        .collect()
}

/// Fills in the line of each finding's resource in pretty-printed plans (one pass per input).
pub fn locate_lines(decision: &mut Decision, input_name: &str, bytes: &[u8]) {
    let wanted: HashSet<&str> = decision
        .findings
        .iter()
        .chain(decision.waived.iter().map(|w| &w.finding))
        .filter(|f| f.location.file.as_deref() == Some(input_name))
        .map(|f| f.resource.as_str())
        .collect();
    let lines = warden_core::inputs::terraform::locate_lines(bytes, &wanted);
    if lines.is_empty() {
        return;
    }
    let findings = decision
        .findings
        .iter_mut()
        .chain(decision.waived.iter_mut().map(|w| &mut w.finding));
    for f in findings.filter(|f| f.location.file.as_deref() == Some(input_name)) {
        f.location.line = lines.get(&f.resource).copied();
    }
}

/// The policy files below the given paths, sorted; unreadable paths become load errors.
fn policy_files(
    paths: &[std::path::PathBuf],
    errors: &mut Vec<warden_core::EngineError>,
) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        match warden_core::inputs::discover(std::slice::from_ref(path)) {
            Ok(files) => out.extend(files),
            Err(e) => errors.push(warden_core::EngineError {
                engine: "kyverno".to_owned(),
                message: e.to_string(),
            }),
        }
    }
    out
}

fn revision(rules: &[ResolvedRule], config: &Config, cost: &cost::CostPolicy) -> String {
    let mut parts: Vec<String> = vec![format!("warden {}", env!("CARGO_PKG_VERSION"))];
    for r in rules {
        parts.push(format!(
            "{} {} {} {}",
            r.meta.id,
            r.enforcement,
            r.unknown_enforcement,
            serde_json::Value::Object(r.params.clone())
        ));
    }
    for e in &config.exceptions {
        parts.push(serde_json::to_string(e).unwrap_or_default());
    }
    parts.push(format!("tag-waivers={}", config.tag_waivers));
    parts.extend(cost.revision_parts());
    parts.push(config.risk.revision_part());
    warden_core::digest::sha256_parts(parts.iter().map(String::as_bytes))
}

/// A decision time as `time.now_ns()` gives it.
fn now_ns(now: OffsetDateTime) -> i64 {
    i64::try_from(now.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_changes_the_revision() {
        let a = PolicySet::load(Config::default()).unwrap();
        let b =
            PolicySet::load(config::parse("w.toml", "ignore = [\"WD-AWS-001\"]").unwrap()).unwrap();
        assert_ne!(a.revision(), b.revision());
        assert_eq!(
            a.revision(),
            PolicySet::load(Config::default()).unwrap().revision()
        );
        assert_eq!(a.rules().len(), warden_rules::all().len());
        assert_eq!(b.rules().len() + 1, a.rules().len());
    }

    #[test]
    fn shared_parameters_follow_their_source_rule() {
        let gov9 = |toml: &str| {
            let set = PolicySet::load(config::parse("w.toml", toml).unwrap()).unwrap();
            let rule = set
                .builtin
                .resolved()
                .iter()
                .find(|r| r.meta.id == "WD-GOV-009")
                .unwrap();
            rule.params["forbidden"].clone()
        };
        assert_eq!(
            gov9("[rules.WD-GOV-002]\nforbidden = [\"p5*\"]\n"),
            serde_json::json!(["p5*"])
        );
        let own = "[rules.WD-GOV-002]\nforbidden = [\"p5*\"]\n[rules.WD-GOV-009]\nforbidden = []\n";
        assert_eq!(gov9(own), serde_json::json!([]));
    }

    #[test]
    fn a_plan_that_errored_is_denied() {
        let plan = br#"{"format_version":"1.2","resource_changes":[],"errored":true}"#;
        let input = warden_core::inputs::InputBytes {
            name: "p.json".into(),
            bytes: plan.to_vec(),
        };
        let changes = warden_core::inputs::parse(&input).unwrap();
        let decision = PolicySet::load(Config::default())
            .unwrap()
            .evaluate(&[&changes], OffsetDateTime::UNIX_EPOCH);
        assert_eq!(decision.outcome, warden_core::Outcome::Deny);
        assert!(
            decision.errors[0].message.contains("errored"),
            "{:?}",
            decision.errors
        );
    }

    #[test]
    fn unknown_rules_and_parameters_are_errors() {
        let load = |t: &str| {
            PolicySet::load(config::parse("w.toml", t).unwrap())
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        assert!(load("[rules.WD-NOPE-001]\n").contains("no rule `WD-NOPE-001`"));
        assert!(load("[rules.WD-AWS-001]\ncolour = 1\n").contains("takes no parameters"));
        assert!(load("select = [\"WD-XYZ\"]\n").contains("matches no rule"));
    }
}
