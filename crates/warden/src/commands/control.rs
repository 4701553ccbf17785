//! What the control-plane commands share: where the store is (a data folder or a PostgreSQL
//! database), the runtime, the caller's token.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use warden_store::postgres::is_postgres_url;
use warden_store::{OpenOptions, PostgresStore, SqliteStore, Store, Token};

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

/// Environment variable with the PostgreSQL URL, when `--database` is not given.
pub const DATABASE_ENV: &str = "WARDEN_DATABASE_URL";

/// Where the store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// SQLite: `warden.db` in this data folder.
    Data(PathBuf),
    /// PostgreSQL at this URL.
    Database(String),
}

impl Location {
    /// `--database URL` (or `WARDEN_DATABASE_URL`) when given, else the data folder.
    pub fn resolve(data: &Path, database: Option<&str>) -> anyhow::Result<Location> {
        let from_env = || {
            std::env::var(DATABASE_ENV)
                .ok()
                .filter(|u| !u.trim().is_empty())
        };
        let url = match database {
            Some(u) => Some(u.to_owned()),
            None => from_env(),
        };
        match url {
            None => Ok(Location::Data(data.to_owned())),
            Some(u) if is_postgres_url(u.trim()) => Ok(Location::Database(u.trim().to_owned())),
            Some(_) => anyhow::bail!(
                "--database / {DATABASE_ENV}: expected a PostgreSQL URL (postgres://user@host:port/database)"
            ),
        }
    }

    /// For messages: the folder, or the URL with any password hidden.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Location::Data(dir) => format!("data {}", dir.display()),
            Location::Database(url) => format!("database {}", redact(url)),
        }
    }

    /// Opens the store, creating it (SQLite: the folder and file; both: the schema) when
    /// `create`; otherwise an SQLite data folder must already hold a database (a typo must
    /// not verify an empty log).
    pub async fn open(&self, create: bool) -> anyhow::Result<Arc<dyn Store>> {
        match self {
            Location::Data(dir) => {
                if !create && !dir.join("warden.db").is_file() {
                    anyhow::bail!(
                        "{} holds no Warden database (warden.db); start `warden serve --data {}` first",
                        dir.display(),
                        dir.display()
                    );
                }
                let store = SqliteStore::open_dir(dir, OpenOptions::default())
                    .await
                    .with_context(|| format!("cannot open the store in {}", dir.display()))?;
                Ok(Arc::new(store))
            }
            Location::Database(url) => {
                let store = PostgresStore::connect(url, OpenOptions::default())
                    .await
                    .with_context(|| format!("cannot open the store in {}", self.describe()))?;
                Ok(Arc::new(store))
            }
        }
    }
}

/// `url` with the password between `user:` and `@` replaced by `***`.
fn redact(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    match (rest.find('@'), rest.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!("{}{}:***{}", &url[..start], &rest[..colon], &rest[at..])
        }
        _ => url.to_owned(),
    }
}

/// Opens the store an existing deployment uses (never creates an SQLite one).
pub async fn open_existing(data: &DataArg) -> anyhow::Result<Arc<dyn Store>> {
    Location::resolve(&data.data, data.database.as_deref())?
        .open(false)
        .await
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

/// `--data DIR` or `--database URL`, shared by the control-plane commands.
#[derive(Debug, clap::Args)]
pub struct DataArg {
    /// Data folder of `warden serve` (its SQLite database `warden.db`).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA)]
    pub data: PathBuf,
    /// PostgreSQL database of `warden serve` (`postgres://user@host:port/database`) instead
    /// of a data folder; default: WARDEN_DATABASE_URL when set.
    #[arg(long, value_name = "URL", conflicts_with = "data")]
    pub database: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://u:hunter2@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h:5432/db"), "postgres://u@h:5432/db");
        assert_eq!(redact("postgres://h:5432/db"), "postgres://h:5432/db");
    }

    #[test]
    fn only_postgres_urls_select_a_database() {
        let data = Path::new("d");
        assert_eq!(
            Location::resolve(data, Some("postgres://h/db")).unwrap(),
            Location::Database("postgres://h/db".into())
        );
        assert!(Location::resolve(data, Some("mysql://h/db")).is_err());
    }
}
