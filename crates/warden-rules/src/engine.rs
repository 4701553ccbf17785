//! The built-in engine: rules indexed by resource kind, run over a change set.

use std::collections::HashMap;

use warden_core::{ChangeSet, Enforcement, Engine, EngineError, Finding, Mode, Resource, RuleInfo};

use crate::context::{CheckContext, Index, Report, ResolvedRule};
use crate::rule::{Check, FixAvailability};

/// Below this many resources, evaluation stays on one thread.
const PARALLEL_THRESHOLD: usize = 4_000;

/// The built-in rules that are enabled, with their configuration, indexed by kind.
#[derive(Debug, Default)]
pub struct BuiltinEngine {
    rules: Vec<ResolvedRule>,
    by_kind: HashMap<&'static str, Vec<usize>>,
    every_kind: Vec<usize>,
    change_set: Vec<usize>,
}

impl BuiltinEngine {
    /// An engine over these rules. Evaluation costs O(resources × rules for that kind).
    #[must_use]
    pub fn new(rules: Vec<ResolvedRule>) -> Self {
        let mut engine = BuiltinEngine {
            rules,
            ..BuiltinEngine::default()
        };
        for (i, rule) in engine.rules.iter().enumerate() {
            match rule.meta.check {
                Check::ChangeSet(_) => engine.change_set.push(i),
                Check::Derived => {}
                Check::Resource(_) if rule.meta.kinds.is_empty() => engine.every_kind.push(i),
                Check::Resource(_) => {
                    for kind in rule.meta.kinds {
                        engine.by_kind.entry(kind).or_default().push(i);
                    }
                }
            }
        }
        engine
    }

    /// The enabled rules.
    #[must_use]
    pub fn resolved(&self) -> &[ResolvedRule] {
        &self.rules
    }

    fn evaluate_resources(
        &self,
        changes: &ChangeSet,
        index: &Index,
        resources: &[Resource],
        out: &mut Vec<Finding>,
    ) {
        let mut data_key = String::new();
        for resource in resources {
            let kind_key = match (resource.mode, resource.action.is_live()) {
                (Mode::Managed, true) => resource.kind.as_str(),
                (Mode::Data, _) => {
                    data_key.clear();
                    data_key.push_str("data.");
                    data_key.push_str(&resource.kind);
                    data_key.as_str()
                }
                (Mode::Managed, false) => continue,
            };
            let specific = self.by_kind.get(kind_key).map_or(&[][..], Vec::as_slice);
            let general: &[usize] = if resource.mode == Mode::Managed {
                &self.every_kind
            } else {
                &[]
            };
            for &i in specific.iter().chain(general) {
                let Some(rule) = self.rules.get(i) else {
                    continue;
                };
                if let Check::Resource(check) = rule.meta.check {
                    let cx = CheckContext::new(changes, index, &rule.params);
                    check(resource, &cx, &mut Report::new(rule, out, changes));
                }
            }
        }
    }
}

impl Engine for BuiltinEngine {
    fn name(&self) -> &'static str {
        "builtin"
    }

    fn evaluate(&self, changes: &ChangeSet, out: &mut Vec<Finding>) -> Result<(), EngineError> {
        let index = Index::default();
        let resources = changes.resources.as_slice();
        if resources.len() >= PARALLEL_THRESHOLD {
            let (left, right) = resources.split_at(resources.len() / 2);
            let mut other = Vec::new();
            std::thread::scope(|scope| {
                let index = &index;
                scope.spawn(|| self.evaluate_resources(changes, index, right, &mut other));
                self.evaluate_resources(changes, index, left, out);
            });
            out.append(&mut other);
        } else {
            self.evaluate_resources(changes, &index, resources, out);
        }
        for &i in &self.change_set {
            let Some(rule) = self.rules.get(i) else {
                continue;
            };
            if let Check::ChangeSet(check) = rule.meta.check {
                let cx = CheckContext::new(changes, &index, &rule.params);
                check(changes, &cx, &mut Report::new(rule, out, changes));
            }
        }
        Ok(())
    }

    fn rules(&self) -> Vec<RuleInfo> {
        self.rules.iter().map(rule_info).collect()
    }
}

/// The renderer-facing description of a resolved rule.
#[must_use]
pub fn rule_info(rule: &ResolvedRule) -> RuleInfo {
    let meta = rule.meta;
    RuleInfo {
        id: meta.id.to_owned(),
        name: meta.name.to_owned(),
        title: meta.title.to_owned(),
        severity: meta.severity,
        default_enforcement: meta.enforcement,
        enforcement: rule.enforcement,
        kinds: meta.kinds.iter().map(|k| (*k).to_owned()).collect(),
        why: rule.why.clone(),
        docs: meta.markdown(),
        help_uri: Some(rule.help_uri.clone()),
        aliases: meta.aliases.iter().map(|a| (*a).to_owned()).collect(),
        fixable: meta.fix != FixAvailability::None,
    }
}

/// How findings on values known only after apply are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownPolicy {
    /// For rules whose enforcement is `deny`.
    pub deny_rules: Enforcement,
    /// For every other rule.
    pub other_rules: Enforcement,
}

impl Default for UnknownPolicy {
    fn default() -> Self {
        UnknownPolicy {
            deny_rules: Enforcement::RequireApproval,
            other_rules: Enforcement::Warn,
        }
    }
}

impl UnknownPolicy {
    /// The enforcement of an unknown finding of a rule enforced at `enforcement`; never
    /// stricter than the rule itself.
    #[must_use]
    pub fn for_rule(self, enforcement: Enforcement) -> Enforcement {
        let level = if enforcement == Enforcement::Deny {
            self.deny_rules
        } else {
            self.other_rules
        };
        level.min(enforcement)
    }
}
