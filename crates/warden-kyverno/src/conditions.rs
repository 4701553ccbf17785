//! Preconditions and `validate.deny.conditions`: `{any: [...], all: [...]}` (or the legacy
//! plain list, read as `all`) of `{key, operator, value}` after variable substitution.
//!
//! Operators (Kyverno docs, "Preconditions → Operators"): Equals, NotEquals, In (deprecated),
//! AnyIn, AllIn, NotIn (deprecated), AnyNotIn, AllNotIn, GreaterThan, GreaterThanOrEquals,
//! LessThan, LessThanOrEquals, DurationGreaterThan, DurationGreaterThanOrEquals,
//! DurationLessThan, DurationLessThanOrEquals, Equal/NotEqual (aliases); names compare without
//! regard to case, as Kyverno's. The semantics follow Kyverno's `pkg/engine/variables/operator`:
//! wildcards in string values and value lists, quantities and durations compared numerically,
//! semantic versions for the numeric operators, `a-b` ranges in the set operators.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use crate::values::{
    go_sprint, operator_of, parse_duration, parse_quantity, validate_value, wildcard_match,
    ValueOperator,
};

/// Resolves `{{ }}` variables in a condition's key and value before comparing (a value
/// without variables comes back borrowed).
pub type Substitute<'a> =
    dyn for<'v> Fn(&'v Value) -> Result<Cow<'v, Value>, crate::KyvernoError> + 'a;

/// `true` when the conditions hold: every `all` condition and (when `any` is given) at least
/// one `any` condition. A plain list is `all`; `null` holds.
pub fn evaluate(
    conditions: &Value,
    substitute: &Substitute<'_>,
) -> Result<bool, crate::KyvernoError> {
    match conditions {
        Value::Null => Ok(true),
        Value::Array(list) => all_hold(list, substitute),
        Value::Object(map) => {
            let any = match map.get("any") {
                None | Some(Value::Null) => true,
                Some(Value::Array(list)) => any_holds(list, substitute)?,
                Some(other) => return Err(shape_error("any", other)),
            };
            let all = match map.get("all") {
                None | Some(Value::Null) => true,
                Some(Value::Array(list)) => all_hold(list, substitute)?,
                Some(other) => return Err(shape_error("all", other)),
            };
            Ok(any && all)
        }
        other => Err(shape_error("conditions", other)),
    }
}

fn shape_error(what: &str, found: &Value) -> crate::KyvernoError {
    crate::KyvernoError::Condition(format!(
        "`{what}` must be a list of conditions, found {found}"
    ))
}

