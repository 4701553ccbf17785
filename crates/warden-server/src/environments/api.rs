//! The environment operations with their authorisation, shared by the HTTP handlers, the
//! MCP tools and the reconcile loop: publish and read blueprints (publishing needs
//! `policy-author`), launch, extend and terminate (`requester` in the space), read (any role
//! in the space).
//!
//! Every request is one recorded decision through [`ops::decide`] (operation `launch`,
//! `extend` or `terminate`), its checkpoint findings added: a launch or teardown evaluates the
//! runner's plan; a request decided before any plan (a launch the checkpoint already denies,
//! an extension) evaluates an empty plan whose variables carry the request, so its digest —
//! the one an approval is bound to — names exactly that request.

use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;
use warden_core::{Enforcement, Outcome};
use warden_policy::environments::{parse_duration, EnvironmentSettings, SpaceEnvironments};
use warden_store::{
    model::parse_actor_kind, Actor, Environment, EnvironmentFilter, EnvironmentState as S,
    EnvironmentUpdate, NewBlueprint, NewEnvironment, Role, Token,
};

use super::blueprint::BlueprintSpec;
use super::checkpoint::{self, Checkpoint};
use super::runner::{Runner, RunnerError};
use crate::change_request::{ChangeRequest, Operation, RequestContext};
use crate::error::ApiError;
use crate::ops::{self, require_role, require_space, AppState, Decided};

/// The live states: environments that count against limits and budgets.
#[must_use]
pub fn live_states() -> Vec<S> {
    S::ALL.into_iter().filter(|s| s.is_live()).collect()
}

fn rfc3339(t: OffsetDateTime) -> Option<String> {
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// An environment as the API shows it.
#[must_use]
pub fn environment_json(e: &Environment) -> Value {
    json!({
        "id": e.id,
        "blueprint": e.blueprint,
        "version": e.version,
        "space": e.space,
        "owner": e.owner,
        "owner_kind": e.owner_kind,
        "inputs": e.inputs,
        "state": e.state.as_str(),
        "created_at": rfc3339(e.created_at),
        "updated_at": rfc3339(e.updated_at),
        "ends_at": rfc3339(e.ends_at),
        "pending_ends_at": e.pending_ends_at.and_then(rfc3339),
        "outputs": e.outputs,
        "monthly_cost": e.monthly_cost,
        "decision_id": e.decision_id,
        "approval_id": e.approval_id,
        "teardown_attempts": e.teardown_attempts,
        "next_attempt_at": e.next_attempt_at.and_then(rfc3339),
        "flagged_reason": e.flagged_reason,
    })
}

/// A blueprint version as the API shows it: the stored record and the parsed file.
#[must_use]
pub fn blueprint_json(b: &warden_store::Blueprint) -> Value {
    let spec = BlueprintSpec::parse(&format!("blueprint {}", b.name), &b.document);
    let mut v = match &spec {
        Ok(s) => s.to_json(),
        Err(e) => json!({"name": b.name, "error": e.to_string()}),
    };
    if let Value::Object(m) = &mut v {
        m.insert("version".into(), json!(b.version));
        m.insert("digest".into(), json!(b.digest));
        m.insert("published_by".into(), json!(b.published_by));
        m.insert("published_at".into(), json!(rfc3339(b.published_at)));
        m.insert("document".into(), json!(b.document));
    }
    v
}

fn store_err(doing: &'static str) -> impl Fn(warden_store::StoreError) -> ApiError {
    move |e| ApiError::store(doing, e)
}

/// Publishes a blueprint file (policy-author role): validated first, stored as a new
/// version when it changed.
pub async fn publish(
    state: &AppState,
    token: &Token,
    file: &str,
    text: &str,
) -> Result<warden_store::Blueprint, ApiError> {
    require_role(token, Role::PolicyAuthor, "publishing a blueprint")?;
    let spec =
        BlueprintSpec::parse(file, text).map_err(|e| ApiError::bad_request(e.to_string()))?;
    state
        .store
        .publish_blueprint(
            &Actor::from_token(token),
            &NewBlueprint {
                name: spec.name,
                document: text.to_owned(),
            },
        )
        .await
        .map_err(store_err("publishing the blueprint"))
}

/// Every blueprint's latest version (any role).
pub async fn blueprints(
    state: &AppState,
    token: &Token,
) -> Result<Vec<warden_store::Blueprint>, ApiError> {
    require_any_role(token)?;
    state
        .store
        .blueprints()
        .await
        .map_err(store_err("listing blueprints"))
}

/// A blueprint's latest version (any role).
pub async fn blueprint(
    state: &AppState,
    token: &Token,
    name: &str,
) -> Result<warden_store::Blueprint, ApiError> {
    require_any_role(token)?;
    state
        .store
        .blueprint(name, None)
        .await
        .map_err(store_err("reading the blueprint"))?
        .ok_or_else(|| ApiError::NotFound(format!("blueprint `{name}` not found")))
}

fn require_any_role(token: &Token) -> Result<(), ApiError> {
    if token.roles.is_empty() {
        return Err(ApiError::Forbidden(format!(
            "token `{}` has no role",
            token.name
        )));
    }
    Ok(())
}

/// An environment the token may see.
pub async fn environment(
    state: &AppState,
    token: &Token,
    id: i64,
) -> Result<Environment, ApiError> {
    require_any_role(token)?;
    state
        .store
        .environment(id)
        .await
        .map_err(store_err("reading the environment"))?
        .filter(|e| token.allows_space(&e.space))
        .ok_or_else(|| ApiError::NotFound(format!("environment {id} not found")))
}

/// Environments in the token's spaces, by id.
pub async fn environments(
    state: &AppState,
    token: &Token,
    space: Option<&str>,
    filter_state: Option<S>,
) -> Result<Vec<Environment>, ApiError> {
    require_any_role(token)?;
    if let Some(space) = space {
        require_space(token, space)?;
    }
    let all = state
        .store
        .environments(&EnvironmentFilter {
            space: space.map(str::to_owned),
            states: filter_state.into_iter().collect(),
        })
        .await
        .map_err(store_err("listing environments"))?;
    Ok(all
        .into_iter()
        .filter(|e| token.allows_space(&e.space))
        .collect())
}

/// A launch request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchRequest {
    /// Blueprint name (its latest version is launched).
    pub blueprint: String,
    /// The space.
    pub space: String,
    /// Inputs by name (text is read as the input's declared type).
    #[serde(default)]
    pub inputs: serde_json::Map<String, Value>,
    /// How long (`8h`); the blueprint's default when absent.
    #[serde(default)]
    pub duration: Option<String>,
}

