//! Cross-site request forgery protection: every form carries the session's CSRF token (a
//! hash of the session secret, so it needs no storage and is worthless without the
//! cookie), and every POST is checked against it and against the browser's own
//! `Sec-Fetch-Site` and `Origin` headers.

use axum::http::{header, HeaderMap};

use crate::error::ApiError;

/// The CSRF token of the session whose cookie secret this is.
#[must_use]
pub fn token_for(session_secret: &str) -> String {
    let hash = warden_store::token_hash(&format!("warden-ui-csrf:{session_secret}"));
    hash.trim_start_matches("sha256:").to_owned()
}

/// Compares in time independent of where the strings differ.
#[must_use]
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Checks a form POST: the request comes from this site (when the browser says where it
/// comes from) and carries the expected token.
///
/// # Errors
/// 403 naming what did not match.
pub fn check(headers: &HeaderMap, expected: &str, submitted: Option<&str>) -> Result<(), ApiError> {
    check_origin(headers)?;
    match submitted {
        Some(t) if same(t, expected) => Ok(()),
        _ => Err(ApiError::Forbidden(
            "the form's CSRF token does not match this session; reload the page and try again"
                .into(),
        )),
    }
}

/// Refuses requests a browser marks as coming from another site.
fn check_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        if !matches!(site, "same-origin" | "none") {
            return Err(ApiError::Forbidden(format!(
                "a form from another site (Sec-Fetch-Site: {site}) is refused"
            )));
        }
    }
    if let (Some(origin), Some(host)) = (text(header::ORIGIN), text(header::HOST)) {
        let origin_host = origin
            .split_once("://")
            .map_or(origin, |(_, rest)| rest)
            .trim_end_matches('/');
        if origin_host != host {
            return Err(ApiError::Forbidden(format!(
                "a form from another origin ({origin}) is refused"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_per_session_and_compare_exactly() {
        let a = token_for("one");
        assert_eq!(a.len(), 64);
        assert_ne!(a, token_for("two"));
        assert!(same(&a, &token_for("one")));
        assert!(!same(&a, &a[1..]));
    }

    #[test]
    fn foreign_origins_and_bad_tokens_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            "127.0.0.1:8080".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert!(check(&h, "t", Some("t")).is_ok());
        assert!(check(&h, "t", Some("u")).is_err());
        assert!(check(&h, "t", None).is_err());
        h.insert(
            header::ORIGIN,
            "http://127.0.0.1:8080"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert!(check(&h, "t", Some("t")).is_ok());
        h.insert(
            header::ORIGIN,
            "https://evil.example"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert!(check(&h, "t", Some("t")).is_err());
        h.remove(header::ORIGIN);
        h.insert(
            "sec-fetch-site",
            "cross-site".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert!(check(&h, "t", Some("t")).is_err());
    }
}
