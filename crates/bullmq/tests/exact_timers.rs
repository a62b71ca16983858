//! Exact timers on real Redis: delayed jobs added with the crate's `Queue` (spread over
//! ~1.5 s, plus an earlier one added after the later ones) are each processed exactly once
//! by our `QueueWorker`, and never before their due instant — checked in the processor and
//! from the job hash (`processedOn >= timestamp + delay`). How late they start is measured by
//! the benchmarks, not asserted here.
//!
//! Needs Redis at `ZS_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`); the test uses its
//! own key prefix and removes its keys.

use bullmq::worker::CancellationToken;
use bullmq::{Job, Queue, QueueOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zs_bullmq::worker::{QueueWorker, WorkerConfig, now_ms};

const QUEUE: &str = "meetingScheduler";
const SPREAD_JOBS: u64 = 24;

/// One processor call: job id, handler start (ms) and due instant (ms).
type Run = (String, u64, u64);

fn redis_url() -> String {
    std::env::var("ZS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn unique_prefix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("zs-exact-{}-{nanos}", std::process::id())
}

async fn start_worker(prefix: &str, runs: Arc<Mutex<Vec<Run>>>) -> QueueWorker {
    let config = WorkerConfig {
        redis_url: redis_url(),
        prefix: prefix.to_owned(),
        queue: QUEUE.to_owned(),
        concurrency: 10,
        lock_ms: zs_bullmq::worker::DEFAULT_LOCK_MS,
    };
    let processor = move |job: Job, _token: CancellationToken| {
        let due = job.timestamp() + job.opts().delay.unwrap_or(0);
        runs.lock()
            .expect("runs")
            .push((job.id().to_owned(), now_ms(), due));
        async { Ok(serde_json::Value::Null) }
    };
    QueueWorker::start(&config, processor, None)
        .await
        .expect("worker starts")
}

async fn add_delayed(queue: &Queue, delay_ms: u64, i: u64) -> String {
    let job = queue
        .add("START_TIME_REACHED", serde_json::json!({ "i": i }))
        .delay(Duration::from_millis(delay_ms))
        .await
        .expect("job added");
    job.id().to_owned()
}

/// Waits (bounded, for liveness only) until `n` processor calls were seen.
async fn wait_for_runs(runs: &Mutex<Vec<Run>>, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while runs.lock().expect("runs").len() < n && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn job_hash(
    conn: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
    id: &str,
) -> HashMap<String, String> {
    redis::cmd("HGETALL")
        .arg(format!("{prefix}:{QUEUE}:{id}"))
        .query_async(conn)
        .await
        .expect("job hash")
}

async fn remove_keys(conn: &mut redis::aio::MultiplexedConnection, prefix: &str) {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(conn)
        .await
        .expect("keys");
    for key in keys {
        let _: () = redis::cmd("UNLINK")
            .arg(key)
            .query_async(conn)
            .await
            .expect("unlink");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_jobs_run_exactly_once_and_never_early() {
    let prefix = unique_prefix();
    let runs = Arc::new(Mutex::new(Vec::new()));
    let worker = start_worker(&prefix, runs.clone()).await;
    let queue = Queue::with_options(
        QUEUE,
        QueueOptions {
            connection: bullmq::options::RedisConnectionOptions {
                url: redis_url(),
                ..Default::default()
            },
            prefix: prefix.clone(),
            ..Default::default()
        },
    )
    .await
    .expect("queue");

    // Later jobs first, due 400 ms … 1.78 s from now; the timer arms on the earliest of them.
    let mut ids = Vec::new();
    for i in 0..SPREAD_JOBS {
        ids.push(add_delayed(&queue, 400 + i * 60, i).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Then one due before all of them: it must re-arm the timer.
    ids.push(add_delayed(&queue, 150, SPREAD_JOBS).await);
    // And a second job due at the same instant as a spread one, added last.
    ids.push(add_delayed(&queue, 800, SPREAD_JOBS + 1).await);

    wait_for_runs(&runs, ids.len()).await;
    // Room for a duplicate run to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    worker.close(5_000).await;

    let runs = runs.lock().expect("runs").clone();
    let mut times: HashMap<&str, usize> = HashMap::new();
    for (id, started, due) in &runs {
        *times.entry(id).or_default() += 1;
        assert!(
            started >= due,
            "job {id} started at {started}, before its due {due}"
        );
    }
    for id in &ids {
        assert_eq!(times.get(id.as_str()), Some(&1), "job {id} processed once");
    }
    assert_eq!(runs.len(), ids.len(), "no other job processed");

    let client = redis::Client::open(redis_url()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    for id in &ids {
        let hash = job_hash(&mut conn, &prefix, id).await;
        let num = |field: &str| -> u64 {
            hash.get(field)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("job {id}: no numeric {field} in {hash:?}"))
        };
        let opts: serde_json::Value =
            serde_json::from_str(hash.get("opts").map_or("{}", String::as_str)).expect("opts");
        let delay = opts["delay"].as_u64().expect("opts.delay");
        assert!(
            num("processedOn") >= num("timestamp") + delay,
            "job {id} moved to active before its due instant: {hash:?}"
        );
        assert_eq!(num("ats"), 1, "job {id} started once");
        assert!(hash.contains_key("finishedOn"), "job {id} completed");
    }
    let completed: u64 = redis::cmd("ZCARD")
        .arg(format!("{prefix}:{QUEUE}:completed"))
        .query_async(&mut conn)
        .await
        .expect("zcard");
    assert_eq!(completed, ids.len() as u64);
    remove_keys(&mut conn, &prefix).await;
}
