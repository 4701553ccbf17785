//! `--format sarif`: SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
//!
//! One run; `tool.driver.rules` lists every enabled rule (plus a minimal entry for any rule a
//! finding names that the list lacks, such as a Rego policy's), and every finding is a result
//! that points at its rule by index. Waived findings are results too, carrying an `external`
//! suppression with the waiver's justification, so viewers show them as dismissed rather than
//! forgetting them. The document is built from typed structs, so its member order is fixed.

use serde::Serialize;

use crate::decision::{Decision, WaivedFinding};
use crate::engine::RuleInfo;
use crate::finding::{Enforcement, Finding, PatchOp, Severity};

use super::{patch_json, source_edit_hcl, waiver_phrase, waiver_reason};

/// The SARIF schema the document declares.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Where to read about Warden.
pub const INFORMATION_URI: &str = "https://github.com/warden-dev/warden";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult<'a>>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    information_uri: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    short_description: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_description: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<Help>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    default_configuration: Configuration,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    tags: Vec<String>,
    severity: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    enforcement: &'static str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    aliases: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<ResultLocation<'a>>,
    partial_fingerprints: Fingerprints,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultLocation<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    logical_locations: Vec<LogicalLocation<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    name: &'a str,
    fully_qualified_name: &'a str,
    kind: &'static str,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "warden/v1")]
    warden: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix<'a> {
    description: Text,
    artifact_changes: Vec<ArtifactChange>,
    properties: FixProperties<'a>,
}

/// The machine-applicable form of a fix: RFC 6902 operations against the resource's planned
/// value (`after`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FixProperties<'a> {
    #[serde(rename = "jsonPatch", skip_serializing_if = "<[PatchOp]>::is_empty")]
    patch: &'a [PatchOp],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: Text,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    enforcement: &'static str,
    severity: &'static str,
    unknown: bool,
    resource: &'a str,
    #[serde(rename = "resourceKind")]
    resource_kind: &'a str,
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    attribute: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    aliases: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    outcome: &'static str,
    input_digest: &'a str,
    policy_revision: &'a str,
    evaluated_at: &'a str,
}

/// The SARIF level of an enforcement.
fn level(e: Enforcement) -> &'static str {
    match e {
        Enforcement::Deny | Enforcement::RequireApproval => "error",
        Enforcement::Warn => "warning",
        Enforcement::Advisory => "note",
    }
}

/// GitHub's `security-severity` score of a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// The rule entries: every known rule, then a minimal one per unknown rule id a finding names.
fn rules<'a>(decision: &'a Decision, known: &'a [RuleInfo]) -> Vec<Rule<'a>> {
    let mut out: Vec<Rule<'a>> = known.iter().map(rule_from_info).collect();
    let all = decision
        .findings
        .iter()
        .chain(decision.waived.iter().map(|w| &w.finding));
    for f in all {
        if !out.iter().any(|r| r.id == f.rule_id) {
            out.push(rule_from_finding(f));
        }
    }
    out
}

fn rule_from_info(r: &RuleInfo) -> Rule<'_> {
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| Text { text: s.to_owned() });
    let help = if r.docs.trim().is_empty() {
        non_empty(&r.why).map(|t| Help {
            markdown: t.text.clone(),
            text: t.text,
        })
    } else {
        Some(Help {
            text: r.docs.clone(),
            markdown: r.docs.clone(),
        })
    };
    Rule {
        id: &r.id,
        name: &r.name,
        short_description: non_empty(&r.title),
        full_description: non_empty(&r.why),
        help,
        help_uri: r.help_uri.as_deref(),
        default_configuration: Configuration {
            level: level(r.enforcement),
        },
        properties: RuleProperties {
            tags: tags(r.kinds.iter().map(String::as_str)),
            severity: r.severity.as_str(),
            security_severity: security_severity(r.severity),
            enforcement: r.enforcement.as_str(),
            aliases: &r.aliases,
        },
    }
}

fn rule_from_finding(f: &Finding) -> Rule<'_> {
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| Text { text: s.to_owned() });
    Rule {
        id: &f.rule_id,
        name: &f.rule_name,
        short_description: non_empty(&f.title),
        full_description: non_empty(&f.why),
        help: None,
        help_uri: f.help_uri.as_deref(),
        default_configuration: Configuration {
            level: level(f.enforcement),
        },
        properties: RuleProperties {
            tags: tags(std::iter::once(f.resource_kind.as_str())),
            severity: f.severity.as_str(),
            security_severity: security_severity(f.severity),
            enforcement: f.enforcement.as_str(),
            aliases: &f.aliases,
        },
    }
}

