//! Variables: `{{ request.object.metadata.name }}` substitution with JMESPath (the `jmespath`
//! crate plus Kyverno's custom functions), `context` entries, and the variables Kyverno
//! defines (`request.*`, `element`, `elementIndex`, `serviceAccountName`, `images`, ...).
//!
//! Semantics follow Kyverno (pkg/engine/variables/vars.go, pkg/engine/jmespath):
//! - a key missing on a plain path (`request.object.metadata.labels.app`) is an error
//!   `Unknown key "app" in path`; `||`, filters, projections, pipes and function arguments
//!   read it as `null`, so `{{ a.b || 'default' }}` works;
//! - a string that is exactly one `{{ }}` takes the result's JSON type (even `null`); other
//!   results are spliced (strings raw, everything else as JSON);
//! - inner variables are substituted first (`'{{ element.name }}'` inside a larger one);
//! - `\{{ ... }}` stays literal (the backslash is dropped);
//! - for a `DELETE` request `request.object` reads `request.oldObject`;
//! - `{{@}}` is the value at the same path in `target` or `request.object`.
//!
//! Time functions read the system clock (UTC) when they need "now".

mod functions;
mod interp;
mod quantity;
mod timefns;

use crate::KyvernoError;
use jmespath::ast::Ast;
use jmespath::{Rcvar, Variable};
use regex::Regex;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::LazyLock;

/// The data variables are evaluated against: a JSON object whose top-level keys are the
/// variable roots (`request`, `element`, `elementIndex`, context entry names ...).
///
/// Cloning is cheap (values are shared), and each variable is converted for the JMESPath
/// interpreter once, on first use: a request's context is queried many times, copied for
/// rules with context entries, and changed per `foreach` element, which must not convert
/// `request.object` again each time.
#[derive(Debug, Default)]
pub struct Context {
    root: BTreeMap<String, Slot>,
    /// The whole root converted; when a variable changes it is patched in place on the next
    /// query (see `stale`), or rebuilt when another context shares it.
    cache: RefCell<Option<Rcvar>>,
    /// Variables set or removed since `cache` was built.
    stale: RefCell<Vec<String>>,
    /// Results of queries since the last change: the policies of one request ask the same
    /// questions (`request.operation || 'BACKGROUND'`, `request.object.spec.containers`).
    answers: RefCell<HashMap<String, Result<Value, KyvernoError>>>,
}

/// A copy shares the variables (not the remembered answers, which are cheap to redo).
impl Clone for Context {
    fn clone(&self) -> Self {
        Context {
            root: self.root.clone(),
            cache: self.cache.clone(),
            stale: self.stale.clone(),
            answers: RefCell::default(),
        }
    }
}

/// One top-level variable and, once queried, its interpreter form; clones share both (a
/// `foreach` element is `element` and `element0` at once, converted once).
#[derive(Debug, Clone)]
pub(crate) struct Slot(Rc<SlotInner>);

#[derive(Debug)]
struct SlotInner {
    value: Value,
    converted: OnceCell<Rcvar>,
}

impl Slot {
    /// A variable holding `value`.
    pub(crate) fn new(value: Value) -> Self {
        Slot(Rc::new(SlotInner {
            value,
            converted: OnceCell::new(),
        }))
    }

    /// A variable whose interpreter form is already known (a query's result).
    fn with_converted(value: Value, converted: Rcvar) -> Self {
        Slot(Rc::new(SlotInner {
            value,
            converted: OnceCell::from(converted),
        }))
    }

    /// The value.
    pub(crate) fn value(&self) -> &Value {
        &self.0.value
    }

    /// `true` when both are the same variable (not merely equal values).
    pub(crate) fn same(&self, other: &Slot) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    fn converted(&self) -> Rcvar {
        self.0
            .converted
            .get_or_init(|| Rcvar::new(from_json(&self.0.value)))
            .clone()
    }
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        self.root.len() == other.root.len()
            && self
                .root
                .iter()
                .zip(&other.root)
                .all(|((a, va), (b, vb))| a == b && va.value() == vb.value())
    }
}

impl Context {
    /// An empty context.
    #[must_use]
    pub fn new() -> Self {
        Context::default()
    }

    /// Sets a top-level variable (`request`, `element`, a context entry).
    pub fn set(&mut self, name: &str, value: Value) {
        self.put(name, Slot::new(value));
    }

    /// Sets a top-level variable to a (possibly shared) slot.
    pub(crate) fn put(&mut self, name: &str, slot: Slot) {
        match self.root.get_mut(name) {
            Some(existing) if existing.same(&slot) => return,
            Some(existing) => *existing = slot,
            None => {
                self.root.insert(name.to_owned(), slot);
            }
        }
        self.changed(name);
    }

