//! What the binary's integration tests share: run `warden` from the workspace root, read
//! its output; [`server`] runs a real `warden serve`.
#![allow(
    dead_code,
    reason = "each test binary compiles this module and uses part of it"
)]

pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (examples and fixtures are named from there).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `warden ARGS` in the workspace root, without `WARDEN_NOW` and without colour.
pub fn warden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .current_dir(root())
        .env_remove("WARDEN_NOW")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| unreachable!("run warden: {e}"))
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output parsed as JSON (the test fails with both streams shown if it is not).
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| unreachable!("not JSON ({e}): {}{}", stdout(o), stderr(o)))
}
