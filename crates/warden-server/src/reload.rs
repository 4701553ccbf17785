//! The policy in force, and replacing it while serving.
//!
//! [`PolicyHandle`] holds the current [`Policies`] (the account's set and every space's
//! layer); each evaluation takes the one in force when it starts, so a reload never changes
//! a decision half-way. [`reload`] loads the policies again and swaps them in only when they
//! load cleanly: a configuration error or a policy file that fails to load keeps the previous
//! policies serving (as OPA keeps its last good bundle) and is logged and counted. A
//! successful reload syncs the spaces' approval rules into the store and appends a
//! `policy.loaded` audit record naming the new and previous revisions. [`watch`] polls the
//! watched files' fingerprint and reloads when it changes.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::json;
use warden_policy::{Policies, SpaceConfig};
use warden_store::{Actor, AuditEvent, NewSpace, Role, SpaceSettings, Store};

use crate::AppState;

/// The policies in force.
#[derive(Debug)]
pub struct PolicyHandle {
    current: RwLock<Arc<Policies>>,
}

impl PolicyHandle {
    /// A handle on `policies`.
    #[must_use]
    pub fn new(policies: Policies) -> PolicyHandle {
        PolicyHandle {
            current: RwLock::new(Arc::new(policies)),
        }
    }

    /// The policies in force now.
    #[must_use]
    pub fn current(&self) -> Arc<Policies> {
        // A poisoned lock only means a panic elsewhere mid-swap; the value is whole.
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    fn replace(&self, policies: Policies) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(policies);
    }
}

/// Loads the policies again (from the same configuration and paths).
pub type Loader = Arc<dyn Fn() -> Result<Policies, String> + Send + Sync>;

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reloaded {
    /// The new policies are in force.
    Replaced {
        /// Revision before.
        previous: String,
        /// Revision now.
        revision: String,
    },
    /// They load to the revision already in force.
    Unchanged,
}

