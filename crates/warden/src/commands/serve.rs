//! `warden serve`: the control plane on HTTP, over the store in the data folder or a
//! PostgreSQL database (several replicas may share one).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use warden_core::ActorKind;
use warden_policy::{config, Config, Policies};
use warden_server::reload::Loader;
use warden_server::AppState;
use warden_store::{Actor, NewToken, Role, Store, StoreError};

use crate::{output, Status};

/// Environment variable with the bootstrap admin token's secret.
pub const ADMIN_TOKEN_ENV: &str = "WARDEN_ADMIN_TOKEN";

/// Name of the bootstrap admin token.
const BOOTSTRAP_NAME: &str = "bootstrap-admin";

/// `warden serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Data folder: the SQLite database (created with its migrations on first start).
    #[arg(long, value_name = "DIR", default_value = super::control::DEFAULT_DATA)]
    pub data: PathBuf,
    /// PostgreSQL database (`postgres://user@host:port/database`) instead of a data folder:
    /// several replicas on one database behave as one. Migrations run on start. Default:
    /// WARDEN_DATABASE_URL when set.
    #[arg(long, value_name = "URL", conflicts_with = "data")]
    pub database: Option<String>,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Configuration file (default: `warden.toml` found from the current folder up).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Kyverno or Rego policy files or folders; repeatable.
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Requests per second each token may make on average (`/v1` endpoints); over it the
    /// answer is 429 with `Retry-After`. 0 (the default): no limit.
    #[arg(long, value_name = "N", default_value_t = 0.0)]
    pub rate_limit: f64,
    /// Requests a token may make at once after a quiet spell (default: twice the rate, at
    /// least 1).
    #[arg(long, value_name = "N")]
    pub rate_burst: Option<u32>,
    /// Seconds between checks of the configuration and policy files; a change reloads them
    /// (so does SIGHUP). A reload that fails to load keeps the policies in force. 0: only
    /// on SIGHUP.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub reload_interval: f64,
    /// Evaluations remembered by the exact change (document digest, policy revision, space,
    /// operation, date), so the same change sent again is answered without parsing and
    /// evaluating it again (exceptions, approvals and the record still apply to every
    /// request). Never used under Rego or Kyverno policies, which may read the clock. 0: off.
    #[arg(long, value_name = "N", default_value_t = warden_server::ops::DEFAULT_MEMO_CAPACITY)]
    pub decision_memo: usize,
    /// Log format on stderr: `text` or `json` (one object per line). The level comes from
    /// WARDEN_LOG (error, warn, info, debug, trace; default info).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key. The files
    /// are checked every --reload-interval seconds (2 when it is 0) and a changed pair that
    /// loads is used for new connections. With TLS the admission webhook
    /// (`POST /v1/admission`) is served.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The space admission requests are evaluated in unless the webhook URL names one
    /// (`?space=`); created with default settings when missing.
    #[arg(long, value_name = "NAME", default_value = warden_server::admission::DEFAULT_SPACE)]
    pub admission_space: String,
    /// A Kubernetes username (glob with `*`) whose admission requests are an AI agent's,
    /// e.g. `system:serviceaccount:agents:claude-infra`; repeatable.
    #[arg(long, value_name = "USER")]
    pub admission_agent: Vec<String>,
    /// A Kubernetes username (glob with `*`) whose admission requests are a pipeline's,
    /// e.g. `system:serviceaccount:ci:*`; repeatable. Other users are humans.
    #[arg(long, value_name = "USER")]
    pub admission_pipeline: Vec<String>,
    /// Whether the dashboard's session cookie is marked `Secure`: `auto` when serving over
    /// TLS, `always` behind a proxy that terminates TLS, `never`.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub ui_secure_cookie: String,
}

