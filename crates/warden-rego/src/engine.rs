//! The Rego engine behind `warden check --policy`: conftest's conventions on Warden's
//! change sets.
//!
//! - **Rules**: `deny`, `violation`, `warn`, and `deny_<name>` / `violation_<name>` /
//!   `warn_<name>`, in namespace `main` unless configured (`namespaces`, or every package
//!   with `all_namespaces`). `deny` and `violation` deny; `warn` warns.
//! - **Input**: the document as conftest passes it: the raw plan JSON for a Terraform plan
//!   (from [`warden_core::TerraformInfo::document`]; without it, a plan-shaped document with
//!   `resource_changes` rebuilt from the change set), one manifest object per Kubernetes
//!   document (each document of a multi-document YAML file on its own, as conftest does
//!   without `--combine`). A `List` is one document for conftest: its items are passed
//!   together as `{"apiVersion": "v1", "kind": "List", "items": [...]}` (the list's own
//!   `kind`, e.g. `PodList`, and `metadata` are not kept by the manifest parser), and
//!   findings name the item a message names, else the file.
//! - **The normalized change set** is `data.warden.changeset` (`resources` with `address`,
//!   `type`, `name`, `provider`, `mode`, `module`, `action`, `before`, `after`,
//!   `after_unknown`, `file`, `line`; `context`; `input`), built only when a policy mentions
//!   `data.warden`.
//! - **The risk score** is `data.warden.risk` (`score`, `level`, `factors` with `factor`,
//!   `points`, `detail`), when the caller supplies it ([`RegoEngine::evaluate_with`]) and a
//!   policy mentions `data.warden.risk`: the score of what is known before the engines run
//!   (see `warden_policy::risk`).
//! - **Messages**: strings, or objects with `msg` plus metadata mapped onto the finding:
//!   `rule`/`id`, `title`, `severity`, `enforcement`, `why`, `fix` (a JSON Patch list, a
//!   sentence, or `{description, patch}`), `resource`/`address`, `attribute`/`path`,
//!   `_loc`/`file`/`line`, `help_uri`. A rule's `# METADATA` (`title`, `description`,
//!   `custom.id`, `custom.severity`, `related_resources`) fills what the message leaves out.
//! - **Resources**: each finding names the resource it is about: the message's `resource`;
//!   for a plan, else, the first resource address the message mentions; else the input.
//! - **Exceptions**: conftest's `exception[rules]` in the same package exempts
//!   `deny_<name>`/`violation_<name>` when `rules` contains `<name>` (and `deny`,
//!   `violation`, `warn…` rules when it contains their whole name): conftest drops such
//!   findings; Warden keeps them in the report as advisory, with a note.
//! - **Fail closed**: an evaluation error (a builtin error, a conflict, the time limit) is a
//!   `deny` finding naming the rule and the error, never a silent allow.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use warden_core::{
    Action, ChangeSet, Enforcement, EngineError, Finding, Fix, InputKind, Location, PatchOp,
    Resource, RuleInfo, Severity,
};

use crate::error::locate;
use crate::input::InputKeys;
use crate::loader::Compiled;
use crate::source::Metadata;
use crate::test_runner::rule_path;

/// Which packages hold the conftest rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespaces {
    /// Packages to query (`main` by default).
    pub names: Vec<String>,
    /// Query every package instead.
    pub all: bool,
}

impl Default for Namespaces {
    fn default() -> Namespaces {
        Namespaces {
            names: vec!["main".to_owned()],
            all: false,
        }
    }
}

/// One rule queried per document.
#[derive(Debug, Clone)]
struct Entrypoint {
    package: String,
    rule: String,
    /// The name an `exception` rule lists to exempt this rule (`<name>` of
    /// `deny_<name>`/`violation_<name>`; the rule's own name otherwise).
    exception_name: String,
    enforcement: Enforcement,
    metadata: Option<Metadata>,
    file: String,
    line: u32,
}

/// What findings and rule listings say about an entry point, from its METADATA (`title`,
/// `description`, `related_resources`, custom `id` and `severity`) or defaults.
struct About {
    id: String,
    title: String,
    severity: Severity,
    why: String,
    help_uri: Option<String>,
}

impl Entrypoint {
    fn about(&self) -> About {
        let meta = self.metadata.as_ref();
        let custom = |k: &str| meta.and_then(|m| m.custom.get(k)).and_then(|v| v.as_str());
        let qualified = || format!("{}.{}", self.package, self.rule);
        About {
            id: custom("id").map_or_else(qualified, str::to_owned),
            title: meta.and_then(|m| m.title.clone()).unwrap_or_else(qualified),
            severity: custom("severity")
                .and_then(|s| s.to_ascii_lowercase().parse().ok())
                .unwrap_or(match self.enforcement {
                    Enforcement::Deny => Severity::High,
                    _ => Severity::Medium,
                }),
            why: meta.and_then(|m| m.description.clone()).unwrap_or_default(),
            help_uri: meta.and_then(|m| m.related.first().cloned()),
        }
    }
}

/// Rego policies, compiled once, evaluated per document.
#[derive(Clone)]
pub struct RegoEngine {
    compiled: Compiled,
    entrypoints: Vec<Entrypoint>,
    /// Packages that define `exception`.
    exceptions: BTreeSet<String>,
    /// `true` when a policy reads `data.warden` (the normalized change set).
    wants_changeset: bool,
    wants_risk: bool,
    /// The top-level keys of `input` the policies read (`None`: any).
    input_keys: InputKeys,
    /// Whether the generated rule collecting every queried rule at once compiled
    /// ([`COLLECT_RULE`]).
    collect: bool,
}

/// The package and rule Warden adds to evaluate every queried rule of a document in one
/// evaluation: helper rules shared by several queried rules are evaluated once.
const COLLECT_PACKAGE: &str = "__warden_entrypoints";
const COLLECT_RULE: &str = "data.__warden_entrypoints.values";

/// Manifests evaluated on every core from this many documents on.
const PARALLEL_DOCUMENTS: usize = 64;

/// A plan converted ahead of evaluation ([`RegoEngine::prepare_document`]).
struct PreparedInput {
    /// The top-level keys kept (`None`: all).
    keys: InputKeys,
    /// The input value; dropped (to free its memory) once the rules were evaluated.
    value: Option<regorus::Value>,
    /// The rules already evaluated on it at a decision time (`now_ns`, then what
    /// [`RegoEngine::evaluate_rules`] gives), when no policy reads the change set.
    results: Option<(i64, Vec<Result<regorus::Value, String>>)>,
}

impl std::fmt::Debug for RegoEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoEngine")
            .field("compiled", &self.compiled)
            .field("entrypoints", &self.entrypoints.len())
            .finish_non_exhaustive()
    }
}

