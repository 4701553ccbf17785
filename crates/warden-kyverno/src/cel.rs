//! CEL evaluation for `validate.cel`, `celPreconditions` and `ValidatingPolicy`: the variables
//! Kubernetes admission provides (`object`, `oldObject`, `request`, `namespaceObject`,
//! `params`, `variables`) and the Kubernetes CEL string functions the corpus uses.
//!
//! `authorizer` and `params` resources are not available: `params` is `null` and a reference
//! to `authorizer` is an error (an undeclared reference).

use std::collections::HashMap;
use std::sync::Arc;

use cel::extractors::This;
use cel::objects::{Key, Map as CelMap};
use cel::parser::Parser;
use cel::{Context, ExecutionError, Value as CelValue};
use serde_json::{Map, Value};

use crate::matching::RequestInfo;
use crate::KyvernoError;

/// One `{name, expression}` CEL variable.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(default)]
pub struct CelVariable {
    /// Name (`variables.<name>`).
    pub name: String,
    /// CEL expression.
    pub expression: String,
}

/// One validation: the expression must be `true`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CelValidation {
    /// CEL expression giving a bool.
    pub expression: String,
    /// Message on failure.
    pub message: Option<String>,
    /// CEL expression giving the message on failure.
    pub message_expression: Option<String>,
    /// Reason (`Invalid`, `Forbidden` ...), informational.
    pub reason: Option<String>,
}

/// `validate.cel` of a ClusterPolicy/Policy rule.
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CelBlock {
    /// Validations, all of which must hold.
    pub expressions: Vec<CelValidation>,
    /// Variables (`variables.<name>`).
    pub variables: Vec<CelVariable>,
    /// `paramKind` (parameter resources are not available).
    pub param_kind: Option<Value>,
    /// `paramRef` (parameter resources are not available).
    pub param_ref: Option<Value>,
}

/// The pod a pod controller's template describes (`spec.template`, or
/// `spec.jobTemplate.spec.template` for a CronJob), as autogen evaluates it; `None` when the
/// resource has no template.
#[must_use]
pub fn template_pod(resource: &Value) -> Option<Value> {
    let template = resource
        .pointer("/spec/jobTemplate/spec/template")
        .or_else(|| resource.pointer("/spec/template"))?;
    let mut metadata = template
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    if let (Some(ns), Value::Object(m)) = (resource.pointer("/metadata/namespace"), &mut metadata) {
        m.entry("namespace").or_insert_with(|| ns.clone());
    }
    Some(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or(Value::Null),
    }))
}

/// The admission inputs of one CEL evaluation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CelInput {
    /// `object` (the resource; `null` on DELETE in Kubernetes).
    pub object: Value,
    /// `oldObject` (`null` on CREATE).
    pub old_object: Value,
    /// `request`: operation, userInfo, namespace, name, kind ...
    pub request: Value,
    /// `namespaceObject` (`null` for cluster-scoped resources).
    pub namespace_object: Value,
}

/// Kinds that live outside namespaces (no `namespaceObject`).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "CustomResourceDefinition",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "IngressClass",
    "RuntimeClass",
    "APIService",
    "CSIDriver",
    "ClusterPolicy",
];

impl CelInput {
    /// The inputs for `object` under the request `info` (operation, user, namespace labels).
    #[must_use]
    pub fn new(object: &Value, info: &RequestInfo) -> CelInput {
        let kind = str_at(object, "/kind");
        let api = str_at(object, "/apiVersion");
        let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
        let namespaced = !CLUSTER_SCOPED.contains(&kind);
        let namespace = if namespaced {
            object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
        } else {
            ""
        };
        let operation = if info.operation.is_empty() {
            "CREATE"
        } else {
            info.operation.as_str()
        };
        let old_object = match operation {
            "UPDATE" | "DELETE" => object.clone(),
            _ => Value::Null,
        };
        let request = serde_json::json!({
            "operation": operation,
            "namespace": namespace,
            "name": str_at(object, "/metadata/name"),
            "kind": {"group": group, "version": version, "kind": kind},
            "userInfo": {"username": info.user.username, "groups": info.user.groups},
            "dryRun": false,
        });
        let namespace_object = if namespaced {
            let labels: Map<String, Value> = info
                .namespace_labels
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace, "labels": labels},
            })
        } else {
            Value::Null
        };
        let object = if operation == "DELETE" {
            Value::Null
        } else {
            object.clone()
        };
        CelInput {
            object,
            old_object,
            request,
            namespace_object,
        }
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A compiled-and-bound CEL environment: the inputs plus the evaluated `variables`.
pub struct CelEnv {
    context: Context<'static>,
    variables: HashMap<Key, CelValue>,
}

