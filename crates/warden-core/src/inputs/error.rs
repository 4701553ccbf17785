//! Input errors: one line each, naming the input and the place in it.

use std::path::Path;

/// Why an input could not be read or understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The path could not be read.
    #[error("{path}: cannot read: {message}")]
    Io {
        /// The input.
        path: String,
        /// The OS error.
        message: String,
    },
    /// A folder held no input files.
    #[error("{path}: no input files found (looked for *.json, *.yaml, *.yml)")]
    NoInputs {
        /// The folder.
        path: String,
    },
    /// The input is empty.
    #[error("{path}: the input is empty; expected the JSON of `terraform show -json PLANFILE` or Kubernetes manifests")]
    Empty {
        /// The input.
        path: String,
    },
    /// The input is larger than the limit.
    #[error("{path}: input is {size} bytes, over the limit of {limit} bytes (raise it with --max-input-size)")]
    TooLarge {
        /// The input.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The bytes are not valid text.
    #[error("{path}:{message}")]
    Encoding {
        /// The input.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The text is not valid JSON.
    #[error("{path}:{line}:{column}: invalid JSON: {message}")]
    Syntax {
        /// The input.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// Valid JSON or YAML of the wrong shape (a field of the wrong type, an unknown action, a
    /// manifest without `kind`).
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The input.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Valid JSON that is not a document Warden evaluates.
    #[error("{path}: not a Terraform plan: {reason}")]
    NotAPlan {
        /// The input.
        path: String,
        /// What it looks like instead.
        reason: String,
    },
}

impl InputError {
    pub(crate) fn io(path: &Path, err: &std::io::Error) -> InputError {
        let message = match err.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => err.to_string(),
        };
        InputError::Io {
            path: path.display().to_string(),
            message,
        }
    }

    /// The input the error is about.
    #[must_use]
    pub fn path(&self) -> &str {
        match self {
            InputError::Io { path, .. }
            | InputError::NoInputs { path }
            | InputError::Empty { path }
            | InputError::TooLarge { path, .. }
            | InputError::Encoding { path, .. }
            | InputError::Syntax { path, .. }
            | InputError::Invalid { path, .. }
            | InputError::NotAPlan { path, .. } => path,
        }
    }
}
