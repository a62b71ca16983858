//! Status posts and webhooks as BullMQ jobs: one job per attempt on `statusUpdateQueue` and
//! `webhookDeliveryQueue`. A failed attempt fails its job with the reason (Node sees
//! `failedReason`) and the retry is a new delayed job; status posts arrive in sequence order.

mod common;

use common::*;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use zs_bullmq::producer::Producer;
use zs_bullmq::scheduler;
use zs_core::{BookingId, NewBooking, SpaceId};

/// A real HTTP receiver on 127.0.0.1: records each request body and answers 500 to the
/// first `fail_first` requests on `/hook`, 200 otherwise.
struct Receiver {
    addr: String,
    got: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn receiver(fail_first: usize) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let got: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let hook_calls = Arc::new(AtomicUsize::new(0));
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let g = g.clone();
            let hook_calls = hook_calls.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, len) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (i + 4, len);
                    }
                };
                while buf.len() < head_end + len {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                let body: Value = serde_json::from_slice(&buf[head_end..]).unwrap_or(Value::Null);
                let fail =
                    path == "/hook" && hook_calls.fetch_add(1, Ordering::SeqCst) < fail_first;
                g.lock().unwrap().push((path, body));
                let status = if fail {
                    "500 Internal Server Error"
                } else {
                    "200 OK"
                };
                let _ = sock
                    .write_all(
                        format!(
                            "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    Receiver { addr, got }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_run_as_queue_jobs_with_retries_as_new_jobs() {
    let p = prefix("deliveries");
    let rx = receiver(1).await;
    let dir = std::env::temp_dir().join(format!("zs-deliv-{}", p.replace(':', "-")));
    let store = zs_store::Store::open(&dir).await.unwrap();
    let retry = zs_delivery::RetrySchedule::parse("0s,1s,1s").unwrap();
    let e = zs_engine::testing::TestEngine::over(store)
        .allow_private()
        .timeout(Duration::from_secs(2))
        .status_url(format!("{}/status", rx.addr))
        .outbound(|out| out.webhook_retry = retry)
        .build_with_clock(Arc::new(zs_core::SystemClock))
        .await;
    e.set_fallback_lag(Duration::from_secs(60));

    let mut producers = vec![];
    for q in zs_engine::Queue::ALL {
        producers.push((q, Producer::connect(REDIS, &p, q.as_str()).await.unwrap()));
    }
    let (stop_tx, stop) = watch::channel(false);
    let relay = tokio::spawn(scheduler::relay_loop(e.clone(), producers, stop));
    let timers = zs_bullmq::start_ingress(e.clone(), REDIS, &p)
        .await
        .unwrap();
    let deliveries =
        zs_bullmq::start_delivery_workers(e.clone(), REDIS, &p, zs_bullmq::worker::DEFAULT_LOCK_MS)
            .await
            .unwrap();

    let (ep, _secret) = e
        .create_endpoint(format!("{}/hook", rx.addr), vec!["booking.created".into()])
        .await
        .unwrap();
    let room = SpaceId::parse("room").unwrap();
    e.create_space(fast_space("room")).await.unwrap();
    let start = Timestamp::now() + SignedDuration::from_millis(1500);
    e.create_booking(
        &room,
        NewBooking {
            id: BookingId::parse("bk").unwrap(),
            title: "t".into(),
            start,
            end: start + SignedDuration::from_secs(2),
        },
        None,
    )
    .await
    .unwrap();

    // The webhook: first attempt refused (500), the retry delivered.
    let got = rx.got.clone();
    poll_until(15, "the webhook retry", || {
        let got = got.clone();
        async move {
            let hooks = got
                .lock()
                .unwrap()
                .iter()
                .filter(|(p, _)| p == "/hook")
                .count();
            (hooks >= 2).then_some(())
        }
    })
    .await;
    // Status posts: BOOKING_CREATED, UPCOMING, START, NO_SHOW, each once, in order.
    let posts = poll_until(15, "the status posts", || {
        let got = got.clone();
        async move {
            let seqs: Vec<u64> = got
                .lock()
                .unwrap()
                .iter()
                .filter(|(p, _)| p == "/status")
                .filter_map(|(_, b)| b["sequence"].as_u64())
                .collect();
            (seqs.len() >= 4).then_some(seqs)
        }
    })
    .await;
    assert_eq!(
        posts,
        [1, 2, 3, 4],
        "each status post once, in sequence order"
    );

    // In Redis, as Node sees it: the first webhook attempt failed with its reason, the
    // retry job completed; the status jobs completed.
    let d = {
        let mut c = e.store.read().await.unwrap();
        zs_store::deliveries::for_endpoint(&mut c, &ep.id, 10)
            .await
            .unwrap()
    };
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].status, zs_store::DeliveryStatus::Delivered);
    let conn = redis().await;
    let failed: Vec<String> = conn
        .cmd(
            redis::cmd("ZRANGE")
                .arg(format!("{}:webhookDeliveryQueue:failed", &*p))
                .arg(0)
                .arg(-1),
        )
        .await
        .unwrap();
    let completed: Vec<String> = conn
        .cmd(
            redis::cmd("ZRANGE")
                .arg(format!("{}:webhookDeliveryQueue:completed", &*p))
                .arg(0)
                .arg(-1),
        )
        .await
        .unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(completed.len(), 1, "{completed:?}");
    assert!(failed[0].starts_with(&d[0].id) && completed[0].starts_with(&d[0].id));
    assert_ne!(failed[0], completed[0], "the retry is a job of its own");
    let reason: Option<String> = conn
        .cmd(
            redis::cmd("HGET")
                .arg(format!("{}:webhookDeliveryQueue:{}", &*p, failed[0]))
                .arg("failedReason"),
        )
        .await
        .unwrap();
    assert!(
        reason.as_deref().unwrap_or("").contains("500"),
        "{reason:?}"
    );
    let status_done: i64 = conn
        .cmd(redis::cmd("ZCARD").arg(format!("{}:statusUpdateQueue:completed", &*p)))
        .await
        .unwrap();
    assert!(status_done >= 1);

    let _ = stop_tx.send(true);
    relay.await.unwrap();
    timers.close(2000).await;
    for w in &deliveries {
        w.close(2000).await;
    }
    cleanup(&p).await;
    for q in ["statusUpdateQueue", "webhookDeliveryQueue"] {
        let keys: Vec<String> = conn
            .cmd(redis::cmd("KEYS").arg(format!("{}:{q}:*", &*p)))
            .await
            .unwrap_or_default();
        for k in keys {
            let _ = conn.cmd::<i64>(redis::cmd("DEL").arg(k)).await;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
