//! Rate limits: a token over its burst gets 429 `rate_limited` with `Retry-After` while other
//! tokens and the operations routes go on, and it works again after waiting; an address that
//! fails authentication too often is refused before any token lookup, the admin excepted.

use super::*;
use axum::extract::ConnectInfo;
use std::net::SocketAddr;
use std::time::Duration;
use zs_api::limit::Rate;

/// `GET`/`POST` `path` with `token` from `peer`: (status, Retry-After, body).
async fn send(
    h: &Harness,
    method: Method,
    token: &str,
    path: &str,
    peer: Option<&str>,
) -> (StatusCode, Option<u64>, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if !token.is_empty() {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let mut req = req.body(Body::empty()).unwrap();
    if let Some(p) = peer {
        req.extensions_mut()
            .insert(ConnectInfo(p.parse::<SocketAddr>().unwrap()));
    }
    let resp = h.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse::<u64>().expect("whole seconds"));
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, retry, body)
}

fn assert_limited(r: &(StatusCode, Option<u64>, Value), what: &str) -> u64 {
    assert_eq!(r.0, StatusCode::TOO_MANY_REQUESTS, "{what}: {}", r.2);
    assert_eq!(r.2["error"]["code"], "rate_limited", "{what}");
    assert!(
        r.2["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("retry in")),
        "{what}: {}",
        r.2
    );
    let secs = r.1.unwrap_or_else(|| panic!("{what}: no Retry-After"));
    assert!((1..=2).contains(&secs), "{what}: Retry-After {secs}");
    secs
}

async fn a_token_over_its_burst_waits_while_others_go_on(db: Backend) {
    let limits = LimitConfig {
        per_token: Rate::new(1, Some(3)),
        auth_failures_per_ip: Rate::OFF,
    };
    let h = harness_with(db, vec![], limits).await;
    for i in 0..3 {
        let r = send(&h, Method::GET, &h.member, "/v1/spaces", None).await;
        assert_eq!(r.0, StatusCode::OK, "request {i} is within the burst");
        assert_eq!(r.1, None, "no Retry-After on a success");
    }
    let over = send(&h, Method::GET, &h.member, "/v1/spaces", None).await;
    let wait = assert_limited(&over, "the 4th request of the member");
    // A refused request does nothing.
    h.call(ADMIN, Method::POST, "/v1/spaces", Some(space_body("s1")))
        .await;
    let booking = json!({"spaceId": "s1", "start": h.at(180), "end": h.at(240)});
    let (s, v) = h
        .call(&h.member, Method::POST, "/v1/bookings", Some(booking))
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    // Another token has its own allowance; the operations routes are not limited at all.
    let r = send(&h, Method::GET, &h.device, "/v1/spaces", None).await;
    assert_eq!(r.0, StatusCode::OK, "the device token is unaffected");
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        for _ in 0..10 {
            let r = send(&h, Method::GET, &h.member, path, None).await;
            assert_eq!(r.0, StatusCode::OK, "{path} is not limited");
        }
    }
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(50)).await;
    let (_, list) = h.call(ADMIN, Method::GET, "/v1/bookings", None).await;
    assert_eq!(
        list["items"],
        json!([]),
        "the refused booking was not stored"
    );
    let r = send(&h, Method::GET, &h.member, "/v1/spaces", None).await;
    assert_eq!(
        r.0,
        StatusCode::OK,
        "after Retry-After the token works again"
    );
}

async fn failed_authentications_are_limited_per_address(db: Backend) {
    let limits = LimitConfig {
        per_token: Rate::OFF,
        auth_failures_per_ip: Rate::new(1, Some(2)),
    };
    let h = harness_with(db, vec![], limits).await;
    let (a, b) = (Some("192.0.2.1:4000"), Some("192.0.2.2:4000"));
    let r = send(&h, Method::GET, "wrong", "/v1/spaces", a).await;
    assert_eq!(r.0, StatusCode::UNAUTHORIZED);
    let r = send(&h, Method::GET, "", "/v1/spaces", a).await;
    assert_eq!(r.0, StatusCode::UNAUTHORIZED);
    let r = send(&h, Method::POST, "wrong-again", "/v1/tokens", a).await;
    let wait = assert_limited(&r, "the 3rd failure from a");
    // Blocked: another unknown token from that address waits …
    let r = send(&h, Method::GET, "wrong-a-third-time", "/v1/spaces", a).await;
    assert_limited(&r, "a 4th failure from a");
    // … but a valid token is never locked out by its address's failures (others behind the
    // same proxy), nor is the admin, nor another address.
    let r = send(&h, Method::GET, &h.member, "/v1/spaces", a).await;
    assert_eq!(r.0, StatusCode::OK, "a member behind the blocked address");
    let r = send(&h, Method::GET, ADMIN, "/v1/spaces", a).await;
    assert_eq!(r.0, StatusCode::OK, "the admin is never locked out");
    let r = send(&h, Method::GET, "wrong", "/v1/spaces", b).await;
    assert_eq!(r.0, StatusCode::UNAUTHORIZED, "another address has its own");
    let r = send(&h, Method::GET, &h.member, "/v1/spaces", b).await;
    assert_eq!(r.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(50)).await;
    let r = send(&h, Method::GET, &h.member, "/v1/spaces", a).await;
    assert_eq!(
        r.0,
        StatusCode::OK,
        "after Retry-After the address may try again"
    );
}

async fn the_default_limits_let_ordinary_traffic_through(db: Backend) {
    let h = harness(db).await;
    for _ in 0..150 {
        let r = send(&h, Method::GET, &h.member, "/v1/spaces", None).await;
        assert_eq!(
            r.0,
            StatusCode::OK,
            "150 requests are within the burst of 200"
        );
    }
}

async fn openapi_documents_the_limit(db: Backend) {
    let h = harness(db).await;
    let (_, doc) = h.call("", Method::GET, "/openapi.json", None).await;
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let authenticated = op.get("security").is_some();
            let limited = &op["responses"]["429"];
            assert_eq!(
                limited.is_object(),
                authenticated,
                "{method} {path}: 429 documented exactly where a token is needed"
            );
            if authenticated {
                assert!(limited["headers"]["Retry-After"].is_object());
                assert!(op["responses"]["401"].is_object(), "{method} {path}: 401");
            }
        }
    }
}

/// RFC 7235: the auth scheme is case-insensitive (`bearer` was refused with 401).
async fn the_bearer_scheme_is_case_insensitive(db: Backend) {
    let h = harness(db).await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let req = Request::builder()
            .uri("/v1/spaces")
            .header("authorization", format!("{scheme} {}", h.member))
            .body(Body::empty())
            .unwrap();
        let status = h.app.clone().oneshot(req).await.unwrap().status();
        assert_eq!(status, StatusCode::OK, "{scheme}");
    }
    for header in ["Basic abc", "Bearer", "Bearertoken", "Token x"] {
        let req = Request::builder()
            .uri("/v1/spaces")
            .header("authorization", header)
            .body(Body::empty())
            .unwrap();
        let status = h.app.clone().oneshot(req).await.unwrap().status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header}");
    }
}

zs_store::test_on_both_backends!(
    the_bearer_scheme_is_case_insensitive,
    a_token_over_its_burst_waits_while_others_go_on,
    failed_authentications_are_limited_per_address,
    the_default_limits_let_ordinary_traffic_through,
    openapi_documents_the_limit
);