/// An extension request: a new end (`until`, RFC 3339) or more time (`by`, `4h`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendRequest {
    /// The new end.
    #[serde(default)]
    pub until: Option<String>,
    /// Time added to the current end.
    #[serde(default)]
    pub by: Option<String>,
}

/// What an operation answers: the decision (as `/v1/evaluate` returns it) when one was
/// made, and the environment.
#[derive(Debug)]
pub struct Answer {
    /// The decision made.
    pub decided: Option<Decided>,
    /// The environment afterwards.
    pub environment: Environment,
    /// A runner failure, when the operation stopped on one.
    pub error: Option<String>,
}

impl Answer {
    /// The JSON answer: the decision document plus `decision_id`, `approval` and
    /// `environment` (and `error`).
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut out = match &self.decided {
            Some(d) => {
                let mut v: Value = serde_json::from_str(&d.text).unwrap_or_else(|_| json!({}));
                if let Value::Object(m) = &mut v {
                    m.insert("decision_id".into(), json!(d.record_id));
                    if let Some(a) = &d.opened {
                        m.insert("approval".into(), ops::approval_json(a));
                    }
                    if let Some(a) = &d.cited {
                        m.insert("approved_by".into(), ops::approval_json(a));
                    }
                    if d.decision.outcome != Outcome::Allow {
                        if let Some(hint) =
                            ops::retry_hint(&d.decision, d.opened.as_ref().map(|a| a.id), None)
                        {
                            m.insert("retry".into(), hint);
                        }
                    }
                }
                v
            }
            None => json!({}),
        };
        if let Value::Object(m) = &mut out {
            m.insert("environment".into(), environment_json(&self.environment));
            if let Some(e) = &self.error {
                m.insert("error".into(), json!(e));
            }
        }
        out
    }
}

