//! What a check function gets: the change set, cross-resource lookups, its parameters, and a
//! report to write findings into.

use std::collections::HashMap;
use std::sync::OnceLock;

use warden_core::{
    Action, ChangeSet, Enforcement, Finding, Fix, Location, Mode, ProviderConfig, Resource,
    ResourceConfig,
};

use crate::rule::RuleMeta;

/// Lookups over the resources of a change set, built on first use and shared by all rules.
#[derive(Debug, Default)]
pub struct Index {
    by_kind: OnceLock<HashMap<String, Vec<usize>>>,
}

/// Read-only context of one rule's evaluation.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// The change set under evaluation.
    pub changes: &'a ChangeSet,
    index: &'a Index,
    params: &'a serde_json::Map<String, serde_json::Value>,
}

impl<'a> CheckContext<'a> {
    /// A context over `changes` with the rule's resolved parameters.
    #[must_use]
    pub fn new(
        changes: &'a ChangeSet,
        index: &'a Index,
        params: &'a serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        CheckContext {
            changes,
            index,
            params,
        }
    }

    /// The configuration block of a resource (Terraform plans only).
    #[must_use]
    pub fn config_of(&self, resource: &Resource) -> Option<&'a ResourceConfig> {
        self.changes.terraform.as_ref()?.config_of(resource)
    }

    /// The provider configuration a resource uses (Terraform plans only).
    #[must_use]
    pub fn provider_of(&self, resource: &Resource) -> Option<&'a ProviderConfig> {
        self.changes.terraform.as_ref()?.provider_of(resource)
    }

    /// Live managed resources of a kind (exist after apply).
    pub fn live_of_kind(&self, kind: &str) -> impl Iterator<Item = &'a Resource> + 'a {
        let changes = self.changes;
        let by_kind = self.index.by_kind.get_or_init(|| {
            let mut map: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, r) in changes.resources.iter().enumerate() {
                if r.mode == Mode::Managed && r.action.is_live() {
                    map.entry(r.kind.clone()).or_default().push(i);
                }
            }
            map
        });
        by_kind
            .get(kind)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(move |&i| changes.resources.get(i))
    }

    /// Live resources of `kind` whose `attribute` points at `target`: through a configuration
    /// reference to the target's block (how it is known when the target's id is known only
    /// after apply), or through a known value equal to one of the target's `target_attrs`.
    /// Where both sides have `count`/`for_each` indexes, they must be equal (the plan loses
    /// which instance a reference picks; hashicorp/terraform#30826).
    #[must_use]
    pub fn referrers(
        &self,
        target: &Resource,
        kind: &str,
        attribute: &str,
        target_attrs: &[&str],
    ) -> Vec<&'a Resource> {
        let target_block = target.config_address();
        let target_values: Vec<&str> = target_attrs
            .iter()
            .filter_map(|a| target.after_str(a))
            .collect();
        self.live_of_kind(kind)
            .filter(|r| {
                let by_value = r
                    .after_str(attribute)
                    .is_some_and(|v| target_values.contains(&v));
                let by_reference = self.config_of(r).is_some_and(|c| {
                    c.references_of(attribute).iter().any(|reference| {
                        reference == &target_block
                            || reference
                                .strip_prefix(target_block.as_str())
                                .is_some_and(|rest| rest.starts_with('.'))
                    })
                }) && match (&r.index, &target.index) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                by_value || by_reference
            })
            .collect()
    }

    /// Live resources of `kind` that `resource`'s `attribute` points at: the inverse of
    /// [`CheckContext::referrers`] (an `aws_s3_bucket_acl`'s `bucket` → the `aws_s3_bucket`).
    #[must_use]
    pub fn referenced(
        &self,
        resource: &Resource,
        attribute: &str,
        kind: &str,
        target_attrs: &[&str],
    ) -> Vec<&'a Resource> {
        let value = resource.after_str(attribute);
        let references = self
            .config_of(resource)
            .map_or(&[][..], |c| c.references_of(attribute));
        self.live_of_kind(kind)
            .filter(|target| {
                let by_value = value
                    .is_some_and(|v| target_attrs.iter().any(|a| target.after_str(a) == Some(v)));
                let block = target.config_address();
                let by_reference = references.iter().any(|reference| {
                    reference == &block
                        || reference
                            .strip_prefix(block.as_str())
                            .is_some_and(|rest| rest.starts_with('.'))
                }) && match (&resource.index, &target.index) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                by_value || by_reference
            })
            .collect()
    }

    /// A parameter (its default when the configuration does not set it).
    #[must_use]
    pub fn param(&self, name: &str) -> &'a serde_json::Value {
        static NULL: serde_json::Value = serde_json::Value::Null;
        self.params.get(name).unwrap_or(&NULL)
    }

    /// A string-list parameter.
    #[must_use]
    pub fn param_strs(&self, name: &str) -> Vec<&'a str> {
        self.param(name)
            .as_array()
            .map_or_else(Vec::new, |a| a.iter().filter_map(|v| v.as_str()).collect())
    }

    /// An integer parameter.
    #[must_use]
    pub fn param_i64(&self, name: &str) -> Option<i64> {
        self.param(name).as_i64()
    }

    /// A boolean parameter (`false` when unset).
    #[must_use]
    pub fn param_bool(&self, name: &str) -> bool {
        self.param(name).as_bool().unwrap_or(false)
    }
}

