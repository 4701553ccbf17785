//! The MCP server for AI agents ([`WardenMcp`], on the official SDK `rmcp`): the tools
//! `evaluate_change`, `explain_rule`, `list_rules`, `request_exception`, `approval_status`,
//! `list_environments` and `request_environment` (launch, extend, terminate through the same
//! operations as the HTTP API, [`crate::environments::api`]), served over stdio by `warden mcp` and over streamable HTTP at `/mcp` on
//! `warden serve` ([`service`]).
//!
//! One handler, three backends ([`Backend`]): `Local` evaluates in process with the policy
//! set exactly as `warden check` does (no store, so exceptions and approvals answer that they
//! need a server); `Server` runs inside `warden serve` and calls [`crate::ops`] with the token
//! of the HTTP request, so each call is authorised and audited as the agent exactly as the
//! HTTP API (an evaluation records a decision; the reads record an `mcp.<tool>` audit event);
//! `Remote` forwards to a server's HTTP API ([`remote`]).
//!
//! Results are shaped for self-correction ([`shape`]): the first lines say the outcome and,
//! per finding that holds it above `allow`, `<rule id> on <resource>: <what to change> —
//! <why>`; then the decision JSON as the API returns it. A deny is a valid answer (`isError`
//! false); only bad input or a refused call is an error.

pub mod remote;
pub mod shape;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, ErrorData, RoleServer, ServerHandler};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use warden_core::RuleInfo;
use warden_policy::PolicySet;
use warden_store::{Actor, AuditEvent, Token};

use crate::environments::api as env_api;
use crate::error::ApiError;
use crate::ops::{self, AppState};

/// Where the tools get their answers.
#[derive(Clone)]
pub enum Backend {
    /// In process, with a policy set, as `warden check` (no store).
    Local(Arc<Local>),
    /// Inside `warden serve`: the operations of [`crate::ops`] as the token of each request.
    Server(AppState),
    /// A server's HTTP API, with a token.
    Remote(Arc<remote::Remote>),
}

/// The local backend: the policy set and the clock.
pub struct Local {
    /// The policies changes are evaluated against.
    pub policy: PolicySet,
    /// A fixed decision time (`WARDEN_NOW`), or `None` for the time of each call.
    pub now: Option<OffsetDateTime>,
}

/// The MCP server handler: Warden's tools over one [`Backend`].
#[derive(Clone)]
pub struct WardenMcp {
    backend: Backend,
    tool_router: ToolRouter<WardenMcp>,
}

impl std::fmt::Debug for WardenMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match &self.backend {
            Backend::Local(_) => "local",
            Backend::Server(_) => "server",
            Backend::Remote(_) => "remote",
        };
        f.debug_struct("WardenMcp")
            .field("backend", &backend)
            .finish_non_exhaustive()
    }
}

/// `evaluate_change` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateChange {
    /// The change to evaluate, as text: a Terraform/OpenTofu plan (`terraform show -json`
    /// output), Kubernetes manifests (YAML or JSON, several separated by `---`), or a
    /// structured change request `{"operation": "apply", "change": ..., "context": {...}}`.
    /// Give this or `path`.
    #[serde(default)]
    pub document: Option<String>,
    /// Instead of `document`: a file holding the change (`plan.json`, `k8s/app.yaml`),
    /// relative to the folder `warden mcp` runs in. Only with `warden mcp` (stdio), which
    /// reads it; over HTTP send the content as `document`.
    #[serde(default)]
    pub path: Option<String>,
    /// The space (team or project) the change is for. Required with a server (or
    /// `context.space` in a change request); ignored locally.
    #[serde(default)]
    pub space: Option<String>,
    /// What the change is about, stable across re-plans (a branch, a workspace); a newer
    /// change for the same subject supersedes a pending approval request. Server only.
    #[serde(default)]
    pub subject: Option<String>,
}

/// `explain_rule` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainRule {
    /// Rule id (`WD-AWS-001`) or name (`s3-bucket-public-acl`), as findings name it.
    pub rule: String,
}

/// `list_rules` arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRules {
    /// Only rules whose id, name, title or resource kinds contain this text
    /// (case-insensitive), e.g. `aws_s3`, `WD-K8S`, `public`.
    #[serde(default)]
    pub filter: Option<String>,
}

