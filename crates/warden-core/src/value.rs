//! A compact, immutable JSON value.
//!
//! `serde_json::Value` stores objects in a `BTreeMap`, whose smallest node holds room for
//! eleven entries: a 285 MB plan becomes about 2.4 GB of values. Plans are read once and never
//! edited in place, so this type stores objects as boxed slices of `(key, value)` pairs in
//! document order and strings as [`CompactString`] (inline up to 24 bytes, which covers most
//! attribute names and values). The result is about a third of the memory and faster to build.
//!
//! Object lookup is linear; objects in infrastructure documents are small. Duplicate keys are
//! kept as written (checking for them costs a tenth of the parse time and `terraform show`
//! never writes them); lookups return the last one, as `serde_json` would.

use std::fmt;

use compact_str::CompactString;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON number, kept exactly as parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// A non-negative integer.
    PosInt(u64),
    /// A negative integer.
    NegInt(i64),
    /// Any other number.
    Float(f64),
}

impl Number {
    /// The number as `f64` (lossy for very large integers).
    #[must_use]
    pub fn as_f64(self) -> f64 {
        match self {
            #[expect(clippy::cast_precision_loss, reason = "JSON numbers are f64 by nature")]
            Number::PosInt(n) => n as f64,
            #[expect(clippy::cast_precision_loss, reason = "JSON numbers are f64 by nature")]
            Number::NegInt(n) => n as f64,
            Number::Float(n) => n,
        }
    }

    /// The number as `i64` when it is an integer that fits.
    #[must_use]
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::PosInt(n) => i64::try_from(n).ok(),
            Number::NegInt(n) => Some(n),
            #[expect(clippy::cast_possible_truncation, reason = "checked by the round trip")]
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            Number::Float(_) => None,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::PosInt(n) => write!(f, "{n}"),
            Number::NegInt(n) => write!(f, "{n}"),
            Number::Float(n) => write!(f, "{n}"),
        }
    }
}

/// An object: `(key, value)` pairs in document order.
pub type Object = Box<[(CompactString, Value)]>;

/// An immutable JSON value (see the module docs for why it is not `serde_json::Value`).
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// `null`, and the value of anything absent.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(CompactString),
    /// An array.
    Array(Box<[Value]>),
    /// An object.
    Object(Object),
}

static NULL: Value = Value::Null;

/// JSON equality: object member order does not matter.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => a == b,
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| other.get(k) == Some(v))
            }
            _ => false,
        }
    }
}

impl Value {
    /// The member `key` of an object; `None` for a missing key or a non-object.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(pairs) => pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Like [`Value::get`], but a missing member reads as `null`.
    #[must_use]
    pub fn field(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }

    /// Element `index` of an array.
    #[must_use]
    pub fn at(&self, index: usize) -> Option<&Value> {
        match self {
            Value::Array(items) => items.get(index),
            _ => None,
        }
    }

