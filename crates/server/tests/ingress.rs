//! Interop: a Node service using the real `bullmq` package (6.7.0, pinned in
//! tests/interop/package-lock.json) adds ingress jobs to `meetingScheduler` on Redis; the
//! real zs-scheduler binary applies them with the API's rules, fails a malformed or refused
//! job with a clear reason, and goes on with the queue. Needs Redis and `npm ci` in
//! tests/interop (scripts/test.sh does both).

mod support;

use serde_json::{Value, json};
use support::*;

const REDIS: &str = "redis://127.0.0.1:6379";

fn produce(prefix: &str, jobs: &Value) -> Vec<Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop");
    let out = std::process::Command::new("node")
        .current_dir(dir)
        .args([
            "producer.js",
            REDIS,
            prefix,
            "meetingScheduler",
            &jobs.to_string(),
        ])
        .output()
        .expect("node is installed");
    assert!(
        out.status.success(),
        "producer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn cleanup(prefix: &str) {
    let keys = std::process::Command::new("redis-cli")
        .args(["--scan", "--pattern", &format!("{prefix}:*")])
        .output();
    if let Ok(k) = keys {
        for key in String::from_utf8_lossy(&k.stdout).lines() {
            let _ = std::process::Command::new("redis-cli")
                .args(["DEL", key])
                .output();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_bullmq_ingress_jobs_are_applied() {
    let prefix = format!(
        "zs-test-ingress-{}-{}",
        std::process::id(),
        now_ms().as_millisecond()
    );
    let dir = data_dir("ingress");
    let server = Server::start(
        &dir,
        &[
            ("ZS_REDIS_URL", REDIS.into()),
            ("ZS_QUEUE_PREFIX", prefix.clone()),
        ],
    );
    let api = Api::new(&server.base);
    assert_eq!(
        api.post(
            "/v1/spaces",
            json!({"id": "n1", "name": "n1", "timezone": "UTC"})
        )
        .await
        .0,
        201
    );
    let (start, end) = (at(3_600_000), at(5_400_000));
    let jobs = json!([
        {"name": "BOOKING_CREATED", "data": {"bookingId": "node-1", "spaceId": "n1", "start": start, "end": end, "title": "from node"}},
        {"name": "USER_CHECKS_IN", "data": {"bookingId": "node-1"}},
        {"name": "BOOKING_CREATED", "data": {"spaceId": "n1"}},
        {"name": "BOOKING_CANCELLED", "data": {"bookingId": "node-1"}},
        {"name": "ADMIN_DISABLE", "data": {"spaceId": "n1"}},
        {"name": "ADMIN_ENABLE", "data": {"spaceId": "n1"}},
        {"name": "ADMIN_ENABLE", "data": {"spaceId": "n1"}},
        {"name": "BOOKING_CREATED", "data": {"bookingId": "node-1", "spaceId": "n1", "start": start, "end": end}},
        {"name": "BOOKING_CREATED", "data": {"bookingId": "node-1", "spaceId": "n1", "start": end, "end": at(7_200_000)}},
    ]);
    let results = tokio::task::spawn_blocking({
        let prefix = prefix.clone();
        move || produce(&prefix, &jobs)
    })
    .await
    .unwrap();
    let states: Vec<&str> = results
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "completed",
            "failed",
            "failed",
            "completed",
            "completed",
            "completed",
            "completed",
            "completed",
            "failed"
        ],
        "{results:#?}"
    );
    assert_eq!(results[0]["value"]["status"], "scheduled");
    assert_eq!(results[3]["value"]["status"], "cancelled");
    assert_eq!(results[4]["value"]["space"], "in-maintenance");
    let reason = |i: usize| {
        results[i]["failedReason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(reason(1).contains("check_in_window"), "{}", reason(1));
    assert!(reason(2).contains("data.bookingId"), "{}", reason(2));
    // Repeats (what at-least-once delivery produces) complete without a second effect;
    // the same id for a different booking is refused.
    assert_eq!(results[6]["value"]["alreadyApplied"], true);
    assert_eq!(results[7]["value"]["alreadyApplied"], true);
    assert!(reason(8).contains("already_exists"), "{}", reason(8));

    let (_, b) = api.get("/v1/bookings/node-1").await;
    assert_eq!(
        (b["status"].as_str(), b["title"].as_str()),
        (Some("cancelled"), Some("from node"))
    );
    let (_, h) = api.get("/v1/spaces/n1/history").await;
    let events: Vec<&str> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "ADMIN_ENABLE",
            "ADMIN_DISABLE",
            "BOOKING_CANCELLED",
            "BOOKING_CREATED"
        ]
    );
    assert!(server.stop().success());
    cleanup(&prefix);
}

/// The README's Node snippet (tests/interop/readme-ingress.js), run with `node` exactly as a
/// user would, against the real binary: its booking ends checked in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_node_snippet_runs_as_written() {
    let prefix = format!(
        "zs-test-readme-{}-{}",
        std::process::id(),
        now_ms().as_millisecond()
    );
    let dir = data_dir("readme-ingress");
    let server = Server::start(
        &dir,
        &[
            ("ZS_REDIS_URL", REDIS.into()),
            ("ZS_QUEUE_PREFIX", prefix.clone()),
        ],
    );
    let api = Api::new(&server.base);
    let (status, body) = api
        .post(
            "/v1/spaces",
            json!({"id": "room-1", "name": "Room 1", "timezone": "UTC"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let out = tokio::task::spawn_blocking({
        let prefix = prefix.clone();
        move || {
            std::process::Command::new("node")
                .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop"))
                .arg("readme-ingress.js")
                .env("REDIS_URL", REDIS)
                .env("ZS_QUEUE_PREFIX", prefix)
                .output()
                .expect("node is installed")
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "readme-ingress.js failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut last = Value::Null;
    for _ in 0..200 {
        last = api.get("/v1/bookings/bk-2").await.1;
        if last["status"] == "checked_in" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(last["status"], "checked_in", "{last}");
    assert_eq!(last["title"], "Design review");
    assert!(server.stop().success());
    cleanup(&prefix);
}

/// A job naming a booking not yet known waits for it (up to the lock duration) and then
/// applies; one whose booking never comes fails with `not_found` after the wait. Epoch
/// milliseconds are refused with a reason that says RFC 3339 is wanted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_bookings_are_waited_for_and_reasons_say_what_to_do() {
    let prefix = format!(
        "zs-test-unknown-{}-{}",
        std::process::id(),
        now_ms().as_millisecond()
    );
    let dir = data_dir("ingress-unknown");
    let server = Server::start(
        &dir,
        &[
            ("ZS_REDIS_URL", REDIS.into()),
            ("ZS_QUEUE_PREFIX", prefix.clone()),
            ("ZS_QUEUE_LOCK_MS", "5000".into()),
        ],
    );
    let api = Api::new(&server.base);
    let space = json!({"id": "u1", "name": "u1", "timezone": "UTC"});
    assert_eq!(api.post("/v1/spaces", space).await.0, 201);
    // The check-in arrives before its booking exists; the booking comes through the API.
    let add = std::process::Command::new("node")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop"))
        .args(["add.js", REDIS, &prefix, "meetingScheduler"])
        .arg(json!([{"name": "USER_CHECKS_IN", "data": {"bookingId": "late-1"}}]).to_string())
        .output()
        .expect("node is installed");
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let booking =
        json!({"id": "late-1", "spaceId": "u1", "start": at(120_000), "end": at(1_920_000)});
    let (status, body) = api.post("/v1/bookings", booking).await;
    assert_eq!(status, 201, "{body}");
    let mut last = Value::Null;
    for _ in 0..200 {
        last = api.get("/v1/bookings/late-1").await.1;
        if last["status"] == "checked_in" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(last["status"], "checked_in", "{last}");

    let jobs = json!([
        {"name": "USER_CHECKS_IN", "data": {"bookingId": "never-1"}},
        {"name": "BOOKING_CREATED", "data": {"bookingId": "ms-1", "spaceId": "u1", "start": 1_777_885_200_000_i64, "end": at(1_920_000)}},
    ]);
    let results = tokio::task::spawn_blocking({
        let prefix = prefix.clone();
        move || produce(&prefix, &jobs)
    })
    .await
    .unwrap();
    let reason = |i: usize| {
        results[i]["failedReason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        reason(0),
        "not_found: booking never-1 not found (waited 5000 ms for it to be created)"
    );
    assert_eq!(
        reason(1),
        r#"data.start must be an RFC 3339 instant such as "2026-05-04T09:00:00Z" (got the number 1777885200000)"#
    );
    assert!(server.stop().success());
    cleanup(&prefix);
}

/// The worker's concurrency is a setting; a value it cannot run with is refused at start
/// with a line naming the setting.
#[test]
fn queue_concurrency_out_of_range_is_refused_at_start() {
    let dir = data_dir("concurrency-zero");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zs-scheduler"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .env("ZS_QUEUE_CONCURRENCY", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--queue-concurrency"), "{err}");
    assert!(err.contains("1..=1024"), "{err}");
}
