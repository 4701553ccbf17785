//! The stylesheet and script, embedded in the binary and served with a content hash in
//! their URL, so browsers cache them for a year and a new build is fetched at once.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 2] = [
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("static/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("static/app.js"),
    },
];

/// Each asset's content hash (the first 16 hex digits of its SHA-256), in [`ASSETS`] order.
static HASHES: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let h = warden_store::token_hash(a.body);
            let hex = h.trim_start_matches("sha256:");
            hex.get(..16).unwrap_or(hex).to_owned()
        })
        .collect()
});

fn find(name: &str) -> Option<(&'static Asset, &'static str)> {
    ASSETS
        .iter()
        .zip(HASHES.iter())
        .find(|(a, _)| a.name == name)
        .map(|(a, h)| (a, h.as_str()))
}

/// The URL of an asset, versioned by its content.
#[must_use]
pub fn url(name: &str) -> String {
    match find(name) {
        Some((_, hash)) => format!("/ui/assets/{name}?v={hash}"),
        None => format!("/ui/assets/{name}"),
    }
}

/// Serves an asset: long-lived cache, ETag, 304 when the browser has it.
pub async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some((asset, hash)) = find(&name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag = format!("\"{hash}\"");
    let cache = "public, max-age=31536000, immutable";
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, etag),
                (header::CACHE_CONTROL, cache.to_owned()),
            ],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, asset.content_type.to_owned()),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache.to_owned()),
        ],
        asset.body,
    )
        .into_response()
}
