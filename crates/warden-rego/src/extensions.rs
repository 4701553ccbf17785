//! Builtins Warden adds to regorus, as `Engine::add_extension`s:
//!
//! - **compatibility**: the deprecated builtins OPA still accepts in v0 policies and real
//!   suites still call (`re_match`, `any`, `all`, `cast_array`, `cast_set`, `cast_string`,
//!   `cast_boolean`, `cast_null`, `cast_object`, `set_diff`);
//! - **semantics**: `json.patch` as OPA applies it (see [`json_patch`]);
//! - **sandbox**: `time.now_ns` reads the decision's timestamp (so a decision replays), and
//!   `http.send`, `opa.runtime` and `net.lookup_ip_addr` fail with a message saying why,
//!   instead of reaching the network or the environment.
//!
//! Type errors give `undefined`, as OPA's non-strict evaluation does for builtin errors.

use std::cell::Cell;

use regorus::Value;

thread_local! {
    /// The decision time of the evaluation running on this thread, in Unix nanoseconds.
    static NOW_NS: Cell<i64> = const { Cell::new(0) };
}

/// Sets the time `time.now_ns` returns on this thread (the decision's timestamp).
pub fn set_now_ns(ns: i64) {
    NOW_NS.with(|c| c.set(ns));
}

/// The sandbox settings extensions depend on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sandbox {
    /// `time.now_ns` reads the wall clock instead of the decision's timestamp.
    pub wall_clock: bool,
}

type Ext = fn(Vec<Value>) -> anyhow::Result<Value>;

/// Registers every extension on an engine.
pub fn register(engine: &mut regorus::Engine, sandbox: Sandbox) -> Result<(), String> {
    let compat: [(&str, u8, Ext); 11] = [
        ("json.patch", 2, json_patch),
        ("re_match", 2, re_match),
        ("any", 1, any),
        ("all", 1, all),
        ("cast_array", 1, cast_array),
        ("cast_set", 1, cast_set),
        ("cast_string", 1, cast_string),
        ("cast_boolean", 1, cast_boolean),
        ("cast_null", 1, cast_null),
        ("cast_object", 1, cast_object),
        ("set_diff", 2, set_diff),
    ];
    for (name, nargs, f) in compat {
        add(engine, name, nargs, f)?;
    }
    add(engine, "http.send", 1, |_| {
        Err(denied("http.send", "network access"))
    })?;
    add(engine, "opa.runtime", 0, |_| {
        Err(denied("opa.runtime", "the environment and configuration"))
    })?;
    add(engine, "net.lookup_ip_addr", 1, |_| {
        Err(denied("net.lookup_ip_addr", "DNS lookups"))
    })?;
    if !sandbox.wall_clock {
        add(engine, "time.now_ns", 0, |_| {
            Ok(Value::from(NOW_NS.with(Cell::get)))
        })?;
    }
    Ok(())
}

fn denied(name: &str, what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{name} is disabled: Warden evaluates policies without {what}, so that a decision can be replayed; pass what the policy needs as data (--data)"
    )
}

fn add(engine: &mut regorus::Engine, name: &str, nargs: u8, f: Ext) -> Result<(), String> {
    engine
        .add_extension(name.to_owned(), nargs, Box::new(f))
        .map_err(|e| format!("registering {name}: {e}"))
}

fn items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(a) => Some(a.iter().cloned().collect()),
        Value::Set(s) => Some(s.iter().cloned().collect()),
        _ => None,
    }
}

fn re_match(args: Vec<Value>) -> anyhow::Result<Value> {
    let (Some(Value::String(pattern)), Some(Value::String(value))) = (args.first(), args.get(1))
    else {
        return Ok(Value::Undefined);
    };
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, regex::Regex>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(re) = cache.get(pattern.as_ref()) {
            return Ok(Value::from(re.is_match(value)));
        }
        let re = regex::Regex::new(pattern)
            .map_err(|e| anyhow::anyhow!("re_match: invalid pattern `{pattern}`: {e}"))?;
        let matched = re.is_match(value);
        if cache.len() > 1024 {
            cache.clear();
        }
        cache.insert(pattern.to_string(), re);
        Ok(Value::from(matched))
    })
}

fn any(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(args.first().and_then(items).map_or(Value::Undefined, |v| {
        Value::from(v.contains(&Value::Bool(true)))
    }))
}

fn all(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(args.first().and_then(items).map_or(Value::Undefined, |v| {
        Value::from(v.iter().all(|x| *x == Value::Bool(true)))
    }))
}

fn cast_array(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(args
        .first()
        .and_then(items)
        .map_or(Value::Undefined, Value::from))
}

fn cast_set(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(args.first().and_then(items).map_or(Value::Undefined, |v| {
        Value::from(v.into_iter().collect::<std::collections::BTreeSet<Value>>())
    }))
}

fn keep_if(args: &[Value], ok: fn(&Value) -> bool) -> Value {
    match args.first() {
        Some(v) if ok(v) => v.clone(),
        _ => Value::Undefined,
    }
}

fn cast_string(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(keep_if(&args, |v| matches!(v, Value::String(_))))
}

fn cast_boolean(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(keep_if(&args, |v| matches!(v, Value::Bool(_))))
}

fn cast_null(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(keep_if(&args, |v| matches!(v, Value::Null)))
}

fn cast_object(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(keep_if(&args, |v| matches!(v, Value::Object(_))))
}