/// conftest's rule names: `deny`, `violation` and `warn`, each optionally followed by
/// `_<segment>` parts of ASCII letters and digits (`^(deny|violation|warn)(_[a-zA-Z0-9]+)*$`),
/// → the enforcement and the name an `exception` rule lists to exempt it (conftest strips
/// `deny_` and `violation_`; `deny`, `violation` and `warn…` names are used whole).
fn conftest_rule(name: &str) -> Option<(Enforcement, &str)> {
    for (prefix, enforcement) in [
        ("deny", Enforcement::Deny),
        ("violation", Enforcement::Deny),
        ("warn", Enforcement::Warn),
    ] {
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let segments_ok = rest.is_empty()
            || rest.strip_prefix('_').is_some_and(|tail| {
                tail.split('_')
                    .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
            });
        if !segments_ok {
            continue;
        }
        let exception_name = match enforcement {
            Enforcement::Deny => rest.strip_prefix('_').unwrap_or(name),
            _ => name,
        };
        return Some((enforcement, exception_name));
    }
    None
}

impl RegoEngine {
    /// Builds the engine from compiled policies: finds the conftest rules of the selected
    /// namespaces (test files are never queried).
    #[must_use]
    pub fn new(compiled: Compiled, namespaces: &Namespaces) -> RegoEngine {
        let mut entrypoints: BTreeMap<(String, String), Entrypoint> = BTreeMap::new();
        let mut exceptions = BTreeSet::new();
        let mut wants_changeset = false;
        let mut wants_risk = false;
        for file in compiled.files.iter().filter(|f| !f.is_test_file()) {
            wants_changeset |= file.source.contains("data.warden");
            wants_risk |= file.source.contains("data.warden.risk");
            let Some(package) = &file.scan.package else {
                continue;
            };
            if !namespaces.all && !namespaces.names.iter().any(|n| n == package) {
                continue;
            }
            for head in &file.scan.rules {
                if head.name == "exception" {
                    exceptions.insert(package.clone());
                    continue;
                }
                let Some((enforcement, exception_name)) = conftest_rule(&head.name) else {
                    continue;
                };
                let entry = entrypoints
                    .entry((package.clone(), head.name.clone()))
                    .or_insert_with(|| Entrypoint {
                        package: package.clone(),
                        rule: head.name.clone(),
                        exception_name: exception_name.to_owned(),
                        enforcement,
                        metadata: None,
                        file: file.path.clone(),
                        line: head.line,
                    });
                if entry.metadata.is_none() {
                    entry.metadata = head.metadata.clone();
                }
            }
        }
        let mut input_keys: InputKeys = Some(BTreeSet::new());
        for file in &compiled.files {
            input_keys = match (input_keys, &file.scan.input_keys) {
                (Some(mut all), Some(keys)) => {
                    all.extend(keys.iter().cloned());
                    Some(all)
                }
                _ => None,
            };
        }
        let mut engine = RegoEngine {
            compiled,
            entrypoints: entrypoints.into_values().collect(),
            exceptions,
            wants_changeset,
            wants_risk,
            input_keys,
            collect: false,
        };
        engine.collect = engine.add_collect_rule();
        engine
    }

    /// Adds the rule that evaluates every queried rule at once: an array with, for each
    /// package with exceptions then each entry point, `[value]` when the rule is defined and
    /// `[]` when not. `false` when it does not compile (then rules are evaluated one by one).
    fn add_collect_rule(&mut self) -> bool {
        if self.entrypoints.is_empty() {
            return false;
        }
        let items: Vec<String> = self
            .exceptions
            .iter()
            .map(|package| rule_path(package, "exception"))
            .chain(
                self.entrypoints
                    .iter()
                    .map(|e| rule_path(&e.package, &e.rule)),
            )
            .map(|path| format!("[x | x := {path}]"))
            .collect();
        let source = format!(
            "package {COLLECT_PACKAGE}\n\nvalues := [\n  {},\n]\n",
            items.join(",\n  ")
        );
        let mut engine = self.compiled.engine.clone();
        engine.set_rego_v0(false);
        let ok = engine
            .add_policy(format!("{COLLECT_PACKAGE}.rego"), source)
            .is_ok()
            && crate::guard(|| {
                engine
                    .eval_query("true".to_owned(), false)
                    .map(|_| ())
                    .map_err(|e| format!("{e:#}"))
            })
            .is_ok();
        if ok {
            self.compiled.engine = engine;
        }
        ok
    }

    /// Converts a plan's text once into the input its Rego policies read (only the
    /// top-level keys they name). Evaluation reports a document that does not convert.
    #[must_use]
    pub fn prepare_document(&self, text: &str) -> warden_core::RawDocument {
        self.prepare(text, None)
    }

    /// [`RegoEngine::prepare_document`], then the rules evaluated on it at the decision time
    /// `now_ns` (unless a policy reads `data.warden.changeset`, which needs the parsed
    /// plan), and the converted input dropped: the caller can do this while (or before) the
    /// plan is parsed; evaluation at the same time then only builds the findings, and at
    /// another time is an error.
    #[must_use]
    pub fn prepare_document_at(&self, text: &str, now_ns: i64) -> warden_core::RawDocument {
        self.prepare(text, Some(now_ns))
    }

    fn prepare(&self, text: &str, now_ns: Option<i64>) -> warden_core::RawDocument {
        let value = match crate::input::document(text, self.input_keys.as_ref()) {
            Ok(value) => value,
            Err(_) => return warden_core::RawDocument::new(text),
        };
        let (value, results) = match now_ns {
            Some(now) if !self.wants_changeset && !self.entrypoints.is_empty() => {
                crate::extensions::set_now_ns(now);
                let mut engine = self.compiled.engine.clone();
                engine.set_input(value);
                (None, Some((now, self.evaluate_rules(&mut engine))))
            }
            _ => (Some(value), None),
        };
        warden_core::RawDocument::prepared(PreparedInput {
            keys: self.input_keys.clone(),
            value,
            results,
        })
    }

