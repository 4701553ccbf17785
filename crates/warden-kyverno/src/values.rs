//! Kyverno's value semantics, shared by patterns and conditions: wildcards (`*`, `?`),
//! Kubernetes quantities (`100m`, `1Gi`, `1e3`), Go durations (`1h30m`), Go's printing of
//! values, and the string operators of pattern values (`|`, `&`, `!`, `<`, `>`, `<=`, `>=`,
//! ranges `a-b` and `!a-b`).
//!
//! Source of truth: Kyverno's `pkg/engine/pattern` (value against pattern) and
//! `pkg/engine/operator` (operator of a string pattern).

use std::cmp::Ordering;

use serde_json::Value;

/// `true` when `text` matches the glob `pattern`: `*` is any run of characters (also none),
/// `?` exactly one character, everything else itself (Warden's one glob matcher).
#[must_use]
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    warden_core::exceptions::glob_matches(pattern, text)
}

/// `true` when `s` contains a wildcard character.
#[must_use]
pub fn has_wildcard(s: &str) -> bool {
    s.contains('*') || s.contains('?')
}

/// Parses a Kubernetes resource quantity (`100m`, `1.5Gi`, `2e3`, `-1k`) into its value.
/// `None` when `s` is not a quantity.
#[must_use]
pub fn parse_quantity(s: &str) -> Option<f64> {
    let end = number_prefix_len(s)?;
    let (number, suffix) = s.split_at(end);
    let binary = |k: i32| Some(2f64.powi(10 * k));
    let (decimal_exp, factor) = match suffix {
        "" => (0, Some(1.0)),
        "n" => (-9, Some(1.0)),
        "u" => (-6, Some(1.0)),
        "m" => (-3, Some(1.0)),
        "k" => (3, Some(1.0)),
        "M" => (6, Some(1.0)),
        "G" => (9, Some(1.0)),
        "T" => (12, Some(1.0)),
        "P" => (15, Some(1.0)),
        "E" => (18, Some(1.0)),
        "Ki" => (0, binary(1)),
        "Mi" => (0, binary(2)),
        "Gi" => (0, binary(3)),
        "Ti" => (0, binary(4)),
        "Pi" => (0, binary(5)),
        "Ei" => (0, binary(6)),
        other => (exponent_suffix(other)?, Some(1.0)),
    };
    // Parsing "digits e exp" as one literal keeps equal decimals equal (100m == 0.1).
    let scaled: f64 = format!("{number}e{decimal_exp}").parse().ok()?;
    Some(scaled * factor?)
}

/// Length of the signed decimal number at the start of a quantity (at least one digit).
fn number_prefix_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let mut digits = 0;
    let mut dot = false;
    while let Some(b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' if !dot => dot = true,
            _ => break,
        }
        i += 1;
    }
    (digits > 0).then_some(i)
}

/// The exponent of an `e3` / `E-2` quantity suffix.
fn exponent_suffix(suffix: &str) -> Option<i32> {
    let rest = suffix
        .strip_prefix('e')
        .or_else(|| suffix.strip_prefix('E'))?;
    let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// Parses a Go duration (`300ms`, `-1.5h`, `2h45m`, `0`) into nanoseconds.
#[must_use]
pub fn parse_duration(s: &str) -> Option<f64> {
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let (amount, after) = duration_component(rest)?;
        total += amount;
        rest = after;
    }
    Some(if negative { -total } else { total })
}

/// One `<number><unit>` of a Go duration: its nanoseconds and the remaining text.
fn duration_component(s: &str) -> Option<(f64, &str)> {
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let number = &s[..number_end];
    if number.is_empty() || number == "." || !number.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let rest = &s[number_end..];
    let unit_end = rest
        .find(|c: char| c.is_ascii_digit() || c == '.')
        .unwrap_or(rest.len());
    let nanos = match &rest[..unit_end] {
        "ns" => 1.0,
        "us" | "µs" | "μs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    Some((value * nanos, &rest[unit_end..]))
}

/// Go's `fmt.Sprint` of a JSON value, as Kyverno's set operators print list items.
#[must_use]
pub fn go_sprint(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), go_sprint_float),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(go_sprint).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_sprint(v)))
                .collect();
            format!("map[{}]", fields.join(" "))
        }
    }
}

