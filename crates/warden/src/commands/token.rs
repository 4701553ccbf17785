//! `warden token create | list | revoke`: API tokens (a new one's secret shown once; only
//! hashes are stored).

use warden_core::ActorKind;
use warden_store::{Actor, NewToken, Role};

use super::control::{self, DataArg};
use crate::{output, Status};

/// `warden token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TokenCommand,
}

/// `warden token` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token (needs an admin's token in WARDEN_TOKEN); prints its secret once.
    Create(CreateArgs),
    /// List tokens: name, principal, kind, roles, spaces, state (admin's token; no secrets).
    List(ListArgs),
    /// Revoke a token by name or id (admin's token); its secret stops working at once.
    Revoke(RevokeArgs),
}

/// `warden token list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// The data folder.
    #[command(flatten)]
    pub data: DataArg,
}

/// `warden token revoke`.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The token's name or id.
    pub token: String,
    /// The data folder.
    #[command(flatten)]
    pub data: DataArg,
}

/// `warden token create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Roles, comma-separated or repeated: admin, policy-author, approver, requester,
    /// viewer; `agent` or `pipeline` mean that kind of principal with the requester role.
    #[arg(long, value_name = "ROLE", value_delimiter = ',', required = true)]
    pub role: Vec<String>,
    /// Spaces the token may act in, comma-separated or repeated (`*` for all); missing
    /// spaces are created with default approval rules.
    #[arg(long, value_name = "SPACE", value_delimiter = ',', required = true)]
    pub space: Vec<String>,
    /// Unique token name (`claude-infra`).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Principal the token acts as (default: the name).
    #[arg(long, value_name = "PRINCIPAL")]
    pub principal: Option<String>,
    /// Kind of principal: human, agent or pipeline (default: human, or what `--role` says).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// The data folder.
    #[command(flatten)]
    pub data: DataArg,
}

/// Runs `warden token`.
pub fn run(args: &TokenArgs) -> anyhow::Result<Status> {
    match &args.command {
        TokenCommand::Create(args) => create(args),
        TokenCommand::List(args) => list(args),
        TokenCommand::Revoke(args) => revoke(args),
    }
}

fn parse_kind(s: &str) -> Option<ActorKind> {
    match s {
        "human" => Some(ActorKind::Human),
        "agent" => Some(ActorKind::Agent),
        "pipeline" => Some(ActorKind::Pipeline),
        _ => None,
    }
}

/// Roles and kind from `--role` and `--kind`.
fn roles_and_kind(roles: &[String], kind: Option<&str>) -> anyhow::Result<(Vec<Role>, ActorKind)> {
    let mut out = Vec::new();
    let mut implied = None;
    for r in roles.iter().map(|r| r.trim()) {
        if let Some(role) = Role::parse(r) {
            out.push(role);
        } else if let Some(k @ (ActorKind::Agent | ActorKind::Pipeline)) = parse_kind(r) {
            implied = Some(k);
            out.push(Role::Requester);
        } else {
            anyhow::bail!(
                "--role `{r}`: expected admin, policy-author, approver, requester, viewer, agent or pipeline"
            );
        }
    }
    out.sort();
    out.dedup();
    let kind = match kind {
        Some(k) => parse_kind(k)
            .ok_or_else(|| anyhow::anyhow!("--kind `{k}`: expected human, agent or pipeline"))?,
        None => implied.unwrap_or(ActorKind::Human),
    };
    Ok((out, kind))
}

fn create(args: &CreateArgs) -> anyhow::Result<Status> {
    let (roles, kind) = roles_and_kind(&args.role, args.kind.as_deref())?;
    let new = NewToken {
        name: args.name.clone(),
        principal: args.principal.clone().unwrap_or_else(|| args.name.clone()),
        kind,
        roles,
        spaces: args.space.clone(),
    };
    control::runtime()?.block_on(async {
        let store = control::open_existing(&args.data).await?;
        let admin = control::caller(&*store).await?;
        let (token, secret) =
            warden_server::ops::create_token(&*store, &Actor::from_token(&admin), &new)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        store.close().await;
        output::stdout(&format!("{secret}\n"))?;
        output::note(&format!(
            "token `{}` (id {}) for {} ({}, {}) in {}: shown once, only its hash is stored",
            token.name,
            token.id,
            token.principal,
            warden_store::model::actor_kind_str(token.kind),
            token
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            token.spaces.join(", ")
        ));
        Ok(Status::Success)
    })
}

fn list(args: &ListArgs) -> anyhow::Result<Status> {
    control::runtime()?.block_on(async {
        let store = control::open_existing(&args.data).await?;
        let caller = control::caller(&*store).await?;
        let tokens = warden_server::ops::tokens(&*store, &Actor::from_token(&caller))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        store.close().await;
        let time = |t: time::OffsetDateTime| warden_store::model::audit_time(t);
        if args.format == "json" {
            let rows: Vec<serde_json::Value> = tokens
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "id": t.id,
                        "name": t.name,
                        "principal": t.principal,
                        "kind": warden_store::model::actor_kind_str(t.kind),
                        "roles": t.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                        "spaces": t.spaces,
                        "created_by": t.created_by,
                        "created_at": time(t.created_at),
                        "revoked_at": t.revoked_at.map(time),
                    })
                })
                .collect();
            output::stdout(&format!("{}\n", serde_json::Value::Array(rows)))?;
            return Ok(Status::Success);
        }
        let mut text = String::new();
        for t in &tokens {
            text.push_str(&format!(
                "{:>4}  {:<20} {:<16} {:<8} {:<28} {:<16} {}\n",
                t.id,
                t.name,
                t.principal,
                warden_store::model::actor_kind_str(t.kind),
                t.roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                t.spaces.join(","),
                t.revoked_at
                    .map_or_else(|| "active".to_owned(), |r| format!("revoked {}", time(r)))
            ));
        }
        output::stdout(&text)?;
        Ok(Status::Success)
    })
}

fn revoke(args: &RevokeArgs) -> anyhow::Result<Status> {
    control::runtime()?.block_on(async {
        let store = control::open_existing(&args.data).await?;
        let caller = control::caller(&*store).await?;
        let revoked =
            warden_server::ops::revoke_token(&*store, &Actor::from_token(&caller), &args.token)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        store.close().await;
        output::note(&format!(
            "token `{}` (id {}) revoked; its secret no longer authenticates",
            revoked.name, revoked.id
        ));
        Ok(Status::Success)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_words_give_roles_and_kind() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert!(matches!(
            roles_and_kind(&s(&["agent"]), None),
            Ok((r, ActorKind::Agent)) if r == vec![Role::Requester]
        ));
        assert!(matches!(
            roles_and_kind(&s(&["approver", "requester"]), None),
            Ok((r, ActorKind::Human)) if r == vec![Role::Approver, Role::Requester]
        ));
        assert!(matches!(
            roles_and_kind(&s(&["viewer"]), Some("pipeline")),
            Ok((_, ActorKind::Pipeline))
        ));
        assert!(roles_and_kind(&s(&["root"]), None).is_err());
        assert!(roles_and_kind(&s(&["viewer"]), Some("robot")).is_err());
    }
}