/// `request_exception` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestException {
    /// The space the exception is for.
    pub space: String,
    /// The rule it waives: id, name, id prefix or `*`.
    pub rule: String,
    /// The resource addresses it covers (a glob: `aws_s3_bucket.logs`, `module.web.*`).
    pub resource: String,
    /// Why the finding should be waived (an approver reads this).
    pub justification: String,
    /// A ticket reference.
    #[serde(default)]
    pub ticket: Option<String>,
    /// How many days the exception lasts once granted (at least 1, at most the space's
    /// maximum).
    pub days: u32,
}

/// `approval_status` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalStatus {
    /// The approval request id (`approval.id` or `retry.approval_id` of a decision).
    pub id: i64,
}

/// `list_environments` arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListEnvironments {
    /// Only environments in this space (one the token may act in).
    #[serde(default)]
    pub space: Option<String>,
    /// Only environments in this state: launching, pending_approval, active, expiring,
    /// expired, terminating, terminated, teardown_failed, denied, failed.
    #[serde(default)]
    pub state: Option<String>,
}

/// What `request_environment` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentOperation {
    /// A new environment from a blueprint.
    Launch,
    /// More time for a running environment.
    Extend,
    /// Tear an environment down now.
    Terminate,
}

/// `request_environment` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestEnvironment {
    /// `launch` (with `blueprint`, `space`, optional `inputs` and `duration`), `extend`
    /// (with `id` and `duration` or `until`) or `terminate` (with `id`).
    pub operation: EnvironmentOperation,
    /// launch: the blueprint's name (its latest version is launched).
    #[serde(default)]
    pub blueprint: Option<String>,
    /// launch: the space the environment belongs to.
    #[serde(default)]
    pub space: Option<String>,
    /// launch: the blueprint's inputs by name, e.g. `{"region": "eu-west-1"}`; the
    /// blueprint's defaults fill the rest.
    #[serde(default)]
    pub inputs: Option<serde_json::Map<String, serde_json::Value>>,
    /// launch: how long the environment lives (`8h`, `2d`; the blueprint's default when
    /// absent). extend: the time added to its current end (`4h`).
    #[serde(default)]
    pub duration: Option<String>,
    /// extend and terminate: the environment's id (`environment.id` of a launch).
    #[serde(default)]
    pub id: Option<i64>,
    /// extend: the new end as an RFC 3339 time, instead of `duration`.
    #[serde(default)]
    pub until: Option<String>,
}

/// A checked `request_environment`.
#[derive(Debug)]
enum EnvironmentRequest {
    Launch(env_api::LaunchRequest),
    Extend(i64, env_api::ExtendRequest),
    Terminate(i64),
}

impl RequestEnvironment {
    /// The request the operation names, or a message naming the missing or stray argument.
    fn check(self) -> Result<EnvironmentRequest, String> {
        let bad = |m: &str| format!("error: bad input: {m}");
        let op = self.operation;
        let stray = |name: &str, given: bool| {
            if given {
                Err(bad(&format!(
                    "`{name}` does not apply to {}",
                    match op {
                        EnvironmentOperation::Launch => "launch",
                        EnvironmentOperation::Extend => "extend",
                        EnvironmentOperation::Terminate => "terminate",
                    }
                )))
            } else {
                Ok(())
            }
        };
        let nonempty = |v: Option<String>| v.filter(|t| !t.trim().is_empty());
        match op {
            EnvironmentOperation::Launch => {
                stray("id", self.id.is_some())?;
                stray("until", self.until.is_some())?;
                let (Some(blueprint), Some(space)) =
                    (nonempty(self.blueprint), nonempty(self.space))
                else {
                    return Err(bad("launch needs `blueprint` and `space`"));
                };
                Ok(EnvironmentRequest::Launch(env_api::LaunchRequest {
                    blueprint,
                    space,
                    inputs: self.inputs.unwrap_or_default(),
                    duration: self.duration,
                }))
            }
            EnvironmentOperation::Extend => {
                stray("blueprint", self.blueprint.is_some())?;
                stray("space", self.space.is_some())?;
                stray("inputs", self.inputs.is_some())?;
                let id = self
                    .id
                    .ok_or_else(|| bad("extend needs `id` (the environment's id)"))?;
                match (&self.duration, &self.until) {
                    (Some(_), None) | (None, Some(_)) => {}
                    _ => {
                        return Err(bad(
                            "extend needs `duration` (time added, like 4h) or `until` (an RFC \
3339 time), one of them",
                        ))
                    }
                }
                Ok(EnvironmentRequest::Extend(
                    id,
                    env_api::ExtendRequest {
                        until: self.until,
                        by: self.duration,
                    },
                ))
            }
            EnvironmentOperation::Terminate => {
                stray("blueprint", self.blueprint.is_some())?;
                stray("space", self.space.is_some())?;
                stray("inputs", self.inputs.is_some())?;
                stray("duration", self.duration.is_some())?;
                stray("until", self.until.is_some())?;
                let id = self
                    .id
                    .ok_or_else(|| bad("terminate needs `id` (the environment's id)"))?;
                Ok(EnvironmentRequest::Terminate(id))
            }
        }
    }
}