    /// The rule values evaluated when the plan was prepared, at this decision time.
    fn prepared_results<'c>(
        &self,
        changes: &'c ChangeSet,
        now_ns: i64,
    ) -> Option<&'c [Result<regorus::Value, String>]> {
        let prepared = changes
            .terraform
            .as_ref()?
            .document
            .as_ref()?
            .prepared_as::<PreparedInput>()?;
        match &prepared.results {
            Some((at, values)) if *at == now_ns && prepared.keys == self.input_keys => {
                Some(values.as_slice())
            }
            _ => None,
        }
    }

    /// The input value of a plan's raw document.
    fn plan_input(&self, changes: &ChangeSet) -> Result<regorus::Value, EngineError> {
        let error = |message: String| EngineError {
            engine: "rego".to_owned(),
            message: format!("{}: {message}", changes.input.path),
        };
        let Some(raw) = changes.terraform.as_ref().and_then(|t| t.document.as_ref()) else {
            return Ok(regorus::Value::from(rebuilt_plan(changes)));
        };
        if let Some(prepared) = raw.prepared_as::<PreparedInput>() {
            let covers = match (&prepared.keys, &self.input_keys) {
                (None, _) => true,
                (Some(kept), Some(read)) => read.is_subset(kept),
                (Some(_), None) => false,
            };
            return match (&prepared.value, covers) {
                (Some(value), true) => Ok(value.clone()),
                (None, true) => Err(error(
                    "the plan's Rego rules were evaluated when it was prepared, at another decision time; prepare it again to evaluate it at this one"
                        .to_owned(),
                )),
                (_, false) => Err(error(
                    "the plan was prepared for other Rego policies (it lacks parts these read)"
                        .to_owned(),
                )),
            };
        }
        let text = raw
            .as_str()
            .ok_or_else(|| error("the plan's raw document is not readable by Rego".to_owned()))?;
        crate::input::document(text, self.input_keys.as_ref())
            .map_err(|e| error(format!("plan is not JSON: {e}")))
    }

    /// The compiled policies (files loaded, load errors).
    #[must_use]
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// Whether a policy reads `data.warden.risk` (so the caller should score the change
    /// before the engines run and pass it to [`RegoEngine::evaluate_with`]).
    #[must_use]
    pub fn reads_risk(&self) -> bool {
        self.wants_risk && !self.entrypoints.is_empty()
    }

    /// Evaluates one change set at the decision time `now_ns` (what `time.now_ns()` returns).
    pub fn evaluate_at(
        &self,
        changes: &ChangeSet,
        now_ns: i64,
        out: &mut Vec<Finding>,
    ) -> Result<(), EngineError> {
        self.evaluate_with(changes, now_ns, None, out)
    }

    /// [`RegoEngine::evaluate_at`] with the change's risk as `data.warden.risk` (a
    /// serialized `warden_core::Risk`; `null` when `None`).
    pub fn evaluate_with(
        &self,
        changes: &ChangeSet,
        now_ns: i64,
        risk: Option<&serde_json::Value>,
        out: &mut Vec<Finding>,
    ) -> Result<(), EngineError> {
        if self.entrypoints.is_empty() {
            return Ok(());
        }
        crate::extensions::set_now_ns(now_ns);
        let mut engine = self.compiled.engine.clone();
        if self.wants_changeset {
            let mut warden = serde_json::Map::new();
            warden.insert("changeset".to_owned(), changeset_json(changes));
            if self.wants_risk {
                warden.insert(
                    "risk".to_owned(),
                    risk.cloned().unwrap_or(serde_json::Value::Null),
                );
            }
            let data = serde_json::json!({ "warden": warden });
            crate::guard(|| {
                engine
                    .add_data(regorus::Value::from(data))
                    .map_err(|e| format!("{e:#}"))?;
                engine
                    .eval_query("true".to_owned(), false)
                    .map(|_| ())
                    .map_err(|e| format!("{e:#}"))
            })
            .map_err(|e| EngineError {
                engine: "rego".to_owned(),
                message: format!("data.warden.changeset: {e}"),
            })?;
        }
        match changes.input.kind {
            InputKind::TerraformPlan => {
                let index = AddressIndex::new(changes);
                if let Some(values) = self.prepared_results(changes, now_ns) {
                    self.findings_of(values, changes, None, &index, out);
                } else {
                    let document = self.plan_input(changes)?;
                    self.evaluate_document(&mut engine, document, changes, None, &index, out);
                }
            }
            InputKind::KubernetesManifests => {
                let index = AddressIndex::new(changes);
                let threads =
                    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
                let documents = manifest_documents(&changes.resources);
                if threads < 2 || documents.len() < PARALLEL_DOCUMENTS {
                    for document in &documents {
                        self.evaluate_manifest(&mut engine, document, changes, &index, out);
                    }
                    return Ok(());
                }
                // Documents on every core: one clone of the prepared engine per thread,
                // contiguous runs of documents, findings joined in document order.
                let prepared = &engine;
                let index = &index;
                let parts: Vec<Option<Vec<Finding>>> = std::thread::scope(|scope| {
                    let handles: Vec<_> = documents
                        .chunks(documents.len().div_ceil(threads))
                        .map(|run| {
                            scope.spawn(move || {
                                crate::extensions::set_now_ns(now_ns);
                                let mut engine = prepared.clone();
                                let mut found = Vec::new();
                                for document in run {
                                    self.evaluate_manifest(
                                        &mut engine,
                                        document,
                                        changes,
                                        index,
                                        &mut found,
                                    );
                                }
                                found
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().ok()).collect()
                });
                for part in parts {
                    let Some(part) = part else {
                        return Err(EngineError {
                            engine: "rego".to_owned(),
                            message: format!(
                                "{}: evaluating the manifests failed internally",
                                changes.input.path
                            ),
                        });
                    };
                    out.extend(part);
                }
            }
        }
        Ok(())
    }

    /// One manifest document: an object, or the items of a `List` together.
    fn evaluate_manifest(
        &self,
        engine: &mut regorus::Engine,
        document: &Manifest<'_>,
        changes: &ChangeSet,
        index: &AddressIndex<'_>,
        out: &mut Vec<Finding>,
    ) {
        match document {
            Manifest::Object(resource) => self.evaluate_document(
                engine,
                manifest_input(resource, changes.context.review.as_ref()),
                changes,
                Some(resource),
                index,
                out,
            ),
            Manifest::List(items) => {
                let list = regorus::Value::from(
                    [
                        ("apiVersion", regorus::Value::from("v1")),
                        ("kind", regorus::Value::from("List")),
                        (
                            "items",
                            regorus::Value::from(
                                items
                                    .iter()
                                    .map(|r| to_regorus(&r.after))
                                    .collect::<Vec<_>>(),
                            ),
                        ),
                    ]
                    .into_iter()
                    .map(|(k, v)| (regorus::Value::from(k), v))
                    .collect::<BTreeMap<_, _>>(),
                );
                let start = out.len();
                self.evaluate_document(engine, list, changes, None, index, out);
                // Findings about the list: at the list (its first item's place) unless the
                // message named an item.
                if let Some(first) = items.first() {
                    for f in out.iter_mut().skip(start) {
                        if f.resource == changes.input.path {
                            f.location = changes.location_of(first);
                            f.location.pointer = None;
                        }
                    }
                }
            }
        }
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one document's evaluation needs its engine, input, change set, resource, index and output"
    )]
    fn evaluate_document(
        &self,
        engine: &mut regorus::Engine,
        document: regorus::Value,
        changes: &ChangeSet,
        resource: Option<&Resource>,
        index: &AddressIndex<'_>,
        out: &mut Vec<Finding>,
    ) {
        engine.set_input(document);
        let values = self.evaluate_rules(engine);
        self.findings_of(&values, changes, resource, index, out);
    }

    /// The findings of one document from the values of its rules
    /// ([`RegoEngine::evaluate_rules`]).
    fn findings_of(
        &self,
        values: &[Result<regorus::Value, String>],
        changes: &ChangeSet,
        resource: Option<&Resource>,
        index: &AddressIndex<'_>,
        out: &mut Vec<Finding>,
    ) {
        let (exception_values, entry_values) =
            values.split_at(self.exceptions.len().min(values.len()));
        // The rule names each package exempts for this document.
        let mut exempt: HashMap<&str, BTreeSet<String>> = HashMap::new();
        for (package, value) in self.exceptions.iter().zip(exception_values) {
            let names = exempt.entry(package.as_str()).or_default();
            for rules in value.iter().flat_map(values_of) {
                for name in values_of(rules) {
                    if let regorus::Value::String(s) = name {
                        names.insert(s.to_string());
                    }
                }
            }
        }
        for (entry, value) in self.entrypoints.iter().zip(entry_values) {
            let value = match value {
                Ok(v) => v,
                Err(e) => {
                    out.push(self.error_finding(entry, e, changes, resource));
                    continue;
                }
            };
            let exempted = exempt
                .get(entry.package.as_str())
                .is_some_and(|names| names.contains(&entry.exception_name));
            for message in values_of(value) {
                let mut finding = self.finding(entry, message, changes, resource, index);
                if exempted {
                    finding.enforcement = Enforcement::Advisory;
                    finding.note = Some(format!(
                        "exempted by the `exception` rule of package {} (conftest exception for `{}`)",
                        entry.package, entry.exception_name
                    ));
                }
                out.push(finding);
            }
        }
    }

    /// The value of each package's `exception` rule, then of each entry point, on the input
    /// set: in one evaluation when the collecting rule compiled and nothing fails, else one
    /// by one (so an error names its rule). Undefined rules give `Undefined`.
    fn evaluate_rules(&self, engine: &mut regorus::Engine) -> Vec<Result<regorus::Value, String>> {
        let count = self.exceptions.len() + self.entrypoints.len();
        if self.collect {
            let all = crate::guard(|| {
                engine
                    .eval_rule(COLLECT_RULE.to_owned())
                    .map_err(|e| format!("{e:#}"))
            });
            if let Ok(regorus::Value::Array(items)) = all {
                if items.len() == count {
                    return items
                        .iter()
                        .map(|item| {
                            Ok(match item {
                                regorus::Value::Array(a) => {
                                    a.first().cloned().unwrap_or(regorus::Value::Undefined)
                                }
                                _ => regorus::Value::Undefined,
                            })
                        })
                        .collect();
                }
            }
        }
        self.exceptions
            .iter()
            .map(|package| rule_path(package, "exception"))
            .chain(
                self.entrypoints
                    .iter()
                    .map(|e| rule_path(&e.package, &e.rule)),
            )
            .map(|path| crate::guard(|| engine.eval_rule(path).map_err(|e| format!("{e:#}"))))
            .collect()
    }

    fn base_finding(
        &self,
        entry: &Entrypoint,
        changes: &ChangeSet,
        resource: Option<&Resource>,
    ) -> Finding {
        let about = entry.about();
        let (address, kind, action, location) = match resource {
            Some(r) => (
                r.address.clone(),
                r.kind.clone(),
                r.action,
                changes.location_of(r),
            ),
            None => input_target(changes),
        };
        Finding {
            rule_id: about.id,
            rule_name: entry.rule.clone(),
            title: about.title,
            severity: about.severity,
            enforcement: entry.enforcement,
            resource: address,
            resource_kind: kind,
            action,
            attribute: None,
            location,
            message: String::new(),
            why: about.why,
            fix: None,
            unknown: false,
            aliases: Vec::new(),
            help_uri: about.help_uri,
            note: None,
        }
    }

    fn error_finding(
        &self,
        entry: &Entrypoint,
        error: &str,
        changes: &ChangeSet,
        resource: Option<&Resource>,
    ) -> Finding {
        let (place, message) = locate(error, &entry.file);
        let mut f = self.base_finding(entry, changes, resource);
        f.enforcement = Enforcement::Deny;
        f.severity = Severity::High;
        f.message = format!(
            "policy evaluation failed, so the change cannot be allowed: {place}: {message}"
        );
        f
    }

    fn finding(
        &self,
        entry: &Entrypoint,
        message: &regorus::Value,
        changes: &ChangeSet,
        resource: Option<&Resource>,
        index: &AddressIndex<'_>,
    ) -> Finding {
        let mut f = self.base_finding(entry, changes, resource);
        let json = serde_json::to_value(message).unwrap_or_default();
        let obj = json.as_object();
        let text = |k: &str| obj.and_then(|o| o.get(k)).and_then(|v| v.as_str());
        f.message = match &json {
            serde_json::Value::String(s) => s.clone(),
            _ => text("msg")
                .or_else(|| text("message"))
                .map_or_else(|| json.to_string(), str::to_owned),
        };
        if let Some(id) = text("rule").or_else(|| text("id")) {
            id.clone_into(&mut f.rule_id);
        }
        if let Some(t) = text("title") {
            t.clone_into(&mut f.title);
        }
        if let Some(s) = text("severity").and_then(|s| s.to_ascii_lowercase().parse().ok()) {
            f.severity = s;
        }
        if let Some(e) = text("enforcement").and_then(|s| s.parse().ok()) {
            f.enforcement = e;
        }
        if let Some(w) = text("why") {
            w.clone_into(&mut f.why);
        }
        if let Some(h) = text("help_uri") {
            f.help_uri = Some(h.to_owned());
        }
        f.attribute = obj
            .and_then(|o| o.get("attribute").or_else(|| o.get("path")))
            .and_then(dotted);
        f.fix = obj.and_then(|o| o.get("fix")).and_then(fix_of);
        // Which resource: the message says, or (plans) it mentions one, or the input.
        let named = text("resource").or_else(|| text("address"));
        let target = match (named, resource) {
            (Some(address), _) => index.find(address).or(Some(Err(address))),
            (None, None) => index.mentioned(&f.message).map(Ok),
            (None, Some(_)) => None,
        };
        match target {
            Some(Ok(r)) => {
                r.address.clone_into(&mut f.resource);
                r.kind.clone_into(&mut f.resource_kind);
                f.action = r.action;
                f.location = changes.location_of(r);
            }
            Some(Err(address)) => address.clone_into(&mut f.resource),
            None => {}
        }
        let loc = obj.and_then(|o| o.get("_loc")).and_then(|l| l.as_object());
        let file = loc
            .and_then(|l| l.get("file"))
            .or_else(|| obj.and_then(|o| o.get("file")))
            .and_then(|v| v.as_str());
        let line = loc
            .and_then(|l| l.get("line"))
            .or_else(|| obj.and_then(|o| o.get("line")))
            .and_then(serde_json::Value::as_u64)
            .and_then(|l| u32::try_from(l).ok());
        if let Some(file) = file {
            f.location.file = Some(file.to_owned());
            f.location.line = line;
        } else if line.is_some() {
            f.location.line = line;
        }
        f
    }
}

impl warden_core::Engine for RegoEngine {
    fn name(&self) -> &'static str {
        "rego"
    }

    fn evaluate(&self, changes: &ChangeSet, out: &mut Vec<Finding>) -> Result<(), EngineError> {
        self.evaluate_at(changes, 0, out)
    }

    fn rules(&self) -> Vec<RuleInfo> {
        self.entrypoints
            .iter()
            .map(|e| {
                let about = e.about();
                RuleInfo {
                    id: about.id,
                    name: e.rule.clone(),
                    title: about.title,
                    severity: about.severity,
                    default_enforcement: e.enforcement,
                    enforcement: e.enforcement,
                    kinds: Vec::new(),
                    docs: format!(
                        "{}\n\nRego rule `{}` in package `{}` ({}:{}).",
                        about.why, e.rule, e.package, e.file, e.line
                    )
                    .trim_start()
                    .to_owned(),
                    why: about.why,
                    help_uri: about.help_uri,
                    aliases: Vec::new(),
                    fixable: false,
                }
            })
            .collect()
    }
}

