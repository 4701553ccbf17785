//! From findings to a decision: waivers first, then the strictest enforcement wins.

use std::collections::HashMap;

use time::Date;

use crate::changeset::ChangeSet;
use crate::decision::{
    Decision, EngineError, Outcome, Summary, Tool, WaivedFinding, SCHEMA_VERSION,
};
use crate::exceptions::{
    format_date, ignore_tag, rule_selector_matches, Exception, IgnoreTag, Waiver,
};
use crate::finding::Finding;

/// What, besides findings, a decision depends on.
#[derive(Debug, Clone)]
pub struct DecideOptions<'a> {
    /// `[[exceptions]]` from the configuration.
    pub exceptions: &'a [Exception],
    /// The day exceptions are checked against.
    pub today: Date,
    /// Honour `warden:ignore` resource tags.
    pub tag_waivers: bool,
    /// Digest of the policy set.
    pub policy_revision: String,
    /// Number of enabled rules.
    pub rules: usize,
    /// RFC 3339 time of the decision.
    pub evaluated_at: String,
    /// Evaluation time in milliseconds.
    pub duration_ms: f64,
    /// Version of the producer.
    pub version: String,
}

/// Applies exceptions and waiver tags to the findings of the change sets and builds the
/// decision.
#[must_use]
pub fn decide(
    changes: &[&ChangeSet],
    findings: Vec<Finding>,
    errors: Vec<EngineError>,
    options: &DecideOptions<'_>,
) -> Decision {
    let tags: HashMap<&str, IgnoreTag> = if options.tag_waivers {
        changes
            .iter()
            .flat_map(|c| c.resources.iter())
            .filter_map(|r| ignore_tag(r).map(|t| (r.address.as_str(), t)))
            .collect()
    } else {
        HashMap::new()
    };

    let mut active = Vec::with_capacity(findings.len());
    let mut waived = Vec::new();
    for mut finding in findings {
        if let Some(waiver) = waiver_for(&mut finding, &tags, options) {
            waived.push(WaivedFinding { finding, waiver });
        } else {
            active.push(finding);
        }
    }

    let inputs: Vec<_> = changes.iter().map(|c| c.input.clone()).collect();
    let input_digest = crate::digest::sha256_parts(inputs.iter().map(|i| i.digest.as_bytes()));
    let mut decision = Decision {
        schema_version: SCHEMA_VERSION,
        outcome: Outcome::Allow,
        summary: Summary {
            resources: changes.iter().map(|c| c.resources.len()).sum(),
            rules: options.rules,
            ..Summary::default()
        },
        findings: active,
        waived,
        errors,
        inputs,
        input_digest,
        policy_revision: options.policy_revision.clone(),
        bundles: Vec::new(),
        evaluated_at: options.evaluated_at.clone(),
        duration_ms: options.duration_ms,
        tool: Tool {
            name: "warden".to_owned(),
            version: options.version.clone(),
        },
        cost: None,
        risk: None,
    };
    decision.refresh();
    decision
}

/// The waiver that covers the finding, if any. An expired exception does not cover it; the
/// finding then says so in its note.
fn waiver_for(
    finding: &mut Finding,
    tags: &HashMap<&str, IgnoreTag>,
    options: &DecideOptions<'_>,
) -> Option<Waiver> {
    let mut expired: Option<&Exception> = None;
    for exception in options.exceptions.iter().filter(|e| e.covers(finding)) {
        if exception.is_expired(options.today) {
            expired.get_or_insert(exception);
        } else {
            return Some(Waiver::Exception {
                exception: exception.clone(),
            });
        }
    }
    if let Some(tag) = tags.get(finding.resource.as_str()) {
        if tag
            .rules
            .iter()
            .any(|s| rule_selector_matches(s, &finding.rule_id, &finding.rule_name))
        {
            if tag.reason.is_empty() {
                finding.note = Some(format!(
                    "the `warden:ignore` tag `{}` names this rule but gives no reason, so it is not honoured",
                    tag.raw
                ));
            } else {
                return Some(Waiver::Tag {
                    value: tag.raw.clone(),
                    reason: tag.reason.clone(),
                });
            }
        }
    }
    if let Some(e) = expired {
        finding.note = Some(format!(
            "exception for `{}` on `{}` expired on {} (reason was: {})",
            e.rule,
            e.resource,
            format_date(e.expires),
            e.reason
        ));
    }
    None
}
