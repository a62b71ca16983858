//! Hostile input: bodies too large, too deep, not UTF-8 or not JSON, absurd instants and
//! durations, bad ids in paths and bodies, garbage query strings and headers. Each one is a
//! 4xx in the error shape with the expected code, and nothing is stored.

use super::*;

/// What a hostile request must get: this status and one of these codes.
struct Expect(StatusCode, &'static [&'static str]);

const TOO_LARGE: Expect = Expect(StatusCode::PAYLOAD_TOO_LARGE, &["body_too_large"]);
const NOT_JSON: Expect = Expect(StatusCode::BAD_REQUEST, &["invalid_json"]);
const MEDIA: Expect = Expect(
    StatusCode::UNSUPPORTED_MEDIA_TYPE,
    &["unsupported_media_type"],
);
const BAD_BODY: Expect = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_body"]);
const BAD_TIME: Expect = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_time"]);
const BAD_DURATION: Expect = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_duration"]);
const BAD_ID: Expect = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_id"]);
const NOT_FOUND: Expect = Expect(StatusCode::NOT_FOUND, &["not_found"]);
const BAD_PATH: Expect = Expect(StatusCode::BAD_REQUEST, &["invalid_path"]);
const BAD_QUERY: Expect = Expect(StatusCode::BAD_REQUEST, &["invalid_query"]);

async fn expect(
    h: &Harness,
    method: Method,
    path: &str,
    body: Body,
    ctype: Option<&str>,
    e: Expect,
) {
    let shown = format!("{method} {path}");
    let (s, v) = h.raw(ADMIN, method, path, body, ctype).await;
    assert_eq!(s, e.0, "{shown}: {v}");
    let code = v["error"]["code"].as_str().unwrap_or_default();
    assert!(
        e.1.contains(&code),
        "{shown}: code {code:?}, wanted {:?}: {v}",
        e.1
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{shown}: a message says what is wrong: {v}"
    );
}

async fn json_body(h: &Harness, method: Method, path: &str, body: Value, e: Expect) {
    let body = Body::from(body.to_string());
    expect(h, method, path, body, Some("application/json"), e).await;
}

/// Every route that takes a body refuses malformed ones the same way.
async fn malformed_bodies(h: &Harness) {
    // Refused at the first `[` or `{` where a string or a struct is expected: no recursion.
    let deep_array = "[".repeat(60_000);
    let deep_field = format!("{{\"name\": {}", "{\"a\":".repeat(12_000));
    let too_large = json!({"name": "x".repeat(70_000), "timezone": "UTC"}).to_string();
    // (method, path, a string field of its body)
    let routes = [
        (Method::POST, "/v1/spaces", "name"),
        (Method::PATCH, "/v1/spaces/s1", "name"),
        (Method::POST, "/v1/bookings", "title"),
        (Method::POST, "/v1/webhooks", "url"),
        (Method::POST, "/v1/tokens", "label"),
    ];
    // Free-form JSON (business hours) meets serde_json's recursion limit.
    let deep_hours = format!(
        "{{\"name\": \"x\", \"timezone\": \"UTC\", \"businessHours\": {}",
        "{\"mon\":[".repeat(6_000)
    );
    for (m, path) in [
        (Method::POST, "/v1/spaces"),
        (Method::PATCH, "/v1/spaces/s1"),
    ] {
        let json = Some("application/json");
        expect(h, m, path, Body::from(deep_hours.clone()), json, NOT_JSON).await;
    }
    for (m, path, field) in routes {
        let json = Some("application/json");
        let mut bad_utf8 = format!("{{\"{field}\": \"a").into_bytes();
        bad_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3, b'"', b'}']);
        let surrogate = format!("{{\"{field}\": \"\\ud800\"}}");
        let huge_number = format!("{{\"{field}\": 1e999}}");
        let bodies: [(Body, Expect); 7] = [
            (Body::from(too_large.clone()), TOO_LARGE),
            (Body::from(deep_array.clone()), BAD_BODY),
            (Body::from(deep_field.clone()), BAD_BODY),
            (Body::from(bad_utf8), NOT_JSON),
            (Body::empty(), NOT_JSON),
            (Body::from(surrogate), NOT_JSON),
            (Body::from(huge_number), NOT_JSON),
        ];
        for (body, e) in bodies {
            expect(h, m.clone(), path, body, json, e).await;
        }
        for ctype in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let body = Body::from(r#"{"name": "x", "timezone": "UTC"}"#);
            expect(h, m.clone(), path, body, ctype, MEDIA).await;
        }
        for v in [
            json!([]),
            json!(null),
            json!("x"),
            json!(42),
            json!({"bogus": 1}),
        ] {
            json_body(h, m.clone(), path, v, BAD_BODY).await;
        }
    }
}

