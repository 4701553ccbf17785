//! `match` and `exclude`: which resources (and which requests) a rule applies to.
//!
//! Kyverno's semantics ("Selecting resources"): in `any` at least one filter must match, in
//! `all` every one; inside a filter every field given must hold (kinds AND names AND
//! namespaces AND selectors AND operations AND user information). A rule applies when `match`
//! holds and `exclude` does not.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::policy::{LabelSelector, MatchResources, ResourceDescription, ResourceFilter, Subject};

/// Who makes the request (the CLI's `UserInfo` file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    /// User name (`system:serviceaccount:ns:name` for service accounts).
    pub username: String,
    /// Groups.
    pub groups: Vec<String>,
    /// Roles (`namespace:role`).
    pub roles: Vec<String>,
    /// Cluster roles.
    pub cluster_roles: Vec<String>,
}

/// The admission request around a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestInfo {
    /// `CREATE` (default), `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    /// The requester.
    pub user: UserInfo,
    /// Labels of the resource's namespace, when known.
    pub namespace_labels: Option<BTreeMap<String, String>>,
}

impl Default for RequestInfo {
    fn default() -> Self {
        RequestInfo {
            operation: "CREATE".to_owned(),
            user: UserInfo::default(),
            namespace_labels: None,
        }
    }
}

/// `true` when `text` matches `pattern` with `*` (any run) and `?` (one character).
#[must_use]
pub fn wildcard(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
    pattern == "*" || warden_core::exceptions::glob_matches(pattern, text)
}

/// `true` when the rule's `match` holds and its `exclude` does not.
#[must_use]
pub fn applies(
    matching: &MatchResources,
    exclude: Option<&MatchResources>,
    resource: &Value,
    request: &RequestInfo,
) -> bool {
    matches(matching, resource, request)
        && !exclude.is_some_and(|e| !e.is_empty() && matches(e, resource, request))
}

/// `true` when a `match` (or `exclude`) block selects the resource.
#[must_use]
pub fn matches(block: &MatchResources, resource: &Value, request: &RequestInfo) -> bool {
    if !block.any.is_empty() {
        return block
            .any
            .iter()
            .any(|f| filter_matches(f, resource, request));
    }
    if !block.all.is_empty() {
        return block
            .all
            .iter()
            .all(|f| filter_matches(f, resource, request));
    }
    let empty = ResourceDescription::default();
    let resources = block.resources.as_ref().unwrap_or(&empty);
    description_matches(resources, resource, request)
        && user_matches(
            &block.roles,
            &block.cluster_roles,
            &block.subjects,
            &request.user,
        )
}

/// The kinds a `match` block can select at all (`None`: any kind, or it cannot tell), so
/// that rules about other kinds are passed over with one comparison. A necessary
/// condition only: a resource of one of these kinds may still not match.
#[must_use]
pub fn possible_kinds(block: &MatchResources) -> Option<Vec<String>> {
    fn plain_kinds(d: &ResourceDescription) -> Option<Vec<String>> {
        if d.kinds.is_empty() {
            return None;
        }
        d.kinds
            .iter()
            .map(|k| {
                let kind = if k.contains('/') {
                    parse_kind(k).kind
                } else {
                    k.clone()
                };
                (!kind.contains(['*', '?'])).then_some(kind)
            })
            .collect()
    }
    if !block.any.is_empty() {
        let mut all = Vec::new();
        for f in &block.any {
            all.extend(plain_kinds(&f.resources)?);
        }
        return Some(all);
    }
    if !block.all.is_empty() {
        return block.all.iter().find_map(|f| plain_kinds(&f.resources));
    }
    block.resources.as_ref().and_then(plain_kinds)
}

/// `true` when one filter (resources and user information) selects the resource.
#[must_use]
pub fn filter_matches(filter: &ResourceFilter, resource: &Value, request: &RequestInfo) -> bool {
    description_matches(&filter.resources, resource, request)
        && user_matches(
            &filter.roles,
            &filter.cluster_roles,
            &filter.subjects,
            &request.user,
        )
}

