//! The one API error type: `{"error": {"code", "message"}}` with the right status.
//! Internal errors are logged once and never echoed.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use zs_core::ErrorKind;
use zs_engine::EngineError;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code.
    pub code: &'static str,
    /// What happened and what to do.
    pub message: String,
    /// With 429: the `Retry-After` header, in whole seconds.
    pub retry_after: Option<u64>,
}

/// The JSON shape of an error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code clients match on.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    /// 400 with code `bad_request`-style codes.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 422 invalid value.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    /// 404.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
}

/// `s` quoted for an error message, cut to 64 characters (a hostile value is not echoed whole).
pub fn quoted(s: &str) -> String {
    let cut: String = s.chars().take(64).collect();
    if cut.len() < s.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

/// The status a domain refusal is answered with.
fn domain_status(d: &zs_core::DomainError) -> StatusCode {
    match d.kind() {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Conflict => StatusCode::CONFLICT,
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Domain(d) => Self::new(domain_status(&d), d.code(), d.to_string()),
            EngineError::NotFound(what) => Self::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            ),
            EngineError::Exists(what) => Self::new(
                StatusCode::CONFLICT,
                "already_exists",
                format!("{what} already exists"),
            ),
            EngineError::Invalid(msg) => Self::invalid("invalid_request", msg),
            EngineError::InvalidRule(msg) => Self::invalid("invalid_rrule", msg),
            // The occurrence's own refusal, its message naming the occurrence.
            ref e @ EngineError::Occurrence { ref error, .. } => {
                Self::new(domain_status(error), error.code(), e.to_string())
            }
            e @ EngineError::LiveBookings(..) => Self::new(
                StatusCode::CONFLICT,
                "space_has_live_bookings",
                e.to_string(),
            ),
            EngineError::Store(e) => e.into(),
        }
    }
}

impl From<zs_store::StoreError> for ApiError {
    fn from(e: zs_store::StoreError) -> Self {
        match e {
            // PostgreSQL's exclusion constraint caught an overlap the rules did not (a race
            // between instances): the same answer as the rule's.
            zs_store::StoreError::Overlap => Self::new(
                StatusCode::CONFLICT,
                "booking_conflict",
                "the booking overlaps a live booking of this space".to_owned(),
            ),
            zs_store::StoreError::Duplicate(_) => Self::new(
                StatusCode::CONFLICT,
                "already_exists",
                "it was created concurrently by another request".to_owned(),
            ),
            e => internal(e),
        }
    }
}

impl From<zs_store::SqlxError> for ApiError {
    fn from(e: zs_store::SqlxError) -> Self {
        internal(e)
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "internal error");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the store is unavailable; retry shortly",
    )
}