/// The members of a set, array or object (values), or nothing.
fn values_of(v: &regorus::Value) -> Vec<&regorus::Value> {
    match v {
        regorus::Value::Set(s) => s.iter().collect(),
        regorus::Value::Array(a) => a.iter().collect(),
        regorus::Value::Object(o) => o.values().collect(),
        _ => Vec::new(),
    }
}

/// `"a.b"` or `["a", 0, "b"]` → `a.b` / `a.0.b`.
fn dotted(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.trim_start_matches('/').replace('/', ".")),
        serde_json::Value::Array(parts) => Some(
            parts
                .iter()
                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("."),
        ),
        _ => None,
    }
}

fn patch_ops(list: &[serde_json::Value]) -> Option<Vec<PatchOp>> {
    list.iter()
        .map(|op| {
            let path = match op.get("path")? {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(parts) => parts
                    .iter()
                    .map(|p| {
                        let token = p.as_str().map_or_else(|| p.to_string(), str::to_owned);
                        format!("/{}", warden_core::value::escape_pointer_token(&token))
                    })
                    .collect(),
                _ => return None,
            };
            let value = || op.get("value").map(warden_core::Value::from_json);
            Some(match op.get("op")?.as_str()? {
                "add" => PatchOp::Add {
                    path,
                    value: value()?,
                },
                "replace" => PatchOp::Replace {
                    path,
                    value: value()?,
                },
                "remove" => PatchOp::Remove { path },
                _ => return None,
            })
        })
        .collect()
}