/// What the server tells a client when it connects.
pub const INSTRUCTIONS: &str = "Warden is the policy gate for infrastructure changes. Before \
applying a Terraform/OpenTofu plan or Kubernetes manifests, call evaluate_change with the plan \
JSON (`terraform show -json`) or the manifests. The first lines of the result say the outcome \
and, per finding, what to change and why; apply the fixes and evaluate again until the outcome \
is allow. explain_rule gives a rule's full documentation. When a finding must stay, \
request_exception asks a human approver; approval_status tells whether a request was decided. \
With a server, list_environments and request_environment launch, extend and terminate \
environments from blueprints through the same checkpoints.";

fn text_result(text: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

fn error_result(text: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text.into())])
}

fn decision_result(json: &[u8]) -> CallToolResult {
    match shape::decision(json) {
        Ok(text) => text_result(text),
        Err(e) => error_result(e),
    }
}

fn api_error_result(e: &ApiError) -> CallToolResult {
    error_result(format!("error ({}): {}", e.status(), e.public_message()))
}

impl WardenMcp {
    /// A handler answering from `backend`.
    #[must_use]
    pub fn new(backend: Backend) -> WardenMcp {
        WardenMcp {
            backend,
            tool_router: Self::tool_router(),
        }
    }

    /// The token a `Server` call acts as: the one the `/mcp` route authenticated and put in
    /// the HTTP request's extensions.
    fn token(ctx: &RequestContext<RoleServer>) -> Result<Token, CallToolResult> {
        ctx.extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<Token>())
            .cloned()
            .ok_or_else(|| {
                error_result("error (401): this call carries no authenticated bearer token")
            })
    }

    /// Records a read-only tool call in the audit log as the token's actor.
    async fn audit(
        state: &AppState,
        token: &Token,
        tool: &str,
        subject: &str,
        space: Option<&str>,
    ) {
        let event = AuditEvent::new(format!("mcp.{tool}"), subject, space, json!({}));
        if let Err(e) = state
            .store
            .append_audit(&Actor::from_token(token), &event)
            .await
        {
            tracing::error!(tool, error = %e, "the MCP tool call could not be audited");
        }
    }

    /// Runs `f` on the rules in force.
    fn with_rules<R>(&self, f: impl FnOnce(&[RuleInfo]) -> R) -> R {
        match &self.backend {
            Backend::Local(l) => f(l.policy.rules()),
            Backend::Server(s) => f(s.policies.current().account().rules()),
            Backend::Remote(r) => f(r.policy.rules()),
        }
    }
}