fn set_diff(args: Vec<Value>) -> anyhow::Result<Value> {
    match (args.first(), args.get(1)) {
        (Some(Value::Set(a)), Some(Value::Set(b))) => Ok(Value::from(
            a.iter()
                .filter(|x| !b.contains(x))
                .cloned()
                .collect::<std::collections::BTreeSet<Value>>(),
        )),
        _ => Ok(Value::Undefined),
    }
}

/// `json.patch` with OPA's semantics. regorus' own accepts a `move` whose `from` is the
/// document root (and so a proper prefix of every path), which OPA refuses; regula's ARM
/// resource view relies on the refusal. Any failed operation makes the result undefined.
fn json_patch(args: Vec<Value>) -> anyhow::Result<Value> {
    let (Some(doc), Some(ops)) = (args.first(), args.get(1).and_then(items)) else {
        return Ok(Value::Undefined);
    };
    let mut doc = doc.clone();
    for op in &ops {
        if patch_op(&mut doc, op).is_none() {
            return Ok(Value::Undefined);
        }
    }
    Ok(doc)
}

fn field<'a>(op: &'a Value, name: &str) -> Option<&'a Value> {
    match op {
        Value::Object(o) => o.get(&Value::from(name)),
        _ => None,
    }
}

fn pointer(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::String(s) if s.is_empty() => Some(Vec::new()),
        Value::String(s) => {
            let rest = s.strip_prefix('/')?;
            Some(
                rest.split('/')
                    .map(|t| Value::from(t.replace("~1", "/").replace("~0", "~")))
                    .collect(),
            )
        }
        Value::Array(a) => Some(a.iter().cloned().collect()),
        _ => None,
    }
}

fn index_of(key: &Value, len: usize, append: bool) -> Option<usize> {
    let i = match key {
        Value::String(s) if append && s.as_ref() == "-" => return Some(len),
        Value::String(s) => s.parse::<usize>().ok()?,
        Value::Number(_) => usize::try_from(key.as_u64().ok()?).ok()?,
        _ => return None,
    };
    (i < len || (append && i == len)).then_some(i)
}

fn object_key(key: &Value) -> Value {
    match key {
        Value::Number(_) => Value::from(serde_json::to_string(key).unwrap_or_default()),
        other => other.clone(),
    }
}

fn get_path<'a>(doc: &'a Value, path: &[Value]) -> Option<&'a Value> {
    let mut cur = doc;
    for key in path {
        cur = match cur {
            Value::Object(o) => o.get(&object_key(key))?,
            Value::Array(a) => a.get(index_of(key, a.len(), false)?)?,
            Value::Set(s) => s.get(key)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Runs `f` on the parent of `path` and its last key.
fn with_parent<T>(
    doc: &mut Value,
    path: &[Value],
    f: impl FnOnce(&mut Value, &Value) -> Option<T>,
) -> Option<T> {
    let (last, parents) = path.split_last()?;
    let mut cur = doc;
    for key in parents {
        cur = match cur {
            Value::Object(_) => cur.as_object_mut().ok()?.get_mut(&object_key(key))?,
            Value::Array(a) => {
                let i = index_of(key, a.len(), false)?;
                cur.as_array_mut().ok()?.get_mut(i)?
            }
            _ => return None,
        };
    }
    f(cur, last)
}

fn add_at(doc: &mut Value, path: &[Value], value: Value) -> Option<()> {
    if path.is_empty() {
        *doc = value;
        return Some(());
    }
    with_parent(doc, path, |parent, key| match parent {
        Value::Object(_) => {
            parent.as_object_mut().ok()?.insert(object_key(key), value);
            Some(())
        }
        Value::Array(a) => {
            let i = index_of(key, a.len(), true)?;
            let mut v: Vec<Value> = a.iter().cloned().collect();
            v.insert(i, value);
            *parent = Value::from(v);
            Some(())
        }
        Value::Set(s) => {
            let mut v: std::collections::BTreeSet<Value> = s.iter().cloned().collect();
            v.insert(value);
            *parent = Value::from(v);
            Some(())
        }
        _ => None,
    })
}

fn remove_at(doc: &mut Value, path: &[Value]) -> Option<Value> {
    // Removing (or moving) the whole document is not a patch OPA applies.
    with_parent(doc, path, |parent, key| match parent {
        Value::Object(_) => parent.as_object_mut().ok()?.remove(&object_key(key)),
        Value::Array(a) => {
            let i = index_of(key, a.len(), false)?;
            let mut v: Vec<Value> = a.iter().cloned().collect();
            let removed = v.remove(i);
            *parent = Value::from(v);
            Some(removed)
        }
        Value::Set(s) => {
            let mut v: std::collections::BTreeSet<Value> = s.iter().cloned().collect();
            let removed = v.take(key)?;
            *parent = Value::from(v);
            Some(removed)
        }
        _ => None,
    })
}

fn patch_op(doc: &mut Value, op: &Value) -> Option<()> {
    let name = match field(op, "op")? {
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let path = pointer(field(op, "path")?)?;
    match name.as_ref() {
        "add" => add_at(doc, &path, field(op, "value")?.clone()),
        "remove" => remove_at(doc, &path).map(|_| ()),
        "replace" => {
            remove_at(doc, &path)?;
            add_at(doc, &path, field(op, "value")?.clone())
        }
        "move" => {
            let from = pointer(field(op, "from")?)?;
            let v = remove_at(doc, &from)?;
            add_at(doc, &path, v)
        }
        "copy" => {
            let from = pointer(field(op, "from")?)?;
            let v = get_path(doc, &from)?.clone();
            add_at(doc, &path, v)
        }
        "test" => (get_path(doc, &path)? == field(op, "value")?).then_some(()),
        _ => None,
    }
}
