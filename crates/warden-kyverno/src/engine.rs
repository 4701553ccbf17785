//! One rule on one resource → pass | fail | skip | error | warn, in Kyverno's order:
//! match/exclude → policy exceptions → context entries → preconditions → validate (pattern,
//! anyPattern, deny, foreach, podSecurity through an injected [`PodSecurity`]; CEL is reported
//! as an error) → message.
//!
//! [`KyvernoEngine`] runs every rule (auto-generated ones included) over the Kubernetes
//! resources of a change set as a [`warden_core::Engine`]: each failure is a finding, each
//! evaluation error a finding at the policy's enforcement (fail closed).

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use warden_core::changeset::ChangeSet;
use warden_core::decision::EngineError;
use warden_core::engine::{Engine, RuleInfo};
use warden_core::resource::{Action, Resource};
use warden_core::{Enforcement, Finding, Severity};

use crate::autogen::{expand_rules, original_name};
use crate::matching::{self, RequestInfo};
use crate::pod_security::{self, PodSecurity, PodSecuritySpec};
use crate::policy::{
    Deny, FailureAction, ForEach, PatternMemo, Policy, PolicyException, Rule, Validate,
};
use crate::variables::{self, Context, Slot};
use crate::vpol::{self, ValidatingPolicy};
use crate::{cel, conditions, pattern, KyvernoError};

/// The verdict of one rule on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// The resource satisfies the rule.
    Pass,
    /// It does not.
    Fail,
    /// The rule applies but its preconditions (or an exception, or a conditional anchor) say
    /// not to check it.
    Skip,
    /// The rule could not be evaluated.
    Error,
    /// A failure of a policy marked `policies.kyverno.io/scored: "false"`.
    Warn,
}

impl Status {
    /// The lowercase name Kyverno's CLI uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
            Status::Warn => "warn",
        }
    }

    /// Reads `pass`, `fail`, `skip`, `error`, `warn` (case-insensitive).
    #[must_use]
    pub fn parse(text: &str) -> Option<Status> {
        Some(match text.to_ascii_lowercase().as_str() {
            "pass" => Status::Pass,
            "fail" => Status::Fail,
            "skip" => Status::Skip,
            "error" => Status::Error,
            "warn" => Status::Warn,
            _ => return None,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    /// Verdict.
    pub status: Status,
    /// Why (the rule's message, variables substituted, for failures).
    pub message: String,
}

impl RuleResult {
    fn new(status: Status, message: impl Into<String>) -> RuleResult {
        RuleResult {
            status,
            message: message.into(),
        }
    }
}

/// A resource under admission: the object, the request around it, and variable values the
/// test supplies (`request.operation`, rule-level values; dotted names).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// The resource (`request.object`).
    pub resource: Value,
    /// Operation, user and namespace labels.
    pub info: RequestInfo,
    /// Variable values by dotted name; they override context entries of the same name.
    pub values: Vec<(String, Value)>,
}

impl Request {
    /// A `CREATE` request for `resource` with nothing else known.
    #[must_use]
    pub fn create(resource: Value) -> Request {
        Request {
            resource,
            ..Request::default()
        }
    }
}

/// Evaluates one rule (as written or auto-generated) of `policy`; `None` when the rule does
/// not apply to the resource (match/exclude), as Kyverno reports no result then, and for
/// rules without `validate` (mutate, generate, verifyImages: they check nothing).
/// `validate.podSecurity` is an error here: see [`evaluate_rule_with`].
#[must_use]
pub fn evaluate_rule(
    policy: &Policy,
    rule: &Rule,
    request: &Request,
    exceptions: &[PolicyException],
) -> Option<RuleResult> {
    evaluate_rule_with(policy, rule, request, exceptions, None)
}

/// [`evaluate_rule`] with the Pod Security Standards checks `validate.podSecurity` needs
/// (without them such a rule is an error, never a pass).
#[must_use]
pub fn evaluate_rule_with(
    policy: &Policy,
    rule: &Rule,
    request: &Request,
    exceptions: &[PolicyException],
    pod_security: Option<&dyn PodSecurity>,
) -> Option<RuleResult> {
    evaluate_rule_in(
        policy,
        rule,
        request,
        exceptions,
        pod_security,
        &OnceCell::new(),
    )
}

/// [`evaluate_rule_with`] sharing the request's base context (built on first use) with the
/// other rules evaluated on the same request.
fn evaluate_rule_in(
    policy: &Policy,
    rule: &Rule,
    request: &Request,
    exceptions: &[PolicyException],
    pod_security: Option<&dyn PodSecurity>,
    base: &OnceCell<Context>,
) -> Option<RuleResult> {
    if rule.validate.is_none()
        || !policy_applies(policy, &request.resource)
        || !matching::applies(
            &rule.match_resources,
            rule.exclude.as_ref(),
            &request.resource,
            &request.info,
        )
    {
        return None;
    }
    let result = match evaluate_matched(policy, rule, request, exceptions, pod_security, base) {
        Ok(r) => r,
        Err(e) => RuleResult::new(Status::Error, e.to_string()),
    };
    let unscored = policy.annotation("policies.kyverno.io/scored") == Some("false");
    Some(match result.status {
        Status::Fail if unscored => RuleResult::new(Status::Warn, result.message),
        _ => result,
    })
}

/// A namespaced `Policy` applies only to resources in its namespace.
fn policy_applies(policy: &Policy, resource: &Value) -> bool {
    let Some(ns) = &policy.namespace else {
        return true;
    };
    let have = crate::at(resource, "/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    have == ns
}

fn evaluate_matched(
    policy: &Policy,
    rule: &Rule,
    request: &Request,
    exceptions: &[PolicyException],
    pod_security: Option<&dyn PodSecurity>,
    base: &OnceCell<Context>,
) -> Result<RuleResult, KyvernoError> {
    // Borrowed until a context entry or a foreach has to change it.
    let mut ctx = Cow::Borrowed(base.get_or_init(|| base_context(request)));
    if let Some(e) = exception_for(policy, rule, request, exceptions, &ctx)? {
        return Ok(RuleResult::new(
            Status::Skip,
            format!("rule skipped due to policy exception {e}"),
        ));
    }
    if !rule.context.is_empty() {
        load_context(&rule.context, ctx.to_mut(), &request.values)?;
    }
    if let Some(pre) = &rule.cel_preconditions {
        if !cel_preconditions_hold(pre, rule, request)? {
            return Ok(RuleResult::new(Status::Skip, "preconditions not met"));
        }
    }
    if let Some(pre) = &rule.preconditions {
        if !conditions_hold(pre, &ctx)? {
            return Ok(RuleResult::new(Status::Skip, "preconditions not met"));
        }
    }
    let Some(validate) = &rule.validate else {
        return Err(unsupported("rules other than validate"));
    };
    let outcome = validate_block(validate, &rule.name, request, &mut ctx, pod_security)?;
    let message = match outcome.status {
        // podSecurity failures carry Kyverno's own message ("Validation rule ... failed.").
        Status::Fail if validate.pod_security.is_none() && validate.cel.is_none() => {
            failure_message(validate, &rule.name, &outcome.message, &ctx)
        }
        _ => outcome.message,
    };
    Ok(RuleResult::new(outcome.status, message))
}

fn unsupported(what: &str) -> KyvernoError {
    KyvernoError::Condition(format!("{what} not supported yet"))
}

fn failure_message(validate: &Validate, rule: &str, detail: &str, ctx: &Context) -> String {
    let raw = validate.message.clone().unwrap_or_default();
    let text = match variables::substitute(&Value::String(raw.clone()), ctx) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => raw,
    };
    if detail.is_empty() {
        format!("validation error: {text} rule {rule} failed")
    } else {
        format!("validation error: {text} {detail}")
    }
}

/// The context every rule starts from: `request.*` and the service account variables.
fn base_context(request: &Request) -> Context {
    let info = &request.info;
    let resource = &request.resource;
    let old = match info.operation.as_str() {
        "UPDATE" | "DELETE" => resource.clone(),
        _ => Value::Null,
    };
    let mut req = Map::new();
    req.insert("operation".into(), Value::String(info.operation.clone()));
    req.insert("object".into(), resource.clone());
    req.insert("oldObject".into(), old);
    req.insert(
        "userInfo".into(),
        serde_json::json!({"username": info.user.username, "groups": info.user.groups}),
    );
    req.insert("roles".into(), serde_json::json!(info.user.roles));
    req.insert(
        "clusterRoles".into(),
        serde_json::json!(info.user.cluster_roles),
    );
    if let Some(ns) = crate::at(resource, "/metadata/namespace") {
        req.insert("namespace".into(), ns.clone());
    }
    if let Some(name) = crate::at(resource, "/metadata/name") {
        req.insert("name".into(), name.clone());
    }
    let mut root = Map::new();
    root.insert("request".into(), Value::Object(req));
    if let Some(sa) = info.user.username.strip_prefix("system:serviceaccount:") {
        let (ns, name) = sa.split_once(':').unwrap_or(("", sa));
        root.insert("serviceAccountName".into(), Value::String(name.to_owned()));
        root.insert(
            "serviceAccountNamespace".into(),
            Value::String(ns.to_owned()),
        );
    }
    apply_values(&mut root, &request.values);
    let mut ctx = Context::new();
    for (k, v) in root {
        ctx.set(&k, v);
    }
    ctx
}

/// Sets each dotted name (`request.operation`) to its value.
fn apply_values(root: &mut Map<String, Value>, values: &[(String, Value)]) {
    for (name, value) in values {
        let mut parts = name.split('.').peekable();
        let mut node = &mut *root;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                node.insert(part.to_owned(), value.clone());
                break;
            }
            let entry = node
                .entry(part.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(next) = entry else { break };
            node = next;
        }
    }
}