#[tool_router(router = tool_router)]
impl WardenMcp {
    /// Evaluates a proposed change against the policies.
    #[tool(
        name = "evaluate_change",
        description = "Evaluate a proposed infrastructure change (Terraform/OpenTofu plan JSON, \
Kubernetes manifests, or a structured change request; as text in `document`, or as a file in `path` with `warden \
mcp`) against Warden's policies before applying it. Returns the outcome (allow, warn, require_approval, deny); the first lines list, per finding, \
`<rule id> on <resource>: <what to change> — <why>`, followed by the decision JSON (findings with \
fix, and with a server decision_id and a retry hint). A deny is a normal answer: fix and evaluate \
again."
    )]
    async fn evaluate_change(
        &self,
        Parameters(args): Parameters<EvaluateChange>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let local_file = !matches!(self.backend, Backend::Server(_));
        let input = match document(&args, local_file).await {
            Ok(input) => input,
            Err(e) => return Ok(error_result(e)),
        };
        let result = match &self.backend {
            Backend::Local(local) => {
                let local = Arc::clone(local);
                let now = local.now.unwrap_or_else(OffsetDateTime::now_utc);
                match tokio::task::spawn_blocking(move || evaluate_local(&local.policy, input, now))
                    .await
                {
                    Ok(Ok(v)) => decision_result(&v),
                    Ok(Err(e)) => error_result(e),
                    Err(e) => error_result(format!("error: the evaluation failed: {e}")),
                }
            }
            Backend::Server(state) => {
                let token = match Self::token(&ctx) {
                    Ok(t) => t,
                    Err(r) => return Ok(r),
                };
                match evaluate_server(state, &token, &args, &input.bytes).await {
                    Ok(v) => decision_result(&v),
                    Err(e) => api_error_result(&e),
                }
            }
            Backend::Remote(remote) => match remote.evaluate(&args, input.bytes).await {
                Ok(v) => decision_result(&v),
                Err(e) => error_result(e.to_string()),
            },
        };
        Ok(result)
    }

    /// A rule's documentation.
    #[tool(
        name = "explain_rule",
        description = "Explain a rule by id (WD-AWS-001) or name: what it checks, why it \
matters, a failing and a passing example, how to fix it, its parameters."
    )]
    async fn explain_rule(
        &self,
        Parameters(args): Parameters<ExplainRule>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let result = self.with_rules(|rules| shape::explain(rules, &args.rule));
        if let Backend::Server(state) = &self.backend {
            let token = match Self::token(&ctx) {
                Ok(t) => t,
                Err(r) => return Ok(r),
            };
            Self::audit(state, &token, "explain_rule", &args.rule, None).await;
        }
        Ok(match result {
            Ok(text) => text_result(text),
            Err(text) => error_result(text),
        })
    }

    /// The rules in force.
    #[tool(
        name = "list_rules",
        description = "List the rules in force: id, name, severity, enforcement, resource kinds \
and title, one per line, optionally filtered by text."
    )]
    async fn list_rules(
        &self,
        Parameters(args): Parameters<ListRules>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let text = self.with_rules(|rules| shape::rule_list(rules, args.filter.as_deref()));
        if let Backend::Server(state) = &self.backend {
            let token = match Self::token(&ctx) {
                Ok(t) => t,
                Err(r) => return Ok(r),
            };
            Self::audit(
                state,
                &token,
                "list_rules",
                args.filter.as_deref().unwrap_or("*"),
                None,
            )
            .await;
        }
        Ok(text_result(text))
    }

    /// Asks for a governed exception.
    #[tool(
        name = "request_exception",
        description = "Request a governed exception that waives a rule for some resources in a \
space, with a justification and a duration in days. A human approver grants or rejects it; \
agents can never grant. Needs a Warden server."
    )]
    async fn request_exception(
        &self,
        Parameters(args): Parameters<RequestException>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let request = ops::ExceptionRequest {
            rule: args.rule,
            resource: args.resource,
            justification: args.justification,
            ticket: args.ticket,
            days: args.days,
        };
        Ok(match &self.backend {
            Backend::Local(_) => error_result(NEEDS_SERVER),
            Backend::Server(state) => {
                let token = match Self::token(&ctx) {
                    Ok(t) => t,
                    Err(r) => return Ok(r),
                };
                match ops::request_exception(state.store.as_ref(), &token, &args.space, &request)
                    .await
                {
                    Ok(e) => text_result(shape::exception(&ops::exception_json(&e))),
                    Err(e) => api_error_result(&e),
                }
            }
            Backend::Remote(remote) => {
                match remote.request_exception(&args.space, &request).await {
                    Ok(v) => text_result(shape::exception(&v)),
                    Err(e) => error_result(e.to_string()),
                }
            }
        })
    }

    /// The state of an approval request.
    #[tool(
        name = "approval_status",
        description = "The state of an approval request (pending, approved, rejected, expired, \
superseded), who decided it and when. Once approved, evaluating the same change again is \
allowed. Needs a Warden server."
    )]
    async fn approval_status(
        &self,
        Parameters(args): Parameters<ApprovalStatus>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(match &self.backend {
            Backend::Local(_) => error_result(NEEDS_SERVER),
            Backend::Server(state) => {
                let token = match Self::token(&ctx) {
                    Ok(t) => t,
                    Err(r) => return Ok(r),
                };
                match ops::approval(state.store.as_ref(), &token, args.id).await {
                    Ok(a) => {
                        Self::audit(
                            state,
                            &token,
                            "approval_status",
                            &format!("approval/{}", a.id),
                            Some(&a.space),
                        )
                        .await;
                        text_result(shape::approval(&ops::approval_json(&a)))
                    }
                    Err(e) => api_error_result(&e),
                }
            }
            Backend::Remote(remote) => match remote.approval(args.id).await {
                Ok(v) => text_result(shape::approval(&v)),
                Err(e) => error_result(e.to_string()),
            },
        })
    }
    /// The environments the token may see.
    #[tool(
        name = "list_environments",
        description = "List the environments (launched from blueprints) the token may see, \
optionally in one space or one state: id, blueprint, space, state, when it ends, its outputs. \
Needs a Warden server."
    )]
    async fn list_environments(
        &self,
        Parameters(args): Parameters<ListEnvironments>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let space = args.space.as_deref().filter(|s| !s.trim().is_empty());
        let wanted = args.state.as_deref().filter(|s| !s.trim().is_empty());
        let state = match wanted.map(|w| {
            warden_store::EnvironmentState::parse(w).ok_or_else(|| {
                let names: Vec<&str> = warden_store::EnvironmentState::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect();
                format!(
                    "error: bad input: `state` is `{w}`; one of {}",
                    names.join(", ")
                )
            })
        }) {
            Some(Err(e)) => return Ok(error_result(e)),
            Some(Ok(s)) => Some(s),
            None => None,
        };
        Ok(match &self.backend {
            Backend::Local(_) => error_result(ENVIRONMENTS_NEED_SERVER),
            Backend::Server(app) => {
                let token = match Self::token(&ctx) {
                    Ok(t) => t,
                    Err(r) => return Ok(r),
                };
                match env_api::environments(app, &token, space, state).await {
                    Ok(list) => {
                        Self::audit(
                            app,
                            &token,
                            "list_environments",
                            &format!("environments/{}", space.unwrap_or("*")),
                            space,
                        )
                        .await;
                        text_result(shape::environment_list(&json!({
                            "environments":
                                list.iter().map(env_api::environment_json).collect::<Vec<_>>()
                        })))
                    }
                    Err(e) => api_error_result(&e),
                }
            }
            Backend::Remote(remote) => {
                let mut path = String::from("/v1/environments");
                let mut sep = '?';
                if let Some(space) = space {
                    path.push_str(&format!("{sep}space={}", remote::encode(space)));
                    sep = '&';
                }
                if let Some(state) = state {
                    path.push_str(&format!("{sep}state={}", state.as_str()));
                }
                match remote.request(remote::Method::GET, &path, None).await {
                    Ok(v) => text_result(shape::environment_list(&v)),
                    Err(e) => error_result(e.to_string()),
                }
            }
        })
    }

    /// Launches, extends or terminates an environment.
    #[tool(
        name = "request_environment",
        description = "Launch an environment from a blueprint (operation launch: blueprint, \
space, inputs, duration), give a running one more time (extend: id, duration or until) or tear \
one down (terminate: id). Each request is a recorded decision through the environment \
checkpoints (allowed spaces, maximum duration, concurrency, cost and budget) and the policies \
on the runner's plan. The first lines say the outcome and, per blocking finding, \
`<rule id> on <resource>: <what to change> — <why>`; then the environment (id, state, end, \
outputs) and the JSON. A deny is a normal answer: fix and request again. Needs a Warden server."
    )]
    async fn request_environment(
        &self,
        Parameters(args): Parameters<RequestEnvironment>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        if matches!(self.backend, Backend::Local(_)) {
            return Ok(error_result(ENVIRONMENTS_NEED_SERVER));
        }
        let request = match args.check() {
            Ok(r) => r,
            Err(e) => return Ok(error_result(e)),
        };
        Ok(match &self.backend {
            Backend::Local(_) => error_result(ENVIRONMENTS_NEED_SERVER),
            Backend::Server(app) => {
                let token = match Self::token(&ctx) {
                    Ok(t) => t,
                    Err(r) => return Ok(r),
                };
                let answer = match &request {
                    EnvironmentRequest::Launch(l) => env_api::launch(app, &token, l).await,
                    EnvironmentRequest::Extend(id, x) => env_api::extend(app, &token, *id, x).await,
                    EnvironmentRequest::Terminate(id) => env_api::terminate(app, &token, *id).await,
                };
                match answer {
                    Ok(a) => text_result(shape::environment(&a.to_json())),
                    Err(e) => api_error_result(&e),
                }
            }
            Backend::Remote(remote) => {
                let (path, body) = match &request {
                    EnvironmentRequest::Launch(l) => (
                        "/v1/environments".to_owned(),
                        json!({"blueprint": l.blueprint, "space": l.space,
                               "inputs": l.inputs, "duration": l.duration}),
                    ),
                    EnvironmentRequest::Extend(id, x) => (
                        format!("/v1/environments/{id}/extend"),
                        json!({"until": x.until, "by": x.by}),
                    ),
                    EnvironmentRequest::Terminate(id) => {
                        (format!("/v1/environments/{id}/terminate"), json!({}))
                    }
                };
                match remote
                    .request(
                        remote::Method::POST,
                        &path,
                        Some(body.to_string().into_bytes()),
                    )
                    .await
                {
                    Ok(v) => text_result(shape::environment(&v)),
                    Err(e) => error_result(e.to_string()),
                }
            }
        })
    }
}

