//! Findings: what a rule says about a resource, with why and how to fix it.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::resource::{Action, Location};
use crate::value::Value;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            other => {
                return Err(format!(
                    "unknown severity `{other}`; expected low, medium, high or critical"
                ))
            }
        })
    }
}

/// What a finding does to the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// Reported, never affects the outcome.
    Advisory,
    /// Makes the outcome at least `warn`.
    Warn,
    /// Makes the outcome at least `require_approval`.
    RequireApproval,
    /// Makes the outcome `deny`.
    Deny,
}

impl Enforcement {
    /// The snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Advisory => "advisory",
            Enforcement::Warn => "warn",
            Enforcement::RequireApproval => "require_approval",
            Enforcement::Deny => "deny",
        }
    }
}

impl fmt::Display for Enforcement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Enforcement {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "advisory" | "off-blocking" | "audit" => Enforcement::Advisory,
            "warn" | "warning" => Enforcement::Warn,
            "require_approval" | "require-approval" | "approval" => Enforcement::RequireApproval,
            "deny" | "block" => Enforcement::Deny,
            other => {
                return Err(format!(
                "unknown enforcement `{other}`; expected advisory, warn, require_approval or deny"
            ))
            }
        })
    }
}

/// One RFC 6902 operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum PatchOp {
    /// Add a member or array element (replaces an existing member).
    Add {
        /// JSON Pointer.
        path: String,
        /// The value to add.
        value: Value,
    },
    /// Remove a member or element.
    Remove {
        /// JSON Pointer.
        path: String,
    },
    /// Replace an existing value.
    Replace {
        /// JSON Pointer.
        path: String,
        /// The new value.
        value: Value,
    },
}

impl PatchOp {
    /// The operation's JSON Pointer.
    #[must_use]
    pub fn path(&self) -> &str {
        match self {
            PatchOp::Add { path, .. }
            | PatchOp::Remove { path }
            | PatchOp::Replace { path, .. } => path,
        }
    }
}

/// A change to make in the Terraform source: set `attribute` (HCL path) to `value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceEdit {
    /// Attribute path in the resource block (`metadata_options.http_tokens`).
    pub attribute: String,
    /// The value to write, as JSON (`null` means remove the attribute).
    pub value: Value,
}

/// A machine-applicable fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fix {
    /// What the fix does, in one sentence.
    pub description: String,
    /// RFC 6902 operations against the resource's `after` object (empty when the fix is not an
    /// edit of this resource, e.g. "add a resource").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patch: Vec<PatchOp>,
    /// The same change in Terraform source terms.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<SourceEdit>,
    /// Code to add when the fix is a new block (HCL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

impl Fix {
    /// A fix that sets the attribute at a dotted Terraform path; the JSON Patch is derived
    /// from it (`metadata_options.0.http_tokens` → `/metadata_options/0/http_tokens`).
    #[must_use]
    pub fn set(description: impl Into<String>, attribute: &str, value: impl Into<Value>) -> Fix {
        let value = value.into();
        Fix {
            description: description.into(),
            patch: vec![PatchOp::Add {
                path: dotted_to_pointer(attribute),
                value: value.clone(),
            }],
            source: vec![SourceEdit {
                attribute: strip_numeric_segments(attribute),
                value,
            }],
            snippet: None,
        }
    }

    /// Adds another attribute assignment to this fix.
    #[must_use]
    pub fn and_set(mut self, attribute: &str, value: impl Into<Value>) -> Fix {
        let value = value.into();
        self.patch.push(PatchOp::Add {
            path: dotted_to_pointer(attribute),
            value: value.clone(),
        });
        self.source.push(SourceEdit {
            attribute: strip_numeric_segments(attribute),
            value,
        });
        self
    }

    /// A fix given as JSON Patch operations (for paths whose keys contain dots, like
    /// Kubernetes label keys, or for several operations at once).
    #[must_use]
    pub fn patch(description: impl Into<String>, ops: Vec<PatchOp>) -> Fix {
        Fix {
            description: description.into(),
            patch: ops,
            source: Vec::new(),
            snippet: None,
        }
    }

    /// A fix that removes the attribute at a dotted path.
    #[must_use]
    pub fn remove(description: impl Into<String>, attribute: &str) -> Fix {
        Fix {
            description: description.into(),
            patch: vec![PatchOp::Remove {
                path: dotted_to_pointer(attribute),
            }],
            source: vec![SourceEdit {
                attribute: strip_numeric_segments(attribute),
                value: Value::Null,
            }],
            snippet: None,
        }
    }

    /// A fix that is a block of code to add (no patch of this resource).
    #[must_use]
    pub fn snippet(description: impl Into<String>, code: impl Into<String>) -> Fix {
        Fix {
            description: description.into(),
            patch: Vec::new(),
            source: Vec::new(),
            snippet: Some(code.into()),
        }
    }

    /// `true` when the fix can be applied to the resource's `after` value.
    #[must_use]
    pub fn is_patch(&self) -> bool {
        !self.patch.is_empty()
    }
}

/// `a.0.b` → `/a/0/b`.
#[must_use]
pub fn dotted_to_pointer(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    for segment in path.split('.') {
        out.push('/');
        out.push_str(&crate::value::escape_pointer_token(segment));
    }
    out
}

/// `metadata_options.0.http_tokens` → `metadata_options.http_tokens` (HCL blocks have no index).
fn strip_numeric_segments(path: &str) -> String {
    path.split('.')
        .filter(|s| s.parse::<usize>().is_err())
        .collect::<Vec<_>>()
        .join(".")
}

/// What a rule said about one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Rule id (`WD-AWS-001`).
    pub rule_id: String,
    /// Rule name (`s3-bucket-public-acl`).
    pub rule_name: String,
    /// One-line title of the rule.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Enforcement after configuration (and unknown handling).
    pub enforcement: Enforcement,
    /// Resource address.
    pub resource: String,
    /// Resource type.
    pub resource_kind: String,
    /// What the change does to the resource.
    pub action: Action,
    /// Attribute path the finding is about (dotted), when one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Where the resource is.
    pub location: Location,
    /// What is wrong, for this resource.
    pub message: String,
    /// Why the constraint exists.
    pub why: String,
    /// How to fix it, when a fix exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// `true` when the rule could not decide because a value is known only after apply.
    pub unknown: bool,
    /// Equivalent ids in other tools (Checkov, Trivy).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Documentation page of the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_uri: Option<String>,
    /// Set when an exception matched but had expired: says so in the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Finding {
    /// The key findings are sorted by: strictest first, then by resource and rule.
    #[must_use]
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            std::cmp::Reverse(self.enforcement),
            std::cmp::Reverse(self.severity),
            &self.resource,
            &self.rule_id,
            &self.attribute,
            &self.message,
        )
    }
}
