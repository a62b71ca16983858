//! Ordered ingress (issue 13): a Node producer using the real `bullmq` 6.7.0 adds 500
//! `BOOKING_CREATED` → `BOOKING_CANCELLED` pairs and 500 `BOOKING_CREATED` →
//! `USER_CHECKS_IN` pairs back to back (tests/interop/pairs.js); every booking must end in
//! the status its second job asks for — on one instance with the embedded store, and on
//! three instances sharing Redis and PostgreSQL. Needs Redis, PostgreSQL and `npm ci` in
//! tests/interop (scripts/test.sh sees to all three).

mod support;

use serde_json::{Value, json};
use std::collections::HashMap;
use support::*;

const REDIS: &str = "redis://127.0.0.1:6379";
/// Spaces the bookings are spread over.
const SPACES: usize = 100;
/// Pairs in all: half end cancelled, half checked in.
const PAIRS: usize = 1000;

/// A fresh Redis key prefix.
fn prefix(label: &str) -> String {
    format!(
        "zs-test-order-{label}-{}-{}",
        std::process::id(),
        now_ms().as_millisecond()
    )
}

/// The jobs, in add order, and each booking's expected final status. Pair `i` goes to
/// space `i % SPACES`, so neighbouring pairs run in parallel. Check-in bookings start 4 to
/// 12 minutes from now (inside the 15-minute check-in lead), cancelled ones tomorrow; with
/// one minute of cleaning, one-minute bookings two minutes apart never overlap.
fn pairs() -> (Vec<Value>, HashMap<String, &'static str>) {
    let now = now_ms().as_millisecond();
    let minute = 60_000;
    let mut jobs = Vec::with_capacity(PAIRS * 2);
    let mut expected = HashMap::new();
    for i in 0..PAIRS {
        let (space, round) = (i % SPACES, i / SPACES);
        let checks_in = (round + space) % 2 == 0;
        let slot = (round / 2) as i64;
        let start = if checks_in {
            now + 4 * minute + slot * 2 * minute
        } else {
            now + 24 * 60 * minute + slot * 2 * minute
        };
        let iso = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap().to_string();
        let id = format!("ord-{i}");
        jobs.push(json!({"name": "BOOKING_CREATED", "data": {
            "bookingId": id, "spaceId": format!("sp-{space}"),
            "start": iso(start), "end": iso(start + minute), "title": "ordered"}}));
        let (name, status) = if checks_in {
            ("USER_CHECKS_IN", "checked_in")
        } else {
            ("BOOKING_CANCELLED", "cancelled")
        };
        jobs.push(json!({"name": name, "data": {"bookingId": id}}));
        expected.insert(id, status);
    }
    (jobs, expected)
}

/// Adds `jobs` with pairs.js; returns their ids in add order.
async fn add_back_to_back(prefix: &str, jobs: &[Value]) -> Vec<String> {
    let dir = data_dir("order-jobs");
    let file = dir.join("jobs.json");
    std::fs::write(&file, Value::from(jobs.to_vec()).to_string()).unwrap();
    let prefix = prefix.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop"))
            .args(["pairs.js", REDIS, &prefix])
            .arg(&file)
            .output()
            .expect("node is installed")
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "pairs.js failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn create_spaces(api: &Api) {
    for k in 0..SPACES {
        let body = json!({"id": format!("sp-{k}"), "name": format!("sp-{k}"), "timezone": "UTC", "cleaning": "PT1M"});
        let (status, b) = api.post("/v1/spaces", body).await;
        assert_eq!(status, 201, "{b}");
    }
}

/// How many ingress jobs are waiting or running on the queue.
fn queued(prefix: &str) -> u64 {
    let len = |list: &str| {
        redis_cli(&["LLEN", &format!("{prefix}:meetingScheduler:{list}")])
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
    };
    len("wait") + len("active")
}