/// The settings, the runner and the space's environment limits in force.
pub(crate) struct InForce {
    pub(crate) settings: EnvironmentSettings,
    pub(crate) space: SpaceEnvironments,
    pub(crate) agent_limit: Option<u32>,
    pub(crate) runner: Runner,
}

pub(crate) fn in_force(state: &AppState, space: &str) -> Result<InForce, ApiError> {
    let policies = state.policies.current();
    let config = policies.account().config();
    let settings = config.environments.clone();
    let runner = Runner::from_settings(&settings)
        .map_err(|e| ApiError::Conflict(format!("{e} (environments are off)")))?;
    let space = config.spaces.get(space).map_or(
        SpaceEnvironments {
            budget_monthly: None,
            limits: settings.limits,
        },
        |s| s.environments,
    );
    Ok(InForce {
        agent_limit: config.agents.max_environments,
        settings,
        space,
        runner,
    })
}

/// The actor the reconcile loop acts as for an environment's owner.
#[must_use]
pub fn owner_actor(env: &Environment) -> Actor {
    Actor {
        principal: env.owner.clone(),
        kind: parse_actor_kind(&env.owner_kind),
        roles: vec![Role::Requester],
    }
}

/// The blueprint version an environment was launched from, parsed.
pub(crate) async fn spec_of(
    state: &AppState,
    env: &Environment,
) -> Result<BlueprintSpec, ApiError> {
    let bp = state
        .store
        .blueprint(&env.blueprint, Some(env.version))
        .await
        .map_err(store_err("reading the blueprint"))?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "blueprint {} version {} not found",
                env.blueprint, env.version
            ))
        })?;
    BlueprintSpec::parse(&format!("blueprint {}", bp.name), &bp.document).map_err(|e| {
        ApiError::Internal {
            public: "the stored blueprint cannot be read".into(),
            detail: e.to_string(),
        }
    })
}

/// An empty plan whose variables carry the request: what a request decided before any plan
/// is evaluated as (its digest names exactly this request).
fn request_document(env: &Environment, operation: Operation, detail: Value) -> Vec<u8> {
    json!({
        "format_version": "1.2",
        "terraform_version": "warden-checkpoint",
        "variables": {"warden_request": {"value": {
            "environment": env.id,
            "blueprint": env.blueprint,
            "version": env.version,
            "space": env.space,
            "operation": operation.as_str(),
            "detail": detail,
        }}},
        "resource_changes": [],
    })
    .to_string()
    .into_bytes()
}

/// Decides a request on an environment as `actor`, through [`ops::decide`].
pub(crate) async fn decide(
    state: &AppState,
    actor: &Actor,
    env: &Environment,
    operation: Operation,
    body: Vec<u8>,
    checkpoint: Option<&Checkpoint>,
) -> Result<Decided, ApiError> {
    let subject = format!("environment/{}/{}", env.id, operation.as_str());
    let request = ChangeRequest {
        operation,
        document: body,
        context: RequestContext {
            space: Some(env.space.clone()),
            environment: Some(format!("environment/{}", env.id)),
            subject: Some(subject.clone()),
            ..RequestContext::default()
        },
    };
    let decided = ops::decide(
        state,
        actor,
        ops::EvaluateRequest {
            space: &env.space,
            subject: Some(&subject),
            body: &request.document,
            request: Some(&request),
            open_approval: true,
            checkpoint,
        },
        None,
        None,
    )
    .await?;
    state
        .metrics
        .environment_operation(operation.as_str(), decided.decision.outcome.as_str());
    Ok(decided)
}

async fn update(
    state: &AppState,
    actor: &Actor,
    id: i64,
    update: EnvironmentUpdate,
) -> Result<Environment, ApiError> {
    state
        .store
        .update_environment(actor, id, &update)
        .await
        .map_err(|e| match e {
            warden_store::StoreError::Conflict(m) => ApiError::Conflict(m),
            other => ApiError::store("updating the environment", other),
        })
}

