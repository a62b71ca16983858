//! Operations: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "ok")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store answers, and so does every other dependency (Redis, when used).
#[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200, description = "ready"), (status = 503, description = "the store or another dependency is unavailable; the body names it")))]
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
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "Prometheus text format")))]
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
