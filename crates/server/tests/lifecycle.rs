//! End to end: the real binary on port 0, real receivers on 127.0.0.1, a compressed day
//! (leads, graces and cleaning of 1–2 s): check-in, no-show, cancellation, early check-out,
//! a maintenance window; states over time, final statuses, signatures and status sequences.

mod support;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use support::*;
use tokio::time::{Instant, sleep_until};

const STATUS_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn verify(secret: &str, r: &Received) {
    let wh = standardwebhooks::Webhook::new(secret).unwrap();
    let mut h = http::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        h.insert(
            name,
            r.header(name)
                .unwrap_or_else(|| panic!("{name} missing"))
                .parse()
                .unwrap(),
        );
    }
    wh.verify(r.body.as_bytes(), &h)
        .expect("signature verifies with the standardwebhooks crate");
}

async fn space(api: &Api, id: &str) {
    let body = json!({"id": id, "name": id, "timezone": "Europe/Berlin", "upcomingLead": "PT2S", "noShowGrace": "PT2S", "cleaning": "PT1S"});
    let (s, v) = api.post("/v1/spaces", body).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["state"]["space"], "available_now");
    assert_eq!(v["state"]["room"], "free");
}

async fn book(
    api: &Api,
    space: &str,
    id: &str,
    t0: &jiff::Timestamp,
    s_ms: i64,
    e_ms: i64,
) -> String {
    let ts = |ms: i64| (*t0 + jiff::SignedDuration::from_millis(ms)).to_string();
    let (s, v) = api
        .post(
            "/v1/bookings",
            json!({"id": id, "spaceId": space, "start": ts(s_ms), "end": ts(e_ms), "title": id}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v["status"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_day() {
    let status = Receiver::start().await;
    status
        .fail_first
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let hooks = Receiver::start().await;
    hooks
        .fail_first
        .store(2, std::sync::atomic::Ordering::SeqCst);
    let dir = data_dir("day");
    let server = Server::start(
        &dir,
        &[
            ("ZS_STATUS_URL", status.url()),
            ("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".into()),
            ("ZS_WEBHOOK_RETRY", "0s,300ms,600ms,1s".into()),
            ("ZS_STATUS_RETRY", "0s,200ms".into()),
            ("ZS_STATUS_SECRET", STATUS_SECRET.into()),
        ],
    );
    let api = Api::new(&server.base);
    let (s, wh) = api.post("/v1/webhooks", json!({"url": hooks.url()})).await;
    assert_eq!(s, 201, "{wh}");
    let secret = wh["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    space(&api, "s1").await;
    space(&api, "s2").await;

    let t0 = now_ms();
    let start = Instant::now();
    let at = |ms: u64| start + Duration::from_millis(ms);
    assert_eq!(book(&api, "s1", "A", &t0, 3000, 6000).await, "scheduled");
    assert_eq!(book(&api, "s1", "B", &t0, 8000, 11000).await, "scheduled");
    assert_eq!(book(&api, "s2", "C", &t0, 3000, 6000).await, "scheduled");
    assert_eq!(book(&api, "s2", "D", &t0, 7000, 8000).await, "scheduled");

    sleep_until(at(1000)).await;
    assert_eq!(
        api.post("/v1/bookings/D/cancel", json!({})).await.1["status"],
        "cancelled"
    );
    sleep_until(at(1300)).await;
    let (_, s1) = api.get("/v1/spaces/s1").await;
    assert_eq!(s1["state"]["room"], "upcoming", "T-lead: room upcoming");
    sleep_until(at(3500)).await;
    assert_eq!(
        api.post("/v1/bookings/A/check-in", json!({})).await.1["status"],
        "checked_in"
    );
    assert_eq!(
        api.post("/v1/bookings/C/check-in", json!({})).await.1["status"],
        "checked_in"
    );
    let (_, s1) = api.get("/v1/spaces/s1").await;
    assert_eq!(
        (s1["state"]["space"].as_str(), s1["state"]["room"].as_str()),
        (Some("reserved"), Some("occupied"))
    );
    sleep_until(at(5000)).await;
    assert_eq!(
        api.post("/v1/bookings/C/check-out", json!({})).await.1["status"],
        "completed"
    );
    let (_, s2) = api.get("/v1/spaces/s2").await;
    assert_eq!(s2["state"]["room"], "cleaning");
    sleep_until(at(5500)).await;
    assert_eq!(
        book(&api, "s2", "E", &t0, 7500, 8500).await,
        "upcoming",
        "created inside its lead"
    );
    sleep_until(at(6500)).await;
    let (s, v) = api.post("/v1/spaces/s2/disable", json!({})).await;
    assert_eq!(
        (s, v["state"]["space"].as_str()),
        (200, Some("in-maintenance"))
    );
    let (_, s2) = api.get("/v1/spaces/s2").await;
    assert_eq!(
        s2["state"]["room"], "upcoming",
        "cleaning of C ended at 6 s; E is due at 7.5 s"
    );
    sleep_until(at(8000)).await;
    let (s, v) = api.post("/v1/spaces/s2/enable", json!({})).await;
    assert_eq!(
        (s, v["state"]["space"].as_str()),
        (200, Some("available_now"))
    );
    sleep_until(at(11500)).await;

    let mut got = HashMap::new();
    for id in ["A", "B", "C", "D", "E"] {
        let (_, b) = api.get(&format!("/v1/bookings/{id}")).await;
        got.insert(
            id,
            (
                b["status"].as_str().unwrap().to_owned(),
                b["cancelReason"].as_str().map(String::from),
            ),
        );
    }
    assert_eq!(got["A"].0, "completed");
    assert_eq!(got["B"].0, "no_show");
    assert_eq!(got["C"].0, "completed");
    assert_eq!(got["D"], ("cancelled".into(), Some("requested".into())));
    assert_eq!(
        got["E"],
        ("cancelled".into(), Some("space_in_maintenance".into()))
    );

    // s1's day, oldest first.
    let (_, h) = api.get("/v1/spaces/s1/history").await;
    let mut items: Vec<Value> = h["items"].as_array().unwrap().clone();
    items.reverse();
    let seen: Vec<String> = items
        .iter()
        .map(|t| {
            format!(
                "{} {}/{}",
                t["event"].as_str().unwrap(),
                t["spaceState"].as_str().unwrap(),
                t["roomState"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "BOOKING_CREATED available_at/free",
            "UPCOMING_REACHED available_at/upcoming",
            "START_TIME_REACHED reserved/upcoming",
            "USER_CHECKS_IN reserved/occupied",
            "END_TIME_REACHED available_at/cleaning",
            "UPCOMING_REACHED available_at/cleaning",
            "CLEANING_ENDED available_at/upcoming",
            "START_TIME_REACHED reserved/upcoming",
            "NO_SHOW_TIMEOUT available_now/free",
        ]
    );
    // Timer transitions happened at their exact instants (occurredAt is the due instant).
    let occurred = |i: usize| {
        items[i]["occurredAt"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    assert_eq!(occurred(2), t0 + jiff::SignedDuration::from_millis(3000));
    assert_eq!(occurred(8), t0 + jiff::SignedDuration::from_millis(10000));

    // Status posts: signed, per space sequences 1..n, gapless and in order, one per
    // transition; the first post failed once and was retried before any later one.
    eventually(5, "status posts", || status.all().len() >= 10).await;
    let mut per_space: HashMap<String, Vec<u64>> = HashMap::new();
    let received = status.all();
    let first = received[0].json();
    let next_of_space = received[1..]
        .iter()
        .map(|r| r.json())
        .find(|v| v["spaceId"] == first["spaceId"]);
    assert_eq!(
        next_of_space,
        Some(first),
        "the failed post is retried before its space's next one"
    );
    for r in received.iter().skip(1) {
        verify(STATUS_SECRET, r);
        let v = r.json();
        per_space
            .entry(v["spaceId"].as_str().unwrap().into())
            .or_default()
            .push(v["sequence"].as_u64().unwrap());
    }
    assert_eq!(per_space["s1"], (1..=9).collect::<Vec<u64>>());
    let s2 = &per_space["s2"];
    assert_eq!(*s2, (1..=s2.len() as u64).collect::<Vec<u64>>());

    // Webhooks: all signed, the two failures retried under the same id, every type seen.
    eventually(5, "webhook deliveries", || {
        let all = hooks.all();
        all.iter().any(|r| r.json()["type"] == "booking.no_show")
    })
    .await;
    sleep_until(Instant::now() + Duration::from_millis(1500)).await;
    let all = hooks.all();
    for r in &all {
        verify(&secret, r);
    }
    let mut ids: HashMap<String, usize> = HashMap::new();
    for r in &all {
        *ids.entry(r.header("webhook-id").unwrap().into())
            .or_default() += 1;
    }
    assert_eq!(
        ids.values().filter(|n| **n > 1).count(),
        2,
        "the two failed deliveries were retried with the same id"
    );
    let types: std::collections::BTreeSet<String> = all
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    for t in [
        "booking.created",
        "booking.start",
        "booking.checked_in",
        "booking.checked_out",
        "booking.ended",
        "booking.no_show",
        "booking.cancelled",
        "space.state_changed",
        "room.state_changed",
    ] {
        assert!(types.contains(t), "no {t} webhook: {types:?}");
    }
    let start_a = all
        .iter()
        .find(|r| r.json()["type"] == "booking.start" && r.json()["data"]["bookingId"] == "A")
        .unwrap();
    assert!(
        start_a.at >= t0 + jiff::SignedDuration::from_millis(1000),
        "booking.start not before T-lead"
    );
    assert_eq!(start_a.json()["data"]["spaceId"], "s1");
    assert!(
        start_a.json()["data"]["start"].is_string() && start_a.json()["data"]["end"].is_string()
    );

    // The delivery log shows the failed attempts.
    let (_, d) = api
        .get(&format!(
            "/v1/webhooks/{}/deliveries",
            wh["id"].as_str().unwrap()
        ))
        .await;
    let failed_attempts: usize = d["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x["log"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["success"] == false)
                .count()
        })
        .sum();
    assert_eq!(failed_attempts, 2);
    assert!(server.stop().success(), "SIGTERM ends the process cleanly");
}
