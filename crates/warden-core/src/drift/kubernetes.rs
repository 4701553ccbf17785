//! Kubernetes drift: desired manifests against live objects (`kubectl get -o json`: one
//! object or a `List`) → a [`Comparison`].
//!
//! **Matching.** By API group, kind, namespace and name. A manifest without a namespace
//! matches a cluster-scoped live object or one in the default namespace (`default`, or what
//! the caller says, as `kubectl apply -n` would place it). The same API version is preferred;
//! another version of the same group still matches, with a note (the server may serve the
//! object in a newer version).
//!
//! **What is compared** — approximately what `kubectl diff` shows under server-side apply:
//! only what the manifest sets. Ignored always: `status`, `metadata.managedFields`,
//! `resourceVersion`, `uid`, `generation`, `creationTimestamp`, `selfLink`,
//! `deletionTimestamp`, `deletionGracePeriodSeconds`, and the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation. Then:
//! - a member the live object has and the manifest does not set is a server default (or
//!   another manager's) and ignored;
//! - a list whose items all carry a unique `name` (containers, env, ports, volumes) is keyed
//!   by it: a live item the manifest does not list is ignored, a listed item that is gone is
//!   removed; other lists are values: compared item by item, extra live items included;
//! - quantities under `limits`, `requests`, `hard`, `storage` and `sizeLimit` compare by
//!   value (`0.5` = `500m`, `1Gi` = `1024Mi`);
//! - a Secret's `stringData` is compared as the base64 `data` the server stores, and its
//!   `data` and `stringData` are masked in the report.
//!
//! A field the manifest does not set still counts when a policy finding on the live object
//! points at it (a `privileged: true` added by `kubectl edit`): the verdict adds it to the
//! diff ([`super::verdict`]). Manifests missing from the cluster are `missing`; live objects
//! not in the manifests are not drift unless asked for (`extra`), and never when they have an
//! owner (`metadata.ownerReferences`: a ReplicaSet's Pods, a Deployment's ReplicaSets).

use std::collections::HashMap;

use super::diff::{diff, DiffOptions};
use super::remediation;
use super::{Comparison, DriftReport, DriftedResource, Source, Status};
use crate::changeset::{ChangeSet, Context, InputInfo, InputKind};
use crate::resource::Resource;
use crate::value::Value;

/// Live objects from `kubectl get -o json` output (one object or a `List`) named `name`; an
/// empty `List` is an empty cluster, not an error.
///
/// # Errors
/// When the bytes are not Kubernetes objects.
pub fn parse_live(name: &str, bytes: &[u8]) -> Result<ChangeSet, crate::inputs::InputError> {
    match crate::inputs::kubernetes::parse_manifests(name, bytes) {
        Err(crate::inputs::InputError::NotAPlan { .. }) => Ok(ChangeSet {
            resources: Vec::new(),
            context: Context::default(),
            input: InputInfo {
                path: name.to_owned(),
                kind: InputKind::KubernetesManifests,
                digest: crate::digest::sha256(bytes),
                format_version: None,
                tool_version: None,
            },
            terraform: None,
        }),
        other => other,
    }
}

/// How to match and what to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Namespace of manifests that set none (`kubectl apply`'s default).
    pub default_namespace: String,
    /// Report live objects the manifests do not describe, as `extra`.
    pub include_extra: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            default_namespace: "default".to_owned(),
            include_extra: false,
        }
    }
}

/// Members of `metadata` the server sets.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The annotation `kubectl apply` (client-side) writes.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Members of a Secret whose values are secret.
const SECRET_MEMBERS: &[&str] = &["data", "stringData"];

