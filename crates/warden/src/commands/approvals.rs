//! `warden approvals list|approve|reject`: approval requests, decided as the principal of
//! `WARDEN_TOKEN` under the same rules as the API.

use warden_store::ApprovalState;

use super::control::{self, DataArg};
use crate::{output, Status};

/// `warden approvals`.
#[derive(Debug, clap::Args)]
pub struct ApprovalsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ApprovalsCommand,
}

/// `warden approvals` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ApprovalsCommand {
    /// List approval requests in your token's spaces, newest first.
    List(ListArgs),
    /// Approve a pending request (approver role; never your own request; never an agent).
    Approve(ApproveArgs),
    /// Reject a pending request, with a reason.
    Reject(RejectArgs),
}

/// `warden approvals list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only this space.
    #[arg(long, value_name = "SPACE")]
    pub space: Option<String>,
    /// Only this state: pending, approved, rejected, expired, superseded.
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The data folder.
    #[command(flatten)]
    pub data: DataArg,
}

/// `warden approvals approve`.
#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// Request id.
    pub id: i64,
    /// A note kept with your approval.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// The data folder.
    #[command(flatten)]
    pub data: DataArg,
}

/// `warden approvals reject`.
#[derive(Debug, clap::Args)]
pub struct RejectArgs {
    /// Request id.
    pub id: i64,
    /// Why (required).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The data folder.
    #[command(flatten)]
    pub data: DataArg,
}

/// Runs `warden approvals`.
pub fn run(args: &ApprovalsArgs) -> anyhow::Result<Status> {
    let data = match &args.command {
        ApprovalsCommand::List(a) => &a.data,
        ApprovalsCommand::Approve(a) => &a.data,
        ApprovalsCommand::Reject(a) => &a.data,
    };
    control::runtime()?.block_on(async {
        let store = control::open_existing(data).await?;
        let token = control::caller(&*store).await?;
        let api = |e: warden_server::ApiError| anyhow::anyhow!("{e}");
        let result = match &args.command {
            ApprovalsCommand::List(a) => {
                let state = a
                    .state
                    .as_deref()
                    .map(|s| {
                        ApprovalState::parse(s).ok_or_else(|| {
                            anyhow::anyhow!("--state `{s}`: expected pending, approved, rejected, expired or superseded")
                        })
                    })
                    .transpose()?;
                let list = warden_server::ops::approvals(&*store, &token, a.space.as_deref(), state)
                    .await
                    .map_err(api)?;
                if a.json {
                    let v: Vec<_> = list.iter().map(warden_server::ops::approval_json).collect();
                    output::stdout(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
                } else {
                    let mut text = String::from("ID\tSPACE\tSTATE\tREQUESTED BY\tAPPROVALS\tCHANGE\n");
                    for x in &list {
                        text.push_str(&format!(
                            "{}\t{}\t{}\t{}\t{}/{}\t{}\n",
                            x.id,
                            x.space,
                            x.state.as_str(),
                            x.requested_by,
                            x.approvers.len(),
                            x.required,
                            x.change_digest
                        ));
                    }
                    output::stdout(&text)?;
                }
                Ok(Status::Success)
            }
            ApprovalsCommand::Approve(a) => {
                let x = warden_server::ops::approve(&*store, &token, a.id, a.note.as_deref())
                    .await
                    .map_err(api)?;
                output::stdout(&format!(
                    "approval request {}: {} ({}/{} approvals)\n",
                    x.id,
                    x.state.as_str(),
                    x.approvers.len(),
                    x.required
                ))?;
                Ok(Status::Success)
            }
            ApprovalsCommand::Reject(a) => {
                let x = warden_server::ops::reject(&*store, &token, a.id, &a.reason)
                    .await
                    .map_err(api)?;
                output::stdout(&format!("approval request {}: {}\n", x.id, x.state.as_str()))?;
                Ok(Status::Success)
            }
        };
        store.close().await;
        result
    })
}
