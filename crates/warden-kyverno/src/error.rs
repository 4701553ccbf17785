//! Errors: each names the policy (file and place) or the expression that failed.

/// Why a policy could not be loaded or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KyvernoError {
    /// The policy document is not a valid policy.
    #[error("{file}: {message}")]
    Load {
        /// The file (and `:line` when known).
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A variable or JMESPath expression could not be evaluated.
    #[error("variable `{expression}`: {message}")]
    Variable {
        /// The expression.
        expression: String,
        /// What is wrong.
        message: String,
    },
    /// A condition has an unknown operator or operands of the wrong shape.
    #[error("condition: {0}")]
    Condition(String),
    /// A pattern has the wrong shape (an unknown anchor, a bad operator).
    #[error("pattern: {0}")]
    Pattern(String),
}