impl std::fmt::Debug for CelEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CelEnv")
            .field("variables", &self.variables.len())
            .finish()
    }
}

impl CelEnv {
    /// An environment over `input`, with `variables` evaluated in order (each sees the ones
    /// before it). A variable whose expression fails is left out: expressions that use it fail.
    #[must_use]
    pub fn new(input: &CelInput, variables: &[CelVariable]) -> CelEnv {
        let mut context = Context::default();
        add_functions(&mut context);
        context.add_variable_from_value("object", to_cel(&input.object));
        context.add_variable_from_value("oldObject", to_cel(&input.old_object));
        context.add_variable_from_value("request", to_cel(&input.request));
        context.add_variable_from_value("namespaceObject", to_cel(&input.namespace_object));
        context.add_variable_from_value("params", CelValue::Null);
        let mut env = CelEnv {
            context,
            variables: HashMap::new(),
        };
        env.bind_variables();
        for variable in variables {
            if let Ok(value) = env.eval(&variable.expression) {
                env.variables
                    .insert(Key::from(variable.name.as_str()), value);
                env.bind_variables();
            }
        }
        env
    }

    fn bind_variables(&mut self) {
        let map = CelMap {
            map: Arc::new(self.variables.clone()),
        };
        self.context
            .add_variable_from_value("variables", CelValue::Map(map));
    }

    /// Evaluates `expression` to a CEL value.
    pub fn eval(&self, expression: &str) -> Result<CelValue, KyvernoError> {
        let parsed = Parser::new()
            .enable_optional_syntax(true)
            .parse(&optional_selects_as_index(expression))
            .map_err(|e| cel_error(expression, e.to_string()))?;
        CelValue::resolve(&parsed, &self.context).map_err(|e| cel_error(expression, e.to_string()))
    }

    /// Evaluates `expression`, which must give a bool.
    pub fn eval_bool(&self, expression: &str) -> Result<bool, KyvernoError> {
        match self.eval(expression)? {
            CelValue::Bool(b) => Ok(b),
            other => Err(cel_error(
                expression,
                format!("expected a bool, got {:?}", other.type_of()),
            )),
        }
    }

    /// Evaluates `expression` as a message: strings as they are, other values as JSON.
    pub fn eval_string(&self, expression: &str) -> Result<String, KyvernoError> {
        Ok(match self.eval(expression)? {
            CelValue::String(s) => s.to_string(),
            other => to_json(&other).to_string(),
        })
    }

    /// Runs `validations` in order: `Ok(None)` when all hold, `Ok(Some(message))` for the
    /// first that is `false`, `Err` when one cannot be evaluated.
    pub fn first_failure(
        &self,
        validations: &[CelValidation],
    ) -> Result<Option<String>, KyvernoError> {
        for v in validations {
            if !self.eval_bool(&v.expression)? {
                return Ok(Some(self.failure_message(v)));
            }
        }
        Ok(None)
    }

    fn failure_message(&self, v: &CelValidation) -> String {
        if let Some(text) = v
            .message_expression
            .as_deref()
            .and_then(|e| self.eval_string(e).ok())
        {
            return text;
        }
        v.message
            .clone()
            .unwrap_or_else(|| format!("failed expression: {}", v.expression))
    }
}

/// `a.?b` → `a[?'b']` outside string literals, and so for the plain field selects that follow
/// in the same chain (`a.?b.c` → `a[?'b'][?'c']`, as optional chaining propagates): the
/// interpreter's optional select fails on a missing key where the spec gives
/// `optional.none()`; its optional index does not.
fn optional_selects_as_index(expression: &str) -> String {
    let chars: Vec<char> = expression.chars().collect();
    let mut out = String::with_capacity(expression.len() + 8);
    let mut quote: Option<char> = None;
    let mut chain = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.get(i + 1) {
                    out.push(*next);
                    i += 1;
                }
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            chain = false;
            out.push(c);
            i += 1;
            continue;
        }
        if c == '.' {
            let optional = chars.get(i + 1) == Some(&'?');
            let start = if optional { i + 2 } else { i + 1 };
            let end = identifier_end(&chars, start);
            let is_call = chars.get(end) == Some(&'(');
            if end > start && !is_call && (optional || chain) {
                let name: String = chars[start..end].iter().collect();
                out.push_str(&format!("[?'{name}']"));
                chain = true;
                i = end;
                continue;
            }
        }
        if !c.is_alphanumeric() && c != '_' && c != '.' {
            chain = false;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn identifier_end(chars: &[char], start: usize) -> usize {
    let mut end = start;
    while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
        end += 1;
    }
    end
}