    /// The slot of a top-level variable.
    pub(crate) fn slot(&self, name: &str) -> Option<&Slot> {
        self.root.get(name)
    }

    /// A top-level variable's value.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.root.get(name).map(Slot::value)
    }

    /// Removes a top-level variable.
    pub fn remove(&mut self, name: &str) {
        if self.root.remove(name).is_some() {
            self.changed(name);
        }
    }

    fn changed(&mut self, name: &str) {
        if self.cache.get_mut().is_some() {
            self.stale.get_mut().push(name.to_owned());
        }
        let answers = self.answers.get_mut();
        if !answers.is_empty() {
            answers.clear();
        }
    }

    /// Whether a top-level variable is set.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.root.contains_key(name)
    }

    /// Sets a variable by dotted name (`images.containers`, `foo`), creating objects on the
    /// way, as Kyverno's `AddVariable` does for values from a test's values file.
    pub fn set_path(&mut self, dotted: &str, value: Value) {
        let (first, rest) = dotted.split_once('.').unwrap_or((dotted, ""));
        if rest.is_empty() {
            self.set(first, value);
            return;
        }
        let mut top = match self.get(first) {
            Some(v) if v.is_object() => v.clone(),
            _ => Value::Object(Map::new()),
        };
        let mut parts: Vec<&str> = rest.split('.').collect();
        let Some(last) = parts.pop() else { return };
        let Value::Object(map) = &mut top else {
            return;
        };
        let mut current = map;
        for part in parts {
            let slot = current
                .entry(part.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            let Value::Object(next) = slot else { return };
            current = next;
        }
        current.insert(last.to_owned(), value);
        self.set(first, top);
    }

    /// The whole context as the interpreter's root object (each variable converted once).
    fn interpreter_root(&self) -> Rcvar {
        let mut cache = self.cache.borrow_mut();
        let mut stale = self.stale.borrow_mut();
        if let Some(root) = cache.as_mut() {
            if stale.is_empty() {
                return root.clone();
            }
            // Patch the changed variables in, unless a clone of this context shares the root.
            if let Some(Variable::Object(map)) = Rc::get_mut(root) {
                for name in stale.drain(..) {
                    match self.root.get(&name) {
                        Some(slot) => {
                            map.insert(name, slot.converted());
                        }
                        None => {
                            map.remove(&name);
                        }
                    }
                }
                return root.clone();
            }
        }
        stale.clear();
        let entries = self
            .root
            .iter()
            .map(|(k, v)| (k.clone(), v.converted()))
            .collect();
        let root = Rcvar::new(Variable::Object(entries));
        *cache = Some(root.clone());
        root
    }
}

/// Evaluates a JMESPath expression whose result is a list (a `foreach` list): its items as
/// variables, each converted for the interpreter already; `null` is an empty list and any
/// other value a list of one.
///
/// # Errors
/// As [`query`].
pub(crate) fn query_items(expression: &str, context: &Context) -> Result<Vec<Slot>, KyvernoError> {
    let result = eval_root(expression, &context.interpreter_root())?;
    Ok(match &*result {
        Variable::Array(items) => items
            .iter()
            .map(|item| Slot::with_converted(to_json(item), item.clone()))
            .collect(),
        Variable::Null => Vec::new(),
        _ => vec![Slot::with_converted(to_json(&result), result.clone())],
    })
}

/// The message prefix of a "key not found" evaluation error.
const NOT_FOUND: &str = "JMESPath query failed: Unknown key";

/// Whether an error from [`query`]/[`substitute`] is Kyverno's "Unknown key ... in path"
/// (a variable that does not exist), as opposed to a malformed expression or a failing
/// function.
#[must_use]
pub fn is_not_found(error: &KyvernoError) -> bool {
    matches!(error, KyvernoError::Variable { message, .. } if message.contains(NOT_FOUND))
}

/// Evaluates a JMESPath expression (Kyverno's dialect) against the context.
///
/// # Errors
/// A parse error, an unknown function, a function failing on its arguments, or a key missing
/// on a plain path (`Unknown key "x" in path`, see [`is_not_found`]).
pub fn query(expression: &str, context: &Context) -> Result<Value, KyvernoError> {
    const REMEMBERED: usize = 256;
    if let Some(answer) = context.answers.borrow().get(expression) {
        return answer.clone();
    }
    let answer = query_root(expression, &context.interpreter_root());
    let mut answers = context.answers.borrow_mut();
    if answers.len() < REMEMBERED {
        answers.insert(expression.to_owned(), answer.clone());
    }
    answer
}

