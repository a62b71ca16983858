//! Drives bookings, the user events, history, availability, utilisation and the event stream; the
//! harness checks each answer against the document as it comes.

use super::harness::{ADMIN, Api};
use axum::body::Body;
use axum::http::Method;
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;

/// Bookings and the user events, history and availability.
pub async fn bookings(api: &mut Api) {
    let (m, d) = (api.member.clone(), api.device.clone());
    let b1 = json!({"id": "b1", "spaceId": "s1", "start": api.at(10), "end": api.at(40), "title": "Stand-up"});
    let key = [("idempotency-key", "create-b1")];
    let (s, first) = api
        .call_with(&m, Method::POST, "/v1/bookings", Some(b1.clone()), &key)
        .await;
    assert_eq!(s, 201, "{first}");
    let (s, again) = api
        .call_with(&m, Method::POST, "/v1/bookings", Some(b1.clone()), &key)
        .await;
    assert_eq!((s, &again), (201, &first));
    let other = json!({"id": "b9", "spaceId": "s1", "start": api.at(300), "end": api.at(320)});
    let (s, v) = api
        .call_with(&m, Method::POST, "/v1/bookings", Some(other), &key)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_request"))
    );
    let long_key = "k".repeat(256);
    let (s, v) = api
        .call_with(
            &m,
            Method::POST,
            "/v1/bookings",
            Some(b1.clone()),
            &[("idempotency-key", &long_key)],
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_idempotency_key"))
    );
    let b2 = json!({"id": "b2", "spaceId": "s1", "start": api.at(120), "end": api.at(150)});
    api.ok(&m, Method::POST, "/v1/bookings", Some(b2)).await;
    let b3 = json!({"spaceId": "s2", "start": api.at(60), "end": api.at(90)});
    api.ok(ADMIN, Method::POST, "/v1/bookings", Some(b3)).await;
    api.refused(
        ADMIN,
        Method::DELETE,
        "/v1/spaces/s2",
        None,
        409,
        "space_has_live_bookings",
    )
    .await;
    let clash = json!({"id": "b4", "spaceId": "s1", "start": api.at(30), "end": api.at(60)});
    api.refused(
        &m,
        Method::POST,
        "/v1/bookings",
        Some(clash),
        409,
        "booking_conflict",
    )
    .await;
    let bad = json!({"spaceId": "s1", "start": "tomorrow", "end": api.at(60)});
    api.refused(
        &m,
        Method::POST,
        "/v1/bookings",
        Some(bad),
        422,
        "invalid_time",
    )
    .await;
    let past = json!({"spaceId": "s1", "start": api.at(-60), "end": api.at(-30)});
    api.refused(
        &m,
        Method::POST,
        "/v1/bookings",
        Some(past),
        422,
        "booking_in_past",
    )
    .await;
    let nowhere = json!({"spaceId": "nope", "start": api.at(60), "end": api.at(90)});
    api.refused(
        &m,
        Method::POST,
        "/v1/bookings",
        Some(nowhere),
        404,
        "not_found",
    )
    .await;
    let b5 = json!({"spaceId": "s1", "start": api.at(200), "end": api.at(230)});
    api.refused(&d, Method::POST, "/v1/bookings", Some(b5), 403, "forbidden")
        .await;

    let from = api.at(-60);
    let v = api
        .ok(
            &m,
            Method::GET,
            &format!("/v1/bookings?spaceId=s1&from={from}&limit=10"),
            None,
        )
        .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    api.refused(
        &m,
        Method::GET,
        "/v1/bookings?limit=many",
        None,
        400,
        "invalid_query",
    )
    .await;
    api.refused(
        &m,
        Method::GET,
        "/v1/bookings?from=yesterday",
        None,
        422,
        "invalid_time",
    )
    .await;
    api.ok(&m, Method::GET, "/v1/bookings/b1", None).await;
    api.refused(&m, Method::GET, "/v1/bookings/nope", None, 404, "not_found")
        .await;

    let v = api
        .ok(&d, Method::POST, "/v1/bookings/b1/check-in", None)
        .await;
    assert_eq!(v["status"], "checked_in");
    api.refused(
        &d,
        Method::POST,
        "/v1/bookings/b1/check-in",
        None,
        409,
        "already_checked_in",
    )
    .await;
    api.refused(
        &d,
        Method::POST,
        "/v1/bookings/b2/check-out",
        None,
        409,
        "not_checked_in",
    )
    .await;
    let v = api
        .ok(
            &d,
            Method::POST,
            "/v1/bookings/b1/extend",
            Some(json!({"end": api.at(50)})),
        )
        .await;
    assert_eq!(v["end"].as_str(), Some(api.at(50).as_str()));
    let late = json!({"end": api.at(125)});
    api.refused(
        &m,
        Method::POST,
        "/v1/bookings/b1/extend",
        Some(late),
        409,
        "booking_conflict",
    )
    .await;
    let early = json!({"end": api.at(45)});
    api.refused(
        &m,
        Method::POST,
        "/v1/bookings/b1/extend",
        Some(early),
        422,
        "end_not_later",
    )
    .await;
    let v = api
        .ok(&m, Method::POST, "/v1/bookings/b1/check-out", None)
        .await;
    assert_eq!(v["status"], "completed");
    let walk = json!({"id": "walk", "name": "Walk-up", "timezone": "UTC"});
    api.ok(ADMIN, Method::POST, "/v1/spaces", Some(walk)).await;
    let now = json!({"duration": "PT30M", "title": "Quick"});
    let v = api
        .ok(
            &m,
            Method::POST,
            "/v1/spaces/walk/book-now",
            Some(now.clone()),
        )
        .await;
    assert_eq!(v["status"], "checked_in");
    api.refused(
        &d,
        Method::POST,
        "/v1/spaces/walk/book-now",
        Some(now),
        409,
        "booking_conflict",
    )
    .await;
    let bad = json!({"duration": "soon"});
    api.refused(
        &m,
        Method::POST,
        "/v1/spaces/walk/book-now",
        Some(bad),
        422,
        "invalid_duration",
    )
    .await;
    let v = api
        .ok(&m, Method::POST, "/v1/bookings/b2/cancel", None)
        .await;
    assert_eq!(
        (&v["status"], &v["cancelReason"]),
        (&json!("cancelled"), &json!("requested"))
    );
    api.refused(
        &m,
        Method::POST,
        "/v1/bookings/b2/cancel",
        None,
        409,
        "booking_finished",
    )
    .await;
    api.refused(
        &m,
        Method::POST,
        "/v1/bookings/nope/cancel",
        None,
        404,
        "not_found",
    )
    .await;

    let v = api
        .ok(&d, Method::GET, "/v1/spaces/s1/history?limit=50", None)
        .await;
    assert!(v["items"].as_array().unwrap().len() >= 3, "{v}");
    api.refused(
        &d,
        Method::GET,
        "/v1/spaces/nope/history",
        None,
        404,
        "not_found",
    )
    .await;
    let (from, to) = (api.at(0), api.at(24 * 60));
    let v = api
        .ok(
            &d,
            Method::GET,
            &format!("/v1/spaces/s1/availability?from={from}&to={to}"),
            None,
        )
        .await;
    assert!(!v["items"].as_array().unwrap().is_empty(), "{v}");
    api.ok(&d, Method::GET, "/v1/spaces/s2/availability", None)
        .await;
    let path = format!("/v1/spaces/s1/availability?from={to}&to={from}");
    api.refused(&d, Method::GET, &path, None, 422, "invalid_range")
        .await;
    utilisation(api, &from, &to).await;
}

