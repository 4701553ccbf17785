//! Drift: what changed outside the infrastructure code, attribute by attribute, with the
//! policy verdict on the live state and a remediation per resource.
//!
//! ```text
//! refresh-only plan (resource_drift)  -> terraform::compare  \
//! manifests + live objects            -> kubernetes::compare  => Comparison { report, last_known, live }
//! policy set on last_known and live   -> verdict::apply       => report with findings (WD-DRIFT-001)
//! report                              -> render::text | serde JSON
//! ```
//!
//! Everything here is pure: the caller reads the inputs and evaluates the two change sets
//! with its policy set (`warden drift` uses the one `warden check` builds).

mod diff;
pub mod kubernetes;
mod remediation;
pub mod render;
pub mod terraform;
pub mod verdict;

use serde::Serialize;

use crate::changeset::{ChangeSet, InputInfo};
use crate::decision::EngineError;
use crate::finding::{Enforcement, Finding, Severity};
use crate::resource::{Location, Resource};
use crate::value::Value;

pub use diff::{diff, DiffOptions};

/// Id of the rule under which drift that introduces a violation is reported.
pub const RULE_ID: &str = "WD-DRIFT-001";

/// What a sensitive value is shown as: the store's mask (`warden_store::mask::MASK`), so a
/// secret reads the same wherever Warden hides it.
pub const MASK: &str = "***MASKED***";

/// Version of the JSON drift report's shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Where the desired and live states came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A Terraform/OpenTofu plan's `resource_drift`.
    Terraform,
    /// Kubernetes manifests against live objects.
    Kubernetes,
}

/// How a resource drifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Attributes changed outside the code.
    Changed,
    /// Deleted outside Terraform (`resource_drift` action `delete`).
    Deleted,
    /// In the manifests, not in the cluster.
    Missing,
    /// In the cluster, not in the manifests (`--include-extra`).
    Extra,
}

impl Status {
    /// The lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Changed => "changed",
            Status::Deleted => "deleted",
            Status::Missing => "missing",
            Status::Extra => "extra",
        }
    }
}

/// What happened to one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Present live, absent (or `null`) in the last-known state.
    Added,
    /// Present in the last-known state, absent live.
    Removed,
    /// A different value.
    Changed,
}

impl ChangeKind {
    /// The sign used in text: `+`, `-`, `~`.
    #[must_use]
    pub fn sign(self) -> char {
        match self {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Changed => '~',
        }
    }
}

/// One attribute that differs between the last-known and the live state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeChange {
    /// Dotted path (`ingress.0.cidr_blocks`), as findings name attributes.
    pub path: String,
    /// The same place as a JSON Pointer (`/ingress/0/cidr_blocks`), exact when keys hold dots.
    pub pointer: String,
    /// Added, removed or changed.
    pub change: ChangeKind,
    /// The last-known value (`null` when added); [`MASK`] where sensitive.
    pub before: Value,
    /// The live value (`null` when removed); [`MASK`] where sensitive.
    pub after: Value,
    /// `true` when the value is sensitive (masked in whole or in part).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// A policy violation on one side of the drift.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The rule that found it.
    pub rule_id: String,
    /// Its title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Enforcement under the loaded configuration.
    pub enforcement: Enforcement,
    /// The attribute, when the rule names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// The rule's message.
    pub message: String,
}

/// Put the code back, or change the code to what is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Suggestion {
    /// Re-apply the code.
    Revert,
    /// Change the code to the live value.
    Adopt,
}

/// What to do about one drifted resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remediation {
    /// The suggested way.
    pub suggested: Suggestion,
    /// Why that way, in one sentence.
    pub reason: String,
    /// How to revert (a command).
    pub revert: String,
    /// How to adopt: the edit to the code, one `attr = value` line each (HCL-ish for
    /// Terraform, `path: value` for manifests), or what to remove.
    pub adopt: Vec<String>,
}

/// One resource that drifted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftedResource {
    /// Terraform address, or `apiVersion/Kind/namespace/name`.
    pub address: String,
    /// Resource type (`aws_security_group`, `Deployment`).
    pub resource_kind: String,
    /// How it drifted.
    pub status: Status,
    /// Where the resource is described (the plan's `resource_drift` entry; the manifest).
    pub location: Location,
    /// The attributes that differ, in path order.
    pub changes: Vec<AttributeChange>,
    /// Violations on the live state the last-known state did not have.
    pub introduced: Vec<Violation>,
    /// Violations both states have: there before the drift.
    pub pre_existing: Vec<Violation>,
    /// Violations of the last-known state the live state no longer has.
    pub resolved: Vec<Violation>,
    /// What to do.
    pub remediation: Remediation,
    /// Anything else worth knowing (a version mismatch, fields the manifests do not set).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl DriftedResource {
    /// A drifted resource with its attribute changes, before the policy verdict and the
    /// remediation are known.
    #[must_use]
    pub fn new(r: &Resource, address: &str, status: Status, changes: Vec<AttributeChange>) -> Self {
        DriftedResource {
            address: address.to_owned(),
            resource_kind: r.kind.clone(),
            status,
            location: r.source.clone(),
            changes,
            introduced: Vec::new(),
            pre_existing: Vec::new(),
            resolved: Vec::new(),
            remediation: remediation::none(),
            notes: Vec::new(),
        }
    }
}