/// The checkpoint of a launch: the environments running besides this one counted.
async fn launch_checkpoint(
    state: &AppState,
    force: &InForce,
    env: &Environment,
    spec: &BlueprintSpec,
    mut findings: Vec<warden_core::Finding>,
) -> Result<Checkpoint, ApiError> {
    let running: Vec<Environment> = state
        .store
        .environments(&EnvironmentFilter {
            space: None,
            states: live_states(),
        })
        .await
        .map_err(store_err("listing environments"))?
        .into_iter()
        .filter(|e| e.id != env.id)
        .collect();
    let resource = format!("environment/{}", env.id);
    findings.extend(checkpoint::space_finding(spec, &env.space, &resource));
    let total = env.ends_at - env.created_at;
    findings.extend(checkpoint::duration_finding(
        spec,
        total.try_into().unwrap_or_default(),
        &format!("environment {}", env.id),
        &resource,
    ));
    findings.extend(checkpoint::concurrency_findings(
        &force.settings,
        &force.space,
        if env.owner_kind == "agent" {
            force.agent_limit
        } else {
            None
        },
        &running,
        &env.owner,
        &env.space,
        &resource,
    ));
    let committed = checkpoint::running_cost_by_space(&running)
        .get(&env.space)
        .copied()
        .unwrap_or(0.0);
    Ok(Checkpoint {
        findings,
        resource,
        cap: force.space.limits.max_monthly_cost,
        budget: force
            .space
            .budget_monthly
            .map(|b| (env.space.clone(), b, committed)),
        fallback_cost: spec.monthly_cost,
    })
}

/// Launches an environment (requester role in the space).
pub async fn launch(
    state: &AppState,
    token: &Token,
    request: &LaunchRequest,
) -> Result<Answer, ApiError> {
    require_role(token, Role::Requester, "launching an environment")?;
    require_space(token, &request.space)?;
    let force = in_force(state, &request.space)?;
    let store = state.store.as_ref();
    if store
        .space(&request.space)
        .await
        .map_err(store_err("looking up the space"))?
        .is_none()
    {
        return Err(ApiError::NotFound(format!(
            "space `{}` does not exist",
            request.space
        )));
    }
    let bp = blueprint(state, token, &request.blueprint).await?;
    let spec =
        BlueprintSpec::parse(&format!("blueprint {}", bp.name), &bp.document).map_err(|e| {
            ApiError::Internal {
                public: "the stored blueprint cannot be read".into(),
                detail: e.to_string(),
            }
        })?;
    let duration = match &request.duration {
        Some(d) => {
            parse_duration(d).map_err(|m| ApiError::bad_request(format!("duration: {m}")))?
        }
        None => spec.default_duration,
    };
    let (inputs, findings) =
        checkpoint::resolve_inputs(&spec, &request.inputs, &format!("blueprint/{}", spec.name));
    let actor = Actor::from_token(token);
    let env = store
        .create_environment(
            &actor,
            &NewEnvironment {
                blueprint: bp.name.clone(),
                version: bp.version,
                space: request.space.clone(),
                inputs: Value::Object(inputs),
                state: S::Launching,
                ends_at: store.now()
                    + time::Duration::try_from(duration).unwrap_or(time::Duration::DAY),
                monthly_cost: None,
                detail: json!({
                    "duration": warden_policy::environments::format_duration(duration),
                    "inputs_given": request.inputs,
                }),
            },
        )
        .await
        .map_err(store_err("creating the environment"))?;
    let _claim = state.environment_work.claim(env.id);
    run_launch(state, &actor, &force, env, &spec, findings).await
}