/// Evaluates a JMESPath expression against any JSON value (context entries' `jmesPath`
/// applied to a `value`).
///
/// # Errors
/// As [`query`].
pub fn query_value(expression: &str, data: &Value) -> Result<Value, KyvernoError> {
    query_root(expression, &Rcvar::new(from_json(data)))
}

/// Evaluates a JMESPath expression against data already converted for the interpreter.
fn query_root(expression: &str, root: &Rcvar) -> Result<Value, KyvernoError> {
    eval_root(expression, root).map(|result| to_json(&result))
}

/// [`query_root`] leaving the result in the interpreter's form.
fn eval_root(expression: &str, root: &Rcvar) -> Result<Rcvar, KyvernoError> {
    let fail = |message: String| KyvernoError::Variable {
        expression: expression.to_owned(),
        message,
    };
    let trimmed = expression.trim();
    if trimmed.is_empty() {
        return Err(fail("invalid query (empty)".to_owned()));
    }
    let ast = compiled(trimmed).map_err(|e| fail(format!("incorrect query: {}", reason(&e))))?;
    let mut ctx = jmespath::Context::new(trimmed, &functions::RUNTIME);
    interp::eval(&ast, root, &mut ctx).map_err(|e| match e {
        interp::EvalError::NotFound(key) => fail(format!("{NOT_FOUND} \"{key}\" in path")),
        interp::EvalError::Jmespath(e) => fail(format!("JMESPath query failed: {}", reason(&e))),
    })
}

/// The parsed form of an expression. Policies repeat the same few expressions for every
/// resource and element, so parses are kept per thread (bounded: cleared when full).
fn compiled(expression: &str) -> Result<Rc<Ast>, jmespath::JmespathError> {
    const CAPACITY: usize = 4096;
    thread_local! {
        static COMPILED: RefCell<HashMap<String, Rc<Ast>>> = RefCell::new(HashMap::new());
    }
    if let Some(ast) = COMPILED.with(|c| c.borrow().get(expression).cloned()) {
        return Ok(ast);
    }
    let ast = Rc::new(functions::RUNTIME.compile(expression)?.as_ast().clone());
    COMPILED.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        cache.insert(expression.to_owned(), ast.clone());
    });
    Ok(ast)
}

fn reason(error: &jmespath::JmespathError) -> String {
    match &error.reason {
        jmespath::ErrorReason::Parse(message) => message.clone(),
        jmespath::ErrorReason::Runtime(runtime) => runtime.to_string(),
    }
}

/// JSON as the interpreter's value (what `Variable::try_from` gives, without its detour
/// through serde's serializer for every object member).
pub(crate) fn from_json(value: &Value) -> Variable {
    match value {
        Value::Null => Variable::Null,
        Value::Bool(b) => Variable::Bool(*b),
        Value::Number(n) => Variable::Number(n.clone()),
        Value::String(s) => Variable::String(s.clone()),
        Value::Array(items) => {
            Variable::Array(items.iter().map(|i| Rcvar::new(from_json(i))).collect())
        }
        Value::Object(map) => Variable::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), Rcvar::new(from_json(v))))
                .collect(),
        ),
    }
}

/// The interpreter's value as JSON, numbers normalized (see [`normalize_numbers`]).
fn to_json(value: &Variable) -> Value {
    match value {
        Variable::Null => Value::Null,
        Variable::Bool(b) => Value::Bool(*b),
        Variable::Number(n) => normalize_numbers(Value::Number(n.clone())),
        Variable::String(s) => Value::String(s.clone()),
        Variable::Array(items) => Value::Array(items.iter().map(|i| to_json(i)).collect()),
        Variable::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        Variable::Expref(ast) => Value::String(format!("<expression: {ast:?}>")),
    }
}

/// Integral floats become integers: Kyverno's numbers are Go `float64`s, which print `2`
/// for `2.0`.
fn normalize_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "checked integral and in range"
            )]
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(normalize_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, normalize_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// `\{{ ... }}`: an escaped variable.
static ESCAPED: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\\\{\{(?:\{[^{}]*\}|[^{}])*\}\}").ok());

/// How missing variables are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Missing {
    /// `Unknown key` is an error (Kyverno's default everywhere).
    #[default]
    Error,
    /// `Unknown key` resolves to `null` (for callers that want to compare against nothing).
    Null,
}