/// Utilisation of one space and of all, and their refusals.
async fn utilisation(api: &mut Api, from: &str, to: &str) {
    let m = api.member.clone();
    let v = api
        .ok(
            &m,
            Method::GET,
            &format!("/v1/spaces/s1/utilisation?from={from}&to={to}"),
            None,
        )
        .await;
    assert_eq!(v["spaces"][0]["spaceId"], "s1", "{v}");
    let v = api
        .ok(
            &m,
            Method::GET,
            &format!("/v1/utilisation?from={from}&to={to}"),
            None,
        )
        .await;
    assert!(v["spaces"].as_array().unwrap().len() >= 2, "{v}");
    let backwards = format!("/v1/utilisation?from={to}&to={from}");
    api.refused(&m, Method::GET, &backwards, None, 422, "invalid_range")
        .await;
    let unknown = format!("/v1/spaces/nope/utilisation?from={from}&to={to}");
    api.refused(&m, Method::GET, &unknown, None, 404, "not_found")
        .await;
    let bad = format!("/v1/spaces/s1/utilisation?from=yesterday&to={to}");
    api.refused(&m, Method::GET, &bad, None, 422, "invalid_time")
        .await;
    api.refused(
        &m,
        Method::GET,
        "/v1/utilisation",
        None,
        400,
        "invalid_query",
    )
    .await;
}

