//! The decision: one answer, with every reason, rendered by every output.

use std::fmt;

use serde::Serialize;

use crate::changeset::InputInfo;
use crate::exceptions::Waiver;
use crate::finding::{Enforcement, Finding, Severity};

/// Version of the JSON decision document; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The answer to "may this change be applied?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing blocks the change.
    Allow,
    /// Allowed, with warnings.
    Warn,
    /// A human must approve the change.
    RequireApproval,
    /// The change must not be applied.
    Deny,
}

impl Outcome {
    /// The outcome an active finding of this enforcement forces.
    #[must_use]
    pub fn from_enforcement(e: Enforcement) -> Outcome {
        match e {
            Enforcement::Advisory => Outcome::Allow,
            Enforcement::Warn => Outcome::Warn,
            Enforcement::RequireApproval => Outcome::RequireApproval,
            Enforcement::Deny => Outcome::Deny,
        }
    }

    /// The snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Warn => "warn",
            Outcome::RequireApproval => "require_approval",
            Outcome::Deny => "deny",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding an exception or waiver tag covered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaivedFinding {
    /// The finding, as it would have been reported.
    #[serde(flatten)]
    pub finding: Finding,
    /// What covered it.
    pub waiver: Waiver,
}

/// Counts of a decision.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Resources evaluated.
    pub resources: usize,
    /// Rules that were enabled.
    pub rules: usize,
    /// Active findings.
    pub findings: usize,
    /// Active findings that make the outcome `deny`.
    pub deny: usize,
    /// Active findings that require approval.
    pub require_approval: usize,
    /// Active warnings.
    pub warn: usize,
    /// Active advisory findings.
    pub advisory: usize,
    /// Active findings on values known only after apply.
    pub unknown: usize,
    /// Waived findings.
    pub waived: usize,
    /// Active findings by severity: critical, high, medium, low.
    pub by_severity: SeverityCounts,
}

/// Findings per severity.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SeverityCounts {
    /// Critical.
    pub critical: usize,
    /// High.
    pub high: usize,
    /// Medium.
    pub medium: usize,
    /// Low.
    pub low: usize,
}

/// Producer of a decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tool {
    /// `warden`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// An error an engine hit; it makes the outcome `deny` (fail closed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineError {
    /// The engine (`builtin`, `rego`, `kyverno`).
    pub engine: String,
    /// What went wrong.
    pub message: String,
}

/// An OPA bundle a decision used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleRevision {
    /// Where the bundle was read from.
    pub path: String,
    /// `revision` of its `.manifest` (empty when it has none).
    pub revision: String,
}

/// The result of evaluating a change against a policy set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Version of this document's shape ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The strictest enforcement among active findings.
    pub outcome: Outcome,
    /// Counts.
    pub summary: Summary,
    /// Active findings, sorted: strictest first, then by resource and rule.
    pub findings: Vec<Finding>,
    /// Findings an exception or waiver covered, with what covered them.
    pub waived: Vec<WaivedFinding>,
    /// Engine errors (each forces `deny`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<EngineError>,
    /// What was evaluated.
    pub inputs: Vec<InputInfo>,
    /// `sha256:<hex>` over the digests of every input, in order.
    pub input_digest: String,
    /// `sha256:<hex>` of the rules and configuration that made this decision.
    pub policy_revision: String,
    /// OPA bundles the Rego policies and data came from, with their manifest revisions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bundles: Vec<BundleRevision>,
    /// When the decision was made (RFC 3339, UTC).
    pub evaluated_at: String,
    /// Evaluation time in milliseconds (parse excluded).
    pub duration_ms: f64,
    /// Who made it.
    pub tool: Tool,
    /// The monthly cost of the change, when it has resources the price catalog covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::CostEstimate>,
    /// The risk score with its factors (`warden_policy` sets it on every decision it makes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<crate::risk::Risk>,
}

impl Decision {
    /// A decision time as `evaluated_at` writes it (RFC 3339; the Unix time in the unlikely
    /// case the date cannot be formatted).
    #[must_use]
    pub fn timestamp(now: time::OffsetDateTime) -> String {
        now.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| now.unix_timestamp().to_string())
    }

    /// Recomputes the outcome and summary from the findings (after findings changed).
    pub fn refresh(&mut self) {
        self.findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.waived
            .sort_by(|a, b| a.finding.sort_key().cmp(&b.finding.sort_key()));
        let mut outcome = self
            .findings
            .iter()
            .map(|f| Outcome::from_enforcement(f.enforcement))
            .max()
            .unwrap_or(Outcome::Allow);
        if !self.errors.is_empty() {
            outcome = Outcome::Deny;
        }
        self.outcome = outcome;
        let count = |e: Enforcement| self.findings.iter().filter(|f| f.enforcement == e).count();
        let sev = |s: Severity| self.findings.iter().filter(|f| f.severity == s).count();
        self.summary = Summary {
            resources: self.summary.resources,
            rules: self.summary.rules,
            findings: self.findings.len(),
            deny: count(Enforcement::Deny),
            require_approval: count(Enforcement::RequireApproval),
            warn: count(Enforcement::Warn),
            advisory: count(Enforcement::Advisory),
            unknown: self.findings.iter().filter(|f| f.unknown).count(),
            waived: self.waived.len(),
            by_severity: SeverityCounts {
                critical: sev(Severity::Critical),
                high: sev(Severity::High),
                medium: sev(Severity::Medium),
                low: sev(Severity::Low),
            },
        };
    }
}
