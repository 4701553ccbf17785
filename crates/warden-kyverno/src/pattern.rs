//! `validate.pattern` and `validate.anyPattern`: a resource matches a pattern when every
//! element the pattern asks for is there with an allowed value.
//!
//! Anchors (Kyverno docs, "Validate Rules → Anchors"): conditional `(key)`, equality `=(key)`,
//! existence `^(key)`, global `<(key)`, negation `X(key)`, add-if-not-present `+(key)` (ignored
//! for validation). Value operators on strings: wildcards `*` and `?`, `|` (or),
//! `!` (not), `<`, `>`, `<=`, `>=`, ranges `a-b` and `!a-b`; quantities (`100Mi`) and durations
//! (`1h30m`) compare as such (see [`crate::values`]).
//!
//! The walk follows Kyverno's `pkg/engine/validate`: in a map, anchors first (sorted), then
//! keys whose pattern holds nested anchors, then the rest; an array pattern's first map applies
//! to every element of the resource array, elements whose conditional anchors do not hold are
//! skipped, and an array whose every element was skipped skips its enclosing element. Paths are
//! Kyverno's: `/spec/containers/0/image/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::values::validate_value;

/// The result of matching a resource against a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternResult {
    /// Every element matched.
    Pass,
    /// An element did not: the path (`/spec/containers/0/image/`) and why.
    Fail {
        /// Kyverno's path into the resource (JSON Pointer with a trailing `/`).
        path: String,
        /// What was expected.
        message: String,
    },
    /// A conditional or global anchor's condition did not hold: the rule does not apply.
    Skip {
        /// Why.
        message: String,
    },
}

/// Matches `resource` against `pattern` (variables already substituted).
///
/// A failure where an anchor key of the pattern (conditional, existence, negation) appears
/// nowhere in the resource is, as in Kyverno, an error rather than a fail: the result is
/// `Err(KyvernoError::Pattern)`.
pub fn validate(resource: &Value, pattern: &Value) -> Result<PatternResult, crate::KyvernoError> {
    validate_prepared(resource, &Prepared::new(pattern))
}

/// [`validate`] with a pattern prepared once ([`Prepared::new`]).
///
/// # Errors
/// As [`validate`].
pub fn validate_prepared(
    resource: &Value,
    pattern: &Prepared,
) -> Result<PatternResult, crate::KyvernoError> {
    let mut walker = Walker::default();
    let Err(mismatch) = walker.element(resource, &pattern.0, &mut String::from("/")) else {
        return Ok(PatternResult::Pass);
    };
    match mismatch.kind {
        Kind::Conditional | Kind::Global | Kind::AllSkipped => Ok(PatternResult::Skip {
            message: mismatch.message,
        }),
        Kind::Negation => Ok(PatternResult::Fail {
            path: mismatch.path,
            message: mismatch.message,
        }),
        Kind::Plain if walker.anchor_keys_missing() => Err(crate::KyvernoError::Pattern(format!(
            "{} (an anchor key of the pattern is missing in the resource)",
            mismatch.message
        ))),
        Kind::Plain => Ok(PatternResult::Fail {
            path: mismatch.path,
            message: mismatch.message,
        }),
    }
}

/// A pattern prepared for matching: anchors parsed and map keys in the order Kyverno walks
/// them (anchors sorted, then keys whose pattern holds anchors, then the rest), once rather
/// than for every resource and element.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared(Node);

impl Prepared {
    /// Prepares `pattern` (variables already substituted).
    #[must_use]
    pub fn new(pattern: &Value) -> Prepared {
        Prepared(Node::new(pattern))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Map {
        entries: Vec<Entry>,
        /// The map as written, kept when its `metadata` has wildcard label or annotation
        /// keys: those expand against each resource before matching.
        wildcard_metadata: Option<Map<String, Value>>,
    },
    Array(Vec<Node>),
    Scalar(Value),
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    key: String,
    /// The anchor and the key's name inside it (`name` for `=(name)`).
    anchor: Option<(Anchor, String)>,
    value: Node,
}

impl Node {
    fn new(pattern: &Value) -> Node {
        match pattern {
            Value::Object(map) => Node::map(map),
            Value::Array(items) => Node::Array(items.iter().map(Node::new).collect()),
            other => Node::Scalar(other.clone()),
        }
    }