/// Plans, decides and (when allowed) applies a launch; also how the reconcile loop resumes
/// an interrupted launch or one whose approval was granted.
pub(crate) async fn run_launch(
    state: &AppState,
    actor: &Actor,
    force: &InForce,
    env: Environment,
    spec: &BlueprintSpec,
    findings: Vec<warden_core::Finding>,
) -> Result<Answer, ApiError> {
    let check = launch_checkpoint(state, force, &env, spec, findings).await?;
    let from = vec![S::Launching, S::PendingApproval];
    let vars = env.inputs.as_object().cloned().unwrap_or_default();
    if check
        .findings
        .iter()
        .any(|f| f.enforcement == Enforcement::Deny)
    {
        // Denied before any plan: nothing is run.
        let body = request_document(&env, Operation::Launch, json!({"inputs": env.inputs}));
        let decided = decide(state, actor, &env, Operation::Launch, body, Some(&check)).await?;
        return finish_launch(state, actor, env.id, decided, None, &check, from).await;
    }
    let failed = |env_id: i64, e: RunnerError| async move {
        let environment = update(
            state,
            &Actor::system(),
            env_id,
            EnvironmentUpdate {
                event: "launch_failed".into(),
                from: vec![S::Launching, S::PendingApproval],
                state: Some(S::Failed),
                detail: json!({"error": e.to_string()}),
                ..EnvironmentUpdate::default()
            },
        )
        .await?;
        Ok::<Answer, ApiError>(Answer {
            decided: None,
            environment,
            error: Some(e.to_string()),
        })
    };
    let folder = match force.runner.prepare(env.id, Path::new(&spec.source.path)) {
        Ok(f) => f,
        Err(e) => return failed(env.id, e).await,
    };
    let plan = match force.runner.plan(&folder, &vars, false).await {
        Ok(p) => p,
        Err(e) => return failed(env.id, e).await,
    };
    let decided = decide(state, actor, &env, Operation::Launch, plan, Some(&check)).await?;
    let applied = if matches!(decided.decision.outcome, Outcome::Allow | Outcome::Warn) {
        match force.runner.apply(&folder, false).await {
            Ok(()) => Some(force.runner.outputs(&folder).await),
            Err(e) => Some(Err(e)),
        }
    } else {
        None
    };
    if let Some(Err(e)) = applied {
        return failed(env.id, e).await;
    }
    finish_launch(
        state,
        actor,
        env.id,
        decided,
        applied.and_then(Result::ok),
        &check,
        from,
    )
    .await
}

async fn finish_launch(
    state: &AppState,
    actor: &Actor,
    id: i64,
    decided: Decided,
    outputs: Option<Value>,
    check: &Checkpoint,
    from: Vec<S>,
) -> Result<Answer, ApiError> {
    let outcome = decided.decision.outcome;
    let cost = check.monthly_cost(&decided.decision);
    let base = EnvironmentUpdate {
        from,
        decision_id: Some(decided.record_id),
        monthly_cost: cost,
        ..EnvironmentUpdate::default()
    };
    let change = match outcome {
        Outcome::Allow | Outcome::Warn => EnvironmentUpdate {
            event: "launched".into(),
            state: Some(S::Active),
            detail: json!({"decision_id": decided.record_id, "outcome": outcome.as_str(),
                           "approved_by": decided.cited.as_ref().map(|a| a.id)}),
            outputs,
            approval_id: Some(None),
            ..base
        },
        Outcome::RequireApproval => EnvironmentUpdate {
            event: "approval_required".into(),
            state: Some(S::PendingApproval),
            detail: json!({"decision_id": decided.record_id,
                           "approval_id": decided.opened.as_ref().map(|a| a.id)}),
            approval_id: Some(decided.opened.as_ref().map(|a| a.id)),
            ..base
        },
        Outcome::Deny => EnvironmentUpdate {
            event: "denied".into(),
            state: Some(S::Denied),
            detail: json!({"decision_id": decided.record_id,
                           "rules": decided.decision.findings.iter()
                               .filter(|f| f.enforcement == Enforcement::Deny)
                               .map(|f| f.rule_id.clone()).collect::<Vec<_>>()}),
            ..base
        },
    };
    let environment = update(state, actor, id, change).await?;
    Ok(Answer {
        decided: Some(decided),
        environment,
        error: None,
    })
}

/// Extends an environment (requester role in its space): a new end within the blueprint's
/// maximum is allowed; beyond it needs approval, and the reconcile loop (or the same request
/// again) moves the end once the approval is granted.
pub async fn extend(
    state: &AppState,
    token: &Token,
    id: i64,
    request: &ExtendRequest,
) -> Result<Answer, ApiError> {
    require_role(token, Role::Requester, "extending an environment")?;
    let env = environment(state, token, id).await?;
    require_space(token, &env.space)?;
    let new_end = match (&request.until, &request.by) {
        (Some(u), None) => OffsetDateTime::parse(u, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ApiError::bad_request(format!("until: `{u}` is not an RFC 3339 time")))?,
        (None, Some(b)) => {
            let d = parse_duration(b).map_err(|m| ApiError::bad_request(format!("by: {m}")))?;
            env.ends_at + time::Duration::try_from(d).unwrap_or(time::Duration::DAY)
        }
        _ => {
            return Err(ApiError::bad_request(
                "give `until` (RFC 3339) or `by` (a duration like 4h)",
            ))
        }
    };
    extend_to(state, &Actor::from_token(token), env, new_end).await
}