/// Replaces every `{{ expr }}` in the strings (and object keys) of `value`. A string that is
/// exactly one variable takes the variable's JSON type; otherwise results are spliced into
/// the string. `{{@}}` refers to the same path in `request.object` (or `target`) as the
/// string's path inside `value`.
///
/// # Errors
/// A variable that cannot be resolved: "failed to resolve `expr` at path /a/b: ...".
pub fn substitute(value: &Value, context: &Context) -> Result<Value, KyvernoError> {
    substitute_with(value, context, &["validate", "pattern"], Missing::Error)
}

/// [`substitute`], borrowing `value` when it holds no variable (nothing to substitute).
///
/// # Errors
/// As [`substitute`].
pub fn substitute_borrowed<'v>(
    value: &'v Value,
    context: &Context,
) -> Result<Cow<'v, Value>, KyvernoError> {
    if has_variables(value) {
        substitute(value, context).map(Cow::Owned)
    } else {
        Ok(Cow::Borrowed(value))
    }
}

/// [`substitute`] with the JSON-pointer segments of `value` inside the rule (`["validate",
/// "pattern"]`, `["validate", "foreach", "0", "pattern"]` ...), used by `{{@}}` exactly as
/// Kyverno (skip past `foreach`, then two segments), and a policy for missing variables.
///
/// # Errors
/// As [`substitute`].
pub fn substitute_with(
    value: &Value,
    context: &Context,
    base: &[&str],
    missing: Missing,
) -> Result<Value, KyvernoError> {
    if !has_variables(value) {
        return Ok(value.clone());
    }
    let mut path: Vec<String> = base.iter().map(|s| (*s).to_owned()).collect();
    let walker = Walker {
        context,
        missing,
        delete: is_delete(context),
    };
    walker.walk(value, &mut path)
}

/// Whether any string (or key) inside `value` contains `{{`: without one there is nothing to
/// substitute nor unescape, and the value comes back unchanged.
pub(crate) fn has_variables(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains("{{"),
        Value::Array(items) => items.iter().any(has_variables),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains("{{") || has_variables(v)),
        _ => false,
    }
}

fn is_delete(context: &Context) -> bool {
    context
        .get("request")
        .and_then(|r| r.get("operation"))
        .and_then(Value::as_str)
        == Some("DELETE")
}

struct Walker<'a> {
    context: &'a Context,
    missing: Missing,
    delete: bool,
}