/// What the environment tools answer without a server.
pub const ENVIRONMENTS_NEED_SERVER: &str = "error: environments are launched and run by a \
Warden server (its runner, store and checkpoints); this MCP server evaluates locally. Run \
`warden mcp --server URL` (token in WARDEN_TOKEN) or use the server's /mcp endpoint.";

/// What `request_exception` and `approval_status` answer without a server.
pub const NEEDS_SERVER: &str = "error: exceptions and approvals live on a Warden server; this \
MCP server evaluates locally. Run `warden mcp --server URL` (token in WARDEN_TOKEN) or use the \
server's /mcp endpoint.";

#[tool_handler(router = self.tool_router)]
impl ServerHandler for WardenMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("warden", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

/// The change `evaluate_change` was given: `document`, or the file at `path` when the
/// handler runs on the agent's machine (`local_file`).
async fn document(
    args: &EvaluateChange,
    local_file: bool,
) -> Result<warden_core::inputs::InputBytes, String> {
    match (&args.document, &args.path) {
        (Some(text), None) => Ok(warden_core::inputs::InputBytes {
            name: "document".into(),
            bytes: text.clone().into_bytes(),
        }),
        (Some(_), Some(_)) => Err("error: bad input: give `document` or `path`, not both".into()),
        (None, None) => Err(
            "error: bad input: `document` (the plan or manifests as text) or `path` (a file) is \
required"
                .into(),
        ),
        (None, Some(_)) if !local_file => Err(
            "error: bad input: `path` names a file on the agent's machine, which this server \
cannot read; send the file's content as `document`"
                .into(),
        ),
        (None, Some(path)) if path.trim() == "-" || path.trim().is_empty() => Err(format!(
            "error: bad input: `path` is `{path}`: name a file (standard input carries the \
protocol)"
        )),
        (None, Some(path)) => {
            let path = std::path::PathBuf::from(path);
            tokio::task::spawn_blocking(move || {
                warden_core::inputs::read(&path, warden_core::inputs::DEFAULT_MAX_INPUT_BYTES)
            })
            .await
            .map_err(|e| format!("error: reading the file failed: {e}"))?
            .map_err(|e| format!("error: bad input: {e}"))
        }
    }
}

/// Evaluates a document as `warden check` does: parsed once, prepared for Rego when the
/// policy set has Rego policies, evaluated, lines located in a pretty-printed plan. A
/// structured change request is unwrapped and its operation checked against the change.
/// Returns the decision JSON (with `request` and a `retry` hint when not `allow`), or a
/// message naming what is wrong with the input.
pub fn evaluate_local(
    policy: &PolicySet,
    input: warden_core::inputs::InputBytes,
    now: OffsetDateTime,
) -> Result<Vec<u8>, String> {
    let bad = |m: String| format!("error: bad input: {m}");
    let request = crate::change_request::parse(&input.bytes).map_err(|e| bad(e.to_string()))?;
    let input = match &request {
        Some(r) => warden_core::inputs::InputBytes {
            name: input.name,
            bytes: r.document.clone(),
        },
        None => input,
    };
    if input.bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(bad(format!(
            "`{}` is empty: send a Terraform plan (JSON) or Kubernetes manifests",
            input.name
        )));
    }
    let mut change = warden_core::inputs::parse(&input).map_err(|e| bad(e.to_string()))?;
    if let Some(r) = &request {
        r.operation
            .check_fits(&change)
            .map_err(|e| bad(e.to_string()))?;
    }
    if policy.wants_raw_documents() {
        if let Some(t) = change.terraform.as_mut() {
            let text = warden_core::inputs::decode_text(&input.name, &input.bytes)
                .map_err(|e| bad(e.to_string()))?;
            t.document = policy.prepare_document(&String::from_utf8_lossy(&text), now);
        }
    }
    let mut decision = policy.evaluate(&[&change], now);
    if change.input.kind == warden_core::InputKind::TerraformPlan {
        warden_policy::locate_lines(&mut decision, &input.name, &input.bytes);
    }
    let mut extra = serde_json::Map::new();
    if let Some(r) = &request {
        extra.insert("request".into(), r.to_json());
    }
    if let Some(hint) = ops::retry_hint(&decision, None, None) {
        extra.insert("retry".into(), hint);
    }
    serde_json::to_vec(&decision)
        .and_then(|text| ops::json_with_members(text, extra))
        .map_err(|e| format!("error: the decision could not be serialized: {e}"))
}

