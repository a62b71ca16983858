//! The API without a socket: a role × route table, bad input refused with clear 4xx and
//! nothing stored, idempotency, and the OpenAPI document.

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;
use support::{ADMIN, App};
use tower::ServiceExt;
use zs_api::limit::LimitConfig;
use zs_engine::testing::TestEngine;
use zs_store::Backend;

/// The app, with a member's and a device's token.
struct Harness {
    api: App,
    member: String,
    device: String,
}

impl std::ops::Deref for Harness {
    type Target = App;
    fn deref(&self) -> &App {
        &self.api
    }
}

async fn harness(db: Backend) -> Harness {
    harness_with(db, vec![], LimitConfig::default()).await
}

async fn harness_with(
    db: Backend,
    probes: Vec<(&'static str, zs_api::Probe)>,
    limits: LimitConfig,
) -> Harness {
    let api = App::with(TestEngine::on(db).label("api"), probes, limits).await;
    let member = token_of(&api, "member").await;
    let device = token_of(&api, "device").await;
    Harness {
        api,
        member,
        device,
    }
}

/// A new token of `role`.
async fn token_of(api: &App, role: &str) -> String {
    let v = api
        .ok(Method::POST, "/v1/tokens", Some(json!({"role": role})))
        .await;
    v["token"].as_str().unwrap().into()
}

impl Harness {
    fn at(&self, mins: i64) -> String {
        (self.clock_now() + SignedDuration::from_mins(mins)).to_string()
    }
    fn clock_now(&self) -> Timestamp {
        zs_core::Clock::now(&self.clock)
    }
}

fn space_body(id: &str) -> Value {
    json!({"id": id, "name": "Room", "timezone": "Europe/Berlin",
           "businessHours": {"mon": [{"open": "08:00", "close": "18:00"}], "tue": [{"open": "08:00", "close": "18:00"}]}})
}

async fn every_route_enforces_its_roles(db: Backend) {
    let h = harness(db).await;
    assert_eq!(
        h.call(ADMIN, Method::POST, "/v1/spaces", Some(space_body("s1")))
            .await
            .0,
        StatusCode::CREATED
    );
    let booking = json!({"id": "b1", "spaceId": "s1", "start": h.at(180), "end": h.at(240)});
    assert_eq!(
        h.call(ADMIN, Method::POST, "/v1/bookings", Some(booking))
            .await
            .0,
        StatusCode::CREATED
    );
    // (method, path, body, roles allowed besides admin)
    let routes: Vec<(Method, &str, Option<Value>, &[&str])> = vec![
        (Method::POST, "/v1/spaces", Some(space_body("s2")), &[]),
        (Method::GET, "/v1/spaces", None, &["member", "device"]),
        (Method::GET, "/v1/spaces/s1", None, &["member", "device"]),
        (
            Method::PATCH,
            "/v1/spaces/s1",
            Some(json!({"name": "Renamed"})),
            &[],
        ),
        (Method::POST, "/v1/spaces/s1/disable", None, &[]),
        (Method::POST, "/v1/spaces/s1/enable", None, &[]),
        (Method::DELETE, "/v1/spaces/nope", None, &[]),
        (
            Method::GET,
            "/v1/spaces/s1/history",
            None,
            &["member", "device"],
        ),
        (
            Method::GET,
            "/v1/spaces/s1/availability",
            None,
            &["member", "device"],
        ),
        (
            Method::GET,
            "/v1/spaces/s1/utilisation?from=2026-05-04T00:00:00Z&to=2026-05-05T00:00:00Z",
            None,
            &["member", "device"],
        ),
        (
            Method::GET,
            "/v1/utilisation?from=2026-05-04T00:00:00Z&to=2026-05-05T00:00:00Z",
            None,
            &["member", "device"],
        ),
        (
            Method::POST,
            "/v1/bookings",
            Some(json!({"spaceId": "s1", "start": h.at(300), "end": h.at(310)})),
            &["member"],
        ),
        (Method::GET, "/v1/bookings", None, &["member", "device"]),
        (Method::GET, "/v1/bookings/b1", None, &["member", "device"]),
        (
            Method::POST,
            "/v1/bookings/b1/check-in",
            None,
            &["member", "device"],
        ),
        (
            Method::POST,
            "/v1/bookings/b1/check-out",
            None,
            &["member", "device"],
        ),
        (
            Method::POST,
            "/v1/bookings/b1/cancel",
            None,
            &["member", "device"],
        ),
        (
            Method::POST,
            "/v1/bookings/b1/extend",
            Some(json!({"end": h.at(250)})),
            &["member", "device"],
        ),
        (
            Method::POST,
            "/v1/spaces/s1/book-now",
            Some(json!({"duration": "PT30M"})),
            &["member", "device"],
        ),
        (
            Method::POST,
            "/v1/webhooks",
            Some(json!({"url": "https://example.com/h"})),
            &[],
        ),
        (Method::GET, "/v1/webhooks", None, &[]),
        (Method::DELETE, "/v1/webhooks/nope", None, &[]),
        (Method::GET, "/v1/webhooks/nope/deliveries", None, &[]),
        (Method::POST, "/v1/deliveries/nope/retry", None, &[]),
        (
            Method::POST,
            "/v1/tokens",
            Some(json!({"role": "device"})),
            &[],
        ),
    ];
    for (method, path, body, allowed) in routes {
        let (s, v) = h.call("", method.clone(), path, body.clone()).await;
        assert_eq!(
            s,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token: {v}"
        );
        assert_eq!(
            h.call("wrong-token", method.clone(), path, body.clone())
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        for (role, token) in [
            ("member", h.member.clone()),
            ("device", h.device.clone()),
            ("admin", ADMIN.to_owned()),
        ] {
            let (s, v) = h.call(&token, method.clone(), path, body.clone()).await;
            if role == "admin" || allowed.contains(&role) {
                assert!(
                    s != StatusCode::UNAUTHORIZED
                        && s != StatusCode::FORBIDDEN
                        && !s.is_server_error(),
                    "{role} {method} {path}: {s} {v}"
                );
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{role} {method} {path}: {v}");
                assert_eq!(v["error"]["code"], "forbidden");
            }
        }
    }
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        assert_eq!(
            h.call("", Method::GET, path, None).await.0,
            StatusCode::OK,
            "{path} needs no token"
        );
    }
}

async fn readiness_names_a_dependency_that_is_down(db: Backend) {
    let down: zs_api::Probe = Arc::new(|| Box::pin(async { Err("connection refused".to_owned()) }));
    let up: zs_api::Probe = Arc::new(|| Box::pin(async { Ok(()) }));
    let h = harness_with(
        db,
        vec![("queue", up), ("redis", down)],
        LimitConfig::default(),
    )
    .await;
    let (status, body) = h.call("", Method::GET, "/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, Value::String("redis: connection refused".into()));
    assert_eq!(
        h.call("", Method::GET, "/healthz", None).await.0,
        StatusCode::OK,
        "alive all the same"
    );
}

async fn bad_input_is_refused_clearly_and_stores_nothing(db: Backend) {
    let h = harness(db).await;
    h.call(ADMIN, Method::POST, "/v1/spaces", Some(space_body("s1")))
        .await;
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"spaceId": "s1", "start": h.at(180), "end": h.at(120)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_interval",
        ),
        (
            json!({"spaceId": "s1", "start": h.at(-10), "end": h.at(60)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "booking_in_past",
        ),
        (
            json!({"spaceId": "s1", "start": "10000-01-01T00:00:00Z", "end": h.at(60)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
        ),
        (
            json!({"spaceId": "s1", "start": "tomorrow", "end": h.at(60)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
        ),
        (
            json!({"spaceId": "s1", "start": h.at(590), "end": h.at(620)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside_business_hours",
        ),
        (
            json!({"spaceId": "s1", "start": h.at(600), "end": h.at(780)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside_business_hours",
        ),
        (
            json!({"spaceId": "nope", "start": h.at(180), "end": h.at(240)}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"spaceId": "s1", "start": h.at(180), "end": h.at(240), "extra": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"id": "no spaces allowed", "spaceId": "s1", "start": h.at(180), "end": h.at(240)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id",
        ),
    ];
    for (body, status, code) in cases {
        let (s, v) = h
            .call(ADMIN, Method::POST, "/v1/bookings", Some(body.clone()))
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {v}"
        );
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let (s, v) = h
        .raw(
            ADMIN,
            Method::POST,
            "/v1/bookings",
            Body::from("{not json"),
            Some("application/json"),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json"))
    );
    let huge = format!(
        "{{\"spaceId\": \"s1\", \"title\": \"{}\"}}",
        "x".repeat(100_000)
    );
    let (s, v) = h
        .raw(
            ADMIN,
            Method::POST,
            "/v1/bookings",
            Body::from(huge),
            Some("application/json"),
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    let (s, _) = h
        .raw(
            ADMIN,
            Method::POST,
            "/v1/bookings",
            Body::from(vec![0xff, 0xfe, b'{']),
            Some("application/json"),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    for (body, code) in [
        (
            json!({"name": "x", "timezone": "Mars/Olympus"}),
            "invalid_timezone",
        ),
        (
            json!({"name": "x", "timezone": "UTC", "cleaning": "-PT5M"}),
            "invalid_duration",
        ),
        (
            json!({"name": "x", "timezone": "UTC", "businessHours": {"mon": [{"open": "18:00", "close": "08:00"}]}}),
            "invalid_business_hours",
        ),
    ] {
        let (s, v) = h.call(ADMIN, Method::POST, "/v1/spaces", Some(body)).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{v}"
        );
    }
    let (_, list) = h.call(ADMIN, Method::GET, "/v1/bookings", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "nothing stored");
    let (_, spaces) = h.call(ADMIN, Method::GET, "/v1/spaces", None).await;
    assert_eq!(spaces["items"].as_array().unwrap().len(), 1);
    let (s, v) = h.call(ADMIN, Method::GET, "/v1/nope", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

async fn conflicts_windows_and_idempotency(db: Backend) {
    let h = harness(db).await;
    h.call(ADMIN, Method::POST, "/v1/spaces", Some(space_body("s1")))
        .await;
    let body =
        json!({"id": "b1", "spaceId": "s1", "start": h.at(180), "end": h.at(240), "title": "t"});
    let req = |key: &str, body: &Value| {
        Request::builder()
            .method(Method::POST)
            .uri("/v1/bookings")
            .header("authorization", format!("Bearer {}", h.member))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let first = h.app.clone().oneshot(req("k1", &body)).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = axum::body::to_bytes(first.into_body(), 1 << 20)
        .await
        .unwrap();
    let again = h.app.clone().oneshot(req("k1", &body)).await.unwrap();
    assert_eq!(
        again.status(),
        StatusCode::CREATED,
        "a repeat returns the first result"
    );
    assert_eq!(
        axum::body::to_bytes(again.into_body(), 1 << 20)
            .await
            .unwrap(),
        first
    );
    let other = json!({"id": "b9", "spaceId": "s1", "start": h.at(300), "end": h.at(310)});
    assert_eq!(
        h.app
            .clone()
            .oneshot(req("k1", &other))
            .await
            .unwrap()
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Overlap, cleaning included (default 10 min): [240, 250) is still held.
    let (s, v) = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/bookings",
            Some(json!({"spaceId": "s1", "start": h.at(245), "end": h.at(260)})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("booking_conflict"))
    );
    assert_eq!(
        h.call(
            ADMIN,
            Method::POST,
            "/v1/bookings",
            Some(json!({"spaceId": "s1", "start": h.at(250), "end": h.at(260)}))
        )
        .await
        .0,
        StatusCode::CREATED
    );
    let (s, v) = h
        .call(ADMIN, Method::POST, "/v1/bookings", Some(body.clone()))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_exists"))
    );
    // Check-in before the window, check-out when not checked in.
    let (s, v) = h
        .call(&h.device, Method::POST, "/v1/bookings/b1/check-in", None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("check_in_window"))
    );
    let (s, v) = h
        .call(&h.device, Method::POST, "/v1/bookings/b1/check-out", None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_checked_in"))
    );
    assert_eq!(
        h.call(&h.member, Method::POST, "/v1/bookings/b1/cancel", None)
            .await
            .0,
        StatusCode::OK
    );
    let (s, v) = h
        .call(&h.member, Method::POST, "/v1/bookings/b1/cancel", None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("booking_finished"))
    );
    let (s, v) = h
        .call(ADMIN, Method::POST, "/v1/spaces/s1/enable", None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_in_maintenance"))
    );
}

async fn openapi_describes_every_route(db: Backend) {
    let h = harness(db).await;
    let (s, doc) = h.call("", Method::GET, "/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/spaces",
        "/v1/spaces/{id}",
        "/v1/spaces/{id}/disable",
        "/v1/spaces/{id}/enable",
        "/v1/spaces/{id}/history",
        "/v1/spaces/{id}/availability",
        "/v1/spaces/{id}/utilisation",
        "/v1/utilisation",
        "/v1/bookings",
        "/v1/bookings/{id}",
        "/v1/bookings/{id}/cancel",
        "/v1/bookings/{id}/check-in",
        "/v1/bookings/{id}/check-out",
        "/v1/webhooks",
        "/v1/webhooks/{id}",
        "/v1/webhooks/{id}/deliveries",
        "/v1/deliveries/{id}/retry",
        "/v1/tokens",
        "/v1/events",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "{p} missing from /openapi.json");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

async fn availability_subtracts_bookings_and_cleaning_within_business_hours(db: Backend) {
    let h = harness(db).await;
    h.call(ADMIN, Method::POST, "/v1/spaces", Some(space_body("s1")))
        .await;
    let b = json!({"id": "b1", "spaceId": "s1", "start": h.at(180), "end": h.at(240)});
    assert_eq!(
        h.call(&h.member, Method::POST, "/v1/bookings", Some(b))
            .await
            .0,
        StatusCode::CREATED
    );
    // Monday 08:00–18:00 Berlin (CEST) is 06:00–16:00Z; the clock stands at 06:00Z.
    let path = "/v1/spaces/s1/availability?from=2026-05-04T00:00:00Z&to=2026-05-05T00:00:00Z";
    let (s, v) = h.call(&h.device, Method::GET, path, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let got: Vec<(String, String)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["start"].as_str().unwrap().to_owned(),
                i["end"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "2026-05-04T06:00:00Z".to_owned(),
                "2026-05-04T08:50:00Z".to_owned()
            ), // its own cleaning must end by 09:00
            (
                "2026-05-04T10:10:00Z".to_owned(),
                "2026-05-04T16:00:00Z".to_owned()
            ), // b1's cleaning ends 10:10
        ]
    );
    let (s, v) = h
        .call(
            &h.device,
            Method::GET,
            "/v1/spaces/s1/availability?from=2026-05-04T10:00:00Z&to=2026-05-04T09:00:00Z",
            None,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_range"))
    );
}

async fn patching_hours_and_timing_respects_live_bookings(db: Backend) {
    let h = harness(db).await;
    let (_, v) = h
        .call(ADMIN, Method::POST, "/v1/spaces", Some(space_body("s1")))
        .await;
    assert_eq!(
        v["state"]["space"], "available_now",
        "Monday 08:00 Berlin: open"
    );
    let b = json!({"id": "b1", "spaceId": "s1", "start": h.at(180), "end": h.at(240)});
    h.call(&h.member, Method::POST, "/v1/bookings", Some(b))
        .await;
    let closed_monday = json!({"businessHours": {"tue": [{"open": "08:00", "close": "18:00"}]}});
    let (s, v) = h
        .call(
            ADMIN,
            Method::PATCH,
            "/v1/spaces/s1",
            Some(closed_monday.clone()),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "b1 would fall outside: {v}"
    );
    let (s, v) = h
        .call(
            ADMIN,
            Method::PATCH,
            "/v1/spaces/s1",
            Some(json!({"cleaning": "PT5M"})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "timing is fixed while bookings are live: {v}"
    );
    h.call(&h.member, Method::POST, "/v1/bookings/b1/cancel", None)
        .await;
    let (s, v) = h
        .call(ADMIN, Method::PATCH, "/v1/spaces/s1", Some(closed_monday))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["state"]["space"], "not_available",
        "closing now applies DAY_END at once"
    );
    let (_, hist) = h
        .call(ADMIN, Method::GET, "/v1/spaces/s1/history", None)
        .await;
    assert_eq!(hist["items"][0]["event"], "DAY_END");
    let (s, v) = h
        .call(
            ADMIN,
            Method::PATCH,
            "/v1/spaces/s1",
            Some(json!({"cleaning": "PT5M", "businessHours": null})),
        )
        .await;
    assert_eq!(
        (s, v["cleaning"].as_str(), v["state"]["space"].as_str()),
        (StatusCode::OK, Some("PT5M"), Some("available_now"))
    );
    let (s, v) = h
        .call(
            ADMIN,
            Method::PATCH,
            "/v1/spaces/s1",
            Some(json!({"timezone": "Nowhere/Else"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_timezone"))
    );
}

#[path = "api/hostile.rs"]
mod hostile;
#[path = "api/limits.rs"]
mod limits;
#[path = "api/ownership.rs"]
mod ownership;
#[path = "api/pages.rs"]
mod pages;
#[path = "api/policies.rs"]
mod policies;
#[path = "api/series.rs"]
mod series;
#[path = "api/strikes.rs"]
mod strikes;
#[path = "api/walk_up.rs"]
mod walk_up;

zs_store::test_on_both_backends!(
    readiness_names_a_dependency_that_is_down,
    every_route_enforces_its_roles,
    bad_input_is_refused_clearly_and_stores_nothing,
    conflicts_windows_and_idempotency,
    openapi_describes_every_route,
    availability_subtracts_bookings_and_cleaning_within_business_hours,
    patching_hours_and_timing_respects_live_bookings
);
