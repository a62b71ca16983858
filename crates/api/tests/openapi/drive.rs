//! Drives the operational routes, spaces and tokens with valid and invalid requests; the
//! harness checks each answer against the document as it comes.

use super::harness::{ADMIN, Api};
use axum::body::Body;
use axum::http::Method;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

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
    let blank = json!({"id": "s9", "name": "   ", "timezone": "UTC"});
    api.refused(
        ADMIN,
        Method::POST,
        "/v1/spaces",
        Some(blank),
        422,
        "invalid_name",
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
    // A space with no booking is deleted; then it is gone.
    let gone = json!({"id": "gone", "name": "Gone", "timezone": "UTC"});
    api.ok(ADMIN, Method::POST, "/v1/spaces", Some(gone)).await;
    api.refused(
        &m,
        Method::DELETE,
        "/v1/spaces/gone",
        None,
        403,
        "forbidden",
    )
    .await;
    api.ok(ADMIN, Method::DELETE, "/v1/spaces/gone", None).await;
    api.refused(
        ADMIN,
        Method::DELETE,
        "/v1/spaces/gone",
        None,
        404,
        "not_found",
    )
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

/// Tokens: minted, listed without their secret, revoked at once.
pub async fn tokens(api: &mut Api) {
    let m = api.member.clone();
    let minted = api
        .ok(
            ADMIN,
            Method::POST,
            "/v1/tokens",
            Some(json!({"role": "device", "label": "door 1"})),
        )
        .await;
    let (id, token) = (
        minted["id"].as_str().unwrap().to_owned(),
        minted["token"].as_str().unwrap().to_owned(),
    );
    let listed = api.ok(ADMIN, Method::GET, "/v1/tokens", None).await;
    let items = listed["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|t| t["id"] == id && t["label"] == "door 1")
    );
    assert!(
        !listed.to_string().contains(&token),
        "a listed token shows no secret"
    );
    api.ok(&token, Method::GET, "/v1/spaces", None).await;
    // A device limited to some spaces shows them when minted and listed.
    let limited = api
        .ok(
            ADMIN,
            Method::POST,
            "/v1/tokens",
            Some(json!({"role": "device", "label": "door 2", "spaceIds": ["s1"]})),
        )
        .await;
    assert_eq!(limited["spaceIds"], json!(["s1"]));
    let listed = api.ok(ADMIN, Method::GET, "/v1/tokens", None).await;
    let row = |id: &Value| {
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == *id)
            .unwrap()["spaceIds"]
            .clone()
    };
    assert_eq!(row(&limited["id"]), json!(["s1"]));
    assert_eq!(row(&minted["id"]), Value::Null);
    for (body, code) in [
        (
            json!({"role": "member", "spaceIds": ["s1"]}),
            "invalid_space_ids",
        ),
        (
            json!({"role": "device", "spaceIds": ["nope"]}),
            "unknown_space",
        ),
    ] {
        api.refused(ADMIN, Method::POST, "/v1/tokens", Some(body), 422, code)
            .await;
    }
    let path = format!("/v1/tokens/{id}");
    api.ok(ADMIN, Method::DELETE, &path, None).await;
    api.refused(&token, Method::GET, "/v1/spaces", None, 401, "unauthorized")
        .await;
    api.refused(ADMIN, Method::DELETE, &path, None, 404, "not_found")
        .await;
    api.refused(&m, Method::GET, "/v1/tokens", None, 403, "forbidden")
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