fn any_holds(list: &[Value], substitute: &Substitute<'_>) -> Result<bool, crate::KyvernoError> {
    for condition in list {
        if evaluate_condition(condition, substitute)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn all_hold(list: &[Value], substitute: &Substitute<'_>) -> Result<bool, crate::KyvernoError> {
    for condition in list {
        if !evaluate_condition(condition, substitute)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One `{key, operator, value}` condition.
pub fn evaluate_condition(
    condition: &Value,
    substitute: &Substitute<'_>,
) -> Result<bool, crate::KyvernoError> {
    let Value::Object(map) = condition else {
        return Err(crate::KyvernoError::Condition(format!(
            "a condition must be a map, found {condition}"
        )));
    };
    let operator_name = map
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let operator = Operator::parse(operator_name)?;
    let key = substitute(map.get("key").unwrap_or(&Value::Null))?;
    let value = substitute(map.get("value").unwrap_or(&Value::Null))?;
    Ok(operator.apply(&key, &value))
}

/// A condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `Equals` / `Equal`.
    Equals,
    /// `NotEquals` / `NotEqual`.
    NotEquals,
    /// `In` (deprecated): every key in the value.
    In,
    /// `NotIn` (deprecated): some key not in the value.
    NotIn,
    /// `AnyIn`: some key in the value.
    AnyIn,
    /// `AllIn`: every key in the value.
    AllIn,
    /// `AnyNotIn`: some key not in the value.
    AnyNotIn,
    /// `AllNotIn`: no key in the value.
    AllNotIn,
    /// A numeric comparison (`GreaterThan` ...): key against value.
    Numeric(Ordering, bool),
    /// A duration comparison (`DurationGreaterThan` ...): key against value.
    Duration(Ordering, bool),
}

impl Operator {
    /// The operator named `name` (any case); unknown names are an error naming them.
    pub fn parse(name: &str) -> Result<Self, crate::KyvernoError> {
        let op = match name.to_ascii_lowercase().as_str() {
            "equals" | "equal" => Operator::Equals,
            "notequals" | "notequal" => Operator::NotEquals,
            "in" => Operator::In,
            "notin" => Operator::NotIn,
            "anyin" => Operator::AnyIn,
            "allin" => Operator::AllIn,
            "anynotin" => Operator::AnyNotIn,
            "allnotin" => Operator::AllNotIn,
            "greaterthan" => Operator::Numeric(Ordering::Greater, false),
            "greaterthanorequals" => Operator::Numeric(Ordering::Greater, true),
            "lessthan" => Operator::Numeric(Ordering::Less, false),
            "lessthanorequals" => Operator::Numeric(Ordering::Less, true),
            "durationgreaterthan" => Operator::Duration(Ordering::Greater, false),
            "durationgreaterthanorequals" => Operator::Duration(Ordering::Greater, true),
            "durationlessthan" => Operator::Duration(Ordering::Less, false),
            "durationlessthanorequals" => Operator::Duration(Ordering::Less, true),
            _ => {
                return Err(crate::KyvernoError::Condition(format!(
                    "unknown operator `{name}`"
                )))
            }
        };
        Ok(op)
    }

    /// `key <operator> value`, both already substituted.
    #[must_use]
    pub fn apply(self, key: &Value, value: &Value) -> bool {
        match self {
            Operator::Equals => equals(key, value),
            Operator::NotEquals => !equals(key, value),
            Operator::In => set_op(key, value, SetOp::In),
            Operator::NotIn => set_op(key, value, SetOp::NotIn),
            Operator::AnyIn => set_op(key, value, SetOp::AnyIn),
            Operator::AllIn => set_op(key, value, SetOp::AllIn),
            Operator::AnyNotIn => set_op(key, value, SetOp::AnyNotIn),
            Operator::AllNotIn => set_op(key, value, SetOp::AllNotIn),
            Operator::Numeric(wanted, or_equal) => {
                numeric(key, value).is_some_and(|o| holds(o, wanted, or_equal))
            }
            Operator::Duration(wanted, or_equal) => {
                duration_pair(key, value).is_some_and(|(k, v)| {
                    k.partial_cmp(&v)
                        .is_some_and(|o| holds(o, wanted, or_equal))
                })
            }
        }
    }
}

fn holds(ordering: Ordering, wanted: Ordering, or_equal: bool) -> bool {
    ordering == wanted || (or_equal && ordering == Ordering::Equal)
}

// ---------------------------------------------------------------- Equals

/// Kyverno's `EqualHandler`: typed by the key.
fn equals(key: &Value, value: &Value) -> bool {
    match key {
        Value::Bool(k) => value.as_bool() == Some(*k),
        Value::Number(n) => n.as_f64().is_some_and(|k| number_equals(k, value)),
        Value::String(k) => string_equals(k, value),
        Value::Object(_) | Value::Array(_) => json_equal(key, value),
        Value::Null => false,
    }
}

fn number_equals(key: f64, value: &Value) -> bool {
    match value {
        Value::Number(n) => n.as_f64() == Some(key),
        Value::String(s) => match duration_of_string_and_number(s, key) {
            Some((a, b)) => a == b,
            None => s.parse::<f64>().is_ok_and(|v| v == key),
        },
        _ => false,
    }
}

fn string_equals(key: &str, value: &Value) -> bool {
    if let Some((k, v)) = duration_pair(&Value::String(key.to_owned()), value) {
        return k == v;
    }
    if let (Some(k), Some(Value::String(v))) = (parse_quantity(key), Some(value)) {
        return parse_quantity(v) == Some(k);
    }
    match value {
        Value::String(v) => wildcard_match(v, key),
        _ => false,
    }
}

/// Deep equality where numbers compare by value (Go decodes every JSON number as float64).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------- durations

/// A duration operand: a Go duration string, or a number of seconds (truncated, as Go's
/// `time.Duration(f) * time.Second`). In nanoseconds.
fn duration_operand(value: &Value) -> Option<f64> {
    match value {
        Value::String(s) => parse_duration(s),
        Value::Number(n) => n.as_f64().map(|f| f.trunc() * 1e9),
        _ => None,
    }
}

/// Kyverno's `parseDuration`: both sides read as durations (at least one a string).
fn duration_pair(key: &Value, value: &Value) -> Option<(f64, f64)> {
    duration_operand(key).zip(duration_operand(value))
}

fn duration_of_string_and_number(s: &str, number: f64) -> Option<(f64, f64)> {
    parse_duration(s).map(|d| (d, number.trunc() * 1e9))
}

// ---------------------------------------------------------------- numeric

/// Kyverno's `NumericOperatorHandler`: the ordering of key against value, when comparable.
fn numeric(key: &Value, value: &Value) -> Option<Ordering> {
    match key {
        Value::Number(n) => numeric_number_key(n.as_f64()?, value),
        Value::String(k) => numeric_string_key(k, value),
        _ => None,
    }
}

fn numeric_number_key(key: f64, value: &Value) -> Option<Ordering> {
    match value {
        Value::Number(n) => key.partial_cmp(&n.as_f64()?),
        Value::String(s) => match duration_of_string_and_number(s, key) {
            Some((v, k)) => k.partial_cmp(&v),
            None => key.partial_cmp(&s.trim().parse::<f64>().ok()?),
        },
        _ => None,
    }
}

fn numeric_string_key(key: &str, value: &Value) -> Option<Ordering> {
    if let Some((k, v)) = duration_pair(&Value::String(key.to_owned()), value) {
        return k.partial_cmp(&v);
    }
    if let (Some(k), Value::String(v)) = (parse_quantity(key), value) {
        if let Some(v) = parse_quantity(v) {
            return k.partial_cmp(&v);
        }
    }
    if let Ok(k) = key.trim().parse::<f64>() {
        return numeric_number_key(k, value);
    }
    let k = SemVer::parse(key)?;
    let v = SemVer::parse(value.as_str()?)?;
    Some(k.cmp(&v))
}

/// A semantic version `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, ordered by precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SemVer {
    core: [u64; 3],
    pre: Vec<String>,
}

impl SemVer {
    fn parse(s: &str) -> Option<Self> {
        let s = s.split_once('+').map_or(s, |(v, _)| v);
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, p.split('.').map(str::to_owned).collect()),
            None => (s, Vec::new()),
        };
        let parts: Vec<u64> = core
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        let core: [u64; 3] = parts.try_into().ok()?;
        Some(SemVer { core, pre })
    }
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &other.pre),
            })
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn compare_prerelease(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ordering = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(p), Ok(q)) => p.cmp(&q),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    a.len().cmp(&b.len())
}

