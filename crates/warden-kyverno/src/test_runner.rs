//! `kyverno-test.yaml` files (Kyverno CLI `kyverno test`): load the policies, resources,
//! values and user information a test names (paths relative to the test file), run the engine
//! and compare with the expected results.
//!
//! One [`Case`] per expected result per resource. Rule names `autogen-<rule>` and
//! `autogen-cronjob-<rule>` count as `<rule>`; results without a rule (`isValidatingPolicy`)
//! are compared at policy level.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::autogen::original_name;
use crate::engine::{KyvernoEngine, Request, RuleResult, Status};
use crate::matching::{RequestInfo, UserInfo};
use crate::pod_security::PodSecurity;
use crate::policy::{self, Policy, PolicyException};
use crate::vpol::{self, ValidatingPolicy};
use crate::KyvernoError;

/// One expected result on one resource, with what the engine said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Policy name.
    pub policy: String,
    /// Rule name as the test wrote it (autogen prefixes removed); `None` at policy level.
    pub rule: Option<String>,
    /// Resource reference as the test wrote it (`name` or `namespace/name`).
    pub resource: String,
    /// Resource kind the test names (may be empty).
    pub kind: String,
    /// Expected verdict.
    pub want: Status,
    /// The engine's verdict; `None` when no rule produced a result.
    pub got: Option<Status>,
    /// The engine's message (or why there is no result).
    pub message: String,
}

impl Case {
    /// `true` when the verdict is the expected one.
    #[must_use]
    pub fn matched(&self) -> bool {
        self.got == Some(self.want)
    }

    /// Like [`Case::matched`], also accepting no result against an expected `skip`.
    #[must_use]
    pub fn matched_lenient(&self) -> bool {
        self.matched() || (self.want == Status::Skip && self.got.is_none())
    }
}

