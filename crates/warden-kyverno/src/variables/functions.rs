//! Kyverno's custom JMESPath functions (pkg/engine/jmespath/functions.go), registered once
//! into a runtime next to the standard ones.

use super::{quantity, timefns};
use jmespath::functions::Function;
use jmespath::{Context as JpContext, ErrorReason, JmespathError, Rcvar, Runtime, SearchResult};
use serde_json::{Map, Value};
use std::sync::LazyLock;

/// The runtime: standard JMESPath functions plus Kyverno's (which win on name clashes).
pub(crate) static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut runtime = Runtime::new();
    runtime.register_builtin_functions();
    for (name, arity, handler) in FUNCTIONS {
        runtime.register_function(
            name,
            Box::new(KyvernoFn {
                name,
                arity: *arity,
                handler: *handler,
            }),
        );
    }
    runtime
});

type Handler = fn(&[Value]) -> Result<Value, String>;

/// Name, number of arguments, implementation.
const FUNCTIONS: &[(&str, usize, Handler)] = &[
    ("compare", 2, compare),
    ("equal_fold", 2, equal_fold),
    ("replace", 4, replace),
    ("replace_all", 3, replace_all),
    ("to_upper", 1, |a| {
        Ok(Value::String(string(a, 0, "to_upper")?.to_uppercase()))
    }),
    ("to_lower", 1, |a| {
        Ok(Value::String(string(a, 0, "to_lower")?.to_lowercase()))
    }),
    ("trim", 2, trim),
    ("trim_prefix", 2, trim_prefix),
    ("split", 2, split),
    ("regex_replace_all", 3, |a| {
        regex_replace(a, "regex_replace_all", false)
    }),
    ("regex_replace_all_literal", 3, |a| {
        regex_replace(a, "regex_replace_all_literal", true)
    }),
    ("regex_match", 2, regex_match),
    ("pattern_match", 2, pattern_match),
    ("label_match", 2, label_match),
    ("to_boolean", 1, to_boolean),
    ("add", 2, |a| {
        arithmetic(a, "add", |x, y| quantity::add(x, y, "add"))
    }),
    ("subtract", 2, |a| {
        arithmetic(a, "subtract", quantity::subtract)
    }),
    ("multiply", 2, |a| {
        arithmetic(a, "multiply", quantity::multiply)
    }),
    ("divide", 2, |a| arithmetic(a, "divide", quantity::divide)),
    ("modulo", 2, |a| arithmetic(a, "modulo", quantity::modulo)),
    ("sum", 1, sum),
    ("round", 2, round),
    ("base64_decode", 1, base64_decode),
    ("base64_encode", 1, |a| {
        Ok(Value::String(base64_encode(
            string(a, 0, "base64_encode")?.as_bytes(),
        )))
    }),
    ("sha256", 1, sha256),
    ("path_canonicalize", 1, |a| {
        Ok(Value::String(clean_path(string(
            a,
            0,
            "path_canonicalize",
        )?)))
    }),
    ("truncate", 2, truncate),
    ("semver_compare", 2, semver_compare),
    ("parse_json", 1, parse_json),
    ("parse_yaml", 1, parse_yaml),
    ("lookup", 2, lookup),
    ("items", 3, items),
    ("object_from_lists", 2, object_from_lists),
    ("random", 1, |_| {
        Err("JMESPath function 'random': not supported (results must be deterministic)".to_owned())
    }),
    ("x509_decode", 1, |_| {
        Err("JMESPath function 'x509_decode': not supported".to_owned())
    }),
    ("image_normalize", 1, image_normalize),
    ("time_now", 0, |_| Ok(Value::String(timefns::now()))),
    ("time_now_utc", 0, |_| Ok(Value::String(timefns::now()))),
    ("time_utc", 1, |a| {
        timefns::utc(string(a, 0, "time_utc")?).map(Value::String)
    }),
    ("time_add", 2, |a| {
        timefns::add(string(a, 0, "time_add")?, string(a, 1, "time_add")?).map(Value::String)
    }),
    ("time_diff", 2, |a| {
        timefns::diff(string(a, 0, "time_diff")?, string(a, 1, "time_diff")?).map(Value::String)
    }),
    ("time_before", 2, |a| {
        timefns::before(string(a, 0, "time_before")?, string(a, 1, "time_before")?).map(Value::Bool)
    }),
    ("time_after", 2, |a| {
        timefns::after(string(a, 0, "time_after")?, string(a, 1, "time_after")?).map(Value::Bool)
    }),
    ("time_between", 3, |a| {
        timefns::between(
            string(a, 0, "time_between")?,
            string(a, 1, "time_between")?,
            string(a, 2, "time_between")?,
        )
        .map(Value::Bool)
    }),
    ("time_since", 3, |a| {
        timefns::since(
            string(a, 0, "time_since")?,
            string(a, 1, "time_since")?,
            string(a, 2, "time_since")?,
        )
        .map(Value::String)
    }),
    ("time_truncate", 2, |a| {
        timefns::truncate(
            string(a, 0, "time_truncate")?,
            string(a, 1, "time_truncate")?,
        )
        .map(Value::String)
    }),
    ("time_to_cron", 1, |a| {
        timefns::to_cron(string(a, 0, "time_to_cron")?).map(Value::String)
    }),
    ("time_parse", 2, |a| {
        timefns::parse(string(a, 0, "time_parse")?, string(a, 1, "time_parse")?).map(Value::String)
    }),
];

