//! The fixture harness: literate YAML cases per rule, plus ruff-style invariants.
//!
//! For every `fixtures/<provider>/<rule-name>.yaml` it runs only that rule on each case and
//! checks `expect`; then, for every finding, that it belongs to the rule, that the rule's fix
//! availability is honest, that applying each fix and re-evaluating removes the finding (the
//! converge check), and that reversing the resource order changes nothing.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use warden_core::{
    Action, ChangeSet, Context, Enforcement, Engine, Finding, InputInfo, InputKind, Mode,
    ProviderConfig, Resource, ResourceConfig, Setting, TerraformInfo, Value,
};

use crate::context::ResolvedRule;
use crate::engine::{BuiltinEngine, UnknownPolicy};
use crate::rule::{FixAvailability, RuleMeta};

/// One fixture file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fixture {
    pub(crate) rule: String,
    #[serde(default)]
    pub(crate) params: serde_json::Map<String, serde_json::Value>,
    pub(crate) cases: Vec<Case>,
}

/// One case: resources in, expected findings out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Case {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) params: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub(crate) resources: serde_yaml_ng::Mapping,
    /// Kubernetes manifests (each becomes a resource addressed `apiVersion/Kind/namespace/name`).
    #[serde(default)]
    pub(crate) manifests: Vec<serde_json::Value>,
    #[serde(default)]
    pub(crate) providers: Vec<FixtureProvider>,
    #[serde(default)]
    pub(crate) config: HashMap<String, FixtureConfig>,
    /// Addresses with a finding, `"<address> (unknown)"` for unknown findings; one entry per
    /// finding.
    pub(crate) expect: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FixtureProvider {
    #[serde(default)]
    key: Option<String>,
    name: String,
    #[serde(default)]
    alias: Option<String>,
    #[serde(default)]
    module: Option<String>,
    /// A literal region; `"unknown"` means set but not resolvable.
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    default_tags: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct FixtureConfig {
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    references: HashMap<String, Vec<String>>,
    #[serde(default)]
    constants: Vec<String>,
    /// Attributes set by other expressions (references and constants count already).
    #[serde(default)]
    attributes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureResource {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default = "default_action")]
    action: String,
    #[serde(default)]
    before: serde_json::Value,
    #[serde(default)]
    after: serde_json::Value,
    #[serde(default)]
    after_unknown: serde_json::Value,
    #[serde(default)]
    after_sensitive: serde_json::Value,
    #[serde(default)]
    index: Option<serde_json::Value>,
}

fn default_action() -> String {
    "create".to_owned()
}

/// Splits `module.a.data.aws_x.y[0]` into (module, mode, kind, name).
fn parse_address(address: &str) -> (Option<String>, Mode, String, String) {
    let stripped = warden_core::resource::strip_indexes(address);
    let parts: Vec<&str> = stripped.split('.').collect();
    let mut i = 0;
    let mut module = Vec::new();
    while parts.get(i) == Some(&"module") {
        module.push(format!(
            "module.{}",
            parts.get(i + 1).copied().unwrap_or_default()
        ));
        i += 2;
    }
    let mode = if parts.get(i) == Some(&"data") {
        i += 1;
        Mode::Data
    } else {
        Mode::Managed
    };
    let kind = parts.get(i).copied().unwrap_or_default().to_owned();
    let name = parts.get(i + 1).copied().unwrap_or_default().to_owned();
    (
        (!module.is_empty()).then(|| module.join(".")),
        mode,
        kind,
        name,
    )
}