/// The outcome of one test file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestReport {
    /// One case per expected result per resource.
    pub cases: Vec<Case>,
    /// Files or documents that could not be loaded (the test ran with the rest).
    pub errors: Vec<KyvernoError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TestFile {
    policies: Vec<String>,
    resources: Vec<String>,
    variables: Option<String>,
    values: Option<String>,
    userinfo: Option<String>,
    exceptions: Vec<String>,
    results: Vec<ResultEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ResultEntry {
    policy: String,
    rule: Option<String>,
    resource: Option<String>,
    resources: Vec<String>,
    kind: Option<String>,
    result: Option<String>,
    status: Option<String>,
    namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ValuesFile {
    policies: Vec<PolicyValues>,
    global_values: Map<String, Value>,
    namespace_selector: Vec<NamespaceLabels>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PolicyValues {
    name: String,
    rules: Vec<NamedValues>,
    resources: Vec<NamedValues>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct NamedValues {
    name: String,
    values: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct NamespaceLabels {
    name: String,
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct UserInfoFile {
    roles: Vec<String>,
    cluster_roles: Vec<String>,
    user_info: UserInfoInner,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct UserInfoInner {
    username: String,
    groups: Vec<String>,
}

/// Everything a test loads.
struct Loaded {
    engine: KyvernoEngine,
    resources: Vec<Value>,
    values: ValuesFile,
    user: UserInfo,
}

/// Every `kyverno-test.yaml` below `dir` (hidden `.kyverno-test` folders included), sorted.
#[must_use]
pub fn discover(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != ".git" {
                walk(&path, out);
            }
        } else if name == "kyverno-test.yaml" {
            out.push(path);
        }
    }
}

fn load_error(file: &Path, message: impl Into<String>) -> KyvernoError {
    KyvernoError::Load {
        file: file.display().to_string(),
        message: message.into(),
    }
}

/// Every JSON document of a YAML file.
fn read_documents(path: &Path) -> Result<Vec<Value>, KyvernoError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| load_error(path, format!("cannot read: {e}")))?;
    let docs = warden_core::inputs::yaml::load(&path.display().to_string(), &text)
        .map_err(|e| load_error(path, e.to_string()))?;
    Ok(docs.into_iter().map(|d| d.value.to_json()).collect())
}

/// Reads one typed document (the first) of a YAML file.
fn read_typed<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, KyvernoError> {
    let first = read_documents(path)?
        .into_iter()
        .next()
        .unwrap_or(Value::Null);
    serde_json::from_value(first).map_err(|e| load_error(path, e.to_string()))
}

/// Runs one test file without Pod Security Standards checks (`validate.podSecurity` rules
/// are errors): see [`run_test_file_with`].
#[must_use]
pub fn run_test_file(path: &Path) -> TestReport {
    run_test_file_with(path, None)
}

/// Runs one test file, with the checks `validate.podSecurity` rules need when given.
#[must_use]
pub fn run_test_file_with(path: &Path, pod_security: Option<Arc<dyn PodSecurity>>) -> TestReport {
    let mut report = TestReport::default();
    let test: TestFile = match read_typed(path) {
        Ok(t) => t,
        Err(e) => {
            report.errors.push(e);
            return report;
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut loaded = load_inputs(&test, base, &mut report.errors);
    if let Some(checks) = pod_security {
        loaded.engine = loaded.engine.with_pod_security(checks);
    }
    for entry in &test.results {
        run_entry(entry, &loaded, &mut report);
    }
    report
}

fn load_inputs(test: &TestFile, base: &Path, errors: &mut Vec<KyvernoError>) -> Loaded {
    let mut policies: Vec<Policy> = Vec::new();
    let mut exceptions: Vec<PolicyException> = Vec::new();
    let mut validating = Vec::new();
    for file in test.policies.iter().chain(&test.exceptions) {
        let loaded = policy::load_file_all(&base.join(file));
        policies.extend(loaded.policies);
        exceptions.extend(loaded.exceptions);
        validating.extend(loaded.validating_policies);
        errors.extend(loaded.errors);
    }
    let mut resources = Vec::new();
    for file in &test.resources {
        match read_documents(&base.join(file)) {
            Ok(docs) => resources.extend(
                docs.into_iter()
                    .flat_map(flatten_list)
                    .filter(Value::is_object),
            ),
            Err(e) => errors.push(e),
        }
    }
    let values = match test.variables.as_ref().or(test.values.as_ref()) {
        Some(file) => read_typed(&base.join(file)).unwrap_or_else(|e| {
            errors.push(e);
            ValuesFile::default()
        }),
        None => ValuesFile::default(),
    };
    let user = match &test.userinfo {
        Some(file) => match read_typed::<UserInfoFile>(&base.join(file)) {
            Ok(u) => UserInfo {
                username: u.user_info.username,
                groups: u.user_info.groups,
                roles: u.roles,
                cluster_roles: u.cluster_roles,
            },
            Err(e) => {
                errors.push(e);
                UserInfo::default()
            }
        },
        None => UserInfo::default(),
    };
    Loaded {
        engine: KyvernoEngine::new(policies, exceptions).with_validating_policies(validating),
        resources,
        values,
        user,
    }
}

fn flatten_list(doc: Value) -> Vec<Value> {
    let is_list = doc
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"));
    match (is_list, doc.get("items")) {
        (true, Some(Value::Array(items))) => items.clone(),
        _ => vec![doc],
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The resources a reference (`name` or `namespace/name`) names, of `kind` when given.
fn find_resources<'a>(
    loaded: &'a Loaded,
    reference: &str,
    kind: Option<&str>,
    namespace: Option<&str>,
) -> Vec<&'a Value> {
    let (ns, name) = match reference.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (namespace, reference),
    };
    loaded
        .resources
        .iter()
        .filter(|r| str_at(r, "/metadata/name") == name)
        .filter(|r| kind.is_none_or(|k| k.is_empty() || str_at(r, "/kind") == k))
        .filter(|r| {
            ns.is_none_or(|ns| {
                let have = r
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("default");
                have == ns
            })
        })
        .collect()
}

fn run_entry(entry: &ResultEntry, loaded: &Loaded, report: &mut TestReport) {
    let want_text = entry
        .result
        .as_deref()
        .or(entry.status.as_deref())
        .unwrap_or_default();
    let Some(want) = Status::parse(want_text) else {
        report.errors.push(KyvernoError::Load {
            file: format!("result for policy {}", entry.policy),
            message: format!("unknown result `{want_text}`"),
        });
        return;
    };
    let rule = entry.rule.as_deref().map(|r| original_name(r).to_owned());
    let references: Vec<&String> = entry
        .resources
        .iter()
        .chain(entry.resource.as_ref())
        .collect();
    for reference in references {
        let (got, message) = verdict(entry, rule.as_deref(), reference, loaded);
        report.cases.push(Case {
            policy: entry.policy.clone(),
            rule: rule.clone(),
            resource: reference.clone(),
            kind: entry.kind.clone().unwrap_or_default(),
            want,
            got,
            message,
        });
    }
}

fn verdict(
    entry: &ResultEntry,
    rule: Option<&str>,
    reference: &str,
    loaded: &Loaded,
) -> (Option<Status>, String) {
    if let Some(vp) = loaded
        .engine
        .validating_policies()
        .iter()
        .find(|p| p.name == entry.policy)
    {
        return validating_verdict(entry, vp, reference, loaded);
    }
    let Some((policy, rules)) = loaded
        .engine
        .policies()
        .iter()
        .find(|(p, _)| p.name == entry.policy)
    else {
        return (
            None,
            format!(
                "policy `{}` not loaded (only ClusterPolicy/Policy are supported)",
                entry.policy
            ),
        );
    };
    let resources = find_resources(
        loaded,
        reference,
        entry.kind.as_deref(),
        entry.namespace.as_deref(),
    );
    let Some(resource) = resources.first() else {
        return (None, format!("resource `{reference}` not found"));
    };
    let mut results: Vec<RuleResult> = Vec::new();
    for r in rules
        .iter()
        .filter(|r| rule.is_none_or(|want| original_name(&r.name) == want))
    {
        let request = request_for(policy, &r.name, resource, loaded);
        results.extend(loaded.engine.evaluate_rule(policy, r, &request));
    }
    match combine(results) {
        Some(r) => (Some(r.status), r.message),
        None => (None, "no rule applied to the resource".to_owned()),
    }
}

/// A `ValidatingPolicy`'s verdict (policy level: it has no rules).
fn validating_verdict(
    entry: &ResultEntry,
    policy: &ValidatingPolicy,
    reference: &str,
    loaded: &Loaded,
) -> (Option<Status>, String) {
    let resources = find_resources(
        loaded,
        reference,
        entry.kind.as_deref(),
        entry.namespace.as_deref(),
    );
    let Some(resource) = resources.first() else {
        return (None, format!("resource `{reference}` not found"));
    };
    let request = request_for_validating(&policy.name, resource, loaded);
    match vpol::evaluate(policy, &request) {
        Some(r) => (Some(r.status), r.message),
        None => (None, "the policy does not apply to the resource".to_owned()),
    }
}

fn request_for_validating(policy: &str, resource: &Value, loaded: &Loaded) -> Request {
    let stub = Policy {
        name: policy.to_owned(),
        kind: "ValidatingPolicy".to_owned(),
        namespace: None,
        annotations: BTreeMap::new(),
        failure_action: policy::FailureAction::Audit,
        background: true,
        rules: Vec::new(),
        source: String::new(),
    };
    request_for(&stub, "", resource, loaded)
}

/// Policy-level (or several generated rules): the strictest verdict wins.
fn combine(results: Vec<RuleResult>) -> Option<RuleResult> {
    let rank = |s: Status| match s {
        Status::Error => 0,
        Status::Fail => 1,
        Status::Warn => 2,
        Status::Pass => 3,
        Status::Skip => 4,
    };
    results.into_iter().min_by_key(|r| rank(r.status))
}

fn request_for(policy: &Policy, rule: &str, resource: &Value, loaded: &Loaded) -> Request {
    let mut values: Vec<(String, Value)> = loaded
        .values
        .global_values
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let name = str_at(resource, "/metadata/name");
    for pv in loaded
        .values
        .policies
        .iter()
        .filter(|p| p.name == policy.name)
    {
        for rv in pv.resources.iter().filter(|r| r.name == name) {
            values.extend(rv.values.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        for rv in pv.rules.iter().filter(|r| r.name == original_name(rule)) {
            values.extend(rv.values.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    let operation = values
        .iter()
        .rev()
        .find(|(k, _)| k == "request.operation")
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("CREATE")
        .to_owned();
    let ns = resource
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let namespace_labels = loaded
        .values
        .namespace_selector
        .iter()
        .find(|n| n.name == ns)
        .map(|n| n.labels.clone());
    Request {
        resource: resource.clone(),
        info: RequestInfo {
            operation,
            user: loaded.user.clone(),
            namespace_labels,
        },
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("warden-kyverno-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const POLICY: &str = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: block-lb}\nspec:\n  validationFailureAction: Enforce\n  rules:\n  - name: no-lb\n    match:\n      any:\n      - resources:\n          kinds: [Service]\n          operations: [UPDATE]\n    validate:\n      message: no\n      deny: {}\n";

    #[test]
    fn runs_a_test_with_values_and_namespaced_references() {
        let dir = temp_dir("run");
        write(&dir, "policy.yaml", POLICY);
        write(&dir, ".kyverno-test/resource.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: web}\n");
        write(&dir, ".kyverno-test/values.yaml", "apiVersion: cli.kyverno.io/v1alpha1\nkind: Values\npolicies:\n- name: block-lb\n  resources:\n  - name: b\n    values:\n      request.operation: UPDATE\n");
        write(
            &dir,
            ".kyverno-test/kyverno-test.yaml",
            "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: t}\npolicies: [../policy.yaml]\nresources: [resource.yaml]\nvariables: values.yaml\nresults:\n- policy: block-lb\n  rule: no-lb\n  kind: Service\n  resources: [web/b]\n  result: fail\n- policy: block-lb\n  rule: autogen-no-lb\n  kind: Service\n  resources: [a, missing]\n  result: skip\n",
        );
        let found = discover(&dir);
        assert_eq!(found, vec![dir.join(".kyverno-test/kyverno-test.yaml")]);
        let report = run_test_file(&found[0]);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.cases.len(), 3);
        let b = &report.cases[0];
        assert_eq!(
            (b.resource.as_str(), b.want, b.got),
            ("web/b", Status::Fail, Some(Status::Fail))
        );
        let a = &report.cases[1];
        assert_eq!(a.rule.as_deref(), Some("no-lb"));
        assert_eq!(a.got, None, "CREATE does not match operations [UPDATE]");
        assert!(!a.matched() && a.matched_lenient());
        assert!(report.cases[2].message.contains("not found"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_policies_are_misses_not_errors() {
        let dir = temp_dir("missing");
        write(&dir, "kyverno-test.yaml", "name: old-style\npolicies: [nope.yaml]\nresources: []\nresults:\n- policy: vpol\n  resources: [x]\n  result: pass\n");
        let report = run_test_file(&dir.join("kyverno-test.yaml"));
        assert_eq!(
            report.errors.len(),
            1,
            "the missing policy file is reported"
        );
        assert_eq!(report.cases[0].got, None);
        assert!(report.cases[0].message.contains("not loaded"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn combine_prefers_the_strictest() {
        let r = combine(vec![
            RuleResult {
                status: Status::Pass,
                message: String::new(),
            },
            RuleResult {
                status: Status::Fail,
                message: String::new(),
            },
        ]);
        assert_eq!(r.map(|r| r.status), Some(Status::Fail));
        assert_eq!(combine(Vec::new()), None);
    }
}
