//! The HTTP API's errors: a stable code and words in a JSON body; details go to the log.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Errors of the HTTP API: a stable code and a message; details go to the log.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404.
    #[error("{0}")]
    NotFound(&'static str),
    /// 400, with what is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// 409: the request is well-formed but the event's state forbids it (words say why).
    #[error("{0}")]
    Conflict(String),
    /// 409 with its own code (`order_expired`, …): the state forbids it; nothing changed.
    #[error("{1}")]
    Refused(&'static str, String),
    /// 401.
    #[error("missing or wrong admin key")]
    Unauthorized,
    /// 503 `outcome_unknown`: a change may or may not have been made (the database's
    /// answer was lost and it could not be asked again); retrying the same request is
    /// safe and finds out. Never a claim that nothing changed.
    #[error("{0}")]
    OutcomeUnknown(String),
    /// 503: the admin API has no key configured.
    #[error("the admin API is disabled: set USHER_ADMIN_KEY")]
    AdminDisabled,
    /// 500.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Refused(code, _) => (StatusCode::CONFLICT, *code),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::OutcomeUnknown(_) => (StatusCode::SERVICE_UNAVAILABLE, "outcome_unknown"),
            ApiError::AdminDisabled => (StatusCode::SERVICE_UNAVAILABLE, "admin_disabled"),
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        (
            status,
            Json(json!({ "error": code, "message": self.to_string() })),
        )
            .into_response()
    }
}

/// A handler's result.
pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON body, or a 400 that says what is wrong with it.
pub fn body<T>(payload: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    payload
        .map(|Json(v)| v)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}
