//! The server's one error type, turned into a JSON response once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use warden_store::StoreError;

/// Why a request failed. Each maps to one status and `{"error": "..."}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No bearer token, or one the store does not know (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The token is valid but may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The object does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The object's state does not allow this (409).
    #[error("{0}")]
    Conflict(String),
    /// The request is malformed (400, or the status of the body rejection: 413, 415 ...).
    #[error("{message}")]
    BadRequest {
        /// The status to answer with (a 4xx).
        status: StatusCode,
        /// What is wrong with the request.
        message: String,
    },
    /// The token is over its rate limit (429, with `Retry-After`).
    #[error("{message}")]
    TooManyRequests {
        /// What the client is told.
        message: String,
        /// How long until the token may make a request again.
        retry_after: std::time::Duration,
    },
    /// The store failed; the details are not shown to the client (500).
    #[error("{public}: {detail}")]
    Internal {
        /// What the client is told.
        public: String,
        /// What went wrong (for logs).
        detail: String,
    },
}

impl ApiError {
    /// A 400 naming the problem.
    #[must_use]
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// A store error in the context of `doing` (what the client is told when it is internal).
    #[must_use]
    pub fn store(doing: &str, e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            StoreError::Forbidden(m) => ApiError::Forbidden(m),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Invalid(m) => ApiError::bad_request(m),
            other => ApiError::Internal {
                public: format!("{doing} failed in the store"),
                detail: other.to_string(),
            },
        }
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::BadRequest { status, .. } => *status,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told.
    #[must_use]
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal { public, .. } => public.clone(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal { public, detail } = &self {
            // The client gets `public` only; the operator needs the cause.
            tracing::error!(error = %public, detail = %detail, "request failed");
        }
        let mut response = (
            self.status(),
            Json(serde_json::json!({ "error": self.public_message() })),
        )
            .into_response();
        if self.status() == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        if let ApiError::TooManyRequests { retry_after, .. } = &self {
            // Whole seconds, rounded up, at least 1.
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs.max(1)),
            );
        }
        response
    }
}
