//! The attribute diff of two states, with sensitive values masked.
//!
//! Objects are compared member by member (`null`, `{}` and `[]` count as absent: Terraform
//! refreshes `tags = null` as `{}`, the API server drops empty maps); lists of scalars as one
//! value (`cidr_blocks: ["10.0.0.0/8"] → ["0.0.0.0/0"]`); lists of objects that all carry a
//! unique `name` (containers, env, volumes) by name; other lists of objects element by
//! element when their lengths match, else as multisets (an element on one side only is
//! added or removed at its index there).
//!
//! A value is masked with [`MASK`] when Terraform marks it sensitive (`before_sensitive` /
//! `after_sensitive`: `true` at a node covers everything under it), when the caller names a
//! member secret (a Kubernetes Secret's `data`), or when it is a scalar under an attribute
//! named like a secret (`password`, `secret`, `token`, `api_key`, `private_key`,
//! `passphrase`; not `*_arn`, `*_id`, `*_name` …, nor keys inside `tags`, `labels`,
//! `annotations`): the names the secret rule WD-GOV-008 treats as secrets.

use super::{AttributeChange, ChangeKind, MASK};
use crate::value::{escape_pointer_token, Value};

/// What else makes a value sensitive, besides Terraform's markers.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions<'a> {
    /// Top-level members whose whole value is secret (`data`, `stringData` of a Secret).
    pub secret_members: &'a [&'a str],
}

/// Below this depth values are compared whole (a guard against pathological nesting).
const MAX_DEPTH: usize = 48;

/// The attributes that differ between `before` (last-known) and `after` (live), sorted by
/// path, sensitive values masked.
#[must_use]
pub fn diff(
    before: &Value,
    after: &Value,
    before_sensitive: &Value,
    after_sensitive: &Value,
    options: &DiffOptions<'_>,
) -> Vec<AttributeChange> {
    let mut walk = Walk {
        options,
        path: Vec::new(),
        out: Vec::new(),
    };
    walk.walk(before, after, before_sensitive, after_sensitive, 0);
    walk.out
}

/// A copy of `value`, found at the dotted `path`, with its sensitive parts masked; `true`
/// when anything was.
#[must_use]
pub(crate) fn masked(
    value: &Value,
    path: &str,
    marker: &Value,
    options: &DiffOptions<'_>,
) -> (Value, bool) {
    let walk = Walk {
        options,
        path: Vec::new(),
        out: Vec::new(),
    };
    let mut segments: Vec<Segment> = path
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| match s.parse::<usize>() {
            Ok(i) => Segment::Index(i),
            Err(_) => Segment::Key(s.to_owned()),
        })
        .collect();
    let mut hit = false;
    let value = walk.mask(value, marker, &mut segments, &mut hit, 0);
    (value, hit)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

struct Walk<'o> {
    options: &'o DiffOptions<'o>,
    path: Vec<Segment>,
    out: Vec<AttributeChange>,
}

static TRUE: Value = Value::Bool(true);
static NULL: Value = Value::Null;

/// The marker of a child: everything under a `true` is sensitive.
fn child_marker<'v>(marker: &'v Value, segment: &Segment) -> &'v Value {
    if marker.as_bool() == Some(true) {
        return &TRUE;
    }
    match segment {
        Segment::Key(k) => marker.get(k).unwrap_or(&NULL),
        Segment::Index(i) => marker.at(*i).unwrap_or(&NULL),
    }
}