/// Compares desired manifests with live objects.
#[must_use]
pub fn compare(desired: &[ChangeSet], live: &[ChangeSet], options: &Options) -> Comparison {
    let inputs: Vec<InputInfo> = desired
        .iter()
        .chain(live)
        .map(|c| c.input.clone())
        .collect();
    let mut report = DriftReport::new(Source::Kubernetes, inputs);
    let live_objects: Vec<&Resource> = live.iter().flat_map(|c| &c.resources).collect();
    let by_name = index(&live_objects);
    let mut used = vec![false; live_objects.len()];
    let mut quiet = Vec::new();
    let mut last_known = Vec::new();
    let mut live_states = Vec::new();

    for d in desired.iter().flat_map(|c| &c.resources) {
        report.summary.compared += 1;
        let found = find_live(&d.after, &live_objects, &by_name, &used, options);
        let Some(i) = found else {
            let mut entry = DriftedResource::new(d, &d.address, Status::Missing, Vec::new());
            entry.remediation = remediation::suggest(Source::Kubernetes, &entry);
            report.drifted.push(entry);
            continue;
        };
        if let Some(slot) = used.get_mut(i) {
            *slot = true;
        }
        let Some(l) = live_objects.get(i) else {
            continue;
        };
        let secret = d.kind == "Secret";
        let wanted = comparable(&d.after, secret);
        let actual = project(&wanted, &strip(&l.after, false), None, 0);
        let options = DiffOptions {
            secret_members: if secret { SECRET_MEMBERS } else { &[] },
        };
        let changes = diff(&wanted, &actual, &Value::Null, &Value::Null, &options);
        let mut e = DriftedResource::new(d, &l.address, Status::Changed, changes);
        let (want_version, live_version) = (
            d.after.field("apiVersion").as_str().unwrap_or_default(),
            l.after.field("apiVersion").as_str().unwrap_or_default(),
        );
        if want_version != live_version {
            e.notes.push(format!(
                "the live object was read as {live_version}; the manifest says {want_version}"
            ));
        }
        e.remediation = remediation::suggest(Source::Kubernetes, &e);
        last_known.push(state(d, &l.address, d.after.clone()));
        live_states.push(state(l, &l.address, strip(&l.after, true)));
        if e.changes.is_empty() {
            quiet.push(e);
        } else {
            report.drifted.push(e);
        }
    }
    if options.include_extra {
        // An object with an owner was made by a controller from another object, not by hand.
        let owned = |l: &Resource| {
            !l.after
                .field("metadata")
                .field("ownerReferences")
                .items()
                .is_empty()
        };
        for (l, _) in live_objects
            .iter()
            .zip(&used)
            .filter(|(l, used)| !**used && !owned(l))
        {
            report.summary.compared += 1;
            let mut e = DriftedResource::new(l, &l.address, Status::Extra, Vec::new());
            e.remediation = remediation::suggest(Source::Kubernetes, &e);
            report.drifted.push(e);
            live_states.push(state(l, &l.address, strip(&l.after, true)));
        }
    }
    report.refresh();
    let names = |sets: &[ChangeSet]| {
        sets.iter()
            .map(|c| c.input.path.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let states = |resources: Vec<Resource>, path: String| ChangeSet {
        resources,
        context: Context::default(),
        input: InputInfo {
            path,
            kind: InputKind::KubernetesManifests,
            digest: String::new(),
            format_version: None,
            tool_version: None,
        },
        terraform: None,
    };
    Comparison {
        report,
        quiet,
        last_known: states(last_known, names(desired)),
        live: states(live_states, names(live)),
    }
}

/// An object as engines see it, under the report's address, as its own document.
fn state(r: &Resource, address: &str, object: Value) -> Resource {
    let mut source = r.source.clone();
    source.pointer = None;
    Resource {
        address: address.to_owned(),
        after: object,
        source,
        ..r.clone()
    }
}

/// `apps` of `apps/v1`; `` of `v1`.
fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Live objects by kind and name, each list in input order.
type LiveIndex<'a> = HashMap<(&'a str, &'a str), Vec<usize>>;

fn index<'a>(live: &[&'a Resource]) -> LiveIndex<'a> {
    let mut out: LiveIndex<'a> = HashMap::new();
    for (i, l) in live.iter().enumerate() {
        let kind = l.after.field("kind").as_str().unwrap_or_default();
        let name = l
            .after
            .field("metadata")
            .field("name")
            .as_str()
            .unwrap_or_default();
        out.entry((kind, name)).or_default().push(i);
    }
    out
}