/// A rule with its configuration resolved: what a finding needs from its rule.
#[derive(Debug, Clone)]
pub struct ResolvedRule {
    /// The rule.
    pub meta: &'static RuleMeta,
    /// Enforcement of violations.
    pub enforcement: Enforcement,
    /// Enforcement of findings on values known only after apply.
    pub unknown_enforcement: Enforcement,
    /// Parameters, defaults filled in.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// "Why it matters", first paragraph.
    pub why: String,
    /// Documentation URL.
    pub help_uri: String,
}

impl ResolvedRule {
    /// The rule as configured by default: its own enforcement, no parameters, and
    /// `unknown_enforcement` for findings on values known only after apply.
    #[must_use]
    pub fn defaults(meta: &'static RuleMeta, unknown_enforcement: Enforcement) -> ResolvedRule {
        ResolvedRule {
            meta,
            enforcement: meta.enforcement,
            unknown_enforcement,
            params: serde_json::Map::new(),
            why: meta.why(),
            help_uri: meta.help_uri(),
        }
    }

    /// A finding of a derived rule (`Check::Derived`: made outside the engine, about the
    /// whole change or the actor rather than one resource): `resource` is what it is
    /// about, `kind` that thing's kind.
    #[must_use]
    pub fn derived_finding(
        &self,
        resource: String,
        kind: &str,
        location: Location,
        enforcement: Enforcement,
        message: String,
        unknown: bool,
    ) -> Finding {
        let meta = self.meta;
        Finding {
            rule_id: meta.id.to_owned(),
            rule_name: meta.name.to_owned(),
            title: meta.title.to_owned(),
            severity: meta.severity,
            enforcement,
            resource,
            resource_kind: kind.to_owned(),
            action: Action::NoOp,
            attribute: None,
            location,
            message,
            why: self.why.clone(),
            fix: None,
            unknown,
            aliases: meta.aliases.iter().map(|a| (*a).to_owned()).collect(),
            help_uri: Some(self.help_uri.clone()),
            note: None,
        }
    }
}

/// Where a rule writes its findings.
#[derive(Debug)]
pub struct Report<'a> {
    rule: &'a ResolvedRule,
    out: &'a mut Vec<Finding>,
    changes: Option<&'a ChangeSet>,
}

impl<'a> Report<'a> {
    /// A report for one rule over a change set.
    pub fn new(rule: &'a ResolvedRule, out: &'a mut Vec<Finding>, changes: &'a ChangeSet) -> Self {
        Report {
            rule,
            out,
            changes: Some(changes),
        }
    }

    /// Reports a violation on a resource; chain `.at(attribute)` and `.fix(fix)`.
    pub fn violation(&mut self, resource: &Resource, message: impl Into<String>) -> Pending<'_> {
        let finding = self.finding(resource, message.into(), self.rule.enforcement, false);
        self.out.push(finding);
        Pending(
            self.out.last_mut(),
            resource.provider == warden_core::inputs::kubernetes::PROVIDER,
        )
    }

    /// Reports that the rule cannot decide because `attribute` is known only after apply.
    ///
    /// When the plan's configuration shows the attribute is not set at all, the value is one
    /// the provider computes (an API default such as a private ACL), not one the author chose
    /// from something unknown; such an attribute is not reported.
    pub fn unknown(&mut self, resource: &Resource, attribute: &str) {
        let config = self
            .changes
            .and_then(|c| c.terraform.as_ref())
            .and_then(|t| t.config_of(resource));
        if crate::helpers::unset_in_config(config, attribute) {
            return;
        }
        let message = format!(
            "`{attribute}` is known only after apply, so `{}` cannot be checked until then",
            self.rule.meta.name
        );
        let mut finding = self.finding(resource, message, self.rule.unknown_enforcement, true);
        finding.attribute = Some(attribute.to_owned());
        self.out.push(finding);
    }

    fn finding(
        &self,
        resource: &Resource,
        message: String,
        enforcement: Enforcement,
        unknown: bool,
    ) -> Finding {
        let meta = self.rule.meta;
        Finding {
            rule_id: meta.id.to_owned(),
            rule_name: meta.name.to_owned(),
            title: meta.title.to_owned(),
            severity: meta.severity,
            enforcement,
            resource: resource.address.clone(),
            resource_kind: resource.kind.clone(),
            action: resource.action,
            attribute: None,
            location: resource.source.clone(),
            message,
            why: self.rule.why.clone(),
            fix: None,
            unknown,
            aliases: meta.aliases.iter().map(|a| (*a).to_owned()).collect(),
            help_uri: Some(self.rule.help_uri.clone()),
            note: None,
        }
    }
}

/// A just-reported violation, to add its attribute and fix to. For a Kubernetes manifest the
/// manifest is the source: its fix is the JSON Patch alone, without Terraform attribute edits.
#[derive(Debug)]
pub struct Pending<'a>(Option<&'a mut Finding>, bool);

impl Pending<'_> {
    /// The attribute (dotted path) the violation is about.
    pub fn at(mut self, attribute: &str) -> Self {
        if let Some(f) = self.0.as_deref_mut() {
            f.attribute = Some(attribute.to_owned());
        }
        self
    }

    /// The machine-applicable fix.
    pub fn fix(mut self, mut fix: Fix) -> Self {
        if self.1 {
            fix.source.clear();
        }
        if let Some(f) = self.0.as_deref_mut() {
            f.fix = Some(fix);
        }
        self
    }
}
