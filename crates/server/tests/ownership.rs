//! End to end on the embedded store: a member acts on its own booking only, and a deleted
//! space's pending timer (the cleaning after an early check-out) never fires, while the
//! status posts already queued for it still arrive; the id created again continues the
//! sequence, and nothing is logged at ERROR.

mod support;

use serde_json::json;
use std::time::Duration;
use support::*;

async fn mint(api: &Api, role: &str) -> Api {
    let (s, v) = api.post("/v1/tokens", json!({"role": role})).await;
    assert_eq!(s, 201, "{v}");
    Api {
        token: v["token"].as_str().unwrap().to_owned(),
        ..Api::new(&api.base)
    }
}

fn posts_of(status: &Receiver, space: &str) -> Vec<(u64, String)> {
    status
        .all()
        .iter()
        .map(|r| r.json())
        .filter(|p| p["spaceId"] == space)
        .map(|p| {
            (
                p["sequence"].as_u64().unwrap(),
                p["event"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_space_fires_nothing_and_its_id_continues() {
    let status = Receiver::start().await;
    let dir = data_dir("ownership");
    let server = Server::start(&dir, &[("ZS_STATUS_URL", status.url())]);
    let admin = Api::new(&server.base);
    let member = mint(&admin, "member").await;
    let stranger = mint(&admin, "member").await;

    let space = json!({"id": "gone", "name": "Gone", "timezone": "UTC", "cleaning": "PT2S"});
    assert_eq!(admin.post("/v1/spaces", space.clone()).await.0, 201);
    let booking = json!({"id": "g1", "spaceId": "gone", "start": at(60_000), "end": at(120_000)});
    let (s, v) = member.post("/v1/bookings", booking).await;
    assert_eq!(s, 201, "{v}");

    // Someone else's booking is an unknown id to another member.
    let (s, v) = stranger.post("/v1/bookings/g1/cancel", json!({})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")));
    assert_eq!(v["error"]["message"], "booking g1 not found");

    for step in ["check-in", "check-out"] {
        let (s, v) = member
            .post(&format!("/v1/bookings/g1/{step}"), json!({}))
            .await;
        assert_eq!(s, 200, "{step}: {v}");
    }
    let (_, v) = admin.get("/v1/spaces/gone").await;
    assert_eq!(v["state"]["room"], "cleaning", "{v}");
    let last = v["state"]["sequence"].as_u64().unwrap();

    // The cleaning ends in 2 s: delete the space before that.
    let (s, v) = admin
        .call(reqwest::Method::DELETE, "/v1/spaces/gone", None)
        .await;
    assert_eq!(s, 204, "{v}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let posts = posts_of(&status, "gone");
    assert!(
        posts
            .iter()
            .all(|(seq, event)| *seq <= last && event != "CLEANING_ENDED"),
        "a timer fired for the deleted space: {posts:?}"
    );
    eventually(10, "the queued status posts are delivered", || {
        posts_of(&status, "gone").len() as u64 == last
    })
    .await;
    assert_eq!(admin.get("/v1/spaces/gone").await.0, 404);
    assert_eq!(admin.get("/v1/bookings/g1").await.0, 404);

    // The id again: a new space whose first transition is above the deleted one's.
    let (s, v) = admin.post("/v1/spaces", space).await;
    assert_eq!(s, 201, "{v}");
    let booking = json!({"id": "g2", "spaceId": "gone", "start": at(600_000), "end": at(660_000)});
    assert_eq!(member.post("/v1/bookings", booking).await.0, 201);
    eventually(10, "the new space's first status post", || {
        posts_of(&status, "gone")
            .iter()
            .any(|(seq, event)| *seq == last + 1 && event == "BOOKING_CREATED")
    })
    .await;

    let log = server.log.lock().unwrap().clone();
    assert!(
        log.iter().all(|l| !l.contains(" ERROR ")),
        "an ERROR line: {log:#?}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
