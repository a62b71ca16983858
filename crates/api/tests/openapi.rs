//! The served OpenAPI document against the real API: every route driven with valid and
//! invalid requests and each answer validated against the schema the document declares for
//! its path, method and status (so schema drift fails); the routes the router serves are the
//! document's; and the document holds what a client generator needs.

#[path = "openapi/bookings.rs"]
mod bookings;
#[path = "openapi/doc.rs"]
mod doc;
#[path = "openapi/drive.rs"]
mod drive;
#[path = "openapi/harness.rs"]
mod harness;
mod support;
#[path = "openapi/webhooks.rs"]
mod webhooks;

use axum::http::Method;
use harness::{ADMIN, Api};
use serde_json::Value;
use std::collections::BTreeSet;
use zs_api::limit::{LimitConfig, Rate};
use zs_store::Backend;

/// Every route, with valid and invalid requests; every answer is checked as it comes, and
/// in the end every operation must have answered with a 2xx and every error status the API
/// uses must have been seen.
async fn real_answers_match_the_document(db: Backend) {
    let mut api = Api::new(db, LimitConfig::OFF).await;
    drive::operations(&mut api).await;
    drive::spaces(&mut api).await;
    bookings::bookings(&mut api).await;
    bookings::series(&mut api).await;
    drive::tokens(&mut api).await;
    webhooks::webhooks(&mut api).await;
    bookings::events(&mut api).await;
    let seen = &api.doc.seen;
    for (method, path) in api.doc.operations() {
        assert!(
            seen.iter()
                .any(|(p, m, s)| *p == path && *m == method && s.starts_with('2')),
            "{method} {path} was never answered with a 2xx"
        );
    }
    let statuses: BTreeSet<&str> = seen.iter().map(|(_, _, s)| s.as_str()).collect();
    for s in [
        "400", "401", "403", "404", "409", "413", "415", "422", "503",
    ] {
        assert!(
            statuses.contains(s),
            "no {s} answer was checked: {statuses:?}"
        );
    }
}

/// The rate limit's 429 is documented too, with its `Retry-After`.
async fn a_rate_limited_answer_matches_the_document(db: Backend) {
    let limits = LimitConfig {
        per_token: Rate::new(1, Some(3)),
        auth_failures_per_ip: Rate::OFF,
    };
    let mut api = Api::new(db, limits).await;
    let mut last = None;
    for _ in 0..5 {
        let body = axum::body::Body::empty();
        last = Some(api.send(ADMIN, Method::GET, "/v1/spaces", body, &[]).await);
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429, "{}", last.body);
    assert!(last.headers.contains_key("retry-after"));
}

/// The routes the router serves are the document's operations, and no others: each
/// documented method is served, every other method on the path is 405, and every route
/// CONTRACT §5 names (`DELETE /v1/spaces/{id}` included) is in the list.
async fn the_router_serves_exactly_the_documented_routes(db: Backend) {
    let mut api = Api::new(db, LimitConfig::OFF).await;
    let documented = api.doc.operations();
    let expected: BTreeSet<(String, String)> = [
        ("get", "/openapi.json"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/v1/events"),
        ("post", "/v1/spaces"),
        ("get", "/v1/spaces"),
        ("get", "/v1/spaces/{id}"),
        ("patch", "/v1/spaces/{id}"),
        ("delete", "/v1/spaces/{id}"),
        ("post", "/v1/spaces/{id}/disable"),
        ("post", "/v1/spaces/{id}/enable"),
        ("get", "/v1/spaces/{id}/history"),
        ("get", "/v1/spaces/{id}/availability"),
        ("get", "/v1/spaces/{id}/utilisation"),
        ("get", "/v1/utilisation"),
        ("post", "/v1/bookings"),
        ("get", "/v1/bookings"),
        ("get", "/v1/bookings/{id}"),
        ("post", "/v1/bookings/{id}/cancel"),
        ("post", "/v1/bookings/{id}/check-in"),
        ("post", "/v1/bookings/{id}/check-out"),
        ("post", "/v1/bookings/{id}/extend"),
        ("post", "/v1/spaces/{id}/book-now"),
        ("post", "/v1/series"),
        ("get", "/v1/series/{id}"),
        ("post", "/v1/series/{id}/cancel"),
        ("post", "/v1/webhooks"),
        ("get", "/v1/webhooks"),
        ("delete", "/v1/webhooks/{id}"),
        ("post", "/v1/webhooks/{id}/rotate"),
        ("get", "/v1/webhooks/{id}/deliveries"),
        ("post", "/v1/deliveries/{id}/retry"),
        ("post", "/v1/tokens"),
        ("get", "/v1/tokens"),
        ("delete", "/v1/tokens/{id}"),
    ]
    .iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    let paths: BTreeSet<String> = documented.iter().map(|(_, p)| p.clone()).collect();
    for path in &paths {
        let concrete = path.replace("{id}", "zz-probe");
        for method in ["get", "post", "put", "patch", "delete"] {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let req = axum::http::Request::builder()
                .method(m)
                .uri(&concrete)
                .header("authorization", format!("Bearer {ADMIN}"))
                .body(axum::body::Body::empty())
                .unwrap();
            let resp = tower::ServiceExt::oneshot(api.app.clone(), req)
                .await
                .unwrap();
            let status = resp.status().as_u16();
            // Only a refusal's body is read (`/v1/events` answers with an endless stream).
            let error = if matches!(status, 404 | 405) {
                let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
                    .await
                    .unwrap();
                serde_json::from_slice::<Value>(&bytes).unwrap()["error"].clone()
            } else {
                Value::Null
            };
            // The router's fallback says "no such route"; a handler's 404 names the resource.
            let served = !(status == 405 || error["message"] == "no such route");
            let is_documented = documented.contains(&(method.to_owned(), path.clone()));
            assert_eq!(
                served, is_documented,
                "{method} {concrete}: served = {served} ({status} {error}), documented = {is_documented}"
            );
        }
    }
    let missing: Vec<_> = expected.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    // A route the document has beyond these must be one the router serves (checked above)
    // and is new: add it here and to docs/api.md.
    let extra: Vec<_> = documented.difference(&expected).collect();
    assert!(
        extra.is_empty(),
        "routes not yet in this list and docs/api.md: {extra:?}"
    );
    api.ok("", Method::GET, "/openapi.json", None).await;
}

zs_store::test_on_both_backends!(
    real_answers_match_the_document,
    a_rate_limited_answer_matches_the_document,
    the_router_serves_exactly_the_documented_routes,
);

#[path = "openapi/shape.rs"]
mod shape;
