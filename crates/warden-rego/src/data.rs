//! Data documents: JSON and YAML files, folders of them, and OPA bundles, merged into the
//! one `data` tree policies read.
//!
//! Paths follow OPA's loader: a file given directly lands at the root of `data`; a file
//! found in a folder lands at the path of its sub-folder relative to that folder
//! (`--data params/` with `params/aws/regions.json` → `data.aws`). Objects merge; two files
//! that set the same non-object path are an error naming both. Malformed JSON or YAML is an
//! error with file:line:column.

use std::path::{Path, PathBuf};

use crate::error::{Place, RegoError};

/// Data read so far: a JSON tree, the files it came from, and bundle revisions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataSet {
    /// The merged tree (an object).
    pub tree: serde_json::Map<String, serde_json::Value>,
    /// Every file read, with its `sha256:` digest, in order (for the policy revision).
    pub files: Vec<(String, String)>,
    /// Policy files found in bundles: (name, source).
    pub policies: Vec<(String, String)>,
    /// Bundles read: (path, revision, roots).
    pub bundles: Vec<Bundle>,
}

/// An OPA bundle's manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Bundle {
    /// Where it was read from.
    pub path: String,
    /// `revision` of its `.manifest`.
    pub revision: String,
    /// `roots` of its `.manifest` (empty: the whole tree).
    pub roots: Vec<String>,
}

impl DataSet {
    /// The tree as a regorus value (`Undefined` when empty).
    #[must_use]
    pub fn to_regorus(&self) -> regorus::Value {
        if self.tree.is_empty() {
            return regorus::Value::Undefined;
        }
        regorus::Value::from(serde_json::Value::Object(self.tree.clone()))
    }

    /// Adds data at `prefix` (dotted, empty for the root) from the inline value of a
    /// configuration file.
    pub fn add_value(
        &mut self,
        origin: &str,
        prefix: &[String],
        value: serde_json::Value,
    ) -> Result<(), RegoError> {
        let mut wrapped = value;
        for key in prefix.iter().rev() {
            let mut m = serde_json::Map::new();
            m.insert(key.clone(), wrapped);
            wrapped = serde_json::Value::Object(m);
        }
        let serde_json::Value::Object(map) = wrapped else {
            return Err(RegoError::Data {
                place: Place {
                    file: origin.to_owned(),
                    ..Place::default()
                },
                message: "data at the root must be an object".to_owned(),
            });
        };
        let mut path = Vec::new();
        merge(&mut self.tree, map, origin, &mut path)
    }

    /// Reads files, folders and bundles (`--data`). Errors are collected; what loads is kept.
    pub fn add_paths(&mut self, paths: &[PathBuf]) -> Vec<RegoError> {
        let mut errors = Vec::new();
        for path in paths {
            if let Err(e) = self.add_path(path) {
                errors.push(e);
            }
        }
        errors
    }

    fn add_path(&mut self, path: &Path) -> Result<(), RegoError> {
        let meta = std::fs::metadata(path).map_err(|e| io(path, &e))?;
        if meta.is_dir() {
            if path.join(".manifest").is_file() {
                return crate::bundle::read_dir(self, path);
            }
            let mut files = Vec::new();
            walk(path, path, &mut files)?;
            for (file, prefix) in files {
                self.add_file(&file, &prefix)?;
            }
            Ok(())
        } else if crate::bundle::is_archive(path) {
            crate::bundle::read_archive(self, path)
        } else {
            self.add_file(path, &[])
        }
    }

    /// Reads one JSON or YAML file into the tree at `prefix`.
    pub fn add_file(&mut self, path: &Path, prefix: &[String]) -> Result<(), RegoError> {
        let bytes = std::fs::read(path).map_err(|e| io(path, &e))?;
        self.add_bytes(&path.display().to_string(), &bytes, prefix)
    }

    /// Parses JSON or YAML bytes (by the name's extension; JSON when unknown) into the tree.
    pub fn add_bytes(
        &mut self,
        name: &str,
        bytes: &[u8],
        prefix: &[String],
    ) -> Result<(), RegoError> {
        self.files
            .push((name.to_owned(), warden_core::digest::sha256(bytes)));
        let value = parse(name, bytes)?;
        self.add_value(name, prefix, value)
    }
}

fn io(path: &Path, e: &std::io::Error) -> RegoError {
    RegoError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// `true` for data file names: `*.json`, `*.yaml`, `*.yml`.
#[must_use]
pub fn is_data_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["json", "yaml", "yml"]
            .iter()
            .any(|x| e.eq_ignore_ascii_case(x))
    })
}