/// Waits until every booking has its expected status, or the queue has been empty for a
/// while; returns the bookings whose status is not the expected one.
async fn settle(
    api: &Api,
    prefix: &str,
    expected: &HashMap<String, &str>,
) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let mut idle_polls = 0;
    loop {
        let (status, list) = api.get("/v1/bookings?limit=1000").await;
        assert_eq!(status, 200, "{list}");
        let got: HashMap<&str, &str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["id"].as_str().unwrap(), b["status"].as_str().unwrap()))
            .collect();
        let wrong: Vec<(String, String)> = expected
            .iter()
            .filter(|(id, want)| got.get(id.as_str()) != Some(*want))
            .map(|(id, _)| {
                (
                    id.clone(),
                    got.get(id.as_str()).unwrap_or(&"missing").to_string(),
                )
            })
            .collect();
        idle_polls = if queued(prefix) == 0 {
            idle_polls + 1
        } else {
            0
        };
        if wrong.is_empty() || idle_polls >= 10 || std::time::Instant::now() > deadline {
            return wrong;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Deletes every key under `prefix` (a few `redis-cli` calls, not one per key).
fn forget(prefix: &str) {
    let keys = redis_cli(&["--scan", "--pattern", &format!("{prefix}:*")]);
    let keys: Vec<&str> = keys.lines().filter(|k| !k.is_empty()).collect();
    for chunk in keys.chunks(500) {
        let mut args = vec!["DEL"];
        args.extend_from_slice(chunk);
        redis_cli(&args);
    }
}

/// The ids of the failed jobs on the queue, with their reasons.
fn failed_jobs(prefix: &str) -> Vec<String> {
    let key = format!("{prefix}:meetingScheduler");
    redis_cli(&["ZRANGE", &format!("{key}:failed"), "0", "-1"])
        .lines()
        .filter(|id| !id.trim().is_empty())
        .map(|id| {
            let reason = redis_cli(&["HGET", &format!("{key}:{id}"), "failedReason"]);
            format!("{id}: {}", reason.trim())
        })
        .collect()
}

/// Runs the 1000 pairs against `servers` (all on the same queue and store) and checks the
/// outcome.
async fn run_pairs(prefix: &str, servers: &[Server]) {
    let api = Api::new(&servers[0].base);
    create_spaces(&api).await;
    let (jobs, expected) = pairs();
    let began = std::time::Instant::now();
    let ids = add_back_to_back(prefix, &jobs).await;
    eprintln!("{} jobs added in {:?}", ids.len(), began.elapsed());
    assert_eq!(ids.len(), jobs.len());
    for pair in ids.chunks(2) {
        let (a, b): (u64, u64) = (pair[0].parse().unwrap(), pair[1].parse().unwrap());
        assert!(a < b, "the producer added {a} before {b}");
    }
    let wrong = settle(&api, prefix, &expected).await;
    eprintln!(
        "settled {} bookings in {:?}",
        expected.len(),
        began.elapsed()
    );
    assert!(
        wrong.is_empty(),
        "{} of {} bookings did not end as their second job asked, e.g. {:?}; failed jobs: {:?}",
        wrong.len(),
        expected.len(),
        &wrong[..wrong.len().min(10)],
        &failed_jobs(prefix)[..failed_jobs(prefix).len().min(10)]
    );
    assert_eq!(failed_jobs(prefix), Vec::<String>::new());
    for s in servers {
        let log = s.log.lock().unwrap();
        let errors: Vec<&String> = log.iter().filter(|l| l.contains("ERROR")).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

/// Space jobs keep their order too: five `ADMIN_DISABLE`/`ADMIN_ENABLE` jobs alternating,
/// back to back for each of 50 spaces: every one applies in turn (none finds its effect
/// already in place), so each space ends in maintenance with five transitions.
async fn run_space_jobs(prefix: &str, servers: &[Server]) {
    const N: usize = 50;
    let api = Api::new(&servers[0].base);
    for k in 0..N {
        let body = json!({"id": format!("adm-{k}"), "name": "adm", "timezone": "UTC"});
        assert_eq!(api.post("/v1/spaces", body).await.0, 201);
    }
    let names = ["ADMIN_DISABLE", "ADMIN_ENABLE"];
    // A space's five jobs side by side, so that the worker takes them at once.
    let jobs: Vec<Value> = (0..N)
        .flat_map(|k| {
            (0..5).map(move |round| {
                json!({"name": names[round % 2], "data": {"spaceId": format!("adm-{k}")}})
            })
        })
        .collect();
    add_back_to_back(prefix, &jobs).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut idle_polls = 0;
    let mut wrong = vec![];
    while idle_polls < 10 && std::time::Instant::now() < deadline {
        wrong.clear();
        for k in 0..N {
            let (_, h) = api.get(&format!("/v1/spaces/adm-{k}/history")).await;
            let events: Vec<String> = history_events(&h).into_iter().map(|e| e.0).collect();
            let want = [
                "ADMIN_DISABLE",
                "ADMIN_ENABLE",
                "ADMIN_DISABLE",
                "ADMIN_ENABLE",
                "ADMIN_DISABLE",
            ];
            if events != want {
                wrong.push((k, events));
            }
        }
        if wrong.is_empty() {
            break;
        }
        idle_polls = if queued(prefix) == 0 {
            idle_polls + 1
        } else {
            0
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert!(
        wrong.is_empty(),
        "{} of {N} spaces out of order, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    for k in 0..N {
        let (_, sp) = api.get(&format!("/v1/spaces/adm-{k}")).await;
        assert_eq!(sp["maintenance"], true, "{sp}");
    }
}

/// Booking-only jobs keep their order with space jobs, both ways, back to back on 50 pairs
/// of spaces: after `BOOKING_CREATED`, `ADMIN_DISABLE`, `USER_CHECKS_IN` the check-in meets
/// the space in maintenance (refused); after `BOOKING_CREATED`, `USER_CHECKS_IN`,
/// `ADMIN_DISABLE` the booking is checked in before the space is disabled.
async fn run_mixed_jobs(prefix: &str, servers: &[Server]) {
    const N: usize = 50;
    let api = Api::new(&servers[0].base);
    let (start, end) = (at(240_000), at(300_000));
    let mut jobs = vec![];
    for k in 0..N {
        for (group, disable_first) in [("mix", true), ("mixb", false)] {
            let (booking, space) = (format!("{group}-bk-{k}"), format!("{group}-{k}"));
            let body = json!({"id": space, "name": "mix", "timezone": "UTC"});
            assert_eq!(api.post("/v1/spaces", body).await.0, 201);
            let disable = json!({"name": "ADMIN_DISABLE", "data": {"spaceId": space}});
            let check_in = json!({"name": "USER_CHECKS_IN", "data": {"bookingId": booking}});
            jobs.push(json!({"name": "BOOKING_CREATED", "data": {"bookingId": booking, "spaceId": space, "start": start, "end": end}}));
            if disable_first {
                jobs.extend([disable, check_in]);
            } else {
                jobs.extend([check_in, disable]);
            }
        }
    }
    let ids = add_back_to_back(prefix, &jobs).await;
    let key = format!("{prefix}:meetingScheduler");
    let mut outcomes = vec![];
    for _ in 0..600 {
        outcomes = ids
            .chunks(3)
            .map(|c| {
                let field = |f: &str| redis_cli(&["HGET", &format!("{key}:{}", c[2]), f]);
                (
                    field("finishedOn").trim().to_owned(),
                    field("failedReason").trim().to_owned(),
                )
            })
            .collect();
        if outcomes.iter().all(|(done, _)| !done.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Per triple, its last job: the check-in (`mix`), or the disable (`mixb`).
    for (i, (done, reason)) in outcomes.iter().enumerate() {
        let k = i / 2;
        assert!(
            !done.is_empty(),
            "the last job for spaces {k} never finished"
        );
        if i % 2 == 0 {
            assert!(
                reason.starts_with("space_in_maintenance"),
                "mix-{k}: the check-in ran before the disable added ahead of it ({reason:?})"
            );
            let (_, b) = api.get(&format!("/v1/bookings/mix-bk-{k}")).await;
            assert_ne!(b["status"], "checked_in", "{b}");
        } else {
            assert_eq!(reason, "", "mixb-{k}: the disable failed");
            let (_, b) = api.get(&format!("/v1/bookings/mixb-bk-{k}")).await;
            assert_eq!(
                b["status"], "checked_in",
                "mixb-{k}: the disable ran before the check-in added ahead of it: {b}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairs_keep_their_order_on_one_instance() {
    let prefix = prefix("one");
    let dir = data_dir("order-one");
    let server = Server::start(
        &dir,
        &[
            ("ZS_REDIS_URL", REDIS.into()),
            ("ZS_QUEUE_PREFIX", prefix.clone()),
            ("ZS_RATE_LIMIT", "0".into()),
        ],
    );
    let servers = [server];
    run_pairs(&prefix, &servers).await;
    // Every job was counted by its outcome.
    let metrics = reqwest::get(servers[0].url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (event, n) in [
        ("BOOKING_CREATED", PAIRS),
        ("BOOKING_CANCELLED", PAIRS / 2),
        ("USER_CHECKS_IN", PAIRS / 2),
    ] {
        let line = format!("zs_ingress_jobs_total{{event=\"{event}\",outcome=\"applied\"}} {n}");
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in\n{metrics}"
        );
    }
    run_space_jobs(&prefix, &servers).await;
    run_mixed_jobs(&prefix, &servers).await;
    forget(&prefix);
    drop(servers);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairs_keep_their_order_on_three_instances() {
    let prefix = prefix("three");
    let schema = unique_schema("order");
    let env = [
        ("ZS_REDIS_URL", REDIS.to_owned()),
        ("ZS_QUEUE_PREFIX", prefix.clone()),
        ("ZS_RATE_LIMIT", "0".to_owned()),
        ("ZS_DATABASE_URL", pg_url()),
        ("ZS_DATABASE_SCHEMA", schema.clone()),
    ];
    // One at a time: the first creates the schema.
    let dirs: Vec<_> = (0..3)
        .map(|i| data_dir(&format!("order-three-{i}")))
        .collect();
    let servers: Vec<Server> = dirs.iter().map(|d| Server::start(d, &env)).collect();
    run_pairs(&prefix, &servers).await;
    run_space_jobs(&prefix, &servers).await;
    run_mixed_jobs(&prefix, &servers).await;
    // The jobs were shared out: each instance applied some.
    for (i, s) in servers.iter().enumerate() {
        let log = s.log.lock().unwrap();
        assert!(
            log.iter().any(|l| l.contains("ingress job applied")),
            "instance {i} applied no ingress job"
        );
    }
    drop(servers);
    forget(&prefix);
    psql(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}
