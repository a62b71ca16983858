//! A JSON extractor whose rejections use our error shape.

use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// Like `axum::Json`, but a bad body is a clear 4xx in our error shape.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(r) => Err(reject(r)),
        }
    }
}

fn reject(r: JsonRejection) -> ApiError {
    let text = r.body_text();
    match r {
        JsonRejection::JsonDataError(_) => ApiError::invalid("invalid_body", text),
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("invalid_json", text),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is too large",
        ),
        _ => ApiError::bad_request("invalid_body", text),
    }
}

/// Like [`Json`], but a request without a body (no `Content-Type`, nothing sent) reads as
/// `T::default()`: for routes whose body is optional.
pub struct JsonOrEmpty<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for JsonOrEmpty<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        use axum::body::HttpBody;
        let no_type = !req.headers().contains_key(axum::http::header::CONTENT_TYPE);
        if no_type && req.body().size_hint().exact() == Some(0) {
            return Ok(JsonOrEmpty(T::default()));
        }
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| JsonOrEmpty(v))
    }
}