/// `security`, `iac`, and the providers of the resource kinds (`aws`), sorted and distinct.
fn tags<'a>(kinds: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut providers: Vec<String> = kinds
        .map(crate::resource::provider_of_type)
        .filter(|p| !p.is_empty() && *p != "security" && *p != "iac")
        .map(str::to_owned)
        .collect();
    providers.sort();
    providers.dedup();
    let mut out = vec!["security".to_owned(), "iac".to_owned()];
    out.extend(providers);
    out
}

/// A path as a URI reference: `/` separators, and everything outside RFC 3986's unreserved and
/// path characters percent-encoded.
fn file_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A fingerprint that survives line moves: rule, resource and attribute.
fn fingerprint(f: &Finding) -> String {
    let digest = crate::digest::sha256_parts([
        f.rule_id.as_bytes(),
        f.resource.as_bytes(),
        f.attribute.as_deref().unwrap_or_default().as_bytes(),
    ]);
    digest
        .strip_prefix("sha256:")
        .unwrap_or(&digest)
        .chars()
        .take(32)
        .collect()
}

fn result<'a>(
    f: &'a Finding,
    rules: &[Rule<'_>],
    waived: Option<&WaivedFinding>,
) -> SarifResult<'a> {
    let rule_index = rules
        .iter()
        .position(|r| r.id == f.rule_id)
        .unwrap_or_default();
    let mut text = f.message.trim_end().to_owned();
    if f.unknown {
        text.push_str(" (the value is known only after apply)");
    }
    if !f.why.trim().is_empty() {
        text.push_str(" — why: ");
        text.push_str(f.why.trim());
    }
    if let Some(note) = &f.note {
        text.push_str(" — note: ");
        text.push_str(note);
    }
    let line = f.location.line.unwrap_or(1).max(1);
    let physical_location = f.location.file.as_deref().map(|file| PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: file_uri(file),
        },
        region: Region {
            start_line: line,
            start_column: None,
            end_line: None,
            end_column: None,
        },
    });
    let fixes = match (&f.fix, f.location.file.as_deref()) {
        (Some(fix), Some(file)) => {
            // The change as Terraform source when the fix has one, else as the JSON Patch.
            let mut content = Vec::new();
            if !fix.source.is_empty() {
                content.push(
                    fix.source
                        .iter()
                        .map(source_edit_hcl)
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
            }
            if let Some(snippet) = &fix.snippet {
                content.push(snippet.trim_end().to_owned());
            }
            if content.is_empty() {
                content.push(patch_json(&fix.patch));
            }
            vec![SarifFix {
                description: Text {
                    text: fix.description.clone(),
                },
                artifact_changes: vec![ArtifactChange {
                    artifact_location: ArtifactLocation {
                        uri: file_uri(file),
                    },
                    replacements: vec![Replacement {
                        // An empty region at the start of the resource's line: an insertion point
                        // that deletes nothing.
                        deleted_region: Region {
                            start_line: line,
                            start_column: Some(1),
                            end_line: Some(line),
                            end_column: Some(1),
                        },
                        inserted_content: Text {
                            text: content.join("\n\n") + "\n",
                        },
                    }],
                }],
                properties: FixProperties { patch: &fix.patch },
            }]
        }
        _ => Vec::new(),
    };
    let suppressions = waived
        .map(|w| {
            vec![Suppression {
                kind: "external",
                status: "accepted",
                justification: format!(
                    "{}: {}",
                    waiver_phrase(&w.waiver),
                    waiver_reason(&w.waiver)
                ),
            }]
        })
        .unwrap_or_default();
    SarifResult {
        rule_id: &f.rule_id,
        rule_index,
        level: level(f.enforcement),
        message: Text { text },
        locations: vec![ResultLocation {
            physical_location,
            logical_locations: vec![LogicalLocation {
                name: &f.resource,
                fully_qualified_name: &f.resource,
                kind: "resource",
            }],
        }],
        partial_fingerprints: Fingerprints {
            warden: fingerprint(f),
        },
        fixes,
        suppressions,
        properties: ResultProperties {
            enforcement: f.enforcement.as_str(),
            severity: f.severity.as_str(),
            unknown: f.unknown,
            resource: &f.resource,
            resource_kind: &f.resource_kind,
            action: f.action.as_str(),
            attribute: f.attribute.as_deref(),
            aliases: &f.aliases,
            note: f.note.as_deref(),
        },
    }
}

