//! Timers as BullMQ jobs: the relay adds each plan to `meetingScheduler` as an ordinary
//! delayed job that Node's `bullmq` reads (name, data, `timestamp + delay` = the due
//! instant); our worker runs it at its instant, exactly once; a duplicate delivery and a
//! superseded plan complete without a second transition.

mod common;

use common::*;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::watch;
use zs_bullmq::producer::{Due, JobId, NewJob, Producer};
use zs_bullmq::scheduler;
use zs_core::{BookingId, Command, NewBooking, SpaceId};

async fn engine_with_fast_space(id: &str) -> TestEngine {
    let e = engine("unused").await;
    e.create_space(fast_space(id)).await.unwrap();
    e
}

async fn history(e: &zs_engine::Engine, space: &str) -> Vec<(String, Timestamp)> {
    let mut c = e.store.read().await.unwrap();
    let mut h = zs_store::spaces::history(&mut c, &SpaceId::parse(space).unwrap(), 100)
        .await
        .unwrap();
    h.reverse();
    h.into_iter()
        .map(|t| (t.event.as_str().to_owned(), t.to.since))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_run_from_redis_exactly_once_at_their_instants() {
    let p = prefix("timers");
    let e = engine_with_fast_space("room").await;
    let room = SpaceId::parse("room").unwrap();
    // The store's own runner only as a late safety net, as in production with Redis.
    e.set_fallback_lag(Duration::from_secs(60));
    let producer = Producer::connect(REDIS, &p, QUEUE).await.unwrap();
    let (stop_tx, stop) = watch::channel(false);
    let relay = tokio::spawn(scheduler::relay_loop(
        e.arc(),
        vec![(zs_engine::Queue::MeetingScheduler, producer.clone())],
        stop,
    ));
    let worker = zs_bullmq::start_ingress(e.arc(), REDIS, &p).await.unwrap();

    let t0 = Timestamp::from_millisecond(Timestamp::now().as_millisecond()).unwrap();
    let start = t0 + SignedDuration::from_millis(2500);
    let booking = |id: &str, start: Timestamp| NewBooking {
        id: BookingId::parse(id).unwrap(),
        title: id.into(),
        start,
        end: start + SignedDuration::from_secs(2),
    };
    e.create_booking(&room, booking("kept", start), None)
        .await
        .unwrap();
    // Another space's booking at the same instants, cancelled once relayed: its jobs in
    // Redis are superseded and must change nothing.
    let other = SpaceId::parse("other").unwrap();
    e.create_space(fast_space("other")).await.unwrap();
    e.create_booking(&other, booking("gone", start), None)
        .await
        .unwrap();

    // Node reads the relayed plans as ordinary delayed jobs.
    let ids: Vec<String> = ["UPCOMING_REACHED", "START_TIME_REACHED", "NO_SHOW_TIMEOUT"]
        .iter()
        .zip([
            start - SignedDuration::from_secs(1),
            start,
            start + SignedDuration::from_secs(1),
        ])
        .map(|(ev, due)| scheduler::job_id(&format!("kept.{ev}"), due.as_millisecond()))
        .collect();
    let gone_start = scheduler::job_id("gone.START_TIME_REACHED", start.as_millisecond());
    let mut id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    id_refs.push(&gone_start);
    let seen = poll_until(10, "relayed jobs", || async {
        let v = inspect(&p, &id_refs).await;
        let all = v["jobs"]
            .as_array()
            .map(|a| a.iter().all(|j| j["missing"].is_null()));
        (all == Some(true)).then_some(v)
    })
    .await;
    for (j, ev) in seen["jobs"].as_array().unwrap().iter().zip([
        "UPCOMING_REACHED",
        "START_TIME_REACHED",
        "NO_SHOW_TIMEOUT",
        "START_TIME_REACHED",
    ]) {
        assert_eq!(j["name"], ev, "{j}");
        assert!(
            j["data"]["bookingId"] == "kept" || j["data"]["bookingId"] == "gone",
            "{j}"
        );
        assert_eq!(j["state"], "delayed", "{j}");
        let due = if j["data"]["bookingId"] == "gone" {
            start
        } else {
            [
                start - SignedDuration::from_secs(1),
                start,
                start + SignedDuration::from_secs(1),
            ][["UPCOMING_REACHED", "START_TIME_REACHED", "NO_SHOW_TIMEOUT"]
                .iter()
                .position(|e| j["name"] == *e)
                .unwrap()]
        };
        assert_eq!(
            job_due(j),
            due.as_millisecond(),
            "timestamp + delay is the due instant: {j}"
        );
    }
    e.execute(&other, Command::Cancel(BookingId::parse("gone").unwrap()))
        .await
        .unwrap();

    // Deliver START_TIME_REACHED a second time, as at-least-once queues may.
    let dup = NewJob::new(
        "START_TIME_REACHED",
        json!({"spaceId": "room", "bookingId": "kept"}),
    )
    .id(JobId::parse("dup-start").unwrap())
    .due(Due::At(
        std::time::UNIX_EPOCH + Duration::from_millis(start.as_millisecond() as u64),
    ));
    producer.add(dup).await.unwrap();

    let h = poll_until(15, "the no-show", || async {
        let h = history(&e, "room").await;
        h.iter().any(|(ev, _)| ev == "NO_SHOW_TIMEOUT").then_some(h)
    })
    .await;
    // Leave time for anything that would wrongly run twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let h2 = history(&e, "room").await;
    assert_eq!(h, h2, "nothing after the no-show");
    let names: Vec<&str> = h.iter().map(|(ev, _)| ev.as_str()).collect();
    assert_eq!(
        names,
        [
            "BOOKING_CREATED",
            "UPCOMING_REACHED",
            "START_TIME_REACHED",
            "NO_SHOW_TIMEOUT"
        ]
    );
    let timers: Vec<(&str, Timestamp)> = h
        .iter()
        .filter(|(ev, _)| ev.ends_with("_REACHED") || ev == "NO_SHOW_TIMEOUT")
        .map(|(ev, at)| (ev.as_str(), *at))
        .collect();
    assert_eq!(
        timers,
        [
            ("UPCOMING_REACHED", start - SignedDuration::from_secs(1)),
            ("START_TIME_REACHED", start),
            ("NO_SHOW_TIMEOUT", start + SignedDuration::from_secs(1)),
        ],
        "each timer exactly once, at its own instant"
    );

    // In Redis: the plan's jobs completed, the duplicate completed without effect.
    let v = poll_until(10, "completions", || async {
        let mut all = id_refs.clone();
        all.push("dup-start");
        let v = inspect(&p, &all).await;
        let done = v["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["state"] == "completed");
        done.then_some(v)
    })
    .await;
    let jobs = v["jobs"].as_array().unwrap();
    let applied: Vec<&Value> = jobs.iter().map(|j| &j["returnvalue"]).collect();
    assert_eq!(applied[0], &json!({"applied": 1}));
    assert_eq!(
        applied[3],
        &json!({"alreadyApplied": true}),
        "the superseded plan changed nothing"
    );
    assert_eq!(
        applied[4],
        &json!({"alreadyApplied": true}),
        "the duplicate changed nothing"
    );
    let other_names: Vec<String> = history(&e, "other")
        .await
        .into_iter()
        .map(|(ev, _)| ev)
        .collect();
    assert_eq!(other_names, ["BOOKING_CREATED", "BOOKING_CANCELLED"]);
    for j in jobs {
        let processed = j["processedOn"].as_i64().unwrap();
        assert!(processed >= job_due(j), "never early: {j}");
    }
    let _ = stop_tx.send(true);
    relay.await.unwrap();
    worker.close(2000).await;
    producer.close().await;
    cleanup(&p).await;
}

fn job_due(j: &Value) -> i64 {
    j["timestamp"].as_i64().unwrap() + j["delay"].as_i64().unwrap()
}
