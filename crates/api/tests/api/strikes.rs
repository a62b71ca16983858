//! The `noShowStrikes` setting (CONTRACT §9) through the API: 3 unless set, shown with the
//! space, changed by a patch (absent: kept); a number outside 0–1000, or no number, is
//! refused with a 4xx and changes nothing.

use super::*;

async fn no_show_strikes_are_set_shown_patched_and_checked(db: Backend) {
    let h = harness(db).await;
    let (s, v) = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/spaces",
            Some(json!({"id": "d", "name": "Default", "timezone": "UTC"})),
        )
        .await;
    assert_eq!(
        (s, &v["noShowStrikes"]),
        (StatusCode::CREATED, &json!(3)),
        "{v}"
    );
    let (s, v) = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/spaces",
            Some(json!({"id": "k", "name": "Kept", "timezone": "UTC", "noShowStrikes": 0})),
        )
        .await;
    assert_eq!(
        (s, &v["noShowStrikes"]),
        (StatusCode::CREATED, &json!(0)),
        "{v}"
    );
    for bad in [json!(-1), json!(1001), json!(1.5), json!("3")] {
        let (s, v) = h
            .call(
                ADMIN,
                Method::POST,
                "/v1/spaces",
                Some(json!({"id": "x", "name": "X", "timezone": "UTC", "noShowStrikes": bad})),
            )
            .await;
        assert!(s.is_client_error(), "{bad}: {s} {v}");
        if bad.is_i64() {
            assert_eq!(
                (s, v["error"]["code"].as_str()),
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("invalid_no_show_strikes")
                ),
                "{bad}: {v}"
            );
            assert!(
                v["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("noShowStrikes"),
                "{v}"
            );
        }
        let (s, _) = h
            .call(
                ADMIN,
                Method::PATCH,
                "/v1/spaces/d",
                Some(json!({"noShowStrikes": bad})),
            )
            .await;
        assert!(s.is_client_error(), "patch {bad}: {s}");
        assert_ne!(s, StatusCode::FORBIDDEN);
    }
    let (s, _) = h.call(ADMIN, Method::GET, "/v1/spaces/x", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a refused space was stored");
    let (_, v) = h.call(ADMIN, Method::GET, "/v1/spaces/d", None).await;
    assert_eq!(v["noShowStrikes"], 3, "a refused patch changed it: {v}");

    let (s, v) = h
        .call(
            ADMIN,
            Method::PATCH,
            "/v1/spaces/d",
            Some(json!({"noShowStrikes": 1000})),
        )
        .await;
    assert_eq!(
        (s, &v["noShowStrikes"]),
        (StatusCode::OK, &json!(1000)),
        "{v}"
    );
    let (s, v) = h
        .call(
            ADMIN,
            Method::PATCH,
            "/v1/spaces/d",
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(
        (s, &v["noShowStrikes"]),
        (StatusCode::OK, &json!(1000)),
        "kept: {v}"
    );
}

zs_store::test_on_both_backends!(no_show_strikes_are_set_shown_patched_and_checked);
