//! Command-line interface definitions (clap), apart from the logic.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Warden: the policy gate between every actor (person, pipeline, agent) and the cloud.
#[derive(Debug, Parser)]
#[command(name = "warden", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate Terraform/OpenTofu plans (`terraform show -json`) and decide.
    ///
    /// Exit codes: 0 allow (warnings allowed), 1 deny, 3 require approval, 2 usage or input
    /// error.
    Check(CheckArgs),
    /// List every built-in rule: id, name, severity, default enforcement, kinds.
    Rules(RulesArgs),
    /// Print a rule's documentation: what, why, example, fix, parameters.
    Explain(ExplainArgs),
    /// Run policy tests: every `kyverno-test.yaml` below the paths, like `kyverno test`, and
    /// every `test_*` rule of the `.rego` files, like `opa test`.
    ///
    /// Prints each failure and closes with `N passed, N failed`; exit 1 on any failure.
    Test(TestArgs),
    /// Run the control plane: the decision API and approvals over HTTP, every decision
    /// recorded in the hash-chained audit log of the data folder.
    Serve(crate::commands::serve::ServeArgs),
    /// Manage API tokens (stored hashed).
    Token(crate::commands::token::TokenArgs),
    /// List, approve or reject approval requests, as the principal of `WARDEN_TOKEN`.
    Approvals(crate::commands::approvals::ApprovalsArgs),
    /// Publish, list and show environment blueprints on a server (`--server URL`, token in
    /// WARDEN_TOKEN).
    Blueprint(crate::commands::blueprint::BlueprintArgs),
    /// Launch, list, show, extend and terminate environments on a server (`--server URL`,
    /// token in WARDEN_TOKEN). Exit codes: 0 allowed, 1 denied, 3 waiting for approval.
    Env(crate::commands::env::EnvArgs),
    /// Verify or export the audit log.
    ///
    /// `verify` exits 0 when the chain is intact and 1 naming the first broken record.
    Audit(crate::commands::audit::AuditArgs),
    /// Report drift (changes made outside the code) with the policy verdict on the live state:
    /// a refresh-only Terraform plan, or Kubernetes manifests against live objects.
    ///
    /// Exit codes (like `terraform plan -detailed-exitcode`, unlike `warden check`): 0 no
    /// drift, 2 drift, 1 error.
    Drift(crate::commands::drift::DriftArgs),
    /// Estimate the monthly cost of plans: every resource before and after the change, the
    /// delta, and what could not be priced (never counted as zero).
    ///
    /// Exit codes: 0 estimate written, 2 usage or input error.
    Cost(crate::commands::cost::CostArgs),
    /// Serve Warden's tools to an AI agent over stdio (Model Context Protocol):
    /// evaluate_change, explain_rule, list_rules, request_exception, approval_status.
    ///
    /// Evaluates with the local policy set as `warden check` does, or forwards every call to a
    /// server with `--server URL` (token in WARDEN_TOKEN). Standard output carries only the
    /// protocol; logs go to stderr. docs/mcp.md has the tools and client configuration.
    Mcp(crate::commands::mcp::McpArgs),
}

/// `warden test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Test files or folders searched for `kyverno-test.yaml` (hidden `.kyverno-test` folders
    /// included) and `*.rego` files (with the JSON/YAML data beside them, as `opa test`).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Run only the Rego tests whose `package.rule` matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub run: Option<String>,
    /// Rego data files, folders or bundles, added to what the test folders hold; repeatable.
    #[arg(long, value_name = "PATH")]
    pub data: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// Output formats of `warden check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Human report grouped by resource.
    Text,
    /// The decision as versioned JSON (docs/schemas/decision.schema.json).
    Json,
    /// SARIF 2.1.0 (code scanning).
    Sarif,
    /// JUnit XML (CI test reports).
    Junit,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `warden check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Plan files (`terraform show -json` output), folders searched for *.json, or `-` for
    /// standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// User policies to evaluate as well: Kyverno (`ClusterPolicy`, `Policy`,
    /// `PolicyException`, `ValidatingPolicy` YAML) and Rego (`*.rego`, conftest conventions);
    /// files or folders, which may mix both; repeatable.
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Rego: package holding the `deny`/`violation`/`warn` rules (default `main`); repeatable.
    #[arg(long, value_name = "PACKAGE", conflicts_with = "all_namespaces")]
    pub namespace: Vec<String>,
    /// Rego: query the rules of every package.
    #[arg(long)]
    pub all_namespaces: bool,
    /// Rego data: JSON/YAML files, folders (placed at their sub-folder's path) or OPA bundles
    /// (folder or `.tar.gz` with `.manifest`); repeatable.
    #[arg(long, value_name = "PATH")]
    pub data: Vec<PathBuf>,
    /// Configuration file (default: warden.toml found upward from the first input).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore any warden.toml: every rule, default settings.
    #[arg(long)]
    pub no_config: bool,
    /// Enable only these rules (ids, id prefixes or names; comma-separated). Replaces the
    /// configuration's `select`.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Option<Vec<String>>,
    /// Disable these rules (added to the configuration's `ignore`).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<String>,
    /// Lowest outcome that fails: warn, require_approval, deny or never.
    #[arg(long, value_name = "LEVEL")]
    pub fail_on: Option<String>,
    /// Colour the text report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Refuse inputs larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = warden_core::inputs::DEFAULT_MAX_INPUT_BYTES)]
    pub max_input_size: u64,
}

/// Output formats of `warden rules` and `warden explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table (rules) or Markdown page (explain).
    Text,
    /// JSON.
    Json,
}

/// `warden rules`.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// `warden explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Rule id (`WD-AWS-001`) or name (`s3-bucket-public-acl`).
    pub rule: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}