/// The live object a manifest describes (see the module docs).
fn find_live(
    desired: &Value,
    live: &[&Resource],
    by_name: &LiveIndex<'_>,
    used: &[bool],
    options: &Options,
) -> Option<usize> {
    let api = desired.field("apiVersion").as_str().unwrap_or_default();
    let kind = desired.field("kind").as_str().unwrap_or_default();
    let meta = desired.field("metadata");
    let name = meta.field("name").as_str().unwrap_or_default();
    let namespace = meta.field("namespace").as_str().filter(|n| !n.is_empty());
    let candidates: Vec<usize> = by_name
        .get(&(kind, name))
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .copied()
        .filter(|&i| {
            let Some(l) = live.get(i) else {
                return false;
            };
            let live_ns = l
                .after
                .field("metadata")
                .field("namespace")
                .as_str()
                .filter(|n| !n.is_empty());
            !used.get(i).copied().unwrap_or(true)
                && group(l.after.field("apiVersion").as_str().unwrap_or_default()) == group(api)
                && match namespace {
                    Some(ns) => live_ns == Some(ns),
                    None => {
                        live_ns.is_none() || live_ns == Some(options.default_namespace.as_str())
                    }
                }
        })
        .collect();
    candidates
        .iter()
        .copied()
        .find(|&i| {
            live.get(i)
                .is_some_and(|l| l.after.field("apiVersion").as_str() == Some(api))
        })
        .or_else(|| candidates.first().copied())
}

/// An object without what the server sets; without `apiVersion` and `kind` too unless
/// `keep_type` (they are the match key, compared there).
fn strip(object: &Value, keep_type: bool) -> Value {
    let members = object
        .entries()
        .iter()
        .filter_map(|(k, v)| match k.as_str() {
            "status" => None,
            "apiVersion" | "kind" if !keep_type => None,
            "metadata" => Some((k.clone(), strip_metadata(v))),
            _ => Some((k.clone(), v.clone())),
        });
    Value::Object(members.collect())
}

fn strip_metadata(metadata: &Value) -> Value {
    let Value::Object(pairs) = metadata else {
        return metadata.clone();
    };
    let members = pairs.iter().filter_map(|(k, v)| {
        if SERVER_METADATA.contains(&k.as_str()) {
            return None;
        }
        if k == "annotations" {
            let kept = v
                .entries()
                .iter()
                .filter(|(a, _)| a != LAST_APPLIED)
                .cloned();
            return Some((k.clone(), Value::Object(kept.collect())));
        }
        Some((k.clone(), v.clone()))
    });
    Value::Object(members.collect())
}

/// The desired object as the server would store it: stripped, a Secret's `stringData`
/// folded into `data` as base64.
fn comparable(desired: &Value, secret: bool) -> Value {
    let stripped = strip(desired, false);
    if !secret || stripped.get("stringData").is_none() {
        return stripped;
    }
    let mut data: Vec<(compact_str::CompactString, Value)> =
        stripped.field("data").entries().to_vec();
    for (k, v) in stripped.field("stringData").entries() {
        let text = match v {
            Value::String(s) => s.to_string(),
            other => serde_json::to_string(other).unwrap_or_default(),
        };
        let encoded = Value::string(base64(text.as_bytes()));
        match data.iter_mut().find(|(existing, _)| existing == k) {
            Some(slot) => slot.1 = encoded,
            None => data.push((k.clone(), encoded)),
        }
    }
    let members = stripped
        .entries()
        .iter()
        .filter(|(k, _)| k != "stringData" && k != "data")
        .cloned()
        .chain(std::iter::once((
            compact_str::CompactString::from("data"),
            Value::Object(data.into_boxed_slice()),
        )));
    Value::Object(members.collect())
}

/// Keys whose values are quantities.
const QUANTITY_PARENTS: &[&str] = &["limits", "requests", "hard"];
const QUANTITY_KEYS: &[&str] = &["storage", "sizeLimit"];

