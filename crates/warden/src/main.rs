//! The `warden` binary: parses arguments, runs one subcommand, maps the result to an exit code.
//! Only this crate prints, and only this crate uses `anyhow`.

mod args;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

// Parsing a plan allocates millions of small values; mimalloc cuts parse time by about a
// quarter against glibc malloc on the 10k-resource benchmark plan (bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0: allowed (warnings allowed).
    Success,
    /// 1: denied (or failed by `--fail-on`).
    Failure,
    /// 2: usage or input error.
    Error,
    /// 3: requires approval.
    Approval,
    /// 2 from `warden drift`: drift found. `warden drift` follows `terraform plan
    /// -detailed-exitcode` (0 no drift, 2 drift, 1 error) rather than the other commands.
    Drift,
}

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `warden drift` reports every error as 1: its 2 means "drift found".
            let usage_error = if is_drift_command() { 1 } else { 2 };
            let code = if e.use_stderr() { usage_error } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let status = match commands::run(cli) {
        Ok(status) => status,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            output::error(&format!("{e:#}"));
            Status::Error
        }
    };
    ExitCode::from(match status {
        Status::Success => 0,
        Status::Failure => 1,
        Status::Error => 2,
        Status::Approval => 3,
        Status::Drift => 2,
    })
}

/// `true` when the command line names the `drift` subcommand (read before clap has parsed
/// it, for the exit code of a usage error).
fn is_drift_command() -> bool {
    std::env::args_os()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with('-'))
        .is_some_and(|a| a == "drift")
}

/// A closed pipe (`warden check | head`) is not an error (ripgrep's rule).
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