/// `fix`: a JSON Patch list, a sentence, or `{description, patch}`.
fn fix_of(v: &serde_json::Value) -> Option<Fix> {
    match v {
        serde_json::Value::String(s) => Some(Fix {
            description: s.clone(),
            patch: Vec::new(),
            source: Vec::new(),
            snippet: None,
        }),
        serde_json::Value::Array(list) => Some(Fix::patch(
            "Apply the JSON Patch the policy gives",
            patch_ops(list)?,
        )),
        serde_json::Value::Object(o) => {
            let description = o
                .get("description")
                .and_then(|d| d.as_str())
                .unwrap_or("Apply the JSON Patch the policy gives")
                .to_owned();
            let patch = match o.get("patch") {
                Some(serde_json::Value::Array(list)) => patch_ops(list)?,
                _ => Vec::new(),
            };
            Some(Fix {
                description,
                patch,
                source: Vec::new(),
                snippet: o.get("snippet").and_then(|s| s.as_str()).map(str::to_owned),
            })
        }
        _ => None,
    }
}

/// A document of a manifest file as conftest passes it.
enum Manifest<'a> {
    /// One object.
    Object(&'a Resource),
    /// The items of one `List` (the manifest parser expands them: `/items/<i>` pointers).
    List(Vec<&'a Resource>),
}

/// The documents of a manifest file: runs of `/items/0`, `/items/1`, … are one `List`.
fn manifest_documents(resources: &[Resource]) -> Vec<Manifest<'_>> {
    let item = |r: &Resource| {
        r.source
            .pointer
            .as_deref()
            .and_then(|p| p.strip_prefix("/items/"))
            .and_then(|i| i.parse::<usize>().ok())
    };
    let mut out: Vec<Manifest<'_>> = Vec::new();
    for r in resources {
        match (item(r), out.last_mut()) {
            (Some(0), _) => out.push(Manifest::List(vec![r])),
            (Some(i), Some(Manifest::List(items))) if items.len() == i => items.push(r),
            (Some(_), _) => out.push(Manifest::List(vec![r])),
            (None, _) => out.push(Manifest::Object(r)),
        }
    }
    out
}

/// What a finding about the whole input names: the input path.
fn input_target(changes: &ChangeSet) -> (String, String, Action, Location) {
    let kind = match changes.input.kind {
        InputKind::TerraformPlan => "terraform-plan",
        InputKind::KubernetesManifests => "kubernetes-manifests",
    };
    (
        changes.input.path.clone(),
        kind.to_owned(),
        Action::NoOp,
        Location {
            file: Some(changes.input.path.clone()),
            line: None,
            pointer: None,
        },
    )
}

/// Resource addresses of a change set, to name the resource a message is about.
struct AddressIndex<'a> {
    by_address: HashMap<&'a str, &'a Resource>,
}

impl<'a> AddressIndex<'a> {
    fn new(changes: &'a ChangeSet) -> AddressIndex<'a> {
        AddressIndex {
            by_address: changes
                .resources
                .iter()
                .map(|r| (r.address.as_str(), r))
                .collect(),
        }
    }

    fn find<'m>(&self, address: &'m str) -> Option<Result<&'a Resource, &'m str>> {
        self.by_address.get(address).map(|r| Ok(*r))
    }

    /// The first resource address the message mentions (a word, give or take quotes and
    /// trailing punctuation).
    fn mentioned(&self, message: &str) -> Option<&'a Resource> {
        const TRIM: &[char] = &[
            '\'', '"', '`', '(', ')', '<', '>', ',', ';', ':', '.', '[', ']',
        ];
        for word in message.split_whitespace() {
            let mut w = word.trim_start_matches(['\'', '"', '`', '(', '<', '[']);
            loop {
                if let Some(r) = self.by_address.get(w) {
                    return Some(r);
                }
                let Some(last) = w.chars().last().filter(|c| TRIM.contains(c)) else {
                    break;
                };
                w = &w[..w.len() - last.len_utf8()];
            }
        }
        None
    }
}

