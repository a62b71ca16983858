//! Booking policies (CONTRACT §11) through the API: set on a space when it is made, shown
//! with it, changed and unset by a patch; a booking, walk-up or extension that breaks one is
//! refused with 422 and its `policy_…` code, and nothing is stored; values that are no
//! duration, or policies no booking could meet, are refused with 422.

use super::*;

async fn policies_are_set_shown_patched_and_enforced(db: Backend) {
    let h = harness(db).await;
    let body = json!({"id": "p1", "name": "Room", "timezone": "UTC",
        "maxDuration": "PT2H", "minDuration": "pt15m", "bookingHorizon": "P2W", "minNotice": "PT30M"});
    let (s, v) = h.call(ADMIN, Method::POST, "/v1/spaces", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let shown = |v: &Value| {
        ["maxDuration", "minDuration", "bookingHorizon", "minNotice"]
            .map(|k| v[k].as_str().map(str::to_owned))
    };
    let set = |a: &str, b: &str, c: &str, d: &str| [a, b, c, d].map(|s| Some(s.to_owned()));
    assert_eq!(shown(&v), set("PT2H", "PT15M", "P14D", "PT30M"));

    let booking = |id: &str, from: i64, to: i64| json!({"id": id, "spaceId": "p1", "start": h.at(from), "end": h.at(to)});
    for (from, to, code) in [
        (60, 181, "policy_max_duration"),
        (60, 70, "policy_min_duration"),
        (10, 60, "policy_min_notice"),
        (15 * 24 * 60, 15 * 24 * 60 + 60, "policy_horizon"),
    ] {
        let (s, v) = h
            .call(
                &h.member,
                Method::POST,
                "/v1/bookings",
                Some(booking("x", from, to)),
            )
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{from}..{to}: {v}"
        );
        assert!(
            v["error"]["message"].as_str().unwrap().contains("policy"),
            "{v}"
        );
    }
    let (s, _) = h.call(ADMIN, Method::GET, "/v1/bookings/x", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a refused booking was stored");

    // A walk-up starts now: refused by the 30 minutes' notice.
    let (s, v) = h
        .call(
            &h.member,
            Method::POST,
            "/v1/spaces/p1/book-now",
            Some(json!({"duration": "PT20M"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("policy_min_notice")),
        "{v}"
    );

    // An extension past the maximum is refused and the end stays.
    let (s, v) = h
        .call(
            &h.member,
            Method::POST,
            "/v1/bookings",
            Some(booking("b", 60, 120)),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = h
        .call(
            &h.member,
            Method::POST,
            "/v1/bookings/b/extend",
            Some(json!({"end": h.at(181)})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("policy_max_duration")
        ),
        "{v}"
    );
    let (_, v) = h.call(ADMIN, Method::GET, "/v1/bookings/b", None).await;
    assert_eq!(v["end"].as_str(), Some(h.at(120).as_str()));

    // A patch changes one, unsets another (null) and leaves the absent ones.
    let (s, v) = h
        .call(
            ADMIN,
            Method::PATCH,
            "/v1/spaces/p1",
            Some(json!({"maxDuration": "P1DT12H", "minNotice": null})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut want = set("P1DT12H", "PT15M", "P14D", "");
    want[3] = None;
    assert_eq!(shown(&v), want);
    let (_, v) = h.call(ADMIN, Method::GET, "/v1/spaces/p1", None).await;
    assert_eq!(shown(&v), want);
    // Now a booking soon and three hours long is taken, and so is the walk-up.
    let (s, v) = h
        .call(
            &h.member,
            Method::POST,
            "/v1/bookings",
            Some(booking("c", 200, 380)),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = h
        .call(
            &h.member,
            Method::POST,
            "/v1/spaces/p1/book-now",
            Some(json!({"duration": "PT20M"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Bad values and contradictions: 422, and the space stays as it was.
    for (body, code) in [
        (json!({"maxDuration": "4h"}), "invalid_duration"),
        (json!({"maxDuration": "P1M"}), "invalid_duration"),
        (json!({"bookingHorizon": "P3661D"}), "invalid_duration"),
        (json!({"minNotice": "PT0S"}), "invalid_duration"),
        (json!({"minDuration": "P2D"}), "invalid_policy"),
        (json!({"minNotice": "P14D"}), "invalid_policy"),
    ] {
        let (s, v) = h
            .call(ADMIN, Method::PATCH, "/v1/spaces/p1", Some(body.clone()))
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{body}: {v}"
        );
    }
    let (_, v) = h.call(ADMIN, Method::GET, "/v1/spaces/p1", None).await;
    assert_eq!(shown(&v), want);
    let (s, v) = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/spaces",
            Some(json!({"id": "p2", "name": "R", "timezone": "UTC", "minDuration": "PT3H", "maxDuration": "PT2H"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_policy")),
        "{v}"
    );
    let (s, _) = h.call(ADMIN, Method::GET, "/v1/spaces/p2", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A space made without policies shows each as null.
    let (_, v) = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/spaces",
            Some(json!({"id": "p3", "name": "R", "timezone": "UTC"})),
        )
        .await;
    assert_eq!(shown(&v), [None, None, None, None]);
    assert!(v.as_object().unwrap().contains_key("minNotice"), "{v}");
}

zs_store::test_on_both_backends!(policies_are_set_shown_patched_and_enforced);
