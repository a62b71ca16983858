//! Outbound behaviour on the real binary: a dead receiver is dead-lettered after its
//! schedule and can be replayed; a slow receiver never delays a transition; the SSRF rule;
//! transitions streamed over SSE; the metrics a operator needs; settled deliveries deleted
//! after their retention.

mod support;

use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_replay_ssrf_sse_and_metrics() {
    let hooks = Receiver::start().await;
    hooks.fail_first.store(usize::MAX, Ordering::SeqCst);
    let dir = data_dir("outbound");
    let server = Server::start(&dir, &[("ZS_WEBHOOK_RETRY", "0s,100ms,200ms".into())]);
    let api = Api::new(&server.base);

    // Private targets are refused unless the operator allows them.
    let (s, v) = api.post("/v1/webhooks", json!({"url": hooks.url()})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_url")),
        "{v}"
    );
    let (s, v) = api
        .post("/v1/webhooks", json!({"url": "ftp://example.com/x"}))
        .await;
    assert_eq!(s, 422, "{v}");
    drop(server);
    let server = Server::start(
        &dir,
        &[
            ("ZS_WEBHOOK_RETRY", "0s,100ms,200ms".into()),
            ("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".into()),
        ],
    );
    let api = Api::new(&server.base);
    let (s, wh) = api
        .post(
            "/v1/webhooks",
            json!({"url": hooks.url(), "events": ["booking.created"]}),
        )
        .await;
    assert_eq!(s, 201, "{wh}");
    let wid = wh["id"].as_str().unwrap().to_owned();

    // SSE: subscribe before the transition happens.
    let mut resp = reqwest::Client::new()
        .get(server.url("/v1/events"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");

    assert_eq!(
        api.post(
            "/v1/spaces",
            json!({"id": "o", "name": "o", "timezone": "UTC"})
        )
        .await
        .0,
        201
    );
    let (s, _) = api
        .post(
            "/v1/bookings",
            json!({"id": "ob", "spaceId": "o", "start": at(3_600_000), "end": at(7_200_000)}),
        )
        .await;
    assert_eq!(s, 201);

    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("BOOKING_CREATED") {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("an SSE event")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: transition"), "{seen}");
    assert!(seen.contains("\"spaceState\":\"available_at\""), "{seen}");

    // Dead-lettered after 3 attempts, kept in the log.
    let path = format!("/v1/webhooks/{wid}/deliveries");
    let mut last = serde_json::Value::Null;
    for _ in 0..60 {
        last = api.get(&path).await.1;
        if last["items"][0]["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let d = &last["items"][0];
    assert_eq!(d["status"], "failed", "{last}");
    assert_eq!(d["attempts"], 3);
    assert_eq!(d["log"].as_array().unwrap().len(), 3);
    assert_eq!(hooks.all().len(), 3);
    assert!(
        hooks
            .all()
            .iter()
            .all(|r| r.header("webhook-id") == hooks.all()[0].header("webhook-id"))
    );

    // Replay once the receiver is back.
    hooks.fail_first.store(0, Ordering::SeqCst);
    let (s, r) = api
        .post(
            &format!("/v1/deliveries/{}/retry", d["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(s, 202, "{r}");
    eventually(5, "replayed delivery", || hooks.all().len() == 4).await;
    let mut status = String::new();
    for _ in 0..40 {
        status = api.get(&path).await.1["items"][0]["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if status == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "delivered");

    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "zs_transitions_total",
        "zs_deliveries_total",
        "zs_queue_depth",
    ] {
        assert!(
            metrics.contains(name),
            "{name} missing from /metrics:\n{metrics}"
        );
    }
    assert!(metrics.contains("outcome=\"dead_lettered\""), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_never_delays_a_transition() {
    // A receiver that never answers in time: every attempt hits the timeout.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        });
        axum::serve(listener, app).await.unwrap();
    });
    let dir = data_dir("slow");
    let server = Server::start(
        &dir,
        &[
            ("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".into()),
            ("ZS_STATUS_URL", format!("http://{addr}/status")),
            ("ZS_HTTP_TIMEOUT_MS", "5000".into()),
        ],
    );
    let api = Api::new(&server.base);
    assert_eq!(
        api.post(
            "/v1/webhooks",
            json!({"url": format!("http://{addr}/hook")})
        )
        .await
        .0,
        201
    );
    let body = json!({"id": "sl", "name": "sl", "timezone": "UTC", "upcomingLead": "PT1S", "noShowGrace": "PT1S", "cleaning": "PT1S"});
    assert_eq!(api.post("/v1/spaces", body).await.0, 201);
    let t0 = now_ms();
    let ts = |ms: i64| (t0 + jiff::SignedDuration::from_millis(ms)).to_string();
    for i in 0..5 {
        let (s, v) = api.post("/v1/bookings", json!({"id": format!("sl{i}"), "spaceId": "sl", "start": ts(1500 + i * 3000), "end": ts(2500 + i * 3000)})).await;
        assert_eq!(s, 201, "{v}");
    }
    // Each no-show is applied on time although every delivery hangs until its 5 s timeout.
    let start = tokio::time::Instant::now()
        - Duration::from_millis(
            (jiff::Timestamp::now().as_millisecond() - t0.as_millisecond()) as u64,
        );
    for i in 0..5u64 {
        tokio::time::sleep_until(start + Duration::from_millis(2500 + i * 3000 + 600)).await;
        let (_, b) = api.get(&format!("/v1/bookings/sl{i}")).await;
        assert_eq!(
            b["status"], "no_show",
            "sl{i} released within 600 ms of its deadline"
        );
    }
    let (_, h) = api.get("/v1/spaces/sl/history?limit=1000").await;
    let timer_transitions = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["event"] != "BOOKING_CREATED")
        .count();
    assert_eq!(timer_transitions, 15, "5 × (upcoming, start, no-show): {h}");
}

/// `ZS_DELIVERY_RETENTION`: a delivered webhook is deleted with its log once the retention
/// has passed since it settled (then listing leaves it out and a retry of it is 404); a
/// pending delivery stays, however long its retries take.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settled_deliveries_are_deleted_after_the_retention_and_pending_ones_stay() {
    let ok = Receiver::start().await;
    let down = Receiver::start().await;
    down.fail_first.store(usize::MAX, Ordering::SeqCst);
    let dir = data_dir("retention");
    let server = Server::start(
        &dir,
        &[
            ("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".into()),
            ("ZS_DELIVERY_RETENTION", "PT2S".into()),
            ("ZS_WEBHOOK_RETRY", "0s,1h".into()),
        ],
    );
    let api = Api::new(&server.base);
    let mut paths = vec![];
    for r in [&ok, &down] {
        let body = json!({"url": r.url(), "events": ["booking.created"]});
        let (s, wh) = api.post("/v1/webhooks", body).await;
        assert_eq!(s, 201, "{wh}");
        paths.push(format!(
            "/v1/webhooks/{}/deliveries",
            wh["id"].as_str().unwrap()
        ));
    }
    let space = json!({"id": "rt", "name": "rt", "timezone": "UTC"});
    assert_eq!(api.post("/v1/spaces", space).await.0, 201);
    let booking =
        json!({"id": "rt1", "spaceId": "rt", "start": at(3_600_000), "end": at(7_200_000)});
    assert_eq!(api.post("/v1/bookings", booking).await.0, 201);

    // Delivered to one, failed once at the other (its retry is an hour away).
    let mut delivered = serde_json::Value::Null;
    eventually(10, "the delivery to the receiver that answers", || {
        !ok.all().is_empty() && !down.all().is_empty()
    })
    .await;
    for _ in 0..40 {
        delivered = api.get(&paths[0]).await.1["items"][0].clone();
        if delivered["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivered["status"], "delivered", "{delivered}");
    let id = delivered["id"].as_str().unwrap().to_owned();

    // Deleted within the retention and one look (a quarter of it, at least a second).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (s, v) = api.get(&paths[0]).await;
        assert_eq!(s, 200, "{v}");
        if v["items"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still listed after 15 s: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (s, v) = api
        .post(&format!("/v1/deliveries/{id}/retry"), json!({}))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{v}"
    );

    // The pending one is still there, with its attempt, older than the retention.
    let (_, v) = api.get(&paths[1]).await;
    let pending = &v["items"][0];
    assert_eq!(pending["status"], "pending", "{v}");
    assert_eq!(pending["attempts"], 1, "{v}");
    assert_eq!(pending["log"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(ok.all().len(), 1, "sent once");
}
