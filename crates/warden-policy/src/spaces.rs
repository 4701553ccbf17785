//! Spaces: each space's policy layered over the account's.
//!
//! The account's policy (the top of `warden.toml`, `--policy`) runs on every change in every
//! space, with the account's settings. A space (`[spaces.<name>]`) adds a second layer: more
//! built-in rules, stricter enforcement, other parameters, its own Kyverno or Rego policies.
//! The layer's findings are added to the account's, and where both report the same finding
//! the stricter enforcement wins; nothing a space says can remove or lower an account
//! finding (loosening takes a governed exception). A space that tries — a lower enforcement
//! than the account's, or `ignore` — is a configuration error naming the key, not a silent
//! no-op.
//!
//! [`Policies`] holds the account's set and every space's layer, loaded together so that a
//! reload replaces them at once; [`Layered`] is the view one decision uses.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use warden_core::{ChangeSet, Decision, EngineError, Finding};

use crate::config::{Config, ConfigError, SpaceConfig};
use crate::{errored_plans, PolicySet, RegoOptions};

/// The account's policy set and each configured space's layer over it.
#[derive(Debug)]
pub struct Policies {
    account: PolicySet,
    spaces: BTreeMap<String, Space>,
    revision: String,
    watched: Vec<PathBuf>,
}

#[derive(Debug)]
struct Space {
    config: SpaceConfig,
    /// `None` when the space adds no rule and no policy (it only sets approval rules).
    layer: Option<PolicySet>,
    /// Revision of the account's set and this layer together.
    revision: String,
}

impl Policies {
    /// Loads the account's policy (the configuration, plus user policies from `policy`
    /// paths and `[rego]`) and the layer of every `[spaces.<name>]`. Rules, enforcement and
    /// parameters are checked (a space may only tighten); a policy file that fails to load
    /// is kept as a load error, as [`PolicySet::add_policies`] does ([`Policies::load_errors`]).
    pub fn load(
        config: Config,
        policy: &[PathBuf],
        rego: &RegoOptions,
    ) -> Result<Policies, ConfigError> {
        let mut watched: Vec<PathBuf> = config.path.iter().cloned().collect();
        watched.extend(policy.iter().cloned());
        watched.extend(config.rego.policies.iter().cloned());
        watched.extend(config.rego.data.iter().cloned());
        watched.extend(rego.data.iter().cloned());
        for s in config.spaces.values() {
            watched.extend(s.policies.iter().chain(&s.data).cloned());
        }
        watched.extend(
            config
                .cost
                .catalog
                .iter()
                .chain(&config.cost.usage)
                .cloned(),
        );
        let spaces_config = config.spaces.clone();
        let account = PolicySet::load_with_policies(config, policy, rego)?;
        let mut spaces = BTreeMap::new();
        for (name, space) in spaces_config {
            let layer = layer(&account, &name, &space, rego)?;
            let mut revision = match &layer {
                Some(l) => warden_core::digest::sha256_parts(
                    [account.revision(), l.revision()].map(str::as_bytes),
                ),
                None => account.revision().to_owned(),
            };
            if !space.cost.is_empty() {
                let cost = space.cost.revision_part();
                revision = warden_core::digest::sha256_parts(
                    [revision.as_str(), cost.as_str()].map(str::as_bytes),
                );
            }
            spaces.insert(
                name,
                Space {
                    config: space,
                    layer,
                    revision,
                },
            );
        }
        Ok(Policies::assemble(account, spaces, watched))
    }

    /// One policy set for every space (no layers).
    #[must_use]
    pub fn single(account: PolicySet) -> Policies {
        let watched = account.config().path.iter().cloned().collect();
        Policies::assemble(account, BTreeMap::new(), watched)
    }

    fn assemble(
        account: PolicySet,
        spaces: BTreeMap<String, Space>,
        watched: Vec<PathBuf>,
    ) -> Policies {
        let mut parts = vec![account.revision().to_owned()];
        parts.extend(spaces.iter().map(|(n, s)| format!("{n}={}", s.revision)));
        let agents = account.config().agents.revision_part();
        if !agents.is_empty() {
            parts.push(format!("agents={agents}"));
        }
        Policies {
            revision: warden_core::digest::sha256_parts(parts.iter().map(String::as_bytes)),
            account,
            spaces,
            watched,
        }
    }