/// Adapts a `Handler` to the `jmespath` crate: arity check, JSON conversion, errors.
struct KyvernoFn {
    name: &'static str,
    arity: usize,
    handler: Handler,
}

impl Function for KyvernoFn {
    fn evaluate(&self, args: &[Rcvar], ctx: &mut JpContext<'_>) -> SearchResult {
        let fail = |ctx: &JpContext<'_>, message: String| {
            JmespathError::from_ctx(ctx, ErrorReason::Parse(message))
        };
        if args.len() != self.arity {
            let message = format!(
                "JMESPath function '{}': expected {} arguments, got {}",
                self.name,
                self.arity,
                args.len()
            );
            return Err(fail(ctx, message));
        }
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push(serde_json::to_value(&**arg).map_err(|e| fail(ctx, e.to_string()))?);
        }
        let result = (self.handler)(&values).map_err(|message| fail(ctx, message))?;
        Ok(Rcvar::new(super::from_json(&result)))
    }
}

fn string<'a>(args: &'a [Value], index: usize, name: &str) -> Result<&'a str, String> {
    args.get(index).and_then(Value::as_str).ok_or_else(|| {
        format!(
            "JMESPath function '{name}': argument #{} is not of type String",
            index + 1
        )
    })
}

fn number(args: &[Value], index: usize, name: &str) -> Result<f64, String> {
    args.get(index).and_then(Value::as_f64).ok_or_else(|| {
        format!(
            "JMESPath function '{name}': argument #{} is not of type Number",
            index + 1
        )
    })
}

/// A string or a number as text (numbers print like Go's 32-bit float formatting).
fn string_or_number(args: &[Value], index: usize, name: &str) -> Result<String, String> {
    match args.get(index) {
        Some(Value::String(s)) => Ok(s.clone()),
        #[expect(
            clippy::cast_possible_truncation,
            reason = "Kyverno formats with 32-bit precision"
        )]
        Some(Value::Number(n)) => Ok(format!("{}", n.as_f64().unwrap_or(0.0) as f32)),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        _ => Err(format!(
            "JMESPath function '{name}': argument #{} is not of type String or Real",
            index + 1
        )),
    }
}

fn num(value: f64) -> Result<Value, String> {
    serde_json::Number::from_f64(value)
        .map(Value::Number)
        .ok_or_else(|| "result is not a finite number".to_owned())
}

fn compare(a: &[Value]) -> Result<Value, String> {
    let ordering = string(a, 0, "compare")?.cmp(string(a, 1, "compare")?);
    Ok(Value::from(ordering as i8))
}

fn equal_fold(a: &[Value]) -> Result<Value, String> {
    let (x, y) = (string(a, 0, "equal_fold")?, string(a, 1, "equal_fold")?);
    Ok(Value::Bool(x.to_lowercase() == y.to_lowercase()))
}

fn replace(a: &[Value]) -> Result<Value, String> {
    let (s, old, new) = (
        string(a, 0, "replace")?,
        string(a, 1, "replace")?,
        string(a, 2, "replace")?,
    );
    let n = number(a, 3, "replace")?;
    if n < 0.0 {
        return Ok(Value::String(s.replace(old, new)));
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "non-negative count"
    )]
    let count = n as usize;
    Ok(Value::String(s.replacen(old, new, count)))
}

fn replace_all(a: &[Value]) -> Result<Value, String> {
    let (s, old, new) = (
        string(a, 0, "replace_all")?,
        string(a, 1, "replace_all")?,
        string(a, 2, "replace_all")?,
    );
    Ok(Value::String(s.replace(old, new)))
}