impl ServeArgs {
    /// The per-token rate limit the flags ask for.
    fn rate_limit(&self) -> anyhow::Result<Option<warden_server::ratelimit::RateLimit>> {
        if !self.rate_limit.is_finite() || self.rate_limit < 0.0 {
            anyhow::bail!(
                "--rate-limit must be 0 (no limit) or a positive number of requests per second"
            );
        }
        // Saturating float-to-int cast: a huge rate gives the largest burst.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a saturating cast of a checked, non-negative rate"
        )]
        let default_burst = (self.rate_limit * 2.0).ceil() as u32;
        Ok(warden_server::ratelimit::RateLimit::new(
            self.rate_limit,
            self.rate_burst.unwrap_or(default_burst),
        ))
    }
}

/// Environment variable with the log level.
pub const LOG_ENV: &str = "WARDEN_LOG";

/// Runs `warden serve` until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub fn run(args: &ServeArgs) -> anyhow::Result<Status> {
    let loader = loader(args);
    let policies = loader().map_err(|e| anyhow::anyhow!(e))?;
    let spaces = warden_server::reload::validate(&policies)
        .map_err(|e| anyhow::anyhow!("the policies do not load cleanly: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args, policies, &spaces, loader))
}

/// Loads the account's policy and the spaces' layers from the configuration (the one given,
/// or `warden.toml` found from the current folder up, read again at each call) and
/// `--policy`.
fn loader(args: &ServeArgs) -> Loader {
    let config_path = args.config.clone();
    let policy = args.policy.clone();
    Arc::new(move || {
        let config = match &config_path {
            Some(path) => config::load(path),
            None => match config::discover(&PathBuf::from(".")) {
                Some(path) => config::load(&path),
                None => Ok(Config::default()),
            },
        }
        .map_err(|e| e.to_string())?;
        Policies::load(config, &policy, &warden_policy::RegoOptions::default())
            .map_err(|e| e.to_string())
    })
}

pub(crate) fn init_logs(format: &str) -> anyhow::Result<()> {
    use tracing_subscriber::filter::LevelFilter;
    let level = match std::env::var(LOG_ENV) {
        Err(_) => LevelFilter::INFO,
        Ok(v) => v.trim().parse::<LevelFilter>().map_err(|_| {
            anyhow::anyhow!("{LOG_ENV}=`{v}`: expected off, error, warn, info, debug or trace")
        })?,
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level);
    // `try_init` fails only when a subscriber is already set (tests): keep that one.
    let _ = if format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    Ok(())
}

async fn serve(
    args: &ServeArgs,
    policies: Policies,
    spaces: &[warden_store::NewSpace],
    loader: Loader,
) -> anyhow::Result<Status> {
    let limit = args.rate_limit()?;
    if !args.reload_interval.is_finite() || args.reload_interval < 0.0 {
        anyhow::bail!("--reload-interval must be 0 (only on SIGHUP) or a number of seconds");
    }
    init_logs(&args.log_format)?;
    let location = super::control::Location::resolve(&args.data, args.database.as_deref())?;
    let store = location.open(true).await?;
    bootstrap(&*store).await?;
    warden_server::reload::sync_spaces(&*store, spaces)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    warden_server::reload::record_loaded(&*store, &policies, None)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let files = warden_server::tls::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            };
            // Checked before listening: a bad pair is a start-up error, not a dead listener.
            files
                .load()
                .map_err(|e| anyhow::anyhow!("--tls-cert/--tls-key: {e}"))?;
            admission_space(&*store, &args.admission_space).await?;
            Some(files)
        }
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    // Before saying "listening": from then on a SIGTERM must stop the server gracefully.
    let shutdown = shutdown_signal();
    output::note(&format!(
        "listening on {}://{local} ({}, policy revision {}, spaces configured: {}; dashboard at /ui/)",
        if tls.is_some() { "https" } else { "http" },
        location.describe(),
        policies.revision(),
        policies.space_configs().count()
    ));
    if let Some(l) = limit {
        output::note(&format!(
            "rate limit per token: {} requests/s, bursts of {}",
            l.per_second, l.burst
        ));
    }
    if tls.is_some() {
        output::note(&format!(
            "admission webhook at /v1/admission (default space {})",
            args.admission_space
        ));
    }
    let state = AppState::with_policies(policies, Arc::clone(&store))
        .with_rate_limit(limit)
        .with_memo_capacity(args.decision_memo)
        .with_admission(warden_server::admission::AdmissionSettings {
            enabled: tls.is_some(),
            default_space: args.admission_space.clone(),
            agents: args.admission_agent.clone(),
            pipelines: args.admission_pipeline.clone(),
        })
        .with_ui(warden_server::ui::UiSettings {
            secure_cookies: match args.ui_secure_cookie.as_str() {
                "always" => true,
                "never" => false,
                _ => tls.is_some(),
            },
        });
    let trigger = Arc::new(tokio::sync::Notify::new());
    let every = if args.reload_interval > 0.0 {
        std::time::Duration::from_secs_f64(args.reload_interval)
    } else {
        std::time::Duration::from_secs(365 * 24 * 3600) // only on SIGHUP
    };
    let watcher = tokio::spawn(warden_server::reload::watch(
        state.clone(),
        loader,
        every,
        Arc::clone(&trigger),
    ));
    let hangup = tokio::spawn(reload_on_sighup(trigger));
    // Scheduled drift scans of the `[drift]` targets and the running environments.
    let policies_now = state.policies.current();
    let drift = &policies_now.account().config().drift;
    if !drift.targets.is_empty() {
        output::note(&format!(
            "drift scans of {} target(s) every {} s",
            drift.targets.len(),
            drift.interval.as_secs()
        ));
    }
    let scans = tokio::spawn(warden_server::drift::schedule::run(
        state.clone(),
        Arc::new(warden_server::drift::schedule::configured_and_environments),
    ));
    publish_blueprints(&state).await?;
    let environments = tokio::spawn(warden_server::environments::lifecycle::run(state.clone()));
    match tls {
        Some(files) => {
            let check = if args.reload_interval > 0.0 {
                every
            } else {
                std::time::Duration::from_secs(2)
            };
            warden_server::tls::serve_tls(listener, state, files, check, shutdown).await
        }
        None => warden_server::serve(listener, state, shutdown).await,
    }
    .context("the server failed")?;
    watcher.abort();
    hangup.abort();
    scans.abort();
    environments.abort();
    store.close().await;
    output::note("stopped; every acknowledged decision is stored");
    Ok(Status::Success)
}

