//! The lifecycle: teardown with retries, and the reconcile loop of `warden serve`.
//!
//! ```text
//!   launch ─► launching ─┬─► active ──► expiring ──► expired ──► terminating ─┬─► terminated
//!                        ├─► pending_approval ─► (approved) launching           └─► teardown_failed
//!                        ├─► denied                                                 (flagged; retried
//!                        └─► failed                                                  on terminate)
//! ```
//!
//! Every pass reads the environments from the store, so a restarted server resumes where the
//! last one stopped: launches left `launching` are planned again, teardowns left
//! `terminating` are attempted again when due, approvals granted meanwhile are acted on.
//! Each transition is one store update with its event and audit record.

use std::path::Path;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::json;
use warden_core::Outcome;
use warden_store::{
    Actor, ApprovalState, Environment, EnvironmentFilter, EnvironmentState as S, EnvironmentUpdate,
};

use super::api::{self, Answer, InForce};
use crate::change_request::Operation;
use crate::error::ApiError;
use crate::ops::AppState;

/// Longest wait between teardown attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// How long the expiry notification may take.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// Tears an environment down: `plan -destroy`, the plan decided (operation `terminate`),
/// `apply`. On request (`requested`) a deny or require_approval stops it and the
/// environment stays as it was; on expiry the decision is recorded and the teardown goes on
/// (the environment's time is up). A failed attempt is counted and retried with backoff
/// until `teardown-max-attempts`, then the environment is flagged `teardown_failed`.
pub(crate) async fn teardown(
    state: &AppState,
    force: &InForce,
    actor: &Actor,
    env: Environment,
    requested: bool,
) -> Result<Answer, ApiError> {
    let previous = env.state;
    let retry_flagged = previous == S::TeardownFailed;
    let env = state
        .store
        .update_environment(
            actor,
            env.id,
            &EnvironmentUpdate {
                event: "teardown_started".into(),
                from: vec![previous],
                state: Some(S::Terminating),
                detail: json!({"requested": requested, "from": previous.as_str()}),
                teardown_attempts: retry_flagged.then_some(0),
                flagged_reason: retry_flagged.then_some(None),
                next_attempt_at: Some(None),
                ..EnvironmentUpdate::default()
            },
        )
        .await
        .map_err(|e| ApiError::store("starting the teardown", e))?;
    let attempt = env.teardown_attempts + 1;
    let folder = force.runner.folder(env.id);
    let vars = env.inputs.as_object().cloned().unwrap_or_default();
    let result: Result<Option<crate::ops::Decided>, String> = async {
        if !Path::new(&folder).is_dir() {
            // Never applied here: nothing to destroy.
            return Ok(None);
        }
        let plan = force
            .runner
            .plan(&folder, &vars, true)
            .await
            .map_err(|e| e.to_string())?;
        let decided = api::decide(state, actor, &env, Operation::Terminate, plan, None)
            .await
            .map_err(|e| e.to_string())?;
        if requested && !matches!(decided.decision.outcome, Outcome::Allow | Outcome::Warn) {
            return Ok(Some(decided));
        }
        force
            .runner
            .apply(&folder, true)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Some(decided))
    }
    .await;
    let store = state.store.as_ref();
    let now = store.now();
    let change = match &result {
        Ok(Some(d))
            if requested && !matches!(d.decision.outcome, Outcome::Allow | Outcome::Warn) =>
        {
            EnvironmentUpdate {
                event: "terminate_blocked".into(),
                state: Some(if previous == S::Terminating {
                    S::Active
                } else {
                    previous
                }),
                detail: json!({"decision_id": d.record_id, "outcome": d.decision.outcome.as_str()}),
                decision_id: Some(d.record_id),
                ..EnvironmentUpdate::default()
            }
        }
        Ok(d) => {
            state.metrics.teardown_attempt(true);
            EnvironmentUpdate {
                event: "terminated".into(),
                state: Some(S::Terminated),
                detail: json!({"attempt": attempt,
                               "decision_id": d.as_ref().map(|d| d.record_id),
                               "outcome": d.as_ref().map(|d| d.decision.outcome.as_str())}),
                decision_id: d.as_ref().map(|d| d.record_id),
                teardown_attempts: Some(attempt),
                approval_id: Some(None),
                ..EnvironmentUpdate::default()
            }
        }
        Err(error) => {
            state.metrics.teardown_attempt(false);
            if attempt >= force.settings.teardown_max_attempts {
                EnvironmentUpdate {
                    event: "teardown_failed".into(),
                    state: Some(S::TeardownFailed),
                    detail: json!({"attempt": attempt, "error": error}),
                    teardown_attempts: Some(attempt),
                    flagged_reason: Some(Some(format!(
                        "teardown failed {attempt} times; last error: {error}"
                    ))),
                    ..EnvironmentUpdate::default()
                }
            } else {
                let wait = backoff(force.settings.reconcile_interval, attempt);
                EnvironmentUpdate {
                    event: "teardown_attempt_failed".into(),
                    detail: json!({"attempt": attempt, "error": error,
                                   "retry_in_seconds": wait.as_secs()}),
                    teardown_attempts: Some(attempt),
                    next_attempt_at: Some(Some(
                        now + time::Duration::try_from(wait).unwrap_or(time::Duration::HOUR),
                    )),
                    ..EnvironmentUpdate::default()
                }
            }
        }
    };
    let environment = store
        .update_environment(
            actor,
            env.id,
            &EnvironmentUpdate {
                from: vec![S::Terminating],
                ..change
            },
        )
        .await
        .map_err(|e| ApiError::store("recording the teardown", e))?;
    if environment.state == S::Terminated {
        super::drift::close(state, &environment).await;
    }
    Ok(Answer {
        decided: result
            .as_ref()
            .ok()
            .and_then(|d| d.as_ref())
            .map(|d| crate::ops::Decided {
                decision: d.decision.clone(),
                text: d.text.clone(),
                record_id: d.record_id,
                opened: d.opened.clone(),
                cited: d.cited.clone(),
                memoized: d.memoized,
                attempt: None,
            }),
        environment,
        error: result.err(),
    })
}

