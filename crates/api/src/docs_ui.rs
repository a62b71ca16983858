//! `GET /docs`: the OpenAPI document (`/openapi.json`) in Swagger UI. The UI's files are
//! vendored into the binary at build time, so the page needs no CDN and works offline; it
//! runs no inline script, so it is served under a strict Content-Security-Policy.

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Where the UI is served.
pub const PATH: &str = "/docs";

/// The policy of every `/docs` answer: its own scripts and styles only (Swagger UI sets
/// inline `style` attributes, hence `'unsafe-inline'` for styles alone), requests to this
/// origin only, and no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The routes of the UI (`/docs` redirects to `/docs/`), reading the served document.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let ui = SwaggerUi::new(PATH).config(Config::from("/openapi.json"));
    Router::from(ui).layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    ))
}