    fn map(map: &Map<String, Value>) -> Node {
        let entry = |(key, value): (&String, &Value)| Entry {
            key: key.clone(),
            anchor: parse_anchor(key).map(|(a, name)| (a, name.to_owned())),
            value: Node::new(value),
        };
        let mut anchored: Vec<(&String, &Value)> = map
            .iter()
            .filter(|(k, _)| parse_anchor(k).is_some())
            .collect();
        anchored.sort_by(|a, b| a.0.cmp(b.0));
        let mut entries: Vec<Entry> = anchored.into_iter().map(entry).collect();
        for nested in [true, false] {
            entries.extend(
                map.iter()
                    .filter(|(k, v)| parse_anchor(k).is_none() && has_nested_anchor(v) == nested)
                    .map(entry),
            );
        }
        let wildcard_metadata = has_wildcard_metadata(map).then(|| map.clone());
        Node::Map {
            entries,
            wildcard_metadata,
        }
    }
}

/// Kyverno's message for a failed pattern: `validation error: <message.> rule <name> failed at
/// path <path>` (the rule's message, when it has one, ends with a period).
#[must_use]
pub fn failure_message(rule_name: &str, rule_message: Option<&str>, path: &str) -> String {
    match rule_message.map(str::trim).filter(|m| !m.is_empty()) {
        None => format!("validation error: rule {rule_name} failed at path {path}"),
        Some(m) if m.ends_with('.') => {
            format!("validation error: {m} rule {rule_name} failed at path {path}")
        }
        Some(m) => format!("validation error: {m}. rule {rule_name} failed at path {path}"),
    }
}

/// Why an element did not match; the kind decides what the enclosing element does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A plain mismatch: the rule fails.
    Plain,
    /// A conditional anchor did not hold: the enclosing array element is skipped.
    Conditional,
    /// A global anchor did not hold: the rule is skipped.
    Global,
    /// A negation anchor's key is present: the rule fails.
    Negation,
    /// Every element of an array was skipped.
    AllSkipped,
}

/// A mismatch at a path.
#[derive(Debug, Clone)]
struct Mismatch {
    kind: Kind,
    path: String,
    message: String,
}

impl Mismatch {
    fn plain(path: &str, message: String) -> Self {
        Mismatch {
            kind: Kind::Plain,
            path: path.to_owned(),
            message,
        }
    }

    fn is_skip(&self) -> bool {
        matches!(
            self.kind,
            Kind::Conditional | Kind::Global | Kind::AllSkipped
        )
    }

    /// The same mismatch re-labelled (conditional/global anchors wrap what fails below).
    fn wrapped(self, kind: Kind, prefix: &str) -> Self {
        Mismatch {
            kind,
            path: self.path,
            message: format!("{prefix}: {}", self.message),
        }
    }
}

type Walk = Result<(), Mismatch>;

/// The anchors of a pattern key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    Conditional,
    Equality,
    Existence,
    Global,
    Negation,
    AddIfNotPresent,
}

/// Splits `=(name)` into the anchor and `name`; `None` for a plain key.
fn parse_anchor(key: &str) -> Option<(Anchor, &str)> {
    let (anchor, rest) = match key.as_bytes().first()? {
        b'(' => (Anchor::Conditional, key),
        b'=' => (Anchor::Equality, &key[1..]),
        b'^' => (Anchor::Existence, &key[1..]),
        b'<' => (Anchor::Global, &key[1..]),
        b'X' => (Anchor::Negation, &key[1..]),
        b'+' => (Anchor::AddIfNotPresent, &key[1..]),
        _ => return None,
    };
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    (!inner.is_empty() && !inner.contains(['(', ')'])).then_some((anchor, inner))
}

/// `true` when `value` (a pattern) holds an anchor anywhere below.
fn has_nested_anchor(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| parse_anchor(k).is_some() || has_nested_anchor(v)),
        Value::Array(items) => items.iter().any(has_nested_anchor),
        _ => false,
    }
}

/// The walk's state: which conditional/existence/negation anchor keys were seen in the
/// resource (Kyverno's `AnchorMap`).
#[derive(Default)]
struct Walker {
    anchor_seen: BTreeMap<String, bool>,
}

impl Walker {
    fn anchor_keys_missing(&self) -> bool {
        self.anchor_seen.values().any(|seen| !seen)
    }

