//! `warden drift`: what changed outside the code, and whether it broke policy.
//!
//! A refresh-only plan's `resource_drift`, or desired manifests against live objects →
//! [`warden_core::drift::Comparison`] → the policy set `warden check` would build, on the
//! last-known and on the live state → the report → exit 0 (no drift), 2 (drift), 1 (error).
//! With `--server`, the input goes to a Warden server instead, which records the scan
//! (drift events, attribution) and answers with the report printed here.

use std::path::{Path, PathBuf};

use warden_core::drift::{self, DriftReport};
use warden_core::inputs;
use warden_core::{ChangeSet, InputKind};
use warden_policy::{Config, PolicySet};

use super::control::TOKEN_ENV;
use crate::{output, Status};
use warden_server::mcp::remote::Remote;

/// The exit codes, for `--help`.
const EXIT_CODES: &str = "\
Exit codes, like `terraform plan -detailed-exitcode`: 0 no drift, 2 drift found, 1 error \
(unreadable input, a policy that fails to load or evaluate, a plan that says it errored). \
This differs from `warden check`, where 2 is an input error and 1 a denial. A mistake on the \
command line itself (an unknown flag, `--live` without `--desired`) exits 1 as well.";

/// Output formats of `warden drift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DriftFormat {
    /// Per resource: the violations it introduced, the attribute diff, the remediation.
    Text,
    /// The report as JSON (docs/schemas/drift.schema.json).
    Json,
}

/// `warden drift`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXIT_CODES)]
pub struct DriftArgs {
    /// A refresh-only plan: `terraform plan -refresh-only -out p && terraform show -json p`
    /// (any plan with `resource_drift` works), or `-` for standard input.
    #[arg(
        value_name = "PLAN",
        required_unless_present = "desired",
        conflicts_with = "desired"
    )]
    pub plan: Option<PathBuf>,
    /// Kubernetes: the desired manifests (files or folders, as `warden check` reads them).
    #[arg(long, value_name = "PATH", num_args = 1.., requires = "live")]
    pub desired: Vec<PathBuf>,
    /// Kubernetes: the live objects, `kubectl get -o json` output (one object or a `List`);
    /// repeatable.
    #[arg(long, value_name = "FILE", requires = "desired")]
    pub live: Vec<PathBuf>,
    /// Kubernetes: the namespace of manifests that set none.
    #[arg(long, value_name = "NAMESPACE", default_value = "default")]
    pub default_namespace: String,
    /// Kubernetes: report live objects the manifests do not describe, as drift.
    #[arg(long)]
    pub include_extra: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DriftFormat::Text)]
    pub format: DriftFormat,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// User policies to evaluate as well (Kyverno YAML, Rego), as for `warden check`;
    /// repeatable.
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Rego data files, folders or bundles; repeatable.
    #[arg(long, value_name = "PATH")]
    pub data: Vec<PathBuf>,
    /// Configuration file (default: warden.toml found upward from the first input).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore any warden.toml: every rule, default settings.
    #[arg(long)]
    pub no_config: bool,
    /// Refuse inputs larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = inputs::DEFAULT_MAX_INPUT_BYTES)]
    pub max_input_size: u64,
    /// Submit the scan to this Warden server (`http://host:port`) with the token in
    /// WARDEN_TOKEN, which evaluates it under the space's policies, records it as drift events
    /// (opened, kept, resolved) and attributes each change; the report printed is the
    /// server's. Needs --space and --target.
    #[arg(long, value_name = "URL", requires_all = ["space", "target"])]
    pub server: Option<String>,
    /// With --server: the space the target belongs to.
    #[arg(long, value_name = "SPACE", requires = "server")]
    pub space: Option<String>,
    /// With --server: the target's name (a workspace, a set of manifests).
    #[arg(long, value_name = "NAME", requires = "server")]
    pub target: Option<String>,
}

/// Runs `warden drift`. Errors are reported here, with exit 1 (exit 2 means drift).
pub fn run(args: &DriftArgs) -> anyhow::Result<Status> {
    match drift(args) {
        Ok(status) => Ok(status),
        // A closed pipe is main's to handle (not an error).
        Err(e) if crate::is_broken_pipe(&e) => Err(e),
        Err(e) => {
            output::error(&format!("{e:#}"));
            Ok(Status::Failure)
        }
    }
}

fn drift(args: &DriftArgs) -> anyhow::Result<Status> {
    if let Some(url) = &args.server {
        return submit(args, url);
    }
    let now = super::decision_time()?;
    let (comparison, first) = match &args.plan {
        Some(plan) => (terraform(plan, args.max_input_size)?, plan.clone()),
        None => (
            kubernetes(args)?,
            args.desired.first().cloned().unwrap_or_default(),
        ),
    };
    let policy = PolicySet::load_with_policies(
        load_config(args, &first)?,
        &args.policy,
        &warden_policy::RegoOptions {
            data: args.data.clone(),
            ..warden_policy::RegoOptions::default()
        },
    )?;
    let report = policy.drift(comparison, now);
    output::emit(args.output.as_deref(), |out| match args.format {
        DriftFormat::Text => out.write_all(drift::render::text(&report).as_bytes()),
        DriftFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            out.write_all(b"\n")
        }
    })?;
    Ok(status(&report))
}

