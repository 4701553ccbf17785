//! OPA bundles: a folder or a `.tar.gz` with a `.manifest` (`revision`, `roots`), `data.json`
//! / `data.yaml` files placed at their folder's path, and `.rego` policies. Every data path
//! and package must lie under one of the manifest's roots, as OPA requires.

use std::io::Read as _;
use std::path::Path;

use crate::data::{Bundle, DataSet};
use crate::error::{Place, RegoError};

/// Refuse archive members larger than this (a bundle is policy and data, not a disk image).
const MAX_MEMBER_BYTES: u64 = 256 << 20;

/// `true` for `*.tar.gz` / `*.tgz`.
#[must_use]
pub fn is_archive(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

fn error(file: &str, message: impl Into<String>) -> RegoError {
    RegoError::Data {
        place: Place {
            file: file.to_owned(),
            ..Place::default()
        },
        message: message.into(),
    }
}

/// The members of a bundle: (path relative to the bundle root with `/`, bytes).
type Members = Vec<(String, Vec<u8>)>;

/// Reads a bundle folder.
pub fn read_dir(set: &mut DataSet, dir: &Path) -> Result<(), RegoError> {
    let mut members = Members::new();
    collect(dir, dir, &mut members)?;
    add(set, &dir.display().to_string(), members)
}

fn collect(root: &Path, dir: &Path, out: &mut Members) -> Result<(), RegoError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| error(&dir.display().to_string(), e.to_string()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(root, &entry, out)?;
            continue;
        }
        let rel = entry
            .strip_prefix(root)
            .map(|r| r.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if rel == ".manifest" || rel.ends_with(".rego") || is_data_member(&rel) {
            let bytes = std::fs::read(&entry)
                .map_err(|e| error(&entry.display().to_string(), e.to_string()))?;
            out.push((rel, bytes));
        }
    }
    Ok(())
}

/// Reads a `.tar.gz` bundle.
pub fn read_archive(set: &mut DataSet, path: &Path) -> Result<(), RegoError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| error(&name, e.to_string()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut members = Members::new();
    let entries = archive
        .entries()
        .map_err(|e| error(&name, format!("not a .tar.gz bundle: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| error(&name, format!("not a .tar.gz bundle: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .map_err(|e| error(&name, e.to_string()))?;
        let rel = rel
            .trim_start_matches("./")
            .trim_start_matches('/')
            .to_owned();
        if entry.header().size().unwrap_or(0) > MAX_MEMBER_BYTES {
            return Err(error(&name, format!("{rel}: member larger than 256 MiB")));
        }
        if rel == ".manifest" || rel.ends_with(".rego") || is_data_member(&rel) {
            let mut bytes = Vec::new();
            entry
                .by_ref()
                .take(MAX_MEMBER_BYTES)
                .read_to_end(&mut bytes)
                .map_err(|e| error(&name, format!("{rel}: {e}")))?;
            members.push((rel, bytes));
        }
    }
    members.sort_by(|a, b| a.0.cmp(&b.0));
    add(set, &name, members)
}

fn is_data_member(rel: &str) -> bool {
    let file = rel.rsplit('/').next().unwrap_or(rel);
    matches!(file, "data.json" | "data.yaml" | "data.yml")
}

fn add(set: &mut DataSet, name: &str, members: Members) -> Result<(), RegoError> {
    let manifest = members
        .iter()
        .find(|(rel, _)| rel == ".manifest")
        .map(|(_, bytes)| crate::data::parse(&format!("{name}/.manifest"), bytes))
        .transpose()?
        .unwrap_or_default();
    let revision = manifest
        .get("revision")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    let roots: Vec<String> = manifest
        .get("roots")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str())
                .map(|r| r.trim_matches('/').to_owned())
                .collect()
        })
        .unwrap_or_default();
    let under_roots = |path: &str| {
        roots.is_empty()
            || roots.iter().any(|root| {
                root.is_empty()
                    || path == root
                    || path
                        .strip_prefix(root.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
    };
    for (rel, bytes) in members {
        if rel == ".manifest" {
            continue;
        }
        let member = format!("{name}/{rel}");
        if rel.ends_with(".rego") {
            let source =
                String::from_utf8(bytes).map_err(|_| error(&member, "policy is not UTF-8"))?;
            let package = crate::source::scan(&source)
                .package
                .unwrap_or_default()
                .replace('.', "/");
            if !under_roots(&package) {
                return Err(error(
                    &member,
                    format!(
                        "package {} is outside the bundle's roots ({})",
                        package.replace('/', "."),
                        roots.join(", ")
                    ),
                ));
            }
            set.files.push((
                member.clone(),
                warden_core::digest::sha256(source.as_bytes()),
            ));
            set.policies.push((member, source));
        } else {
            let prefix: Vec<String> = rel
                .rsplit_once('/')
                .map(|(dir, _)| dir.split('/').map(str::to_owned).collect())
                .unwrap_or_default();
            let joined = prefix.join("/");
            if !under_roots(&joined) && !roots.iter().any(|r| r.starts_with(&joined)) {
                return Err(error(
                    &member,
                    format!(
                        "data path {joined} is outside the bundle's roots ({})",
                        roots.join(", ")
                    ),
                ));
            }
            set.add_bytes(&member, &bytes, &prefix)?;
        }
    }
    set.bundles.push(Bundle {
        path: name.to_owned(),
        revision,
        roots,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_bundle(dir: &Path) {
        std::fs::create_dir_all(dir.join("params/aws")).unwrap();
        std::fs::write(
            dir.join(".manifest"),
            r#"{"revision": "r42", "roots": ["params", "main"]}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("params/aws/data.json"),
            r#"{"regions": ["eu-west-1"]}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("policy.rego"),
            "package main\ndeny[m] { m := \"x\" }\n",
        )
        .unwrap();
    }

    #[test]
    fn folder_and_archive_bundles() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bundle");
        write_bundle(&dir);
        let mut set = DataSet::default();
        assert!(set.add_paths(std::slice::from_ref(&dir)).is_empty());
        assert_eq!(set.bundles[0].revision, "r42");
        assert_eq!(
            serde_json::Value::Object(set.tree.clone()),
            serde_json::json!({"params": {"aws": {"regions": ["eu-west-1"]}}})
        );
        assert_eq!(set.policies.len(), 1);

        // The same bundle as a .tar.gz.
        let archive = tmp.path().join("bundle.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&archive).unwrap(),
            flate2::Compression::default(),
        );
        let mut tar = tar::Builder::new(gz);
        tar.append_dir_all(".", &dir).unwrap();
        tar.into_inner().unwrap().finish().unwrap();
        let mut from_archive = DataSet::default();
        assert!(from_archive.add_paths(&[archive]).is_empty());
        assert_eq!(from_archive.tree, set.tree);
        assert_eq!(from_archive.bundles[0].revision, "r42");

        // A package outside the roots is refused.
        std::fs::write(dir.join("other.rego"), "package other\n").unwrap();
        let errors = DataSet::default().add_paths(&[dir]);
        assert!(
            errors[0].to_string().contains("outside the bundle's roots"),
            "{}",
            errors[0]
        );
    }
}