async fn absurd_spaces(h: &Harness) {
    let space = |k: &str, v: Value| {
        let mut b = json!({"name": "x", "timezone": "UTC"});
        b[k] = v;
        b
    };
    let bad_zone = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_timezone"]);
    let bad_name = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_name"]);
    let bad_hours = Expect(
        StatusCode::UNPROCESSABLE_ENTITY,
        &["invalid_business_hours"],
    );
    let cases = [
        (space("timezone", json!("Mars/Olympus")), bad_zone),
        (
            space("timezone", json!("")),
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_timezone"]),
        ),
        (
            space("timezone", json!("../../etc/passwd")),
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_timezone"]),
        ),
        (
            space("timezone", json!("Z".repeat(5000))),
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_timezone"]),
        ),
        (space("timezone", json!(7)), BAD_BODY),
        (space("cleaning", json!("-PT5M")), BAD_DURATION),
        (space("upcomingLead", json!("-PT1S")), BAD_DURATION),
        (space("noShowGrace", json!("PT0S")), BAD_DURATION),
        (space("cleaning", json!("PT25H")), BAD_DURATION),
        (space("cleaning", json!("P10000000Y")), BAD_DURATION),
        (
            space("cleaning", json!("PT99999999999999999999999H")),
            BAD_DURATION,
        ),
        (space("cleaning", json!("PT0.0001S")), BAD_DURATION),
        (space("cleaning", json!(600)), BAD_BODY),
        (space("cleaning", json!(1e300)), BAD_BODY),
        (space("id", json!("a/b")), BAD_ID),
        (space("id", json!("a b")), BAD_ID),
        (space("id", json!("ünïcode")), BAD_ID),
        (space("id", json!("x".repeat(65))), BAD_ID),
        (space("id", json!("")), BAD_ID),
        (space("id", json!("nul\u{0}")), BAD_ID),
        (space("name", json!("")), bad_name),
        (
            space("name", json!("x".repeat(201))),
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_name"]),
        ),
        (
            space("name", json!("nul\u{0}byte")),
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_name"]),
        ),
        (space("businessHours", json!({"funday": []})), bad_hours),
        (
            space("businessHours", json!({"mon": "all day"})),
            Expect(
                StatusCode::UNPROCESSABLE_ENTITY,
                &["invalid_business_hours"],
            ),
        ),
        (
            space(
                "businessHours",
                json!({"mon": [{"open": "25:00", "close": "26:00"}]}),
            ),
            Expect(
                StatusCode::UNPROCESSABLE_ENTITY,
                &["invalid_business_hours"],
            ),
        ),
        (
            space("businessHours", json!([1, 2])),
            Expect(
                StatusCode::UNPROCESSABLE_ENTITY,
                &["invalid_business_hours"],
            ),
        ),
    ];
    for (body, e) in cases {
        json_body(h, Method::POST, "/v1/spaces", body, e).await;
    }
    for patch in [
        json!({"timezone": "Mars/Olympus"}),
        json!({"cleaning": "-PT1M"}),
        json!({"name": "\u{0}"}),
        json!({"id": "s2"}),
    ] {
        let (s, v) = h
            .call(ADMIN, Method::PATCH, "/v1/spaces/s1", Some(patch.clone()))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "PATCH {patch}: {v}");
    }
}

