//! Applying RFC 6902 fixes, so tests (and tools) can check that a fix does what it says.

use crate::finding::PatchOp;
use crate::value::{unescape_pointer_token, Value};

/// Why a patch did not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot apply `{op}` at `{path}`: {reason}")]
pub struct PatchError {
    op: &'static str,
    path: String,
    reason: &'static str,
}

/// Applies the operations in order and returns the patched value.
///
/// `add` creates missing parent objects, so a fix can set `/metadata_options/0/http_tokens` on a
/// resource that has no `metadata_options` block yet (Terraform's plan shows an absent block as
/// `[]`); that is a deliberate, documented extension of RFC 6902.
pub fn apply(target: &Value, ops: &[PatchOp]) -> Result<Value, PatchError> {
    let mut doc = target.to_json();
    for op in ops {
        apply_one(&mut doc, op)?;
    }
    Ok(Value::from_json(&doc))
}

fn apply_one(doc: &mut serde_json::Value, op: &PatchOp) -> Result<(), PatchError> {
    let (name, path) = match op {
        PatchOp::Add { path, .. } => ("add", path),
        PatchOp::Remove { path } => ("remove", path),
        PatchOp::Replace { path, .. } => ("replace", path),
    };
    let err = |reason| PatchError {
        op: name,
        path: path.clone(),
        reason,
    };
    let tokens: Vec<String> = match path.strip_prefix('/') {
        Some(rest) => rest.split('/').map(unescape_pointer_token).collect(),
        None if path.is_empty() => Vec::new(),
        None => return Err(err("a JSON Pointer starts with `/`")),
    };
    let Some((last, parents)) = tokens.split_last() else {
        return match op {
            PatchOp::Add { value, .. } | PatchOp::Replace { value, .. } => {
                *doc = value.to_json();
                Ok(())
            }
            PatchOp::Remove { .. } => Err(err("cannot remove the whole document")),
        };
    };
    let creating = matches!(op, PatchOp::Add { .. });
    let mut current = doc;
    for token in parents {
        if current.is_null() && creating {
            *current = if token.parse::<usize>().is_ok() {
                serde_json::Value::Array(Vec::new())
            } else {
                serde_json::Value::Object(serde_json::Map::new())
            };
        }
        current = match current {
            serde_json::Value::Object(map) => {
                if creating && !map.contains_key(token) {
                    map.insert(token.clone(), serde_json::Value::Null);
                }
                map.get_mut(token)
                    .ok_or_else(|| err("path does not exist"))?
            }
            serde_json::Value::Array(items) => {
                let index: usize = token
                    .parse()
                    .map_err(|_| err("array index is not a number"))?;
                if creating && index == items.len() {
                    items.push(serde_json::Value::Null);
                }
                items
                    .get_mut(index)
                    .ok_or_else(|| err("array index out of range"))?
            }
            _ => return Err(err("parent is not an object or array")),
        };
    }
    if current.is_null() && creating {
        *current = if last.parse::<usize>().is_ok() || last == "-" {
            serde_json::Value::Array(Vec::new())
        } else {
            serde_json::Value::Object(serde_json::Map::new())
        };
    }
    match (current, op) {
        (serde_json::Value::Object(map), PatchOp::Add { value, .. }) => {
            map.insert(last.clone(), value.to_json());
        }
        (serde_json::Value::Object(map), PatchOp::Replace { value, .. }) => {
            let slot = map
                .get_mut(last)
                .ok_or_else(|| err("path does not exist"))?;
            *slot = value.to_json();
        }
        (serde_json::Value::Object(map), PatchOp::Remove { .. }) => {
            map.remove(last).ok_or_else(|| err("path does not exist"))?;
        }
        (serde_json::Value::Array(items), PatchOp::Add { value, .. }) => {
            let index = if last == "-" {
                items.len()
            } else {
                last.parse().map_err(|_| err("bad array index"))?
            };
            if index > items.len() {
                return Err(err("array index out of range"));
            }
            items.insert(index, value.to_json());
        }
        (serde_json::Value::Array(items), PatchOp::Replace { value, .. }) => {
            let index: usize = last.parse().map_err(|_| err("bad array index"))?;
            let slot = items
                .get_mut(index)
                .ok_or_else(|| err("array index out of range"))?;
            *slot = value.to_json();
        }
        (serde_json::Value::Array(items), PatchOp::Remove { .. }) => {
            let index: usize = last.parse().map_err(|_| err("bad array index"))?;
            if index >= items.len() {
                return Err(err("array index out of range"));
            }
            items.remove(index);
        }
        _ => return Err(err("parent is not an object or array")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn add_replace_remove() {
        let doc = v(r#"{"a":1,"b":[1,2],"c":{"d":true}}"#);
        let out = apply(
            &doc,
            &[
                PatchOp::Add {
                    path: "/x".into(),
                    value: Value::from("y"),
                },
                PatchOp::Replace {
                    path: "/a".into(),
                    value: Value::from(2),
                },
                PatchOp::Remove {
                    path: "/b/0".into(),
                },
                PatchOp::Add {
                    path: "/c/d".into(),
                    value: Value::Bool(false),
                },
            ],
        )
        .unwrap();
        assert_eq!(out, v(r#"{"a":2,"b":[2],"c":{"d":false},"x":"y"}"#));
    }

    #[test]
    fn add_creates_missing_blocks() {
        let doc = v(r#"{"metadata_options":[]}"#);
        let out = apply(
            &doc,
            &[PatchOp::Add {
                path: "/metadata_options/0/http_tokens".into(),
                value: "required".into(),
            }],
        )
        .unwrap();
        assert_eq!(
            out,
            v(r#"{"metadata_options":[{"http_tokens":"required"}]}"#)
        );
    }

    #[test]
    fn replace_of_missing_path_fails() {
        assert!(apply(
            &v("{}"),
            &[PatchOp::Replace {
                path: "/a".into(),
                value: Value::Null
            }]
        )
        .is_err());
    }
}