fn trim(a: &[Value]) -> Result<Value, String> {
    let cutset = string(a, 1, "trim")?;
    Ok(Value::String(
        string(a, 0, "trim")?
            .trim_matches(|c| cutset.contains(c))
            .to_owned(),
    ))
}

fn trim_prefix(a: &[Value]) -> Result<Value, String> {
    let (s, prefix) = (string(a, 0, "trim_prefix")?, string(a, 1, "trim_prefix")?);
    Ok(Value::String(
        s.strip_prefix(prefix).unwrap_or(s).to_owned(),
    ))
}

fn split(a: &[Value]) -> Result<Value, String> {
    let (s, sep) = (string(a, 0, "split")?, string(a, 1, "split")?);
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep).map(|p| Value::String(p.to_owned())).collect()
    };
    Ok(Value::Array(parts))
}

fn compile(pattern: &str, name: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| format!("JMESPath function '{name}': {e}"))
}

fn regex_replace(a: &[Value], name: &str, literal: bool) -> Result<Value, String> {
    let re = compile(string(a, 0, name)?, name)?;
    let src = string_or_number(a, 1, name)?;
    let repl = string_or_number(a, 2, name)?;
    let out = if literal {
        re.replace_all(&src, regex::NoExpand(&repl)).into_owned()
    } else {
        re.replace_all(&src, repl.as_str()).into_owned()
    };
    Ok(Value::String(out))
}

fn regex_match(a: &[Value]) -> Result<Value, String> {
    let re = compile(string(a, 0, "regex_match")?, "regex_match")?;
    Ok(Value::Bool(re.is_match(&string_or_number(
        a,
        1,
        "regex_match",
    )?)))
}

fn pattern_match(a: &[Value]) -> Result<Value, String> {
    let pattern = string(a, 0, "pattern_match")?;
    Ok(Value::Bool(crate::values::wildcard_match(
        pattern,
        &string_or_number(a, 1, "pattern_match")?,
    )))
}

fn label_match(a: &[Value]) -> Result<Value, String> {
    let object = |i: usize| {
        a.get(i).and_then(Value::as_object).ok_or_else(|| {
            format!(
                "JMESPath function 'label_match': argument #{} is not of type Object",
                i + 1
            )
        })
    };
    let (labels, target) = (object(0)?, object(1)?);
    Ok(Value::Bool(
        labels.iter().all(|(k, v)| target.get(k) == Some(v)),
    ))
}

fn to_boolean(a: &[Value]) -> Result<Value, String> {
    match string(a, 0, "to_boolean")?.to_lowercase().as_str() {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        other => Err(format!(
            "JMESPath function 'to_boolean': lowercase argument must be 'true' or 'false' (provided: '{other}')"
        )),
    }
}

fn operands(a: &[Value], name: &str) -> Result<(quantity::Operand, quantity::Operand), String> {
    let invalid = || format!("JMESPath function '{name}': invalid operands");
    let x = a.first().and_then(quantity::operand).ok_or_else(invalid)?;
    let y = a.get(1).and_then(quantity::operand).ok_or_else(invalid)?;
    Ok((x, y))
}

fn arithmetic(
    a: &[Value],
    name: &str,
    op: fn(quantity::Operand, quantity::Operand) -> Result<Value, String>,
) -> Result<Value, String> {
    let (x, y) = operands(a, name)?;
    op(x, y)
}

fn sum(a: &[Value]) -> Result<Value, String> {
    let items = a
        .first()
        .and_then(Value::as_array)
        .ok_or("JMESPath function 'sum': types mismatch")?;
    let mut iter = items.iter();
    let mut total = iter
        .next()
        .cloned()
        .ok_or("JMESPath function 'sum': at least one element in the array is required")?;
    for item in iter {
        let (x, y) = operands(&[total, item.clone()], "sum")?;
        total = quantity::add(x, y, "sum")?;
    }
    Ok(total)
}

