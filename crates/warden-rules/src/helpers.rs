//! Checks several rules share: open networks, port ranges, policy documents, tags.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use regex::Regex;
use warden_core::{Attr, Resource, ResourceConfig, Value};

use crate::context::CheckContext;

/// CIDRs and address prefixes that mean "anyone on the internet".
pub const WORLD: &[&str] = &[
    "0.0.0.0/0",
    "::/0",
    "*",
    "0.0.0.0",
    "Internet",
    "Any",
    "any",
    "internet",
];

/// `true` when a CIDR (or Azure prefix) means the whole internet.
#[must_use]
pub fn is_world(cidr: &str) -> bool {
    WORLD.contains(&cidr.trim())
}

/// `true` when the value (a string or a list of strings) contains a world-open CIDR.
#[must_use]
pub fn any_world(value: Option<&Value>) -> bool {
    match value {
        Some(Value::String(s)) => is_world(s),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).any(is_world),
        _ => false,
    }
}

/// The entries of a list of CIDRs (or address prefixes) that are not world-open, for a fix
/// that narrows the list; `fallback` alone when none would remain and one is given (many
/// providers read an empty source list as "anyone" again).
#[must_use]
pub fn without_world(list: &Value, fallback: Option<&str>) -> Value {
    let mut kept: Vec<Value> = list
        .items()
        .iter()
        .filter(|c| !c.as_str().is_some_and(is_world))
        .cloned()
        .collect();
    if kept.is_empty() {
        kept.extend(fallback.map(Value::from));
    }
    Value::from(kept)
}

/// Ports whose exposure to the internet is denied outright: SSH, RDP, and the admin and
/// database ports agents most often open "to make it work".
pub const ADMIN_PORTS: &[i64] = &[22, 3389];

/// A port range with a protocol, as security group rules carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// First port.
    pub from: i64,
    /// Last port.
    pub to: i64,
    /// `true` when the protocol is "all" (`-1`, `all`, `*`).
    pub all_protocols: bool,
}

impl PortRange {
    /// Reads `from_port`/`to_port`/`protocol` of an AWS rule block.
    #[must_use]
    pub fn aws(rule: &Value) -> PortRange {
        let protocol = rule.field("protocol").as_str().map(str::to_ascii_lowercase);
        let protocol = protocol.or_else(|| {
            rule.field("ip_protocol")
                .as_str()
                .map(str::to_ascii_lowercase)
        });
        let all_protocols = matches!(protocol.as_deref(), Some("-1" | "all"));
        let from = rule.field("from_port").as_i64().unwrap_or(0);
        let to = rule.field("to_port").as_i64().unwrap_or(from);
        PortRange {
            from,
            to,
            all_protocols,
        }
    }

    /// Parses an Azure/GCP port expression: `22`, `20-30`, `*`.
    #[must_use]
    pub fn parse(expr: &str, all_protocols: bool) -> Option<PortRange> {
        let expr = expr.trim();
        if expr == "*" {
            return Some(PortRange {
                from: 0,
                to: 65535,
                all_protocols,
            });
        }
        let (from, to) = match expr.split_once('-') {
            Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
            None => {
                let p = expr.parse().ok()?;
                (p, p)
            }
        };
        Some(PortRange {
            from,
            to,
            all_protocols,
        })
    }

    /// `true` when the range includes `port` (all-protocol rules with 0/0 include every port).
    #[must_use]
    pub fn covers(self, port: i64) -> bool {
        (self.all_protocols && self.from <= 0 && (self.to <= 0 || self.to >= 65535))
            || (self.from <= port && port <= self.to)
    }

    /// `true` when the range is every port.
    #[must_use]
    pub fn is_all(self) -> bool {
        (self.from <= 0 && self.to >= 65535)
            || (self.all_protocols && self.from <= 0 && self.to <= 0)
    }

    /// How the range reads in a message.
    #[must_use]
    pub fn describe(self) -> String {
        if self.is_all() {
            "all ports".to_owned()
        } else if self.from == self.to {
            format!("port {}", self.from)
        } else {
            format!("ports {}-{}", self.from, self.to)
        }
    }

    /// The admin ports in the range.
    #[must_use]
    pub fn admin_ports(self) -> Vec<i64> {
        ADMIN_PORTS
            .iter()
            .copied()
            .filter(|&p| self.covers(p))
            .collect()
    }

    /// The admin ports in the range that a protocol (lower case; `*` or `any` for every
    /// protocol) reaches: SSH is tcp/22, RDP is tcp/3389 and udp/3389.
    #[must_use]
    pub fn admin_ports_over(self, protocol: &str) -> Vec<i64> {
        self.admin_ports()
            .into_iter()
            .filter(|&p| match protocol {
                "tcp" | "*" | "any" => true,
                "udp" => p == 3389,
                _ => false,
            })
            .collect()
    }
}