/// Loads `context` entries; only `variable` entries are possible without a cluster. Entries
/// whose name the test supplies a value for are taken from the values.
fn load_context(
    entries: &[Value],
    ctx: &mut Context,
    values: &[(String, Value)],
) -> Result<(), KyvernoError> {
    for entry in entries {
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if values
            .iter()
            .any(|(k, _)| k == name || k.starts_with(&format!("{name}.")))
        {
            continue;
        }
        let Some(variable) = entry.get("variable") else {
            let kind = ["apiCall", "configMap", "imageRegistry", "globalReference"]
                .into_iter()
                .find(|k| entry.get(*k).is_some())
                .unwrap_or("unknown");
            return Err(unsupported(&format!(
                "context entry `{name}` of type {kind}"
            )));
        };
        let value = variable_entry(variable, ctx)?;
        ctx.set(name, value);
    }
    Ok(())
}

fn variable_entry(variable: &Value, ctx: &Context) -> Result<Value, KyvernoError> {
    let path = variable.get("jmesPath").and_then(Value::as_str);
    let default = variable.get("default");
    let result = match (variable.get("value"), path) {
        (Some(value), None) => variables::substitute(value, ctx),
        (Some(value), Some(path)) => variables::substitute(value, ctx).and_then(|v| {
            let mut scoped = ctx.clone();
            scoped.set("__kyverno_value", v);
            let expr = substituted_str(path, ctx)?;
            variables::query(&format!("__kyverno_value | {expr}"), &scoped)
        }),
        (None, Some(path)) => substituted_str(path, ctx).and_then(|p| variables::query(&p, ctx)),
        (None, None) => Ok(Value::Null),
    };
    match (result, default) {
        (Ok(Value::Null) | Err(_), Some(d)) => variables::substitute(d, ctx),
        (r, _) => r,
    }
}

fn substituted_str(text: &str, ctx: &Context) -> Result<String, KyvernoError> {
    match variables::substitute(&Value::String(text.to_owned()), ctx)? {
        Value::String(s) => Ok(s),
        other => Ok(other.to_string()),
    }
}

fn conditions_hold(conditions: &Value, ctx: &Context) -> Result<bool, KyvernoError> {
    conditions::evaluate(conditions, &|v: &Value| {
        variables::substitute_borrowed(v, ctx)
    })
}

