//! Two (and twenty) simultaneous conflicting creates over real HTTP: exactly one wins.

mod support;

use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_conflicting_creates_have_exactly_one_winner() {
    let dir = data_dir("race");
    let server = Server::start(&dir, &[]);
    let api = Api::new(&server.base);
    assert_eq!(
        api.post(
            "/v1/spaces",
            json!({"id": "r", "name": "r", "timezone": "UTC"})
        )
        .await
        .0,
        201
    );
    for round in 0..5 {
        let start = at(3_600_000 * (round + 1));
        let end = at(3_600_000 * (round + 1) + 1_800_000);
        let mut tasks = vec![];
        for i in 0..20 {
            let (base, start, end) = (server.base.clone(), start.clone(), end.clone());
            tasks.push(tokio::spawn(async move {
                let api = Api::new(&base);
                api.post("/v1/bookings", json!({"id": format!("r{round}-{i}"), "spaceId": "r", "start": start, "end": end})).await
            }));
        }
        let mut codes = vec![];
        for t in tasks {
            let (s, v) = t.await.unwrap();
            if s == 409 {
                assert_eq!(v["error"]["code"], "booking_conflict");
            }
            codes.push(s);
        }
        assert_eq!(
            codes.iter().filter(|s| **s == 201).count(),
            1,
            "round {round}: {codes:?}"
        );
        assert_eq!(codes.iter().filter(|s| **s == 409).count(), 19);
    }
    let (_, list) = api.get("/v1/bookings?spaceId=r").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
}