/// Evaluates through [`ops::evaluate`] as the token, the way `POST /v1/evaluate` does.
async fn evaluate_server(
    state: &AppState,
    token: &Token,
    args: &EvaluateChange,
    bytes: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let request = crate::change_request::parse(bytes)?;
    let context = request.as_ref().map(|r| &r.context);
    let space = match (
        args.space.as_deref().filter(|s| !s.is_empty()),
        context.and_then(|c| c.space.as_deref()),
    ) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::bad_request(format!(
                "`space` is `{a}` and the change request's context says `{b}`"
            )))
        }
        (Some(s), _) | (None, Some(s)) => s,
        (None, None) => {
            return Err(ApiError::bad_request(
                "`space` is required (or `context.space` in a change request)",
            ))
        }
    };
    ops::evaluate(
        state,
        token,
        ops::EvaluateRequest {
            space,
            subject: args
                .subject
                .as_deref()
                .or_else(|| context.and_then(|c| c.subject.as_deref())),
            body: request.as_ref().map_or(bytes, |r| &r.document[..]),
            request: request.as_ref(),
            open_approval: true,
            checkpoint: None,
        },
    )
    .await
}

/// The `/mcp` endpoint: streamable HTTP, stateless (no session kept between requests, so
/// any replica answers), JSON responses. The route in [`crate::router`] authenticates the
/// bearer token first and puts the [`Token`] in the request's extensions.
#[must_use]
pub fn service(
    state: AppState,
) -> rmcp::transport::streamable_http_server::StreamableHttpService<
    WardenMcp,
    rmcp::transport::streamable_http_server::session::never::NeverSessionManager,
> {
    use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(crate::MAX_BODY_BYTES)
        // The Host check protects unauthenticated servers on loopback from DNS rebinding;
        // every call here carries a bearer token a browser page does not have, and the
        // server is reached by whatever name it is deployed under.
        .disable_allowed_hosts();
    rmcp::transport::streamable_http_server::StreamableHttpService::new(
        move || Ok(WardenMcp::new(Backend::Server(state.clone()))),
        Arc::default(),
        config,
    )
}

/// Why `warden mcp` stopped serving.
#[derive(Debug, thiserror::Error)]
#[error("MCP over stdio: {0}")]
pub struct StdioError(String);

/// Serves the tools over standard input and output (newline-delimited JSON-RPC) until the
/// client closes the stream. Nothing else may be written to stdout meanwhile.
pub async fn serve_stdio(handler: WardenMcp) -> Result<(), StdioError> {
    use rmcp::ServiceExt as _;
    let running = handler
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| StdioError(e.to_string()))?;
    running
        .waiting()
        .await
        .map(|_| ())
        .map_err(|e| StdioError(e.to_string()))
}
