//! `warden blueprint publish|list|show`: the environment catalog on a server, as the
//! principal of `WARDEN_TOKEN`.

use std::path::PathBuf;

use serde_json::Value;

use crate::{output, Status};

/// `warden blueprint`.
#[derive(Debug, clap::Args)]
pub struct BlueprintArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: BlueprintCommand,
    /// The server.
    #[command(flatten)]
    pub server: ServerArg,
}

/// `warden blueprint` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum BlueprintCommand {
    /// Publish a blueprint file (policy-author role); a changed file becomes a new version.
    Publish {
        /// The blueprint file (YAML).
        file: PathBuf,
    },
    /// List the catalog (each blueprint's latest version).
    List,
    /// Show a blueprint.
    Show {
        /// Its name.
        name: String,
    },
}

/// `--server URL` of the commands that talk to `warden serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArg {
    /// The server's URL.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
}

impl ServerArg {
    /// A client for the server with the caller's token.
    pub fn client(&self) -> anyhow::Result<warden_server::mcp::remote::Remote> {
        let token = std::env::var(super::control::TOKEN_ENV).map_err(|_| {
            anyhow::anyhow!(
                "set {} to your API token (this command acts as you)",
                super::control::TOKEN_ENV
            )
        })?;
        let policy = warden_policy::PolicySet::load(warden_policy::Config::default())?;
        Ok(warden_server::mcp::remote::Remote::new(
            &self.server,
            token,
            policy,
        )?)
    }
}

/// Prints a JSON answer pretty.
pub fn print_json(v: &Value) -> anyhow::Result<()> {
    output::stdout(&format!("{}\n", serde_json::to_string_pretty(v)?))
}

/// Runs `warden blueprint`.
pub fn run(args: &BlueprintArgs) -> anyhow::Result<Status> {
    let client = args.server.client()?;
    super::control::runtime()?.block_on(async {
        use warden_server::mcp::remote::Method;
        match &args.command {
            BlueprintCommand::Publish { file } => {
                let text = std::fs::read(file)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
                let v = client
                    .request(Method::POST, "/v1/blueprints", Some(text))
                    .await?;
                output::stdout(&format!(
                    "blueprint {} version {} ({})\n",
                    v["name"].as_str().unwrap_or("?"),
                    v["version"],
                    v["digest"].as_str().unwrap_or("")
                ))?;
            }
            BlueprintCommand::List => {
                let v = client.request(Method::GET, "/v1/blueprints", None).await?;
                let mut text = String::from("NAME\tVERSION\tSPACES\tDURATION\tDESCRIPTION\n");
                for b in v["blueprints"].as_array().into_iter().flatten() {
                    let spaces: Vec<&str> = b["spaces"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    text.push_str(&format!(
                        "{}\t{}\t{}\t{}/{}\t{}\n",
                        b["name"].as_str().unwrap_or("?"),
                        b["version"],
                        spaces.join(","),
                        b["duration"]["default"].as_str().unwrap_or("?"),
                        b["duration"]["max"].as_str().unwrap_or("?"),
                        b["description"].as_str().unwrap_or("")
                    ));
                }
                output::stdout(&text)?;
            }
            BlueprintCommand::Show { name } => {
                let v = client
                    .request(
                        Method::GET,
                        &format!(
                            "/v1/blueprints/{}",
                            warden_server::mcp::remote::encode(name)
                        ),
                        None,
                    )
                    .await?;
                print_json(&v)?;
            }
        }
        Ok(Status::Success)
    })
}
