//! A space deleted while one of its timers waits in Redis as a delayed BullMQ job: the job
//! still arrives at its instant and completes without effect (`alreadyApplied`), with no
//! retry and nothing written for the deleted space.

mod common;

use common::*;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::time::Duration;
use tokio::sync::watch;
use zs_bullmq::producer::Producer;
use zs_bullmq::scheduler;
use zs_core::{BookingId, Command, NewBooking, SpaceId};
use zs_store::Queue;
use zs_store::jobs;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_timer_of_a_deleted_space_completes_without_effect() {
    let p = prefix("deleted-space");
    let e = engine("unused").await;
    let mut space = fast_space("doomed");
    space.settings.cleaning = zs_core::Period::seconds(3);
    e.create_space(space).await.unwrap();
    let doomed = SpaceId::parse("doomed").unwrap();
    e.set_fallback_lag(Duration::from_secs(60));
    let producer = Producer::connect(REDIS, &p, QUEUE).await.unwrap();
    let (stop_tx, stop) = watch::channel(false);
    let relay = tokio::spawn(scheduler::relay_loop(
        e.arc(),
        vec![(zs_engine::Queue::MeetingScheduler, producer.clone())],
        stop,
    ));
    let worker = zs_bullmq::start_ingress(e.arc(), REDIS, &p).await.unwrap();

    // An early check-out leaves the room cleaning for 3 s: one timer, relayed to Redis.
    let start = Timestamp::now() + SignedDuration::from_millis(500);
    let id = BookingId::parse("b").unwrap();
    e.create_booking(
        &doomed,
        NewBooking {
            id: id.clone(),
            title: "b".into(),
            start,
            end: start + SignedDuration::from_secs(60),
        },
        None,
    )
    .await
    .unwrap();
    e.execute(&doomed, Command::CheckIn(id.clone()))
        .await
        .unwrap();
    e.execute(&doomed, Command::CheckOut(id)).await.unwrap();
    let mut c = e.store.read().await.unwrap();
    let cleaning = jobs::list(&mut c, Queue::MeetingScheduler, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.group.as_deref() == Some("doomed"))
        .expect("the cleaning timer");
    drop(c);
    let job_id = scheduler::job_id(&cleaning.id, cleaning.due.as_millisecond());
    poll_until(10, "the relayed cleaning timer", || async {
        let v = inspect(&p, &[&job_id]).await;
        (v["jobs"][0]["state"] == "delayed").then_some(())
    })
    .await;

    e.delete_space(&doomed).await.unwrap();
    let v = poll_until(15, "the delayed job to run", || async {
        let v = inspect(&p, &[&job_id]).await;
        (v["jobs"][0]["state"] == "completed").then_some(v)
    })
    .await;
    assert_eq!(
        v["jobs"][0]["returnvalue"],
        json!({"alreadyApplied": true}),
        "{v}"
    );
    assert!(
        v["jobs"][0]["attemptsMade"].as_i64().unwrap_or(0) <= 1,
        "run once, no retry: {v}"
    );
    let mut c = e.store.read().await.unwrap();
    assert!(
        zs_store::spaces::get(&mut c, &doomed)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        zs_store::spaces::history(&mut c, &doomed, 10)
            .await
            .unwrap()
            .is_empty()
    );
    drop(c);

    let _ = stop_tx.send(true);
    relay.await.unwrap();
    worker.close(2000).await;
    producer.close().await;
    cleanup(&p).await;
}
