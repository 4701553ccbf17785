//! Kubernetes manifests (YAML streams or JSON; `helm template` and `kustomize build` output
//! included) → [`ChangeSet`]. `List` kinds are expanded; custom resources pass through as
//! generic resources. Each resource keeps its file and line.
//!
//! Address: `apiVersion/Kind/namespace/name` (`apps/v1/Deployment/shop/web`); a resource
//! without a namespace (cluster-scoped, or left to the apply-time default) drops that segment
//! (`rbac.authorization.k8s.io/v1/ClusterRole/admin`).

use super::{decode_text, yaml, InputError};
use crate::changeset::{ChangeSet, Context, InputInfo, InputKind};
use crate::digest;
use crate::resource::{Action, Location, Mode, Resource};
use crate::value::Value;

/// The provider name of Kubernetes resources.
pub const PROVIDER: &str = "kubernetes";

/// Parses manifests: JSON when the text starts with `{`, YAML otherwise.
pub fn parse_manifests(name: &str, bytes: &[u8]) -> Result<ChangeSet, InputError> {
    let decoded = decode_text(name, bytes)?;
    let text = std::str::from_utf8(&decoded).map_err(|e| InputError::Encoding {
        path: name.to_owned(),
        message: format!(
            " invalid UTF-8 at byte {}; manifests must be UTF-8",
            e.valid_up_to()
        ),
    })?;
    // The digest of a large stream is computed beside the parse rather than after it.
    let (documents, digest) = std::thread::scope(|scope| {
        let digest = (bytes.len() >= 1 << 20).then(|| scope.spawn(|| digest::sha256(bytes)));
        let documents = parse_documents(name, text);
        let digest = digest
            .and_then(|d| d.join().ok())
            .unwrap_or_else(|| digest::sha256(bytes));
        (documents, digest)
    });
    let documents = documents?;
    let mut resources = Vec::new();
    for document in documents {
        if document.value.is_null() {
            continue;
        }
        collect(name, document, &mut resources)?;
    }
    if resources.is_empty() {
        return Err(InputError::NotAPlan {
            path: name.to_owned(),
            reason: "no Kubernetes objects in it (every document is empty)".to_owned(),
        });
    }
    Ok(ChangeSet {
        resources,
        context: Context::default(),
        input: InputInfo {
            path: name.to_owned(),
            kind: InputKind::KubernetesManifests,
            digest,
            format_version: None,
            tool_version: None,
        },
        terraform: None,
    })
}

/// The documents of a stream: one JSON object, or YAML documents.
fn parse_documents(name: &str, text: &str) -> Result<Vec<yaml::Document>, InputError> {
    Ok(if text.trim_start().starts_with('{') {
        let value: Value = serde_json::from_str(text).map_err(|e| InputError::Syntax {
            path: name.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .rsplit_once(" at line ")
                .map_or(e.to_string(), |(m, _)| m.to_owned()),
        })?;
        vec![yaml::Document {
            value,
            line: 1,
            item_lines: Vec::new(),
        }]
    } else {
        yaml::load(name, text)?
    })
}

fn collect(
    name: &str,
    document: yaml::Document,
    out: &mut Vec<Resource>,
) -> Result<(), InputError> {
    let is_list = object_kind(name, &document.value, document.line)?.ends_with("List")
        && document
            .value
            .get("items")
            .and_then(Value::as_array)
            .is_some();
    if !is_list {
        out.push(owned_resource(
            name,
            document.value,
            document.line,
            String::new(),
        ));
        return Ok(());
    }
    // Move the items out of the List instead of copying them.
    let items = match document.value {
        Value::Object(pairs) => pairs
            .into_vec()
            .into_iter()
            .rev()
            .find(|(k, _)| k == "items")
            .map(|(_, v)| v),
        _ => None,
    };
    let items = match items {
        Some(Value::Array(items)) => items.into_vec(),
        _ => Vec::new(),
    };
    for (i, item) in items.into_iter().enumerate() {
        let line = document.item_lines.get(i).copied().unwrap_or(document.line);
        object_kind(name, &item, line)?;
        out.push(owned_resource(name, item, line, format!("/items/{i}")));
    }
    Ok(())
}

