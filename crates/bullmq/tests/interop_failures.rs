//! Interop: a job with `attempts` and BullMQ's backoff that our worker fails each time. The
//! real `bullmq` 6.7.0 npm package (`QueueEvents` + `getJob`) sees, after every attempt,
//! `attemptsMade` go up, `failedReason` and `stacktrace` set (written by
//! `zs_bullmq::failure`, which the crate alone does not keep), the retry delayed by the
//! backoff, and at the end the job `failed` with one `failed` event.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::Duration;
use zs_bullmq::failure::FailureLog;
use zs_bullmq::producer::{Backoff, JobId, NewJob, Producer};

/// A worker of ours whose processor fails every attempt, retriably.
async fn failing_worker(prefix: &str) -> bullmq::Worker {
    let log = FailureLog::connect(REDIS, prefix, QUEUE).await.unwrap();
    let processor = |job: bullmq::Job, _: bullmq::worker::CancellationToken| async move {
        Err::<Value, _>(bullmq::Error::ProcessingError(format!(
            "{} attempt {} failed",
            job.id(),
            job.attempts_made() + 1
        )))
    };
    let opts = bullmq::WorkerOptions {
        connection: bullmq::options::RedisConnectionOptions {
            url: REDIS.into(),
            ..Default::default()
        },
        prefix: prefix.to_owned(),
        concurrency: 2,
        ..Default::default()
    };
    bullmq::Worker::with_options(QUEUE, log.wrap(processor), opts)
        .await
        .unwrap()
}

fn of<'a>(lines: &'a [Value], event: &str, job: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["event"] == event && l["jobId"] == job)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sees_each_failed_attempt_its_reason_and_the_backoff() {
    let prefix = prefix("failures");
    let events = NodeProcess::start("events.js", &[REDIS, &prefix, QUEUE]).await;
    let worker = failing_worker(&prefix).await;
    let producer = Producer::connect(REDIS, &prefix, QUEUE).await.unwrap();
    let exp = NewJob::new("WEBHOOK_DELIVERY", json!({"deliveryId": "d-1"}))
        .id(JobId::parse("d-1").unwrap())
        .retries(3, Backoff::Exponential(Duration::from_millis(700)));
    let fixed = NewJob::new("STATUS_POST", json!({"spaceId": "s1", "seq": 1}))
        .id(JobId::parse("st-1").unwrap())
        .retries(2, Backoff::Fixed(Duration::from_millis(600)));
    producer.add(exp).await.unwrap();
    producer.add(fixed).await.unwrap();

    events
        .wait_for(30, "both jobs failed for good", |l| {
            let n = |kind: &str| l.iter().filter(|e| e["event"] == kind).count();
            n("failed") == 2 && n("retries-exhausted") == 2
        })
        .await;
    worker.close(1_000).await.unwrap();
    let lines = events.stop().await;

    for (id, attempts, first_backoff, factor) in [("d-1", 3, 700, 2), ("st-1", 2, 600, 1)] {
        let delayed = of(&lines, "delayed", id);
        assert_eq!(delayed.len(), attempts - 1, "{lines:#?}");
        let mut backoff = first_backoff;
        for (k, d) in delayed.iter().enumerate() {
            let made = k + 1;
            let job = &d["job"];
            assert_eq!(job["attemptsMade"], made, "{d:#}");
            assert_eq!(
                job["failedReason"],
                format!("{id} attempt {made} failed"),
                "{d:#}"
            );
            let traces: Vec<String> = (1..=made)
                .map(|n| format!("{id} attempt {n} failed"))
                .collect();
            assert_eq!(job["stacktrace"], json!(traces), "{d:#}");
            assert_eq!(job["state"], "delayed", "{d:#}");
            // The retry waits the backoff: the stored delay is exactly it, and the due
            // instant is at least that long after the failed attempt started.
            assert_eq!(job["delay"], backoff, "{d:#}");
            let started = job["processedOn"].as_i64().unwrap();
            assert!(d["due"].as_i64().unwrap() >= started + backoff, "{d:#}");
            backoff *= factor;
        }
        let failed = of(&lines, "failed", id);
        assert_eq!(
            failed.len(),
            1,
            "one failed event, for the last attempt: {lines:#?}"
        );
        let last = format!("{id} attempt {attempts} failed");
        assert_eq!(failed[0]["failedReason"], last);
        assert_eq!(failed[0]["job"]["state"], "failed");
        assert_eq!(failed[0]["job"]["attemptsMade"], attempts);
        let exhausted = of(&lines, "retries-exhausted", id);
        assert_eq!(exhausted.len(), 1, "{lines:#?}");
        assert_eq!(exhausted[0]["attemptsMade"], attempts);
    }

    let seen = inspect(&prefix, &["d-1", "st-1"]).await;
    assert_eq!(seen["counts"]["failed"], 2, "{seen:#}");
    assert_eq!(seen["lists"]["failed"], json!(["d-1", "st-1"]));
    let d1 = &seen["jobs"][0];
    assert_eq!(
        (&d1["failedReason"], &d1["attemptsMade"]),
        (&json!("d-1 attempt 3 failed"), &json!(3))
    );
    assert_eq!(d1["stacktrace"].as_array().unwrap().len(), 3);

    // A job that is not held by the caller (no lock token) is never written to.
    let log = FailureLog::connect(REDIS, &prefix, QUEUE).await.unwrap();
    let stored = producer.queue().get_job("d-1").await.unwrap().unwrap();
    assert!(!log.record(&stored, "not mine").await.unwrap());
    let seen = inspect(&prefix, &["d-1"]).await;
    assert_eq!(seen["jobs"][0]["failedReason"], "d-1 attempt 3 failed");

    producer.close().await;
    cleanup(&prefix).await;
}