    /// The account's policy set.
    #[must_use]
    pub fn account(&self) -> &PolicySet {
        &self.account
    }

    /// The configured spaces, by name.
    pub fn space_configs(&self) -> impl Iterator<Item = (&str, &SpaceConfig)> {
        self.spaces.iter().map(|(n, s)| (n.as_str(), &s.config))
    }

    /// The policy a decision in `space` is made under: the account's, plus the space's layer
    /// when it has one (a space not in the configuration gets the account's alone).
    #[must_use]
    pub fn layered(&self, space: &str) -> Layered<'_> {
        match self.spaces.get_key_value(space) {
            Some((name, s)) => Layered {
                account: &self.account,
                space: s.layer.as_ref(),
                revision: &s.revision,
                space_cost: Some((name, &s.config.cost)),
            },
            None => Layered::alone(&self.account),
        }
    }

    /// Digest of the account's set and every space's layer.
    #[must_use]
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// Policy and data files of any layer that failed to load.
    #[must_use]
    pub fn load_errors(&self) -> Vec<EngineError> {
        let layers = self.spaces.values().filter_map(|s| s.layer.as_ref());
        std::iter::once(&self.account)
            .chain(layers)
            .flat_map(|p| p.load_errors.iter().cloned())
            .collect()
    }

    /// The configuration file and the policy and data paths these policies were read from:
    /// what [`fingerprint`] watches for a reload.
    #[must_use]
    pub fn watched_paths(&self) -> &[PathBuf] {
        &self.watched
    }
}

/// The policy one decision is made under: the account's set and, in a space with one, the
/// space's layer.
#[derive(Debug, Clone, Copy)]
pub struct Layered<'a> {
    account: &'a PolicySet,
    space: Option<&'a PolicySet>,
    revision: &'a str,
    /// The space's name and cost thresholds.
    space_cost: Option<(&'a str, &'a crate::cost::Thresholds)>,
}