/// Creates the admission space with default settings when the store does not have it (a
/// webhook answering 404 would, with failurePolicy Fail, block every change in the cluster).
/// Publishes the blueprint files of `[environments] blueprints` (a folder of `*.yaml`) as the
/// system; an unchanged file keeps its version.
async fn publish_blueprints(state: &AppState) -> anyhow::Result<()> {
    let policies = state.policies.current();
    let Some(folder) = policies.account().config().environments.blueprints.clone() else {
        return Ok(());
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .with_context(|| format!("[environments] blueprints: {}", folder.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let spec = warden_server::environments::blueprint::BlueprintSpec::parse(
            &file.display().to_string(),
            &text,
        )?;
        let b = state
            .store
            .publish_blueprint(
                &Actor::system(),
                &warden_store::NewBlueprint {
                    name: spec.name,
                    document: text,
                },
            )
            .await?;
        output::note(&format!("blueprint {} version {}", b.name, b.version));
    }
    Ok(())
}

async fn admission_space(store: &dyn Store, name: &str) -> anyhow::Result<()> {
    if name.trim().is_empty() {
        anyhow::bail!("--admission-space must not be empty");
    }
    if store.space(name).await?.is_none() {
        store
            .put_space(
                &Actor::system(),
                &warden_store::NewSpace {
                    name: name.to_owned(),
                    description: "Kubernetes admission requests".into(),
                    settings: warden_store::SpaceSettings::default(),
                },
            )
            .await?;
        output::note(&format!("created the admission space `{name}`"));
    }
    Ok(())
}

/// Notifies `trigger` on every SIGHUP (Unix), the usual "reload your configuration".
async fn reload_on_sighup(trigger: Arc<tokio::sync::Notify>) {
    #[cfg(unix)]
    if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        while s.recv().await.is_some() {
            trigger.notify_one();
        }
    }
    #[cfg(not(unix))]
    let _ = trigger;
}

/// Ensures an admin token exists: the one in `WARDEN_ADMIN_TOKEN`, or, on a store without
/// tokens, a new one printed once on stdout.
async fn bootstrap(store: &dyn Store) -> anyhow::Result<()> {
    let admin = NewToken {
        name: BOOTSTRAP_NAME.into(),
        principal: "admin".into(),
        kind: ActorKind::Human,
        roles: vec![Role::Admin],
        spaces: vec!["*".into()],
    };
    if let Ok(secret) = std::env::var(ADMIN_TOKEN_ENV) {
        let secret = secret.trim();
        if secret.len() < 16 {
            anyhow::bail!("{ADMIN_TOKEN_ENV} must be at least 16 characters");
        }
        if let Some(token) = store.authenticate(secret).await? {
            if !token.roles.contains(&Role::Admin) {
                anyhow::bail!(
                    "{ADMIN_TOKEN_ENV} is token `{}`, which is not an admin's",
                    token.name
                );
            }
            return Ok(());
        }
        if store
            .tokens()
            .await?
            .iter()
            .any(|t| t.name == BOOTSTRAP_NAME)
        {
            anyhow::bail!(
                "{ADMIN_TOKEN_ENV} does not match the stored `{BOOTSTRAP_NAME}` token; unset it or use the one set at first start"
            );
        }
        match store.create_token(&Actor::system(), &admin, secret).await {
            Ok(_) => output::note(&format!(
                "created the admin token `{BOOTSTRAP_NAME}` from {ADMIN_TOKEN_ENV}"
            )),
            // Another replica on the same database created it a moment ago.
            Err(StoreError::Conflict(_)) if store.authenticate(secret).await?.is_some() => {}
            Err(e) => return Err(e.into()),
        }
        return Ok(());
    }
    if !store.tokens().await?.is_empty() {
        return Ok(());
    }
    let secret = warden_server::ops::generate_secret().map_err(|e| anyhow::anyhow!("{e}"))?;
    store
        .create_token(&Actor::system(), &admin, &secret)
        .await?;
    output::stdout(&format!("{secret}\n"))?;
    output::note(&format!(
        "above: the admin token `{BOOTSTRAP_NAME}`, shown once (only its hash is stored); export WARDEN_TOKEN=<it> to use `warden token create`, or set {ADMIN_TOKEN_ENV} next time"
    ));
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM. The SIGTERM handler is installed when this is called, not when
/// the future is first polled: a SIGTERM arriving between start-up and the first poll must
/// stop the server gracefully, not kill it with the default action.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        let terminate = async {
            match terminate {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            () = terminate => {},
        }
        output::note("shutting down: finishing requests in flight");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(rate_limit: f64, rate_burst: Option<u32>) -> ServeArgs {
        ServeArgs {
            data: PathBuf::from("d"),
            database: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            config: None,
            policy: Vec::new(),
            rate_limit,
            rate_burst,
            reload_interval: 2.0,
            decision_memo: warden_server::ops::DEFAULT_MEMO_CAPACITY,
            log_format: "text".into(),
            tls_cert: None,
            tls_key: None,
            admission_space: warden_server::admission::DEFAULT_SPACE.into(),
            admission_agent: Vec::new(),
            admission_pipeline: Vec::new(),
            ui_secure_cookie: "auto".into(),
        }
    }

    #[test]
    fn rate_limit_flags() {
        let limit = |r, b| args(r, b).rate_limit().ok().flatten();
        assert_eq!(limit(0.0, None), None);
        assert_eq!(limit(0.0, Some(5)), None);
        assert_eq!(limit(10.0, None).map(|l| l.burst), Some(20));
        assert_eq!(limit(0.2, None).map(|l| l.burst), Some(1));
        assert_eq!(limit(10.0, Some(3)).map(|l| l.burst), Some(3));
        assert!(args(-1.0, None).rate_limit().is_err());
        assert!(args(f64::INFINITY, None).rate_limit().is_err());
    }
}