impl Walk<'_> {
    fn walk(&mut self, before: &Value, after: &Value, mb: &Value, ma: &Value, depth: usize) {
        if before == after || (is_empty(before) && is_empty(after)) {
            return;
        }
        let marked = mb.as_bool() == Some(true) || ma.as_bool() == Some(true);
        if marked || self.secret_member(&self.path) {
            self.emit(before, after, &TRUE, &TRUE);
            return;
        }
        match (before, after) {
            (Value::Null, _) | (_, Value::Null) => self.emit(before, after, mb, ma),
            (Value::Object(b), Value::Object(a)) if depth < MAX_DEPTH => {
                let mut keys: Vec<&str> = b
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .chain(a.iter().map(|(k, _)| k.as_str()))
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                for key in keys {
                    let segment = Segment::Key(key.to_owned());
                    let (cb, ca) = (child_marker(mb, &segment), child_marker(ma, &segment));
                    self.path.push(segment);
                    self.walk(before.field(key), after.field(key), cb, ca, depth + 1);
                    self.path.pop();
                }
            }
            (Value::Array(b), Value::Array(a)) if depth < MAX_DEPTH => {
                self.walk_arrays(b, a, mb, ma, depth);
            }
            _ => self.emit(before, after, mb, ma),
        }
    }

    fn walk_arrays(&mut self, b: &[Value], a: &[Value], mb: &Value, ma: &Value, depth: usize) {
        let scalar = |v: &Value| !matches!(v, Value::Object(_) | Value::Array(_));
        if b.iter().chain(a).all(scalar) {
            self.emit(&Value::Array(b.into()), &Value::Array(a.into()), mb, ma);
            return;
        }
        if let (Some(bn), Some(an)) = (names(b), names(a)) {
            for (i, name) in bn.iter().enumerate() {
                let j = an.iter().position(|n| n == name);
                let before = b.get(i).unwrap_or(&NULL);
                let after = j.and_then(|j| a.get(j)).unwrap_or(&NULL);
                let cb = child_marker(mb, &Segment::Index(i));
                let ca = j.map_or(&NULL, |j| child_marker(ma, &Segment::Index(j)));
                self.path.push(Segment::Index(i));
                self.walk(before, after, cb, ca, depth + 1);
                self.path.pop();
            }
            for (j, name) in an.iter().enumerate() {
                if !bn.contains(name) {
                    self.element(&NULL, a.get(j).unwrap_or(&NULL), &NULL, ma, j);
                }
            }
            return;
        }
        if b.len() == a.len() {
            for (i, (before, after)) in b.iter().zip(a).enumerate() {
                let segment = Segment::Index(i);
                let (cb, ca) = (child_marker(mb, &segment), child_marker(ma, &segment));
                self.path.push(segment);
                self.walk(before, after, cb, ca, depth + 1);
                self.path.pop();
            }
            return;
        }
        // Different lengths: match equal elements, report the rest at their own index.
        let mut used = vec![false; b.len()];
        let mut added = Vec::new();
        for (j, item) in a.iter().enumerate() {
            let found = b
                .iter()
                .enumerate()
                .position(|(i, x)| !used.get(i).copied().unwrap_or(true) && x == item);
            match found.and_then(|i| used.get_mut(i)) {
                Some(slot) => *slot = true,
                None => added.push(j),
            }
        }
        for (i, item) in b.iter().enumerate() {
            if !used.get(i).copied().unwrap_or(true) {
                self.element(item, &NULL, mb, &NULL, i);
            }
        }
        for j in added {
            self.element(&NULL, a.get(j).unwrap_or(&NULL), &NULL, ma, j);
        }
    }

    /// A whole list element added or removed at `index`.
    fn element(&mut self, before: &Value, after: &Value, mb: &Value, ma: &Value, index: usize) {
        let segment = Segment::Index(index);
        let (cb, ca) = (child_marker(mb, &segment), child_marker(ma, &segment));
        self.path.push(segment);
        self.emit(before, after, cb, ca);
        self.path.pop();
    }

    fn emit(&mut self, before: &Value, after: &Value, mb: &Value, ma: &Value) {
        let change = match (before.is_null(), after.is_null()) {
            (true, false) => ChangeKind::Added,
            (false, true) => ChangeKind::Removed,
            _ => ChangeKind::Changed,
        };
        let mut hit = false;
        let mut path = self.path.clone();
        let before = self.mask(before, mb, &mut path, &mut hit, 0);
        let after = self.mask(after, ma, &mut path, &mut hit, 0);
        self.out.push(AttributeChange {
            path: dotted(&self.path),
            pointer: pointer(&self.path),
            change,
            before,
            after,
            sensitive: hit,
        });
    }

    /// `value` at `path` with its sensitive parts replaced by [`MASK`].
    fn mask(
        &self,
        value: &Value,
        marker: &Value,
        path: &mut Vec<Segment>,
        hit: &mut bool,
        depth: usize,
    ) -> Value {
        if value.is_null() {
            return Value::Null;
        }
        let scalar = !matches!(value, Value::Object(_) | Value::Array(_));
        if marker.as_bool() == Some(true)
            || self.secret_member(path)
            || (scalar && secret_name(path))
            || depth > MAX_DEPTH
        {
            *hit = true;
            return Value::string(MASK);
        }
        match value {
            Value::Object(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| {
                        let segment = Segment::Key(k.to_string());
                        let m = child_marker(marker, &segment);
                        path.push(segment);
                        let v = self.mask(v, m, path, hit, depth + 1);
                        path.pop();
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let segment = Segment::Index(i);
                        let m = child_marker(marker, &segment);
                        path.push(segment);
                        let v = self.mask(v, m, path, hit, depth + 1);
                        path.pop();
                        v
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// `true` under a member the caller named secret.
    fn secret_member(&self, path: &[Segment]) -> bool {
        matches!(path.first(), Some(Segment::Key(k)) if self.options.secret_members.contains(&k.as_str()))
    }
}

/// `null`, `{}` or `[]`.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(pairs) => pairs.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// The `name` of every element when each is an object with a unique string `name`.
fn names(items: &[Value]) -> Option<Vec<&str>> {
    let names: Vec<&str> = items
        .iter()
        .map(|v| v.get("name").and_then(Value::as_str))
        .collect::<Option<_>>()?;
    let mut sorted = names.clone();
    sorted.sort_unstable();
    let unique = sorted.windows(2).all(|w| w.first() != w.get(1));
    (unique && !names.is_empty()).then_some(names)
}

/// Maps whose keys are metadata, not attribute names.
const METADATA_MAPS: &[&str] = &[
    "tags",
    "tags_all",
    "labels",
    "terraform_labels",
    "effective_labels",
    "annotations",
];

/// `true` when the nearest attribute name on the path is a secret's, outside metadata maps.
fn secret_name(path: &[Segment]) -> bool {
    let in_metadata = path
        .iter()
        .any(|s| matches!(s, Segment::Key(k) if METADATA_MAPS.contains(&k.as_str())));
    if in_metadata {
        return false;
    }
    path.iter()
        .rev()
        .find_map(|s| match s {
            Segment::Key(k) => Some(looks_secret(k)),
            Segment::Index(_) => None,
        })
        .unwrap_or(false)
}

/// `true` for attribute names that hold secrets (`password`, `db_secret`, `apiKey`), in
/// Terraform's snake_case or Kubernetes' camelCase.
fn looks_secret(name: &str) -> bool {
    crate::secret_names::looks_secret(name, crate::secret_names::Naming::SnakeOrCamel)
}

/// `ingress.0.cidr_blocks`.
fn dotted(path: &[Segment]) -> String {
    let mut out = String::new();
    for (i, segment) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        match segment {
            Segment::Key(k) => out.push_str(k),
            Segment::Index(n) => out.push_str(&n.to_string()),
        }
    }
    out
}

/// `/ingress/0/cidr_blocks`.
fn pointer(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        out.push('/');
        match segment {
            Segment::Key(k) => out.push_str(&escape_pointer_token(k)),
            Segment::Index(n) => out.push_str(&n.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    fn show(changes: &[AttributeChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} {} -> {}{}",
                    c.change.sign(),
                    c.path,
                    serde_json::to_string(&c.before).unwrap(),
                    serde_json::to_string(&c.after).unwrap(),
                    if c.sensitive { " (sensitive)" } else { "" }
                )
            })
            .collect()
    }

    fn plain(before: &str, after: &str) -> Vec<String> {
        show(&diff(
            &v(before),
            &v(after),
            &Value::Null,
            &Value::Null,
            &DiffOptions::default(),
        ))
    }

    #[test]
    fn members_added_removed_changed_with_null_as_absent() {
        assert_eq!(
            plain(
                r#"{"a":1,"b":"x","c":null,"d":{"e":true},"same":[1,2]}"#,
                r#"{"a":2,"c":"new","d":{"e":true,"f":1},"same":[1,2]}"#
            ),
            [
                "~ a 1 -> 2",
                "- b \"x\" -> null",
                "+ c null -> \"new\"",
                "+ d.f null -> 1",
            ]
        );
        assert!(plain(r#"{"a":[1,{"b":2}]}"#, r#"{"a":[1,{"b":2}]}"#).is_empty());
        assert!(plain(r#"{"tags":null,"l":[]}"#, r#"{"tags":{},"m":{}}"#).is_empty());
        assert_eq!(
            plain(r#"{"l":["x"]}"#, r#"{"l":[]}"#),
            ["~ l [\"x\"] -> []"]
        );
    }

    #[test]
    fn scalar_lists_are_one_value_and_object_lists_go_by_index_name_or_multiset() {
        assert_eq!(
            plain(
                r#"{"cidr_blocks":["10.0.0.0/8"]}"#,
                r#"{"cidr_blocks":["10.0.0.0/8","0.0.0.0/0"]}"#
            ),
            ["~ cidr_blocks [\"10.0.0.0/8\"] -> [\"10.0.0.0/8\",\"0.0.0.0/0\"]"]
        );
        assert_eq!(
            plain(
                r#"{"ingress":[{"port":22,"cidr":["10.0.0.0/8"]}]}"#,
                r#"{"ingress":[{"port":22,"cidr":["0.0.0.0/0"]}]}"#
            ),
            ["~ ingress.0.cidr [\"10.0.0.0/8\"] -> [\"0.0.0.0/0\"]"]
        );
        // A rule added by hand: only the new element, at its live index.
        assert_eq!(
            plain(
                r#"{"ingress":[{"port":443}]}"#,
                r#"{"ingress":[{"port":22},{"port":443}]}"#
            ),
            ["+ ingress.0 null -> {\"port\":22}"]
        );
        assert_eq!(
            plain(
                r#"{"c":[{"name":"app","image":"a:1"},{"name":"side","image":"s:1"}]}"#,
                r#"{"c":[{"name":"side","image":"s:1"},{"name":"app","image":"a:2"},{"name":"new"}]}"#
            ),
            [
                "~ c.0.image \"a:1\" -> \"a:2\"",
                "+ c.2 null -> {\"name\":\"new\"}"
            ]
        );
    }

    #[test]
    fn terraform_sensitive_markers_mask_whole_subtrees() {
        let changes = diff(
            &v(r#"{"password":"old-pass","conn":{"user":"u","key":"k1"},"port":1}"#),
            &v(r#"{"password":"new-pass","conn":{"user":"u2","key":"k2"},"port":2}"#),
            &v(r#"{"conn":{"key":true}}"#),
            &v(r#"{"conn":true}"#),
            &DiffOptions::default(),
        );
        let shown = show(&changes).join("\n");
        assert!(!shown.contains("k1") && !shown.contains("k2"), "{shown}");
        assert!(
            !shown.contains("old-pass") && !shown.contains("new-pass"),
            "{shown}"
        );
        assert!(
            !shown.contains("u2"),
            "the whole after subtree is sensitive: {shown}"
        );
        assert_eq!(
            show(&changes),
            [
                "~ conn \"***MASKED***\" -> \"***MASKED***\" (sensitive)",
                "~ password \"***MASKED***\" -> \"***MASKED***\" (sensitive)",
                "~ port 1 -> 2",
            ]
        );
    }

    #[test]
    fn secret_names_and_members_are_masked_inside_added_values() {
        let changes = diff(
            &v(r#"{"env":[]}"#),
            &v(
                r#"{"env":[{"name":"X","db_password":"hunter2","password_length":8}],"tags":{"token":"t"}}"#,
            ),
            &Value::Null,
            &Value::Null,
            &DiffOptions::default(),
        );
        let shown = show(&changes).join("\n");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("\"password_length\":8"), "{shown}");
        assert!(
            shown.contains("\"token\":\"t\""),
            "tags are metadata: {shown}"
        );
        let (value, hit) = masked(
            &v(r#""x""#),
            "spec.db_password",
            &Value::Null,
            &DiffOptions::default(),
        );
        assert!(hit && value == Value::from(MASK));
        let secret = diff(
            &v(r#"{"data":{"a":"MQ=="}}"#),
            &v(r#"{"data":{"a":"Mg=="}}"#),
            &Value::Null,
            &Value::Null,
            &DiffOptions {
                secret_members: &["data"],
            },
        );
        assert_eq!(
            show(&secret),
            ["~ data \"***MASKED***\" -> \"***MASKED***\" (sensitive)"]
        );
    }

    #[test]
    fn secret_looking_names() {
        for name in [
            "password",
            "db_password",
            "client_secret",
            "apiKey",
            "auth_token",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in [
            "password_length",
            "secret_arn",
            "secretName",
            "secretKeyRef",
            "kms_key_id",
            "name",
        ] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn pointers_escape_keys_with_slashes() {
        let changes = diff(
            &v(r#"{"metadata":{"labels":{"app.kubernetes.io/name":"a"}}}"#),
            &v(r#"{"metadata":{"labels":{"app.kubernetes.io/name":"b"}}}"#),
            &Value::Null,
            &Value::Null,
            &DiffOptions::default(),
        );
        assert_eq!(
            changes[0].pointer,
            "/metadata/labels/app.kubernetes.io~1name"
        );
        assert_eq!(changes[0].path, "metadata.labels.app.kubernetes.io/name");
    }
}