/// Admin ports for a message: `SSH (22) and RDP (3389)`.
#[must_use]
pub fn describe_admin_ports(ports: &[i64]) -> String {
    ports
        .iter()
        .map(|p| match p {
            22 => "SSH (22)".to_owned(),
            3389 => "RDP (3389)".to_owned(),
            other => format!("port {other}"),
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Values as code in a message, joined by `separator`: `` `a`, `b` `` or `` `a` and `b` ``.
#[must_use]
pub fn code_list<T: std::fmt::Display>(
    values: impl IntoIterator<Item = T>,
    separator: &str,
) -> String {
    values
        .into_iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(separator)
}

/// Compiled value patterns of required tags and labels, shared by every resource and thread
/// (`None`: invalid). Behind an `Arc`: cloning a `Regex` itself would give each clone a fresh
/// match cache.
static VALUE_PATTERNS: LazyLock<Mutex<HashMap<String, Option<Arc<Regex>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The anchored regular expression of a value pattern, compiled once.
fn value_pattern(source: &str) -> Option<Arc<Regex>> {
    let mut cache = VALUE_PATTERNS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(compiled) = cache.get(source) {
        return compiled.clone();
    }
    let compiled = Regex::new(&format!("^(?:{source})$")).ok().map(Arc::new);
    cache.insert(source.to_owned(), compiled.clone());
    compiled
}

/// Why the value of a required tag or label does not satisfy its pattern (`None`: it does).
/// The value must be non-empty and, unless `source` is empty, match the regular expression
/// `source` as a whole.
#[must_use]
pub fn invalid_value(value: &str, source: &str) -> Option<String> {
    if value.trim().is_empty() {
        return Some("is empty".to_owned());
    }
    if source.is_empty() {
        return None;
    }
    match value_pattern(source) {
        Some(re) if re.is_match(value) => None,
        Some(_) => Some(format!("is `{value}`, which does not match `{source}`")),
        None => Some(format!(
            "cannot be checked: `{source}` is not a valid regular expression"
        )),
    }
}

/// The message part for required keys that are absent: `` missing required tags `a`, `b` ``
/// (`noun` is `tag` or `label`; `missing` holds the keys already quoted as code).
#[must_use]
pub fn missing_required(noun: &str, missing: &[String]) -> String {
    format!(
        "missing required {noun}{} {}",
        if missing.len() == 1 { "" } else { "s" },
        missing.join(", ")
    )
}

/// A policy document attribute (a JSON string in the plan), parsed; `None` when absent,
/// unknown or not JSON.
#[must_use]
pub fn policy_document(resource: &Resource, attribute: &str) -> Option<Value> {
    let text = resource.after_str(attribute)?;
    serde_json::from_str(text).ok()
}

/// The statements of a policy document (`Statement` may be one object or a list).
#[must_use]
pub fn statements(document: &Value) -> Vec<&Value> {
    match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

/// A policy field that may be a string or a list of strings.
#[must_use]
pub fn string_or_list(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `true` when a statement's `Principal` is everyone (`"*"` or `{"AWS": "*"}`).
#[must_use]
pub fn principal_is_public(statement: &Value) -> bool {
    match statement.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(p @ Value::Object(_)) => p
            .entries()
            .iter()
            .any(|(_, v)| string_or_list(Some(v)).contains(&"*")),
        _ => false,
    }
}

/// The tags a resource will carry: provider `default_tags`, then `tags_all` and `tags` when
/// known. Keys in insertion order, later sources winning.
#[must_use]
pub fn effective_tags<'a>(
    resource: &'a Resource,
    default_tags: Option<&'a Value>,
) -> Vec<(&'a str, &'a Value)> {
    let mut out: Vec<(&str, &Value)> = Vec::new();
    let mut put = |source: Option<&'a Value>| {
        for (k, v) in source.map_or(&[][..], Value::entries) {
            match out.iter_mut().find(|(key, _)| *key == k.as_str()) {
                Some(slot) => slot.1 = v,
                None => out.push((k.as_str(), v)),
            }
        }
    };
    put(default_tags);
    put(resource.after.get("tags_all"));
    put(resource.after.get("tags"));
    put(resource.after.get("labels"));
    out
}

/// A known string attribute as `` `value` `` after a space, to name a resource in a message
/// (`new bucket `logs``); empty when the attribute is not a known string.
#[must_use]
pub fn label(resource: &Resource, attribute: &str) -> String {
    resource
        .after_str(attribute)
        .map_or_else(String::new, |v| format!(" `{v}`"))
}

/// The boolean at `path`, tri-state, for rules that need a definite `true`/`false`.
#[must_use]
pub fn bool_attr(resource: &Resource, path: &str) -> Option<Result<bool, ()>> {
    match resource.attr(path) {
        Attr::Known(v) => v.as_bool().map(Ok),
        Attr::Unknown => Some(Err(())),
        Attr::Absent => None,
    }
}

/// What an attribute will be after apply.
///
/// Many attributes and blocks are *optional and computed* (`aws_ebs_volume.encrypted`,
/// `aws_instance.metadata_options`, `google_storage_bucket.uniform_bucket_level_access`, the
/// inline rules of an Azure NSG): when the configuration leaves them out, a plan that creates
/// the resource shows them as "known after apply", exactly like a value that references another
/// resource's future id. The plan's `configuration` section tells the two apart: an attribute
/// the configuration sets has an expression; one it leaves out has none, and the provider's
/// (or the API's) default applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Planned<'a> {
    /// A known value (never `null`).
    Set(&'a Value),
    /// Not set: the provider's (or the API's) default applies.
    Default,
    /// Set in the configuration to something known only after apply.
    Unknown,
}

/// The planned value of the attribute at a dotted path of `after` (`root_block_device.0.encrypted`).
#[must_use]
pub(crate) fn planned<'a>(
    resource: &'a Resource,
    cx: &CheckContext<'_>,
    path: &str,
) -> Planned<'a> {
    match resource.attr(path) {
        Attr::Known(v) => Planned::Set(v),
        Attr::Absent => Planned::Default,
        Attr::Unknown if left_to_provider(resource, cx, path) => Planned::Default,
        Attr::Unknown => Planned::Unknown,
    }
}

