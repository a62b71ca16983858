//! Stalled-job recovery across instances: an instance is SIGKILLed while one of its Redis
//! workers holds a job (a status post in flight to a slow receiver). Another instance takes
//! it over — BullMQ's stalled check returns the job to the queue once its lock runs out, and
//! the store's runner re-sends the post whose lease ran out — so nothing is lost.

mod support;

use serde_json::json;
use std::sync::atomic::Ordering;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_held_by_a_killed_instance_is_taken_over() {
    let status = Receiver::start().await;
    let schema = unique_schema("takeover");
    let prefix = schema.replace('_', "-");
    let env = vec![
        ("ZS_DATABASE_URL", pg_url()),
        ("ZS_DATABASE_SCHEMA", schema.clone()),
        ("ZS_REDIS_URL", "redis://127.0.0.1:6379".to_owned()),
        ("ZS_QUEUE_PREFIX", prefix.clone()),
        ("ZS_QUEUE_LOCK_MS", "2000".to_owned()),
        ("ZS_HTTP_TIMEOUT_MS", "1500".to_owned()),
        ("ZS_STATUS_URL", status.url()),
    ];
    let a = Server::start(&data_dir("takeover-a"), &env);
    let api = Api::new(&a.base);
    let body = json!({"id": "room", "name": "room", "timezone": "UTC", "upcomingLead": "PT1S", "noShowGrace": "PT1S", "cleaning": "PT1S"});
    assert_eq!(api.post("/v1/spaces", body).await.0, 201);
    // The status receiver now hangs: instance a's worker will be mid-send when it dies.
    status.hold_ms.store(10_000, Ordering::SeqCst);
    let (st, v) = api
        .post(
            "/v1/bookings",
            json!({"id": "bk", "spaceId": "room", "start": at(60_000), "end": at(120_000)}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    eventually(10, "the first status post in flight", || {
        !status.all().is_empty()
    })
    .await;
    a.kill();
    status.hold_ms.store(0, Ordering::SeqCst);

    let b = Server::start(&data_dir("takeover-b"), &env);
    let ready = reqwest::get(format!("{}/readyz", b.base)).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200, "store and Redis answer");
    eventually(30, "the status post sent again by instance b", || {
        status.all().len() >= 2
    })
    .await;
    let posts: Vec<serde_json::Value> = status.all().iter().map(|r| r.json()).collect();
    assert!(
        posts
            .iter()
            .all(|p| p["sequence"] == 1 && p["event"] == "BOOKING_CREATED"),
        "the same post again (at least once), nothing else: {posts:?}"
    );

    // The queue job a held was recovered by the stalled check and finished by b.
    let ids = redis_cli(&[
        "ZRANGE",
        &format!("{prefix}:statusUpdateQueue:completed"),
        "0",
        "-1",
    ]);
    let job = ids.lines().next().unwrap_or("").to_owned();
    assert!(job.starts_with("status.room.1."), "completed: {ids:?}");
    let events = redis_cli(&[
        "XRANGE",
        &format!("{prefix}:statusUpdateQueue:events"),
        "-",
        "+",
    ]);
    assert!(
        events.contains("stalled"),
        "a stalled event for the job: {events}"
    );
    let stalled_count = redis_cli(&["HGET", &format!("{prefix}:statusUpdateQueue:{job}"), "stc"]);
    println!(
        "job {job}: stalled events seen, stc = {}",
        stalled_count.trim()
    );

    assert!(b.stop().success());
    redis_forget(&prefix);
}