    fn record_anchors(&mut self, resource: &Map<String, Value>, entries: &[Entry]) {
        for entry in entries {
            if let Some((Anchor::Conditional | Anchor::Existence | Anchor::Negation, name)) =
                &entry.anchor
            {
                let here = resource.contains_key(name);
                match self.anchor_seen.get_mut(&entry.key) {
                    Some(seen) => *seen = *seen || here,
                    None => {
                        self.anchor_seen.insert(entry.key.clone(), here);
                    }
                }
            }
        }
    }

    /// Kyverno's `validateResourceElement`. `path` is the element's path; callers extend it
    /// in place (one buffer for the whole walk) and restore it after.
    fn element(&mut self, resource: &Value, pattern: &Node, path: &mut String) -> Walk {
        match pattern {
            Node::Map {
                entries,
                wildcard_metadata,
            } => match resource {
                Value::Object(resource_map) => {
                    self.record_anchors(resource_map, entries);
                    match wildcard_metadata {
                        None => self.map(resource_map, entries, path),
                        Some(written) => {
                            let expanded = expand_metadata_wildcards(written, resource_map);
                            let Node::Map { entries, .. } = Node::map(&expanded) else {
                                return Ok(());
                            };
                            self.map(resource_map, &entries, path)
                        }
                    }
                }
                _ => Err(Mismatch::plain(
                    path,
                    format!("pattern and resource have different structures. Path: {path}. Expected map, found {}", type_name(resource)),
                )),
            },
            Node::Array(pattern_items) => match resource {
                Value::Array(resource_items) => self.array(resource_items, pattern_items, path),
                _ => Err(Mismatch::plain(
                    path,
                    format!("validation rule failed at path {path}, resource does not satisfy the expected overlay pattern"),
                )),
            },
            Node::Scalar(pattern) => scalar(resource, pattern, path),
        }
    }

    /// [`Walker::element`] at `path` + `segment` + `/`.
    fn child(
        &mut self,
        resource: &Value,
        pattern: &Node,
        path: &mut String,
        segment: impl std::fmt::Display,
    ) -> Walk {
        let len = path.len();
        let _ = write!(path, "{segment}/");
        let result = self.element(resource, pattern, path);
        path.truncate(len);
        result
    }

    /// Kyverno's `validateMap`: the entries are in its order already (see [`Node::map`]).
    fn map(&mut self, resource: &Map<String, Value>, entries: &[Entry], path: &mut String) -> Walk {
        for entry in entries {
            match &entry.anchor {
                None => self.plain_key(resource, &entry.key, &entry.value, path)?,
                Some((anchor, name)) => self.key(resource, *anchor, name, &entry.value, path)?,
            }
        }
        Ok(())
    }

    /// One anchored key of a pattern map.
    fn key(
        &mut self,
        resource: &Map<String, Value>,
        anchor: Anchor,
        name: &str,
        pattern: &Node,
        path: &mut String,
    ) -> Walk {
        let present = resource.get(name);
        let len = path.len();
        path.push_str(name);
        path.push('/');
        let result = match (anchor, present) {
            (Anchor::AddIfNotPresent, _) | (Anchor::Equality | Anchor::Global | Anchor::Existence, None) => Ok(()),
            (Anchor::Negation, None) => Ok(()),
            (Anchor::Negation, Some(_)) => Err(Mismatch {
                kind: Kind::Negation,
                path: path.clone(),
                message: format!("negation anchor matched in resource: {path} is not allowed"),
            }),
            (Anchor::Conditional, None) => Err(Mismatch {
                kind: Kind::Conditional,
                path: path.clone(),
                message: "conditional anchor mismatch: conditional anchor key doesn't exist in the resource".to_owned(),
            }),
            (Anchor::Conditional, Some(value)) => self
                .element(value, pattern, path)
                .map_err(|m| m.wrapped(Kind::Conditional, "conditional anchor mismatch")),
            (Anchor::Global, Some(value)) => self
                .element(value, pattern, path)
                .map_err(|m| m.wrapped(Kind::Global, "global anchor mismatch")),
            (Anchor::Equality, Some(value)) => self.element(value, pattern, path),
            (Anchor::Existence, Some(value)) => self.existence(value, pattern, path),
        };
        path.truncate(len);
        result
    }