// ---------------------------------------------------------------- set operators

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    In,
    NotIn,
    AnyIn,
    AllIn,
    AnyNotIn,
    AllNotIn,
}

/// The value side of a set operator.
enum Values {
    /// A list (or a JSON list in a string, or one plain string/number).
    List(Vec<String>),
    /// A `a-b` range string.
    Range(String),
}

/// Reads the value side; `None` when its type is unusable (the operator is then false).
fn value_set(value: &Value, keys_are_list: bool) -> Option<Values> {
    match value {
        Value::Array(items) => Some(Values::List(items.iter().map(go_sprint).collect())),
        Value::String(s) if operator_of(s) == ValueOperator::InRange => {
            Some(Values::Range(s.clone()))
        }
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(items)) => Some(Values::List(items.iter().map(go_sprint).collect())),
            Ok(_) if s.trim_start().starts_with(['{', '[']) => None,
            _ => Some(Values::List(vec![s.clone()])),
        },
        Value::Number(_) if keys_are_list => Some(Values::List(vec![go_sprint(value)])),
        _ => None,
    }
}

/// Membership of one key in the values: wildcards count on either side, except for the
/// deprecated `In`/`NotIn` with a list key, which compare exactly.
fn member(key: &str, values: &Values, op: SetOp, single_key: bool) -> bool {
    match values {
        Values::Range(range) => validate_value(
            &Value::String(key.to_owned()),
            &Value::String(range.clone()),
        ),
        Values::List(list) => list.iter().any(|v| match op {
            SetOp::In | SetOp::NotIn if !single_key => v == key,
            _ => wildcard_match(v, key) || wildcard_match(key, v),
        }),
    }
}