fn cel_error(expression: &str, message: String) -> KyvernoError {
    KyvernoError::Variable {
        expression: expression.to_owned(),
        message: format!("CEL: {message}"),
    }
}

/// JSON → CEL: integers are `int` (`uint` only beyond `i64`), objects are maps.
#[must_use]
pub fn to_cel(value: &Value) -> CelValue {
    match value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => CelValue::Int(i),
            (None, Some(u)) => CelValue::UInt(u),
            _ => CelValue::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => CelValue::String(Arc::new(s.clone())),
        Value::Array(items) => CelValue::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let entries: HashMap<Key, CelValue> = map
                .iter()
                .map(|(k, v)| (Key::from(k.as_str()), to_cel(v)))
                .collect();
            CelValue::Map(CelMap {
                map: Arc::new(entries),
            })
        }
    }
}

/// CEL → JSON (for messages); functions and opaque values become `null`.
#[must_use]
pub fn to_json(value: &CelValue) -> Value {
    match value {
        CelValue::Null => Value::Null,
        CelValue::Bool(b) => Value::Bool(*b),
        CelValue::Int(i) => Value::from(*i),
        CelValue::UInt(u) => Value::from(*u),
        CelValue::Float(f) => Value::from(*f),
        CelValue::String(s) => Value::String(s.to_string()),
        CelValue::List(items) => Value::Array(items.iter().map(to_json).collect()),
        CelValue::Map(m) => Value::Object(
            m.map
                .iter()
                .map(|(k, v)| (key_text(k), to_json(v)))
                .collect(),
        ),
        _ => Value::Null,
    }
}

fn key_text(key: &Key) -> String {
    match key {
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
        Key::String(s) => s.to_string(),
    }
}

/// The Kubernetes CEL string library functions the corpus uses.
fn add_functions(ctx: &mut Context<'static>) {
    ctx.add_function("lowerAscii", lower_ascii);
    ctx.add_function("upperAscii", upper_ascii);
    ctx.add_function("trim", trim);
    ctx.add_function("split", split);
    ctx.add_function("join", join);
    ctx.add_function("replace", replace);
    ctx.add_function("indexOf", index_of);
    ctx.add_function("lastIndexOf", last_index_of);
    ctx.add_function("isIP", is_ip);
}

type CelResult = Result<CelValue, ExecutionError>;

fn lower_ascii(This(this): This<Arc<String>>) -> CelResult {
    Ok(CelValue::String(Arc::new(this.to_ascii_lowercase())))
}

fn upper_ascii(This(this): This<Arc<String>>) -> CelResult {
    Ok(CelValue::String(Arc::new(this.to_ascii_uppercase())))
}

fn trim(This(this): This<Arc<String>>) -> CelResult {
    Ok(CelValue::String(Arc::new(this.trim().to_owned())))
}

fn split(This(this): This<Arc<String>>, separator: Arc<String>) -> CelResult {
    let parts: Vec<CelValue> = this
        .split(separator.as_str())
        .map(|p| CelValue::String(Arc::new(p.to_owned())))
        .collect();
    Ok(CelValue::List(Arc::new(parts)))
}

fn join(This(this): This<Arc<Vec<CelValue>>>, separator: Arc<String>) -> CelResult {
    let mut parts = Vec::with_capacity(this.len());
    for item in this.iter() {
        match item {
            CelValue::String(s) => parts.push(s.to_string()),
            other => {
                return Err(ExecutionError::function_error(
                    "join",
                    format!("list element is not a string: {other:?}"),
                ))
            }
        }
    }
    Ok(CelValue::String(Arc::new(parts.join(separator.as_str()))))
}

fn replace(This(this): This<Arc<String>>, from: Arc<String>, to: Arc<String>) -> CelResult {
    Ok(CelValue::String(Arc::new(
        this.replace(from.as_str(), to.as_str()),
    )))
}

/// Character (not byte) index of `needle`, or -1.
fn char_index(haystack: &str, byte: Option<usize>) -> CelValue {
    match byte {
        Some(b) => CelValue::Int(i64::try_from(haystack[..b].chars().count()).unwrap_or(-1)),
        None => CelValue::Int(-1),
    }
}

fn index_of(This(this): This<Arc<String>>, needle: Arc<String>) -> CelResult {
    Ok(char_index(&this, this.find(needle.as_str())))
}

fn last_index_of(This(this): This<Arc<String>>, needle: Arc<String>) -> CelResult {
    Ok(char_index(&this, this.rfind(needle.as_str())))
}

