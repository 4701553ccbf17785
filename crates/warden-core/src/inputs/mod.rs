//! Reading inputs: bytes from files, folders or stdin → a [`ChangeSet`].
//!
//! Every error names the input and, for syntax errors, the line and column; nothing here
//! panics on bad bytes (the fuzz target `parse_terraform_plan` holds us to that).

mod error;
pub mod kubernetes;
pub mod terraform;
pub mod yaml;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use error::InputError;

use crate::changeset::ChangeSet;

/// Default limit on the size of one input: 2 GiB.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 2 << 30;

/// One input to evaluate, read into memory.
#[derive(Debug)]
pub struct InputBytes {
    /// The path as the user gave it (`-` for standard input).
    pub name: String,
    /// The raw bytes.
    pub bytes: Vec<u8>,
}

/// Expands the paths a user gave into input files: files as they are, folders searched
/// recursively for `*.json`, `*.yaml` and `*.yml` (sorted, hidden entries skipped), `-` for
/// standard input.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(path.clone());
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| InputError::io(path, &e))?;
        if meta.is_dir() {
            let before = out.len();
            walk(path, &mut out)?;
            if out.len() == before {
                return Err(InputError::NoInputs {
                    path: path.display().to_string(),
                });
            }
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// The entries of a folder, sorted, hidden ones (`.git`, `.terraform`) left out: the order and
/// the skip every folder walk of Warden's uses.
///
/// # Errors
/// The folder cannot be read.
pub fn visible_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    Ok(entries)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let entries = visible_entries(dir).map_err(|e| InputError::io(dir, &e))?;
    for entry in entries {
        if entry.is_dir() {
            walk(&entry, out)?;
        } else if entry.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            ["json", "yaml", "yml"]
                .iter()
                .any(|x| e.eq_ignore_ascii_case(x))
        }) {
            out.push(entry);
        }
    }
    Ok(())
}

/// Reads one input (a file, or `-` for standard input), refusing more than `max_bytes`.
pub fn read(path: &Path, max_bytes: u64) -> Result<InputBytes, InputError> {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| InputError::io(path, &e))?;
    } else {
        let file = std::fs::File::open(path).map_err(|e| InputError::io(path, &e))?;
        let meta = file.metadata().map_err(|e| InputError::io(path, &e))?;
        if meta.is_dir() {
            return Err(InputError::NoInputs { path: name });
        }
        if meta.len() > max_bytes {
            return Err(InputError::TooLarge {
                path: name,
                size: meta.len(),
                limit: max_bytes,
            });
        }
        bytes.reserve(usize::try_from(meta.len()).unwrap_or(0));
        file.take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| InputError::io(path, &e))?;
    }
    if bytes.len() as u64 > max_bytes {
        return Err(InputError::TooLarge {
            path: name,
            size: bytes.len() as u64,
            limit: max_bytes,
        });
    }
    Ok(InputBytes { name, bytes })
}

/// Parses an input into a change set, detecting what kind of document it is: a JSON object
/// is a Terraform plan or a Kubernetes object (told apart by their members); anything else is
/// a YAML stream of Kubernetes manifests.
pub fn parse(input: &InputBytes) -> Result<ChangeSet, InputError> {
    let text = decode_text(&input.name, &input.bytes)?;
    let first = text.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let yaml_name = [".yaml", ".yml"]
        .iter()
        .any(|e| input.name.to_ascii_lowercase().ends_with(e));
    match first {
        Some(b'{') if !yaml_name => match terraform::parse_json(&input.name, &input.bytes)? {
            Some(plan) => Ok(plan),
            None => kubernetes::parse_manifests(&input.name, &input.bytes),
        },
        Some(b'[') if !yaml_name => terraform::parse_plan(&input.name, &input.bytes),
        None => Err(InputError::Empty {
            path: input.name.clone(),
        }),
        _ => kubernetes::parse_manifests(&input.name, &input.bytes),
    }
}

/// Decodes input bytes to UTF-8 text: strips a UTF-8 byte order mark and transcodes UTF-16
/// (with a byte order mark), as Windows' `terraform show -json > plan.json` writes it.
pub fn decode_text<'a>(
    name: &str,
    bytes: &'a [u8],
) -> Result<std::borrow::Cow<'a, [u8]>, InputError> {
    use std::borrow::Cow;
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => Ok(Cow::Borrowed(rest)),
        [0xFF, 0xFE, rest @ ..] => utf16(name, rest, u16::from_le_bytes).map(Cow::Owned),
        [0xFE, 0xFF, rest @ ..] => utf16(name, rest, u16::from_be_bytes).map(Cow::Owned),
        _ => Ok(Cow::Borrowed(bytes)),
    }
}

fn utf16(name: &str, bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<Vec<u8>, InputError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(InputError::Encoding {
            path: name.to_owned(),
            message: " UTF-16 input has an odd number of bytes".into(),
        });
    }
    let units = bytes.chunks_exact(2).map(|c| {
        unit([
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ])
    });
    let mut out = String::with_capacity(bytes.len() / 2);
    for (i, c) in char::decode_utf16(units).enumerate() {
        match c {
            Ok(c) => out.push(c),
            Err(_) => {
                return Err(InputError::Encoding {
                    path: name.to_owned(),
                    message: format!(" invalid UTF-16 at byte {}", 2 + i * 2),
                })
            }
        }
    }
    Ok(out.into_bytes())
}

/// The 1-based line of byte `offset` in `text`.
#[must_use]
pub fn line_of_offset(text: &[u8], offset: usize) -> u32 {
    let end = offset.min(text.len());
    let newlines = text
        .get(..end)
        .map_or(0, |t| t.iter().filter(|&&b| b == b'\n').count());
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}
