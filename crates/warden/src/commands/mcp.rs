//! `warden mcp`: Warden's tools for an AI agent over stdio (MCP). Evaluates with the local
//! policy set exactly as `warden check` does, or forwards every call to a server
//! (`--server URL`, as the principal of `WARDEN_TOKEN`). Standard output carries the
//! protocol only; logs go to stderr.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use warden_policy::PolicySet;
use warden_server::mcp::{remote::Remote, Backend, Local, WardenMcp};

use super::control::TOKEN_ENV;
use crate::Status;

/// `warden mcp`.
#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// Configuration file (default: `warden.toml` found from the current folder up).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore any warden.toml: every rule, default settings.
    #[arg(long)]
    pub no_config: bool,
    /// Kyverno or Rego policy files or folders to evaluate as well; repeatable.
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Forward every tool call to this Warden server's HTTP API (`http://host:port`) with the
    /// token in WARDEN_TOKEN: decisions are recorded and audited there, and
    /// `request_exception` / `approval_status` work.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
}

/// Runs `warden mcp` until the client closes standard input.
pub fn run(args: &McpArgs) -> anyhow::Result<Status> {
    super::serve::init_logs("text")?;
    let config = super::load_config(
        args.no_config,
        args.config.as_deref(),
        std::path::Path::new("."),
    )?;
    let policy = PolicySet::load_with_policies(
        config,
        &args.policy,
        &warden_policy::RegoOptions::default(),
    )?;
    let backend = match &args.server {
        Some(url) => {
            let token = std::env::var(TOKEN_ENV).map_err(|_| {
                anyhow::anyhow!("--server needs {TOKEN_ENV}: the API token calls are made with")
            })?;
            Backend::Remote(Arc::new(Remote::new(url, token, policy)?))
        }
        None => {
            let now = std::env::var_os("WARDEN_NOW")
                .map(|_| super::decision_time())
                .transpose()?;
            Backend::Local(Arc::new(Local { policy, now }))
        }
    };
    super::control::runtime()?
        .block_on(warden_server::mcp::serve_stdio(WardenMcp::new(backend)))
        .context("warden mcp")?;
    Ok(Status::Success)
}