/// `true` when the resource's configuration block is known and sets neither the attribute at
/// `path` (indexes ignored), nor a block or map containing it, nor anything inside it. Without
/// a configuration (not a Terraform plan) nothing can be told apart: `false`.
#[must_use]
pub(crate) fn left_to_provider(resource: &Resource, cx: &CheckContext<'_>, path: &str) -> bool {
    unset_in_config(cx.config_of(resource), path)
}

/// `true` when a resource's configuration block is known and sets neither the attribute at
/// the dotted `path` (indexes ignored), nor a block containing it, nor anything inside it.
#[must_use]
pub(crate) fn unset_in_config(config: Option<&ResourceConfig>, path: &str) -> bool {
    let Some(config) = config else {
        return false;
    };
    let path: Vec<&str> = path
        .split('.')
        .filter(|s| s.parse::<usize>().is_err())
        .collect();
    !config.sets(&path.join("."))
}

/// The blocks of a nested-block attribute (`network_interface`), with whether the list itself
/// is known only after apply and set in the configuration (so its blocks cannot be read yet).
#[must_use]
pub(crate) fn blocks<'a>(
    resource: &'a Resource,
    cx: &CheckContext<'_>,
    path: &str,
) -> (&'a [Value], bool) {
    let items = resource.after.path(path).map_or(&[][..], Value::items);
    let unknown =
        items.is_empty() && resource.is_unknown(path) && !left_to_provider(resource, cx, path);
    (items, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges() {
        let all = PortRange {
            from: 0,
            to: 0,
            all_protocols: true,
        };
        assert!(all.covers(22) && all.is_all());
        let web = PortRange {
            from: 80,
            to: 443,
            all_protocols: false,
        };
        assert!(!web.covers(22) && web.covers(80) && !web.is_all());
        assert_eq!(
            PortRange::parse("20-30", false).map(|r| r.admin_ports()),
            Some(vec![22])
        );
        assert_eq!(
            PortRange::parse("*", false).map(PortRange::is_all),
            Some(true)
        );
    }

    #[test]
    fn value_patterns_are_anchored() {
        assert_eq!(invalid_value("prod", "prod|dev"), None);
        assert!(invalid_value("production", "prod|dev").is_some());
        assert!(invalid_value(" ", "").is_some());
        assert!(invalid_value("x", "(").is_some_and(|m| m.contains("not a valid")));
    }

    #[test]
    fn public_principals() {
        let s: Value = serde_json::from_str(r#"{"Principal":{"AWS":["arn:x","*"]}}"#).unwrap();
        assert!(principal_is_public(&s));
        let s: Value =
            serde_json::from_str(r#"{"Principal":{"Service":"lambda.amazonaws.com"}}"#).unwrap();
        assert!(!principal_is_public(&s));
    }
}
