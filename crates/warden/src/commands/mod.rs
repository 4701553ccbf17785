//! One file per subcommand.

mod check;
mod explain;
mod rules;
mod test;

pub mod approvals;
pub mod audit;
pub mod control;
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
    }
}