fn description_matches(d: &ResourceDescription, resource: &Value, request: &RequestInfo) -> bool {
    // Kinds first: most rules are about other kinds, and the check is the cheapest.
    let kind = str_at(resource, "/kind");
    if !(d.kinds.is_empty() || d.kinds.iter().any(|k| kind_selects(k, kind, resource))) {
        return false;
    }
    let name = str_at(resource, "/metadata/name");
    d.name.as_deref().is_none_or(|n| wildcard(n, name))
        && (d.names.is_empty() || d.names.iter().any(|n| wildcard(n, name)))
        && (d.namespaces.is_empty() || {
            let ns = if kind == "Namespace" {
                name
            } else {
                str_at(resource, "/metadata/namespace")
            };
            d.namespaces.iter().any(|n| wildcard(n, ns))
        })
        && annotations_match(&d.annotations, resource)
        && d.selector
            .as_ref()
            .is_none_or(|s| selector_matches(s, &labels_of(resource)))
        && d.namespace_selector.as_ref().is_none_or(|s| {
            request
                .namespace_labels
                .as_ref()
                .is_some_and(|l| selector_matches(s, l))
        })
        && (d.operations.is_empty()
            || d.operations
                .iter()
                .any(|o| o.eq_ignore_ascii_case(&request.operation)))
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    crate::at(value, pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The resource's `metadata.labels` as strings.
#[must_use]
pub fn labels_of(resource: &Value) -> BTreeMap<String, String> {
    let Some(Value::Object(map)) = crate::at(resource, "/metadata/labels") else {
        return BTreeMap::new();
    };
    map.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect()
}

fn annotations_match(wanted: &BTreeMap<String, String>, resource: &Value) -> bool {
    if wanted.is_empty() {
        return true;
    }
    let Some(Value::Object(have)) = crate::at(resource, "/metadata/annotations") else {
        return false;
    };
    wanted.iter().all(|(wk, wv)| {
        have.iter()
            .any(|(k, v)| wildcard(wk, k) && v.as_str().is_some_and(|v| wildcard(wv, v)))
    })
}

/// `true` when the labels satisfy the selector (wildcards allowed in `matchLabels` values).
#[must_use]
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = selector.match_labels.iter().all(|(k, v)| {
        labels
            .iter()
            .any(|(lk, lv)| wildcard(k, lk) && wildcard(v, lv))
    });
    labels_ok
        && selector.match_expressions.iter().all(|r| {
            let value = labels.get(&r.key);
            match r.operator.as_str() {
                "In" => value.is_some_and(|v| r.values.contains(v)),
                "NotIn" => value.is_none_or(|v| !r.values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        })
}

/// A kind selector split into group, version, kind and subresource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindSelector {
    /// API group (`*` when not given).
    pub group: String,
    /// Version (`*` when not given).
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Subresource (`""` when none).
    pub subresource: String,
}

fn is_kind_segment(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase() || c == '*')
}

/// Parses `Pod`, `v1/Pod`, `apps/v1/Deployment`, `Pod/exec`, `v1/Pod/exec`, `g/v/K/sub`.
#[must_use]
pub fn parse_kind(selector: &str) -> KindSelector {
    let parts: Vec<&str> = selector.split('/').collect();
    let (group, version, kind, sub) = match parts.as_slice() {
        [k] => ("*", "*", *k, ""),
        [a, b] if is_kind_segment(a) && !is_kind_segment(b) => ("*", "*", *a, *b),
        [v, k] => ("*", *v, *k, ""),
        [v, k, s] if is_kind_segment(k) && !is_kind_segment(s) => ("*", *v, *k, *s),
        [g, v, k] => (*g, *v, *k, ""),
        [g, v, k, s, ..] => (*g, *v, *k, *s),
        [] => ("*", "*", "", ""),
    };
    KindSelector {
        group: group.to_owned(),
        version: version.to_owned(),
        kind: kind.to_owned(),
        subresource: sub.to_owned(),
    }
}

/// `true` when a kind selector selects the resource (`apiVersion` and `kind`). Selectors
/// naming a subresource (`Pod/exec`) never select a whole object.
#[must_use]
pub fn kind_matches(selector: &str, resource: &Value) -> bool {
    kind_selects(selector, str_at(resource, "/kind"), resource)
}

/// [`kind_matches`] with the resource's `kind` already read.
fn kind_selects(selector: &str, kind: &str, resource: &Value) -> bool {
    if !selector.contains('/') {
        // A bare kind: any group and version (what `parse_kind` gives, without allocating).
        return wildcard(selector, kind);
    }
    let s = parse_kind(selector);
    if !s.subresource.is_empty() {
        return false;
    }
    let api = str_at(resource, "/apiVersion");
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    wildcard(&s.kind, kind) && wildcard(&s.group, group) && wildcard(&s.version, version)
}

fn user_matches(
    roles: &[String],
    cluster_roles: &[String],
    subjects: &[Subject],
    user: &UserInfo,
) -> bool {
    (roles.is_empty()
        || roles
            .iter()
            .any(|r| user.roles.iter().any(|u| wildcard(r, u))))
        && (cluster_roles.is_empty()
            || cluster_roles
                .iter()
                .any(|r| user.cluster_roles.iter().any(|u| wildcard(r, u))))
        && (subjects.is_empty() || subjects.iter().any(|s| subject_matches(s, user)))
}

fn subject_matches(subject: &Subject, user: &UserInfo) -> bool {
    match subject.kind.as_str() {
        "ServiceAccount" => {
            let ns = subject.namespace.as_deref().unwrap_or("*");
            let want = format!("system:serviceaccount:{ns}:{}", subject.name);
            wildcard(&want, &user.username)
        }
        "Group" => user.groups.iter().any(|g| wildcard(&subject.name, g)),
        _ => wildcard(&subject.name, &user.username),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn block(yaml_json: Value) -> MatchResources {
        serde_json::from_value(yaml_json).unwrap_or_default()
    }

    fn pod() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop",
            "labels": {"app": "web", "tier": "front"}, "annotations": {"team": "a"}}})
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("web-*", "web-1"));
        assert!(wildcard("w?b-1", "web-1"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("web", "web-1"));
        assert!(wildcard("*-1", "web-1"));
        assert!(!wildcard("a*b", "acbd"));
        assert!(wildcard("*", "anything"));
        assert!(wildcard("Pod", "Pod"));
        assert!(!wildcard("Pod", "Pods"));
    }

    #[test]
    fn kinds_with_group_version_and_subresource() {
        let p = pod();
        assert!(kind_matches("Pod", &p));
        assert!(kind_matches("P*", &p));
        assert!(!kind_matches("Deployment", &p));
        assert!(kind_matches("v1/Pod", &p));
        assert!(!kind_matches("apps/v1/Pod", &p));
        assert!(!kind_matches("Pod/exec", &p));
        assert!(kind_matches("*", &p));
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment"});
        assert!(kind_matches("apps/v1/Deployment", &d));
        assert!(kind_matches("apps/*/Deployment", &d));
        assert!(!kind_matches("Pod", &d));
        assert_eq!(parse_kind("v1/Pod/exec").subresource, "exec");
        assert_eq!(parse_kind("batch/*/CronJob").group, "batch");
    }

    #[test]
    fn any_all_and_legacy_forms() {
        let info = RequestInfo::default();
        let any = block(
            json!({"any": [{"resources": {"kinds": ["Service"]}}, {"resources": {"kinds": ["Pod"], "names": ["web-*"]}}]}),
        );
        assert!(matches(&any, &pod(), &info));
        let all = block(
            json!({"all": [{"resources": {"kinds": ["Pod"]}}, {"resources": {"namespaces": ["prod"]}}]}),
        );
        assert!(!matches(&all, &pod(), &info));
        let legacy = block(json!({"resources": {"kinds": ["Pod"], "namespaces": ["sh*"]}}));
        assert!(matches(&legacy, &pod(), &info));
    }

    #[test]
    fn selectors_annotations_and_operations() {
        let info = RequestInfo::default();
        let sel = block(
            json!({"any": [{"resources": {"kinds": ["Pod"], "selector": {"matchLabels": {"app": "w*"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}, {"key": "x", "operator": "DoesNotExist"}]}}}]}),
        );
        assert!(matches(&sel, &pod(), &info));
        let ann = block(json!({"any": [{"resources": {"annotations": {"team": "b"}}}]}));
        assert!(!matches(&ann, &pod(), &info));
        let ops =
            block(json!({"any": [{"resources": {"kinds": ["Pod"], "operations": ["UPDATE"]}}]}));
        assert!(!matches(&ops, &pod(), &info));
        let update = RequestInfo {
            operation: "UPDATE".to_owned(),
            ..RequestInfo::default()
        };
        assert!(matches(&ops, &pod(), &update));
    }

    #[test]
    fn namespace_selector_needs_known_labels() {
        let b = block(
            json!({"any": [{"resources": {"kinds": ["Pod"], "namespaceSelector": {"matchLabels": {"env": "prod"}}}}]}),
        );
        assert!(!matches(&b, &pod(), &RequestInfo::default()));
        let info = RequestInfo {
            namespace_labels: Some(BTreeMap::from([("env".to_owned(), "prod".to_owned())])),
            ..RequestInfo::default()
        };
        assert!(matches(&b, &pod(), &info));
    }

    #[test]
    fn exclude_by_cluster_role_and_subject() {
        let m = block(json!({"any": [{"resources": {"kinds": ["Pod"]}}]}));
        let e = block(json!({"any": [{"clusterRoles": ["cluster-admin"]}]}));
        let nobody = RequestInfo::default();
        assert!(applies(&m, Some(&e), &pod(), &nobody));
        let admin = RequestInfo {
            user: UserInfo {
                cluster_roles: vec!["cluster-admin".to_owned()],
                ..UserInfo::default()
            },
            ..RequestInfo::default()
        };
        assert!(!applies(&m, Some(&e), &pod(), &admin));
        let sa = block(
            json!({"any": [{"subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "tools"}]}]}),
        );
        let ci = RequestInfo {
            user: UserInfo {
                username: "system:serviceaccount:tools:ci".to_owned(),
                ..UserInfo::default()
            },
            ..RequestInfo::default()
        };
        assert!(!applies(&m, Some(&sa), &pod(), &ci));
        assert!(applies(&m, Some(&sa), &pod(), &nobody));
    }
}
