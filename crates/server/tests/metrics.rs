//! End to end: `/metrics` of the real binary after real traffic. Every series is described
//! (`# HELP`, `# TYPE`); HTTP requests are labelled by route template and status; timers
//! that fire are timed; and `zs_queue_depth` matches where the queue lives: the SQLite file
//! (read with `sqlite3`) on the embedded store, Redis (read with `redis-cli`) with
//! `ZS_REDIS_URL`, including delayed jobs a Node producer added that the store never saw.

mod support;

use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use support::*;

const REDIS: &str = "redis://127.0.0.1:6379";

/// One scrape: the `# TYPE` and `# HELP` of each family, and every sample by its full
/// name with labels (`name{a="b"}`).
struct Scrape {
    types: HashMap<String, String>,
    helps: HashMap<String, String>,
    samples: Vec<(String, f64)>,
}

impl Scrape {
    async fn take(base: &str) -> Scrape {
        let resp = reqwest::get(format!("{base}/metrics")).await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let text = resp.text().await.unwrap();
        let mut s = Scrape {
            types: HashMap::new(),
            helps: HashMap::new(),
            samples: vec![],
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, ty) = rest.split_once(' ').unwrap();
                s.types.insert(name.to_owned(), ty.to_owned());
            } else if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
                s.helps.insert(name.to_owned(), help.to_owned());
            } else if !line.starts_with('#') {
                let (series, value) = line.rsplit_once(' ').unwrap();
                s.samples
                    .push((series.to_owned(), value.parse().unwrap_or(f64::NAN)));
            }
        }
        s
    }

    /// The family a sample belongs to (a histogram's `_bucket`, `_sum` and `_count` belong
    /// to the histogram).
    fn family(&self, series: &str) -> String {
        let name = series.split('{').next().unwrap();
        if self.types.contains_key(name) {
            return name.to_owned();
        }
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix)
                && self.types.get(base).map(String::as_str) == Some("histogram")
            {
                return base.to_owned();
            }
        }
        name.to_owned()
    }

    /// The value of the sample named `name` whose labels include every `labels` pair.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|(series, _)| {
                series.split('{').next() == Some(name)
                    && labels
                        .iter()
                        .all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")))
            })
            .map(|(_, v)| *v)
    }

    fn depth(&self, queue: &str) -> Option<f64> {
        self.value("zs_queue_depth", &[("queue", queue)])
    }
}

async fn space(api: &Api, id: &str) {
    let body = json!({"id": id, "name": id, "timezone": "UTC", "upcomingLead": "PT1S", "noShowGrace": "PT1S", "cleaning": "PT1S"});
    let (s, v) = api.post("/v1/spaces", body).await;
    assert_eq!(s, 201, "{v}");
}

async fn book(api: &Api, space: &str, id: &str, start_ms: i64, end_ms: i64) {
    let body = json!({"id": id, "spaceId": space, "start": at(start_ms), "end": at(end_ms)});
    let (s, v) = api.post("/v1/bookings", body).await;
    assert_eq!(s, 201, "{v}");
}