/// Decides an extension of `env` to `new_end` as `actor` and applies the answer.
pub(crate) async fn extend_to(
    state: &AppState,
    actor: &Actor,
    env: Environment,
    new_end: OffsetDateTime,
) -> Result<Answer, ApiError> {
    if !matches!(env.state, S::Active | S::Expiring) {
        return Err(ApiError::Conflict(format!(
            "environment {} is {}: only an active one can be extended",
            env.id,
            env.state.as_str()
        )));
    }
    if new_end <= env.ends_at {
        return Err(ApiError::bad_request(format!(
            "the new end must be after the current one ({})",
            rfc3339(env.ends_at).unwrap_or_default()
        )));
    }
    let spec = spec_of(state, &env).await?;
    let resource = format!("environment/{}", env.id);
    let check = Checkpoint {
        findings: checkpoint::duration_finding(
            &spec,
            (new_end - env.created_at).try_into().unwrap_or_default(),
            &format!("environment {}", env.id),
            &resource,
        )
        .into_iter()
        .collect(),
        resource,
        ..Checkpoint::default()
    };
    let body = request_document(
        &env,
        Operation::Extend,
        json!({"ends_at": rfc3339(new_end)}),
    );
    let decided = decide(state, actor, &env, Operation::Extend, body, Some(&check)).await?;
    let base = EnvironmentUpdate {
        from: vec![S::Active, S::Expiring],
        decision_id: Some(decided.record_id),
        ..EnvironmentUpdate::default()
    };
    let detail = json!({"decision_id": decided.record_id, "ends_at": rfc3339(new_end),
                        "previous_ends_at": rfc3339(env.ends_at)});
    let change = match decided.decision.outcome {
        Outcome::Allow | Outcome::Warn => EnvironmentUpdate {
            event: "extended".into(),
            state: Some(S::Active),
            detail,
            ends_at: Some(new_end),
            pending_ends_at: Some(None),
            approval_id: Some(None),
            ..base
        },
        Outcome::RequireApproval => EnvironmentUpdate {
            event: "extension_requested".into(),
            detail,
            pending_ends_at: Some(Some(new_end)),
            approval_id: Some(decided.opened.as_ref().map(|a| a.id)),
            ..base
        },
        Outcome::Deny => EnvironmentUpdate {
            event: "extension_denied".into(),
            detail,
            ..base
        },
    };
    let environment = update(state, actor, env.id, change).await?;
    Ok(Answer {
        decided: Some(decided),
        environment,
        error: None,
    })
}

/// Terminates an environment (requester role in its space): the destroy plan is decided
/// (operation `terminate`) and applied when allowed. A flagged one (`teardown_failed`) is
/// retried from its first attempt; one still waiting for its launch approval is cancelled.
pub async fn terminate(state: &AppState, token: &Token, id: i64) -> Result<Answer, ApiError> {
    require_role(token, Role::Requester, "terminating an environment")?;
    let env = environment(state, token, id).await?;
    require_space(token, &env.space)?;
    let actor = Actor::from_token(token);
    let Some(_claim) = state.environment_work.claim(env.id) else {
        return Err(ApiError::Conflict(format!(
            "environment {id} is being worked on; try again shortly"
        )));
    };
    match env.state {
        S::PendingApproval => {
            let environment = update(
                state,
                &actor,
                id,
                EnvironmentUpdate {
                    event: "cancelled".into(),
                    from: vec![S::PendingApproval],
                    state: Some(S::Terminated),
                    detail: json!({"reason": "terminated before its launch was approved"}),
                    approval_id: Some(None),
                    ..EnvironmentUpdate::default()
                },
            )
            .await?;
            Ok(Answer {
                decided: None,
                environment,
                error: None,
            })
        }
        S::Active | S::Expiring | S::Expired | S::TeardownFailed | S::Terminating => {
            let force = in_force(state, &env.space)?;
            super::lifecycle::teardown(state, &force, &actor, env, true).await
        }
        other => Err(ApiError::Conflict(format!(
            "environment {id} is {}: nothing to terminate",
            other.as_str()
        ))),
    }
}