/// The event stream: its answer, and `transition` events whose data is a `TransitionEvent`.
pub async fn events(api: &mut Api) {
    use tower::ServiceExt;
    let req = axum::http::Request::get("/v1/events")
        .header("authorization", format!("Bearer {}", api.device))
        .body(Body::empty())
        .unwrap();
    let resp = api.app.clone().oneshot(req).await.unwrap();
    let ctype = resp.headers()["content-type"].to_str().unwrap().to_owned();
    api.doc
        .check(
            "get",
            "/v1/events",
            resp.status().as_u16(),
            Some(&ctype),
            b"",
        )
        .unwrap();
    let mut body = resp.into_body().into_data_stream();
    let b = json!({"id": "e1", "spaceId": "s2", "start": api.at(3), "end": api.at(20)});
    api.ok(ADMIN, Method::POST, "/v1/bookings", Some(b)).await;
    api.ok(ADMIN, Method::POST, "/v1/bookings/e1/check-in", None)
        .await;
    let mut text = String::new();
    let mut seen = 0;
    while seen < 2 {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
            .await
            .expect("a transition within 10 s")
            .expect("the stream stays open")
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if !event.contains("event: transition") {
                continue;
            }
            let data = event
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap();
            let data: Value = serde_json::from_str(data).unwrap();
            let schema = json!({"$ref": "#/components/schemas/TransitionEvent"});
            if let Err(e) = api.doc.validate(&schema, &data) {
                panic!("a transition event drifts from TransitionEvent: {e}\n  data: {data}");
            }
            seen += 1;
        }
    }
}

/// `/v1/series`: made (refused and skipped occurrences), read, cancelled from an instant and
/// whole; each answer is checked against the document as it comes.
pub async fn series(api: &mut Api) {
    let m = api.member.clone();
    let room = json!({"id": "s9", "name": "Series room", "timezone": "Europe/Berlin"});
    api.ok(ADMIN, Method::POST, "/v1/spaces", Some(room)).await;
    let day = 24 * 60;
    let daily = json!({"id": "sr1", "spaceId": "s9", "start": api.at(3 * day), "end": api.at(3 * day + 30),
        "title": "Sync", "rrule": "FREQ=DAILY;COUNT=3"});
    let made = api.ok(&m, Method::POST, "/v1/series", Some(daily)).await;
    assert_eq!(made["occurrences"].as_array().unwrap().len(), 3, "{made}");
    // A booking in the way of the second occurrence of the next two.
    let blocker = json!({"id": "sb", "spaceId": "s9", "start": api.at(4 * day + 60), "end": api.at(4 * day + 90)});
    api.ok(&m, Method::POST, "/v1/bookings", Some(blocker))
        .await;
    let next = |id: &str, conflicts: &str| {
        json!({"id": id, "spaceId": "s9", "start": api.at(3 * day + 60), "end": api.at(3 * day + 90),
            "rrule": "FREQ=DAILY;COUNT=2", "conflicts": conflicts})
    };
    let (refuse, skip) = (next("sr2", "refuse"), next("sr3", "skip"));
    api.refused(
        &m,
        Method::POST,
        "/v1/series",
        Some(refuse),
        409,
        "booking_conflict",
    )
    .await;
    let v = api.ok(&m, Method::POST, "/v1/series", Some(skip)).await;
    assert_eq!(v["skipped"][0]["code"], "booking_conflict", "{v}");
    api.refused(
        &m,
        Method::POST,
        "/v1/series",
        Some(json!({"spaceId": "s9", "start": api.at(day), "end": api.at(day + 30), "rrule": "FREQ=HOURLY;COUNT=2"})),
        422,
        "invalid_rrule",
    )
    .await;
    api.ok(&m, Method::GET, "/v1/series/sr1", None).await;
    api.refused(&m, Method::GET, "/v1/series/nope", None, 404, "not_found")
        .await;
    let from = json!({"from": api.at(4 * day)});
    let v = api
        .ok(&m, Method::POST, "/v1/series/sr1/cancel", Some(from))
        .await;
    assert_eq!(v["occurrences"].as_array().unwrap().len(), 2, "{v}");
    api.ok(&m, Method::POST, "/v1/series/sr3/cancel", None)
        .await;
}