/// The live value restricted to what `desired` sets (see the module docs).
fn project(desired: &Value, live: &Value, parent: Option<&str>, depth: usize) -> Value {
    if depth > 64 {
        return live.clone();
    }
    match (desired, live) {
        (Value::Object(d), Value::Object(_)) => Value::Object(
            d.iter()
                .filter_map(|(k, dv)| {
                    let lv = live.get(k)?;
                    let value = if QUANTITY_KEYS.contains(&k.as_str())
                        || parent.is_some_and(|p| QUANTITY_PARENTS.contains(&p))
                    {
                        if same_quantity(dv, lv) {
                            dv.clone()
                        } else {
                            lv.clone()
                        }
                    } else {
                        project(dv, lv, Some(k.as_str()), depth + 1)
                    };
                    Some((k.clone(), value))
                })
                .collect(),
        ),
        (Value::Array(d), Value::Array(l)) => {
            let named = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_owned);
            let desired_names: Option<Vec<String>> = d.iter().map(named).collect();
            if let Some(names) = desired_names.filter(|n| !n.is_empty()) {
                let items = names.iter().zip(d.iter()).filter_map(|(name, dv)| {
                    let lv = l.iter().find(|x| named(x).as_deref() == Some(name))?;
                    Some(project(dv, lv, None, depth + 1))
                });
                return Value::Array(items.collect());
            }
            let items = l.iter().enumerate().map(|(i, lv)| match d.get(i) {
                Some(dv) => project(dv, lv, None, depth + 1),
                None => lv.clone(),
            });
            Value::Array(items.collect())
        }
        _ => live.clone(),
    }
}

