//! The `Remote` backend of `warden mcp --server URL`: each tool call forwarded to the
//! server's HTTP API with the caller's token, so the server authorises, records and audits
//! it as that principal.
//!
//! Requests go through [`crate::http_client`] (plain HTTP/1.1 on hyper, which axum already
//! brings): no new client stack and no TLS library for one request per tool call. `http://`
//! only; a server behind TLS is reached
//! through its `/mcp` endpoint directly (the agent's MCP client speaks TLS).

use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;

/// The HTTP method of [`Remote::request`].
pub use hyper::Method;
use serde_json::Value;
use warden_policy::PolicySet;

use super::EvaluateChange;
use crate::ops::ExceptionRequest;

/// How long one forwarded call may take.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Why a forwarded call failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The `--server` URL cannot be used.
    #[error("--server `{url}`: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached or the exchange broke off.
    #[error("error: the Warden server at {server} could not be reached: {reason}")]
    Unreachable {
        /// `host:port`.
        server: String,
        /// What failed.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("error ({status}): {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The server's `error` message.
        message: String,
    },
}

/// A server's HTTP API and the token calls are made with.
pub struct Remote {
    authority: String,
    prefix: String,
    token: String,
    /// The rules `explain_rule` and `list_rules` answer from (the local configuration's:
    /// the HTTP API has no rules endpoint).
    pub policy: PolicySet,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("authority", &self.authority)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// `s` percent-encoded for a query string value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Remote {
    /// A client for the server at `url` (`http://host[:port][/prefix]`), calling as the
    /// holder of `token`.
    pub fn new(url: &str, token: String, policy: PolicySet) -> Result<Remote, RemoteError> {
        let err = |reason: &str| RemoteError::Url {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: http::Uri = url
            .parse()
            .map_err(|_| err("not a URL like http://warden.internal:8080"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(err(
                    "https is not supported here; configure the agent with the server's /mcp \
endpoint directly (its MCP client speaks TLS), or use http://",
                ))
            }
            _ => return Err(err("the URL must start with http://")),
        }
        let authority = uri.authority().ok_or_else(|| err("no host"))?;
        let authority = if authority.port().is_some() {
            authority.as_str().to_owned()
        } else {
            format!("{}:80", authority.host())
        };
        if token.trim().is_empty() {
            return Err(err("the token is empty (set WARDEN_TOKEN)"));
        }
        Ok(Remote {
            authority,
            prefix: uri.path().trim_end_matches('/').to_owned(),
            token: token.trim().to_owned(),
            policy,
        })
    }

    /// `POST /v1/evaluate?space=S[&subject=X]` with the document; the decision JSON as the
    /// server answered it.
    pub async fn evaluate(
        &self,
        args: &EvaluateChange,
        document: Vec<u8>,
    ) -> Result<Vec<u8>, RemoteError> {
        let mut path = String::from("/v1/evaluate");
        let mut sep = '?';
        if let Some(space) = args.space.as_deref().filter(|s| !s.is_empty()) {
            path.push_str(&format!("{sep}space={}", encode(space)));
            sep = '&';
        }
        if let Some(subject) = args.subject.as_deref().filter(|s| !s.is_empty()) {
            path.push_str(&format!("{sep}subject={}", encode(subject)));
        }
        self.call(hyper::Method::POST, &path, Some(document))
            .await
            .map(|b| b.to_vec())
    }

    /// `POST /v1/exceptions?space=S`.
    pub async fn request_exception(
        &self,
        space: &str,
        request: &ExceptionRequest,
    ) -> Result<Value, RemoteError> {
        let body = serde_json::json!({
            "rule": request.rule,
            "resource": request.resource,
            "justification": request.justification,
            "ticket": request.ticket,
            "days": request.days,
        });
        let bytes = self
            .call(
                hyper::Method::POST,
                &format!("/v1/exceptions?space={}", encode(space)),
                Some(body.to_string().into_bytes()),
            )
            .await?;
        self.json(&bytes)
    }

    /// `POST /v1/drift/scans?space=S&target=T` with a refresh-only plan or
    /// `{"manifests", "live"}` (`warden drift --server`): the recorded scan as the server
    /// answered it.
    pub async fn drift_scan(
        &self,
        space: &str,
        target: &str,
        body: Vec<u8>,
    ) -> Result<Value, RemoteError> {
        let path = format!(
            "/v1/drift/scans?space={}&target={}",
            encode(space),
            encode(target)
        );
        let bytes = self.call(hyper::Method::POST, &path, Some(body)).await?;
        self.json(&bytes)
    }

    /// `GET /v1/approvals/{id}`.
    pub async fn approval(&self, id: i64) -> Result<Value, RemoteError> {
        let bytes = self
            .call(hyper::Method::GET, &format!("/v1/approvals/{id}"), None)
            .await?;
        self.json(&bytes)
    }

    /// Any call to the server's API: `method path` with an optional body (JSON text, or a
    /// blueprint's YAML); the answer parsed as JSON.
    ///
    /// # Errors
    /// When the server cannot be reached or answers with an error status.
    pub async fn request(
        &self,
        method: hyper::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Value, RemoteError> {
        let bytes = self.call(method, path, body).await?;
        self.json(&bytes)
    }

    fn json(&self, bytes: &[u8]) -> Result<Value, RemoteError> {
        serde_json::from_slice(bytes).map_err(|_| self.unreachable("the answer is not JSON".into()))
    }

    async fn call(
        &self,
        method: hyper::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, RemoteError> {
        tokio::time::timeout(TIMEOUT, self.exchange(method, path, body))
            .await
            .unwrap_or_else(|_| {
                Err(self.unreachable(format!("no answer within {} s", TIMEOUT.as_secs())))
            })
    }

    fn unreachable(&self, reason: String) -> RemoteError {
        RemoteError::Unreachable {
            server: self.authority.clone(),
            reason,
        }
    }

    async fn exchange(
        &self,
        method: hyper::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, RemoteError> {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.prefix))
            .header(http::header::HOST, &self.authority)
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| self.unreachable(format!("bad request: {e}")))?;
        let (status, bytes) = crate::http_client::exchange(&self.authority, request)
            .await
            .map_err(|e| self.unreachable(e))?;
        if !status.is_success() {
            let value: Option<Value> = serde_json::from_slice(&bytes).ok();
            let message = value
                .as_ref()
                .and_then(|v| v.get("error"))
                .and_then(Value::as_str)
                .map_or_else(
                    || String::from_utf8_lossy(&bytes).into_owned(),
                    str::to_owned,
                );
            return Err(RemoteError::Status {
                status: status.as_u16(),
                message,
            });
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PolicySet {
        PolicySet::load(warden_policy::Config::default()).unwrap()
    }

    #[test]
    fn urls_are_checked() {
        let r = Remote::new("http://127.0.0.1:9/base/", "t".into(), policy());
        let r = r.ok();
        assert_eq!(
            r.as_ref().map(|r| r.authority.as_str()),
            Some("127.0.0.1:9")
        );
        assert_eq!(r.as_ref().map(|r| r.prefix.as_str()), Some("/base"));
        let e = Remote::new("https://w.example", "t".into(), policy()).err();
        assert!(e.is_some_and(|e| e.to_string().contains("https is not supported")));
        let e = Remote::new("http://w.example", " ".into(), policy()).err();
        assert!(e.is_some_and(|e| e.to_string().contains("token is empty")));
        assert!(Remote::new("w.example:80", "t".into(), policy()).is_err());
        assert_eq!(encode("dev team/1"), "dev%20team%2F1");
    }
}