/// The first exception covering this rule and resource (`namespace/name`).
fn exception_for(
    policy: &Policy,
    rule: &Rule,
    request: &Request,
    exceptions: &[PolicyException],
    ctx: &Context,
) -> Result<Option<String>, KyvernoError> {
    if exceptions.is_empty() {
        return Ok(None);
    }
    let policy_id = match &policy.namespace {
        Some(ns) => format!("{ns}/{}", policy.name),
        None => policy.name.clone(),
    };
    for e in exceptions {
        let names_rule = e.exceptions.iter().any(|t| {
            t.policy_name == policy_id
                && t.rule_names.iter().any(|r| {
                    matching::wildcard(r, &rule.name)
                        || matching::wildcard(r, original_name(&rule.name))
                })
        });
        if !names_rule || !matching::matches(&e.match_resources, &request.resource, &request.info) {
            continue;
        }
        if let Some(c) = &e.conditions {
            if !conditions_hold(c, ctx)? {
                continue;
            }
        }
        let ns = e.namespace.as_deref().unwrap_or("");
        return Ok(Some(format!("{ns}/{}", e.name)));
    }
    Ok(None)
}

/// The checks of a validate block (or a foreach entry).
struct Checks<'a> {
    pattern: Option<&'a Value>,
    prepared: &'a PatternMemo,
    any_prepared: &'a PatternMemo,
    any_pattern: Option<&'a [Value]>,
    deny: Option<&'a Deny>,
    /// Whether a pass needs its message (a foreach element's pass only counts).
    pass_message: bool,
}

/// A pass, with Kyverno's message when anyone reads it.
fn passed(rule: &str, wanted: bool) -> RuleResult {
    if wanted {
        RuleResult::new(Status::Pass, format!("validation rule '{rule}' passed."))
    } else {
        RuleResult::new(Status::Pass, String::new())
    }
}

fn validate_block(
    validate: &Validate,
    rule: &str,
    request: &Request,
    ctx: &mut Cow<'_, Context>,
    checker: Option<&dyn PodSecurity>,
) -> Result<RuleResult, KyvernoError> {
    if let Some(pss) = &validate.pod_security {
        return pod_security_block(pss, rule, &request.resource, checker);
    }
    if let Some(block) = &validate.cel {
        return cel_block(block, rule, request);
    }
    if validate.manifests.is_some() {
        return Err(unsupported("validate.manifests"));
    }
    if let Some(list) = &validate.foreach {
        return foreach_block(list, rule, &request.resource, ctx.to_mut(), 0);
    }
    let checks = Checks {
        pattern: validate.pattern.as_ref(),
        prepared: &validate.prepared,
        any_prepared: &validate.any_prepared,
        any_pattern: validate.any_pattern.as_deref(),
        deny: validate.deny.as_ref(),
        pass_message: true,
    };
    run_checks(&checks, rule, &request.resource, ctx)?
        .ok_or_else(|| unsupported("a validate rule without pattern, anyPattern, deny or foreach"))
}

/// The resource a CEL expression of `rule` sees: the pod template for autogen rules.
fn cel_object(rule: &str, resource: &Value) -> Value {
    if rule.starts_with("autogen-") {
        if let Some(pod) = cel::template_pod(resource) {
            return pod;
        }
    }
    resource.clone()
}

