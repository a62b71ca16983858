//! The HTTP API of CONTRACT §5 on axum: routes per resource, bearer roles, JSON errors,
//! OpenAPI generated from the handlers, server-sent events and Prometheus metrics.

pub mod auth;
pub mod bodyless;
pub mod docs_ui;
pub mod dto;
pub mod error;
pub mod extract;
pub mod json;
pub mod limit;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod web;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zs_engine::Engine;

pub use self::metrics::{QueueDepths, metrics_handle};

/// The largest request body accepted (64 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A readiness check of something the service depends on besides its store (Redis):
/// `Err` says what is wrong.
pub type Probe = Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>
        + Send
        + Sync,
>;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// SHA-256 of the admin token.
    pub admin_token_hash: String,
    /// Checked by `/readyz` with the store, by name.
    pub probes: Vec<(&'static str, Probe)>,
    /// Rate limits per token and per failing client address.
    pub limits: Arc<limit::Limits>,
    /// Where `/metrics` reads the queue depths when the queues are not the store's job
    /// table (Redis); `None`: the job table.
    pub queue_depths: Option<QueueDepths>,
}

fn api() -> OpenApiRouter<AppState> {
    use routes::*;
    OpenApiRouter::new()
        .routes(routes!(spaces::create, spaces::list))
        .routes(routes!(spaces::get, spaces::patch, spaces::delete))
        .routes(routes!(spaces::disable))
        .routes(routes!(spaces::enable))
        .routes(routes!(spaces::book_now))
        .routes(routes!(spaces::history))
        .routes(routes!(spaces::availability))
        .routes(routes!(utilisation::space))
        .routes(routes!(utilisation::all))
        .routes(routes!(bookings::create, bookings::list))
        .routes(routes!(bookings::get))
        .routes(routes!(bookings::cancel))
        .routes(routes!(bookings::check_in))
        .routes(routes!(bookings::check_out))
        .routes(routes!(bookings::extend))
        .routes(routes!(series::create))
        .routes(routes!(series::get))
        .routes(routes!(series::cancel))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::delete))
        .routes(routes!(webhooks::rotate))
        .routes(routes!(webhooks::deliveries_of))
        .routes(routes!(webhooks::retry))
        .routes(routes!(tokens::create, tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(events::stream))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
}

/// The OpenAPI document (served at `/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::finish(api().into_openapi())
}

async fn not_found() -> error::ApiError {
    error::ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// A handler that panicked is a bug: it is logged, and the client gets our error shape
/// rather than a dropped connection.
fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    tracing::error!(panic = what, "request handler panicked");
    axum::response::IntoResponse::into_response(error::ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "an internal error occurred; it has been logged",
    ))
}

/// The whole application (tests call it without a socket).
pub fn app(state: AppState) -> Router {
    let (router, _) = api().split_for_parts();
    let spec = Arc::new(openapi());
    let bodyless = bodyless::BodylessRoutes::from_doc(&spec);
    router
        .route_layer(axum::middleware::from_fn_with_state(
            bodyless,
            bodyless::refuse_body,
        ))
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let s = spec.clone();
                async move { axum::Json((*s).clone()) }
            }),
        )
        .merge(docs_ui::router())
        .merge(web::router())
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn(self::metrics::track))
        .with_state(state)
}
