//! A raw JSON document (a plan as conftest passes it) converted once into the regorus value
//! Rego policies read as `input`.
//!
//! - **Only what policies can read**: when every `input` reference in the loaded policies is
//!   `input.<key>` (see [`crate::source::Scan::input_keys`]), the other top-level keys are
//!   skipped (a syntax-only scan), not converted: a plan's `planned_values` and
//!   `configuration` repeat much of `resource_changes` and most policies never look at them.
//!   (Converting halves of `resource_changes` on two threads was tried: finding the element
//!   boundaries costs a second scan, and it did not pay on two cores.)
//!   The value is otherwise the one `regorus::Value::from_json_str` gives.
//! - **Shared strings**: object keys and short string values (`"create"`, `"managed"`, a
//!   resource type, a tag value) are allocated once per document and shared, where regorus' own
//!   conversion allocates every string value twice (a `String`, then its `Rc<str>`).

use std::collections::BTreeSet;

use regorus::Value;

/// The top-level keys of `input` the policies read (`None`: any part).
pub type InputKeys = Option<BTreeSet<String>>;

/// Converts JSON text into the `input` value, keeping only `keys` of a top-level object
/// (one pass: the other members are only checked for syntax). Errors are `serde_json`'s,
/// with line and column.
pub fn document(text: &str, keys: Option<&BTreeSet<String>>) -> Result<Value, String> {
    let mut strings = Strings::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Seed {
        strings: &mut strings,
        keep: keys,
    };
    let value = serde::Deserializer::deserialize_any(&mut de, seed).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// JSON text → regorus value (the value `regorus::Value::from_json_str` gives), sharing
/// keys and short strings.
pub fn from_json(text: &str) -> Result<Value, String> {
    document(text, None)
}

/// Strings up to this length are shared.
const SHARED_STRING: usize = 48;

#[derive(Default)]
struct Strings(std::collections::HashSet<regorus::Rc<str>, foldhash::fast::RandomState>);

impl Strings {
    /// A string value: shared when short.
    fn get(&mut self, s: &str) -> Value {
        if s.len() > SHARED_STRING {
            return Value::String(regorus::Rc::from(s));
        }
        self.shared(s)
    }

    /// A shared string.
    fn shared(&mut self, s: &str) -> Value {
        if let Some(shared) = self.0.get(s) {
            return Value::String(regorus::Rc::clone(shared));
        }
        let shared: regorus::Rc<str> = regorus::Rc::from(s);
        self.0.insert(regorus::Rc::clone(&shared));
        Value::String(shared)
    }
}

/// Deserializes one value, sharing strings through the table; `keep`: at the top level,
/// the object members to convert (the others are skipped).
struct Seed<'s, 'k> {
    strings: &'s mut Strings,
    keep: Option<&'k BTreeSet<String>>,
}

impl<'s> Seed<'s, '_> {
    fn inner(&mut self) -> Seed<'_, 'static> {
        Seed {
            strings: &mut *self.strings,
            keep: None,
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Seed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::from(b))
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_u128<E: serde::de::Error>(self, n: u128) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_i128<E: serde::de::Error>(self, n: i128) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Value, E> {
        if !n.is_finite() {
            return Err(E::custom(format!(
                "invalid non-finite number in input: {n}"
            )));
        }
        Ok(Value::from(n))
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(self.strings.get(s))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(self.inner())? {
            items.push(item);
        }
        Ok(Value::from(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(Value, Value)> = Vec::new();
        while let Some(key) = map.next_key_seed(Key(&mut *self.strings))? {
            let wanted = match (&key, self.keep) {
                (Value::String(k), Some(keep)) => keep.contains(k.as_ref()),
                _ => true,
            };
            if !wanted {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            let value = map.next_value_seed(self.inner())?;
            entries.push((key, value));
        }
        if entries.is_empty() {
            return Ok(Value::new_object());
        }
        // A number written with more precision than f64 (serde_json's arbitrary_precision
        // form), as regorus reads it.
        if let [(Value::String(k), Value::String(v))] = entries.as_slice() {
            if k.as_ref() == "$serde_json::private::Number" {
                return Value::from_numeric_string(v).map_err(serde::de::Error::custom);
            }
        }
        // Sorted by key, a later duplicate winning (as inserting one by one does).
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut unique: Vec<(Value, Value)> = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            match unique.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => unique.push((k, v)),
            }
        }
        Ok(Value::from(
            unique
                .into_iter()
                .collect::<std::collections::BTreeMap<Value, Value>>(),
        ))
    }
}

/// An object key: always shared.
struct Key<'s>(&'s mut Strings);

impl<'de> serde::de::DeserializeSeed<'de> for Key<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Key<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(self.0.shared(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_as_a_whole_conversion() {
        let mut text = String::from(r#"{"format_version": "1.2", "resource_changes": ["#);
        for i in 0..20_000 {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!(
                r#"{{"address": "a.r{i}", "change": {{"after": {{"n": {i}, "f": 1.5e3, "s": "x\"\u00e9"}}}}}}"#
            ));
        }
        text.push_str(r#"], "planned_values": {"x": [1, 2]}, "format_version": "1.3", "e": []}"#);
        let whole = Value::from_json_str(&text).unwrap();
        assert_eq!(document(&text, None).unwrap(), whole);

        let keys: BTreeSet<String> = ["resource_changes", "format_version", "absent"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let pruned = document(&text, Some(&keys)).unwrap();
        let mut expected = whole.clone();
        if let Value::Object(o) = &mut expected {
            let o = regorus::Rc::make_mut(o);
            o.remove(&Value::from("planned_values"));
            o.remove(&Value::from("e"));
        }
        assert_eq!(pruned, expected);
        assert_eq!(pruned["format_version"], Value::from("1.3"));

        // Numbers, escapes, duplicates, nesting: as regorus converts them.
        for json in [
            r#"{"b": 1, "a": [1, -2, 3.25, 1e300, 18446744073709551615, true, null, "\u00e9\n"], "b": {"z": {}, "y": []}}"#,
            r#"[{"k": "v"}, {"k": "v", "K": "w"}, "a-long-string-that-is-not-shared-because-it-is-long"]"#,
            "\"x\"",
            "12",
        ] {
            assert_eq!(
                from_json(json).unwrap(),
                Value::from_json_str(json).unwrap(),
                "{json}"
            );
        }
        assert!(from_json("1e999").is_err());

        // Not an object, or not JSON: what the whole conversion says.
        assert_eq!(
            document("[1, 2]", Some(&keys)).unwrap(),
            Value::from_json_str("[1, 2]").unwrap()
        );
        let err = document("{\"a\": tru}", Some(&keys)).unwrap_err();
        assert!(err.contains("line 1"), "{err}");
    }
}
