//! Drives every route with valid and invalid requests; the harness checks each answer
//! against the document as it comes.

use super::harness::{ADMIN, Api, receiver};
use axum::body::Body;
use axum::http::Method;
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn hours() -> Value {
    let day = json!([{"open": "08:00", "close": "18:00"}]);
    json!({"mon": day, "tue": day, "wed": [{"open": "08:00", "close": "12:00"}, {"open": "13:00", "close": "24:00"}],
           "thu": day, "fri": day, "sat": [], "sun": []})
}

/// Operations: the document itself, liveness, readiness both ways, metrics.
pub async fn operations(api: &mut Api) {
    api.ok("", Method::GET, "/openapi.json", None).await;
    assert_eq!(api.ok("", Method::GET, "/healthz", None).await, "ok");
    assert_eq!(api.ok("", Method::GET, "/readyz", None).await, "ready");
    api.probe_down.store(true, Ordering::SeqCst);
    let (s, v) = api.call("", Method::GET, "/readyz", None).await;
    assert_eq!(s, 503, "{v}");
    api.probe_down.store(false, Ordering::SeqCst);
    api.ok("", Method::GET, "/metrics", None).await;
}

/// Spaces, with each kind of refusal.
pub async fn spaces(api: &mut Api) {
    let m = api.member.clone();
    let s1 = json!({"id": "s1", "name": "Room 1", "timezone": "Europe/Berlin", "businessHours": hours(),
                    "upcomingLead": "PT15M", "noShowGrace": "PT10M", "cleaning": "PT10M"});
    let v = api
        .ok(ADMIN, Method::POST, "/v1/spaces", Some(s1.clone()))
        .await;
    assert_eq!(v["businessHours"]["sat"], json!([]));
    // Lower-case designators are ISO-8601 too: the server and the document both take them.
    let s2 = json!({"id": "s2", "name": "Booth", "timezone": "UTC", "upcomingLead": "pt5m",
                    "noShowGrace": "PT1M30S", "cleaning": "PT90.5S"});
    let v = api.ok(ADMIN, Method::POST, "/v1/spaces", Some(s2)).await;
    assert_eq!(v["businessHours"], Value::Null);
    api.ok(
        ADMIN,
        Method::POST,
        "/v1/spaces",
        Some(json!({"name": "Generated id", "timezone": "UTC"})),
    )
    .await;
    api.refused(
        ADMIN,
        Method::POST,
        "/v1/spaces",
        Some(s1),
        409,
        "already_exists",
    )
    .await;
    let bad = json!({"id": "s9", "name": "x", "timezone": "UTC", "cleaning": "5m"});
    api.refused(
        ADMIN,
        Method::POST,
        "/v1/spaces",
        Some(bad),
        422,
        "invalid_duration",
    )
    .await;
    let bad = json!({"id": "s9", "name": "x", "timezone": "UTC", "businessHours": {"mon": [{"open": "8:00", "close": "18:00"}]}});
    api.refused(
        ADMIN,
        Method::POST,
        "/v1/spaces",
        Some(bad),
        422,
        "invalid_business_hours",
    )
    .await;
    let bad = json!({"name": "x", "timezone": "UTC"});
    api.refused(
        &m,
        Method::POST,
        "/v1/spaces",
        Some(bad.clone()),
        403,
        "forbidden",
    )
    .await;
    api.refused(
        "",
        Method::POST,
        "/v1/spaces",
        Some(bad.clone()),
        401,
        "unauthorized",
    )
    .await;
    let a = api
        .send(
            ADMIN,
            Method::POST,
            "/v1/spaces",
            Body::from("{not json"),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    let a = api
        .send(
            ADMIN,
            Method::POST,
            "/v1/spaces",
            Body::from(bad.to_string()),
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(a.status, 415);
    let huge = json!({"name": "x".repeat(70 * 1024), "timezone": "UTC"});
    let a = api
        .send(
            ADMIN,
            Method::POST,
            "/v1/spaces",
            Body::from(huge.to_string()),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(a.status, 413);

    let v = api.ok(&m, Method::GET, "/v1/spaces", None).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
    api.ok(&api.device.clone(), Method::GET, "/v1/spaces/s1", None)
        .await;
    api.refused(&m, Method::GET, "/v1/spaces/nope", None, 404, "not_found")
        .await;
    api.refused(&m, Method::GET, "/v1/spaces/%FF", None, 400, "invalid_path")
        .await;
    let patch = json!({"name": "Room 1 (2nd floor)", "businessHours": hours(), "cleaning": "PT5M"});
    api.ok(ADMIN, Method::PATCH, "/v1/spaces/s1", Some(patch))
        .await;
    api.ok(
        ADMIN,
        Method::PATCH,
        "/v1/spaces/s2",
        Some(json!({"businessHours": null})),
    )
    .await;
    api.refused(
        ADMIN,
        Method::PATCH,
        "/v1/spaces/s1",
        Some(json!({"timezone": "Mars/Olympus"})),
        422,
        "invalid_timezone",
    )
    .await;
    api.refused(
        ADMIN,
        Method::PATCH,
        "/v1/spaces/s1",
        Some(json!({"colour": "red"})),
        422,
        "invalid_body",
    )
    .await;
    api.ok(ADMIN, Method::POST, "/v1/spaces/s2/disable", None)
        .await;
    api.refused(
        ADMIN,
        Method::POST,
        "/v1/spaces/s2/disable",
        None,
        409,
        "already_in_maintenance",
    )
    .await;
    api.ok(ADMIN, Method::POST, "/v1/spaces/s2/enable", None)
        .await;
    api.refused(
        ADMIN,
        Method::POST,
        "/v1/spaces/s2/enable",
        None,
        409,
        "not_in_maintenance",
    )
    .await;
}

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
        .ok(&m, Method::POST, "/v1/bookings/b1/check-out", None)
        .await;
    assert_eq!(v["status"], "completed");
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
}

/// Tokens.
pub async fn tokens(api: &mut Api) {
    let m = api.member.clone();
    api.ok(
        ADMIN,
        Method::POST,
        "/v1/tokens",
        Some(json!({"role": "device"})),
    )
    .await;
    api.refused(
        ADMIN,
        Method::POST,
        "/v1/tokens",
        Some(json!({"role": "admin"})),
        422,
        "invalid_role",
    )
    .await;
    api.refused(
        &m,
        Method::POST,
        "/v1/tokens",
        Some(json!({"role": "member"})),
        403,
        "forbidden",
    )
    .await;
}

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
    // Something to deliver: a space, a booking, its check-in.
    let s = json!({"id": "w1", "name": "Hook room", "timezone": "UTC", "upcomingLead": "PT15M"});
    api.ok(ADMIN, Method::POST, "/v1/spaces", Some(s)).await;
    let b = json!({"id": "wb1", "spaceId": "w1", "start": api.at(5), "end": api.at(35)});
    api.ok(ADMIN, Method::POST, "/v1/bookings", Some(b)).await;
    api.ok(ADMIN, Method::POST, "/v1/bookings/wb1/check-in", None)
        .await;
    while api
        .engine
        .run_outbox_once(zs_store::jobs::WEBHOOK_DELIVERIES)
        .await
        .unwrap()
        > 0
    {}
    let v = api.ok(ADMIN, Method::GET, "/v1/webhooks", None).await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
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
    ] {
        assert!(types.contains(kind), "no {kind} webhook arrived: {types:?}");
    }
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
