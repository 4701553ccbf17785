//! One infrastructure object as every engine sees it.

use serde::Serialize;

use crate::value::Value;

/// What the change does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Created.
    Create,
    /// Updated in place.
    Update,
    /// Destroyed.
    Delete,
    /// Destroyed and created again (in either order).
    Replace,
    /// Read (data sources).
    Read,
    /// Unchanged.
    NoOp,
    /// Removed from state without being destroyed (`removed` blocks).
    Forget,
}

impl Action {
    /// Maps Terraform's `change.actions` list to one action.
    #[must_use]
    pub fn from_terraform(actions: &[String]) -> Option<Action> {
        let list: Vec<&str> = actions.iter().map(String::as_str).collect();
        Some(match list.as_slice() {
            ["no-op"] | [] => Action::NoOp,
            ["create"] => Action::Create,
            ["read"] => Action::Read,
            ["update"] => Action::Update,
            ["delete"] => Action::Delete,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            ["forget"] | ["create", "forget"] => Action::Forget,
            _ => return None,
        })
    }

    /// The kebab-case name (`no-op`, `replace` ...).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Replace => "replace",
            Action::Read => "read",
            Action::NoOp => "no-op",
            Action::Forget => "forget",
        }
    }

    /// `true` when the resource exists after the change is applied.
    #[must_use]
    pub fn is_live(self) -> bool {
        !matches!(self, Action::Delete | Action::Forget)
    }

    /// `true` when the change destroys the existing object (delete or replace).
    #[must_use]
    pub fn destroys(self) -> bool {
        matches!(self, Action::Delete | Action::Replace)
    }
}

/// Managed resource or data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A managed resource.
    Managed,
    /// A data source.
    Data,
}

/// Where a resource or finding comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// The input file (`-` for standard input).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line in that file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// JSON Pointer to the object inside the input document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

/// A value that may be known, known only after apply, or absent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attr<'a> {
    /// Present and not null.
    Known(&'a Value),
    /// Known only after apply.
    Unknown,
    /// Absent or null.
    Absent,
}

impl<'a> Attr<'a> {
    /// The value when known.
    #[must_use]
    pub fn known(self) -> Option<&'a Value> {
        match self {
            Attr::Known(v) => Some(v),
            _ => None,
        }
    }
}

/// One infrastructure object in a change set.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Full address: a Terraform address (`module.a.aws_s3_bucket.b["x"]`) or
    /// `apiVersion/Kind/namespace/name` for Kubernetes.
    pub address: String,
    /// Resource type (`aws_s3_bucket`, `Deployment`).
    pub kind: String,
    /// Local name (`b`).
    pub name: String,
    /// Short provider name (`aws`, `google`, `azurerm`, `kubernetes`).
    pub provider: String,
    /// Provider source as the input names it (`registry.terraform.io/hashicorp/aws`).
    pub provider_source: String,
    /// Managed resource or data source.
    pub mode: Mode,
    /// Module address (`module.a["x"]`), `None` in the root module.
    pub module: Option<String>,
    /// `count`/`for_each` index, when the resource has one.
    pub index: Option<Value>,
    /// Deposed object key, for a deposed instance.
    pub deposed: Option<String>,
    /// What the change does.
    pub action: Action,
    /// Terraform's reason for the action (`replace_because_tainted` ...).
    pub action_reason: Option<String>,
    /// Value before the change (`null` when created). For a no-op change it is `null` too:
    /// it would repeat `after`, and plans are large; read [`Resource::before_state`].
    pub before: Value,
    /// Value after the change (`null` when deleted). Unknown parts are absent or null.
    pub after: Value,
    /// Terraform's `after_unknown` tree: `true` where a value is known only after apply.
    pub after_unknown: Value,
    /// Terraform's `before_sensitive` tree.
    pub before_sensitive: Value,
    /// Terraform's `after_sensitive` tree.
    pub after_sensitive: Value,
    /// Where the resource sits in its input.
    pub source: Location,
}

impl Resource {
    /// A new resource with empty values; inputs and tests fill in the rest.
    #[must_use]
    pub fn new(address: impl Into<String>, kind: impl Into<String>, action: Action) -> Resource {
        let address = address.into();
        let kind = kind.into();
        let provider = provider_of_type(&kind).to_owned();
        Resource {
            name: address.rsplit('.').next().unwrap_or_default().to_owned(),
            address,
            provider_source: provider.clone(),
            provider,
            kind,
            mode: Mode::Managed,
            module: None,
            index: None,
            deposed: None,
            action,
            action_reason: None,
            before: Value::Null,
            after: Value::Null,
            after_unknown: Value::Null,
            before_sensitive: Value::Null,
            after_sensitive: Value::Null,
            source: Location::default(),
        }
    }