impl Walker<'_> {
    fn walk(&self, value: &Value, path: &mut Vec<String>) -> Result<Value, KyvernoError> {
        match value {
            Value::String(s) => self.string(s, path),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    path.push(i.to_string());
                    let result = self.walk(item, path);
                    path.pop();
                    out.push(result?);
                }
                Ok(Value::Array(out))
            }
            Value::Object(map) => {
                let mut out = Map::new();
                for (key, item) in map {
                    let new_key = match self.string(key, path)? {
                        Value::String(s) => s,
                        other => stringify(&other),
                    };
                    path.push(key.clone());
                    let result = self.walk(item, path);
                    path.pop();
                    out.insert(new_key, result?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// Substitutes the variables of one string, innermost first, until none is left.
    fn string(&self, text: &str, path: &[String]) -> Result<Value, KyvernoError> {
        if !text.contains("{{") {
            return Ok(Value::String(text.to_owned()));
        }
        let mut value = text.to_owned();
        for _ in 0..64 {
            let found: Vec<String> = variables_in(&value)
                .into_iter()
                .map(|(start, end)| value[start..end].to_owned())
                .collect();
            if found.is_empty() {
                return Ok(Value::String(unescape(&value)));
            }
            let original = value.clone();
            for variable in found {
                let result = self.resolve(&variable, path)?;
                if original == variable {
                    return Ok(result);
                }
                let replacement = match result {
                    Value::String(s) => s,
                    other => stringify(&other),
                };
                value = value.replacen(&variable, &replacement, 1);
            }
        }
        Err(KyvernoError::Variable {
            expression: text.to_owned(),
            message: format!(
                "variable substitution does not terminate at path {}",
                pointer(path)
            ),
        })
    }

    fn resolve(&self, variable: &str, path: &[String]) -> Result<Value, KyvernoError> {
        // A variable is `{{`, an inside without `{{` or `}}`, and `}}` (see `variables_in`).
        let inner = variable
            .strip_prefix("{{")
            .and_then(|v| v.strip_suffix("}}"))
            .unwrap_or(variable);
        let mut expression = inner.trim().to_owned();
        if expression == "@" {
            expression = self.current_path(path);
        }
        if self.delete {
            expression = expression.replace("request.object", "request.oldObject");
        }
        match query(&expression, self.context) {
            Ok(value) => Ok(value),
            Err(e) if self.missing == Missing::Null && is_not_found(&e) => Ok(Value::Null),
            Err(KyvernoError::Variable { message, .. }) => Err(KyvernoError::Variable {
                expression: expression.clone(),
                message: format!(
                    "failed to resolve {expression} at path {}: {message}",
                    pointer(path)
                ),
            }),
            Err(other) => Err(other),
        }
    }

    /// The JMESPath of `{{@}}`: skip past `foreach`, skip two segments, prefix with `target`
    /// (when set) or `request.object`.
    fn current_path(&self, path: &[String]) -> String {
        let start = path
            .iter()
            .rposition(|s| s == "foreach")
            .map_or(0, |i| i + 1);
        let rest = path.get(start..).unwrap_or(&[]);
        let rest = rest.get(2..).unwrap_or(&[]);
        let mut out = if self.context.contains("target") {
            "target".to_owned()
        } else {
            "request.object".to_owned()
        };
        for segment in rest {
            let segment = strip_anchor(segment);
            if segment.parse::<usize>().is_ok() {
                out.push_str(&format!("[{segment}]"));
            } else {
                out.push_str(&format!(
                    ".\"{}\"",
                    segment.replace('\\', "\\\\").replace('"', "\\\"")
                ));
            }
        }
        out
    }
}

/// `(name)`, `=(name)`, `^(name)`, `X(name)`, `+(name)`, `<(name)` → `name`.
fn strip_anchor(segment: &str) -> &str {
    let inner = segment.trim_start_matches(['=', '^', 'X', '+', '<']);
    inner
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(segment)
}

/// The byte ranges of the `{{ ... }}` variables of `text` that are not preceded by a
/// backslash, innermost first as Kyverno finds them: a variable's inside may hold `{...}`
/// groups without braces (JMESPath literals) but no other braces, so an outer variable
/// around an inner one is found only once the inner one is substituted. Equivalent to
/// Kyverno's regular expression `(^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\})` (group 2 of each
/// non-overlapping match), without its cost.
fn variables_in(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut start = 0;
    while let Some(offset) = text.get(start..).and_then(|t| t.find("{{")) {
        let open = start + offset;
        // A match starts at the character before `{{` (which must not be a backslash), or at
        // the very start of the text; try the candidates in the order the regex would.
        let before = text[..open].chars().next_back().map_or(0, char::len_utf8);
        let mut candidate = if open - before >= start {
            open - before
        } else {
            open
        };
        let mut matched = None;
        while candidate <= open {
            if candidate == 0 && text.starts_with("{{") {
                if let Some(end) = variable_end(text, 0) {
                    matched = Some((0, end));
                    break;
                }
            }
            let Some(c) = text[candidate..].chars().next() else {
                break;
            };
            let inner = candidate + c.len_utf8();
            if c != '\\' && text[inner..].starts_with("{{") {
                if let Some(end) = variable_end(text, inner) {
                    matched = Some((inner, end));
                    break;
                }
            }
            candidate = inner;
        }
        match matched {
            Some((s, e)) => {
                found.push((s, e));
                start = e;
            }
            None => start = open + 1,
        }
    }
    found
}

/// The end of the variable opening with `{{` at `start`: its inside is `{...}` groups
/// without braces and characters other than braces, then `}}`.
fn variable_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = start + 2;
    loop {
        match *bytes.get(i)? {
            b'{' => {
                let close = bytes[i + 1..]
                    .iter()
                    .position(|b| matches!(b, b'{' | b'}'))?;
                if bytes[i + 1 + close] != b'}' {
                    return None;
                }
                i += close + 2;
            }
            b'}' => return (bytes.get(i + 1) == Some(&b'}')).then_some(i + 2),
            _ => i += 1,
        }
    }
}

fn pointer(path: &[String]) -> String {
    path.iter().map(|s| format!("/{s}")).collect()
}

fn unescape(text: &str) -> String {
    if !text.contains("\\{{") {
        return text.to_owned();
    }
    match ESCAPED.as_ref() {
        Some(re) => re
            .replace_all(text, |c: &regex::Captures<'_>| c[0][1..].to_owned())
            .into_owned(),
        None => text.to_owned(),
    }
}

/// JSON text as Go's `json.Marshal` writes it: sorted keys, `<`, `>`, `&` escaped.
#[must_use]
pub fn stringify(value: &Value) -> String {
    let mut out = String::new();
    write_go_json(value, &mut out);
    out
}

fn write_go_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(key, out);
                out.push(':');
                write_go_json(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_go_string(s, out),
        other => out.push_str(&normalize_numbers(other.clone()).to_string()),
    }
}

fn write_go_string(s: &str, out: &mut String) {
    let json = Value::String(s.to_owned()).to_string();
    out.push_str(
        &json
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026")
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029"),
    );
}

/// Loads rule `context` entries into `context`, in order. `variable` entries are evaluated
/// (`value` with its variables substituted, then `jmesPath` applied; or `jmesPath` against the
/// context; `default` when the result is missing). Other kinds (`apiCall`, `configMap`,
/// `imageRegistry`, `globalReference`) cannot be fetched: they must already be in `context`
/// (the test runner sets mocks from the test's values file) or loading fails.
///
/// # Errors
/// An entry without a name, a failing `variable` entry, or an unmocked external entry.
pub fn load_entries(entries: &[Value], context: &mut Context) -> Result<(), KyvernoError> {
    for entry in entries {
        let name =
            entry
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| KyvernoError::Variable {
                    expression: stringify(entry),
                    message: "context entry without a name".to_owned(),
                })?;
        if let Some(variable) = entry.get("variable") {
            let value = load_variable(name, variable, context)?;
            context.set(name, value);
        } else if !context.contains(name) {
            let kind = ["apiCall", "configMap", "imageRegistry", "globalReference"]
                .into_iter()
                .find(|k| entry.get(*k).is_some())
                .unwrap_or("unknown");
            return Err(KyvernoError::Variable {
                expression: name.to_owned(),
                message: format!(
                    "context entry `{name}` of kind {kind} needs a mock value (set it in the test's values file)"
                ),
            });
        }
    }
    Ok(())
}