/// The SARIF log, pretty-printed, with a trailing newline.
#[must_use]
pub fn render(decision: &Decision, known_rules: &[RuleInfo]) -> String {
    let mut out = Vec::new();
    if let Err(e) = render_to(decision, known_rules, &mut out) {
        return format!(
            "{{\"version\":\"2.1.0\",\"runs\":[],\"properties\":{{\"error\":{}}}}}\n",
            serde_json::Value::from(e.to_string())
        );
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Streams the SARIF log into a writer (a 100k-resource plan's log is over 150 MB).
pub fn render_to(
    decision: &Decision,
    known_rules: &[RuleInfo],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let rules = rules(decision, known_rules);
    let mut results: Vec<SarifResult<'_>> = decision
        .findings
        .iter()
        .map(|f| result(f, &rules, None))
        .collect();
    results.extend(
        decision
            .waived
            .iter()
            .map(|w| result(&w.finding, &rules, Some(w))),
    );
    let log = Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            invocations: vec![Invocation {
                execution_successful: decision.errors.is_empty(),
                tool_execution_notifications: decision
                    .errors
                    .iter()
                    .map(|e| Notification {
                        level: "error",
                        message: Text {
                            text: format!("{} engine: {}", e.engine, e.message),
                        },
                    })
                    .collect(),
            }],
            tool: Tool {
                driver: Driver {
                    name: "warden",
                    version: &decision.tool.version,
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            results,
            properties: RunProperties {
                outcome: decision.outcome.as_str(),
                input_digest: &decision.input_digest,
                policy_revision: &decision.policy_revision,
                evaluated_at: &decision.evaluated_at,
            },
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample;

    fn validator() -> jsonschema::Validator {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/schemas/sarif-2.1.0.json"
        );
        let mut schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        // The published schema's `language` patterns have a stray `]` (a known erratum of
        // SARIF 2.1.0) that `jsonschema` rejects as a regex; use the pattern they meant.
        for definition in ["run", "toolComponent"] {
            let language =
                &mut schema["definitions"][definition]["properties"]["language"]["pattern"];
            if language == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                *language = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
            }
        }
        jsonschema::validator_for(&schema).unwrap()
    }

    fn assert_valid(out: &str) {
        let instance: serde_json::Value = serde_json::from_str(out).unwrap();
        let validator = validator();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "SARIF output is invalid:\n{}",
            errors.join("\n")
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!("sarif", render(&sample::decision(), &sample::rules()));
    }

    #[test]
    fn validates_against_the_sarif_schema() {
        assert_valid(&render(&sample::decision(), &sample::rules()));
        assert_valid(&render(&sample::clean(), &sample::rules()));
        assert_valid(&render(&sample::decision(), &[]));

        // The validator does reject a bad log.
        let mut bad: serde_json::Value =
            serde_json::from_str(&render(&sample::decision(), &sample::rules())).unwrap();
        bad["runs"][0]["results"][0]["level"] = "fatal".into();
        assert!(!validator().is_valid(&bad));
    }

    #[test]
    fn results_point_at_their_rules() {
        let rules = sample::rules();
        let d = sample::decision();
        let log: serde_json::Value = serde_json::from_str(&render(&d, &rules)).unwrap();
        let run = &log["runs"][0];
        let listed = run["tool"]["driver"]["rules"].as_array().unwrap();
        // Every known rule, plus the Rego rule only a finding names.
        assert_eq!(listed.len(), rules.len() + 1);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), d.findings.len() + d.waived.len());
        for r in results {
            let index = usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap();
            assert_eq!(listed[index]["id"], r["ruleId"]);
        }
        let suppressed = results
            .iter()
            .filter(|r| r.get("suppressions").is_some())
            .count();
        assert_eq!(suppressed, d.waived.len());
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    }

    #[test]
    fn fingerprints_ignore_the_line() {
        let d = sample::decision();
        let mut moved = d.findings[0].clone();
        moved.location.line = Some(9999);
        assert_eq!(fingerprint(&d.findings[0]), fingerprint(&moved));
        assert_ne!(fingerprint(&d.findings[0]), fingerprint(&d.findings[1]));
    }

    #[test]
    fn uris_are_encoded() {
        assert_eq!(file_uri("plans\\my plan.json"), "plans/my%20plan.json");
        assert_eq!(file_uri("a/ü.json"), "a/%C3%BC.json");
    }
}