async fn absurd_bookings(h: &Harness) {
    let booking =
        |space: &str, start: &str, end: &str| json!({"spaceId": space, "start": start, "end": end});
    let (soon, later) = (h.at(60), h.at(120));
    let interval = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_interval"]);
    let cases = [
        (
            booking("s1", "10000-01-01T00:00:00Z", "10000-01-01T01:00:00Z"),
            BAD_TIME,
        ),
        (
            booking("s1", "+010000-01-01T00:00:00Z", "+010000-01-01T01:00:00Z"),
            BAD_TIME,
        ),
        (booking("s1", "-000001-01-01T00:00:00Z", &later), BAD_TIME),
        (
            booking("s1", "9999-12-30T20:00:00Z", "9999-12-30T21:00:00Z"),
            BAD_TIME,
        ),
        (
            booking("s24", "9999-12-30T20:00:00Z", "9999-12-30T21:00:00Z"),
            BAD_TIME,
        ),
        (booking("s1", "2026-02-30T10:00:00Z", &later), BAD_TIME),
        (booking("s1", "2026-05-04T25:00:00Z", &later), BAD_TIME),
        (booking("s1", "2026-05-04T10:00:00", &later), BAD_TIME),
        (booking("s1", "2026-05-04T10:00:00+99:00", &later), BAD_TIME),
        (booking("s1", "", &later), BAD_TIME),
        (booking("s1", &"9".repeat(10_000), &later), BAD_TIME),
        (booking("s1", &later, &soon), interval),
        (
            booking("s1", &soon, &soon),
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_interval"]),
        ),
        (
            booking("s1", &soon, &h.at(60 + 8 * 24 * 60)),
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["booking_too_long"]),
        ),
        (
            booking("s1", "1970-01-01T00:00:00Z", &later),
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["booking_in_past"]),
        ),
        (
            json!({"spaceId": "s1", "start": 1_746_000_000_000i64, "end": later}),
            BAD_BODY,
        ),
        (booking("../s1", &soon, &later), NOT_FOUND),
        (booking(&"s".repeat(65), &soon, &later), NOT_FOUND),
        (
            json!({"id": "bad id", "spaceId": "s1", "start": soon, "end": later}),
            BAD_ID,
        ),
        (
            json!({"id": "x".repeat(65), "spaceId": "s1", "start": soon, "end": later}),
            BAD_ID,
        ),
        (
            json!({"spaceId": "s1", "start": soon, "end": later, "title": "x".repeat(501)}),
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_title"]),
        ),
        (
            json!({"spaceId": "s1", "start": soon, "end": later, "title": "nul\u{0}"}),
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_title"]),
        ),
    ];
    for (body, e) in cases {
        json_body(h, Method::POST, "/v1/bookings", body, e).await;
    }
    let body = booking("s1", &soon, &later).to_string();
    for key in ["k".repeat(256), "\u{e9}t\u{e9}".into()] {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/v1/bookings")
            .header("authorization", format!("Bearer {ADMIN}"))
            .header("content-type", "application/json")
            .header(
                "idempotency-key",
                axum::http::HeaderValue::from_bytes(key.as_bytes()).unwrap(),
            )
            .body(Body::from(body.clone()))
            .unwrap();
        let resp = h.app.clone().oneshot(req).await.unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::BAD_REQUEST,
            "Idempotency-Key {key:?}"
        );
    }
}