/// The wait before attempt `attempt + 1`: the interval doubled per failed attempt.
#[must_use]
pub fn backoff(interval: Duration, attempt: u32) -> Duration {
    interval
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF)
}

/// Runs [`reconcile`] every `[environments] reconcile-interval-seconds` (read again each
/// time, so a reload applies) until the task is dropped. Off while no runner is configured.
pub async fn run(state: AppState) {
    loop {
        let settings = state
            .policies
            .current()
            .account()
            .config()
            .environments
            .clone();
        if settings.enabled() {
            if let Err(e) = reconcile(&state).await {
                tracing::warn!(error = %e, "environment reconcile pass failed");
            }
        }
        tokio::time::sleep(settings.reconcile_interval).await;
    }
}

/// One pass over the live environments: acts on granted or refused approvals, notifies
/// expiring ones, expires and tears down those past their end, resumes interrupted launches
/// and teardowns. Returns how many environments changed.
///
/// # Errors
/// When the store cannot be read; one environment's failure is logged and the pass goes on.
pub async fn reconcile(state: &AppState) -> Result<usize, ApiError> {
    let live = state
        .store
        .environments(&EnvironmentFilter {
            space: None,
            states: api::live_states(),
        })
        .await
        .map_err(|e| ApiError::store("listing environments", e))?;
    let mut changed = 0;
    for env in live {
        let Some(_claim) = state.environment_work.claim(env.id) else {
            continue;
        };
        let id = env.id;
        match step(state, env).await {
            Ok(true) => changed += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(environment = id, error = %e, "environment step failed"),
        }
    }
    Ok(changed)
}

async fn approval_state(
    state: &AppState,
    id: Option<i64>,
) -> Result<Option<ApprovalState>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    Ok(state
        .store
        .approval(id)
        .await
        .map_err(|e| ApiError::store("reading the approval", e))?
        .map(|a| a.state))
}