/// `celPreconditions`: `{name, expression}` entries that must all be `true`.
fn cel_preconditions_hold(
    pre: &Value,
    rule: &Rule,
    request: &Request,
) -> Result<bool, KyvernoError> {
    let entries: Vec<cel::CelVariable> = serde_json::from_value(pre.clone())
        .map_err(|e| KyvernoError::Condition(format!("celPreconditions: {e}")))?;
    let object = cel_object(&rule.name, &request.resource);
    let env = cel::CelEnv::new(&cel::CelInput::new(&object, &request.info), &[]);
    for entry in &entries {
        if !env.eval_bool(&entry.expression)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `validate.cel`: every expression must be `true`.
fn cel_block(block: &Value, rule: &str, request: &Request) -> Result<RuleResult, KyvernoError> {
    let block: cel::CelBlock = serde_json::from_value(block.clone())
        .map_err(|e| KyvernoError::Condition(format!("validate.cel: {e}")))?;
    if block.param_kind.is_some() || block.param_ref.is_some() {
        return Err(KyvernoError::Condition(
            "validate.cel: paramKind/paramRef: parameter resources are not available".into(),
        ));
    }
    let object = cel_object(rule, &request.resource);
    let env = cel::CelEnv::new(
        &cel::CelInput::new(&object, &request.info),
        &block.variables,
    );
    Ok(match env.first_failure(&block.expressions)? {
        None => RuleResult::new(Status::Pass, format!("rule {rule} passed")),
        Some(message) => RuleResult::new(Status::Fail, message),
    })
}

/// `validate.podSecurity`: pass, or fail naming the violated controls.
fn pod_security_block(
    pss: &Value,
    rule: &str,
    resource: &Value,
    checker: Option<&dyn PodSecurity>,
) -> Result<RuleResult, KyvernoError> {
    let (spec, level) = PodSecuritySpec::parse(pss)?;
    let Some(checker) = checker else {
        return Err(unsupported(
            "validate.podSecurity without the Pod Security Standards checks (none injected)",
        ));
    };
    Ok(match pod_security::check(&spec, level, checker, resource) {
        None => RuleResult::new(Status::Pass, format!("validation rule '{rule}' passed.")),
        Some(detail) => RuleResult::new(
            Status::Fail,
            format!("Validation rule '{rule}' failed. {detail}"),
        ),
    })
}

/// Runs pattern / anyPattern / deny; `None` when there is none of them.
fn run_checks(
    checks: &Checks<'_>,
    rule: &str,
    resource: &Value,
    ctx: &Context,
) -> Result<Option<RuleResult>, KyvernoError> {
    if let Some(p) = checks.pattern {
        let substituted;
        let pattern = match checks.prepared.prepared(p) {
            Some(prepared) => prepared,
            None => {
                substituted = pattern::Prepared::new(&variables::substitute(p, ctx)?);
                &substituted
            }
        };
        return check_pattern(pattern, rule, resource, checks.pass_message).map(Some);
    }
    if let Some(ps) = checks.any_pattern {
        return check_any_pattern(ps, checks.any_prepared, rule, resource, ctx).map(Some);
    }
    if let Some(deny) = checks.deny {
        let denied = match &deny.conditions {
            None => true,
            Some(c) => conditions_hold(c, ctx)?,
        };
        return Ok(Some(if denied {
            RuleResult::new(Status::Fail, "")
        } else {
            passed(rule, checks.pass_message)
        }));
    }
    Ok(None)
}

/// A pattern (variables substituted) against the resource.
fn check_pattern(
    pattern: &pattern::Prepared,
    rule: &str,
    resource: &Value,
    pass_message: bool,
) -> Result<RuleResult, KyvernoError> {
    Ok(match pattern::validate_prepared(resource, pattern)? {
        pattern::PatternResult::Pass => passed(rule, pass_message),
        pattern::PatternResult::Fail { path, message } => RuleResult::new(
            Status::Fail,
            format!("rule {rule} failed at path {path}: {message}"),
        ),
        pattern::PatternResult::Skip { message } => RuleResult::new(Status::Skip, message),
    })
}

fn check_any_pattern(
    patterns: &[Value],
    memo: &PatternMemo,
    rule: &str,
    resource: &Value,
    ctx: &Context,
) -> Result<RuleResult, KyvernoError> {
    let mut failures = Vec::new();
    let mut skips = 0;
    for (i, (p, prepared)) in patterns.iter().zip(memo.prepared_all(patterns)).enumerate() {
        let substituted;
        let p = match prepared {
            Some(prepared) => prepared,
            None => {
                substituted = pattern::Prepared::new(&variables::substitute(p, ctx)?);
                &substituted
            }
        };
        let r = check_pattern(p, &format!("{rule}[anyPattern[{i}]]"), resource, false)?;
        match r.status {
            Status::Pass => {
                return Ok(RuleResult::new(
                    Status::Pass,
                    format!("validation rule '{rule}' anyPattern[{i}] passed."),
                ))
            }
            Status::Skip => skips += 1,
            _ => failures.push(r.message),
        }
    }
    if skips == patterns.len() {
        return Ok(RuleResult::new(Status::Skip, "all patterns skipped"));
    }
    Ok(RuleResult::new(Status::Fail, failures.join(" ")))
}

fn foreach_block(
    list: &[ForEach],
    rule: &str,
    resource: &Value,
    ctx: &mut Context,
    depth: usize,
) -> Result<RuleResult, KyvernoError> {
    let mut applied = 0;
    for fe in list {
        let Ok(items) = foreach_items(fe, ctx) else {
            continue;
        };
        let (result, count) = foreach_elements(fe, &items, rule, resource, ctx, depth)?;
        if result.status != Status::Pass {
            return Ok(result);
        }
        applied += count;
    }
    Ok(if applied == 0 {
        RuleResult::new(Status::Skip, "rule skipped")
    } else {
        RuleResult::new(Status::Pass, format!("validation rule '{rule}' passed."))
    })
}

/// The list a foreach iterates: a non-list value is a list of one.
fn foreach_items(fe: &ForEach, ctx: &Context) -> Result<Vec<Slot>, KyvernoError> {
    let list = fe.list.trim();
    let expr = if list.contains("{{") {
        Cow::Owned(substituted_str(list, ctx)?)
    } else {
        Cow::Borrowed(list)
    };
    let expr = expr
        .trim()
        .trim_start_matches("{{")
        .trim_end_matches("}}")
        .trim();
    variables::query_items(expr, ctx)
}

fn set_element(ctx: &mut Context, element: &Slot, index: usize, depth: usize) {
    let index = Slot::new(Value::from(index));
    ctx.put("element", element.clone());
    ctx.put("elementIndex", index.clone());
    ctx.put(&depth_name("element", depth), element.clone());
    ctx.put(&depth_name("elementIndex", depth), index);
}

/// `element0`, `elementIndex1` ...: the names of a nesting level's element variables.
fn depth_name(name: &'static str, depth: usize) -> Cow<'static, str> {
    const ELEMENT: [&str; 4] = ["element0", "element1", "element2", "element3"];
    const INDEX: [&str; 4] = [
        "elementIndex0",
        "elementIndex1",
        "elementIndex2",
        "elementIndex3",
    ];
    let fixed = match name {
        "element" => ELEMENT.get(depth),
        _ => INDEX.get(depth),
    };
    fixed.map_or_else(
        || Cow::Owned(format!("{name}{depth}")),
        |n| Cow::Borrowed(*n),
    )
}

/// Kyverno's `validateElements`: returns the verdict and how many elements were checked.
fn foreach_elements(
    fe: &ForEach,
    items: &[Slot],
    rule: &str,
    resource: &Value,
    ctx: &mut Context,
    depth: usize,
) -> Result<(RuleResult, usize), KyvernoError> {
    let mut applied = 0;
    // An element changes only these top-level variables (a nested foreach restores its own):
    // saving and restoring them is cheaper than cloning the whole context per element.
    let mut names: Vec<Cow<'_, str>> = vec![
        Cow::Borrowed("element"),
        Cow::Borrowed("elementIndex"),
        depth_name("element", depth),
        depth_name("elementIndex", depth),
    ];
    names.extend(
        fe.context
            .iter()
            .map(|e| Cow::Borrowed(e.get("name").and_then(Value::as_str).unwrap_or_default())),
    );
    let outer: Vec<(Cow<'_, str>, Option<Slot>)> = names
        .into_iter()
        .map(|n| {
            let v = ctx.slot(&n).cloned();
            (n, v)
        })
        .collect();
    for (index, element) in items.iter().enumerate() {
        if element.value().is_null() {
            continue;
        }
        restore(ctx, &outer);
        set_element(ctx, element, index, depth);
        let result = element_result(fe, element.value(), rule, resource, ctx, depth);
        let result = match result {
            Ok(r) => r,
            Err(e) => RuleResult::new(Status::Error, e.to_string()),
        };
        match result.status {
            Status::Skip => continue,
            Status::Pass => applied += 1,
            Status::Error if index + 1 < items.len() => continue,
            _ => {
                restore(ctx, &outer);
                return Ok((result, applied));
            }
        }
    }
    restore(ctx, &outer);
    Ok((RuleResult::new(Status::Pass, ""), applied))
}

/// Puts the saved top-level variables back (removing those that were not set).
fn restore(ctx: &mut Context, saved: &[(Cow<'_, str>, Option<Slot>)]) {
    for (name, slot) in saved {
        match slot {
            Some(slot) => ctx.put(name, slot.clone()),
            None => ctx.remove(name),
        }
    }
}

fn element_result(
    fe: &ForEach,
    element: &Value,
    rule: &str,
    resource: &Value,
    ctx: &mut Context,
    depth: usize,
) -> Result<RuleResult, KyvernoError> {
    load_context(&fe.context, ctx, &[])?;
    if let Some(pre) = &fe.preconditions {
        if !conditions_hold(pre, ctx)? {
            return Ok(RuleResult::new(Status::Skip, "preconditions not met"));
        }
    }
    if let Some(nested) = &fe.foreach {
        return foreach_block(nested, rule, resource, ctx, depth + 1);
    }
    let target = if fe.element_scope.unwrap_or(true) {
        element
    } else {
        resource
    };
    let checks = Checks {
        pattern: fe.pattern.as_ref(),
        prepared: &fe.prepared,
        any_prepared: &fe.any_prepared,
        any_pattern: fe.any_pattern.as_deref(),
        deny: fe.deny.as_ref(),
        pass_message: false,
    };
    run_checks(&checks, rule, target, ctx)?
        .ok_or_else(|| unsupported("a foreach entry without pattern, anyPattern, deny or foreach"))
}

/// The enforcement of a rule: Enforce → deny, Audit → warn.
#[must_use]
pub fn enforcement_of(policy: &Policy, rule: &Rule) -> Enforcement {
    let action = rule
        .validate
        .as_ref()
        .and_then(|v| v.failure_action.as_deref())
        .and_then(FailureAction::parse)
        .unwrap_or(policy.failure_action);
    match action {
        FailureAction::Enforce => Enforcement::Deny,
        FailureAction::Audit => Enforcement::Warn,
    }
}

/// Severity from `policies.kyverno.io/severity` (default medium).
#[must_use]
pub fn severity_of(policy: &Policy) -> Severity {
    severity_annotation(policy.annotation("policies.kyverno.io/severity"))
}

fn severity_annotation(value: Option<&str>) -> Severity {
    value
        .and_then(|s| s.trim().to_ascii_lowercase().parse().ok())
        .unwrap_or(Severity::Medium)
}

/// What findings and rule listings say about a policy, from its `policies.kyverno.io/*`
/// annotations: title (default: the policy's name), severity (default: medium), why.
struct About {
    title: String,
    severity: Severity,
    why: String,
}

impl About {
    fn of<'a>(name: &str, annotation: impl Fn(&str) -> Option<&'a str>) -> About {
        About {
            title: annotation("policies.kyverno.io/title")
                .unwrap_or(name)
                .to_owned(),
            severity: severity_annotation(annotation("policies.kyverno.io/severity")),
            why: annotation("policies.kyverno.io/description")
                .unwrap_or_default()
                .trim()
                .to_owned(),
        }
    }

    fn of_policy(policy: &Policy) -> About {
        About::of(&policy.name, |k| policy.annotation(k))
    }

    fn of_validating(policy: &ValidatingPolicy) -> About {
        About::of(&policy.name, |k| {
            policy.annotations.get(k).map(String::as_str)
        })
    }

    /// The renderer-facing description of one Kyverno rule or `ValidatingPolicy`.
    fn rule_info(
        self,
        id: String,
        name: String,
        enforcement: Enforcement,
        kinds: Vec<String>,
    ) -> RuleInfo {
        RuleInfo {
            id,
            name,
            title: self.title,
            severity: self.severity,
            default_enforcement: enforcement,
            enforcement,
            kinds,
            why: self.why,
            docs: String::new(),
            help_uri: None,
            aliases: Vec::new(),
            fixable: false,
        }
    }

    /// A finding of a failed (or unevaluable) rule or `ValidatingPolicy` on a resource.
    fn finding(
        self,
        id: String,
        name: String,
        enforcement: Enforcement,
        resource: &Resource,
        result: &RuleResult,
        subject: &str,
    ) -> Finding {
        let message = match result.status {
            Status::Error => format!(
                "kyverno {subject} could not be evaluated: {}",
                result.message
            ),
            _ => result.message.clone(),
        };
        Finding {
            rule_id: id,
            rule_name: name,
            title: self.title,
            severity: self.severity,
            enforcement,
            resource: resource.address.clone(),
            resource_kind: resource.kind.clone(),
            action: resource.action,
            attribute: None,
            location: resource.source.clone(),
            message,
            why: self.why,
            fix: None,
            unknown: false,
            aliases: Vec::new(),
            help_uri: None,
            note: None,
        }
    }
}

/// Kyverno policies as a warden engine.
#[derive(Debug, Clone, Default)]
pub struct KyvernoEngine {
    policies: Vec<(Policy, Vec<Rule>)>,
    /// Per policy, per rule: the kinds its `match` can select (`None`: any).
    kinds: Vec<Vec<Option<Vec<String>>>>,
    exceptions: Vec<PolicyException>,
    pod_security: Option<Arc<dyn PodSecurity>>,
    validating_policies: Vec<ValidatingPolicy>,
}

impl KyvernoEngine {
    /// An engine over `policies` (rules auto-generated for pod controllers) and `exceptions`.
    #[must_use]
    pub fn new(policies: Vec<Policy>, exceptions: Vec<PolicyException>) -> KyvernoEngine {
        let policies: Vec<(Policy, Vec<Rule>)> = policies
            .into_iter()
            .map(|p| {
                let rules = expand_rules(&p);
                (p, rules)
            })
            .collect();
        let kinds = policies
            .iter()
            .map(|(_, rules)| {
                rules
                    .iter()
                    .map(|r| matching::possible_kinds(&r.match_resources))
                    .collect()
            })
            .collect();
        KyvernoEngine {
            policies,
            kinds,
            exceptions,
            pod_security: None,
            validating_policies: Vec::new(),
        }
    }

    /// The same engine with the Pod Security Standards checks `validate.podSecurity` rules
    /// run (without them those rules are errors).
    #[must_use]
    pub fn with_pod_security(mut self, checks: Arc<dyn PodSecurity>) -> KyvernoEngine {
        self.pod_security = Some(checks);
        self
    }

    /// The same engine with `ValidatingPolicy` policies as well.
    #[must_use]
    pub fn with_validating_policies(mut self, policies: Vec<ValidatingPolicy>) -> KyvernoEngine {
        self.validating_policies.extend(policies);
        self
    }

    /// The loaded `ValidatingPolicy` policies.
    #[must_use]
    pub fn validating_policies(&self) -> &[ValidatingPolicy] {
        &self.validating_policies
    }

    /// Every applicable `ValidatingPolicy`'s verdict on one request.
    #[must_use]
    pub fn evaluate_validating(&self, request: &Request) -> Vec<(&ValidatingPolicy, RuleResult)> {
        self.validating_policies
            .iter()
            .filter_map(|p| vpol::evaluate(p, request).map(|r| (p, r)))
            .collect()
    }

    /// The injected Pod Security Standards checks, if any.
    #[must_use]
    pub fn pod_security(&self) -> Option<&dyn PodSecurity> {
        self.pod_security.as_deref()
    }

    /// One rule's verdict on one request, with this engine's exceptions and checks; `None`
    /// when the rule does not apply (see [`evaluate_rule`]).
    #[must_use]
    pub fn evaluate_rule(
        &self,
        policy: &Policy,
        rule: &Rule,
        request: &Request,
    ) -> Option<RuleResult> {
        evaluate_rule_with(policy, rule, request, &self.exceptions, self.pod_security())
    }

    /// Every applicable rule's verdict on one request: `(policy, rule as evaluated, result)`.
    #[must_use]
    pub fn evaluate_request(&self, request: &Request) -> Vec<(&Policy, &Rule, RuleResult)> {
        let mut out = Vec::new();
        let base = OnceCell::new();
        let kind = crate::at(&request.resource, "/kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for ((policy, rules), kinds) in self.policies.iter().zip(&self.kinds) {
            for (rule, possible) in rules.iter().zip(kinds) {
                if possible
                    .as_ref()
                    .is_some_and(|ks| !ks.iter().any(|k| k == kind))
                {
                    continue;
                }
                let pss = self.pod_security();
                if let Some(r) =
                    evaluate_rule_in(policy, rule, request, &self.exceptions, pss, &base)
                {
                    out.push((policy, rule, r));
                }
            }
        }
        out
    }

    /// Every rule on one resource of a change set: its failures, errors and warnings as
    /// findings.
    fn evaluate_resource(&self, resource: &Resource, out: &mut Vec<Finding>) {
        if resource.provider != warden_core::inputs::kubernetes::PROVIDER {
            return;
        }
        let object = if resource.action.is_live() {
            &resource.after
        } else {
            resource.before_state()
        };
        let mut request = Request::create(object.to_json());
        request.info.operation = operation_of(resource.action).to_owned();
        for (policy, rule, result) in self.evaluate_request(&request) {
            if matches!(result.status, Status::Fail | Status::Error | Status::Warn) {
                out.push(finding(policy, rule, resource, &result));
            }
        }
        for (policy, result) in self.evaluate_validating(&request) {
            if matches!(result.status, Status::Fail | Status::Error | Status::Warn) {
                out.push(validating_finding(policy, resource, &result));
            }
        }
    }

    /// The policy exceptions in force.
    #[must_use]
    pub fn exceptions(&self) -> &[PolicyException] {
        &self.exceptions
    }

    /// The loaded policies with their expanded rules.
    #[must_use]
    pub fn policies(&self) -> &[(Policy, Vec<Rule>)] {
        &self.policies
    }
}

fn operation_of(action: Action) -> &'static str {
    match action {
        Action::Delete | Action::Forget => "DELETE",
        Action::Update | Action::Replace => "UPDATE",
        _ => "CREATE",
    }
}

fn finding(policy: &Policy, rule: &Rule, resource: &Resource, result: &RuleResult) -> Finding {
    let name = original_name(&rule.name).to_owned();
    let enforcement = match result.status {
        Status::Warn => Enforcement::Warn,
        _ => enforcement_of(policy, rule),
    };
    let id = format!("kyverno:{}/{name}", policy.name);
    About::of_policy(policy).finding(id, name, enforcement, resource, result, "rule")
}

/// A finding of a `ValidatingPolicy`: `Deny` blocks, `Audit`/`Warn` warn.
fn validating_finding(
    policy: &ValidatingPolicy,
    resource: &Resource,
    result: &RuleResult,
) -> Finding {
    let enforcement = if policy.denies() && result.status != Status::Warn {
        Enforcement::Deny
    } else {
        Enforcement::Warn
    };
    let id = format!("kyverno:{}", policy.name);
    About::of_validating(policy).finding(
        id,
        policy.name.clone(),
        enforcement,
        resource,
        result,
        "policy",
    )
}

impl Engine for KyvernoEngine {
    fn name(&self) -> &'static str {
        "kyverno"
    }

    fn evaluate(&self, changes: &ChangeSet, out: &mut Vec<Finding>) -> Result<(), EngineError> {
        /// Below this many resources one thread does it all.
        const PARALLEL_FROM: usize = 512;
        let resources = &changes.resources;
        if resources.len() < PARALLEL_FROM {
            resources
                .iter()
                .for_each(|r| self.evaluate_resource(r, out));
            return Ok(());
        }
        // Both cores, each on half the resources; findings in resource order.
        let (first, second) = resources.split_at(resources.len() / 2);
        let other = std::thread::scope(|scope| {
            let other = scope.spawn(|| {
                let mut found = Vec::new();
                second
                    .iter()
                    .for_each(|r| self.evaluate_resource(r, &mut found));
                found
            });
            first.iter().for_each(|r| self.evaluate_resource(r, out));
            other.join()
        });
        // A panic is a bug: the half it happened in is not evaluated, so fail closed.
        let found = other.map_err(|_| EngineError {
            engine: "kyverno".to_owned(),
            message: format!(
                "{}: evaluating the manifests failed internally",
                changes.input.path
            ),
        })?;
        out.extend(found);
        Ok(())
    }

    fn rules(&self) -> Vec<RuleInfo> {
        let mut out = Vec::new();
        for (policy, _) in &self.policies {
            for rule in &policy.rules {
                let id = format!("kyverno:{}/{}", policy.name, rule.name);
                let enforcement = enforcement_of(policy, rule);
                out.push(About::of_policy(policy).rule_info(
                    id,
                    rule.name.clone(),
                    enforcement,
                    rule_kinds(rule),
                ));
            }
        }
        for policy in &self.validating_policies {
            let enforcement = if policy.denies() {
                Enforcement::Deny
            } else {
                Enforcement::Warn
            };
            let id = format!("kyverno:{}", policy.name);
            out.push(About::of_validating(policy).rule_info(
                id,
                policy.name.clone(),
                enforcement,
                Vec::new(),
            ));
        }
        out
    }
}

fn rule_kinds(rule: &Rule) -> Vec<String> {
    let m = &rule.match_resources;
    let mut kinds: Vec<String> = m
        .any
        .iter()
        .chain(&m.all)
        .flat_map(|f| f.resources.kinds.clone())
        .chain(m.resources.iter().flat_map(|d| d.kinds.clone()))
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load_str;
    use serde_json::json;

    fn load(rules: &str, extra_meta: &str) -> Policy {
        let text = format!(
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: p\n{extra_meta}spec:\n  validationFailureAction: Enforce\n  rules:\n{rules}"
        );
        let loaded = load_str("p.yaml", &text);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded.policies.into_iter().next().unwrap()
    }

    const SERVICE_DENY: &str = "  - name: no-lb\n    match:\n      any:\n      - resources:\n          kinds: [Service]\n    validate:\n      message: no load balancers\n      deny: {}\n";

    const CEL_RULE: &str = "  - name: host\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    celPreconditions:\n    - name: not-kube-system\n      expression: \"object.metadata.?namespace.orValue('') != 'kube-system'\"\n    validate:\n      cel:\n        variables:\n        - name: hn\n          expression: \"object.spec.?hostNetwork.orValue(false)\"\n        expressions:\n        - expression: \"!variables.hn\"\n          messageExpression: \"'hostNetwork in ' + object.metadata.name\"\n";

    #[test]
    fn validate_cel_passes_fails_and_honours_cel_preconditions() {
        let p = load(CEL_RULE, "");
        let rules = expand_rules(&p);
        let pod = |ns: &str, host: bool| {
            Request::create(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "x", "namespace": ns}, "spec": {"hostNetwork": host}}))
        };
        let r = evaluate_rule(&p, &rules[0], &pod("a", false), &[]).unwrap();
        assert_eq!(r.status, Status::Pass);
        let r = evaluate_rule(&p, &rules[0], &pod("a", true), &[]).unwrap();
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.message, "hostNetwork in x");
        let r = evaluate_rule(&p, &rules[0], &pod("kube-system", true), &[]).unwrap();
        assert_eq!(r.status, Status::Skip);
        let deploy = Request::create(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"hostNetwork": true}}}}));
        let auto = rules.iter().find(|r| r.name == "autogen-host").unwrap();
        let r = evaluate_rule(&p, auto, &deploy, &[]).unwrap();
        assert_eq!(r.status, Status::Fail);
    }

    #[test]
    fn validate_cel_with_params_is_an_error() {
        let rule = "  - name: p\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    validate:\n      cel:\n        paramKind: {apiVersion: v1, kind: ConfigMap}\n        expressions:\n        - expression: \"true\"\n";
        let p = load(rule, "");
        let pod =
            Request::create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}));
        let r = evaluate_rule(&p, &p.rules[0], &pod, &[]).unwrap();
        assert_eq!(r.status, Status::Error);
        assert!(r.message.contains("paramKind"), "{}", r.message);
    }

    #[test]
    fn a_rule_that_does_not_match_has_no_result() {
        let p = load(SERVICE_DENY, "");
        let pod =
            Request::create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}));
        assert_eq!(evaluate_rule(&p, &p.rules[0], &pod, &[]), None);
    }

    #[test]
    fn foreach_leaves_the_context_as_it_found_it() {
        let fe: ForEach = serde_json::from_value(json!({
            "list": "request.object.spec.containers",
            "context": [{"name": "img", "variable": {"jmesPath": "element.image"}}],
            "deny": {"conditions": {"any": [{"key": "{{ img }}", "operator": "Equals", "value": "bad"}]}}
        }))
        .unwrap();
        let resource = json!({"spec": {"containers": [{"image": "good"}, {"image": "bad"}]}});
        let mut ctx = Context::new();
        ctx.set("request", json!({"object": resource}));
        ctx.set("element", json!("outer"));
        let before = ctx.clone();
        let r = foreach_block(&[fe], "r", &resource, &mut ctx, 0).unwrap();
        assert_eq!(r.status, Status::Fail);
        assert_eq!(ctx, before);
    }

    #[test]
    fn deny_without_conditions_always_fails_with_the_message() {
        let p = load(SERVICE_DENY, "");
        let svc = Request::create(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}),
        );
        let r = evaluate_rule(&p, &p.rules[0], &svc, &[]).unwrap();
        assert_eq!(r.status, Status::Fail);
        assert!(r.message.contains("no load balancers"), "{}", r.message);
    }

    #[test]
    fn rules_without_validate_give_no_result() {
        let rules = "  - name: add-label\n    match:\n      any:\n      - resources:\n          kinds: [Service]\n    mutate:\n      patchStrategicMerge: {}\n";
        let p = load(rules, "");
        let svc = Request::create(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}),
        );
        assert_eq!(evaluate_rule(&p, &p.rules[0], &svc, &[]), None);
    }

    #[test]
    fn unscored_policies_warn_instead_of_failing() {
        let p = load(
            SERVICE_DENY,
            "  annotations:\n    policies.kyverno.io/scored: \"false\"\n",
        );
        let svc = Request::create(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}),
        );
        assert_eq!(
            evaluate_rule(&p, &p.rules[0], &svc, &[]).map(|r| r.status),
            Some(Status::Warn)
        );
    }

    #[test]
    fn exceptions_skip_the_rule() {
        let p = load(SERVICE_DENY, "");
        let ex = load_str(
            "e.yaml",
            "apiVersion: kyverno.io/v2\nkind: PolicyException\nmetadata: {name: e, namespace: ops}\nspec:\n  exceptions:\n  - policyName: p\n    ruleNames: [no-*]\n  match:\n    any:\n    - resources:\n        names: [s]\n",
        )
        .exceptions;
        let svc = Request::create(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}),
        );
        let r = evaluate_rule(&p, &p.rules[0], &svc, &ex).unwrap();
        assert_eq!(r.status, Status::Skip);
        assert!(r.message.contains("ops/e"));
    }

    #[test]
    fn unsupported_features_are_errors_not_passes() {
        let rules = "  - name: pss\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    validate:\n      podSecurity:\n        level: baseline\n        version: latest\n";
        let p = load(rules, "");
        let pod =
            Request::create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}));
        let r = evaluate_rule(&p, &p.rules[0], &pod, &[]).unwrap();
        assert_eq!(r.status, Status::Error);
        assert!(r.message.contains("podSecurity"));
        let ctx_rule = "  - name: c\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    context:\n    - name: cm\n      configMap: {name: x, namespace: y}\n    validate:\n      deny: {}\n";
        let p = load(ctx_rule, "");
        let r = evaluate_rule(&p, &p.rules[0], &pod, &[]).unwrap();
        assert_eq!(r.status, Status::Error);
        assert!(r.message.contains("configMap"), "{}", r.message);
    }

    /// Flags `hostIPC: true` of a Pod or of a Deployment's template as the baseline control
    /// "Host Namespaces".
    #[derive(Debug)]
    struct HostIpc;

    impl PodSecurity for HostIpc {
        fn violations(
            &self,
            _level: pod_security::Level,
            resource: &Value,
        ) -> Vec<pod_security::Violation> {
            let ipc = resource
                .pointer("/spec/hostIPC")
                .or_else(|| resource.pointer("/spec/template/spec/hostIPC"));
            if ipc != Some(&json!(true)) {
                return Vec::new();
            }
            vec![pod_security::Violation {
                control: "Host Namespaces".to_owned(),
                path: "spec.hostIPC".to_owned(),
                images: Vec::new(),
                message: "hostIPC is true".to_owned(),
            }]
        }
    }

    #[test]
    fn pod_security_uses_the_injected_checks_on_pods_and_controllers() {
        let rules = "  - name: baseline\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    validate:\n      podSecurity:\n        level: baseline\n        version: latest\n";
        let engine = KyvernoEngine::new(vec![load(rules, "")], Vec::new())
            .with_pod_security(Arc::new(HostIpc));
        let bad = Request::create(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"hostIPC": true}}),
        );
        let results = engine.evaluate_request(&bad);
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].2.status, Status::Fail);
        assert!(
            results[0].2.message.starts_with(
                "Validation rule 'baseline' failed. It violates PodSecurity \"baseline:latest\""
            ),
            "{}",
            results[0].2.message
        );
        let good = Request::create(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {}}),
        );
        assert_eq!(engine.evaluate_request(&good)[0].2.status, Status::Pass);
        let deployment = Request::create(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"hostIPC": true}}}}),
        );
        let results = engine.evaluate_request(&deployment);
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].1.name, "autogen-baseline");
        assert_eq!(results[0].2.status, Status::Fail);
    }

    #[test]
    fn values_set_dotted_names() {
        let mut root = Map::new();
        apply_values(
            &mut root,
            &[
                ("request.operation".to_owned(), json!("UPDATE")),
                ("x".to_owned(), json!(1)),
            ],
        );
        assert_eq!(
            Value::Object(root),
            json!({"request": {"operation": "UPDATE"}, "x": 1})
        );
    }

    #[test]
    fn enforcement_and_severity_follow_the_policy() {
        let p = load(
            SERVICE_DENY,
            "  annotations:\n    policies.kyverno.io/severity: High\n",
        );
        assert_eq!(enforcement_of(&p, &p.rules[0]), Enforcement::Deny);
        assert_eq!(severity_of(&p), Severity::High);
        let mut audit = p.clone();
        audit.failure_action = FailureAction::Audit;
        assert_eq!(enforcement_of(&audit, &audit.rules[0]), Enforcement::Warn);
    }

    #[test]
    fn engine_reports_failures_as_findings() {
        let p = load(
            SERVICE_DENY,
            "  annotations:\n    policies.kyverno.io/description: LBs cost money\n",
        );
        let engine = KyvernoEngine::new(vec![p], Vec::new());
        let cs = warden_core::inputs::kubernetes::parse_manifests(
            "svc.yaml",
            b"apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: web}\n",
        )
        .unwrap();
        let mut out = Vec::new();
        engine.evaluate(&cs, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule_id, "kyverno:p/no-lb");
        assert_eq!(out[0].enforcement, Enforcement::Deny);
        assert_eq!(out[0].why, "LBs cost money");
        assert_eq!(engine.rules().len(), 1);
    }
}