impl<'a> Layered<'a> {
    /// The account's set with no space layer.
    #[must_use]
    pub fn alone(account: &'a PolicySet) -> Layered<'a> {
        Layered {
            account,
            space: None,
            revision: account.revision(),
            space_cost: None,
        }
    }

    /// The revision decisions record: the account's when the space has no layer, else a
    /// digest of both.
    #[must_use]
    pub fn revision(&self) -> &str {
        self.revision
    }

    /// `true` when a layer reads raw plan documents (Rego).
    #[must_use]
    pub fn wants_raw_documents(&self) -> bool {
        self.account.wants_raw_documents() || self.space.is_some_and(PolicySet::wants_raw_documents)
    }

    /// `true` when a layer's engines may read the decision time beyond its date
    /// ([`PolicySet::reads_clock`]): the same change evaluated on the same day under this
    /// policy may then get another decision.
    #[must_use]
    pub fn reads_clock(&self) -> bool {
        self.account.reads_clock() || self.space.is_some_and(PolicySet::reads_clock)
    }

    /// The raw document of a plan, prepared for the one layer that reads it, or the text
    /// itself when both do (each converts it).
    #[must_use]
    pub fn prepare_document(
        &self,
        text: &str,
        now: OffsetDateTime,
    ) -> Option<warden_core::RawDocument> {
        let space = self.space.filter(|s| s.wants_raw_documents());
        match (self.account.wants_raw_documents(), space) {
            (true, Some(_)) => Some(warden_core::RawDocument::new(text)),
            (true, None) => self.account.prepare_document(text, now),
            (false, Some(space)) => space.prepare_document(text, now),
            (false, None) => None,
        }
    }

    /// The drift report of a comparison under both layers at time `now` (see
    /// [`crate::drift::verdict`]; `WD-DRIFT-001` as the account configures it).
    #[must_use]
    pub fn drift(
        &self,
        comparison: warden_core::drift::Comparison,
        now: OffsetDateTime,
    ) -> warden_core::drift::DriftReport {
        crate::drift::verdict(
            comparison,
            |change| self.evaluate(&[change], now),
            self.account.rules(),
        )
    }

    /// Evaluates change sets under both layers into one decision at time `now`: the
    /// account's findings, the space's added, one finding per rule, resource, attribute and
    /// message at the stricter enforcement; exceptions and waiver tags as the account
    /// configures them.
    #[must_use]
    pub fn evaluate(&self, changes: &[&ChangeSet], now: OffsetDateTime) -> Decision {
        let start = std::time::Instant::now();
        let mut findings = Vec::new();
        let mut errors = errored_plans(changes);
        let estimate = warden_core::cost::has_priced_kinds(changes)
            .then(|| self.account.cost().estimate(changes));
        let reads_risk = self.account.reads_risk() || self.space.is_some_and(PolicySet::reads_risk);
        let risk = reads_risk
            .then(|| {
                let risk = crate::risk::before_engines(
                    changes,
                    estimate.as_ref().filter(|e| e.is_relevant()),
                    self.space_name(changes),
                    &self.account.config.risk,
                    now,
                );
                serde_json::to_value(risk).ok()
            })
            .flatten();
        self.account
            .collect(changes, now, risk.as_ref(), &mut findings, &mut errors);
        let mut rules = self.account.rules.len();
        let mut bundles = self.account.bundles.clone();
        if let Some(space) = self.space {
            let mut added = Vec::new();
            space.collect(changes, now, risk.as_ref(), &mut added, &mut errors);
            merge_stricter(&mut findings, added);
            rules += space.rules.len();
            bundles.extend(space.bundles.iter().cloned());
        }
        let cost = estimate.and_then(|e| self.cost(changes, e, &mut findings));
        let mut decision = self.account.decide(
            changes,
            findings,
            errors,
            now,
            self.revision.to_owned(),
            rules,
        );
        decision.bundles = bundles;
        decision.cost = cost;
        self.assess_risk(changes, now, &mut decision);
        decision.duration_ms = (start.elapsed().as_secs_f64() * 1e6).round() / 1e3;
        decision
    }

    /// The space the change is decided in: the layer's, else the one its context names.
    fn space_name<'c>(&'c self, changes: &[&'c ChangeSet]) -> Option<&'c str> {
        self.space_cost
            .map(|(name, _)| name)
            .or_else(|| changes.first().and_then(|c| c.context.space.as_deref()))
    }

    /// Sets the decision's risk score: the change's factors and those of its context (the
    /// actor kind the change sets carry, the decision time against the change window), and
    /// WD-RISK-001 by the `[risk]` thresholds.
    fn assess_risk(&self, changes: &[&ChangeSet], now: OffsetDateTime, decision: &mut Decision) {
        let settings = &self.account.config.risk;
        let unknown = decision.findings.iter().filter(|f| f.unknown).count();
        let mut factors = crate::risk::change_factors(
            changes,
            decision.cost.as_ref(),
            unknown,
            self.space_name(changes),
            settings,
        );
        let kind = changes
            .first()
            .map_or(warden_core::ActorKind::Human, |c| c.context.actor_kind);
        factors.extend(crate::risk::context_factors(settings, kind, now));
        crate::risk::apply(decision, settings, factors, || self.account.risk_rule());
    }

    /// The WD-COST-001 finding on the estimate (made before the engines ran) under the
    /// account's thresholds (when the rule is enabled there) and the space's; the estimate
    /// back, or `None` when it tells nothing.
    fn cost(
        &self,
        changes: &[&ChangeSet],
        mut estimate: warden_core::cost::CostEstimate,
        findings: &mut Vec<Finding>,
    ) -> Option<warden_core::cost::CostEstimate> {
        let policy = self.account.cost();
        let account_rule = self.account.cost_rule();
        let mut limits = crate::cost::Effective::default();
        if account_rule.is_some() {
            limits = limits.with("cost", &policy.thresholds());
        }
        if let Some((name, thresholds)) = self.space_cost {
            limits = limits.with(&format!("spaces.{name}.cost"), thresholds);
        }
        let unknown = self.account.config.unknown;
        let mut rule = account_rule
            .cloned()
            .or_else(|| crate::cost::default_rule(unknown));
        // A space may raise the rule's enforcement, as for any rule.
        if let (Some(rule), Some(raised)) = (&mut rule, self.space.and_then(PolicySet::cost_rule)) {
            rule.enforcement = rule.enforcement.max(raised.enforcement);
            rule.unknown_enforcement = rule.unknown_enforcement.max(raised.unknown_enforcement);
        }
        if let Some(rule) = rule {
            crate::cost::check(&mut estimate, &limits, &rule, unknown, changes, findings);
        }
        estimate.is_relevant().then_some(estimate)
    }
}

/// Adds the space's findings to the account's: one that repeats an account finding (same
/// rule, resource, attribute, message) only raises its enforcement.
fn merge_stricter(findings: &mut Vec<Finding>, added: Vec<Finding>) {
    type Key = (String, String, Option<String>, String);
    let key = |f: &Finding| -> Key {
        (
            f.rule_id.clone(),
            f.resource.clone(),
            f.attribute.clone(),
            f.message.clone(),
        )
    };
    let mut index: HashMap<Key, usize> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| (key(f), i))
        .collect();
    for f in added {
        match index.get(&key(&f)) {
            Some(&i) => {
                let kept = &mut findings[i];
                kept.enforcement = kept.enforcement.max(f.enforcement);
            }
            None => {
                index.insert(key(&f), findings.len());
                findings.push(f);
            }
        }
    }
}

/// The layer of one space: the rules it selects or configures and its policies, checked to
/// tighten only. `None` when it adds nothing.
fn layer(
    account: &PolicySet,
    name: &str,
    space: &SpaceConfig,
    rego: &RegoOptions,
) -> Result<Option<PolicySet>, ConfigError> {
    let path = account.config.source_name();
    let invalid = |key: String, line: usize, message: String| ConfigError::Invalid {
        path: path.clone(),
        line,
        key,
        message,
    };
    if space.policies.is_empty() && !space.data.is_empty() {
        return Err(invalid(
            format!("spaces.{name}.data"),
            space.line,
            "this space has no `policies` to read the data".into(),
        ));
    }
    if space.select.is_empty() && space.rules.is_empty() && space.policies.is_empty() {
        return Ok(None);
    }
    let account_rules: HashMap<&str, &warden_rules::ResolvedRule> = account
        .builtin
        .resolved()
        .iter()
        .map(|r| (r.meta.id, r))
        .collect();
    let mut rules = space.rules.clone();
    for (key, settings) in &mut rules {
        let Some(meta) = warden_rules::find(key) else {
            return Err(invalid(
                format!("spaces.{name}.rules.{key}"),
                settings.line,
                format!("no rule `{key}` (see `warden rules`)"),
            ));
        };
        let Some(theirs) = account_rules.get(meta.id) else {
            continue; // a rule the account does not run: the space adds it
        };
        // The same rule, stricter: parameters the space leaves out are the account's.
        for (param, value) in &theirs.params {
            settings
                .params
                .entry(param.clone())
                .or_insert_with(|| value.clone());
        }
        match settings.enforcement {
            Some(mine) if mine < theirs.enforcement => {
                return Err(invalid(
                    format!("spaces.{name}.rules.{key}.enforcement"),
                    settings.line,
                    format!(
                        "`{mine}` is looser than the account's `{}` for {}: a space can only tighten (the account's rule still applies); to let a finding through, request a governed exception",
                        theirs.enforcement, meta.id
                    ),
                ));
            }
            Some(_) => {}
            // Other parameters at the account's enforcement, unless raised.
            None => settings.enforcement = Some(theirs.enforcement),
        }
    }
    let mut select = space.select.clone();
    select.extend(rules.keys().cloned());
    let account_config = &account.config;
    let mut rego_settings = account_config.rego.clone();
    rego_settings.policies = Vec::new();
    rego_settings.data.extend(space.data.iter().cloned());
    let config = Config {
        path: account_config.path.clone(),
        select: Some(select),
        ignore: Vec::new(),
        fail_on: account_config.fail_on,
        tag_waivers: account_config.tag_waivers,
        unknown: account_config.unknown,
        rules,
        exceptions: account_config.exceptions.clone(),
        rego: rego_settings,
        spaces: BTreeMap::new(),
        // The decision is priced with the account's catalog and usage (`Layered::cost`).
        cost: crate::cost::CostSettings::default(),
        agents: account_config.agents.clone(),
        risk: account_config.risk.clone(),
        // Scans are the server's, configured once for the account.
        drift: crate::drift::DriftSettings::default(),
        environments: account_config.environments.clone(),
    };
    let mut set = PolicySet::load(config).map_err(|e| match e {
        ConfigError::Invalid {
            path,
            line,
            key,
            message,
        } => ConfigError::Invalid {
            path,
            line: if line == 0 { space.line } else { line },
            key: format!("spaces.{name}.{key}"),
            message,
        },
        other => other,
    })?;
    if !space.policies.is_empty() {
        let options = RegoOptions {
            namespaces: rego.namespaces.clone(),
            all_namespaces: rego.all_namespaces,
            data: Vec::new(),
        };
        set.add_policies(&space.policies, &options);
    }
    Ok(Some(set))
}

/// A digest of the files below `paths` (names, sizes, modification times; hidden entries
/// such as `.git` skipped): it changes when a policy, data or configuration file is added,
/// removed or written, so a server can poll it cheaply and reload only then.
#[must_use]
pub fn fingerprint(paths: &[PathBuf]) -> String {
    let mut parts = Vec::new();
    for p in paths {
        fingerprint_into(p, &mut parts);
    }
    warden_core::digest::sha256_parts(parts.iter().map(String::as_bytes))
}

fn fingerprint_into(path: &Path, parts: &mut Vec<String>) {
    let Ok(meta) = std::fs::metadata(path) else {
        parts.push(format!("{} missing", path.display()));
        return;
    };
    if meta.is_dir() {
        for entry in warden_core::inputs::visible_entries(path).unwrap_or_default() {
            fingerprint_into(&entry, parts);
        }
        return;
    }
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    parts.push(format!("{} {} {modified}", path.display(), meta.len()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    fn policies(toml: &str) -> Result<Policies, ConfigError> {
        Policies::load(
            config::parse("warden.toml", toml)?,
            &[],
            &RegoOptions::default(),
        )
    }

    fn plan(resources: &str) -> ChangeSet {
        let text = format!(r#"{{"format_version":"1.2","resource_changes":[{resources}]}}"#);
        warden_core::inputs::parse(&warden_core::inputs::InputBytes {
            name: "plan.json".into(),
            bytes: text.into_bytes(),
        })
        .unwrap()
    }

    /// An S3 bucket with a public-read ACL and no tags.
    fn public_bucket() -> ChangeSet {
        plan(
            r#"{"address":"aws_s3_bucket.b","mode":"managed","type":"aws_s3_bucket","name":"b",
               "provider_name":"registry.terraform.io/hashicorp/aws",
               "change":{"actions":["create"],"before":null,
                 "after":{"bucket":"b","acl":"public-read","tags":{}},"after_unknown":{}}}"#,
        )
    }

    fn outcome_and_ids(decision: &Decision) -> (warden_core::Outcome, Vec<String>) {
        let mut ids: Vec<String> = decision
            .findings
            .iter()
            .map(|f| format!("{} {}", f.rule_id, f.enforcement))
            .collect();
        ids.sort();
        (decision.outcome, ids)
    }

    #[test]
    fn a_space_without_a_layer_decides_as_the_account() {
        let p = policies("[spaces.dev]\napprovals-required = 2\n").unwrap();
        let change = public_bucket();
        let now = OffsetDateTime::UNIX_EPOCH;
        let account = p.account().evaluate(&[&change], now);
        for space in ["dev", "not-configured"] {
            let layered = p.layered(space);
            assert_eq!(layered.revision(), p.account().revision());
            let d = layered.evaluate(&[&change], now);
            assert_eq!(outcome_and_ids(&d), outcome_and_ids(&account));
        }
    }

    #[test]
    fn a_space_raises_enforcement_and_adds_rules_without_duplicates() {
        // WD-GOV-003 (required tags) is off in the account, on in prod.
        let toml = r#"
ignore = ["WD-GOV-003"]
[spaces.prod.rules.WD-GOV-003]
tags = { owner = "" }
[spaces.prod.rules.WD-AWS-001]
enforcement = "deny"
"#;
        let p = policies(toml).unwrap();
        let change = public_bucket();
        let now = OffsetDateTime::UNIX_EPOCH;
        let account = p.account().evaluate(&[&change], now);
        let prod = p.layered("prod").evaluate(&[&change], now);
        assert_ne!(p.layered("prod").revision(), p.account().revision());
        assert_eq!(prod.policy_revision, p.layered("prod").revision());

        let count = |d: &Decision, id: &str| d.findings.iter().filter(|f| f.rule_id == id).count();
        assert_eq!(count(&account, "WD-GOV-003"), 0);
        assert!(
            count(&prod, "WD-GOV-003") > 0,
            "{:?}",
            outcome_and_ids(&prod)
        );
        // The account's WD-AWS-001 finding once, at the space's stricter enforcement.
        assert_eq!(count(&prod, "WD-AWS-001"), count(&account, "WD-AWS-001"));
        assert!(count(&prod, "WD-AWS-001") > 0);
        assert!(prod
            .findings
            .iter()
            .filter(|f| f.rule_id == "WD-AWS-001")
            .all(|f| f.enforcement == warden_core::Enforcement::Deny));
        assert_eq!(prod.outcome, warden_core::Outcome::Deny);
        // Every account finding is still there.
        for f in &account.findings {
            assert!(
                prod.findings
                    .iter()
                    .any(|g| g.rule_id == f.rule_id && g.resource == f.resource),
                "{} lost in prod",
                f.rule_id
            );
        }
    }

    #[test]
    fn a_space_cannot_loosen() {
        let err = |toml: &str| policies(toml).map(|_| ()).unwrap_err().to_string();
        let e = err("[rules.WD-AWS-001]\nenforcement = \"deny\"\n[spaces.dev.rules.WD-AWS-001]\nenforcement = \"warn\"\n");
        assert!(
            e.contains("spaces.dev.rules.WD-AWS-001.enforcement")
                && e.contains("looser")
                && e.contains(":3:"),
            "{e}"
        );
        let e = err("[spaces.dev]\nignore = [\"WD-AWS-001\"]\n");
        assert!(
            e.contains("spaces.dev.ignore") && e.contains("exception"),
            "{e}"
        );
        let e = err("[spaces.dev]\nexceptions = []\n");
        assert!(e.contains("spaces.dev.exceptions"), "{e}");
        let e = err("[spaces.dev.rules.WD-NOPE-001]\n");
        assert!(e.contains("spaces.dev.rules.WD-NOPE-001"), "{e}");
        let e = err("[spaces.dev]\nselect = [\"WD-XYZ\"]\n");
        assert!(e.contains("spaces.dev.select"), "{e}");
        let e = err("[spaces.dev]\ndata = [\"d.json\"]\n");
        assert!(e.contains("spaces.dev.data"), "{e}");
        // Raising, or the same, is fine.
        policies("[rules.WD-AWS-001]\nenforcement = \"warn\"\n[spaces.dev.rules.WD-AWS-001]\nenforcement = \"require_approval\"\n").unwrap();
    }

    #[test]
    fn space_policies_are_added_and_revisioned() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("prod.rego"),
            "package main\nimport rego.v1\ndeny contains \"no buckets in prod\" if { some r in input.resource_changes; r.type == \"aws_s3_bucket\" }\n",
        )
        .unwrap();
        let toml = format!(
            "[spaces.prod]\npolicies = [{:?}]\n",
            dir.path().join("prod.rego").display().to_string()
        );
        let p = policies(&toml).unwrap();
        assert!(p.load_errors().is_empty(), "{:?}", p.load_errors());
        let change = public_bucket();
        let now = OffsetDateTime::UNIX_EPOCH;
        let prod = p.layered("prod");
        assert!(prod.wants_raw_documents());
        assert!(!p.layered("dev").wants_raw_documents());
        let mut prepared = public_bucket();
        let text = r#"{"format_version":"1.2","resource_changes":[{"address":"aws_s3_bucket.b","type":"aws_s3_bucket"}]}"#;
        prepared.terraform.as_mut().unwrap().document = prod.prepare_document(text, now);
        let d = prod.evaluate(&[&prepared], now);
        assert!(
            d.findings.iter().any(|f| f.message == "no buckets in prod"),
            "{:?}",
            outcome_and_ids(&d)
        );
        let dev = p.layered("dev").evaluate(&[&change], now);
        assert!(!dev
            .findings
            .iter()
            .any(|f| f.message == "no buckets in prod"));

        let before = fingerprint(p.watched_paths());
        assert_eq!(before, fingerprint(p.watched_paths()));
        std::fs::write(dir.path().join("prod.rego"), "package main\n").unwrap();
        assert_ne!(before, fingerprint(p.watched_paths()));
    }
}
