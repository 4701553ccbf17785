//! Rego policies for Warden, on the [`regorus`] interpreter.
//!
//! - [`loader`]: find `.rego` files, detect v0/v1 syntax per file, compile once into a
//!   prepared engine (bad files reported with file:line:column, the others kept);
//! - [`extensions`]: deprecated builtins real suites still use, and the sandbox
//!   (`time.now_ns` is the decision time; no network or environment);
//! - [`test_runner`]: `opa test`-compatible runs of `test_*` rules.

pub mod bundle;
pub mod data;
pub mod engine;
pub mod error;
pub mod extensions;
pub mod input;
pub mod loader;
pub mod source;
pub mod test_runner;

pub use engine::{Namespaces, RegoEngine};
pub use error::{Place, RegoError};
pub use loader::{compile, Compiled, Options, PolicyFile};

/// Runs a regorus call, turning a panic inside regorus into an error: a policy must never
/// take the process down (regorus 0.14 can panic on some programs; see the conformance
/// notes in `tests/rego_conformance.rs`).
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        Err(format!("the Rego interpreter failed internally: {what}"))
    })
}
