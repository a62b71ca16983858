//! Interop: jobs our producer (`zs_bullmq::producer`) adds are read by the real `bullmq`
//! 6.7.0 npm package exactly as jobs it added itself — `Queue.getJobs`, `getJob`,
//! `getJobCounts`, `getVersion` — and a Node `Worker` completes them.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zs_bullmq::producer::{Backoff, Due, JobId, NewJob, Producer, Retention};

fn id(s: &str) -> JobId {
    JobId::parse(s).unwrap()
}

fn job<'a>(seen: &'a Value, id: &str) -> &'a Value {
    seen["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {seen:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_reads_ready_and_delayed_jobs_as_it_would_its_own() {
    let prefix = prefix("producer-read");
    let producer = Producer::connect(REDIS, &prefix, QUEUE).await.unwrap();
    let due = SystemTime::now() + Duration::from_secs(120);
    let due_ms = due.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;

    let ready = producer
        .add(
            NewJob::new("STATUS_POST", json!({"spaceId": "s1", "seq": 7}))
                .id(id("st-s1-7"))
                .retries(5, Backoff::Fixed(Duration::from_millis(2_000)))
                .remove_on_complete(Retention::KeepLast(100)),
        )
        .await
        .unwrap();
    let start = producer
        .add(
            NewJob::new(
                "START_TIME_REACHED",
                json!({"bookingId": "bk-1", "spaceId": "s1"}),
            )
            .id(id("bk-1-start"))
            .due(Due::At(due))
            .retries(3, Backoff::Exponential(Duration::from_millis(1_000)))
            .remove_on_complete(Retention::Remove),
        )
        .await
        .unwrap();
    let later = producer
        .add(
            NewJob::new("CLEANING_ENDED", json!({"spaceId": "s1"}))
                .due(Due::After(Duration::from_secs(60))),
        )
        .await
        .unwrap();
    // The same deterministic id again changes nothing (BullMQ's rule), whatever it carries.
    let again = producer
        .add(
            NewJob::new("START_TIME_REACHED", json!({"bookingId": "other"}))
                .id(id("bk-1-start"))
                .due(Due::After(Duration::from_secs(5))),
        )
        .await
        .unwrap();
    assert_eq!((ready.as_str(), start.as_str()), ("st-s1-7", "bk-1-start"));
    assert_eq!(again, start);
    assert!(
        later.parse::<u64>().is_ok(),
        "auto ids are BullMQ's counter: {later}"
    );

    let seen = inspect(&prefix, &["st-s1-7", "bk-1-start", &later]).await;
    let counts = &seen["counts"];
    assert_eq!(
        (
            &counts["waiting"],
            &counts["delayed"],
            &counts["active"],
            &counts["completed"],
            &counts["failed"]
        ),
        (&json!(1), &json!(2), &json!(0), &json!(0), &json!(0)),
        "{seen:#}"
    );
    assert_eq!(seen["lists"]["waiting"], json!(["st-s1-7"]));
    let mut delayed = vec![start.clone(), later.clone()];
    delayed.sort();
    assert_eq!(seen["lists"]["delayed"], json!(delayed));
    assert_eq!(
        seen["version"], "bullmq-official:1.4.4",
        "meta.version is filled"
    );

    let r = job(&seen, "st-s1-7");
    assert_eq!(r["name"], "STATUS_POST");
    assert_eq!(r["data"], json!({"spaceId": "s1", "seq": 7}));
    assert_eq!(
        r["opts"],
        json!({"attempts": 5, "backoff": {"type": "fixed", "delay": 2000}, "jobId": "st-s1-7", "removeOnComplete": 100})
    );
    assert_eq!(
        (&r["delay"], &r["state"], &r["attemptsMade"]),
        (&json!(0), &json!("waiting"), &json!(0))
    );

    let s = job(&seen, "bk-1-start");
    assert_eq!(s["name"], "START_TIME_REACHED");
    assert_eq!(
        s["data"],
        json!({"bookingId": "bk-1", "spaceId": "s1"}),
        "the duplicate changed nothing"
    );
    assert_eq!(s["state"], "delayed");
    let (ts, delay) = (
        s["timestamp"].as_i64().unwrap(),
        s["delay"].as_i64().unwrap(),
    );
    assert_eq!(
        ts + delay,
        due_ms,
        "Node sees the due instant as timestamp + delay"
    );
    assert_eq!(
        s["opts"],
        json!({"attempts": 3, "backoff": {"type": "exponential", "delay": 1000}, "delay": delay,
               "jobId": "bk-1-start", "removeOnComplete": true})
    );

    let l = job(&seen, &later);
    assert_eq!(
        (&l["name"], &l["data"]),
        (&json!("CLEANING_ENDED"), &json!({"spaceId": "s1"}))
    );
    assert_eq!(l["delay"], 60_000);
    assert_eq!(
        l["opts"],
        json!({"attempts": 0, "delay": 60000}),
        "Node's plain-add shape"
    );
    assert_eq!(l["state"], "delayed");

    producer.close().await;
    cleanup(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_worker_completes_jobs_our_producer_added() {
    let prefix = prefix("producer-work");
    let producer = Producer::connect(REDIS, &prefix, QUEUE).await.unwrap();
    let worker = NodeProcess::start("worker.js", &[REDIS, &prefix, QUEUE, "2"]).await;

    let mut ids = vec![];
    for i in 0..3 {
        let j = NewJob::new("UPCOMING_REACHED", json!({"bookingId": format!("bk-{i}")}))
            .id(id(&format!("bk-{i}-upcoming")));
        ids.push(producer.add(j).await.unwrap());
    }
    let delayed = NewJob::new("END_TIME_REACHED", json!({"bookingId": "bk-9"}))
        .id(id("bk-9-end"))
        .due(Due::After(Duration::from_millis(300)));
    ids.push(producer.add(delayed).await.unwrap());
    let gone = NewJob::new("NO_SHOW_TIMEOUT", json!({"bookingId": "bk-8"}))
        .id(id("bk-8-noshow"))
        .remove_on_complete(Retention::Remove);
    producer.add(gone).await.unwrap();

    worker
        .wait_for(20, "five jobs completed by the Node worker", |l| {
            l.len() == 5
        })
        .await;
    let done = worker.stop().await;
    let mut done_ids: Vec<&str> = done.iter().map(|l| l["id"].as_str().unwrap()).collect();
    done_ids.sort();
    assert_eq!(
        done_ids,
        [
            "bk-0-upcoming",
            "bk-1-upcoming",
            "bk-2-upcoming",
            "bk-8-noshow",
            "bk-9-end"
        ]
    );

    let mut asked: Vec<&str> = ids.iter().map(String::as_str).collect();
    asked.push("bk-8-noshow");
    let seen = inspect(&prefix, &asked).await;
    assert_eq!(seen["counts"]["completed"], 4, "{seen:#}");
    assert_eq!(
        (&seen["counts"]["waiting"], &seen["counts"]["delayed"]),
        (&json!(0), &json!(0))
    );
    for id in &ids {
        let j = job(&seen, id);
        assert_eq!(j["state"], "completed", "{j:#}");
        assert_eq!(
            j["returnvalue"],
            json!({"by": "node", "name": j["name"], "data": j["data"]}),
            "{j:#}"
        );
        let (ts, on, fin) = (
            j["timestamp"].as_i64().unwrap(),
            j["processedOn"].as_i64().unwrap(),
            j["finishedOn"].as_i64().unwrap(),
        );
        assert!(ts <= on && on <= fin, "{j:#}");
        assert_eq!(j["attemptsMade"], 1);
    }
    let d = job(&seen, "bk-9-end");
    assert!(
        d["processedOn"].as_i64().unwrap() >= d["timestamp"].as_i64().unwrap() + 300,
        "a delayed job never runs early: {d:#}"
    );
    assert_eq!(
        job(&seen, "bk-8-noshow")["missing"],
        true,
        "removeOnComplete: true"
    );

    producer.close().await;
    cleanup(&prefix).await;
}
