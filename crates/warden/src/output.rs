//! Where text goes: stdout, stderr, or a file written atomically.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;

/// Prints an error line to stderr.
pub fn error(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {message}");
}

/// Writes to stdout.
pub fn stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Writes `text` to `path` through a temporary file in the same folder and a rename, so a
/// reader never sees a half-written report.
pub fn file(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("report");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
