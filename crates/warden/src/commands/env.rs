//! `warden env launch|list|show|extend|terminate`: environments on a server, as the
//! principal of `WARDEN_TOKEN`. Exit codes as `warden check`: 0 allowed, 1 denied, 3 waiting
//! for approval.

use serde_json::{json, Value};

use super::blueprint::{print_json, ServerArg};
use crate::{output, Status};

/// `warden env`.
#[derive(Debug, clap::Args)]
pub struct EnvArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: EnvCommand,
    /// The server.
    #[command(flatten)]
    pub server: ServerArg,
}

/// `warden env` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum EnvCommand {
    /// Launch an environment from a blueprint.
    Launch {
        /// The blueprint.
        blueprint: String,
        /// The space.
        #[arg(long, value_name = "SPACE")]
        space: String,
        /// An input, `name=value` (repeat for more).
        #[arg(long = "input", value_name = "NAME=VALUE")]
        inputs: Vec<String>,
        /// How long (`30m`, `8h`, `3d`); the blueprint's default otherwise.
        #[arg(long, value_name = "DURATION")]
        duration: Option<String>,
        /// Print the whole answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List environments in your token's spaces.
    List {
        /// Only this space.
        #[arg(long, value_name = "SPACE")]
        space: Option<String>,
        /// Only this state (active, expiring, teardown_failed ...).
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show an environment with its events.
    Show {
        /// Its id.
        id: i64,
    },
    /// Move an environment's end.
    Extend {
        /// Its id.
        id: i64,
        /// Time to add (`4h`).
        #[arg(long, value_name = "DURATION", conflicts_with = "until")]
        by: Option<String>,
        /// The new end (RFC 3339).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// Print the whole answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Tear an environment down (or retry a flagged teardown).
    Terminate {
        /// Its id.
        id: i64,
        /// Print the whole answer as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The exit status and a summary of an operation's answer.
fn summarize(v: &Value, json_out: bool) -> anyhow::Result<Status> {
    if json_out {
        print_json(v)?;
    } else {
        let env = &v["environment"];
        let mut text = format!(
            "environment {}: {}",
            env["id"],
            env["state"].as_str().unwrap_or("?")
        );
        if let Some(outcome) = v["outcome"].as_str() {
            text.push_str(&format!(" (decision {} {outcome})", v["decision_id"]));
        }
        text.push('\n');
        for f in v["findings"].as_array().into_iter().flatten() {
            text.push_str(&format!(
                "  {} {}: {}\n",
                f["enforcement"].as_str().unwrap_or("?"),
                f["rule_id"].as_str().unwrap_or("?"),
                f["message"].as_str().unwrap_or("")
            ));
            if let Some(fix) = f["fix"]["description"].as_str() {
                text.push_str(&format!("    fix: {fix}\n"));
            }
        }
        if let Some(a) = v["approval"]["id"].as_i64() {
            text.push_str(&format!("  waiting for approval request {a}\n"));
        }
        if let Some(o) = env["outputs"].as_object() {
            for (k, val) in o {
                text.push_str(&format!("  output {k} = {val}\n"));
            }
        }
        if let Some(e) = v["error"].as_str() {
            text.push_str(&format!("  error: {e}\n"));
        }
        output::stdout(&text)?;
    }
    Ok(match v["outcome"].as_str() {
        Some("deny") => Status::Failure,
        Some("require_approval") => Status::Approval,
        _ if v["error"].is_string() => Status::Failure,
        _ => Status::Success,
    })
}

/// Runs `warden env`.
pub fn run(args: &EnvArgs) -> anyhow::Result<Status> {
    let client = args.server.client()?;
    let encode = warden_server::mcp::remote::encode;
    super::control::runtime()?.block_on(async {
        use warden_server::mcp::remote::Method;
        match &args.command {
            EnvCommand::Launch {
                blueprint,
                space,
                inputs,
                duration,
                json: json_out,
            } => {
                let mut map = serde_json::Map::new();
                for i in inputs {
                    let (k, v) = i
                        .split_once('=')
                        .ok_or_else(|| anyhow::anyhow!("--input `{i}`: expected NAME=VALUE"))?;
                    map.insert(k.to_owned(), Value::from(v));
                }
                let body = json!({"blueprint": blueprint, "space": space, "inputs": map,
                                  "duration": duration});
                let v = client
                    .request(
                        Method::POST,
                        "/v1/environments",
                        Some(body.to_string().into_bytes()),
                    )
                    .await?;
                summarize(&v, *json_out)
            }
            EnvCommand::List {
                space,
                state,
                json: json_out,
            } => {
                let mut query = Vec::new();
                if let Some(s) = space {
                    query.push(format!("space={}", encode(s)));
                }
                if let Some(s) = state {
                    query.push(format!("state={}", encode(s)));
                }
                let path = if query.is_empty() {
                    "/v1/environments".to_owned()
                } else {
                    format!("/v1/environments?{}", query.join("&"))
                };
                let v = client.request(Method::GET, &path, None).await?;
                if *json_out {
                    print_json(&v)?;
                } else {
                    let mut text =
                        String::from("ID\tBLUEPRINT\tSPACE\tOWNER\tSTATE\tENDS\tCOST\tFLAG\n");
                    for e in v["environments"].as_array().into_iter().flatten() {
                        text.push_str(&format!(
                            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                            e["id"],
                            e["blueprint"].as_str().unwrap_or("?"),
                            e["space"].as_str().unwrap_or("?"),
                            e["owner"].as_str().unwrap_or("?"),
                            e["state"].as_str().unwrap_or("?"),
                            e["ends_at"].as_str().unwrap_or("?"),
                            e["monthly_cost"]
                                .as_f64()
                                .map_or("-".into(), |c| format!("${c:.2}")),
                            e["flagged_reason"].as_str().unwrap_or("")
                        ));
                    }
                    output::stdout(&text)?;
                }
                Ok(Status::Success)
            }
            EnvCommand::Show { id } => {
                let v = client
                    .request(Method::GET, &format!("/v1/environments/{id}"), None)
                    .await?;
                print_json(&v)?;
                Ok(Status::Success)
            }
            EnvCommand::Extend {
                id,
                by,
                until,
                json: json_out,
            } => {
                let body = json!({"by": by, "until": until});
                let v = client
                    .request(
                        Method::POST,
                        &format!("/v1/environments/{id}/extend"),
                        Some(body.to_string().into_bytes()),
                    )
                    .await?;
                summarize(&v, *json_out)
            }
            EnvCommand::Terminate { id, json: json_out } => {
                let v = client
                    .request(
                        Method::POST,
                        &format!("/v1/environments/{id}/terminate"),
                        None,
                    )
                    .await?;
                summarize(&v, *json_out)
            }
        }
    })
}