/// Go's `%v` of a float64 (integers print without a fraction below 1e21).
fn go_sprint_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`: `1.5E+00`.
fn go_format_float_e(f: f64) -> String {
    let rust = format!("{f:E}");
    match rust.split_once('E') {
        Some((mantissa, exp)) => {
            let exp: i32 = exp.parse().unwrap_or(0);
            let sign = if exp < 0 { '-' } else { '+' };
            format!("{mantissa}E{sign}{:02}", exp.abs())
        }
        None => rust,
    }
}

/// The operator at the start of a string pattern value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueOperator {
    /// No operator: wildcard equality.
    Equal,
    /// `!`
    NotEqual,
    /// `>`
    More,
    /// `<`
    Less,
    /// `>=`
    MoreEqual,
    /// `<=`
    LessEqual,
    /// `a-b`: inside the closed range.
    InRange,
    /// `a!-b`: outside the closed range.
    NotInRange,
}

impl ValueOperator {
    /// The operator's prefix length in the pattern (0 for ranges and equality).
    fn prefix_len(self) -> usize {
        match self {
            ValueOperator::MoreEqual | ValueOperator::LessEqual => 2,
            ValueOperator::More | ValueOperator::Less | ValueOperator::NotEqual => 1,
            _ => 0,
        }
    }
}

/// The operator of a string pattern, as Kyverno's `GetOperatorFromStringPattern`.
#[must_use]
pub fn operator_of(pattern: &str) -> ValueOperator {
    if pattern.len() < 2 {
        return ValueOperator::Equal;
    }
    for (prefix, op) in [
        (">=", ValueOperator::MoreEqual),
        ("<=", ValueOperator::LessEqual),
        (">", ValueOperator::More),
        ("<", ValueOperator::Less),
        ("!", ValueOperator::NotEqual),
    ] {
        if pattern.starts_with(prefix) {
            return op;
        }
    }
    if is_range(pattern, "!-") {
        ValueOperator::NotInRange
    } else if is_range(pattern, "-") {
        ValueOperator::InRange
    } else {
        ValueOperator::Equal
    }
}

/// `^(\d+(\.\d+)?)([^-]*)SEP(\d+(\.\d+)?)([^-]*)$`
fn is_range(pattern: &str, separator: &str) -> bool {
    let Some((left, right)) = pattern.split_once(separator) else {
        return false;
    };
    let endpoint = |s: &str| {
        !s.contains('-')
            && s.starts_with(|c: char| c.is_ascii_digit())
            && (separator == "-" || !s.ends_with('!'))
    };
    endpoint(left) && endpoint(right)
}

/// Kyverno's `pattern.Validate` for a scalar or map pattern: `true` when `value` matches.
#[must_use]
pub fn validate_value(value: &Value, pattern: &Value) -> bool {
    match pattern {
        Value::Bool(p) => value.as_bool() == Some(*p),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            n.as_f64().is_some_and(|p| int_pattern(value, p))
        }
        Value::Number(n) => n.as_f64().is_some_and(|p| float_pattern(value, p)),
        Value::Null => nil_pattern(value),
        Value::Object(_) => value.is_object(),
        Value::String(p) => validate_string_pattern(value, p),
        Value::Array(_) => false,
    }
}

/// An integer pattern: equal integers, integral floats, or strings parsing as the integer.
fn int_pattern(value: &Value, pattern: f64) -> bool {
    match value {
        Value::Number(n) => n.as_f64().is_some_and(|v| v.fract() == 0.0 && v == pattern),
        Value::String(s) => s.parse::<i64>().is_ok_and(|v| v as f64 == pattern),
        _ => false,
    }
}

/// A float pattern: equal numbers or strings parsing as the number.
fn float_pattern(value: &Value, pattern: f64) -> bool {
    match value {
        Value::Number(n) if n.is_f64() => n.as_f64() == Some(pattern),
        Value::Number(n) => pattern.fract() == 0.0 && n.as_f64() == Some(pattern),
        Value::String(s) => s.parse::<f64>().is_ok_and(|v| v == pattern),
        _ => false,
    }
}

/// A `null` pattern: the value is absent or the zero value of its type.
fn nil_pattern(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(_) | Value::Object(_) => false,
    }
}

/// A string pattern: `a | b` (or) of `c & d` (and) of single operator patterns.
#[must_use]
pub fn validate_string_pattern(value: &Value, pattern: &str) -> bool {
    if value.as_str() == Some(pattern) {
        return true;
    }
    pattern.split('|').any(|alternative| {
        alternative
            .trim()
            .split('&')
            .all(|part| validate_single(value, part.trim()))
    })
}

/// One operator pattern (`>=1Gi`, `!*:latest`, `1-10`, `?*`).
fn validate_single(value: &Value, pattern: &str) -> bool {
    let op = operator_of(pattern);
    match op {
        ValueOperator::InRange => match pattern.split_once('-') {
            Some((low, high)) => {
                validate_single(value, &format!(">={low}"))
                    && validate_single(value, &format!("<={high}"))
            }
            None => false,
        },
        ValueOperator::NotInRange => match pattern.split_once("!-") {
            Some((low, high)) => {
                validate_single(value, &format!("<{low}"))
                    || validate_single(value, &format!(">{high}"))
            }
            None => false,
        },
        _ => {
            let operand = pattern.get(op.prefix_len()..).unwrap_or_default().trim();
            compare_durations(value, operand, op)
                || compare_quantities(value, operand, op)
                || compare_strings(value, operand, op)
        }
    }
}

/// Kyverno's `convertNumberToString`: how a resource value reads as a number.
fn number_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("0".to_owned()),
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_f64() => n.as_f64().map(|f| format!("{f:.6}")),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Both sides are Go durations.
fn compare_durations(value: &Value, pattern: &str, op: ValueOperator) -> bool {
    let parsed = parse_duration(pattern).zip(number_text(value).and_then(|v| parse_duration(&v)));
    parsed.is_some_and(|(p, v)| ordering_satisfies(v.partial_cmp(&p), op))
}

/// Both sides are quantities.
fn compare_quantities(value: &Value, pattern: &str, op: ValueOperator) -> bool {
    let parsed = parse_quantity(pattern).zip(number_text(value).and_then(|v| parse_quantity(&v)));
    parsed.is_some_and(|(p, v)| ordering_satisfies(v.partial_cmp(&p), op))
}

/// `true` when `ordering` (value against operand) satisfies `op`.
fn ordering_satisfies(ordering: Option<Ordering>, op: ValueOperator) -> bool {
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        ValueOperator::Equal => ordering == Ordering::Equal,
        ValueOperator::NotEqual => ordering != Ordering::Equal,
        ValueOperator::More => ordering == Ordering::Greater,
        ValueOperator::Less => ordering == Ordering::Less,
        ValueOperator::MoreEqual => ordering != Ordering::Less,
        ValueOperator::LessEqual => ordering != Ordering::Greater,
        ValueOperator::InRange | ValueOperator::NotInRange => false,
    }
}

/// Wildcard (in)equality of the value's text; `<`, `>` never hold for strings.
fn compare_strings(value: &Value, pattern: &str, op: ValueOperator) -> bool {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_f64() => n.as_f64().map(go_format_float_e).unwrap_or_default(),
        Value::Number(n) => n.to_string(),
        _ => return false,
    };
    match op {
        ValueOperator::Equal => wildcard_match(pattern, &text),
        ValueOperator::NotEqual => !wildcard_match(pattern, &text),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("?*", "a"));
        assert!(!wildcard_match("?*", ""));
        assert!(wildcard_match("*:latest", "nginx:latest"));
        assert!(!wildcard_match("*:latest", "nginx:1.2"));
        assert!(wildcard_match("kube-*", "kube-system"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("*.io/*", "ghcr.io/x"));
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("100m"), parse_quantity("0.1"));
        assert_eq!(parse_quantity("1Gi"), Some(1024.0 * 1024.0 * 1024.0));
        assert_eq!(parse_quantity("1e3"), Some(1000.0));
        assert_eq!(parse_quantity("1k"), Some(1000.0));
        assert_eq!(parse_quantity("2"), Some(2.0));
        assert!(parse_quantity("1E") > parse_quantity("1Pi"));
        assert_eq!(parse_quantity("nginx"), None);
        assert_eq!(parse_quantity("1h"), None);
        assert_eq!(parse_quantity(""), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Some(5400e9));
        assert_eq!(parse_duration("300ms"), Some(300e6));
        assert_eq!(parse_duration("-1.5h"), Some(-5400e9));
        assert_eq!(parse_duration("0"), Some(0.0));
        assert_eq!(parse_duration("30"), None);
        assert_eq!(parse_duration("1d"), None);
    }

    #[test]
    fn operators() {
        assert_eq!(operator_of(">=1"), ValueOperator::MoreEqual);
        assert_eq!(operator_of("!*:latest"), ValueOperator::NotEqual);
        assert_eq!(operator_of("1-10"), ValueOperator::InRange);
        assert_eq!(operator_of("1Mi-2Gi"), ValueOperator::InRange);
        assert_eq!(operator_of("1!-10"), ValueOperator::NotInRange);
        assert_eq!(operator_of("nginx-latest"), ValueOperator::Equal);
        assert_eq!(operator_of("!"), ValueOperator::Equal);
    }

    #[test]
    fn string_patterns_from_docs() {
        assert!(validate_value(&json!("nginx:1.2"), &json!("!*:latest")));
        assert!(!validate_value(&json!("nginx:latest"), &json!("!*:latest")));
        assert!(!validate_value(&Value::Null, &json!("!*:latest")));
        assert!(validate_value(
            &json!("IfNotPresent"),
            &json!("Always | IfNotPresent")
        ));
        assert!(!validate_value(
            &json!("Never"),
            &json!("Always | IfNotPresent")
        ));
        assert!(validate_value(&json!("512Mi"), &json!("<=1Gi")));
        assert!(!validate_value(&json!("2Gi"), &json!("<=1Gi")));
        assert!(validate_value(&json!(5), &json!(">1 & <10")));
        assert!(!validate_value(&json!(10), &json!(">1 & <10")));
        assert!(validate_value(&json!(8080), &json!("8000-9000")));
        assert!(!validate_value(&json!(80), &json!("8000-9000")));
        assert!(validate_value(&json!(80), &json!("8000!-9000")));
        assert!(validate_value(&json!("1h"), &json!(">30m")));
        assert!(!validate_value(&json!("10m"), &json!(">30m")));
        assert!(validate_value(&json!("a"), &json!("?*")));
        assert!(!validate_value(&json!(""), &json!("?*")));
        assert!(!validate_value(&Value::Null, &json!("?*")));
        assert!(validate_value(&json!(true), &json!("true")));
        assert!(
            validate_value(&json!("abc"), &json!("!"))
                == validate_value(&json!("abc"), &json!("!"))
        );
        assert!(!validate_value(&json!("abc"), &json!(">1")));
        // A missing value reads as 0 for number comparisons.
        assert!(validate_value(&Value::Null, &json!("<1")));
    }

    #[test]
    fn scalar_patterns() {
        assert!(validate_value(&json!(false), &json!(false)));
        assert!(!validate_value(&json!("false"), &json!(false)));
        assert!(validate_value(&json!(3), &json!(3)));
        assert!(validate_value(&json!(3.0), &json!(3)));
        assert!(validate_value(&json!("3"), &json!(3)));
        assert!(!validate_value(&json!(3.5), &json!(3)));
        assert!(validate_value(&json!(1.5), &json!(1.5)));
        assert!(validate_value(&json!("1.5"), &json!(1.5)));
        assert!(validate_value(&Value::Null, &Value::Null));
        assert!(validate_value(&json!(""), &Value::Null));
        assert!(validate_value(&json!(false), &Value::Null));
        assert!(!validate_value(&json!({}), &Value::Null));
        assert!(!validate_value(&json!("x"), &Value::Null));
        assert!(validate_value(&json!({"a": 1}), &json!({})));
        assert!(!validate_value(&json!([1]), &json!([1])));
    }

    #[test]
    fn go_printing() {
        assert_eq!(go_sprint(&json!(1.0)), "1");
        assert_eq!(go_sprint(&json!(1.5)), "1.5");
        assert_eq!(go_sprint(&json!(true)), "true");
        assert_eq!(go_format_float_e(1.5), "1.5E+00");
        assert_eq!(go_format_float_e(0.001), "1E-03");
    }
}