/// Scrapes until `f` holds, up to `secs`.
async fn scrape_until(base: &str, secs: u64, what: &str, f: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let s = Scrape::take(base).await;
        if f(&s) {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Ordinary operation logs no `ERROR` line.
fn assert_no_errors(server: &Server) {
    let log = server.log.lock().unwrap();
    let errors: Vec<&String> = log.iter().filter(|l| l.contains("ERROR")).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn lateness_count(s: &Scrape) -> f64 {
    s.value("zs_timer_lateness_seconds_count", &[])
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_series_is_described_and_requests_are_counted_by_route() {
    let dir = data_dir("metrics");
    let server = Server::start(&dir, &[]);
    let api = Api::new(&server.base);
    space(&api, "room-1").await;
    assert_eq!(api.get("/v1/spaces/room-1").await.0, 200);
    assert_eq!(api.get("/v1/spaces/room-1").await.0, 200);
    assert_eq!(api.get("/v1/spaces/no-such-room").await.0, 404);
    assert_eq!(api.get("/v1/no/such/route").await.0, 404);
    // Its upcoming timer is due in 1 s.
    book(&api, "room-1", "bk-1", 2_000, 60_000).await;
    let s = scrape_until(&server.base, 20, "a timer to fire", |s| {
        lateness_count(s) > 0.0
    })
    .await;

    for (series, _) in &s.samples {
        let family = s.family(series);
        assert!(s.types.contains_key(&family), "{series}: no # TYPE");
        assert!(
            s.helps.get(&family).is_some_and(|h| !h.is_empty()),
            "{series}: no # HELP"
        );
    }
    let families: std::collections::HashSet<String> =
        s.samples.iter().map(|(n, _)| s.family(n)).collect();
    for expected in [
        "zs_build_info",
        "zs_http_requests_total",
        "zs_http_request_duration_seconds",
        "zs_timer_lateness_seconds",
        "zs_transitions_total",
        "zs_transition_table_misses_total",
        "zs_deliveries_total",
        "zs_queue_depth",
    ] {
        assert!(families.contains(expected), "{expected} missing");
    }
    assert_eq!(s.types["zs_http_request_duration_seconds"], "histogram");
    assert_eq!(s.types["zs_timer_lateness_seconds"], "histogram");
    assert_eq!(s.types["zs_http_requests_total"], "counter");

    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(s.value("zs_build_info", &[("version", version)]), Some(1.0));

    let requests = |method: &str, route: &str, status: &str| {
        s.value(
            "zs_http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("GET", "/v1/spaces/{id}", "200"), Some(2.0));
    assert_eq!(requests("GET", "/v1/spaces/{id}", "404"), Some(1.0));
    assert_eq!(requests("POST", "/v1/spaces", "201"), Some(1.0));
    assert_eq!(requests("POST", "/v1/bookings", "201"), Some(1.0));
    assert_eq!(requests("GET", "unmatched", "404"), Some(1.0));
    assert!(
        !s.samples
            .iter()
            .any(|(n, _)| n.contains("room-1") || n.contains("no-such")),
        "a raw path became a label"
    );
    assert_eq!(
        s.value(
            "zs_http_request_duration_seconds_count",
            &[("method", "GET"), ("route", "/v1/spaces/{id}")]
        ),
        Some(3.0)
    );
    assert!(s.value("zs_transitions_total", &[]).is_some());
    assert_no_errors(&server);
}

/// The pending jobs of `queue` in the embedded store's SQLite file, read with `sqlite3`.
fn sqlite_jobs(dir: &std::path::Path, queue: &str) -> u64 {
    let out = std::process::Command::new("sqlite3")
        .arg(dir.join("zs-scheduler.db"))
        .arg(format!(
            "SELECT COUNT(*) FROM jobs WHERE queue = '{queue}';"
        ))
        .output()
        .expect("sqlite3 is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_queue_depth_is_the_sqlite_job_table() {
    let dir = data_dir("metrics-depth");
    let server = Server::start(&dir, &[]);
    let api = Api::new(&server.base);
    space(&api, "d1").await;
    space(&api, "d2").await;
    let empty = Scrape::take(&server.base).await.depth("meetingScheduler");
    assert_eq!(empty, Some(sqlite_jobs(&dir, "meetingScheduler") as f64));
    // Hours ahead: no timer is due while the depths are compared.
    for i in 0..4 {
        let start = 3_600_000 * (i + 1);
        book(&api, "d1", &format!("a{i}"), start, start + 1_800_000).await;
        book(&api, "d2", &format!("b{i}"), start, start + 1_800_000).await;
    }
    let s = Scrape::take(&server.base).await;
    let in_file = sqlite_jobs(&dir, "meetingScheduler");
    assert!(
        in_file >= 8,
        "8 bookings imply at least 8 timers, the file has {in_file}"
    );
    assert_eq!(s.depth("meetingScheduler"), Some(in_file as f64));
    assert_eq!(
        s.depth("statusUpdateQueue"),
        Some(sqlite_jobs(&dir, "statusUpdateQueue") as f64)
    );
    // A cancelled booking takes its timers with it.
    let (st, v) = api.post("/v1/bookings/a0/cancel", json!({})).await;
    assert_eq!(st, 200, "{v}");
    let after = Scrape::take(&server.base).await;
    let in_file_after = sqlite_jobs(&dir, "meetingScheduler");
    assert!(in_file_after < in_file);
    assert_eq!(after.depth("meetingScheduler"), Some(in_file_after as f64));
    assert_no_errors(&server);
}

/// The unfinished jobs of `{prefix}:{queue}` in Redis, read with `redis-cli`.
fn redis_jobs(prefix: &str, queue: &str) -> u64 {
    let key = |state: &str| format!("{prefix}:{queue}:{state}");
    let n =
        |cmd: &str, state: &str| -> u64 { redis_cli(&[cmd, &key(state)]).trim().parse().unwrap() };
    n("LLEN", "wait")
        + n("LLEN", "paused")
        + n("LLEN", "active")
        + n("ZCARD", "delayed")
        + n("ZCARD", "prioritized")
        + n("ZCARD", "waiting-children")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_queue_depth_is_what_redis_holds() {
    let prefix = format!(
        "zs-test-metrics-{}-{}",
        std::process::id(),
        now_ms().as_millisecond()
    );
    let dir = data_dir("metrics-redis");
    let server = Server::start(
        &dir,
        &[
            ("ZS_REDIS_URL", REDIS.into()),
            ("ZS_QUEUE_PREFIX", prefix.clone()),
        ],
    );
    let api = Api::new(&server.base);
    space(&api, "r1").await;
    // A timer that fires through the Redis worker within seconds.
    book(&api, "r1", "soon", 2_000, 4_000).await;
    scrape_until(&server.base, 20, "a timer to fire", |s| {
        lateness_count(s) > 0.0
    })
    .await;
    // Hours ahead: delayed jobs that stay put while the depths are compared.
    for i in 0..5 {
        let start = 3_600_000 * (i + 2);
        book(&api, "r1", &format!("later-{i}"), start, start + 1_800_000).await;
    }
    // Delayed ingress jobs from a Node service: they live in Redis only.
    let ingress: Vec<_> = (0..7)
        .map(|i| json!({"name": "BOOKING_CANCELLED", "data": {"bookingId": format!("later-{i}")}, "opts": {"delay": 7_200_000}}))
        .collect();
    let out = std::process::Command::new("node")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop"))
        .args(["add.js", REDIS, &prefix, "meetingScheduler"])
        .arg(serde_json::Value::from(ingress).to_string())
        .output()
        .expect("node is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The relay adds the bookings' timers shortly after the API answers: compare once
    // Redis reads the same before and after a scrape.
    let mut compared = None;
    for _ in 0..100 {
        let before = redis_jobs(&prefix, "meetingScheduler");
        let s = Scrape::take(&server.base).await;
        let after = redis_jobs(&prefix, "meetingScheduler");
        if before == after && before >= 5 + 7 {
            compared = Some((s.depth("meetingScheduler"), before));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (reported, in_redis) = compared.expect("Redis settled with the timers and ingress jobs");
    assert_eq!(
        reported,
        Some(in_redis as f64),
        "zs_queue_depth vs redis-cli"
    );
    for queue in ["statusUpdateQueue", "webhookDeliveryQueue"] {
        let s = Scrape::take(&server.base).await;
        assert_eq!(
            s.depth(queue),
            Some(redis_jobs(&prefix, queue) as f64),
            "{queue}"
        );
    }
    assert_no_errors(&server);
    drop(server);
    redis_forget(&prefix);
}

/// Every delivery attempt the receivers got is counted once, by outcome, and a webhook
/// whose retries ran out is counted as dead-lettered: on the embedded store's runners and
/// on the Redis delivery workers.
async fn deliveries_are_counted(redis_prefix: Option<&str>) {
    let status = Receiver::start().await;
    status
        .fail_first
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let good = Receiver::start().await;
    good.fail_first
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let dead = Receiver::start().await;
    dead.fail_first
        .store(usize::MAX / 2, std::sync::atomic::Ordering::SeqCst);
    let mut env = vec![
        ("ZS_STATUS_URL", status.url()),
        ("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".to_owned()),
        ("ZS_WEBHOOK_RETRY", "0s,100ms".to_owned()),
        ("ZS_STATUS_RETRY", "0s,100ms".to_owned()),
    ];
    if let Some(prefix) = redis_prefix {
        env.push(("ZS_REDIS_URL", REDIS.to_owned()));
        env.push(("ZS_QUEUE_PREFIX", prefix.to_owned()));
    }
    let server = Server::start(&data_dir("metrics-deliveries"), &env);
    let api = Api::new(&server.base);
    for r in [&good, &dead] {
        let (s, v) = api.post("/v1/webhooks", json!({"url": r.url()})).await;
        assert_eq!(s, 201, "{v}");
    }
    space(&api, "w1").await;
    book(&api, "w1", "w-bk", 1_500, 60_000).await;
    let count = |s: &Scrape, queue: &str, outcome: &str| {
        s.value(
            "zs_deliveries_total",
            &[("queue", queue), ("outcome", outcome)],
        )
        .unwrap_or(0.0) as usize
    };
    scrape_until(&server.base, 30, "every attempt counted once", |s| {
        let (hooks, posts) = (good.all().len() + dead.all().len(), status.all().len());
        count(s, "webhook", "delivered") >= 1
            && count(s, "webhook", "failed_attempt") >= 2
            && count(s, "webhook", "dead_lettered") >= 1
            && count(s, "status", "delivered") >= 1
            && count(s, "status", "failed_attempt") == 1
            && count(s, "webhook", "delivered") + count(s, "webhook", "failed_attempt") == hooks
            && count(s, "status", "delivered") + count(s, "status", "failed_attempt") == posts
            // Two attempts each, both failed.
            && count(s, "webhook", "dead_lettered") * 2 == dead.all().len()
    })
    .await;
    assert_no_errors(&server);
    drop(server);
    if let Some(prefix) = redis_prefix {
        redis_forget(prefix);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_deliveries_are_counted_by_outcome() {
    deliveries_are_counted(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_deliveries_are_counted_by_outcome() {
    let prefix = format!(
        "zs-test-metrics-dl-{}-{}",
        std::process::id(),
        now_ms().as_millisecond()
    );
    deliveries_are_counted(Some(&prefix)).await;
}
