//! Operations: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", operation_id = "getHealth", tag = "ops",
    responses((status = 200, description = "`ok`: the process answers", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store answers, and so does every other dependency (Redis, when used).
#[utoipa::path(get, path = "/readyz", operation_id = "getReadiness", tag = "ops",
    responses(
        (status = 200, description = "`ready`: the store and every other dependency answer", body = String, content_type = "text/plain"),
        (status = 503, description = "A dependency is unavailable: one line per dependency that is down, naming it", body = String, content_type = "text/plain")))]
pub async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    let mut down = vec![];
    if !st.engine.store.ping().await {
        down.push("store: unavailable".to_owned());
    }
    for (name, probe) in &st.probes {
        if let Err(e) = probe().await {
            down.push(format!("{name}: {e}"));
        }
    }
    if down.is_empty() {
        (StatusCode::OK, "ready".to_owned())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, down.join("\n"))
    }
}

/// Prometheus metrics: every series described (`# HELP`, `# TYPE`); the queue depths are
/// read now from where the queues live.
#[utoipa::path(get, path = "/metrics", operation_id = "getMetrics", tag = "ops",
    responses((status = 200, description = "The metrics in the Prometheus text format (0.0.4)", body = String, content_type = "text/plain")))]
pub async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    let mut body = crate::metrics_handle().render();
    match crate::metrics::read_depths(&st).await {
        Ok(depths) => body.push_str(&crate::metrics::render_depths(&depths)),
        // The scrape still answers: the other series do not depend on the queues.
        Err(e) => tracing::warn!(error = %e, "queue depths left out of this scrape"),
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        body,
    )
}
