//! Several instances on one PostgreSQL schema: three `zs-scheduler serve` processes share
//! the bookings, the timers and the deliveries. Conflicting creates sent to different
//! instances: exactly one wins. Every timer fires exactly once across the instances, and
//! when one is killed with SIGKILL the others take its work over.

mod support;

use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_the_work_and_survive_a_sigkill() {
    fleet(false).await;
}

/// The same with Redis: the timers are BullMQ jobs on `meetingScheduler`, run by whichever
/// instance's worker takes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_redis_and_postgres_share_the_work_and_survive_a_sigkill() {
    fleet(true).await;
}

async fn fleet(redis: bool) {
    let receiver = Receiver::start().await;
    let schema = unique_schema(if redis { "fleetr" } else { "fleet" });
    let mut env = vec![
        ("ZS_DATABASE_URL", pg_url()),
        ("ZS_DATABASE_SCHEMA", schema.clone()),
        ("ZS_STATUS_URL", receiver.url()),
        ("ZS_HTTP_TIMEOUT_MS", "1000".to_owned()),
        ("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".to_owned()),
        // The audit polls one instance with the admin token far faster than a client would.
        ("ZS_RATE_LIMIT", "0".to_owned()),
    ];
    let prefix = schema.replace('_', "-");
    if redis {
        env.push(("ZS_REDIS_URL", "redis://127.0.0.1:6379".to_owned()));
        env.push(("ZS_QUEUE_PREFIX", prefix.clone()));
        // A job the killed instance held is taken over once its lock runs out: 2 s here
        // (BullMQ's default, 30 s, is longer than the audit waits), as in the fault tests.
        env.push(("ZS_QUEUE_LOCK_MS", "2000".to_owned()));
    }
    // The first one creates the schema; the others join it.
    let mut servers = vec![Server::start(&data_dir("pg-a"), &env)];
    servers.push(Server::start(&data_dir("pg-b"), &env));
    servers.push(Server::start(&data_dir("pg-c"), &env));
    let apis: Vec<Api> = servers.iter().map(|s| Api::new(&s.base)).collect();

    let t0 = now_ms();
    let ts = |ms: i64| (t0 + jiff::SignedDuration::from_millis(ms)).to_string();
    let spaces: Vec<String> = (0..18).map(|i| format!("room-{i}")).collect();
    for (i, id) in spaces.iter().enumerate() {
        let body = json!({"id": id, "name": id, "timezone": "UTC", "upcomingLead": "PT1S", "noShowGrace": "PT1S", "cleaning": "PT1S"});
        assert_eq!(apis[i % 3].post("/v1/spaces", body).await.0, 201);
    }
    // Each space is visible from every instance.
    for api in &apis {
        let (st, v) = api.get("/v1/spaces").await;
        assert_eq!(st, 200);
        assert_eq!(
            v["items"].as_array().map(Vec::len),
            Some(spaces.len()),
            "{v}"
        );
    }

    // Every event as a signed webhook, registered through instance b (the others learn of it
    // through PostgreSQL's NOTIFY).
    let hooks = Receiver::start().await;
    let (st, ep) = apis[1]
        .post("/v1/webhooks", json!({"url": hooks.url()}))
        .await;
    assert_eq!(st, 201, "{ep}");
    let ep_id = ep["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Conflicting creates for room-0, sent to the three instances at once.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..9 {
        let api = Api::new(&servers[i % 3].base);
        let body = json!({"id": format!("race-{i}"), "spaceId": "room-0", "start": ts(60_000 + i as i64 * 1000), "end": ts(120_000)});
        tasks.spawn(async move { api.post("/v1/bookings", body).await });
    }
    let mut codes = vec![];
    while let Some(r) = tasks.join_next().await {
        let (st, v) = r.unwrap();
        if st != 201 {
            assert_eq!(v["error"]["code"], "booking_conflict", "{v}");
        }
        codes.push(st);
    }
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 409).count(), 8, "{codes:?}");

    // Room 1–17: a booking each starting at +3 s for 2 s, created through different instances.
    let t1 = now_ms();
    let ts = |ms: i64| (t1 + jiff::SignedDuration::from_millis(ms)).to_string();
    for (i, id) in spaces.iter().enumerate().skip(1) {
        let body =
            json!({"id": format!("b-{id}"), "spaceId": id, "start": ts(3000), "end": ts(5000)});
        let (st, v) = apis[i % 3].post("/v1/bookings", body).await;
        assert_eq!(st, 201, "{v}");
    }
    // Check two of them in through instance c once they have started.
    let wait = (t1 + jiff::SignedDuration::from_millis(3300)).duration_since(now_ms());
    tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;
    for id in ["room-1", "room-2"] {
        let (st, v) = apis[2]
            .post(&format!("/v1/bookings/b-{id}/check-in"), json!({}))
            .await;
        assert_eq!(st, 200, "{v}");
    }
    // Kill instance a while no-shows, ends and cleanings are still pending.
    let a = servers.remove(0);
    a.kill();
    let apis = &apis[1..];

    let mut done = false;
    for _ in 0..200 {
        let mut all = true;
        for id in &spaces[1..] {
            let (_, v) = apis[0].get(&format!("/v1/spaces/{id}")).await;
            all &= v["state"]["room"] == "free";
        }
        let (_, b3) = apis[1].get("/v1/bookings/b-room-3").await;
        let (_, b1) = apis[1].get("/v1/bookings/b-room-1").await;
        if all && b3["status"] == "no_show" && b1["status"] == "completed" {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(done, "the surviving instances finished every booking");

    // Every transition exactly once, in a gapless per-space sequence.
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for (i, id) in spaces.iter().enumerate().skip(1) {
        let (_, h) = apis[0].get(&format!("/v1/spaces/{id}/history")).await;
        let ev = history_events(&h);
        let names: Vec<&str> = ev.iter().map(|e| e.0.as_str()).collect();
        let want: &[&str] = if i <= 2 {
            &[
                "BOOKING_CREATED",
                "UPCOMING_REACHED",
                "START_TIME_REACHED",
                "USER_CHECKS_IN",
                "END_TIME_REACHED",
                "CLEANING_ENDED",
            ]
        } else {
            &[
                "BOOKING_CREATED",
                "UPCOMING_REACHED",
                "START_TIME_REACHED",
                "NO_SHOW_TIMEOUT",
            ]
        };
        assert_eq!(names, want, "{id}: each event exactly once");
        let seqs: Vec<u64> = ev.iter().map(|e| e.2).collect();
        assert_eq!(seqs, (1..=want.len() as u64).collect::<Vec<_>>(), "{id}");
        expected.insert(id.clone(), want.len() as u64);
    }
    // Every status post arrived (at least once: a post in flight in the killed instance
    // may be sent again after its lease), and each space's posts arrived in order.
    let mut got: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        got.clear();
        for r in receiver.all() {
            let v = r.json();
            if let (Some(s), Some(q)) = (v["spaceId"].as_str(), v["sequence"].as_u64()) {
                got.entry(s.to_owned()).or_default().push(q);
            }
        }
        let complete = expected.iter().all(|(s, n)| {
            got.get(s)
                .map(|v| v.iter().copied().collect::<BTreeSet<u64>>() == (1..=*n).collect())
                .unwrap_or(false)
        });
        if complete {
            break;
        }
        if std::time::Instant::now() >= deadline {
            for (i, srv) in servers.iter().enumerate() {
                for l in srv.log.lock().unwrap().iter() {
                    if l.contains("status") || l.contains("WARN") || l.contains("ERROR") {
                        eprintln!("[{i}] {l}");
                    }
                }
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "status posts missing: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every webhook delivered (at least once; a send in flight in the killed instance may
    // be repeated with the same webhook-id) and recorded as delivered.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, d) = apis[0]
            .get(&format!("/v1/webhooks/{ep_id}/deliveries"))
            .await;
        let items = d["items"].as_array().cloned().unwrap_or_default();
        let received: BTreeSet<String> = hooks
            .all()
            .iter()
            .filter_map(|r| r.header("webhook-id").map(str::to_owned))
            .collect();
        let all_done = !items.is_empty()
            && items.iter().all(|i| {
                i["status"] == "delivered" && received.contains(i["id"].as_str().unwrap())
            });
        if all_done {
            println!(
                "webhooks: {} deliveries, {} requests received",
                items.len(),
                hooks.all().len()
            );
            // 17 bookings: created, upcoming, start, then check-in/end/cleaning or no-show.
            assert!(items.len() >= 17 * 4, "{}", items.len());
            break;
        }
        if std::time::Instant::now() >= deadline {
            let pending: Vec<_> = items
                .iter()
                .filter(|i| i["status"] != "delivered")
                .collect();
            let unseen: Vec<_> = items
                .iter()
                .filter(|i| !received.contains(i["id"].as_str().unwrap_or("")))
                .map(|i| (&i["id"], &i["eventType"], &i["status"]))
                .collect();
            panic!(
                "webhooks missing: {} deliveries, not delivered: {pending:?}, not received: {unseen:?}",
                items.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (s, seqs) in &got {
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        let mut dedup = seqs.clone();
        dedup.dedup();
        assert_eq!(
            dedup,
            {
                let mut d = sorted.clone();
                d.dedup();
                d
            },
            "{s}: posts in sequence order: {seqs:?}"
        );
    }
    if redis {
        // The timers ran as BullMQ jobs: Redis holds their completions.
        let completed = redis_cli(&["ZCARD", &format!("{prefix}:meetingScheduler:completed")]);
        let n: u64 = completed.trim().parse().unwrap_or(0);
        assert!(n >= 5 * 3, "timer jobs completed in Redis: {n}");
    }
    for s in servers {
        assert!(s.stop().success());
    }
    if redis {
        redis_forget(&prefix);
    }
}
