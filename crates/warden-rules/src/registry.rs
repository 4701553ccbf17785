//! Every built-in rule, sorted by id, and lookup by id, name or renamed id.

use std::sync::OnceLock;

use crate::rule::RuleMeta;
use crate::rules;

/// Ids that were renamed: `(old, new)`. Old ids keep working in configuration.
pub static REDIRECTS: &[(&str, &str)] = &[];

/// Parameters one rule takes from another's configuration unless set for it:
/// `(rule, parameter, from rule)`. WD-GOV-009 must skip the types WD-GOV-002 denies, so it reads
/// WD-GOV-002's lists and users set them once.
pub static SHARED_PARAMS: &[(&str, &str, &str)] = &[
    ("WD-GOV-009", "allowed", "WD-GOV-002"),
    ("WD-GOV-009", "forbidden", "WD-GOV-002"),
];

/// Every built-in rule, sorted by id.
#[must_use]
pub fn all() -> &'static [&'static RuleMeta] {
    static ALL: OnceLock<Vec<&'static RuleMeta>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut rules: Vec<&'static RuleMeta> = rules::aws::RULES
            .iter()
            .chain(rules::gcp::RULES)
            .chain(rules::azure::RULES)
            .chain(rules::governance::RULES)
            .chain(rules::kubernetes::RULES)
            .copied()
            .collect();
        rules.sort_by(|a, b| a.id.cmp(b.id));
        rules
    })
}

/// A rule by id (case-insensitive, redirects followed) or by name.
#[must_use]
pub fn find(key: &str) -> Option<&'static RuleMeta> {
    let key = REDIRECTS
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(key))
        .map_or(key, |(_, new)| new);
    all()
        .iter()
        .copied()
        .find(|r| r.id.eq_ignore_ascii_case(key) || r.name == key)
}

