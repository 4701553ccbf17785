//! Scheduled drift scans: every `[drift] interval-minutes`, each source's refresh-only plan
//! is scanned and recorded ([`super::scan`]). A failure (a command that exits non-zero or
//! times out, output that is not a plan) is recorded as a failed scan and counted in the
//! metrics, never skipped in silence.
//!
//! [`DriftSource`] is the seam: [`CommandSource`] runs a `[[drift.targets]]` command;
//! [`crate::environments::drift::EnvironmentSource`] scans a running environment (target
//! `env-<id>`) through its runner. The [`Sources`] function given to [`run`] lists them each
//! round ([`configured_and_environments`] for `warden serve`).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use warden_policy::drift::DriftTarget;
use warden_store::Actor;

use super::scan::{self, ScanOf};
use crate::ops::AppState;

/// A boxed future, so sources can sit behind `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that can produce a refresh-only plan of one target.
pub trait DriftSource: Send + Sync {
    /// The space the target's drift belongs to.
    fn space(&self) -> &str;
    /// The target's name (unique in the space).
    fn target(&self) -> &str;
    /// The refresh-only plan's JSON (`terraform show -json`), or why there is none (one line
    /// a person can act on).
    fn refresh_plan(&self) -> BoxFuture<'_, Result<Vec<u8>, String>>;
}

/// The sources to scan in a round, read each round (a policy reload or a launch may change
/// them).
pub type Sources =
    Arc<dyn for<'a> Fn(&'a AppState) -> BoxFuture<'a, Vec<Arc<dyn DriftSource>>> + Send + Sync>;

/// The `[[drift.targets]]` of the policies in force, as [`CommandSource`]s.
#[must_use]
pub fn configured(state: &AppState) -> BoxFuture<'_, Vec<Arc<dyn DriftSource>>> {
    Box::pin(std::future::ready(configured_targets(state)))
}

/// The `[[drift.targets]]` and every running environment (active or expiring).
#[must_use]
pub fn configured_and_environments(state: &AppState) -> BoxFuture<'_, Vec<Arc<dyn DriftSource>>> {
    Box::pin(async move {
        let mut all = configured_targets(state);
        all.extend(crate::environments::drift::sources(state).await);
        all
    })
}

fn configured_targets(state: &AppState) -> Vec<Arc<dyn DriftSource>> {
    state
        .policies
        .current()
        .account()
        .config()
        .drift
        .targets
        .iter()
        .map(|t| Arc::new(CommandSource::new(t.clone())) as Arc<dyn DriftSource>)
        .collect()
}

/// Scans every source now, then every `interval-minutes` of the policies in force, until
/// the task is dropped.
pub async fn run(state: AppState, sources: Sources) {
    loop {
        for source in sources(&state).await {
            scan_once(&state, source.as_ref()).await;
        }
        let every = state.policies.current().account().config().drift.interval;
        tokio::time::sleep(every).await;
    }
}

/// Scans one source and records the scan (a failed one too). Errors recording it are
/// logged: there is nowhere else to put them.
pub async fn scan_once(state: &AppState, source: &dyn DriftSource) {
    let started_at = state.store.now();
    let (space, target) = (source.space(), source.target());
    let report = match source.refresh_plan().await {
        Err(e) => Err(e),
        Ok(bytes) => match scan::compare(&bytes) {
            Err(e) => Err(format!("the command's output is not a plan: {e}")),
            Ok(comparison) => scan::report(state, space, comparison, started_at)
                .await
                .map_err(|e| e.to_string()),
        },
    };
    let of = ScanOf {
        space,
        target,
        source: "schedule",
        started_at,
    };
    if let Err(e) = scan::record(state, &Actor::system(), of, report).await {
        tracing::error!(space, target, error = %e, "the drift scan could not be recorded");
    }
}

/// Runs a `[[drift.targets]]` command (then its `show` command, when it has one) without a
/// shell, in the target's folder, each under the target's timeout.
#[derive(Debug, Clone)]
pub struct CommandSource {
    target: DriftTarget,
}

impl CommandSource {
    /// The source of a configured target.
    #[must_use]
    pub fn new(target: DriftTarget) -> CommandSource {
        CommandSource { target }
    }
}

impl DriftSource for CommandSource {
    fn space(&self) -> &str {
        &self.target.space
    }

    fn target(&self) -> &str {
        &self.target.name
    }

    fn refresh_plan(&self) -> BoxFuture<'_, Result<Vec<u8>, String>> {
        Box::pin(async move {
            let t = &self.target;
            let timeout = Duration::from_secs(t.timeout_seconds);
            let out = run_command(&t.command, t.workdir.as_ref(), timeout).await?;
            match &t.show {
                None => Ok(out),
                Some(show) => run_command(show, t.workdir.as_ref(), timeout).await,
            }
        })
    }
}

/// Lines of standard error kept in an error message.
const STDERR_LINES: usize = 10;

/// Runs `argv`, returning its standard output when it exits 0.
async fn run_command(
    argv: &[String],
    workdir: Option<&PathBuf>,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| "the command is empty".to_owned())?;
    let shown = argv.join(" ");
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(dir) = workdir {
        command.current_dir(dir);
    }
    let output = match tokio::time::timeout(timeout, command.output()).await {
        Err(_) => {
            return Err(format!(
                "`{shown}` did not finish within {} s (stopped)",
                timeout.as_secs()
            ))
        }
        Ok(Err(e)) => {
            let place = workdir.map_or_else(String::new, |d| format!(" in {}", d.display()));
            return Err(format!("`{shown}` could not be run{place}: {e}"));
        }
        Ok(Ok(output)) => output,
    };
    if output.status.success() {
        return Ok(output.stdout);
    }
    let code = output
        .status
        .code()
        .map_or_else(|| "a signal".to_owned(), |c| c.to_string());
    Err(format!(
        "`{shown}` exited with {code}: {}",
        tail(&output.stderr)
    ))
}

/// The last lines of standard error, on one line.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines.len().saturating_sub(STDERR_LINES);
    let kept = lines.get(from..).unwrap_or_default().join(" | ");
    if kept.is_empty() {
        "no output on stderr".to_owned()
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(command: &[&str]) -> DriftTarget {
        DriftTarget {
            name: "t".into(),
            space: "s".into(),
            command: command.iter().map(|s| (*s).to_owned()).collect(),
            show: None,
            workdir: None,
            timeout_seconds: 5,
        }
    }

    #[tokio::test]
    async fn commands_give_stdout_or_say_why_not() {
        let ok = CommandSource::new(target(&["echo", "{}"]));
        assert_eq!(ok.refresh_plan().await.unwrap(), b"{}\n");
        let failing = CommandSource::new(target(&[
            "sh",
            "-c",
            "echo first >&2; echo 'Error: no credentials' >&2; exit 3",
        ]));
        let e = failing.refresh_plan().await.unwrap_err();
        assert!(
            e.contains("exited with 3") && e.contains("first | Error: no credentials"),
            "{e}"
        );
        let missing = CommandSource::new(target(&["/nonexistent/tofu", "plan"]));
        assert!(missing
            .refresh_plan()
            .await
            .unwrap_err()
            .contains("could not be run"));
        let mut slow = target(&["sleep", "5"]);
        slow.timeout_seconds = 1;
        let e = CommandSource::new(slow).refresh_plan().await.unwrap_err();
        assert!(e.contains("did not finish within 1 s"), "{e}");
        let mut two = target(&["true"]);
        two.show = Some(vec!["echo".into(), "shown".into()]);
        assert_eq!(
            CommandSource::new(two).refresh_plan().await.unwrap(),
            b"shown\n"
        );
    }
}