/// Data files below `root`, with the key path of their folder relative to it (sorted,
/// hidden entries skipped), as `opa test` and `opa eval --data` place them.
pub fn walk_data(root: &Path, out: &mut Vec<(PathBuf, Vec<String>)>) -> Result<(), RegoError> {
    walk(root, root, out)
}

/// Data files below `dir`, with the key path of their folder relative to `root`.
pub(crate) fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(PathBuf, Vec<String>)>,
) -> Result<(), RegoError> {
    let entries = warden_core::inputs::visible_entries(dir).map_err(|e| io(dir, &e))?;
    for entry in entries {
        if entry.is_dir() {
            walk(root, &entry, out)?;
        } else if is_data_file(&entry) {
            let prefix = entry
                .parent()
                .and_then(|p| p.strip_prefix(root).ok())
                .map(|rel| {
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            out.push((entry, prefix));
        }
    }
    Ok(())
}

/// Parses JSON or YAML text, with file:line:column on errors.
pub fn parse(name: &str, bytes: &[u8]) -> Result<serde_json::Value, RegoError> {
    let lower = name.to_ascii_lowercase();
    let text =
        std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).map_err(|e| {
            RegoError::Data {
                place: Place {
                    file: name.to_owned(),
                    ..Place::default()
                },
                message: format!("not UTF-8 (byte {})", e.valid_up_to()),
            }
        })?;
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        serde_yaml_ng::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map_or((0, 0), |l| (l.line() as u32, l.column() as u32));
            RegoError::Data {
                place: Place {
                    file: name.to_owned(),
                    line,
                    column,
                },
                message: format!("invalid YAML: {}", strip_location(&e.to_string())),
            }
        })
    } else {
        serde_json::from_str(text).map_err(|e| RegoError::Data {
            place: Place {
                file: name.to_owned(),
                line: u32::try_from(e.line()).unwrap_or(0),
                column: u32::try_from(e.column()).unwrap_or(0),
            },
            message: format!("invalid JSON: {}", strip_location(&e.to_string())),
        })
    }
}

/// `expected value at line 1 column 2` → `expected value` (the place is printed already).
fn strip_location(message: &str) -> String {
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned()
}

fn merge(
    into: &mut serde_json::Map<String, serde_json::Value>,
    from: serde_json::Map<String, serde_json::Value>,
    origin: &str,
    path: &mut Vec<String>,
) -> Result<(), RegoError> {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(serde_json::Value::Object(a)), serde_json::Value::Object(b)) => {
                path.push(key);
                merge(a, b, origin, path)?;
                path.pop();
            }
            (Some(_), _) => {
                path.push(key);
                return Err(RegoError::Data {
                    place: Place {
                        file: origin.to_owned(),
                        ..Place::default()
                    },
                    message: format!(
                        "data.{} is already set by another data file; two documents may share a path only when both are objects",
                        path.join(".")
                    ),
                });
            }
            (None, value) => {
                into.insert(key, value);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_merge_at_their_paths_and_errors_are_located() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("aws")).unwrap();
        std::fs::write(dir.path().join("root.json"), r#"{"a": 1}"#).unwrap();
        std::fs::write(
            dir.path().join("aws/regions.yaml"),
            "allowed:\n  - eu-west-1\n",
        )
        .unwrap();
        let mut set = DataSet::default();
        assert!(set.add_paths(&[dir.path().to_path_buf()]).is_empty());
        assert_eq!(
            serde_json::Value::Object(set.tree.clone()),
            serde_json::json!({"a": 1, "aws": {"allowed": ["eu-west-1"]}})
        );
        assert_eq!(set.files.len(), 2);

        std::fs::write(dir.path().join("bad.json"), "{\n  \"a\": ,\n}").unwrap();
        let errors = DataSet::default().add_paths(&[dir.path().join("bad.json")]);
        assert!(
            errors[0].to_string().contains("bad.json:2:8: invalid JSON"),
            "{}",
            errors[0]
        );

        std::fs::write(dir.path().join("bad.yaml"), "a: [1,\n").unwrap();
        let errors = DataSet::default().add_paths(&[dir.path().join("bad.yaml")]);
        assert!(errors[0].to_string().contains("bad.yaml:"), "{}", errors[0]);

        let mut set = DataSet::default();
        let errors = set.add_paths(&[dir.path().join("root.json"), dir.path().join("root.json")]);
        assert!(
            errors[0].to_string().contains("data.a is already set"),
            "{}",
            errors[0]
        );
    }
}
