//! Errors of the Rego engine: every one names the file and, when known, the line and column.

use std::fmt;

/// Where in a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// The file (`-` when not a file).
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: u32,
    /// 1-based column, 0 when unknown.
    pub column: u32,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        Ok(())
    }
}

/// An error loading or evaluating Rego policies or their data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegoError {
    /// A file or folder could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// What failed.
        message: String,
    },
    /// A policy did not parse or compile (syntax, undefined function, conflicting rules).
    #[error("{place}: {message}")]
    Policy {
        /// Where.
        place: Place,
        /// What is wrong.
        message: String,
    },
    /// A data document (JSON, YAML, bundle) is malformed.
    #[error("{place}: {message}")]
    Data {
        /// Where.
        place: Place,
        /// What is wrong.
        message: String,
    },
    /// Evaluation failed (a builtin error, a conflict at run time, the time limit).
    #[error("{place}: {message}")]
    Eval {
        /// Where (the rule or expression that failed, when regorus says).
        place: Place,
        /// What happened.
        message: String,
    },
}

impl RegoError {
    /// The file the error is about.
    #[must_use]
    pub fn file(&self) -> &str {
        match self {
            RegoError::Io { path, .. } => path,
            RegoError::Policy { place, .. }
            | RegoError::Data { place, .. }
            | RegoError::Eval { place, .. } => &place.file,
        }
    }
}

/// Splits a regorus error (`\n--> file:line:col\n | source\n | ^\nerror: message`, possibly
/// with context lines) into a place and a one-line message. `fallback` names the file when
/// the error carries no position.
#[must_use]
pub fn locate(error: &str, fallback: &str) -> (Place, String) {
    let mut place = Place {
        file: fallback.to_owned(),
        line: 0,
        column: 0,
    };
    let mut messages: Vec<&str> = Vec::new();
    let mut located = false;
    for line in error.lines() {
        let line = line.trim_end();
        if let Some(rest) = line.trim_start().strip_prefix("--> ") {
            // The innermost position wins (the first one printed).
            if !located {
                let mut parts = rest.rsplitn(3, ':');
                let column = parts.next().and_then(|c| c.parse().ok());
                let row = parts.next().and_then(|l| l.parse().ok());
                if let (Some(column), Some(row), Some(file)) = (column, row, parts.next()) {
                    place = Place {
                        file: file.to_owned(),
                        line: row,
                        column,
                    };
                    located = true;
                }
            }
        } else if let Some(m) = line.strip_prefix("error: ") {
            messages.push(m.trim());
        } else if !line.is_empty()
            && !line.trim_start().starts_with('|')
            && !line.split('|').next().is_some_and(|n| {
                let n = n.trim();
                !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())
            })
        {
            messages.push(line.trim());
        }
    }
    let mut message = messages.join(": ");
    if message.is_empty() {
        message = error.trim().replace('\n', " ");
    }
    (place, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regorus_errors_become_one_line() {
        let e = "\n--> p.rego:3:5\n  |\n3 |     x := y\n  |     ^\nerror: var y is unsafe";
        let (place, message) = locate(e, "fallback.rego");
        assert_eq!(place.to_string(), "p.rego:3:5");
        assert_eq!(message, "var y is unsafe");
        let (place, message) = locate("no position here", "f.rego");
        assert_eq!(place.to_string(), "f.rego");
        assert_eq!(message, "no position here");
    }
}