    /// A key without anchor: `"*"` only asks for presence; otherwise the value must match
    /// (a missing key reads as `null`).
    fn plain_key(
        &mut self,
        resource: &Map<String, Value>,
        key: &str,
        pattern: &Node,
        path: &mut String,
    ) -> Walk {
        let value = resource.get(key).unwrap_or(&Value::Null);
        if matches!(pattern, Node::Scalar(Value::String(s)) if s == "*") {
            return if value.is_null() {
                Err(Mismatch::plain(path, format!("{path}/{key} not found")))
            } else {
                Ok(())
            };
        }
        self.child(value, pattern, path, key)
    }

    /// `^(key)`: every map of the pattern list matches at least one element of the array.
    fn existence(&mut self, value: &Value, pattern: &Node, path: &mut String) -> Walk {
        let Value::Array(items) = value else {
            return Err(Mismatch::plain(
                path,
                format!("invalid resource type {}: Existence ^ () anchor can be used only on list/array type resource", type_name(value)),
            ));
        };
        let Node::Array(pattern_items) = pattern else {
            return Err(Mismatch::plain(
                path,
                "invalid pattern type: Pattern has to be of list to compare against resource"
                    .to_owned(),
            ));
        };
        for pattern_item in pattern_items {
            if !matches!(pattern_item, Node::Map { .. }) {
                return Err(Mismatch::plain(path, "invalid pattern type: Pattern has to be of type map to compare against items in resource".to_owned()));
            }
            let mut found = false;
            for (i, item) in items.iter().enumerate() {
                if self.child(item, pattern_item, path, i).is_ok() {
                    found = true;
                    break;
                }
            }
            if !found {
                return Err(Mismatch::plain(
                    path,
                    format!("existence anchor validation failed at path {path}"),
                ));
            }
        }
        Ok(())
    }

    /// Kyverno's `validateArray`.
    fn array(&mut self, resource: &[Value], pattern: &[Node], path: &mut String) -> Walk {
        match pattern.first() {
            None => Err(Mismatch::plain(path, "pattern Array empty".to_owned())),
            Some(first @ Node::Map { .. }) => self.array_of_maps(resource, first, path),
            Some(Node::Array(_)) => self.array_positional(resource, pattern, path),
            Some(Node::Scalar(first)) => scalar(&Value::Array(resource.to_vec()), first, path),
        }
    }

    /// Every element against the one map pattern; conditionally skipped elements do not count.
    fn array_of_maps(&mut self, resource: &[Value], pattern: &Node, path: &mut String) -> Walk {
        let mut applied = 0usize;
        let mut skipped: Vec<String> = Vec::new();
        for (i, item) in resource.iter().enumerate() {
            match self.child(item, pattern, path, i) {
                Ok(()) => applied += 1,
                Err(m) if m.is_skip() => skipped.push(m.message),
                Err(m) => return Err(m),
            }
        }
        all_skipped(applied, &skipped, path)
    }

    /// Nested arrays compare element by element.
    fn array_positional(
        &mut self,
        resource: &[Value],
        pattern: &[Node],
        path: &mut String,
    ) -> Walk {
        if resource.len() < pattern.len() {
            return Err(Mismatch::plain(
                path,
                format!("validate Array failed, array length mismatch, resource Array len is {} and pattern Array len is {}", resource.len(), pattern.len()),
            ));
        }
        let mut applied = 0usize;
        let mut skipped: Vec<String> = Vec::new();
        for (i, (item, pattern_item)) in resource.iter().zip(pattern).enumerate() {
            match self.child(item, pattern_item, path, i) {
                Ok(()) => applied += 1,
                Err(m) if m.is_skip() => skipped.push(m.message),
                Err(m) => return Err(m),
            }
        }
        all_skipped(applied, &skipped, path)
    }
}

/// An array where nothing applied and something was skipped is skipped as a whole.
fn all_skipped(applied: usize, skipped: &[String], path: &str) -> Walk {
    if applied == 0 && !skipped.is_empty() {
        return Err(Mismatch {
            kind: Kind::AllSkipped,
            path: path.to_owned(),
            message: skipped.join("; "),
        });
    }
    Ok(())
}

/// A scalar pattern: against each element of an array resource, else against the value.
fn scalar(resource: &Value, pattern: &Value, path: &str) -> Walk {
    match resource {
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| scalar_in_array(item, resource, pattern, path)),
        _ if validate_value(resource, pattern) => Ok(()),
        _ => Err(value_mismatch(resource, pattern, path)),
    }
}