/// The `kind` of a document that must be a Kubernetes object.
fn object_kind<'a>(name: &str, object: &'a Value, line: u32) -> Result<&'a str, InputError> {
    let not_object = |what: &str| InputError::Invalid {
        path: name.to_owned(),
        line: line as usize,
        column: 1,
        message: format!("not a Kubernetes object: {what}"),
    };
    if object.as_object().is_none() {
        return Err(not_object(&format!(
            "the document is not a mapping (it is {})",
            object.type_name()
        )));
    }
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty());
    let api = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty());
    match (api, kind) {
        (Some(_), Some(kind)) => Ok(kind),
        (None, _) => Err(not_object("no `apiVersion`")),
        (_, None) => Err(not_object("no `kind`")),
    }
}

/// `apiVersion/Kind/namespace/name` of an object.
#[must_use]
pub fn address(object: &Value) -> String {
    let api = object.field("apiVersion").as_str().unwrap_or_default();
    let kind = object.field("kind").as_str().unwrap_or_default();
    let metadata = object.field("metadata");
    let name = metadata
        .field("name")
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            metadata
                .field("generateName")
                .as_str()
                .map(|g| format!("{g}*"))
        })
        .unwrap_or_else(|| "(unnamed)".to_owned());
    match metadata
        .field("namespace")
        .as_str()
        .filter(|n| !n.is_empty())
    {
        Some(ns) => format!("{api}/{kind}/{ns}/{name}"),
        None => format!("{api}/{kind}/{name}"),
    }
}

/// The resource of a Kubernetes object found in `file` at `line` (`pointer` inside a `List`).
#[must_use]
pub fn resource(file: &str, object: &Value, line: u32, pointer: String) -> Resource {
    owned_resource(file, object.clone(), line, pointer)
}

/// [`resource`] taking the object by value (no copy).
fn owned_resource(file: &str, object: Value, line: u32, pointer: String) -> Resource {
    let kind = object.field("kind").as_str().unwrap_or_default().to_owned();
    let mut r = Resource::new(address(&object), kind, Action::Create);
    r.name = object
        .field("metadata")
        .field("name")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    r.provider = PROVIDER.to_owned();
    r.provider_source = PROVIDER.to_owned();
    r.mode = Mode::Managed;
    r.after = object;
    r.source = Location {
        file: Some(file.to_owned()),
        line: Some(line),
        pointer: Some(pointer),
    };
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_streams_lists_and_addresses() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec: {}\n---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n  - apiVersion: rbac.authorization.k8s.io/v1\n    kind: ClusterRole\n    metadata: {name: admin}\n---\n# empty\n";
        let cs = parse_manifests("k.yaml", text.as_bytes()).unwrap();
        let addresses: Vec<(&str, Option<u32>)> = cs
            .resources
            .iter()
            .map(|r| (r.address.as_str(), r.source.line))
            .collect();
        assert_eq!(
            addresses,
            [
                ("apps/v1/Deployment/shop/web", Some(1)),
                ("v1/Service/web", Some(11)),
                ("rbac.authorization.k8s.io/v1/ClusterRole/admin", Some(14)),
            ]
        );
        assert_eq!(cs.resources[1].source.pointer.as_deref(), Some("/items/0"));
        assert_eq!(cs.resources[0].kind, "Deployment");
        assert_eq!(cs.input.kind, InputKind::KubernetesManifests);
    }

    #[test]
    fn json_manifests() {
        let cs = parse_manifests(
            "p.json",
            br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"x"}}"#,
        )
        .unwrap();
        assert_eq!(cs.resources[0].address, "v1/Pod/x/a");
    }

    #[test]
    fn documents_that_are_not_objects_are_errors() {
        let err = parse_manifests("k.yaml", b"apiVersion: v1\nkind: Pod\n---\nname: x\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("k.yaml:4:") && err.contains("no `apiVersion`"),
            "{err}"
        );
        let err = parse_manifests("k.yaml", b"- a\n- b\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a mapping (it is array)"), "{err}");
        assert!(parse_manifests("k.yaml", b"---\n---\n").is_err());
    }
}