/// The store settings of a configured space (`warden.toml` values over the defaults).
pub fn space_settings(name: &str, space: &SpaceConfig) -> Result<SpaceSettings, String> {
    let defaults = SpaceSettings::default();
    let approver_roles = match &space.approvals.approver_roles {
        None => defaults.approver_roles,
        Some(names) => names
            .iter()
            .map(|n| {
                Role::parse(n).ok_or_else(|| {
                    format!("spaces.{name}.approver-roles: `{n}` is not a role (admin, policy-author, approver, requester, viewer)")
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    if approver_roles.is_empty() {
        return Err(format!(
            "spaces.{name}.approver-roles: at least one role must be able to approve"
        ));
    }
    Ok(SpaceSettings {
        approvals_required: space
            .approvals
            .required
            .unwrap_or(defaults.approvals_required),
        approver_roles,
        approval_ttl_secs: space
            .approvals
            .ttl_hours
            .map_or(defaults.approval_ttl_secs, |h| Some(i64::from(h) * 3600)),
        max_exception_days: space
            .approvals
            .max_exception_days
            .unwrap_or(defaults.max_exception_days),
    })
}

/// Checks policies before they are put in force: no load errors, valid space settings.
pub fn validate(policies: &Policies) -> Result<Vec<NewSpace>, String> {
    let errors = policies.load_errors();
    if !errors.is_empty() {
        let messages: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
        return Err(messages.join("; "));
    }
    policies
        .space_configs()
        .map(|(name, space)| {
            Ok(NewSpace {
                name: name.to_owned(),
                description: space.description.clone(),
                settings: space_settings(name, space)?,
            })
        })
        .collect()
}

/// Creates or updates the configured spaces whose settings differ from the store's (each
/// change is audited by the store).
pub async fn sync_spaces(store: &dyn Store, spaces: &[NewSpace]) -> Result<(), String> {
    for space in spaces {
        let stored = store
            .space(&space.name)
            .await
            .map_err(|e| format!("reading space `{}`: {e}", space.name))?;
        let same = stored
            .is_some_and(|s| s.settings == space.settings && s.description == space.description);
        if !same {
            store
                .put_space(&Actor::system(), space)
                .await
                .map_err(|e| format!("saving space `{}`: {e}", space.name))?;
        }
    }
    Ok(())
}

/// Records in the audit log that a policy revision is in force (`previous`: the one it
/// replaces, `None` at start).
pub async fn record_loaded(
    store: &dyn Store,
    policies: &Policies,
    previous: Option<&str>,
) -> Result<(), String> {
    // Decisions record their space's revision: name each, so an auditor can match them.
    let spaces: serde_json::Map<String, serde_json::Value> = policies
        .space_configs()
        .map(|(n, _)| (n.to_owned(), json!(policies.layered(n).revision())))
        .collect();
    store
        .append_audit(
            &Actor::system(),
            &AuditEvent::new(
                "policy.loaded",
                format!("policy/{}", policies.revision()),
                None,
                json!({
                    "revision": policies.revision(),
                    "previous": previous,
                    "account_revision": policies.account().revision(),
                    "spaces": spaces,
                }),
            ),
        )
        .await
        .map(|_| ())
        .map_err(|e| format!("recording the policy revision: {e}"))
}

/// Loads the policies again and puts them in force if they load cleanly; on any error the
/// policies in force stay, and the error is returned (and counted).
pub async fn reload(state: &AppState, loader: &Loader) -> Result<Reloaded, String> {
    let load = Arc::clone(loader);
    let result = tokio::task::spawn_blocking(move || load())
        .await
        .map_err(|e| format!("loading the policies failed: {e}"))
        .and_then(|r| r);
    let outcome = match result {
        Ok(policies) => put_in_force(state, policies).await,
        Err(e) => Err(e),
    };
    state.metrics.reload(outcome.is_ok());
    outcome
}

async fn put_in_force(state: &AppState, policies: Policies) -> Result<Reloaded, String> {
    let spaces = validate(&policies)?;
    let previous = state.policies.current();
    // Space descriptions and approval rules are the store's (audited there), not part of
    // the revision: synced either way.
    sync_spaces(state.store.as_ref(), &spaces).await?;
    if previous.revision() == policies.revision() {
        return Ok(Reloaded::Unchanged);
    }
    record_loaded(state.store.as_ref(), &policies, Some(previous.revision())).await?;
    let revision = policies.revision().to_owned();
    state.policies.replace(policies);
    Ok(Reloaded::Replaced {
        previous: previous.revision().to_owned(),
        revision,
    })
}

/// Reloads whenever the fingerprint of the watched files changes (checked every `every`),
/// or when `trigger` is notified (SIGHUP); runs until its task is dropped.
pub async fn watch(
    state: AppState,
    loader: Loader,
    every: Duration,
    trigger: Arc<tokio::sync::Notify>,
) {
    let fingerprint = |state: &AppState| {
        let paths = state.policies.current().watched_paths().to_vec();
        tokio::task::spawn_blocking(move || warden_policy::spaces::fingerprint(&paths))
    };
    let mut last = fingerprint(&state).await.unwrap_or_default();
    loop {
        let forced = tokio::select! {
            () = tokio::time::sleep(every) => false,
            () = trigger.notified() => true,
        };
        let now = fingerprint(&state).await.unwrap_or_default();
        if !forced && now == last {
            continue;
        }
        let result = reload(&state, &loader).await;
        // The policies now in force may watch other paths (a space added, say): fingerprint
        // those, or the next check would see a "change" and reload again.
        last = match result {
            Ok(Reloaded::Replaced { .. }) => fingerprint(&state).await.unwrap_or_default(),
            _ => now,
        };
        match result {
            Ok(Reloaded::Replaced { previous, revision }) => {
                tracing::info!(%previous, %revision, "policy reloaded");
            }
            Ok(Reloaded::Unchanged) => {
                tracing::info!("policy files changed; revision unchanged");
            }
            Err(e) => {
                tracing::error!(error = %e, "policy reload failed; the previous policy stays in force");
            }
        }
    }
}
