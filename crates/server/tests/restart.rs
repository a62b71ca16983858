//! Crash safety: SIGKILL the real binary while timers are pending, start it again on the
//! same data directory, and check every timer fired exactly once, in order, none early.

mod support;

use serde_json::json;
use std::time::Duration;
use support::*;

async fn setup_space(api: &Api, id: &str) {
    let body = json!({"id": id, "name": id, "timezone": "UTC", "upcomingLead": "PT1S", "noShowGrace": "PT1S", "cleaning": "PT1S"});
    assert_eq!(api.post("/v1/spaces", body).await.0, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_nothing_and_fires_nothing_twice() {
    let dir = data_dir("kill");
    let server = Server::start(&dir, &[]);
    let api = Api::new(&server.base);
    let t0 = now_ms();
    let ts = |ms: i64| (t0 + jiff::SignedDuration::from_millis(ms)).to_string();
    for (space, s, e) in [("x", 2000, 4000), ("y", 3000, 5000), ("z", 6000, 7000)] {
        setup_space(&api, space).await;
        let (st, v) = api
            .post(
                "/v1/bookings",
                json!({"id": format!("b-{space}"), "spaceId": space, "start": ts(s), "end": ts(e)}),
            )
            .await;
        assert_eq!(st, 201, "{v}");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, x) = api.get("/v1/spaces/x").await;
    assert_eq!(
        x["state"]["room"], "upcoming",
        "x's UPCOMING_REACHED fired before the kill"
    );
    server.kill();

    // Down while x's start and no-show, y's whole plan and z's upcoming come due.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    let restarted = std::time::Instant::now();
    let server = Server::start(&dir, &[]);
    let api = Api::new(&server.base);
    let mut done = false;
    for _ in 0..100 {
        let (_, z) = api.get("/v1/bookings/b-z").await;
        let (_, y) = api.get("/v1/bookings/b-y").await;
        if z["status"] == "no_show" && y["status"] == "no_show" {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(done, "every booking ended after the restart");
    assert!(restarted.elapsed() < Duration::from_secs(10));

    for (space, start_ms) in [("x", 2000i64), ("y", 3000), ("z", 6000)] {
        let (_, h) = api.get(&format!("/v1/spaces/{space}/history")).await;
        let ev = history_events(&h);
        let names: Vec<&str> = ev.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "BOOKING_CREATED",
                "UPCOMING_REACHED",
                "START_TIME_REACHED",
                "NO_SHOW_TIMEOUT"
            ],
            "{space}: each timer exactly once"
        );
        let seqs: Vec<u64> = ev.iter().map(|e| e.2).collect();
        assert_eq!(seqs, [1, 2, 3, 4], "{space}: gapless sequence");
        let when = |i: usize| ev[i].1.parse::<jiff::Timestamp>().unwrap();
        let start = t0 + jiff::SignedDuration::from_millis(start_ms);
        assert_eq!(
            when(1),
            start - jiff::SignedDuration::from_secs(1),
            "{space}: upcoming at its instant"
        );
        assert_eq!(when(2), start, "{space}: start at its instant");
        assert_eq!(
            when(3),
            start + jiff::SignedDuration::from_secs(1),
            "{space}: no-show at its instant"
        );
    }
    assert!(server.stop().success());
}