/// `true` when both values are the same Kubernetes quantity.
fn same_quantity(a: &Value, b: &Value) -> bool {
    match (quantity(a), quantity(b)) {
        (Some(x), Some(y)) => (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

/// A quantity's value: a number, or a decimal with a suffix (`500m`, `1.5Gi`, `2e3`).
fn quantity(v: &Value) -> Option<f64> {
    let text = match v {
        Value::Number(n) => return Some(n.as_f64()),
        Value::String(s) => s.trim(),
        _ => return None,
    };
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    for (suffix, factor) in SUFFIXES {
        if let Some(number) = text.strip_suffix(suffix) {
            return number.parse::<f64>().ok().map(|n| n * factor);
        }
    }
    text.parse::<f64>().ok()
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].iter().enumerate() {
            if i <= chunk.len() {
                let index = usize::try_from((n >> shift) & 63).unwrap_or(0);
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::ChangeKind;

    fn manifests(name: &str, text: &str) -> ChangeSet {
        crate::inputs::kubernetes::parse_manifests(name, text.as_bytes()).unwrap()
    }

    const DESIRED: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: app
          image: web:1.0
          resources: {limits: {cpu: "0.5", memory: 1Gi}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gone, namespace: shop}
data: {a: "1"}
"#;

    const LIVE: &str = r#"{"apiVersion":"v1","kind":"List","items":[
 {"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"default","uid":"u-1","resourceVersion":"42","generation":3,
              "creationTimestamp":"2024-01-01T00:00:00Z","labels":{"app":"web","pod-template-hash":"x"},
              "managedFields":[{"manager":"kubectl"}],
              "annotations":{"deployment.kubernetes.io/revision":"3","kubectl.kubernetes.io/last-applied-configuration":"{...}"}},
  "spec":{"replicas":5,"progressDeadlineSeconds":600,
          "template":{"metadata":{"creationTimestamp":null},
                      "spec":{"containers":[
                          {"name":"app","image":"web:1.0","imagePullPolicy":"IfNotPresent",
                           "resources":{"limits":{"cpu":"500m","memory":"1024Mi"}},
                           "securityContext":{"privileged":true}},
                          {"name":"istio-proxy","image":"proxy"}],
                        "restartPolicy":"Always"}}},
  "status":{"replicas":5}},
 {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"hand-made","namespace":"default"},"data":{"x":"y"}},
 {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-5d8f-x2","namespace":"default",
  "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d8f"}]}}
]}"#;

    #[test]
    fn only_what_the_manifest_sets_is_compared() {
        let c = compare(
            &[manifests("desired.yaml", DESIRED)],
            &[manifests("live.json", LIVE)],
            &Options::default(),
        );
        let r = &c.report;
        assert_eq!(r.summary.compared, 2);
        let web = r
            .drifted
            .iter()
            .find(|d| d.address == "apps/v1/Deployment/default/web")
            .unwrap();
        let paths: Vec<(&str, ChangeKind)> = web
            .changes
            .iter()
            .map(|c| (c.path.as_str(), c.change))
            .collect();
        // Server fields, defaults, quantities written another way, the injected sidecar and
        // the last-applied annotation are not drift; the scaled replicas are.
        assert_eq!(paths, [("spec.replicas", ChangeKind::Changed)]);
        let gone = r
            .drifted
            .iter()
            .find(|d| d.status == Status::Missing)
            .unwrap();
        assert_eq!(gone.address, "v1/ConfigMap/shop/gone");
        assert!(!r.drifted.iter().any(|d| d.status == Status::Extra));
        // The live state evaluated is the live object without server fields.
        let live = &c.live.resources[0];
        assert_eq!(live.address, "apps/v1/Deployment/default/web");
        assert!(live.after.get("status").is_none());
        assert!(live.after.field("metadata").get("managedFields").is_none());
        assert_eq!(
            live.after
                .path("spec.template.spec.containers.0.securityContext.privileged"),
            Some(&Value::Bool(true))
        );
        assert_eq!(c.last_known.resources[0].address, live.address);
    }

    #[test]
    fn extras_only_when_asked() {
        let c = compare(
            &[manifests("desired.yaml", DESIRED)],
            &[manifests("live.json", LIVE)],
            &Options {
                include_extra: true,
                ..Options::default()
            },
        );
        let extra: Vec<&str> = c
            .report
            .drifted
            .iter()
            .filter(|d| d.status == Status::Extra)
            .map(|d| d.address.as_str())
            .collect();
        assert_eq!(extra, ["v1/ConfigMap/default/hand-made"]);
        assert!(c.report.drifted.iter().any(|d| d
            .remediation
            .revert
            .starts_with("kubectl delete configmap/hand-made -n default")));
    }

    #[test]
    fn removed_items_and_labels_and_secrets() {
        let desired = manifests(
            "d.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x, labels: {team: a}}\nstringData: {password: hunter2}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec:\n  containers:\n    - {name: a, image: a}\n    - {name: b, image: b}\n",
        );
        let live = manifests(
            "l.json",
            r#"{"apiVersion":"v1","kind":"List","items":[
              {"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"x"},"data":{"password":"b3RoZXI="}},
              {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"x"},"spec":{"containers":[{"name":"a","image":"a"}]}}]}"#,
        );
        let c = compare(&[desired], &[live], &Options::default());
        let show = |address: &str| -> Vec<String> {
            c.report
                .drifted
                .iter()
                .find(|d| d.address == address)
                .map(|d| {
                    d.changes
                        .iter()
                        .map(|c| {
                            format!(
                                "{} {} {}",
                                c.change.sign(),
                                c.path,
                                serde_json::to_string(&c.after).unwrap()
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            show("v1/Secret/x/s"),
            ["~ data \"***MASKED***\"", "- metadata.labels null"]
        );
        assert_eq!(show("v1/Pod/x/p"), ["- spec.containers.1 null"]);
        let text = serde_json::to_string(&c.report).unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("b3RoZXI="),
            "{text}"
        );
    }

    #[test]
    fn a_secret_with_the_same_data_is_not_drift() {
        let desired = manifests(
            "d.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: hunter2}\n",
        );
        let live = manifests(
            "l.json",
            r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"default"},"data":{"password":"aHVudGVyMg=="},"type":"Opaque"}"#,
        );
        let c = compare(&[desired], &[live], &Options::default());
        assert!(c.report.drifted.is_empty(), "{:?}", c.report.drifted);
        assert_eq!(c.quiet.len(), 1);
    }

    #[test]
    fn quantities_and_base64() {
        for (a, b) in [
            ("0.5", "500m"),
            ("1Gi", "1024Mi"),
            ("2", "2000m"),
            ("1e3", "1k"),
        ] {
            assert!(same_quantity(&Value::from(a), &Value::from(b)), "{a} {b}");
        }
        assert!(same_quantity(&Value::from(1), &Value::from("1")));
        assert!(!same_quantity(&Value::from("1Gi"), &Value::from("1G")));
        assert_eq!(base64(b"hunter2"), "aHVudGVyMg==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }
}