fn round(a: &[Value]) -> Result<Value, String> {
    let value = number(a, 0, "round")?;
    let digits = number(a, 1, "round")?;
    if digits.fract() != 0.0 {
        return Err(
            "JMESPath function 'round': Non-integer argument(s) passed for round off".to_owned(),
        );
    }
    if digits < 0.0 {
        return Err("JMESPath function 'round': Argument out of bounds".to_owned());
    }
    let shift = 10_f64.powf(digits);
    num((value * shift).round() / shift)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(a: &[Value]) -> Result<Value, String> {
    let text = string(a, 0, "base64_decode")?;
    let invalid = || "illegal base64 data".to_owned();
    if text.len() % 4 != 0 {
        return Err(invalid());
    }
    let mut bytes = Vec::with_capacity(text.len() / 4 * 3);
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0_u32;
        let mut pad = 0;
        for &c in chunk {
            let v = if c == b'=' {
                pad += 1;
                0
            } else if pad > 0 {
                return Err(invalid());
            } else {
                u32::try_from(BASE64.iter().position(|&x| x == c).ok_or_else(invalid)?)
                    .map_err(|_| invalid())?
            };
            n = (n << 6) | v;
        }
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        bytes.extend_from_slice(&decoded[..3 - pad.min(2)]);
    }
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|e| e.to_string())
}

fn sha256(a: &[Value]) -> Result<Value, String> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(string(a, 0, "sha256")?.as_bytes());
    Ok(Value::String(
        digest.iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

/// Go's `filepath.Clean` (Unix): removes duplicate slashes, `.` and resolvable `..`.
pub(crate) fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

fn truncate(a: &[Value]) -> Result<Value, String> {
    let s = string(a, 0, "truncate")?;
    let length = number(a, 1, "truncate")?.max(0.0);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "non-negative length"
    )]
    let length = length as usize;
    Ok(Value::String(s.chars().take(length).collect()))
}

/// `semver_compare(version, range)`: blang/semver ranges (`>1.0.0 <2.0.0 || >=3.0.0`,
/// `!1.2.3`, `1.2.3`).
fn semver_compare(a: &[Value]) -> Result<Value, String> {
    let version = semver::Version::parse(string(a, 0, "semver_compare")?.trim_start_matches('v'))
        .unwrap_or_else(|_| semver::Version::new(0, 0, 0));
    let range = string(a, 1, "semver_compare")?;
    let mut any = false;
    for alternative in range.split("||") {
        let mut all = true;
        for comparator in alternative.split_whitespace() {
            all &= semver_satisfies(&version, comparator)?;
        }
        any |= all;
    }
    Ok(Value::Bool(any))
}

fn semver_satisfies(version: &semver::Version, comparator: &str) -> Result<bool, String> {
    let ops = [">=", "<=", "!=", "==", ">", "<", "=", "!"];
    let op = ops
        .iter()
        .find(|op| comparator.starts_with(**op))
        .copied()
        .unwrap_or("");
    let text = &comparator[op.len()..];
    let other = semver::Version::parse(text)
        .map_err(|e| format!("Could not parse Range \"{comparator}\": {e}"))?;
    Ok(match op {
        ">=" => *version >= other,
        "<=" => *version <= other,
        ">" => *version > other,
        "<" => *version < other,
        "!=" | "!" => *version != other,
        _ => *version == other,
    })
}

fn parse_json(a: &[Value]) -> Result<Value, String> {
    serde_json::from_str(string(a, 0, "parse_json")?)
        .map_err(|e| format!("JMESPath function 'parse_json': {e}"))
}

fn parse_yaml(a: &[Value]) -> Result<Value, String> {
    serde_yaml_ng::from_str(string(a, 0, "parse_yaml")?)
        .map_err(|e| format!("JMESPath function 'parse_yaml': {e}"))
}

fn lookup(a: &[Value]) -> Result<Value, String> {
    match (a.first(), a.get(1)) {
        (Some(Value::Object(map)), Some(Value::String(key))) => {
            Ok(map.get(key).cloned().unwrap_or(Value::Null))
        }
        (Some(Value::Object(_)), _) => {
            Err("JMESPath function 'lookup': argument #2 is not of type String".to_owned())
        }
        (Some(Value::Array(items)), Some(Value::Number(n))) => {
            let index = n.as_f64().unwrap_or(-1.0);
            if index.fract() != 0.0 {
                return Err(
                    "JMESPath function 'lookup': argument #2: expected an integer number"
                        .to_owned(),
                );
            }
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "checked non-negative"
            )]
            let found = if index < 0.0 {
                None
            } else {
                items.get(index as usize)
            };
            Ok(found.cloned().unwrap_or(Value::Null))
        }
        (Some(Value::Array(_)), _) => {
            Err("JMESPath function 'lookup': argument #2 is not of type Number".to_owned())
        }
        _ => {
            Err("JMESPath function 'lookup': argument #1 is not of type Object or Array".to_owned())
        }
    }
}

