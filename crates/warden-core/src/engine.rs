//! The engine seam: built-in rules, Rego and Kyverno all evaluate a [`ChangeSet`] the same way.

use serde::Serialize;

use crate::changeset::ChangeSet;
use crate::decision::EngineError;
use crate::finding::{Enforcement, Finding, Severity};

/// What renderers (SARIF, `warden rules`) need to know about a rule, whatever engine owns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleInfo {
    /// Stable id (`WD-AWS-001`).
    pub id: String,
    /// Kebab-case name of the bad state (`s3-bucket-public-acl`).
    pub name: String,
    /// One-line title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Enforcement when the configuration says nothing.
    pub default_enforcement: Enforcement,
    /// Enforcement in effect under the loaded configuration.
    pub enforcement: Enforcement,
    /// Resource kinds the rule applies to (empty: all).
    pub kinds: Vec<String>,
    /// Why the constraint exists (short).
    pub why: String,
    /// Full documentation (Markdown).
    pub docs: String,
    /// Documentation URL.
    pub help_uri: Option<String>,
    /// Equivalent ids in other tools.
    pub aliases: Vec<String>,
    /// `true` when the rule attaches fixes.
    pub fixable: bool,
}

/// A policy engine.
pub trait Engine: Send + Sync {
    /// Short name (`builtin`, `rego`, `kyverno`).
    fn name(&self) -> &'static str;

    /// Evaluates the change set, appending findings. Findings carry the enforcement the engine
    /// resolved; unknown-value handling and waivers come after.
    fn evaluate(&self, changes: &ChangeSet, out: &mut Vec<Finding>) -> Result<(), EngineError>;

    /// The rules this engine has enabled.
    fn rules(&self) -> Vec<RuleInfo>;
}