    /// Follows an RFC 6901 JSON Pointer (`/a/0/b`). `""` is the value itself.
    #[must_use]
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut current = self;
        for raw in rest.split('/') {
            let token = unescape_pointer_token(raw);
            current = match current {
                Value::Object(_) => current.get(&token)?,
                Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// Follows a dotted attribute path (`metadata_options.http_tokens`, `ingress.0.cidr_blocks`).
    #[must_use]
    pub fn path(&self, path: &str) -> Option<&Value> {
        let mut current = self;
        for segment in path.split('.') {
            current = match current {
                Value::Object(_) => current.get(segment)?,
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The string, if this is one.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one. Terraform sometimes carries `"true"`/`"false"` strings for
    /// booleans that came from variables; those count too.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" => Some(true),
            Value::String(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    /// The number as `i64`; numeric strings (`"22"`) count too.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The number as `f64`; numeric strings count too.
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n.as_f64()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    #[must_use]
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The elements of an array; an empty slice for anything else. Handy for optional blocks.
    #[must_use]
    pub fn items(&self) -> &[Value] {
        self.as_array().unwrap_or(&[])
    }

    /// The `(key, value)` pairs, if this is an object.
    #[must_use]
    pub fn as_object(&self) -> Option<&[(CompactString, Value)]> {
        match self {
            Value::Object(pairs) => Some(pairs),
            _ => None,
        }
    }

    /// The `(key, value)` pairs of an object; empty for anything else.
    #[must_use]
    pub fn entries(&self) -> &[(CompactString, Value)] {
        self.as_object().unwrap_or(&[])
    }

    /// `true` for `null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// `true` when this value is `true`, or an object/array that contains `true` anywhere.
    /// This is how `after_unknown` and `*_sensitive` mark a value or any part of it.
    #[must_use]
    pub fn contains_true(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Array(items) => items.iter().any(Value::contains_true),
            Value::Object(pairs) => pairs.iter().any(|(_, v)| v.contains_true()),
            _ => false,
        }
    }

    /// Builds an object from pairs (later duplicates win).
    #[must_use]
    pub fn object<K: Into<CompactString>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        let mut out: Vec<(CompactString, Value)> = Vec::new();
        for (k, v) in pairs {
            let k = k.into();
            if let Some(slot) = out.iter_mut().find(|(existing, _)| *existing == k) {
                slot.1 = v;
            } else {
                out.push((k, v));
            }
        }
        Value::Object(out.into_boxed_slice())
    }

    /// Builds a string value.
    #[must_use]
    pub fn string(s: impl Into<CompactString>) -> Value {
        Value::String(s.into())
    }

    /// A short, type-only description, for error messages (`string`, `object` ...).
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// Converts to a `serde_json::Value` (for small values: fixes, outputs, tests).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => match *n {
                Number::PosInt(u) => serde_json::Value::from(u),
                Number::NegInt(i) => serde_json::Value::from(i),
                Number::Float(f) => serde_json::Number::from_f64(f)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
            },
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Object(pairs) => serde_json::Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Converts from a `serde_json::Value`.
    #[must_use]
    pub fn from_json(value: &serde_json::Value) -> Value {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(if let Some(u) = n.as_u64() {
                Number::PosInt(u)
            } else if let Some(i) = n.as_i64() {
                Number::NegInt(i)
            } else {
                Number::Float(n.as_f64().unwrap_or(f64::NAN))
            }),
            serde_json::Value::String(s) => Value::String(s.as_str().into()),
            serde_json::Value::Array(items) => {
                Value::Array(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (CompactString::from(k.as_str()), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Decodes one JSON Pointer reference token (`~1` is `/`, `~0` is `~`).
#[must_use]
pub fn unescape_pointer_token(raw: &str) -> String {
    if raw.contains('~') {
        raw.replace("~1", "/").replace("~0", "~")
    } else {
        raw.to_owned()
    }
}

/// Encodes one JSON Pointer reference token.
#[must_use]
pub fn escape_pointer_token(raw: &str) -> String {
    if raw.contains(['~', '/']) {
        raw.replace('~', "~0").replace('/', "~1")
    } else {
        raw.to_owned()
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s.into())
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(u64::try_from(n).map_or(Number::NegInt(n), Number::PosInt))
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items.into_boxed_slice())
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(Number::PosInt(n)) => serializer.serialize_u64(*n),
            Value::Number(Number::NegInt(n)) => serializer.serialize_i64(*n),
            Value::Number(Number::Float(n)) => serializer.serialize_f64(*n),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(pairs) => {
                let mut map = serializer.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    map.serialize_entry(k.as_str(), v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(Number::PosInt(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(Number::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(CompactString::from(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(CompactString::from(v)))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = scratch::take_items();
        let filled = (|| {
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(())
        })();
        let value = Value::Array(items.drain(..).collect());
        scratch::give_items(items);
        filled.map(|()| value)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut pairs = scratch::take_pairs();
        let filled = (|| {
            while let Some(key) = map.next_key_seed(KeySeed)? {
                let value = map.next_value()?;
                pairs.push((key, value));
            }
            Ok(())
        })();
        let value = Value::Object(pairs.drain(..).collect());
        scratch::give_pairs(pairs);
        filled.map(|()| value)
    }
}

/// Reusable buffers for building arrays and objects: elements are pushed into a buffer kept
/// from earlier values (one per nesting level in use), then moved into an exactly sized boxed
/// slice, so building a value costs one allocation instead of a series of growing ones.
mod scratch {
    use std::cell::RefCell;

    use compact_str::CompactString;

    use super::Value;

    /// Buffers kept per thread; more than this many levels deep allocate fresh ones.
    const KEEP: usize = 32;

    thread_local! {
        static ITEMS: RefCell<Vec<Vec<Value>>> = const { RefCell::new(Vec::new()) };
        static PAIRS: RefCell<Vec<Vec<(CompactString, Value)>>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn take_items() -> Vec<Value> {
        ITEMS.with(|p| p.borrow_mut().pop()).unwrap_or_default()
    }

    pub(super) fn give_items(buffer: Vec<Value>) {
        ITEMS.with(|p| {
            let mut pool = p.borrow_mut();
            if pool.len() < KEEP {
                pool.push(buffer);
            }
        });
    }

    pub(super) fn take_pairs() -> Vec<(CompactString, Value)> {
        PAIRS.with(|p| p.borrow_mut().pop()).unwrap_or_default()
    }

    pub(super) fn give_pairs(buffer: Vec<(CompactString, Value)>) {
        PAIRS.with(|p| {
            let mut pool = p.borrow_mut();
            if pool.len() < KEEP {
                pool.push(buffer);
            }
        });
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = CompactString;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<CompactString, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = CompactString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<CompactString, E> {
        Ok(CompactString::from(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_small() {
        assert!(
            std::mem::size_of::<Value>() <= 32,
            "{}",
            std::mem::size_of::<Value>()
        );
    }

    #[test]
    fn round_trips_through_serde_json() {
        let text = r#"{"a":[1,-2,3.5,"x",null,true],"b":{"c":"d"},"a2":{}}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), text);
        assert_eq!(serde_json::to_value(&v).unwrap(), v.to_json());
        assert_eq!(Value::from_json(&v.to_json()), v);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let v: Value = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(v.get("a").and_then(Value::as_i64), Some(3));
    }

    #[test]
    fn pointer_and_path() {
        let v: Value = serde_json::from_str(r#"{"a/b":[{"c":"x"}],"m":{"n":[1,2]}}"#).unwrap();
        assert_eq!(v.pointer("/a~1b/0/c").and_then(Value::as_str), Some("x"));
        assert_eq!(v.path("m.n.1").and_then(Value::as_i64), Some(2));
        assert!(v.pointer("/nope").is_none());
        assert!(v.pointer("a").is_none());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        assert!(serde_json::from_str::<Value>(&text).is_err());
    }
}
