//! Drift scans of running environments: each active (or expiring) environment is a drift
//! target `env-<id>` in its space, scanned by the `[drift]` loop every `interval-minutes`
//! through the environment's runner (`plan -refresh-only` in its working folder, with the
//! inputs it was launched with). A terminated environment cannot drift: its teardown closes
//! the target's open events with a final clean scan (source `teardown`).

use std::sync::Arc;

use serde_json::{Map, Value};
use warden_store::{Actor, DriftFilter, DriftState, Environment, EnvironmentFilter};

use super::runner::Runner;
use crate::drift::scan::{self, ScanOf};
use crate::drift::schedule::{BoxFuture, DriftSource};
use crate::ops::AppState;

/// How long a scan waits for an environment another task is working on.
const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
/// How often it looks again meanwhile.
const CLAIM_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// The drift target name of environment `id`.
#[must_use]
pub fn target(id: i64) -> String {
    format!("env-{id}")
}

/// One running environment as a drift source.
pub struct EnvironmentSource {
    state: AppState,
    id: i64,
    space: String,
    target: String,
    runner: Runner,
    vars: Map<String, Value>,
}

impl EnvironmentSource {
    /// The source of `env`, run by `runner`.
    #[must_use]
    pub fn new(state: AppState, runner: Runner, env: &Environment) -> EnvironmentSource {
        EnvironmentSource {
            state,
            id: env.id,
            space: env.space.clone(),
            target: target(env.id),
            runner,
            vars: env.inputs.as_object().cloned().unwrap_or_default(),
        }
    }
}

impl DriftSource for EnvironmentSource {
    fn space(&self) -> &str {
        &self.space
    }

    fn target(&self) -> &str {
        &self.target
    }

    fn refresh_plan(&self) -> BoxFuture<'_, Result<Vec<u8>, String>> {
        Box::pin(async move {
            // A teardown in the same folder would race the scan's plan file. The reconcile
            // loop claims each environment briefly every pass: wait a little for it.
            let mut waited = std::time::Duration::ZERO;
            let _claim = loop {
                if let Some(claim) = self.state.environment_work.claim(self.id) {
                    break claim;
                }
                if waited >= CLAIM_WAIT {
                    return Err(format!(
                        "environment {} stayed busy (a teardown or lifecycle step) for {} s; \
scanned next round",
                        self.id,
                        CLAIM_WAIT.as_secs()
                    ));
                }
                tokio::time::sleep(CLAIM_POLL).await;
                waited += CLAIM_POLL;
            };
            let folder = self.runner.folder(self.id);
            if !folder.is_dir() {
                return Err(format!(
                    "environment {}: its working folder {} is missing",
                    self.id,
                    folder.display()
                ));
            }
            self.runner
                .refresh_plan(&folder, &self.vars)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// The running environments (active or expiring) as drift sources; none while no runner is
/// configured. A store error is logged and the round scans the configured targets only.
pub async fn sources(state: &AppState) -> Vec<Arc<dyn DriftSource>> {
    let settings = state
        .policies
        .current()
        .account()
        .config()
        .environments
        .clone();
    let Ok(runner) = Runner::from_settings(&settings) else {
        return Vec::new();
    };
    let running = match state
        .store
        .environments(&EnvironmentFilter {
            space: None,
            states: vec![
                warden_store::EnvironmentState::Active,
                warden_store::EnvironmentState::Expiring,
            ],
        })
        .await
    {
        Ok(list) => list,
        Err(e) => {
            tracing::error!(error = %e, "the running environments could not be listed for drift scans");
            return Vec::new();
        }
    };
    running
        .iter()
        .map(|env| {
            Arc::new(EnvironmentSource::new(state.clone(), runner.clone(), env))
                as Arc<dyn DriftSource>
        })
        .collect()
}

/// A clean scan with nothing compared: what a torn-down environment's target is now.
const GONE: &[u8] = br#"{"format_version": "1.2", "resource_drift": []}"#;

/// Resolves the open drift of a terminated environment with a final clean scan (source
/// `teardown`, by the system); nothing is recorded when none is open. Errors are logged: the
/// teardown itself succeeded.
pub async fn close(state: &AppState, env: &Environment) {
    let target = target(env.id);
    let open = state
        .store
        .drift_events(&DriftFilter {
            space: Some(env.space.clone()),
            target: Some(target.clone()),
            state: Some(DriftState::Open),
            limit: 0,
        })
        .await;
    match open {
        Ok(open) if open.is_empty() => return,
        Ok(_) => {}
        Err(e) => {
            tracing::error!(environment = env.id, error = %e, "reading the environment's open drift failed");
            return;
        }
    }
    let started_at = state.store.now();
    let report = match scan::compare(GONE) {
        Ok(comparison) => scan::report(state, &env.space, comparison, started_at)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    let of = ScanOf {
        space: &env.space,
        target: &target,
        source: "teardown",
        started_at,
    };
    if let Err(e) = scan::record(state, &Actor::system(), of, report).await {
        tracing::error!(environment = env.id, error = %e, "the environment's drift could not be closed");
    }
}
