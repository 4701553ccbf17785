//! The runner: Warden drives the IaC tool through the configured command (`tofu`,
//! `terraform`, or a script), one working folder per environment, never through a shell.
//!
//! A launch runs `init`, `plan -out=launch.tfplan -var k=v ...`, `show -json launch.tfplan`
//! (the plan Warden evaluates), then — once allowed — `apply launch.tfplan` and `output
//! -json`. A teardown runs `plan -destroy -out=destroy.tfplan`, `show -json`, `apply
//! destroy.tfplan`. Each command has a timeout; its stdout is captured, and the tail of its
//! stderr goes into the error.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

/// The saved plan of a launch, in the environment's working folder.
pub const LAUNCH_PLAN: &str = "launch.tfplan";
/// The saved plan of a teardown.
pub const DESTROY_PLAN: &str = "destroy.tfplan";
/// The saved refresh-only plan of a drift scan.
pub const DRIFT_PLAN: &str = "drift.tfplan";

/// How much of a failing command's stderr is kept.
const STDERR_TAIL: usize = 2000;

/// Why a runner command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunnerError {
    /// No runner is configured.
    #[error("environments need a runner: set `runner` in [environments] of warden.toml")]
    NotConfigured,
    /// The working folder could not be prepared.
    #[error("preparing the working folder {folder}: {message}")]
    Workdir {
        /// The folder.
        folder: String,
        /// What failed.
        message: String,
    },
    /// The command could not be started, timed out, or failed.
    #[error("`{command}` {message}")]
    Command {
        /// The command line (argv joined).
        command: String,
        /// What happened, with the tail of stderr.
        message: String,
    },
}

/// The configured command and where environments live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runner {
    /// argv of the IaC tool.
    pub argv: Vec<String>,
    /// The folder holding one working folder per environment.
    pub workdir: PathBuf,
    /// Longest one command may take.
    pub timeout: Duration,
}

impl Runner {
    /// The runner of `[environments]`.
    ///
    /// # Errors
    /// When no runner is configured.
    pub fn from_settings(
        s: &warden_policy::environments::EnvironmentSettings,
    ) -> Result<Runner, RunnerError> {
        if !s.enabled() {
            return Err(RunnerError::NotConfigured);
        }
        // The commands run in each environment's folder: a relative program path (one with a
        // `/`) and the working folder are read against the server's own folder.
        let absolute =
            |p: &Path| std::env::current_dir().map_or_else(|_| p.to_path_buf(), |cwd| cwd.join(p));
        let mut argv = s.runner.clone();
        if let Some(program) = argv.first_mut() {
            let path = Path::new(program.as_str());
            if path.is_relative() && program.contains('/') {
                *program = absolute(path).display().to_string();
            }
        }
        Ok(Runner {
            argv,
            workdir: absolute(&s.workdir),
            timeout: s.command_timeout,
        })
    }

    /// The working folder of environment `id`.
    #[must_use]
    pub fn folder(&self, id: i64) -> PathBuf {
        self.workdir.join(id.to_string())
    }

    /// Creates the working folder of environment `id` with a copy of the blueprint's source
    /// (kept as it is when it already exists: a resumed launch keeps its state).
    ///
    /// # Errors
    /// When the source cannot be read or the folder written.
    pub fn prepare(&self, id: i64, source: &Path) -> Result<PathBuf, RunnerError> {
        let folder = self.folder(id);
        let err = |e: std::io::Error| RunnerError::Workdir {
            folder: folder.display().to_string(),
            message: e.to_string(),
        };
        if folder.is_dir() {
            return Ok(folder);
        }
        std::fs::create_dir_all(&folder).map_err(err)?;
        if source.is_dir() {
            copy_dir(source, &folder).map_err(|e| RunnerError::Workdir {
                folder: folder.display().to_string(),
                message: format!("copying {}: {e}", source.display()),
            })?;
        } else {
            return Err(RunnerError::Workdir {
                folder: folder.display().to_string(),
                message: format!(
                    "the blueprint's source {} is not a folder",
                    source.display()
                ),
            });
        }
        Ok(folder)
    }

