//! The server's outgoing HTTP: one request per connection, plain HTTP/1.1 on hyper (which
//! axum already brings), for the few calls Warden makes — `warden mcp --server`'s forwarded
//! tool calls and the environments' expiry notice. No TLS: both take `http://` URLs only.

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::StatusCode;
use hyper_util::rt::TokioIo;

/// Sends `request` to `authority` (`host:port`) and reads the whole answer; errors are the
/// connection's or the protocol's, as text.
///
/// # Errors
/// When the host cannot be reached or the exchange breaks off.
pub async fn exchange(
    authority: &str,
    request: http::Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), String> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let answer = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }
    .await;
    driver.abort();
    answer
}