async fn step(state: &AppState, env: Environment) -> Result<bool, ApiError> {
    let force = api::in_force(state, &env.space)?;
    let now = state.store.now();
    let system = Actor::system();
    match env.state {
        S::PendingApproval => match approval_state(state, env.approval_id).await? {
            Some(ApprovalState::Approved) => {
                let spec = api::spec_of(state, &env).await?;
                api::run_launch(
                    state,
                    &api::owner_actor(&env),
                    &force,
                    env,
                    &spec,
                    Vec::new(),
                )
                .await?;
                Ok(true)
            }
            Some(ApprovalState::Pending) => Ok(false),
            other => {
                state
                    .store
                    .update_environment(
                        &system,
                        env.id,
                        &EnvironmentUpdate {
                            event: "denied".into(),
                            from: vec![S::PendingApproval],
                            state: Some(S::Denied),
                            detail: json!({"approval_id": env.approval_id,
                                           "approval": other.map(ApprovalState::as_str)}),
                            ..EnvironmentUpdate::default()
                        },
                    )
                    .await
                    .map_err(|e| ApiError::store("recording the refusal", e))?;
                Ok(true)
            }
        },
        S::Launching => {
            // Left by a process that stopped mid-launch: plan again (idempotent).
            let spec = api::spec_of(state, &env).await?;
            api::run_launch(
                state,
                &api::owner_actor(&env),
                &force,
                env,
                &spec,
                Vec::new(),
            )
            .await?;
            Ok(true)
        }
        S::Active | S::Expiring => {
            if let Some(pending) = env.pending_ends_at {
                match approval_state(state, env.approval_id).await? {
                    Some(ApprovalState::Approved) => {
                        api::extend_to(state, &api::owner_actor(&env), env, pending).await?;
                        return Ok(true);
                    }
                    Some(ApprovalState::Pending) => {}
                    _ => {
                        state
                            .store
                            .update_environment(
                                &system,
                                env.id,
                                &EnvironmentUpdate {
                                    event: "extension_refused".into(),
                                    detail: json!({"approval_id": env.approval_id}),
                                    pending_ends_at: Some(None),
                                    approval_id: Some(None),
                                    ..EnvironmentUpdate::default()
                                },
                            )
                            .await
                            .map_err(|e| ApiError::store("recording the refusal", e))?;
                        return Ok(true);
                    }
                }
            }
            // The notice always goes out before expiry, even when the end passed while
            // the server was down.
            let notice = time::Duration::try_from(force.settings.notify_before)
                .unwrap_or(time::Duration::ZERO);
            if env.state == S::Active && now >= env.ends_at - notice {
                let sent = match &force.settings.notify_url {
                    Some(url) => Some(notify(url, &env).await),
                    None => None,
                };
                state
                    .store
                    .update_environment(
                        &system,
                        env.id,
                        &EnvironmentUpdate {
                            event: "expiring".into(),
                            from: vec![S::Active],
                            state: Some(S::Expiring),
                            detail: json!({
                                "notify_url": force.settings.notify_url,
                                "notified": sent.as_ref().map(Result::is_ok),
                                "error": sent.and_then(Result::err),
                            }),
                            ..EnvironmentUpdate::default()
                        },
                    )
                    .await
                    .map_err(|e| ApiError::store("recording the expiry notice", e))?;
                return Ok(true);
            }
            if now >= env.ends_at {
                let expired = state
                    .store
                    .update_environment(
                        &system,
                        env.id,
                        &EnvironmentUpdate {
                            event: "expired".into(),
                            from: vec![S::Active, S::Expiring],
                            state: Some(S::Expired),
                            detail: json!({"ends_at": api::environment_json(&env)["ends_at"]}),
                            ..EnvironmentUpdate::default()
                        },
                    )
                    .await
                    .map_err(|e| ApiError::store("expiring the environment", e))?;
                teardown(state, &force, &system, expired, false).await?;
                return Ok(true);
            }
            Ok(false)
        }
        S::Expired => {
            teardown(state, &force, &system, env, false).await?;
            Ok(true)
        }
        S::Terminating => {
            if env.next_attempt_at.is_none_or(|t| now >= t) {
                teardown(state, &force, &system, env, false).await?;
                Ok(true)
            } else {
                Ok(false)
            }
        }
        S::TeardownFailed | S::Terminated | S::Denied | S::Failed => Ok(false),
    }
}

/// POSTs the expiry notice (`{"event": "environment.expiring", "environment", "blueprint",
/// "space", "owner", "ends_at"}`) to `url`.
async fn notify(url: &str, env: &Environment) -> Result<(), String> {
    let body = json!({
        "event": "environment.expiring",
        "environment": env.id,
        "blueprint": env.blueprint,
        "space": env.space,
        "owner": env.owner,
        "ends_at": api::environment_json(env)["ends_at"],
    });
    tokio::time::timeout(NOTIFY_TIMEOUT, post_json(url, body.to_string()))
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", NOTIFY_TIMEOUT.as_secs())))
}

async fn post_json(url: &str, body: String) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|_| format!("`{url}` is not a URL"))?;
    let authority = uri
        .authority()
        .ok_or_else(|| format!("`{url}` has no host"))?;
    let address = format!(
        "{}:{}",
        authority.host(),
        authority.port_u16().unwrap_or(80)
    );
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(http::header::HOST, authority.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let (status, _) = crate::http_client::exchange(&address, request).await?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let s = Duration::from_secs(10);
        assert_eq!(backoff(s, 1), Duration::from_secs(10));
        assert_eq!(backoff(s, 2), Duration::from_secs(20));
        assert_eq!(backoff(s, 3), Duration::from_secs(40));
        assert_eq!(backoff(s, 30), MAX_BACKOFF);
    }
}