    /// Runs the tool with `args` in `folder`; its stdout.
    ///
    /// # Errors
    /// When it cannot start, times out or exits unsuccessfully.
    pub async fn run(&self, folder: &Path, args: &[String]) -> Result<Vec<u8>, RunnerError> {
        let (program, fixed) = self.argv.split_first().ok_or(RunnerError::NotConfigured)?;
        let command_line = self
            .argv
            .iter()
            .chain(args)
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        let fail = |message: String| RunnerError::Command {
            command: command_line.clone(),
            message,
        };
        let child = tokio::process::Command::new(program)
            .args(fixed)
            .args(args)
            .current_dir(folder)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| fail(format!("could not start: {e}")))?;
        let out = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| fail(format!("timed out after {} s", self.timeout.as_secs())))?
            .map_err(|e| fail(format!("failed: {e}")))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: String = {
                let t = stderr.trim();
                let start = t.len().saturating_sub(STDERR_TAIL);
                let start = (start..=t.len())
                    .find(|i| t.is_char_boundary(*i))
                    .unwrap_or(0);
                t[start..].to_owned()
            };
            Err(fail(format!("exited with {}: {tail}", out.status)))
        }
    }

    /// `init`, `plan -out=<plan> [-destroy] -var ...`, `show -json <plan>`: the plan JSON.
    ///
    /// # Errors
    /// The first command that failed.
    pub async fn plan(
        &self,
        folder: &Path,
        vars: &serde_json::Map<String, Value>,
        destroy: bool,
    ) -> Result<Vec<u8>, RunnerError> {
        self.run(folder, &["init".into(), "-input=false".into()])
            .await?;
        let file = if destroy { DESTROY_PLAN } else { LAUNCH_PLAN };
        let mut args = vec!["plan".to_owned(), "-input=false".into()];
        if destroy {
            args.push("-destroy".into());
        }
        args.push(format!("-out={file}"));
        push_vars(&mut args, vars);
        self.run(folder, &args).await?;
        self.run(folder, &["show".into(), "-json".into(), file.into()])
            .await
    }

    /// `plan -refresh-only -out=drift.tfplan -var ...`, `show -json drift.tfplan`: the
    /// refresh-only plan of a running environment (its `resource_drift` is the drift).
    ///
    /// # Errors
    /// The first command that failed.
    pub async fn refresh_plan(
        &self,
        folder: &Path,
        vars: &serde_json::Map<String, Value>,
    ) -> Result<Vec<u8>, RunnerError> {
        let mut args = vec![
            "plan".to_owned(),
            "-refresh-only".into(),
            "-input=false".into(),
            format!("-out={DRIFT_PLAN}"),
        ];
        push_vars(&mut args, vars);
        self.run(folder, &args).await?;
        self.run(folder, &["show".into(), "-json".into(), DRIFT_PLAN.into()])
            .await
    }

    /// `apply <plan>`.
    ///
    /// # Errors
    /// When the apply fails.
    pub async fn apply(&self, folder: &Path, destroy: bool) -> Result<(), RunnerError> {
        let file = if destroy { DESTROY_PLAN } else { LAUNCH_PLAN };
        self.run(
            folder,
            &[
                "apply".into(),
                "-input=false".into(),
                "-auto-approve".into(),
                file.into(),
            ],
        )
        .await
        .map(|_| ())
    }

    /// `output -json`: the outputs' values by name.
    ///
    /// # Errors
    /// When the command fails or does not print JSON.
    pub async fn outputs(&self, folder: &Path) -> Result<Value, RunnerError> {
        let out = self.run(folder, &["output".into(), "-json".into()]).await?;
        let v: Value = serde_json::from_slice(&out).map_err(|e| RunnerError::Command {
            command: "output -json".into(),
            message: format!("did not print JSON: {e}"),
        })?;
        // `output -json` gives {"name": {"value": ..., "sensitive": ...}}: keep the values,
        // masking sensitive ones.
        Ok(match v {
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, o)| {
                        let sensitive = o.get("sensitive").and_then(Value::as_bool) == Some(true);
                        let value = if sensitive {
                            Value::from("(sensitive)")
                        } else {
                            o.get("value").cloned().unwrap_or(o)
                        };
                        (k, value)
                    })
                    .collect(),
            ),
            other => other,
        })
    }
}

/// `-var k=v` per input.
fn push_vars(args: &mut Vec<String>, vars: &serde_json::Map<String, Value>) {
    for (k, v) in vars {
        args.push("-var".into());
        args.push(format!("{k}={}", super::blueprint::var_text(v)));
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