/// The input of one manifest object: the object as conftest passes it; under admission
/// (the change set carries the AdmissionReview request) the object's members plus `review`,
/// the request, as Gatekeeper passes it — so both conventions read the same input. A
/// deleted object (`after` null) gives only `review` (its `oldObject` holds the object).
fn manifest_input(resource: &Resource, review: Option<&warden_core::Value>) -> regorus::Value {
    let object = to_regorus(&resource.after);
    let Some(review) = review else {
        return object;
    };
    let mut input = match object {
        regorus::Value::Object(_) => object,
        _ => regorus::Value::new_object(),
    };
    if let Ok(members) = input.as_object_mut() {
        members.insert(regorus::Value::from("review"), to_regorus(review));
    }
    input
}

/// Warden's value → regorus' value.
#[must_use]
pub fn to_regorus(v: &warden_core::Value) -> regorus::Value {
    use warden_core::value::Number;
    match v {
        warden_core::Value::Null => regorus::Value::Null,
        warden_core::Value::Bool(b) => regorus::Value::from(*b),
        warden_core::Value::Number(n) => match *n {
            Number::PosInt(u) => regorus::Value::from(u),
            Number::NegInt(i) => regorus::Value::from(i),
            Number::Float(f) => regorus::Value::from(f),
        },
        warden_core::Value::String(s) => regorus::Value::from(s.as_str()),
        warden_core::Value::Array(items) => {
            regorus::Value::from(items.iter().map(to_regorus).collect::<Vec<_>>())
        }
        warden_core::Value::Object(_) => regorus::Value::from(
            v.entries()
                .iter()
                .map(|(k, v)| (regorus::Value::from(k.as_str()), to_regorus(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

fn resource_json(r: &Resource) -> serde_json::Value {
    serde_json::json!({
        "address": r.address,
        "type": r.kind,
        "name": r.name,
        "provider": r.provider,
        "mode": match r.mode { warden_core::Mode::Managed => "managed", warden_core::Mode::Data => "data" },
        "module": r.module,
        "action": r.action.as_str(),
        "before": r.before.to_json(),
        "after": r.after.to_json(),
        "after_unknown": r.after_unknown.to_json(),
        "file": r.source.file,
        "line": r.source.line,
    })
}

/// `data.warden.changeset`.
fn changeset_json(changes: &ChangeSet) -> serde_json::Value {
    serde_json::json!({
        "resources": changes.resources.iter().map(resource_json).collect::<Vec<_>>(),
        "context": serde_json::to_value(&changes.context).unwrap_or_default(),
        "input": serde_json::to_value(&changes.input).unwrap_or_default(),
    })
}

/// A plan-shaped document for a change set whose raw plan was not kept.
fn rebuilt_plan(changes: &ChangeSet) -> serde_json::Value {
    let actions = |a: Action| -> Vec<&str> {
        match a {
            Action::Replace => vec!["delete", "create"],
            other => vec![other.as_str()],
        }
    };
    serde_json::json!({
        "format_version": changes.input.format_version,
        "resource_changes": changes.resources.iter().map(|r| serde_json::json!({
            "address": r.address,
            "module_address": r.module,
            "mode": match r.mode { warden_core::Mode::Managed => "managed", warden_core::Mode::Data => "data" },
            "type": r.kind,
            "name": r.name,
            "index": r.index.as_ref().map(warden_core::Value::to_json),
            "provider_name": r.provider_source,
            "change": {
                "actions": actions(r.action),
                "before": r.before_state().to_json(),
                "after": r.after.to_json(),
                "after_unknown": r.after_unknown.to_json(),
            },
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::{compile, Options, PolicyFile};
    use warden_core::Engine as _;

    fn engine(files: &[(&str, &str)], namespaces: &Namespaces) -> RegoEngine {
        let files = files
            .iter()
            .map(|(p, s)| PolicyFile::new(*p, (*s).to_owned()))
            .collect();
        let compiled = compile(files, &regorus::Value::Undefined, &Options::default());
        assert!(compiled.errors.is_empty(), "{:?}", compiled.errors);
        RegoEngine::new(compiled, namespaces)
    }

    fn parse(name: &str, text: &str) -> ChangeSet {
        let input = warden_core::inputs::InputBytes {
            name: name.to_owned(),
            bytes: text.as_bytes().to_vec(),
        };
        let mut changes = warden_core::inputs::parse(&input).unwrap();
        if let Some(t) = changes.terraform.as_mut() {
            t.document = Some(warden_core::RawDocument::new(text));
        }
        changes
    }

    const PLAN: &str = r#"{"format_version": "1.2", "resource_changes": [
      {"address": "aws_s3_bucket.logs", "mode": "managed", "type": "aws_s3_bucket", "name": "logs",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["create"], "before": null, "after": {"acl": "public-read", "bucket": "logs"}, "after_unknown": {}}},
      {"address": "aws_s3_bucket.ok", "mode": "managed", "type": "aws_s3_bucket", "name": "ok",
       "provider_name": "registry.terraform.io/hashicorp/aws",
       "change": {"actions": ["create"], "before": null, "after": {"acl": "private", "bucket": "ok"}, "after_unknown": {}}}
    ]}"#;

    const POLICY: &str = r#"package main

# METADATA
# title: Buckets are private
# description: A public bucket exposes its objects to everyone.
# custom:
#   id: ORG-S3-1
#   severity: critical
deny_public[msg] {
  rc := input.resource_changes[_]
  rc.type == "aws_s3_bucket"
  rc.change.after.acl == "public-read"
  msg := sprintf("%s has a public ACL", [rc.address])
}

warn[res] {
  rc := input.resource_changes[_]
  not rc.change.after.tags
  res := {"msg": "no tags", "resource": rc.address, "severity": "low", "attribute": "tags",
          "fix": [{"op": "add", "path": "/tags", "value": {"owner": "me"}}], "why": "ownership"}
}
"#;

    #[test]
    fn admission_requests_give_gatekeeper_style_input_review() {
        let policy = r#"package main

deny[msg] {
  input.review.object.spec.hostNetwork
  msg := sprintf("gatekeeper: %s on the host network (%s by %s)", [input.review.name, input.review.operation, input.review.userInfo.username])
}

deny[msg] {
  input.kind == "Pod"
  input.spec.hostNetwork
  msg := "conftest: host network"
}
"#;
        let engine = engine(&[("p.rego", policy)], &Namespaces::default());
        let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"x"},"spec":{"hostNetwork":true}}"#;
        // `warden check`: no review, only the conftest-style rule sees the object.
        let mut changes = parse("p.json", pod);
        let mut out = Vec::new();
        engine.evaluate(&changes, &mut out).unwrap();
        let messages: Vec<&str> = out.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages, ["conftest: host network"]);
        // Under admission both conventions read the same input.
        let review: warden_core::Value = serde_json::from_str(&format!(
            r#"{{"name":"a","operation":"CREATE","userInfo":{{"username":"bob"}},"object":{pod}}}"#
        ))
        .unwrap();
        changes.context.review = Some(review);
        let mut out = Vec::new();
        engine.evaluate(&changes, &mut out).unwrap();
        let mut messages: Vec<&str> = out.iter().map(|f| f.message.as_str()).collect();
        messages.sort_unstable();
        assert_eq!(
            messages,
            [
                "conftest: host network",
                "gatekeeper: a on the host network (CREATE by bob)"
            ]
        );
    }

    #[test]
    fn conftest_rules_on_a_raw_plan() {
        let e = engine(&[("policy/main.rego", POLICY)], &Namespaces::default());
        let mut out = Vec::new();
        e.evaluate(&parse("plan.json", PLAN), &mut out).unwrap();
        out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let deny = &out[0];
        assert_eq!(deny.rule_id, "ORG-S3-1");
        assert_eq!(deny.title, "Buckets are private");
        assert_eq!(deny.severity, Severity::Critical);
        assert_eq!(deny.enforcement, Enforcement::Deny);
        assert_eq!(deny.resource, "aws_s3_bucket.logs");
        assert_eq!(deny.resource_kind, "aws_s3_bucket");
        assert_eq!(deny.why, "A public bucket exposes its objects to everyone.");
        assert_eq!(deny.message, "aws_s3_bucket.logs has a public ACL");
        let warns: Vec<_> = out
            .iter()
            .filter(|f| f.enforcement == Enforcement::Warn)
            .collect();
        assert_eq!(warns.len(), 2);
        assert_eq!(warns[0].rule_id, "main.warn");
        assert_eq!(warns[0].severity, Severity::Low);
        assert_eq!(warns[0].attribute.as_deref(), Some("tags"));
        assert_eq!(warns[0].why, "ownership");
        assert!(warns[0].fix.as_ref().is_some_and(Fix::is_patch));
        let rules = e.rules();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].id, "ORG-S3-1");
        assert_eq!(rules[0].severity, Severity::Critical);

        // Another namespace: nothing queried.
        let other = engine(
            &[("policy/main.rego", POLICY)],
            &Namespaces {
                names: vec!["terraform".into()],
                all: false,
            },
        );
        let mut out = Vec::new();
        other.evaluate(&parse("plan.json", PLAN), &mut out).unwrap();
        assert!(out.is_empty());
    }

    const MANIFESTS: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: c\n    image: nginx\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  labels:\n    team: x\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25\n";

    #[test]
    fn one_document_per_manifest_exceptions_and_errors() {
        let policy = r#"package kubernetes.admission
import rego.v1

deny_latest contains msg if {
  some c in input.spec.containers
  not contains(c.image, ":")
  msg := sprintf("%s uses an untagged image", [input.metadata.name])
}

warn_labels contains "no labels" if not input.metadata.labels

# conftest names warn rules whole (only deny_/violation_ are stripped): "labels" exempts
# nothing here.
exception contains rules if {
  input.metadata.name == "a"
  rules := ["warn_labels", "labels"]
}

deny_broken contains x if {
  input.metadata.name == "b"
  x := 1 / 0
}
"#;
        let e = engine(
            &[("k8s.rego", policy)],
            &Namespaces {
                names: vec!["kubernetes.admission".into()],
                all: false,
            },
        );
        let mut out = Vec::new();
        e.evaluate(&parse("pods.yaml", MANIFESTS), &mut out)
            .unwrap();
        let summary: Vec<_> = out
            .iter()
            .map(|f| {
                (
                    f.rule_name.as_str(),
                    f.resource.as_str(),
                    f.enforcement,
                    f.note.is_some(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("deny_latest", "v1/Pod/a", Enforcement::Deny, false),
                ("warn_labels", "v1/Pod/a", Enforcement::Advisory, true),
                ("deny_broken", "v1/Pod/b", Enforcement::Deny, false),
            ]
        );
        assert!(
            out[2].message.contains("policy evaluation failed"),
            "{}",
            out[2].message
        );
        assert!(out[2].message.contains("k8s.rego:"), "{}", out[2].message);
    }

    #[test]
    fn prepared_plans_and_one_evaluation_per_document() {
        // Two packages, helper rules shared by several queried rules, an exception.
        let policy = r#"package main
import rego.v1

buckets contains rc if {
  some rc in input.resource_changes
  rc.type == "aws_s3_bucket"
}

deny contains msg if {
  some rc in buckets
  rc.change.after.acl == "public-read"
  msg := sprintf("%s is public", [rc.address])
}

warn_tags contains msg if {
  some rc in buckets
  not rc.change.after.tags
  msg := sprintf("%s has no tags", [rc.address])
}

exception contains ["warn_tags"] if input.format_version == "1.2"
"#;
        let other = "package other\nimport rego.v1\nviolation contains input.resource_changes[0].address if true\n";
        let e = engine(
            &[("m.rego", policy), ("o.rego", other)],
            &Namespaces {
                names: vec!["main".into(), "other".into()],
                all: false,
            },
        );
        assert!(e.collect);
        assert_eq!(
            e.input_keys
                .as_ref()
                .map(|k| k.iter().cloned().collect::<Vec<_>>()),
            Some(vec![
                "format_version".to_owned(),
                "resource_changes".to_owned()
            ])
        );
        let summary = |out: &[Finding]| {
            let mut s: Vec<_> = out
                .iter()
                .map(|f| (f.rule_id.clone(), f.resource.clone(), f.enforcement))
                .collect();
            s.sort();
            s
        };
        let mut text_out = Vec::new();
        e.evaluate(&parse("plan.json", PLAN), &mut text_out)
            .unwrap();
        let mut changes = parse("plan.json", PLAN);
        if let Some(t) = changes.terraform.as_mut() {
            t.document = Some(e.prepare_document(PLAN));
            assert!(t.document.as_ref().is_some_and(|d| d.as_str().is_none()));
        }
        let mut prepared_out = Vec::new();
        e.evaluate(&changes, &mut prepared_out).unwrap();
        assert_eq!(summary(&text_out), summary(&prepared_out));
        assert_eq!(
            summary(&prepared_out),
            [
                (
                    "main.deny".to_owned(),
                    "aws_s3_bucket.logs".to_owned(),
                    Enforcement::Deny
                ),
                (
                    "main.warn_tags".to_owned(),
                    "aws_s3_bucket.logs".to_owned(),
                    Enforcement::Advisory
                ),
                (
                    "main.warn_tags".to_owned(),
                    "aws_s3_bucket.ok".to_owned(),
                    Enforcement::Advisory
                ),
                (
                    "other.violation".to_owned(),
                    "aws_s3_bucket.logs".to_owned(),
                    Enforcement::Deny
                ),
            ]
        );

        // A document prepared for policies that read less cannot serve these: an error,
        // never a silent allow.
        let narrow = engine(
            &[(
                "n.rego",
                "package main\ndeny[x] { x := input.format_version }\n",
            )],
            &Namespaces::default(),
        );
        if let Some(t) = changes.terraform.as_mut() {
            t.document = Some(narrow.prepare_document(PLAN));
        }
        let mut out = Vec::new();
        let err = e.evaluate(&changes, &mut out).unwrap_err();
        assert!(
            err.message.contains("prepared for other Rego policies"),
            "{}",
            err.message
        );

        // A policy reading the whole input gets all of it.
        let whole = engine(
            &[("w.rego", "package main\ndeny[k] { input[k] }\n")],
            &Namespaces::default(),
        );
        assert_eq!(whole.input_keys, None);
        if let Some(t) = changes.terraform.as_mut() {
            t.document = Some(whole.prepare_document(PLAN));
        }
        let mut out = Vec::new();
        whole.evaluate(&changes, &mut out).unwrap();
        let mut keys: Vec<_> = out.iter().map(|f| f.message.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["format_version", "resource_changes"]);
    }

    #[test]
    fn rules_evaluated_while_preparing() {
        let policy = "package main\ndeny[msg] { rc := input.resource_changes[_]; msg := sprintf(\"%s at %d\", [rc.address, time.now_ns()]) }\n";
        let e = engine(&[("t.rego", policy)], &Namespaces::default());
        let mut changes = parse("plan.json", PLAN);
        let document = e.prepare_document_at(PLAN, 42);
        let prepared = document.prepared_as::<PreparedInput>().unwrap();
        assert_eq!(
            prepared.results.as_ref().map(|(at, v)| (*at, v.len())),
            Some((42, 1))
        );
        if let Some(t) = changes.terraform.as_mut() {
            t.document = Some(document);
        }
        let messages = |now: i64| {
            let mut out = Vec::new();
            e.evaluate_at(&changes, now, &mut out).unwrap();
            let mut m: Vec<_> = out.into_iter().map(|f| (f.resource, f.message)).collect();
            m.sort();
            m
        };
        assert_eq!(
            messages(42),
            [
                (
                    "aws_s3_bucket.logs".to_owned(),
                    "aws_s3_bucket.logs at 42".to_owned()
                ),
                (
                    "aws_s3_bucket.ok".to_owned(),
                    "aws_s3_bucket.ok at 42".to_owned()
                )
            ]
        );
        // Another decision time: the input was dropped once evaluated; an error, not an allow.
        let mut out = Vec::new();
        let err = e.evaluate_at(&changes, 7, &mut out).unwrap_err();
        assert!(
            err.message.contains("another decision time"),
            "{}",
            err.message
        );
        // A policy reading the change set is evaluated with it, not while preparing.
        let reads = engine(
            &[(
                "c.rego",
                "package main\ndeny[a] { a := data.warden.changeset.resources[_].address }\n",
            )],
            &Namespaces::default(),
        );
        let document = reads.prepare_document_at(PLAN, 42);
        assert!(document
            .prepared_as::<PreparedInput>()
            .unwrap()
            .results
            .is_none());
    }

    #[test]
    fn conftest_rule_names_and_lists() {
        assert_eq!(conftest_rule("deny"), Some((Enforcement::Deny, "deny")));
        assert_eq!(conftest_rule("deny_x_1"), Some((Enforcement::Deny, "x_1")));
        assert_eq!(conftest_rule("violation_y"), Some((Enforcement::Deny, "y")));
        assert_eq!(conftest_rule("warn_z"), Some((Enforcement::Warn, "warn_z")));
        for not_conftest in ["deny__x", "denyx", "warning", "deny_", "allow"] {
            assert_eq!(conftest_rule(not_conftest), None, "{not_conftest}");
        }

        // A multi-document file: each document alone; a List: its items together.
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: solo\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: s1\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: s2\n";
        let policy = r#"package main
import rego.v1
deny contains sprintf("list of %d", [count(input.items)]) if input.kind == "List"
deny contains sprintf("%s %s", [input.kind, input.metadata.name]) if input.kind != "List"
warn contains {"msg": "second item", "resource": "v1/Service/s2"} if input.items[1]
"#;
        let e = engine(&[("l.rego", policy)], &Namespaces::default());
        let mut out = Vec::new();
        e.evaluate(&parse("all.yaml", yaml), &mut out).unwrap();
        let got: Vec<_> = out
            .iter()
            .map(|f| (f.message.as_str(), f.resource.as_str(), f.location.line))
            .collect();
        assert_eq!(
            got,
            [
                ("Pod solo", "v1/Pod/solo", Some(1)),
                ("list of 2", "all.yaml", Some(9)),
                ("second item", "v1/Service/s2", Some(13)),
            ]
        );
    }

    #[test]
    fn many_manifests_on_every_core_in_document_order() {
        let mut yaml = String::new();
        for i in 0..(PARALLEL_DOCUMENTS * 3 + 1) {
            yaml.push_str(&format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i:03}\nspec:\n  containers: []\n"
            ));
        }
        let policy = "package main\ndeny[msg] { msg := sprintf(\"%s at %d\", [input.metadata.name, time.now_ns()]) }\n";
        let e = engine(&[("k.rego", policy)], &Namespaces::default());
        let mut out = Vec::new();
        e.evaluate_at(&parse("pods.yaml", &yaml), 7, &mut out)
            .unwrap();
        let messages: Vec<_> = out.iter().map(|f| f.message.clone()).collect();
        let expected: Vec<_> = (0..(PARALLEL_DOCUMENTS * 3 + 1))
            .map(|i| format!("p{i:03} at 7"))
            .collect();
        assert_eq!(messages, expected);
    }

    #[test]
    fn normalized_change_set_and_clock() {
        let policy = r#"package main
deny[msg] {
  r := data.warden.changeset.resources[_]
  r.action == "create"
  msg := sprintf("%s is created at %d", [r.address, time.now_ns()])
}
"#;
        let e = engine(&[("w.rego", policy)], &Namespaces::default());
        let mut out = Vec::new();
        e.evaluate_at(&parse("plan.json", PLAN), 42, &mut out)
            .unwrap();
        let mut messages: Vec<_> = out
            .iter()
            .map(|f| (f.resource.as_str(), f.message.as_str()))
            .collect();
        messages.sort_unstable();
        assert_eq!(
            messages,
            [
                ("aws_s3_bucket.logs", "aws_s3_bucket.logs is created at 42"),
                ("aws_s3_bucket.ok", "aws_s3_bucket.ok is created at 42")
            ]
        );
        // Without the raw plan, a plan-shaped document is rebuilt from the change set.
        let policy = "package main\ndeny[a] { a := input.resource_changes[_].address }\n";
        let e = engine(&[("r.rego", policy)], &Namespaces::default());
        let mut changes = parse("plan.json", PLAN);
        if let Some(t) = changes.terraform.as_mut() {
            t.document = None;
        }
        let mut out = Vec::new();
        e.evaluate(&changes, &mut out).unwrap();
        assert_eq!(out.len(), 2);
    }
}
