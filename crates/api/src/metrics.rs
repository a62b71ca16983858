//! Prometheus metrics: the process-wide recorder, the description of every series
//! (`# HELP`/`# TYPE`), the HTTP request middleware and the queue depths read at scrape time.
//! Every series is listed in docs/metrics.md.

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics::{describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Requests handled, by method, route template and status.
pub const HTTP_REQUESTS: &str = "zs_http_requests_total";
/// Time from a request's arrival to its response head, by method and route template.
pub const HTTP_DURATION: &str = "zs_http_request_duration_seconds";
/// Unfinished jobs per queue, read at scrape time from where the queue lives.
pub const QUEUE_DEPTH: &str = "zs_queue_depth";
/// The route label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

const QUEUE_DEPTH_HELP: &str = "Jobs not yet finished (waiting, delayed, active) per queue, read at scrape time from where the queue lives: Redis with ZS_REDIS_URL, else the store's job table.";

/// How long a scrape waits for the queue depths before leaving them out.
const DEPTHS_WITHIN: Duration = Duration::from_secs(1);

/// Reads how many unfinished jobs each queue holds where the queues really live (Redis):
/// `(queue, jobs)` pairs, or why they could not be read.
pub type QueueDepths = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Vec<(&'static str, u64)>, String>> + Send>>
        + Send
        + Sync,
>;

/// The process-wide Prometheus recorder (installed on first use, with every series
/// described and its histogram buckets set).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("zs_timer_lateness_seconds".into()),
                &[
                    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 60.0,
                ],
            )
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(HTTP_DURATION.into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0,
                    ],
                )
            })
            .expect("valid buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (tests embedding several apps): keep ours for rendering.
        let _ = metrics::set_global_recorder(recorder);
        describe_all();
        // Histogram samples are buffered until a scrape or an upkeep drains them: without a
        // scraper they would pile up.
        let upkeep = handle.clone();
        let _ = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
        handle
    })
}

/// Describes every series the service records (a described series gets `# HELP` and
/// `# TYPE`), and starts the ones that exist from the first instant at zero.
fn describe_all() {
    describe_gauge!(
        "zs_build_info",
        "Always 1; the version label says which zs-scheduler build is running."
    );
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, matched route template and status code."
    );
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Seconds from a request's arrival to its response head, by method and matched route template."
    );
    describe_counter!(
        "zs_ingress_jobs_total",
        "Ingress jobs taken from the meetingScheduler queue, by event and outcome (applied, already_applied, refused, malformed)."
    );
    describe_histogram!(
        "zs_timer_lateness_seconds",
        metrics::Unit::Seconds,
        "Seconds between a timer's due instant and the moment its transition was committed."
    );
    describe_counter!(
        "zs_deliveries_total",
        "Delivery attempts and their ends, by queue (status, webhook) and outcome (delivered, failed_attempt, dead_lettered, dropped)."
    );
    describe_counter!(
        "zs_transitions_total",
        "State transitions committed, by the event that caused them."
    );
    describe_counter!(
        "zs_transition_table_misses_total",
        "Events the transition table had no row for (always 0 unless there is a bug)."
    );
    metrics::gauge!("zs_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    metrics::counter!("zs_transition_table_misses_total").absolute(0);
    for (queue, outcomes) in [
        ("status", &["delivered", "failed_attempt"][..]),
        (
            "webhook",
            &["delivered", "failed_attempt", "dead_lettered", "dropped"][..],
        ),
    ] {
        for outcome in outcomes {
            metrics::counter!("zs_deliveries_total", "queue" => queue, "outcome" => *outcome)
                .increment(0);
        }
    }
}

/// Counts and times every request by its matched route template (never the raw path, so
/// ids do not make new series).
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| UNMATCHED.to_owned());
    let method = method_label(req.method());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    resp
}

/// The method as a label; methods outside HTTP's standard set share one label, so a client
/// cannot make new series.
fn method_label(m: &Method) -> &'static str {
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ]
    .iter()
    .find(|k| *k == m)
    .map_or("other", Method::as_str)
}

/// `zs_queue_depth` in Prometheus text: one sample per queue of `depths`.
pub fn render_depths(depths: &[(&str, u64)]) -> String {
    let mut out = format!("# HELP {QUEUE_DEPTH} {QUEUE_DEPTH_HELP}\n# TYPE {QUEUE_DEPTH} gauge\n");
    for (queue, n) in depths {
        let _ = writeln!(out, "{QUEUE_DEPTH}{{queue=\"{queue}\"}} {n}");
    }
    out
}

/// The queue depths from `source` (Redis), or from the store's job table when there is
/// none; `Err` says why they could not be read.
pub async fn read_depths(st: &crate::AppState) -> Result<Vec<(&'static str, u64)>, String> {
    if let Some(source) = &st.queue_depths {
        return match tokio::time::timeout(DEPTHS_WITHIN, source()).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} ms", DEPTHS_WITHIN.as_millis())),
        };
    }
    let mut c = st.engine.store.read().await.map_err(|e| e.to_string())?;
    let depths = zs_store::jobs::depths(&mut c)
        .await
        .map_err(|e| e.to_string())?;
    Ok(zs_store::Queue::ALL
        .into_iter()
        .map(|q| {
            let n = depths
                .iter()
                .find(|(queue, _)| *queue == q)
                .map_or(0, |(_, n)| *n);
            (q.as_str(), u64::try_from(n).unwrap_or(0))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        assert_eq!(
            method_label(&Method::from_bytes(b"PROPFIND").unwrap()),
            "other"
        );
    }

    #[test]
    fn depths_render_as_one_described_gauge() {
        let text = render_depths(&[("meetingScheduler", 43), ("statusUpdateQueue", 0)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("# HELP zs_queue_depth "));
        assert_eq!(lines[1], "# TYPE zs_queue_depth gauge");
        assert_eq!(lines[2], "zs_queue_depth{queue=\"meetingScheduler\"} 43");
        assert_eq!(lines[3], "zs_queue_depth{queue=\"statusUpdateQueue\"} 0");
    }
}