/// One element of an array resource against a scalar pattern (the message names the array).
fn scalar_in_array(item: &Value, whole: &Value, pattern: &Value, path: &str) -> Walk {
    if validate_value(item, pattern) {
        Ok(())
    } else {
        Err(value_mismatch(whole, pattern, path))
    }
}

fn value_mismatch(resource: &Value, pattern: &Value, path: &str) -> Mismatch {
    Mismatch::plain(
        path,
        format!(
            "resource value '{}' does not match '{}' at path {path}",
            display(resource),
            display(pattern)
        ),
    )
}

/// Go's `%v` look of a value in messages.
fn display(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_owned(),
        Value::String(s) => s.clone(),
        other => crate::values::go_sprint(other),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nil",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "map",
    }
}

/// `true` when `metadata.labels` or `metadata.annotations` of the pattern map has a key with
/// a wildcard (see [`expand_metadata_wildcards`]).
fn has_wildcard_metadata(pattern: &Map<String, Value>) -> bool {
    let Some((_, Value::Object(meta_pattern))) = find_anchored(pattern, "metadata") else {
        return false;
    };
    ["labels", "annotations"].into_iter().any(|tag| {
        matches!(find_anchored(meta_pattern, tag), Some((_, Value::Object(tags)))
            if tags.keys().any(|k| crate::values::has_wildcard(split_anchor_text(k).1)))
    })
}

/// Kyverno's `wildcards.ExpandInMetadata`: wildcard keys under `metadata.labels` and
/// `metadata.annotations` of the pattern are replaced by the resource keys they match (a
/// wildcard key matching nothing disappears).
fn expand_metadata_wildcards(
    pattern: &Map<String, Value>,
    resource: &Map<String, Value>,
) -> Map<String, Value> {
    let Some((meta_key, Value::Object(meta_pattern))) = find_anchored(pattern, "metadata") else {
        return pattern.clone();
    };
    let Some(Value::Object(meta_resource)) = resource.get("metadata") else {
        return pattern.clone();
    };
    let mut meta_expanded = meta_pattern.clone();
    for tag in ["labels", "annotations"] {
        if let Some((tag_key, expanded)) = expand_tag(meta_pattern, meta_resource, tag) {
            meta_expanded.insert(tag_key, Value::Object(expanded));
        }
    }
    let mut pattern = pattern.clone();
    pattern.insert(meta_key.clone(), Value::Object(meta_expanded));
    pattern
}

/// The entry of `map` whose key is `name`, anchored or not.
fn find_anchored<'m>(map: &'m Map<String, Value>, name: &str) -> Option<(&'m String, &'m Value)> {
    map.iter().find(|(k, _)| {
        k.as_str() == name || parse_anchor(k).is_some_and(|(_, inner)| inner == name)
    })
}

/// The expanded `labels`/`annotations` map of the pattern, when both sides have one.
fn expand_tag(
    meta_pattern: &Map<String, Value>,
    meta_resource: &Map<String, Value>,
    tag: &str,
) -> Option<(String, Map<String, Value>)> {
    let (tag_key, Value::Object(tag_pattern)) = find_anchored(meta_pattern, tag)? else {
        return None;
    };
    let Some(Value::Object(tag_resource)) = meta_resource.get(tag) else {
        return None;
    };
    let mut expanded = Map::new();
    for (key, value) in tag_pattern {
        let (anchor_prefix, inner) = split_anchor_text(key);
        if !crate::values::has_wildcard(inner) {
            expanded.insert(key.clone(), value.clone());
            continue;
        }
        for resource_key in tag_resource
            .keys()
            .filter(|k| crate::values::wildcard_match(inner, k))
        {
            let new_key = if anchor_prefix.is_empty() {
                resource_key.clone()
            } else {
                format!("{anchor_prefix}{resource_key})")
            };
            expanded.insert(new_key, value.clone());
        }
    }
    Some((tag_key.clone(), expanded))
}