fn items(a: &[Value]) -> Result<Value, String> {
    let (key_name, value_name) = (string(a, 1, "items")?, string(a, 2, "items")?);
    let pair = |k: Value, v: Value| {
        let mut m = Map::new();
        m.insert(key_name.to_owned(), k);
        m.insert(value_name.to_owned(), v);
        Value::Object(m)
    };
    match a.first() {
        Some(Value::Object(map)) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Ok(Value::Array(
                keys.into_iter()
                    .map(|k| pair(Value::String(k.clone()), map[k].clone()))
                    .collect(),
            ))
        }
        Some(Value::Array(list)) => Ok(Value::Array(
            list.iter()
                .enumerate()
                .map(|(i, v)| pair(Value::from(i), v.clone()))
                .collect(),
        )),
        _ => {
            Err("JMESPath function 'items': argument #1 is not of type Object or Array".to_owned())
        }
    }
}

fn object_from_lists(a: &[Value]) -> Result<Value, String> {
    let keys = a
        .first()
        .and_then(Value::as_array)
        .ok_or("JMESPath function 'object_from_lists': argument #1 is not of type Array")?;
    let values = a
        .get(1)
        .and_then(Value::as_array)
        .ok_or("JMESPath function 'object_from_lists': argument #2 is not of type Array")?;
    let mut out = Map::new();
    for (i, key) in keys.iter().enumerate() {
        let key = string_or_number(std::slice::from_ref(key), 0, "object_from_lists")?;
        out.insert(key, values.get(i).cloned().unwrap_or(Value::Null));
    }
    Ok(Value::Object(out))
}