async fn absurd_others(h: &Harness) {
    let bad_url = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_url"]);
    for url in [
        "",
        "ftp://example.com/x",
        "http://[::1",
        "javascript:alert(1)",
        "http://127.0.0.1/x",
        "http://10.0.0.1/x",
        "http://[::1]/x",
    ] {
        json_body(
            h,
            Method::POST,
            "/v1/webhooks",
            json!({"url": url}),
            Expect(bad_url.0, bad_url.1),
        )
        .await;
    }
    let long = format!("https://example.com/{}", "x".repeat(3000));
    json_body(
        h,
        Method::POST,
        "/v1/webhooks",
        json!({"url": long}),
        Expect(bad_url.0, bad_url.1),
    )
    .await;
    let bad_event = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_event_type"]);
    json_body(
        h,
        Method::POST,
        "/v1/webhooks",
        json!({"url": "https://example.com/h", "events": ["nope"]}),
        bad_event,
    )
    .await;
    json_body(
        h,
        Method::POST,
        "/v1/webhooks",
        json!({"url": "https://example.com/h", "events": "all"}),
        BAD_BODY,
    )
    .await;
    let bad_role = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_role"]);
    json_body(
        h,
        Method::POST,
        "/v1/tokens",
        json!({"role": "admin"}),
        bad_role,
    )
    .await;
    let bad_label = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_label"]);
    json_body(
        h,
        Method::POST,
        "/v1/tokens",
        json!({"role": "member", "label": "x".repeat(201)}),
        bad_label,
    )
    .await;
    let bad_label = Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_label"]);
    json_body(
        h,
        Method::POST,
        "/v1/tokens",
        json!({"role": "member", "label": "nul\u{0}"}),
        bad_label,
    )
    .await;
}

