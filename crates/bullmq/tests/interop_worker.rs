//! Interop: our product worker (`zs_bullmq::start_ingress`) next to the real `bullmq`
//! 6.7.0 npm package — Node `QueueEvents` sees its completions and failures, malformed jobs
//! fail with a clear reason while later jobs still run, and in a mixed fleet (one Node
//! `Worker`, two of ours) every job runs exactly once.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use zs_bullmq::producer::{JobId, NewJob, Producer};
use zs_core::BookingId;

fn booking(id: &str, space: &str, from_ms: i64) -> Value {
    json!({"bookingId": id, "spaceId": space, "start": at(from_ms), "end": at(from_ms + 1_800_000)})
}

fn line<'a>(lines: &'a [Value], event: &str, job: &str) -> &'a Value {
    let all: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == event && l["jobId"] == job)
        .collect();
    assert_eq!(all.len(), 1, "one {event} for {job}: {lines:#?}");
    all[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_queue_events_see_our_completions_and_failures() {
    let prefix = prefix("events");
    let events = NodeProcess::start("events.js", &[REDIS, &prefix, QUEUE]).await;
    let engine = engine("s1").await;
    // A 1 s lock: the job naming an unknown booking waits that long for it, then fails.
    let ours = zs_bullmq::start_scheduler_worker(engine.arc(), REDIS, &prefix, 1_000, 8)
        .await
        .unwrap();
    let producer = Producer::connect(REDIS, &prefix, QUEUE).await.unwrap();
    let jobs = [
        ("ok-1", "BOOKING_CREATED", booking("bk-ok", "s1", 3_600_000)),
        (
            "refused-1",
            "USER_CHECKS_IN",
            json!({"bookingId": "bk-unknown"}),
        ),
        (
            "bad-1",
            "BOOKING_CREATED",
            json!({"bookingId": "bk-bad", "start": at(3_600_000), "end": at(5_400_000)}),
        ),
    ];
    for (id, name, data) in jobs {
        let j = NewJob::new(name, data).id(JobId::parse(id).unwrap());
        producer.add(j).await.unwrap();
    }
    events
        .wait_for(20, "three finished jobs", |l| {
            l.iter()
                .filter(|e| e["event"] == "completed" || e["event"] == "failed")
                .count()
                == 3
        })
        .await;
    ours.close(1_000).await;
    let lines = events.stop().await;

    let ok = line(&lines, "completed", "ok-1");
    assert_eq!(ok["returnvalue"]["id"], "bk-ok", "{ok:#}");
    assert_eq!(ok["returnvalue"]["status"], "scheduled", "{ok:#}");
    let refused = line(&lines, "failed", "refused-1");
    let reason = refused["failedReason"].as_str().unwrap();
    assert!(
        reason.contains("bk-unknown") && reason.contains("not found"),
        "{reason}"
    );
    assert_eq!(refused["job"]["state"], "failed");
    assert_eq!(refused["job"]["attemptsMade"], 1);
    let bad = line(&lines, "failed", "bad-1");
    assert!(
        bad["failedReason"]
            .as_str()
            .unwrap()
            .contains("data.spaceId"),
        "{bad:#}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l["event"] == "completed" && l["jobId"] != "ok-1"),
        "{lines:#?}"
    );
    // Only the good job changed the engine.
    assert!(
        engine
            .space_of(&BookingId::parse("bk-ok").unwrap())
            .await
            .is_ok()
    );
    assert!(
        engine
            .space_of(&BookingId::parse("bk-bad").unwrap())
            .await
            .is_err()
    );

    producer.close().await;
    cleanup(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_jobs_fail_clearly_and_later_jobs_still_run() {
    let prefix = prefix("malformed");
    // Everything is queued before our worker starts: the good jobs wait behind the bad.
    let jobs = json!([
        {"name": "BOOKING_CREATED", "data": [1, 2, 3]},
        {"name": "BOOKING_CREATED", "data": "a string"},
        {"name": "MEETING_EXPLODED", "data": {"spaceId": "s1"}},
        {"name": "USER_CHECKS_IN", "data": {"bookingId": 42}},
        {"name": "BOOKING_CREATED", "data": {"bookingId": "m-1", "spaceId": "s1", "start": "tomorrow", "end": at(7_200_000)}},
        {"name": "BOOKING_CREATED", "data": booking("g-1", "s1", 3_600_000)},
        {"name": "BOOKING_CREATED", "data": booking("g-2", "s1", 7_200_000)},
    ]);
    let ids = node_add(&prefix, &jobs).await;
    let engine = engine("s1").await;
    let ours = zs_bullmq::start_ingress(engine.arc(), REDIS, &prefix)
        .await
        .unwrap();
    let producer = Producer::connect(REDIS, &prefix, QUEUE).await.unwrap();
    let counts = finished(producer.queue(), 7, 20).await;
    assert_eq!((counts.completed, counts.failed), (2, 5));
    ours.close(1_000).await;

    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let seen = inspect(&prefix, &refs).await;
    let state = |i: usize| seen["jobs"][i]["state"].as_str().unwrap().to_owned();
    let reason = |i: usize| {
        seen["jobs"][i]["failedReason"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let expect = [
        "data must be a JSON object",
        "data must be a JSON object",
        "\"MEETING_EXPLODED\" is not an ingress event",
        "data.bookingId must be a string",
        "data.start must be an RFC 3339 instant such as \"2026-05-04T09:00:00Z\" (got \"tomorrow\")",
    ];
    for (i, want) in expect.iter().enumerate() {
        assert_eq!(state(i), "failed", "{seen:#}");
        assert!(
            reason(i).contains(want),
            "job {i}: {:?} lacks {want:?}",
            reason(i)
        );
    }
    for i in [5, 6] {
        assert_eq!(state(i), "completed", "{seen:#}");
        assert_eq!(seen["jobs"][i]["returnvalue"]["status"], "scheduled");
    }
    assert_eq!(
        (&seen["counts"]["completed"], &seen["counts"]["failed"]),
        (&json!(2), &json!(5))
    );
    for (b, exists) in [("g-1", true), ("g-2", true), ("m-1", false)] {
        let found = engine.space_of(&BookingId::parse(b).unwrap()).await.is_ok();
        assert_eq!(found, exists, "{b}");
    }

    producer.close().await;
    cleanup(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_fleet_runs_every_job_exactly_once() {
    const JOBS: usize = 300;
    let prefix = prefix("fleet");
    let (a, b) = (engine("s1").await, engine("s1").await);
    let ours_a = zs_bullmq::start_ingress(a.arc(), REDIS, &prefix)
        .await
        .unwrap();
    let ours_b = zs_bullmq::start_ingress(b.arc(), REDIS, &prefix)
        .await
        .unwrap();
    let node = NodeProcess::start("worker.js", &[REDIS, &prefix, QUEUE, "4"]).await;

    // Hour-apart half-hour bookings on one space: every one is valid on either engine.
    let jobs: Vec<Value> = (0..JOBS)
        .map(|i| {
            let from = 86_400_000 + i as i64 * 3_600_000;
            json!({"name": "BOOKING_CREATED", "data": booking(&format!("f-{i}"), "s1", from)})
        })
        .collect();
    let ids = node_add(&prefix, &Value::Array(jobs)).await;
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), JOBS);

    let producer = Producer::connect(REDIS, &prefix, QUEUE).await.unwrap();
    let counts = finished(producer.queue(), JOBS as u64, 60).await;
    assert_eq!((counts.completed, counts.failed), (JOBS as u64, 0));
    ours_a.close(1_000).await;
    ours_b.close(1_000).await;
    let by_node: Vec<String> = node
        .stop()
        .await
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();

    // Each worker's own record: Node's completions (by job id), each engine's bookings.
    let mut by_a = vec![];
    let mut by_b = vec![];
    for (i, id) in ids.iter().enumerate() {
        let bk = BookingId::parse(&format!("f-{i}")).unwrap();
        if a.space_of(&bk).await.is_ok() {
            by_a.push(id.clone());
        }
        if b.space_of(&bk).await.is_ok() {
            by_b.push(id.clone());
        }
    }
    let all: BTreeSet<String> = ids.iter().cloned().collect();
    let mut union = BTreeSet::new();
    let shares = [by_node.len(), by_a.len(), by_b.len()];
    for record in [&by_node, &by_a, &by_b] {
        assert!(
            !record.is_empty(),
            "every worker took some jobs: {shares:?}"
        );
        for id in record.iter() {
            assert!(union.insert(id.clone()), "job {id} ran twice");
        }
    }
    assert_eq!(union, all, "every job ran");
    eprintln!("jobs run by the Node worker and ours: {shares:?}");

    // The events stream agrees: one `active` and one `completed` per job, nothing else.
    let stream = events(&prefix).await;
    for kind in ["active", "completed"] {
        let mut seen: Vec<&str> = stream
            .iter()
            .filter(|(e, _)| e == kind)
            .map(|(_, j)| j.as_str())
            .collect();
        seen.sort();
        let distinct: BTreeSet<&str> = seen.iter().copied().collect();
        assert_eq!(seen.len(), JOBS, "{kind} entries");
        assert_eq!(distinct.len(), JOBS, "{kind} once per job");
        assert!(distinct.iter().all(|j| all.contains(*j)));
    }
    assert!(!stream.iter().any(|(e, _)| e == "failed" || e == "stalled"));

    producer.close().await;
    cleanup(&prefix).await;
}