/// `image_normalize`: adds `docker.io/`, `library/` and `:latest` as Docker does.
fn image_normalize(a: &[Value]) -> Result<Value, String> {
    let image = string(a, 0, "image_normalize")?;
    let (name, digest) = image
        .split_once('@')
        .map_or((image, None), |(n, d)| (n, Some(d)));
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = if has_registry {
        name.to_owned()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if !last.contains(':') && digest.is_none() {
        full.push_str(":latest");
    }
    if let Some(d) = digest {
        full.push('@');
        full.push_str(d);
    }
    Ok(Value::String(full))
}

#[cfg(test)]
mod tests {
    use super::super::{query, Context};
    use serde_json::{json, Value};

    fn q(expression: &str) -> Value {
        query(expression, &Context::new()).unwrap_or_else(|e| panic!("{expression}: {e}"))
    }

    fn fails(expression: &str) -> bool {
        query(expression, &Context::new()).is_err()
    }

    // Examples from kyverno.io/docs/writing-policies/jmespath.
    #[test]
    fn string_functions() {
        assert_eq!(q("compare('a', 'b')"), json!(-1));
        assert_eq!(q("compare('b', 'a')"), json!(1));
        assert_eq!(q("compare('a', 'a')"), json!(0));
        assert_eq!(q("equal_fold('Go', 'GO')"), json!(true));
        assert_eq!(
            q("replace('Lorem ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)"),
            json!("Lorem muspi dolor sit amet")
        );
        assert_eq!(q("replace('aaa', 'a', 'b', `2`)"), json!("bba"));
        assert_eq!(
            q("replace_all('Lorem ipsum dolor sit amet', 'Lorem', 'muspi')"),
            json!("muspi ipsum dolor sit amet")
        );
        assert_eq!(q("to_upper('abc')"), json!("ABC"));
        assert_eq!(q("to_lower('ABC')"), json!("abc"));
        assert_eq!(
            q("trim('¡¡¡Hello, Gophers!!!', '!¡')"),
            json!("Hello, Gophers")
        );
        assert_eq!(
            q("trim_prefix('¡¡¡Hello, Gophers!!!', '¡¡¡Hello, ')"),
            json!("Gophers!!!")
        );
        assert_eq!(
            q("split('apples,bananas,oranges', ',')"),
            json!(["apples", "bananas", "oranges"])
        );
        assert_eq!(
            q("truncate('Lorem ipsum dolor sit amet', `5`)"),
            json!("Lorem")
        );
        assert_eq!(
            q("path_canonicalize('//etc//passwd')"),
            json!("/etc/passwd")
        );
        assert_eq!(q("path_canonicalize('/a/b/../c/./d')"), json!("/a/c/d"));
    }

    #[test]
    fn regex_and_pattern_functions() {
        assert_eq!(q("regex_match('^[0-9]+$', '123')"), json!(true));
        assert_eq!(q("regex_match('^[0-9]+$', `123`)"), json!(true));
        assert_eq!(q("regex_match('^[0-9]+$', 'abc')"), json!(false));
        assert_eq!(
            q("regex_replace_all('([Hh]e|G)l', 'Hello, Gophers!', '${1}r')"),
            json!("Herlo, Gophers!")
        );
        assert_eq!(
            q("regex_replace_all_literal('[Hh]el?', 'Hello, Gophers!', 'G')"),
            json!("Glo, GopGrs!")
        );
        assert_eq!(q("pattern_match('prefix-*', 'prefix-foo')"), json!(true));
        assert_eq!(q("pattern_match('prefix-?', 'prefix-foo')"), json!(false));
        assert_eq!(
            q("label_match(`{\"app\":\"a\"}`, `{\"app\":\"a\",\"tier\":\"b\"}`)"),
            json!(true)
        );
        assert_eq!(
            q("label_match(`{\"app\":\"x\"}`, `{\"app\":\"a\"}`)"),
            json!(false)
        );
        assert!(fails("regex_match('(', 'x')"));
    }

    #[test]
    fn arithmetic_functions() {
        assert_eq!(q("add(`3`, `2`)"), json!(5));
        assert_eq!(q("add('1Gi', '512Mi')"), json!("1536Mi"));
        assert_eq!(q("subtract(`10`, `3`)"), json!(7));
        assert_eq!(q("multiply(`2.5`, `2`)"), json!(5));
        assert_eq!(q("divide(`9`, `3`)"), json!(3));
        assert_eq!(q("divide('12Mi', '2Mi')"), json!(6));
        assert_eq!(q("modulo(`10`, `3`)"), json!(1));
        assert_eq!(q("round(`2.71828`, `2`)"), json!(2.72));
        assert_eq!(q("sum(`[1, 2, 3]`)"), json!(6));
        assert_eq!(q("sum(['1Gi', '512Mi'])"), json!("1536Mi"));
        assert!(fails("divide(`1`, `0`)"));
        assert!(fails("add('abc', `1`)"));
    }

    #[test]
    fn encoding_and_parsing_functions() {
        assert_eq!(q("base64_encode('hello')"), json!("aGVsbG8="));
        assert_eq!(q("base64_decode('aGVsbG8=')"), json!("hello"));
        assert_eq!(q("base64_decode(base64_encode('ab'))"), json!("ab"));
        assert!(fails("base64_decode('!!')"));
        assert_eq!(
            q("sha256('hello')"),
            json!("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
        assert_eq!(q("parse_json('{\"a\": [1, 2]}')"), json!({"a": [1, 2]}));
        assert_eq!(q("parse_yaml('a: b\nc: [1]')"), json!({"a": "b", "c": [1]}));
        assert_eq!(q("to_boolean('TruE')"), json!(true));
        assert!(fails("to_boolean('yes')"));
        assert!(fails("x509_decode('x')"));
        assert!(fails("random('[a-z]{5}')"));
    }

    #[test]
    fn object_functions() {
        assert_eq!(q("lookup(`{\"a\": 1}`, 'a')"), json!(1));
        assert_eq!(q("lookup(`[10, 20]`, `1`)"), json!(20));
        assert_eq!(q("lookup(`[10, 20]`, `5`)"), Value::Null);
        assert_eq!(
            q("items(`{\"b\": 2, \"a\": 1}`, 'key', 'value')"),
            json!([{"key": "a", "value": 1}, {"key": "b", "value": 2}])
        );
        assert_eq!(q("items(`[\"x\"]`, 'i', 'v')"), json!([{"i": 0, "v": "x"}]));
        assert_eq!(
            q("object_from_lists(`[\"a\", \"b\"]`, `[1]`)"),
            json!({"a": 1, "b": null})
        );
    }

    #[test]
    fn semver_and_image_functions() {
        assert_eq!(q("semver_compare('4.1.3', '>=4.1.0')"), json!(true));
        assert_eq!(q("semver_compare('4.1.3', '>=4.1.0 <5.0.0')"), json!(true));
        assert_eq!(q("semver_compare('4.1.3', '!4.1.3')"), json!(false));
        assert_eq!(
            q("semver_compare('1.0.0', '<0.9.0 || >=1.0.0')"),
            json!(true)
        );
        assert_eq!(
            q("image_normalize('nginx')"),
            json!("docker.io/library/nginx:latest")
        );
        assert_eq!(
            q("image_normalize('ghcr.io/org/app:1.0')"),
            json!("ghcr.io/org/app:1.0")
        );
    }
}