/// Kyverno's set operators over a key (string, number, bool or list) and a value.
fn set_op(key: &Value, value: &Value, op: SetOp) -> bool {
    let (keys, single) = match key {
        Value::Array(items) => (items.iter().map(go_sprint).collect::<Vec<_>>(), false),
        Value::String(_) | Value::Number(_) | Value::Bool(_) => (vec![go_sprint(key)], true),
        _ => return false,
    };
    let Some(values) = value_set(value, !single) else {
        return false;
    };
    let found = keys
        .iter()
        .filter(|k| member(k, &values, op, single))
        .count();
    match op {
        SetOp::In | SetOp::AllIn => found == keys.len(),
        SetOp::AnyIn => found > 0,
        SetOp::NotIn | SetOp::AnyNotIn => found < keys.len(),
        SetOp::AllNotIn => found == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn identity(v: &Value) -> Result<Cow<'_, Value>, crate::KyvernoError> {
        Ok(Cow::Borrowed(v))
    }

    fn cond(key: Value, operator: &str, value: Value) -> bool {
        let c = json!({"key": key, "operator": operator, "value": value});
        match evaluate_condition(&c, &identity) {
            Ok(b) => b,
            Err(e) => unreachable_in_test(&e.to_string()),
        }
    }

    fn unreachable_in_test(message: &str) -> bool {
        assert!(message.is_empty(), "unexpected error: {message}");
        false
    }

    #[test]
    fn any_all_and_legacy_list() {
        let t = json!({"key": "a", "operator": "Equals", "value": "a"});
        let f = json!({"key": "a", "operator": "Equals", "value": "b"});
        assert_eq!(evaluate(&json!({"any": [f, t]}), &identity), Ok(true));
        assert_eq!(evaluate(&json!({"any": [f, f]}), &identity), Ok(false));
        assert_eq!(evaluate(&json!({"all": [t, f]}), &identity), Ok(false));
        assert_eq!(
            evaluate(&json!({"any": [t], "all": [f]}), &identity),
            Ok(false)
        );
        assert_eq!(
            evaluate(&json!({"any": [t], "all": [t]}), &identity),
            Ok(true)
        );
        assert_eq!(evaluate(&json!([t, t]), &identity), Ok(true));
        assert_eq!(evaluate(&json!([t, f]), &identity), Ok(false));
        assert_eq!(evaluate(&json!({"any": []}), &identity), Ok(false));
        assert_eq!(evaluate(&json!({}), &identity), Ok(true));
        assert_eq!(evaluate(&Value::Null, &identity), Ok(true));
    }

    #[test]
    fn unknown_operator_is_named() {
        let c = json!([{"key": "a", "operator": "Exists", "value": "a"}]);
        let err = evaluate(&c, &identity);
        assert!(
            matches!(&err, Err(crate::KyvernoError::Condition(m)) if m.contains("Exists")),
            "{err:?}"
        );
    }

    #[test]
    fn substitution_applies_to_key_and_value() {
        fn sub(v: &Value) -> Result<Cow<'_, Value>, crate::KyvernoError> {
            Ok(if v == &json!("{{ request.operation }}") {
                Cow::Owned(json!("DELETE"))
            } else {
                Cow::Borrowed(v)
            })
        }
        let c = json!({"all": [{"key": "{{ request.operation }}", "operator": "Equals", "value": "DELETE"}]});
        assert_eq!(evaluate(&c, &sub), Ok(true));
        fn failing(_: &Value) -> Result<Cow<'_, Value>, crate::KyvernoError> {
            Err(crate::KyvernoError::Condition("boom".to_owned()))
        }
        assert!(evaluate(&c, &failing).is_err());
    }

    #[test]
    fn equals() {
        assert!(cond(json!("nginx:latest"), "Equals", json!("*:latest")));
        assert!(cond(json!("CREATE"), "equals", json!("CREATE")));
        assert!(!cond(json!("CREATE"), "Equals", json!("UPDATE")));
        assert!(cond(json!(3), "Equal", json!(3.0)));
        assert!(cond(json!(3), "Equals", json!("3")));
        assert!(cond(json!(true), "Equals", json!(true)));
        assert!(!cond(json!(true), "Equals", json!("true")));
        assert!(cond(json!("1Gi"), "Equals", json!("1024Mi")));
        assert!(cond(json!("1h"), "Equals", json!("60m")));
        assert!(cond(json!({"a": [1]}), "Equals", json!({"a": [1.0]})));
        assert!(!cond(json!({"a": 1}), "Equals", json!({"a": 2})));
        assert!(cond(json!("UPDATE"), "NotEquals", json!("CREATE")));
        assert!(!cond(json!(""), "NotEquals", json!("")));
    }

    #[test]
    fn in_family_from_docs() {
        assert!(cond(
            json!("kube-system"),
            "AnyIn",
            json!(["default", "kube-*"])
        ));
        assert!(cond(json!(["a", "x"]), "AnyIn", json!(["x", "y"])));
        assert!(!cond(json!(["a", "b"]), "AnyIn", json!(["x", "y"])));
        assert!(cond(json!(["a", "b"]), "AllIn", json!(["a", "b", "c"])));
        assert!(!cond(json!(["a", "z"]), "AllIn", json!(["a", "b", "c"])));
        assert!(cond(json!(["a", "z"]), "AnyNotIn", json!(["a", "b"])));
        assert!(!cond(json!(["a", "b"]), "AnyNotIn", json!(["a", "b"])));
        assert!(cond(json!(["x", "z"]), "AllNotIn", json!(["a", "b"])));
        // Kyverno's allnotin tests.
        assert!(!cond(
            json!("kube-system"),
            "AllNotIn",
            json!(["default", "kube-*"])
        ));
        assert!(cond(json!("kyverno"), "AllNotIn", json!("default")));
        assert!(!cond(json!(64), "AllNotIn", json!("64")));
        assert!(!cond(
            json!(["kube-system", "kube-public"]),
            "AllNotIn",
            json!("kube-*")
        ));
        assert!(!cond(
            json!(["kube-system", "default"]),
            "AllNotIn",
            json!("kube-system")
        ));
        assert!(cond(
            json!(["default", "kyverno"]),
            "AllNotIn",
            json!("kube-*")
        ));
        assert!(!cond(
            json!(["default", "kyverno"]),
            "AllNotIn",
            json!(["kube-*", "ky*"])
        ));
        // A JSON list inside a string.
        assert!(cond(json!("b"), "AnyIn", json!("[\"a\", \"b\"]")));
        // Numbers and booleans print as Go does.
        assert!(cond(json!(true), "AnyIn", json!([true])));
        assert!(cond(json!([0, 80]), "AnyIn", json!([80, 443])));
        assert!(!cond(Value::Null, "AnyIn", json!(["a"])));
    }

    #[test]
    fn deprecated_in_and_not_in() {
        assert!(cond(json!("a"), "In", json!(["a", "b"])));
        assert!(!cond(json!("c"), "In", json!(["a", "b"])));
        assert!(cond(json!(["a", "b"]), "In", json!(["a", "b", "c"])));
        assert!(!cond(json!(["a", "d"]), "In", json!(["a", "b", "c"])));
        assert!(cond(json!("c"), "NotIn", json!(["a", "b"])));
        assert!(!cond(json!("a"), "NotIn", json!(["a", "b"])));
        assert!(cond(json!(["a", "d"]), "NotIn", json!(["a", "b"])));
    }

    #[test]
    fn ranges_in_set_operators() {
        assert!(cond(json!(8080), "AnyIn", json!("8000-9000")));
        assert!(!cond(json!(80), "AnyIn", json!("8000-9000")));
        assert!(cond(json!([80, 8080]), "AnyIn", json!("8000-9000")));
        assert!(!cond(json!([80, 8080]), "AllIn", json!("8000-9000")));
        assert!(cond(json!([80, 8080]), "AnyNotIn", json!("8000-9000")));
        assert!(cond(json!([80, 90]), "AllNotIn", json!("8000-9000")));
    }

    #[test]
    fn numeric_from_docs() {
        assert!(cond(json!(3), "GreaterThan", json!(2)));
        assert!(!cond(json!(2), "GreaterThan", json!(2)));
        assert!(cond(json!(2), "GreaterThanOrEquals", json!(2)));
        assert!(cond(json!("3"), "GreaterThan", json!(2)));
        assert!(cond(json!(1), "LessThan", json!("1.5")));
        assert!(cond(json!("2Gi"), "GreaterThan", json!("1Gi")));
        assert!(cond(json!("500m"), "LessThanOrEquals", json!("1")));
        assert!(cond(json!("1h"), "GreaterThan", json!("30m")));
        assert!(cond(json!("1.10.0"), "GreaterThan", json!("1.9.3")));
        assert!(cond(json!("1.0.0-rc.1"), "LessThan", json!("1.0.0")));
        assert!(!cond(json!("abc"), "GreaterThan", json!("abd")));
        assert!(!cond(json!(true), "GreaterThan", json!(false)));
    }

    #[test]
    fn durations() {
        assert!(cond(json!("2h"), "DurationGreaterThan", json!("1h30m")));
        assert!(cond(
            json!("90m"),
            "DurationGreaterThanOrEquals",
            json!("1h30m")
        ));
        assert!(cond(json!(3600), "DurationLessThanOrEquals", json!("1h")));
        assert!(cond(json!("300ms"), "DurationLessThan", json!(1)));
        assert!(!cond(json!("abc"), "DurationLessThan", json!("1h")));
    }
}