    /// The state before the change: `before`, or `after` for a no-op change.
    #[must_use]
    pub fn before_state(&self) -> &Value {
        if self.action == Action::NoOp && self.before.is_null() {
            &self.after
        } else {
            &self.before
        }
    }

    /// The attribute at a dotted path of `after`, with unknown-after-apply taken into account.
    #[must_use]
    pub fn attr(&self, path: &str) -> Attr<'_> {
        match self.after.path(path) {
            Some(v) if !v.is_null() => Attr::Known(v),
            _ if self.is_unknown(path) => Attr::Unknown,
            _ => Attr::Absent,
        }
    }

    /// `true` when the value at `path` (or a parent of it) is known only after apply.
    #[must_use]
    pub fn is_unknown(&self, path: &str) -> bool {
        mark_at(&self.after_unknown, path, Value::contains_true)
    }

    /// The string attribute at `path` of `after`, when known.
    #[must_use]
    pub fn after_str(&self, path: &str) -> Option<&str> {
        self.after.path(path).and_then(Value::as_str)
    }

    /// The boolean attribute at `path` of `after`, when known.
    #[must_use]
    pub fn after_bool(&self, path: &str) -> Option<bool> {
        self.after.path(path).and_then(Value::as_bool)
    }

    /// `true` when the value at `path` is marked sensitive in `after_sensitive`.
    #[must_use]
    pub fn is_sensitive(&self, path: &str) -> bool {
        mark_at(&self.after_sensitive, path, |v| v.as_bool() == Some(true))
    }

    /// The address without `count`/`for_each` indexes (`module.a.aws_s3_bucket.b`): the key of
    /// the resource's block in the configuration.
    #[must_use]
    pub fn config_address(&self) -> String {
        strip_indexes(&self.address)
    }
}

/// Reads a Terraform marker tree (`after_unknown`, `after_sensitive`) at a dotted path: `true`
/// when a marker on the way is `true`, else `at_end` of the node the path reaches.
pub(crate) fn mark_at(tree: &Value, path: &str, at_end: fn(&Value) -> bool) -> bool {
    let mut current = tree;
    for segment in path.split('.') {
        if current.as_bool() == Some(true) {
            return true;
        }
        let next = match current {
            Value::Object(_) => current.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(v) => current = v,
            None => return false,
        }
    }
    at_end(current)
}

/// The provider a resource type belongs to by Terraform's naming rule (`aws_s3_bucket` →
/// `aws`).
#[must_use]
pub fn provider_of_type(kind: &str) -> &str {
    kind.split_once('_').map_or(kind, |(p, _)| p)
}

/// Removes every `[...]` index from a Terraform address, honouring quoted keys that contain
/// brackets or dots.
#[must_use]
pub fn strip_indexes(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for c in address.chars() {
        if depth > 0 {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
            } else if c == '[' {
                depth += 1;
            } else if c == ']' {
                depth -= 1;
            }
            continue;
        }
        if c == '[' {
            depth = 1;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_map_from_terraform() {
        let a = |xs: &[&str]| {
            Action::from_terraform(&xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(a(&["create", "delete"]), Some(Action::Replace));
        assert_eq!(a(&["delete", "create"]), Some(Action::Replace));
        assert_eq!(a(&["no-op"]), Some(Action::NoOp));
        assert_eq!(a(&["explode"]), None);
    }

    #[test]
    fn strips_indexes_with_quoted_keys() {
        assert_eq!(
            strip_indexes(r#"module.a["x[1].y"].aws_s3_bucket.b[0]"#),
            "module.a.aws_s3_bucket.b"
        );
    }

    #[test]
    fn unknown_and_sensitive_paths() {
        let mut r = Resource::new("aws_instance.a", "aws_instance", Action::Create);
        r.after = serde_json::from_str(r#"{"metadata_options":[{"http_tokens":null}]}"#).unwrap();
        r.after_unknown =
            serde_json::from_str(r#"{"metadata_options":[{"http_tokens":true}],"id":true}"#)
                .unwrap();
        assert_eq!(r.attr("metadata_options.0.http_tokens"), Attr::Unknown);
        assert_eq!(r.attr("id"), Attr::Unknown);
        assert_eq!(r.attr("ami"), Attr::Absent);
        assert!(r.is_unknown("metadata_options"));
    }
}