async fn bad_paths_and_queries(h: &Harness) {
    let long = "x".repeat(5000);
    let gets = [
        ("/v1/spaces/%FF", BAD_PATH),
        ("/v1/spaces/%FF/history", BAD_PATH),
        ("/v1/spaces/a%2Fb", NOT_FOUND),
        ("/v1/spaces/%00", NOT_FOUND),
        ("/v1/bookings/%00", NOT_FOUND),
        ("/v1/bookings/%C3%28", BAD_PATH),
        ("/v1/webhooks/%00/deliveries", NOT_FOUND),
        ("/v1/webhooks/%FF/deliveries", BAD_PATH),
        ("/v1/spaces/s1/history?limit=abc", BAD_QUERY),
        (
            "/v1/spaces/s1/history?limit=99999999999999999999999",
            BAD_QUERY,
        ),
        ("/v1/bookings?limit=1.5", BAD_QUERY),
        ("/v1/bookings?from=garbage", BAD_TIME),
        ("/v1/bookings?to=10000-01-01T00:00:00Z", BAD_TIME),
        ("/v1/bookings?from=&to=", BAD_TIME),
        ("/v1/bookings?spaceId=a%20b", BAD_ID),
        ("/v1/spaces/s1/availability?from=garbage", BAD_TIME),
        (
            "/v1/spaces/s1/availability?to=2026-13-01T00:00:00Z",
            BAD_TIME,
        ),
        (
            "/v1/spaces/s1/availability?from=9999-12-30T00:00:00Z",
            BAD_TIME,
        ),
        (
            "/v1/spaces/s1/availability?from=9999-12-01T00:00:00Z&to=9999-12-30T00:00:00Z",
            BAD_TIME,
        ),
        (
            "/v1/spaces/s1/availability?from=-009999-01-01T00:00:00Z",
            BAD_TIME,
        ),
        (
            "/v1/spaces/s1/availability?from=2026-05-05T00:00:00Z&to=2026-05-04T00:00:00Z",
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_range"]),
        ),
        (
            "/v1/spaces/s1/availability?from=2026-05-05T00:00:00Z&to=2027-05-04T00:00:00Z",
            Expect(StatusCode::UNPROCESSABLE_ENTITY, &["invalid_range"]),
        ),
    ];
    for (path, e) in gets {
        expect(h, Method::GET, path, Body::empty(), None, e).await;
    }
    expect(
        h,
        Method::GET,
        &format!("/v1/spaces/{long}"),
        Body::empty(),
        None,
        NOT_FOUND,
    )
    .await;
    expect(
        h,
        Method::GET,
        &format!("/v1/bookings?from={long}"),
        Body::empty(),
        None,
        BAD_TIME,
    )
    .await;
    for path in [
        "/v1/webhooks/%00",
        "/v1/webhooks/%FF",
        &format!("/v1/webhooks/{long}"),
    ] {
        let (s, v) = h
            .raw(ADMIN, Method::DELETE, path, Body::empty(), None)
            .await;
        assert!(
            matches!(s, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST),
            "DELETE {path}: {s} {v}"
        );
        assert!(v["error"]["code"].is_string(), "DELETE {path}: {v}");
    }
    for path in [
        "/v1/deliveries/%00/retry",
        "/v1/bookings/%00/cancel",
        "/v1/spaces/%00/disable",
    ] {
        let (s, v) = h.raw(ADMIN, Method::POST, path, Body::empty(), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "POST {path}: {v}");
    }
    let (s, v) = h
        .raw(ADMIN, Method::PUT, "/v1/spaces", Body::empty(), None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
}

async fn bad_credentials(h: &Harness) {
    let headers: [&[u8]; 6] = [
        b"Basic YWRtaW46YWRtaW4=",
        b"Bearer",
        b"bearer test",
        b"Bearer \xff\xfe",
        b"Bearer admin-secret-but-longer",
        b"Bearer zs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ];
    let long = format!("Bearer {}", "x".repeat(10_000));
    for h_value in headers.iter().copied().chain([long.as_bytes()]) {
        let req = Request::builder()
            .uri("/v1/spaces")
            .header(
                "authorization",
                axum::http::HeaderValue::from_bytes(h_value).unwrap(),
            )
            .body(Body::empty())
            .unwrap();
        let resp = h.app.clone().oneshot(req).await.unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{:?}",
            String::from_utf8_lossy(h_value)
        );
    }
}

/// Routes that take no body refused to look at one and acted on it anyway, even 10 MB.
async fn bodies_on_routes_that_take_none(h: &Harness) {
    let refused = Expect(StatusCode::PAYLOAD_TOO_LARGE, &["body_not_allowed"]);
    let big = || Body::from(vec![b'x'; 10 << 20]);
    for (method, path) in [
        (Method::POST, "/v1/spaces/s1/disable"),
        (Method::POST, "/v1/bookings/nope/cancel"),
        (Method::GET, "/v1/spaces"),
        (Method::DELETE, "/v1/webhooks/nope"),
    ] {
        expect(
            h,
            method.clone(),
            path,
            big(),
            None,
            Expect(refused.0, refused.1),
        )
        .await;
        let small = Body::from(r#"{"force": true}"#);
        expect(
            h,
            method,
            path,
            small,
            Some("application/json"),
            Expect(refused.0, refused.1),
        )
        .await;
    }
}

async fn hostile_input_is_refused_clearly_and_stores_nothing(db: Backend) {
    let h = harness(db).await;
    for (id, cleaning) in [("s1", "PT10M"), ("s24", "PT24H")] {
        let body = json!({"id": id, "name": id, "timezone": "UTC", "cleaning": cleaning});
        let (s, v) = h.call(ADMIN, Method::POST, "/v1/spaces", Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (_, before) = h.call(ADMIN, Method::GET, "/v1/spaces", None).await;
    malformed_bodies(&h).await;
    absurd_spaces(&h).await;
    absurd_bookings(&h).await;
    absurd_others(&h).await;
    bad_paths_and_queries(&h).await;
    bad_credentials(&h).await;
    bodies_on_routes_that_take_none(&h).await;
    let (_, after) = h.call(ADMIN, Method::GET, "/v1/spaces", None).await;
    assert_eq!(before, after, "no space created or changed");
    let (_, bookings) = h.call(ADMIN, Method::GET, "/v1/bookings", None).await;
    assert_eq!(bookings["items"], json!([]), "no booking stored");
    let (_, hooks) = h.call(ADMIN, Method::GET, "/v1/webhooks", None).await;
    assert_eq!(hooks["items"], json!([]), "no webhook stored");
}

zs_store::test_on_both_backends!(hostile_input_is_refused_clearly_and_stores_nothing);
