//! Drives the webhook routes against a real receiver and checks what it receives against
//! the document's `webhooks`.

use super::harness::{ADMIN, Api, receiver};
use axum::http::Method;
use serde_json::json;

/// Webhook endpoints, a delivery that succeeds and one that fails, its replay, and the
/// bodies the receiver got checked against the document's `webhooks`.
pub async fn webhooks(api: &mut Api) {
    let (base, got) = receiver().await;
    let ok = api
        .ok(
            ADMIN,
            Method::POST,
            "/v1/webhooks",
            Some(json!({"url": format!("{base}/ok")})),
        )
        .await;
    assert!(ok["secret"].as_str().unwrap().starts_with("whsec_"));
    let fail = json!({"url": format!("{base}/fail"), "events": ["booking.created"]});
    let fail = api
        .ok(ADMIN, Method::POST, "/v1/webhooks", Some(fail))
        .await;
    let bad = json!({"url": "https://example.com/h", "events": ["booking.exploded"]});
    api.refused(
        ADMIN,
        Method::POST,
        "/v1/webhooks",
        Some(bad),
        422,
        "invalid_event_type",
    )
    .await;
    api.refused(
        ADMIN,
        Method::POST,
        "/v1/webhooks",
        Some(json!({"url": "ftp://x"})),
        422,
        "invalid_url",
    )
    .await;
    // A rotated endpoint: a new secret, once; the deliveries below carry two signatures.
    let ok_path = format!("/v1/webhooks/{}/rotate", ok["id"].as_str().unwrap());
    let rotated = api.ok(ADMIN, Method::POST, &ok_path, None).await;
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_"), "{rotated}");
    assert_ne!(new_secret, ok["secret"].as_str().unwrap());
    assert!(rotated["previousSecretExpiresAt"].is_string(), "{rotated}");
    api.refused(
        ADMIN,
        Method::POST,
        "/v1/webhooks/ep_nope/rotate",
        None,
        404,
        "not_found",
    )
    .await;
    // Something to deliver: a space, a booking, its check-in.
    let s = json!({"id": "w1", "name": "Hook room", "timezone": "UTC", "upcomingLead": "PT15M"});
    api.ok(ADMIN, Method::POST, "/v1/spaces", Some(s)).await;
    let b = json!({"id": "wb1", "spaceId": "w1", "start": api.at(5), "end": api.at(35)});
    api.ok(ADMIN, Method::POST, "/v1/bookings", Some(b)).await;
    api.ok(ADMIN, Method::POST, "/v1/bookings/wb1/check-in", None)
        .await;
    // A series released at its first no-show (`noShowStrikes: 1`): the second occurrence is
    // cancelled and `series.released` sent.
    let s = json!({"id": "w2", "name": "Strike room", "timezone": "UTC", "noShowStrikes": 1});
    api.ok(ADMIN, Method::POST, "/v1/spaces", Some(s)).await;
    let series = json!({"id": "ws", "spaceId": "w2", "start": api.at(5), "end": api.at(35),
        "rrule": "FREQ=DAILY;COUNT=2"});
    api.ok(ADMIN, Method::POST, "/v1/series", Some(series))
        .await;
    // The first occurrence's no-show: 5 minutes to its start, 10 of grace.
    let no_show = zs_core::Clock::now(&api.clock) + jiff::SignedDuration::from_mins(15);
    api.clock.set(no_show + jiff::SignedDuration::from_mins(1));
    api.engine.run_due_timers().await.unwrap();
    let v = api.ok(ADMIN, Method::GET, "/v1/series/ws", None).await;
    assert_eq!(v["noShows"], 1, "{v}");
    assert_eq!(v["releasedAt"], json!(no_show.to_string()), "{v}");
    let second = api.ok(ADMIN, Method::GET, "/v1/bookings/ws-2", None).await;
    assert_eq!(
        (&second["status"], &second["cancelReason"]),
        (&json!("cancelled"), &json!("no_show_strikes")),
        "{second}"
    );
    while api
        .engine
        .run_outbox_once(zs_store::Queue::WebhookDeliveries)
        .await
        .unwrap()
        > 0
    {}
    let v = api.ok(ADMIN, Method::GET, "/v1/webhooks", None).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    for item in v["items"].as_array().unwrap() {
        assert!(item.get("secret").is_none(), "a listed secret: {item}");
    }
    let signatures = got
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            let (_, v) = r
                .headers
                .iter()
                .find(|(h, _)| h == "webhook-signature")
                .unwrap();
            v.split(' ').count()
        })
        .collect::<std::collections::BTreeSet<_>>();
    // The rotated endpoint's deliveries carry two signatures, the other one's one.
    assert_eq!(signatures, [1, 2].into(), "signatures per delivery");
    let ok_id = ok["id"].as_str().unwrap();
    let v = api
        .ok(
            ADMIN,
            Method::GET,
            &format!("/v1/webhooks/{ok_id}/deliveries"),
            None,
        )
        .await;
    assert!(v["items"].as_array().unwrap().len() >= 3, "{v}");
    let fail_id = fail["id"].as_str().unwrap();
    let v = api
        .ok(
            ADMIN,
            Method::GET,
            &format!("/v1/webhooks/{fail_id}/deliveries"),
            None,
        )
        .await;
    let failed = v["items"][0].clone();
    assert_eq!(failed["lastStatus"], 500, "{v}");
    let id = failed["id"].as_str().unwrap();
    api.ok(
        ADMIN,
        Method::POST,
        &format!("/v1/deliveries/{id}/retry"),
        None,
    )
    .await;
    api.refused(
        ADMIN,
        Method::POST,
        "/v1/deliveries/msg_nope/retry",
        None,
        404,
        "not_found",
    )
    .await;
    api.refused(
        ADMIN,
        Method::GET,
        "/v1/webhooks/ep_nope/deliveries",
        None,
        404,
        "not_found",
    )
    .await;
    api.ok(
        ADMIN,
        Method::DELETE,
        &format!("/v1/webhooks/{fail_id}"),
        None,
    )
    .await;
    api.refused(
        ADMIN,
        Method::DELETE,
        &format!("/v1/webhooks/{fail_id}"),
        None,
        404,
        "not_found",
    )
    .await;

    let got = std::mem::take(&mut *got.lock().unwrap());
    let mut types = std::collections::BTreeSet::new();
    for r in &got {
        let kind = r.body["type"].as_str().expect("a webhook type").to_owned();
        let op = &api.doc.raw["webhooks"][&kind]["post"];
        assert!(
            op.is_object(),
            "{kind} is not among the document's webhooks"
        );
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        if let Err(e) = api.doc.validate(schema, &r.body) {
            panic!(
                "webhook {kind} drifts from the document: {e}\n  body: {}",
                r.body
            );
        }
        for p in op["parameters"].as_array().unwrap() {
            let name = p["name"].as_str().unwrap();
            let value = r.headers.iter().find(|(h, _)| h == name).map(|(_, v)| v);
            let value = value.unwrap_or_else(|| panic!("{kind}: no {name} header"));
            api.doc.validate(&p["schema"], &json!(value)).unwrap();
        }
        types.insert(kind);
    }
    for kind in [
        "booking.created",
        "booking.checked_in",
        "space.state_changed",
        "room.state_changed",
        "series.released",
    ] {
        assert!(types.contains(kind), "no {kind} webhook arrived: {types:?}");
    }
}
