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
}

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
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
    })
}

/// A closed pipe (`warden check | head`) is not an error (ripgrep's rule).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