/// Builds a change set from the `resources` map form used by fixtures and doc examples.
pub(crate) fn change_set(
    resources: &serde_yaml_ng::Mapping,
    manifests: &[serde_json::Value],
    providers: &[FixtureProvider],
    config: &HashMap<String, FixtureConfig>,
) -> Result<ChangeSet, String> {
    let mut out = Vec::new();
    for (i, manifest) in manifests.iter().enumerate() {
        let object = Value::from_json(manifest);
        if object.get("kind").and_then(Value::as_str).is_none() {
            return Err(format!("manifest {i} has no `kind`"));
        }
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        out.push(warden_core::inputs::kubernetes::resource(
            "fixture.yaml",
            &object,
            line,
            String::new(),
        ));
    }
    for (i, (address, spec)) in resources.iter().enumerate() {
        let address = address
            .as_str()
            .ok_or("resource addresses must be strings")?
            .to_owned();
        let spec: FixtureResource = serde_yaml_ng::from_value(spec.clone())
            .map_err(|e| format!("resource `{address}`: {e}"))?;
        let (module, mode, kind, name) = parse_address(&address);
        let actions: Vec<String> = match spec.action.as_str() {
            "replace" => vec!["delete".into(), "create".into()],
            other => vec![other.to_owned()],
        };
        let action = Action::from_terraform(&actions)
            .ok_or_else(|| format!("unknown action `{}`", spec.action))?;
        let mut r = Resource::new(address.clone(), spec.kind.unwrap_or(kind), action);
        r.name = name;
        r.module = module;
        r.mode = mode;
        r.index = spec.index.as_ref().map(Value::from_json);
        r.before = Value::from_json(&spec.before);
        r.after = Value::from_json(&spec.after);
        if action.is_live() && r.after.is_null() {
            r.after = Value::object(Vec::<(&str, Value)>::new());
        }
        r.after_unknown = Value::from_json(&spec.after_unknown);
        r.after_sensitive = Value::from_json(&spec.after_sensitive);
        r.source.file = Some("fixture.json".into());
        r.source.pointer = Some(format!("/resource_changes/{i}"));
        out.push(r);
    }
    let providers = providers
        .iter()
        .map(|p| ProviderConfig {
            key: p.key.clone().unwrap_or_else(|| match &p.alias {
                Some(a) => format!("{}.{a}", p.name),
                None => p.name.clone(),
            }),
            name: p.name.clone(),
            alias: p.alias.clone(),
            module: p.module.clone(),
            region: match p.region.as_deref() {
                None => Setting::Unset,
                Some("unknown") => Setting::Unknown("var.region".into()),
                Some(r) => Setting::Known(Value::from(r)),
            },
            default_tags: p
                .default_tags
                .as_ref()
                .map_or(Value::Null, Value::from_json),
        })
        .collect();
    let config = config
        .iter()
        .map(|(address, c)| {
            let mut references: Vec<(String, Vec<String>)> = c
                .references
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            references.sort();
            (
                address.clone(),
                ResourceConfig {
                    provider_config_key: c.provider.clone(),
                    attributes: references
                        .iter()
                        .map(|(k, _)| k.clone())
                        .chain(c.constants.iter().cloned())
                        .chain(c.attributes.iter().cloned())
                        .collect(),
                    references,
                    constants: c.constants.clone(),
                },
            )
        })
        .collect();
    Ok(ChangeSet {
        resources: out,
        context: Context::default(),
        input: InputInfo {
            path: "fixture.json".into(),
            kind: InputKind::TerraformPlan,
            digest: String::new(),
            format_version: Some("1.2".into()),
            tool_version: None,
        },
        terraform: Some(TerraformInfo {
            providers,
            config,
            ..TerraformInfo::default()
        }),
    })
}

/// A resolved rule with default parameters overlaid by `params`.
pub(crate) fn resolve(
    meta: &'static RuleMeta,
    params: &serde_json::Map<String, serde_json::Value>,
) -> ResolvedRule {
    let mut resolved = serde_json::Map::new();
    for p in meta.params {
        if let Some(v) = meta.param_default(p.name) {
            resolved.insert(p.name.to_owned(), v);
        }
    }
    for (k, v) in params {
        resolved.insert(k.clone(), v.clone());
    }
    ResolvedRule {
        meta,
        enforcement: meta.enforcement,
        unknown_enforcement: UnknownPolicy::default().for_rule(meta.enforcement),
        params: resolved,
        why: meta.why(),
        help_uri: meta.help_uri(),
    }
}

