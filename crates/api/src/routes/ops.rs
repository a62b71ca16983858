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

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    record_queue_depths(&st).await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        crate::metrics_handle().render(),
    )
}

async fn record_queue_depths(st: &AppState) {
    let Ok(mut c) = st.engine.store.read().await else {
        return;
    };
    let Ok(depths) = zs_store::jobs::depths(&mut c).await else {
        return;
    };
    for q in [
        zs_store::jobs::MEETING_SCHEDULER,
        zs_store::jobs::STATUS_UPDATES,
        zs_store::jobs::WEBHOOK_DELIVERIES,
    ] {
        let n = depths
            .iter()
            .find(|(name, _)| name == q)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        metrics::gauge!("zs_queue_depth", "queue" => q).set(n as f64);
    }
}