/// A finding of the derived rule `rule_id` at its default settings, about `resource` (of
/// kind `kind`), for the rules whose findings the server makes (WD-AGENT-00x, WD-ENV-00x).
/// An id missing from the registry still gives a finding with that id and `enforcement`: a
/// deny is never lost to a registration mistake (the registry test pins the ids).
#[must_use]
pub fn derived_finding(
    rule_id: &str,
    resource: String,
    kind: &str,
    enforcement: warden_core::Enforcement,
    message: String,
) -> warden_core::Finding {
    let location = warden_core::Location::default();
    match find(rule_id) {
        Some(meta) => crate::ResolvedRule::defaults(meta, meta.enforcement).derived_finding(
            resource,
            kind,
            location,
            enforcement,
            message,
            false,
        ),
        None => warden_core::Finding {
            rule_id: rule_id.to_owned(),
            rule_name: String::new(),
            title: String::new(),
            severity: warden_core::Severity::Medium,
            enforcement,
            resource,
            resource_kind: kind.to_owned(),
            action: warden_core::Action::NoOp,
            attribute: None,
            location,
            message,
            why: String::new(),
            fix: None,
            unknown: false,
            aliases: Vec::new(),
            help_uri: None,
            note: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::rule::Check;
    use crate::testing;

    #[test]
    fn ids_are_unique_well_formed_and_sorted() {
        let id = regex::Regex::new(r"^WD-(AWS|GCP|AZURE|GOV|K8S|DRIFT|COST|AGENT|RISK|ENV)-\d{3}$")
            .unwrap();
        let name = regex::Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)*$").unwrap();
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for rule in all() {
            assert!(id.is_match(rule.id), "bad id {}", rule.id);
            assert!(name.is_match(rule.name), "bad name {}", rule.name);
            assert!(ids.insert(rule.id), "duplicate id {}", rule.id);
            assert!(names.insert(rule.name), "duplicate name {}", rule.name);
            assert!(
                !rule.title.is_empty() && !rule.title.ends_with('.'),
                "{}: title",
                rule.id
            );
            for p in rule.params {
                let default: serde_json::Value = serde_json::from_str(p.default)
                    .unwrap_or_else(|e| panic!("{}: param {}: {e}", rule.id, p.name));
                assert!(
                    p.kind.accepts(&default),
                    "{}: default of {} is not a {}",
                    rule.id,
                    p.name,
                    p.kind.describe()
                );
            }
        }
        assert!(all().windows(2).all(|w| w[0].id < w[1].id));
        for (old, new) in REDIRECTS {
            assert!(find(old).is_some_and(|r| r.id == *new));
        }
    }

    #[test]
    fn docs_have_every_heading() {
        for rule in all() {
            let md = rule.markdown();
            for heading in [
                "What it checks",
                "Why it matters",
                "Example",
                "Fix",
                "Parameters",
                "References",
            ] {
                assert!(
                    rule.section(heading).is_some_and(|s| !s.is_empty()),
                    "{}: missing `## {heading}`",
                    rule.id
                );
            }
            assert!(
                md.contains("Use instead:"),
                "{}: missing `Use instead:`",
                rule.id
            );
            assert!(!rule.why().is_empty(), "{}: empty why", rule.id);
            for p in rule.params {
                assert!(
                    md.contains(&format!("`{}`", p.name)),
                    "{}: parameter `{}` is not documented",
                    rule.id,
                    p.name
                );
            }
        }
    }

    #[test]
    fn every_rule_has_a_fixture_with_failing_and_passing_cases() {
        // A derived rule's findings are made outside the engine, and tested there.
        for rule in all().iter().filter(|r| !matches!(r.check, Check::Derived)) {
            let path = testing::fixture_path(rule);
            let fixture = testing::load(&path).unwrap_or_else(|e| panic!("{}: {e}", rule.id));
            assert_eq!(fixture.rule, rule.id, "{}", path.display());
            assert!(
                fixture
                    .cases
                    .iter()
                    .any(|c| c.expect.iter().any(|e| !e.ends_with("(unknown)"))),
                "{}: no failing case",
                rule.id
            );
            assert!(
                fixture.cases.iter().any(|c| c.expect.is_empty()),
                "{}: no passing case",
                rule.id
            );
        }
    }

    /// The `## Example` block must trigger the rule and the `Use instead` block must not, so
    /// docs cannot drift from code.
    #[test]
    fn doc_examples_run() {
        for rule in all().iter().filter(|r| !matches!(r.check, Check::Derived)) {
            let md = rule.markdown();
            let example = crate::rule::section(&md, "Example").unwrap_or_default();
            let (bad, good) = example.split_once("Use instead:").unwrap_or((&example, ""));
            for (block, should_fire) in [(bad, true), (good, false)] {
                let yaml = code_block(block)
                    .unwrap_or_else(|| panic!("{}: example without a yaml block", rule.id));
                let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml)
                    .unwrap_or_else(|e| panic!("{}: example: {e}", rule.id));
                let case: testing::DocExample =
                    if doc.get("resources").is_some() || doc.get("manifests").is_some() {
                        serde_yaml_ng::from_value(doc)
                            .unwrap_or_else(|e| panic!("{}: example: {e}", rule.id))
                    } else {
                        testing::DocExample {
                            resources: doc.as_mapping().cloned().unwrap_or_default(),
                            ..testing::DocExample::default()
                        }
                    };
                let changes = testing::change_set(
                    &case.resources,
                    &case.manifests,
                    &case.providers,
                    &case.config,
                )
                .unwrap_or_else(|e| panic!("{}: {e}", rule.id));
                let findings = testing::run(&testing::resolve(rule, &case.params), &changes);
                let fired = findings.iter().any(|f| !f.unknown);
                assert_eq!(
                    fired,
                    should_fire,
                    "{}: example {} ({:?})",
                    rule.id,
                    if should_fire {
                        "did not fire"
                    } else {
                        "`Use instead` fired"
                    },
                    findings.iter().map(|f| &f.message).collect::<Vec<_>>()
                );
            }
        }
    }

    fn code_block(text: &str) -> Option<String> {
        let start = text.find("```yaml")? + "```yaml".len();
        let rest = text.get(start..)?;
        let end = rest.find("```")?;
        Some(rest.get(..end)?.to_owned())
    }
}