/// Runs one rule over a change set; findings sorted.
pub(crate) fn run(rule: &ResolvedRule, changes: &ChangeSet) -> Vec<Finding> {
    let engine = BuiltinEngine::new(vec![rule.clone()]);
    let mut out = Vec::new();
    engine.evaluate(changes, &mut out).unwrap_or_default();
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

fn describe(f: &Finding) -> String {
    if f.unknown {
        format!("{} (unknown)", f.resource)
    } else {
        f.resource.clone()
    }
}

/// Checks one case; returns what went wrong, and appends what a user would read of each
/// finding to `shown` (snapshotted per provider, so message changes are reviewed).
fn check_case(
    meta: &'static RuleMeta,
    fixture: &Fixture,
    case: &Case,
    shown: &mut String,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut params = fixture.params.clone();
    params.extend(case.params.clone());
    for key in params.keys() {
        if !meta.params.iter().any(|p| p.name == key) {
            problems.push(format!("unknown parameter `{key}`"));
        }
    }
    let rule = resolve(meta, &params);
    let changes = match change_set(
        &case.resources,
        &case.manifests,
        &case.providers,
        &case.config,
    ) {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let findings = run(&rule, &changes);
    for f in &findings {
        let _ = writeln!(
            shown,
            "{} {} [{}] {}: {}",
            f.rule_id,
            f.enforcement,
            case.name,
            describe(f),
            f.message
        );
        if let Some(fix) = &f.fix {
            let _ = writeln!(shown, "    fix: {}", fix.description);
        }
    }

    let mut got: Vec<String> = findings.iter().map(describe).collect();
    got.sort();
    let mut want = case.expect.clone();
    want.sort();
    if got != want {
        problems.push(format!(
            "expected {want:?}, got {got:?}; messages: {:?}",
            findings.iter().map(|f| &f.message).collect::<Vec<_>>()
        ));
    }

    for f in &findings {
        if f.rule_id != meta.id {
            problems.push(format!("finding of another rule: {}", f.rule_id));
        }
        if f.message.is_empty() || f.why.is_empty() {
            problems.push("finding without message or why".into());
        }
        if f.unknown {
            if f.fix.is_some() {
                problems.push("an unknown finding carries a fix".into());
            }
            continue;
        }
        match (meta.fix, &f.fix) {
            (FixAvailability::Always, None) => {
                problems.push(format!(
                    "rule says fix Always but `{}` has no fix",
                    f.resource
                ));
            }
            (FixAvailability::None, Some(_)) => {
                problems.push("rule says fix None but created a fix".into())
            }
            _ => {}
        }
        if let Some(fix) = f.fix.as_ref().filter(|fix| fix.is_patch()) {
            problems.extend(converge(&rule, &changes, f, fix));
        }
        if f.enforcement == Enforcement::Advisory && meta.enforcement != Enforcement::Advisory {
            problems.push("violation enforcement differs from the rule's".into());
        }
    }

    let mut reversed = changes.clone();
    reversed.resources.reverse();
    if run(&rule, &reversed) != findings {
        problems.push("findings depend on resource order".into());
    }
    problems
}

/// Applies the fix to the resource and re-runs the rule: the finding must be gone.
fn converge(
    rule: &ResolvedRule,
    changes: &ChangeSet,
    finding: &Finding,
    fix: &warden_core::Fix,
) -> Vec<String> {
    let mut fixed = changes.clone();
    let Some(resource) = fixed
        .resources
        .iter_mut()
        .find(|r| r.address == finding.resource)
    else {
        return vec![format!(
            "finding on a resource not in the case: {}",
            finding.resource
        )];
    };
    match warden_core::patch::apply(&resource.after, &fix.patch) {
        Ok(after) => resource.after = after,
        Err(e) => {
            return vec![format!(
                "fix for `{}` does not apply: {e}",
                finding.resource
            )]
        }
    }
    let again = run(rule, &fixed);
    if again
        .iter()
        .any(|f| f.resource == finding.resource && f.attribute == finding.attribute && !f.unknown)
    {
        vec![format!(
            "fix `{}` for `{}` did not remove the finding (converge check)",
            fix.description, finding.resource
        )]
    } else {
        Vec::new()
    }
}

/// The fixture file of a rule.
pub(crate) fn fixture_path(meta: &RuleMeta) -> PathBuf {
    let provider = match meta.id.split('-').nth(1) {
        Some("AWS") => "aws",
        Some("GCP") => "gcp",
        Some("AZURE") => "azure",
        Some("K8S") => "kubernetes",
        _ => "governance",
    };
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(provider)
        .join(format!("{}.yaml", meta.name))
}

/// Loads a fixture file.
pub(crate) fn load(path: &Path) -> Result<Fixture, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs every fixture of a provider folder; panics with every problem found.
pub(crate) fn run_provider_fixtures(provider: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(provider);
    let mut report = String::new();
    let mut shown = String::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let fixture = match load(path) {
            Ok(f) => f,
            Err(e) => {
                let _ = writeln!(report, "{e}");
                continue;
            }
        };
        let Some(meta) = crate::registry::find(&fixture.rule) else {
            let _ = writeln!(report, "{}: no rule `{}`", path.display(), fixture.rule);
            continue;
        };
        if fixture_path(meta) != *path {
            let _ = writeln!(
                report,
                "{}: fixture of `{}` should be named {}",
                path.display(),
                meta.id,
                fixture_path(meta).display()
            );
        }
        for case in &fixture.cases {
            for problem in check_case(meta, &fixture, case, &mut shown) {
                let _ = writeln!(
                    report,
                    "{} [{}] {}: {problem}",
                    meta.id,
                    path.file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or_default(),
                    case.name
                );
            }
        }
    }
    assert!(report.is_empty(), "fixture failures:\n{report}");
    insta::assert_snapshot!(format!("messages_{provider}"), shown);
}

/// A doc example in its long form (with parameters or providers).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct DocExample {
    #[serde(default)]
    pub(crate) params: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub(crate) resources: serde_yaml_ng::Mapping,
    #[serde(default)]
    pub(crate) manifests: Vec<serde_json::Value>,
    #[serde(default)]
    pub(crate) providers: Vec<FixtureProvider>,
    #[serde(default)]
    pub(crate) config: HashMap<String, FixtureConfig>,
}