fn is_ip(text: Arc<String>) -> CelResult {
    Ok(CelValue::Bool(text.parse::<std::net::IpAddr>().is_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(object: Value, variables: &[(&str, &str)]) -> CelEnv {
        let vars: Vec<CelVariable> = variables
            .iter()
            .map(|(n, e)| CelVariable {
                name: (*n).to_owned(),
                expression: (*e).to_owned(),
            })
            .collect();
        CelEnv::new(&CelInput::new(&object, &RequestInfo::default()), &vars)
    }

    fn pod() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "x"}},
               "spec": {"hostNetwork": false, "containers": [
                 {"name": "a", "image": "nginx:1.2", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}},
                 {"name": "b", "image": "busybox"}]}})
    }

    #[test]
    fn macros_and_optionals_work_on_the_object() {
        let e = env(pod(), &[]);
        assert!(e
            .eval_bool("object.spec.containers.all(c, has(c.image))")
            .unwrap());
        assert!(e
            .eval_bool("object.spec.containers.exists(c, c.name == 'b')")
            .unwrap());
        assert!(!e
            .eval_bool("object.spec.?hostPID.orValue(false) || object.spec.hostNetwork")
            .unwrap());
        assert!(e
            .eval_bool("object.spec.containers.exists_one(c, c.?securityContext.?capabilities.?add.orValue([]).exists(x, x == 'NET_ADMIN'))")
            .unwrap());
        assert!(!e.eval_bool("has(object.spec.initContainers)").unwrap());
        assert!(e
            .eval_bool("object.spec.containers.all(c, c.?securityContext.privileged.orValue(false) == false)")
            .unwrap());
        assert!(e
            .eval_bool(
                "object.spec.containers.map(c, c.name).filter(n, n.startsWith('a')) == ['a']"
            )
            .unwrap());
    }

    #[test]
    fn optional_selects_are_rewritten_outside_strings() {
        assert_eq!(
            optional_selects_as_index("a.?b.?c_d.orValue('x.?y')"),
            "a[?'b'][?'c_d'].orValue('x.?y')"
        );
        assert_eq!(
            optional_selects_as_index("c.?sc.ape.orValue(true) && c.x.y"),
            "c[?'sc'][?'ape'].orValue(true) && c.x.y"
        );
    }

    #[test]
    fn variables_see_earlier_variables() {
        let e = env(
            pod(),
            &[
                ("names", "object.spec.containers.map(c, c.name)"),
                ("count", "size(variables.names)"),
            ],
        );
        assert!(e.eval_bool("variables.count == 2").unwrap());
    }

    #[test]
    fn string_library_functions() {
        let e = env(pod(), &[]);
        assert!(e.eval_bool("'a:b'.split(':') == ['a', 'b']").unwrap());
        assert!(e.eval_bool("['a', 'b'].join('-') == 'a-b'").unwrap());
        assert!(e.eval_bool("'Ab'.upperAscii() == 'AB'").unwrap());
        assert!(e.eval_bool("'Ab'.lowerAscii() == 'ab'").unwrap());
        assert!(e.eval_bool("'nginx:1.2'.indexOf(':') == 5").unwrap());
        assert!(e.eval_bool("'a.b'.replace('.', '-') == 'a-b'").unwrap());
        assert!(e.eval_bool("isIP('10.0.0.1') && !isIP('x')").unwrap());
        assert!(e.eval_bool("'nginx:latest'.matches('.*:latest$')").unwrap());
    }

    #[test]
    fn request_and_namespace_object_are_provided() {
        let e = env(pod(), &[]);
        assert!(e.eval_bool("request.operation == 'CREATE'").unwrap());
        assert!(e
            .eval_bool("namespaceObject.metadata.name == 'default'")
            .unwrap());
        assert!(e.eval_bool("oldObject == null && params == null").unwrap());
    }

    #[test]
    fn authorizer_and_non_bools_are_errors() {
        let e = env(pod(), &[]);
        assert!(e
            .eval_bool("authorizer.group('').resource('pods')")
            .is_err());
        assert!(e.eval_bool("object.metadata.name").is_err());
        assert!(e.eval_bool("object.spec.nothere == 1").is_err());
    }

    #[test]
    fn first_failure_uses_message_expression() {
        let e = env(pod(), &[]);
        let v = CelValidation {
            expression: "object.metadata.name == 'q'".into(),
            message: Some("static".into()),
            message_expression: Some("'name ' + object.metadata.name".into()),
            reason: None,
        };
        assert_eq!(e.first_failure(&[v]).unwrap(), Some("name p".to_owned()));
    }
}
