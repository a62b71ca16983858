//! Refuses a request body sent to an authenticated route that takes none (a cancel, a
//! check-in, a read): such a request is malformed and must change nothing, however large its
//! body. An empty JSON object (`{}`), which many HTTP clients send with every POST, is taken
//! as no body. Which routes take a body is read from the OpenAPI document, so the two cannot
//! disagree.

use crate::error::ApiError;
use axum::body::HttpBody;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashSet;
use std::sync::Arc;
use utoipa::openapi::OpenApi;

/// The authenticated operations (method, path template) that take no request body.
#[derive(Debug, Default)]
pub struct BodylessRoutes(HashSet<(Method, String)>);

impl BodylessRoutes {
    /// Reads them from the document.
    pub fn from_doc(doc: &OpenApi) -> Arc<Self> {
        let mut set = HashSet::new();
        for (path, item) in &doc.paths.paths {
            let ops = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, op) in ops {
                if op
                    .as_ref()
                    .is_some_and(|op| op.security.is_some() && op.request_body.is_none())
                {
                    set.insert((method, path.clone()));
                }
            }
        }
        Arc::new(Self(set))
    }
}

/// Whether the request has a body: announced by a non-zero length or a chunked encoding, or
/// a body not known to be empty.
fn has_body(req: &Request) -> bool {
    let h = req.headers();
    let length = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = req.body();
    length.is_some_and(|n| n > 0)
        || h.contains_key(header::TRANSFER_ENCODING)
        || (!body.is_end_stream() && body.size_hint().exact() != Some(0))
}

/// Middleware (a route layer, so the matched path is known): 413 `body_not_allowed`.
pub async fn refuse_body(
    State(routes): State<Arc<BodylessRoutes>>,
    req: Request,
    next: Next,
) -> Response {
    let bodyless = req.extensions().get::<MatchedPath>().is_some_and(|p| {
        routes
            .0
            .contains(&(req.method().clone(), p.as_str().to_owned()))
    });
    if !bodyless || !has_body(&req) {
        return next.run(req).await;
    }
    let refused = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_not_allowed",
        format!(
            "{} {} takes no request body; send none (or {{}})",
            req.method(),
            req.uri().path()
        ),
    );
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, EMPTY_OBJECT_MAX).await {
        Ok(bytes) if is_empty_object(&bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::empty()))
                .await
        }
        Ok(_) | Err(_) => refused.into_response(),
    }
}

/// The most bytes read to see whether a body is only `{}` (with some whitespace).
const EMPTY_OBJECT_MAX: usize = 64;

/// Whether `bytes` are nothing but whitespace, or a JSON object without members.
fn is_empty_object(bytes: &[u8]) -> bool {
    let text = bytes.trim_ascii();
    text.is_empty()
        || serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(text)
            .is_ok_and(|m| m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nothing_or_an_empty_object_counts_as_no_body() {
        for none in [&b""[..], b"  ", b"{}", b" { } \n"] {
            assert!(is_empty_object(none), "{:?}", String::from_utf8_lossy(none));
        }
        for some in [&b"{\"a\":1}"[..], b"[]", b"null", b"x", b"{} {}"] {
            assert!(
                !is_empty_object(some),
                "{:?}",
                String::from_utf8_lossy(some)
            );
        }
    }
}