/// Counts of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DriftSummary {
    /// Resources compared: `resource_drift` entries, or desired objects (plus live extras).
    pub compared: usize,
    /// Resources that drifted (every status).
    pub drifted: usize,
    /// Of which changed.
    pub changed: usize,
    /// Of which deleted outside Terraform.
    pub deleted: usize,
    /// Of which missing from the cluster.
    pub missing: usize,
    /// Of which in the cluster only.
    pub extra: usize,
    /// Attribute changes across all resources.
    pub attribute_changes: usize,
    /// Violations the drift introduced.
    pub introduced: usize,
    /// Violations there before the drift.
    pub pre_existing: usize,
    /// Violations the drift removed.
    pub resolved: usize,
}

/// The drift report: the resources that drifted, the findings drift introduced, counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftReport {
    /// Version of this document's shape ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Terraform or Kubernetes.
    pub source: Source,
    /// What was read.
    pub inputs: Vec<InputInfo>,
    /// The drifted resources: those with introduced violations first, then by address.
    pub drifted: Vec<DriftedResource>,
    /// One `WD-DRIFT-001` finding per introduced violation, sorted like a decision's.
    pub findings: Vec<Finding>,
    /// Engine errors and incomplete inputs: the verdict cannot be trusted while any remain.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<EngineError>,
    /// Counts.
    pub summary: DriftSummary,
}

impl DriftReport {
    /// An empty report.
    #[must_use]
    pub fn new(source: Source, inputs: Vec<InputInfo>) -> DriftReport {
        DriftReport {
            schema_version: SCHEMA_VERSION,
            source,
            inputs,
            drifted: Vec::new(),
            findings: Vec::new(),
            errors: Vec::new(),
            summary: DriftSummary::default(),
        }
    }

    /// `true` when anything drifted.
    #[must_use]
    pub fn has_drift(&self) -> bool {
        !self.drifted.is_empty()
    }

    /// Sorts resources and findings and recomputes the summary (after any change).
    pub fn refresh(&mut self) {
        let strictest = |r: &DriftedResource| {
            r.introduced
                .iter()
                .map(|v| (v.enforcement, v.severity))
                .max()
        };
        self.drifted.sort_by(|a, b| {
            strictest(b)
                .cmp(&strictest(a))
                .then_with(|| a.address.cmp(&b.address))
                .then_with(|| a.status.cmp(&b.status))
        });
        self.findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let count = |s: Status| self.drifted.iter().filter(|r| r.status == s).count();
        let sum = |f: fn(&DriftedResource) -> usize| self.drifted.iter().map(f).sum();
        self.summary = DriftSummary {
            compared: self.summary.compared,
            drifted: self.drifted.len(),
            changed: count(Status::Changed),
            deleted: count(Status::Deleted),
            missing: count(Status::Missing),
            extra: count(Status::Extra),
            attribute_changes: sum(|r| r.changes.len()),
            introduced: sum(|r| r.introduced.len()),
            pre_existing: sum(|r| r.pre_existing.len()),
            resolved: sum(|r| r.resolved.len()),
        };
    }
}

/// A drift report before its verdict, with the two states to evaluate: every compared
/// resource as the code last left it and as it is live, under the same addresses as the
/// report (resources gone live are in neither; extras only in `live`).
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The report, without violations yet (remediations assume none).
    pub report: DriftReport,
    /// Compared resources whose compared attributes match (Kubernetes objects): drift only
    /// if the verdict finds a violation on the live object ([`verdict::apply`]).
    pub quiet: Vec<DriftedResource>,
    /// The last-known (Terraform) or desired (Kubernetes) state.
    pub last_known: ChangeSet,
    /// The live state.
    pub live: ChangeSet,
}

/// Why drift could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriftError {
    /// The input is not a Terraform plan.
    #[error("{path}: not a Terraform plan; `warden drift PLAN` reads `terraform show -json` of a refresh-only plan (for Kubernetes use --desired and --live)")]
    NotAPlan {
        /// The input.
        path: String,
    },
}