fn load_variable(name: &str, variable: &Value, context: &Context) -> Result<Value, KyvernoError> {
    let fail = |message: String| KyvernoError::Variable {
        expression: name.to_owned(),
        message,
    };
    let path = match variable.get("jmesPath") {
        Some(jp) => match substitute_with(jp, context, &[], Missing::Error)? {
            Value::String(s) => s,
            _ => {
                return Err(fail(format!(
                    "context entry `{name}`: jmesPath must be a string"
                )))
            }
        },
        None => String::new(),
    };
    let default = match variable.get("default") {
        Some(d) => Some(substitute_with(d, context, &[], Missing::Error)?),
        None => None,
    };
    let output = match variable.get("value") {
        Some(raw) => {
            let value = substitute_with(raw, context, &[], Missing::Error)?;
            if path.is_empty() {
                Some(value)
            } else {
                match query_value(&path, &value) {
                    Ok(result) => Some(result),
                    Err(e) if default.is_some() => {
                        let _ = e;
                        default.clone()
                    }
                    Err(e) => {
                        return Err(fail(format!(
                            "context entry `{name}`: failed to apply jmespath {path}: {e}"
                        )))
                    }
                }
            }
        }
        None if !path.is_empty() => match query(&path, context) {
            Ok(Value::Null) => default.clone(),
            Ok(result) => Some(result),
            Err(_) if default.is_some() => default.clone(),
            Err(e) => {
                return Err(fail(format!(
                    "context entry `{name}`: failed to apply jmespath {path}: {e}"
                )))
            }
        },
        None => default.clone(),
    };
    match output {
        Some(Value::Null) | None => Err(fail(format!(
            "failed to add context entry for variable {name} since it evaluated to nil"
        ))),
        Some(value) => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The scanner finds exactly what Kyverno's regular expression finds, on every string
    /// built from the characters that matter (all strings up to length 7 over them).
    #[test]
    fn variable_scanner_matches_kyvernos_regex() {
        let Ok(re) = Regex::new(r"(^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\})") else {
            return;
        };
        let alphabet = ['{', '}', '\\', 'a', 'é'];
        let mut texts = vec![String::new()];
        let mut checked = 0;
        for _ in 0..7 {
            let mut next = Vec::new();
            for t in &texts {
                for c in alphabet {
                    let text = format!("{t}{c}");
                    let want: Vec<(usize, usize)> = re
                        .captures_iter(&text)
                        .filter_map(|c| c.get(2))
                        .map(|m| (m.start(), m.end()))
                        .collect();
                    assert_eq!(variables_in(&text), want, "{text:?}");
                    checked += 1;
                    next.push(text);
                }
            }
            texts = next;
        }
        assert!(checked > 90_000);
        for text in [
            "{{ a }}{{ b }}",
            "x{{ request.object.spec.containers[?name=='{{ element.name }}'] }}",
            "\\{{ escaped }} and {{ real }}",
            "{{ {a: 'b'} }}",
        ] {
            let want: Vec<(usize, usize)> = re
                .captures_iter(text)
                .filter_map(|c| c.get(2))
                .map(|m| (m.start(), m.end()))
                .collect();
            assert_eq!(variables_in(text), want, "{text:?}");
        }
    }

    #[test]
    fn queries_see_changes_made_after_an_earlier_query() {
        let mut ctx = Context::new();
        ctx.set("a", json!(1));
        assert_eq!(query("a", &ctx).ok(), Some(json!(1)));
        ctx.set("a", json!(2));
        assert_eq!(query("a", &ctx).ok(), Some(json!(2)));
        ctx.set_path("b.c", json!(3));
        assert_eq!(query("b.c", &ctx).ok(), Some(json!(3)));
        ctx.remove("a");
        assert_ne!(query("a", &ctx).ok(), Some(json!(2)));
    }

    #[test]
    fn values_without_variables_come_back_unchanged() {
        let ctx = pod_context();
        let plain = json!({"=(a\\b)": ["x*", {"k": "\\{ not a variable }"}], "n": 1});
        assert_eq!(substitute(&plain, &ctx).ok(), Some(plain));
    }

    fn pod_context() -> Context {
        let mut ctx = Context::new();
        ctx.set(
            "request",
            json!({
                "operation": "CREATE",
                "object": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": "nginx", "labels": {"app": "web", "app.kubernetes.io/name": "x"}},
                    "spec": {"containers": [
                        {"name": "a", "image": "nginx:1.0", "ports": [{"hostPort": 80}]},
                        {"name": "b", "image": "busybox"}
                    ]}
                }
            }),
        );
        ctx
    }

    #[test]
    fn query_paths_and_missing_keys() {
        let ctx = pod_context();
        assert_eq!(
            query("request.object.metadata.name", &ctx).unwrap(),
            json!("nginx")
        );
        assert_eq!(
            query(
                "request.object.metadata.labels.\"app.kubernetes.io/name\"",
                &ctx
            )
            .unwrap(),
            json!("x")
        );
        let err = query("request.object.metadata.annotations.foo", &ctx).unwrap_err();
        assert!(is_not_found(&err), "{err}");
        assert!(
            err.to_string().contains("Unknown key \"annotations\""),
            "{err}"
        );
        assert_eq!(
            query("request.object.metadata.annotations.foo || 'none'", &ctx).unwrap(),
            json!("none")
        );
        assert_eq!(
            query(
                "request.object.spec.containers[].securityContext.privileged",
                &ctx
            )
            .unwrap(),
            json!([])
        );
        assert_eq!(
            query(
                "request.object.spec.containers[?name == 'b'].image | [0]",
                &ctx
            )
            .unwrap(),
            json!("busybox")
        );
        assert_eq!(
            query("request.object.spec.containers[].ports[].hostPort", &ctx).unwrap(),
            json!([80])
        );
        assert_eq!(
            query("request.object.missing | length(@ || `[]`)", &ctx).unwrap(),
            json!(0)
        );
        assert_eq!(
            query("length(request.object.spec.containers)", &ctx).unwrap(),
            json!(2)
        );
        let ports = "request.object.spec.[ephemeralContainers, initContainers, containers][].ports[].hostPort";
        assert_eq!(query(ports, &ctx).unwrap(), json!([80]));
        let merged = "request.object.metadata.labels || `{}` | merge(@, {breakglass: null})";
        assert_eq!(query(merged, &ctx).unwrap()["app"], json!("web"));
        let upper = "request.object.spec.containers[].securityContext.capabilities.drop[].to_upper(@) || `[]`";
        assert_eq!(query(upper, &ctx).unwrap(), json!([]));
        assert_eq!(
            query(
                "keys(request.object.spec) | contains(@, 'containers')",
                &ctx
            )
            .unwrap(),
            json!(true)
        );
        assert!(!is_not_found(&query("nosuchfn(`1`)", &ctx).unwrap_err()));
        assert!(query("request.object.[", &ctx).is_err());
    }

    #[test]
    fn whole_string_keeps_type_and_splices_otherwise() {
        let ctx = pod_context();
        let doc = json!({
            "count": "{{ length(request.object.spec.containers) }}",
            "msg": "Pod {{request.object.metadata.name}} has {{ length(request.object.spec.containers) }}",
            "labels": "{{ request.object.metadata.labels }}",
            "spliced": "x={{ request.object.metadata.labels }}",
            "escaped": "\\{{ request.object.metadata.name }}",
            "nested": "{{ request.object.spec.containers[?name == '{{request.object.spec.containers[1].name}}'].image | [0] }}",
            "literal": "{{ request.object.metadata.annotations || `{}` }}",
            "{{request.object.metadata.name}}-key": 1
        });
        let out = substitute(&doc, &ctx).unwrap();
        assert_eq!(out["count"], json!(2));
        assert_eq!(out["msg"], json!("Pod nginx has 2"));
        assert_eq!(
            out["labels"],
            json!({"app": "web", "app.kubernetes.io/name": "x"})
        );
        assert_eq!(
            out["spliced"],
            json!("x={\"app\":\"web\",\"app.kubernetes.io/name\":\"x\"}")
        );
        assert_eq!(out["escaped"], json!("{{ request.object.metadata.name }}"));
        assert_eq!(out["nested"], json!("busybox"));
        assert_eq!(out["literal"], json!({}));
        assert_eq!(out["nginx-key"], json!(1));
    }

    #[test]
    fn missing_variable_is_an_error_unless_defaulted() {
        let ctx = pod_context();
        let err = substitute(&json!("{{ request.object.spec.hostNetwork }}"), &ctx).unwrap_err();
        assert!(is_not_found(&err));
        assert!(err.to_string().contains("failed to resolve"), "{err}");
        assert_eq!(
            substitute(
                &json!("{{ request.object.spec.hostNetwork || `false` }}"),
                &ctx
            )
            .unwrap(),
            json!(false)
        );
        let lenient = substitute_with(
            &json!("{{ request.object.spec.hostNetwork }}"),
            &ctx,
            &[],
            Missing::Null,
        )
        .unwrap();
        assert_eq!(lenient, Value::Null);
        assert_eq!(
            substitute(&json!("{{ request.operation || 'BACKGROUND' }}"), &ctx).unwrap(),
            json!("CREATE")
        );
    }

    #[test]
    fn delete_reads_old_object_and_at_reads_current_path() {
        let mut ctx = Context::new();
        ctx.set("request", json!({"operation": "DELETE", "object": null, "oldObject": {"metadata": {"name": "old"}}}));
        assert_eq!(
            substitute(&json!("{{request.object.metadata.name}}"), &ctx).unwrap(),
            json!("old")
        );
        let ctx = pod_context();
        let pattern =
            json!({"metadata": {"name": "{{@}}"}, "spec": {"containers": [{"name": "{{ @ }}"}]}});
        let out = substitute(&pattern, &ctx).unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"name": "nginx"}, "spec": {"containers": [{"name": "a"}]}})
        );
    }

    #[test]
    fn context_variable_entries() {
        let mut ctx = pod_context();
        let entries = json!([
            {"name": "name", "variable": {"jmesPath": "request.object.metadata.name"}},
            {"name": "fixed", "variable": {"value": {"a": ["{{ name }}"]}, "jmesPath": "a[0]"}},
            {"name": "dflt", "variable": {"jmesPath": "request.object.metadata.annotations.x", "default": "none"}},
            {"name": "obj", "variable": {"value": {"k": 1}}}
        ]);
        load_entries(entries.as_array().unwrap(), &mut ctx).unwrap();
        assert_eq!(query("name", &ctx).unwrap(), json!("nginx"));
        assert_eq!(query("fixed", &ctx).unwrap(), json!("nginx"));
        assert_eq!(query("dflt", &ctx).unwrap(), json!("none"));
        assert_eq!(query("obj.k", &ctx).unwrap(), json!(1));
        let bad = json!([{"name": "x", "variable": {"jmesPath": "request.object.metadata.annotations.x"}}]);
        assert!(load_entries(bad.as_array().unwrap(), &mut ctx).is_err());
    }

    #[test]
    fn external_entries_need_mocks() {
        let mut ctx = pod_context();
        let entries = json!([{"name": "cm", "configMap": {"name": "x", "namespace": "y"}}]);
        let err = load_entries(entries.as_array().unwrap(), &mut ctx).unwrap_err();
        assert!(err.to_string().contains("needs a mock value"), "{err}");
        ctx.set_path("cm.data.key", json!("v"));
        load_entries(entries.as_array().unwrap(), &mut ctx).unwrap();
        assert_eq!(query("cm.data.key", &ctx).unwrap(), json!("v"));
    }

    #[test]
    fn go_json_stringification() {
        assert_eq!(
            stringify(&json!({"b": 1, "a": "<x>"})),
            "{\"a\":\"\\u003cx\\u003e\",\"b\":1}"
        );
        assert_eq!(stringify(&json!(2.0)), "2");
        assert_eq!(stringify(&Value::Null), "null");
    }
}