/// 1 when the verdict is incomplete, 2 on drift, else 0 (as `-detailed-exitcode` has it).
fn status(report: &DriftReport) -> Status {
    if !report.errors.is_empty() {
        Status::Failure
    } else if report.has_drift() {
        Status::Drift
    } else {
        Status::Success
    }
}

/// `--server`: the scan submitted, the server's report printed, the exit code from it.
fn submit(args: &DriftArgs, url: &str) -> anyhow::Result<Status> {
    let token = std::env::var(TOKEN_ENV)
        .map_err(|_| anyhow::anyhow!("--server needs {TOKEN_ENV}: the API token to submit with"))?;
    let body = match &args.plan {
        Some(plan) => inputs::read(plan, args.max_input_size)?.bytes,
        None => kubernetes_body(args)?,
    };
    let (space, target) = (
        args.space.as_deref().unwrap_or_default(),
        args.target.as_deref().unwrap_or_default(),
    );
    // The rules are the server's; the client needs none of its own.
    let remote = Remote::new(url, token, PolicySet::load(Config::default())?)?;
    let answer = super::control::runtime()?.block_on(remote.drift_scan(space, target, body))?;
    output::emit(args.output.as_deref(), |out| match args.format {
        DriftFormat::Text => out.write_all(answer["text"].as_str().unwrap_or_default().as_bytes()),
        DriftFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &answer)?;
            out.write_all(b"\n")
        }
    })?;
    Ok(if answer["scan"]["result"] == "error" {
        Status::Failure
    } else if answer["scan"]["drifted"].as_i64().unwrap_or(0) > 0 {
        Status::Drift
    } else {
        Status::Success
    })
}

/// `{"manifests": ..., "live": ...}` from `--desired` files (one YAML stream) and `--live`
/// files (one `List`).
fn kubernetes_body(args: &DriftArgs) -> anyhow::Result<Vec<u8>> {
    let mut manifests = String::new();
    for path in inputs::discover(&args.desired)? {
        let input = inputs::read(&path, args.max_input_size)?;
        manifests.push_str("---\n");
        manifests.push_str(&String::from_utf8_lossy(&input.bytes));
        manifests.push('\n');
    }
    let mut items = Vec::new();
    for path in &args.live {
        let input = inputs::read(path, args.max_input_size)?;
        let value: serde_json::Value = serde_json::from_slice(&input.bytes).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e} (--live takes `kubectl get -o json` output)",
                input.name
            )
        })?;
        match value.get("items").and_then(serde_json::Value::as_array) {
            Some(list) => items.extend(list.iter().cloned()),
            None => items.push(value),
        }
    }
    Ok(serde_json::to_vec(&serde_json::json!({
        "manifests": manifests,
        "live": { "apiVersion": "v1", "kind": "List", "items": items },
        "default_namespace": args.default_namespace,
        "include_extra": args.include_extra,
    }))?)
}

/// The drift of a plan.
fn terraform(path: &Path, max_bytes: u64) -> anyhow::Result<drift::Comparison> {
    let input = inputs::read(path, max_bytes)?;
    let parsed = inputs::parse(&input)?;
    Ok(drift::terraform::compare(&parsed)?)
}

/// The drift of desired manifests against live objects.
fn kubernetes(args: &DriftArgs) -> anyhow::Result<drift::Comparison> {
    let mut desired = Vec::new();
    for path in inputs::discover(&args.desired)? {
        let input = inputs::read(&path, args.max_input_size)?;
        let parsed = inputs::parse(&input)?;
        if parsed.input.kind != InputKind::KubernetesManifests {
            anyhow::bail!(
                "{}: a Terraform plan; --desired takes Kubernetes manifests (for a plan: warden drift PLAN)",
                input.name
            );
        }
        desired.push(parsed);
    }
    let mut live = Vec::new();
    for path in &args.live {
        live.push(live_objects(path, args.max_input_size)?);
    }
    Ok(drift::kubernetes::compare(
        &desired,
        &live,
        &drift::kubernetes::Options {
            default_namespace: args.default_namespace.clone(),
            include_extra: args.include_extra,
        },
    ))
}

/// `kubectl get -o json` output; an empty `List` is an empty cluster, not an error.
fn live_objects(path: &Path, max_bytes: u64) -> anyhow::Result<ChangeSet> {
    let input = inputs::read(path, max_bytes)?;
    drift::kubernetes::parse_live(&input.name, &input.bytes).map_err(|e| {
        anyhow::anyhow!("{e} (--live takes `kubectl get -o json` output: one object or a List)")
    })
}

fn load_config(args: &DriftArgs, first: &Path) -> anyhow::Result<Config> {
    super::load_config(args.no_config, args.config.as_deref(), first)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report masks secrets the way the store does.
    #[test]
    fn the_mask_is_the_stores() {
        assert_eq!(drift::MASK, warden_store::mask::MASK);
    }

    #[test]
    fn exit_statuses() {
        let mut report = DriftReport::new(drift::Source::Terraform, Vec::new());
        assert_eq!(status(&report), Status::Success);
        report.errors.push(warden_core::EngineError {
            engine: "rego".into(),
            message: "x".into(),
        });
        assert_eq!(status(&report), Status::Failure);
    }
}
