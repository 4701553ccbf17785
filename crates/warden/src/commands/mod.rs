//! One file per subcommand.

mod check;
mod explain;
mod rules;
mod test;

pub mod approvals;
pub mod audit;
pub mod blueprint;
pub mod control;
pub mod cost;
pub mod drift;
pub mod env;
pub mod mcp;
pub mod serve;
pub mod token;

use crate::args::{Cli, Command};
use crate::Status;

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<Status> {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Token(args) => token::run(&args),
        Command::Approvals(args) => approvals::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Drift(args) => drift::run(&args),
        Command::Cost(args) => cost::run(&args),
        Command::Mcp(args) => mcp::run(&args),
        Command::Blueprint(args) => blueprint::run(&args),
        Command::Env(args) => env::run(&args),
    }
}

/// The configuration a command runs under: none with `--no-config`, the `--config` file, or
/// `warden.toml` found from `start` upward (defaults when there is none).
fn load_config(
    no_config: bool,
    explicit: Option<&std::path::Path>,
    start: &std::path::Path,
) -> anyhow::Result<warden_policy::Config> {
    use warden_policy::{config, Config};
    Ok(if no_config {
        Config::default()
    } else if let Some(path) = explicit {
        config::load(path)?
    } else {
        match config::discover(start) {
            Some(path) => config::load(&path)?,
            None => Config::default(),
        }
    })
}

/// The decision time: now, or `WARDEN_NOW` (RFC 3339) to replay a decision.
fn decision_time() -> anyhow::Result<time::OffsetDateTime> {
    use anyhow::Context as _;
    match std::env::var("WARDEN_NOW") {
        Ok(v) => time::OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
            .with_context(|| {
                format!("WARDEN_NOW=`{v}` is not an RFC 3339 time like 2026-01-31T12:00:00Z")
            }),
        Err(_) => Ok(time::OffsetDateTime::now_utc()),
    }
}
