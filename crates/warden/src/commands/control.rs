//! What the control-plane commands share: the data folder, the store, the runtime, the
//! caller's token.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use warden_store::{OpenOptions, SqliteStore, Store, Token};

/// Environment variable holding the caller's API token for commands that act as a principal.
pub const TOKEN_ENV: &str = "WARDEN_TOKEN";

/// The default data folder.
pub const DEFAULT_DATA: &str = "./warden-data";

/// A runtime for one command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Opens the store of an existing data folder (never creates one: a typo must not verify an
/// empty log).
pub async fn open_existing(data: &Path) -> anyhow::Result<SqliteStore> {
    let file = data.join("warden.db");
    if !file.is_file() {
        anyhow::bail!(
            "{} holds no Warden database (warden.db); start `warden serve --data {}` first",
            data.display(),
            data.display()
        );
    }
    SqliteStore::open_dir(data, OpenOptions::default())
        .await
        .with_context(|| format!("cannot open the store in {}", data.display()))
}

/// The token named by `WARDEN_TOKEN`, authenticated against the store.
pub async fn caller(store: &dyn Store) -> anyhow::Result<Token> {
    let secret = std::env::var(TOKEN_ENV).map_err(|_| {
        anyhow::anyhow!("set {TOKEN_ENV} to your API token (this command acts as you)")
    })?;
    warden_server::ops::authenticate_secret(store, secret.trim())
        .await
        .map_err(|e| anyhow::anyhow!("{TOKEN_ENV}: {e}"))
}

/// `--data DIR`, shared by the control-plane commands.
#[derive(Debug, clap::Args)]
pub struct DataArg {
    /// Data folder of `warden serve` (its SQLite database `warden.db`).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA)]
    pub data: PathBuf,
}
