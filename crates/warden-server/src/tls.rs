//! HTTPS for `warden serve --tls-cert FILE --tls-key FILE`: rustls with the `ring` provider
//! (no C toolchain), the certificate chain and key read from PEM files, and both reloaded
//! when the files change without dropping the listener: [`serve_tls`] polls their
//! modification time and size, and a pair that loads cleanly replaces the one in force for
//! new connections (open connections keep theirs). A pair that fails to load — half
//! written, key and certificate not matching — is reported and the one in force kept; it is
//! tried again when the files change again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::ops::AppState;

/// Why a certificate and key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A file is not what it should be.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the pair.
    #[error("{cert} with {key}: {message}")]
    Config {
        /// The certificate file.
        cert: String,
        /// The key file.
        key: String,
        /// What rustls said.
        message: String,
    },
}

/// Where the certificate chain and its private key are (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl TlsFiles {
    /// Reads both files and builds the server configuration (HTTP/1.1 over TLS 1.2 or 1.3).
    pub fn load(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.display().to_string(),
                source,
            })
        };
        let invalid = |path: &Path, message: String| TlsError::Invalid {
            path: path.display().to_string(),
            message,
        };
        let cert_pem = read(&self.cert)?;
        let certs = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(&self.cert, format!("not a PEM certificate chain: {e}")))?;
        if certs.is_empty() {
            return Err(invalid(
                &self.cert,
                "no certificate in it (expected `-----BEGIN CERTIFICATE-----`)".into(),
            ));
        }
        let key_pem = read(&self.key)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
            invalid(
                &self.key,
                format!("no usable private key in it (PKCS#8, PKCS#1 or SEC1 PEM): {e}"),
            )
        })?;
        let config_error = |message: String| TlsError::Config {
            cert: self.cert.display().to_string(),
            key: self.key.display().to_string(),
            message,
        };
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| config_error(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Modification time and size of both files (`None` for one that cannot be read).
    fn fingerprint(&self) -> [Option<(SystemTime, u64)>; 2] {
        let of = |p: &Path| {
            std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())))
        };
        [of(&self.cert), of(&self.key)]
    }
}

/// Serves the API over HTTPS on the listener until `shutdown` completes (then finishes the
/// requests in flight, as [`crate::serve`] does), checking the certificate and key files
/// every `check_every` and putting a changed pair in force when it loads.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    files: TlsFiles,
    check_every: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = files
        .load()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
    let rustls_config = axum_server::tls_rustls::RustlsConfig::from_config(config);
    let watcher = tokio::spawn(watch(files, rustls_config.clone(), check_every));
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    let stopper = tokio::spawn(async move {
        shutdown.await;
        stopping.graceful_shutdown(Some(crate::REQUEST_TIMEOUT));
    });
    let listener = listener.into_std()?;
    let served = axum_server::from_tcp_rustls(listener, rustls_config)?
        .handle(handle)
        .serve(crate::router(state).into_make_service())
        .await;
    watcher.abort();
    stopper.abort();
    served
}

/// Polls the files; a change that loads replaces the configuration new connections get.
async fn watch(files: TlsFiles, config: axum_server::tls_rustls::RustlsConfig, every: Duration) {
    let mut seen = files.fingerprint();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = files.fingerprint();
        if now == seen {
            continue;
        }
        seen = now;
        let loading = files.clone();
        match tokio::task::spawn_blocking(move || loading.load()).await {
            Ok(Ok(new)) => {
                config.reload_from_config(new);
                tracing::info!(
                    cert = %files.cert.display(),
                    key = %files.key.display(),
                    "TLS certificate reloaded"
                );
            }
            Ok(Err(e)) => tracing::warn!(
                error = %e,
                "TLS certificate not reloaded; the one in force is kept"
            ),
            Err(e) => tracing::warn!(error = %e, "TLS certificate reload failed"),
        }
    }
}
