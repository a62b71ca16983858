//! The operator's pages (`GET /`, the dashboard, and `GET /panel/{spaceId}`, a door panel):
//! static files compiled into the binary, so no CDN and no second server. The pages call the
//! API with the token in the `Authorization` header; the server never sees it in a URL.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

/// Only this origin's own files: no inline script, no inline style, no framing, and the page
/// talks to this origin alone.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// (name, content type, text) of every file the pages load.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../web/app.css"),
    ),
    (
        "common.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/common.js"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/dashboard.js"),
    ),
    (
        "panel.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/panel.js"),
    ),
    (
        "timeline.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/timeline.js"),
    ),
    (
        "utilisation.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/utilisation.js"),
    ),
];

const HTML: &str = "text/html; charset=utf-8";

fn file(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn dashboard() -> Response {
    file(HTML, include_str!("../web/dashboard.html"))
}

/// The panel page for any well-formed space id; the page itself reads the space (a 404
/// from the API is shown on it).
async fn panel(Path(space_id): Path<String>) -> Response {
    if zs_core::SpaceId::parse(&space_id).is_err() {
        return crate::error::ApiError::not_found(format!("no space id {space_id:?}"))
            .into_response();
    }
    file(HTML, include_str!("../web/panel.html"))
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => file(content_type, body),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// The pages' routes, each answer with the policy, `nosniff` and no referrer.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(dashboard))
        .route("/panel/{space_id}", get(panel))
        .route("/assets/{name}", get(asset))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
}