/// `=(app.*)` → (`=(`, `app.*`); `app.*` → (``, `app.*`).
fn split_anchor_text(key: &str) -> (&str, &str) {
    match parse_anchor(key) {
        Some((_, inner)) => (&key[..key.len() - inner.len() - 1], inner),
        None => ("", key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(resource: Value, pattern: Value) -> PatternResult {
        match validate(&resource, &pattern) {
            Ok(result) => result,
            Err(e) => PatternResult::Fail {
                path: "<error>".to_owned(),
                message: e.to_string(),
            },
        }
    }

    fn is_fail_at(result: &PatternResult, at: &str) -> bool {
        matches!(result, PatternResult::Fail { path, .. } if path == at)
    }

    fn pod(containers: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "x"}}, "spec": {"containers": containers}})
    }

    #[test]
    fn basic_label_required() {
        let pattern = json!({"metadata": {"labels": {"app.kubernetes.io/name": "?*"}}});
        let ok = json!({"metadata": {"labels": {"app.kubernetes.io/name": "web"}}});
        assert_eq!(check(ok, pattern.clone()), PatternResult::Pass);
        let bad = json!({"metadata": {"labels": {"other": "web"}}});
        assert!(is_fail_at(
            &check(bad, pattern),
            "/metadata/labels/app.kubernetes.io/name/"
        ));
    }

    #[test]
    fn every_array_element_checked() {
        let pattern = json!({"spec": {"containers": [{"image": "!*:latest"}]}});
        let ok =
            pod(json!([{"name": "a", "image": "nginx:1.2"}, {"name": "b", "image": "busybox:1"}]));
        assert_eq!(check(ok, pattern.clone()), PatternResult::Pass);
        let bad = pod(
            json!([{"name": "a", "image": "nginx:1.2"}, {"name": "b", "image": "busybox:latest"}]),
        );
        let result = check(bad, pattern);
        assert!(
            is_fail_at(&result, "/spec/containers/1/image/"),
            "{result:?}"
        );
    }

    #[test]
    fn resource_limits_quantities() {
        let pattern = json!({"spec": {"containers": [{"resources": {"limits": {"memory": "<=1Gi", "cpu": "?*"}}}]}});
        let ok = pod(json!([{"resources": {"limits": {"memory": "512Mi", "cpu": "500m"}}}]));
        assert_eq!(check(ok, pattern.clone()), PatternResult::Pass);
        let bad = pod(json!([{"resources": {"limits": {"memory": "2Gi", "cpu": "500m"}}}]));
        assert!(is_fail_at(
            &check(bad, pattern.clone()),
            "/spec/containers/0/resources/limits/memory/"
        ));
        let missing = pod(json!([{"name": "a"}]));
        assert!(is_fail_at(
            &check(missing, pattern),
            "/spec/containers/0/resources/"
        ));
    }

    #[test]
    fn equality_anchor_checks_only_when_present() {
        let pattern = json!({"spec": {"=(hostNetwork)": false, "containers": [{"=(securityContext)": {"=(privileged)": "false"}}]}});
        assert_eq!(
            check(pod(json!([{"name": "a"}])), pattern.clone()),
            PatternResult::Pass
        );
        let privileged = pod(json!([{"name": "a", "securityContext": {"privileged": true}}]));
        assert!(is_fail_at(
            &check(privileged, pattern.clone()),
            "/spec/containers/0/securityContext/privileged/"
        ));
        let mut host = pod(json!([{"name": "a"}]));
        host["spec"]["hostNetwork"] = json!(true);
        assert!(is_fail_at(&check(host, pattern), "/spec/hostNetwork/"));
    }

    #[test]
    fn conditional_anchor_in_array_filters_elements() {
        // Docs: if the image is *:latest (or has no tag), imagePullPolicy must be Always.
        let pattern = json!({"spec": {"containers": [{"(image)": "*:latest | !*:*", "imagePullPolicy": "Always"}]}});
        let ok = pod(
            json!([{"image": "nginx:latest", "imagePullPolicy": "Always"}, {"image": "busybox:1.28", "imagePullPolicy": "IfNotPresent"}]),
        );
        assert_eq!(check(ok, pattern.clone()), PatternResult::Pass);
        let bad = pod(json!([{"image": "nginx", "imagePullPolicy": "IfNotPresent"}]));
        assert!(is_fail_at(
            &check(bad, pattern.clone()),
            "/spec/containers/0/imagePullPolicy/"
        ));
        let none_apply = pod(json!([{"image": "busybox:1.28", "imagePullPolicy": "IfNotPresent"}]));
        assert!(matches!(
            check(none_apply, pattern),
            PatternResult::Skip { .. }
        ));
    }

    #[test]
    fn conditional_anchor_docker_sock_from_docs() {
        let pattern = json!({
            "metadata": {"labels": {"allow-docker": "true"}},
            "(spec)": {"(volumes)": [{"(hostPath)": {"path": "/var/run/docker.sock"}}]}
        });
        let no_volumes =
            json!({"metadata": {"labels": {"run": "nginx"}}, "spec": {"containers": []}});
        assert!(matches!(
            check(no_volumes, pattern.clone()),
            PatternResult::Skip { .. }
        ));
        let other_volume = json!({"metadata": {"labels": {}}, "spec": {"volumes": [{"name": "v", "emptyDir": {}}]}});
        assert!(matches!(
            check(other_volume, pattern.clone()),
            PatternResult::Skip { .. }
        ));
        let sock = json!({"metadata": {"labels": {"run": "x"}}, "spec": {"volumes": [{"name": "v", "hostPath": {"path": "/var/run/docker.sock"}}]}});
        assert!(is_fail_at(
            &check(sock.clone(), pattern.clone()),
            "/metadata/labels/allow-docker/"
        ));
        let mut allowed = sock;
        allowed["metadata"]["labels"]["allow-docker"] = json!("true");
        assert_eq!(check(allowed, pattern), PatternResult::Pass);
    }

    #[test]
    fn negation_anchor() {
        let pattern = json!({"spec": {"=(volumes)": [{"X(hostPath)": "null"}]}});
        let ok = json!({"spec": {"volumes": [{"name": "a", "emptyDir": {}}]}});
        assert_eq!(check(ok, pattern.clone()), PatternResult::Pass);
        assert_eq!(
            check(json!({"spec": {}}), pattern.clone()),
            PatternResult::Pass
        );
        let bad = json!({"spec": {"volumes": [{"name": "a", "emptyDir": {}}, {"name": "b", "hostPath": {"path": "/"}}]}});
        assert!(is_fail_at(
            &check(bad, pattern),
            "/spec/volumes/1/hostPath/"
        ));
    }

    #[test]
    fn existence_anchor_needs_one_match() {
        let pattern = json!({"spec": {"^(containers)": [{"image": "nginx:latest"}]}});
        let ok = pod(json!([{"image": "busybox"}, {"image": "nginx:latest"}]));
        assert_eq!(check(ok, pattern.clone()), PatternResult::Pass);
        let bad = pod(json!([{"image": "busybox"}]));
        assert!(is_fail_at(&check(bad, pattern), "/spec/containers/"));
    }

    #[test]
    fn global_anchor_skips_rule() {
        let pattern = json!({"spec": {"containers": [{"name": "*", "<(image)": "*corp.com/*"}], "imagePullSecrets": [{"name": "my-registry-secret"}]}});
        let other_registry = pod(json!([{"name": "a", "image": "docker.io/nginx"}]));
        assert!(matches!(
            check(other_registry, pattern.clone()),
            PatternResult::Skip { .. }
        ));
        let corp_without_secret = pod(json!([{"name": "a", "image": "corp.com/nginx"}]));
        assert!(matches!(
            check(corp_without_secret, pattern.clone()),
            PatternResult::Fail { .. }
        ));
        let mut with_secret = pod(json!([{"name": "a", "image": "corp.com/nginx"}]));
        with_secret["spec"]["imagePullSecrets"] = json!([{"name": "my-registry-secret"}]);
        assert_eq!(check(with_secret, pattern), PatternResult::Pass);
    }

    #[test]
    fn conditional_map_anchor_top_level() {
        let pattern =
            json!({"metadata": {"(labels)": {"env": "prod"}, "annotations": {"owner": "?*"}}});
        let dev = json!({"metadata": {"labels": {"env": "dev"}}});
        assert!(matches!(
            check(dev, pattern.clone()),
            PatternResult::Skip { .. }
        ));
        let prod = json!({"metadata": {"labels": {"env": "prod"}}});
        assert!(is_fail_at(
            &check(prod, pattern.clone()),
            "/metadata/annotations/"
        ));
        let prod_owned =
            json!({"metadata": {"labels": {"env": "prod"}, "annotations": {"owner": "me"}}});
        assert_eq!(check(prod_owned, pattern), PatternResult::Pass);
    }

    #[test]
    fn star_requires_presence_and_null_requires_absence() {
        let star = json!({"spec": {"serviceAccountName": "*"}});
        assert_eq!(
            check(json!({"spec": {"serviceAccountName": "sa"}}), star.clone()),
            PatternResult::Pass
        );
        assert!(matches!(
            check(json!({"spec": {}}), star),
            PatternResult::Fail { .. }
        ));
        let null = json!({"spec": {"hostPID": null}});
        assert_eq!(
            check(json!({"spec": {}}), null.clone()),
            PatternResult::Pass
        );
        assert_eq!(
            check(json!({"spec": {"hostPID": false}}), null.clone()),
            PatternResult::Pass
        );
        assert!(matches!(
            check(json!({"spec": {"hostPID": true}}), null),
            PatternResult::Fail { .. }
        ));
    }

    #[test]
    fn scalar_pattern_against_array_and_structure_mismatch() {
        let pattern = json!({"spec": {"args": "!*--insecure*"}});
        assert_eq!(
            check(json!({"spec": {"args": ["--a", "--b"]}}), pattern.clone()),
            PatternResult::Pass
        );
        assert!(matches!(
            check(
                json!({"spec": {"args": ["--a", "--insecure=true"]}}),
                pattern
            ),
            PatternResult::Fail { .. }
        ));
        let structure = json!({"spec": {"template": {"a": 1}}});
        assert!(matches!(
            check(json!({"spec": {"template": "x"}}), structure),
            PatternResult::Fail { .. }
        ));
    }

    #[test]
    fn number_ranges_on_ports() {
        let pattern =
            json!({"spec": {"containers": [{"=(ports)": [{"=(hostPort)": "0 | 5000-6000"}]}]}});
        assert_eq!(
            check(
                pod(json!([{"ports": [{"hostPort": 5500}]}])),
                pattern.clone()
            ),
            PatternResult::Pass
        );
        assert_eq!(
            check(pod(json!([{"ports": [{"hostPort": 0}]}])), pattern.clone()),
            PatternResult::Pass
        );
        assert!(is_fail_at(
            &check(pod(json!([{"ports": [{"hostPort": 80}]}])), pattern),
            "/spec/containers/0/ports/0/hostPort/"
        ));
    }

    #[test]
    fn metadata_label_wildcard_keys_expand() {
        let pattern = json!({"metadata": {"labels": {"app.kubernetes.io/*": "?*"}}});
        let ok = json!({"metadata": {"labels": {"app.kubernetes.io/name": "web"}}});
        assert_eq!(check(ok, pattern.clone()), PatternResult::Pass);
        let empty = json!({"metadata": {"labels": {"app.kubernetes.io/name": ""}}});
        assert!(matches!(check(empty, pattern), PatternResult::Fail { .. }));
    }

    #[test]
    fn add_if_not_present_is_ignored() {
        let pattern = json!({"metadata": {"labels": {"+(team)": "x"}}});
        assert_eq!(
            check(json!({"metadata": {"labels": {}}}), pattern),
            PatternResult::Pass
        );
    }

    #[test]
    fn missing_anchor_key_turns_fail_into_error() {
        let pattern = json!({"spec": {"containers": [{"X(cpu)": null, "name": "web"}]}});
        let result = validate(&pod(json!([{"name": "db"}])), &pattern);
        assert!(
            matches!(result, Err(crate::KyvernoError::Pattern(_))),
            "{result:?}"
        );
    }

    #[test]
    fn anchors_parse() {
        assert_eq!(parse_anchor("(name)"), Some((Anchor::Conditional, "name")));
        assert_eq!(parse_anchor("=(name)"), Some((Anchor::Equality, "name")));
        assert_eq!(parse_anchor("X(name)"), Some((Anchor::Negation, "name")));
        assert_eq!(parse_anchor("<(name)"), Some((Anchor::Global, "name")));
        assert_eq!(parse_anchor("^(name)"), Some((Anchor::Existence, "name")));
        assert_eq!(
            parse_anchor("+(name)"),
            Some((Anchor::AddIfNotPresent, "name"))
        );
        assert_eq!(parse_anchor("name"), None);
        assert_eq!(parse_anchor("Xname"), None);
        assert_eq!(split_anchor_text("=(app.*)"), ("=(", "app.*"));
    }

    #[test]
    fn messages() {
        assert_eq!(
            failure_message("check-image", None, "/spec/"),
            "validation error: rule check-image failed at path /spec/"
        );
        assert_eq!(
            failure_message("r", Some("Images must be pinned"), "/spec/"),
            "validation error: Images must be pinned. rule r failed at path /spec/"
        );
    }
}
