//! Where text goes: stdout, stderr, or a file written atomically.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;

/// Prints an error line to stderr.
pub fn error(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {message}");
}

/// Prints a note line to stderr.
pub fn note(message: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "note: {message}");
}

/// Writes a report to stdout, or to `path` through a temporary file in the same folder and a
/// rename, so a reader never sees a half-written report.
pub fn emit(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let Some(path) = path else {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        write(&mut out)?;
        out.flush()?;
        return Ok(());
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|file| {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
            write(&mut out)?;
            out.into_inner()
                .map_err(std::io::IntoInnerError::into_error)?
                .sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Writes text to stdout.
pub fn stdout(text: &str) -> anyhow::Result<()> {
    emit(None, |out| out.write_all(text.as_bytes()))
}
