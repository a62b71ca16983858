//! Extend and walk-up (CONTRACT §10) through the API: the answers, the refusals (each
//! changing nothing), who may act on what, and bad bodies.

use super::*;

impl Harness {
    /// `POST {path}` with `body` as `token`; asserts the status, returns the body.
    async fn post(&self, token: &str, path: &str, body: Value, want: StatusCode) -> Value {
        let (s, v) = self.call(token, Method::POST, path, Some(body)).await;
        assert_eq!(s, want, "POST {path}: {v}");
        v
    }

    /// The stored booking, as an admin reads it.
    async fn booking(&self, id: &str) -> Value {
        let path = format!("/v1/bookings/{id}");
        self.ok(Method::GET, &path, None).await
    }

    async fn history_len(&self, space: &str) -> usize {
        let path = format!("/v1/spaces/{space}/history");
        let (_, v) = self.call(ADMIN, Method::GET, &path, None).await;
        v["items"].as_array().unwrap().len()
    }
}

async fn extend_moves_the_end_or_refuses_and_changes_nothing(db: Backend) {
    let h = harness(db).await;
    let other = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/tokens",
            Some(json!({"role": "member"})),
        )
        .await
        .1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Monday 08:00 in Berlin; open until 18:00 (16:00Z, 600 minutes from now).
    h.post(ADMIN, "/v1/spaces", space_body("s1"), StatusCode::CREATED)
        .await;
    let book = |id: &str, from: i64, to: i64| json!({"id": id, "spaceId": "s1", "start": h.at(from), "end": h.at(to)});
    h.post(
        &h.member,
        "/v1/bookings",
        book("a1", 10, 40),
        StatusCode::CREATED,
    )
    .await;
    h.post(
        &other,
        "/v1/bookings",
        book("b1", 60, 90),
        StatusCode::CREATED,
    )
    .await;
    let v = h
        .post(
            &h.member,
            "/v1/bookings/a1/extend",
            json!({"end": h.at(45)}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        (v["end"].as_str(), v["status"].as_str()),
        (Some(h.at(45).as_str()), Some("upcoming"))
    );
    let (history, end) = (h.history_len("s1").await, h.at(45));
    let refusals = [
        // 50 + 10 min cleaning reaches b1 at 60.
        (
            json!({"end": h.at(51)}),
            StatusCode::CONFLICT,
            "booking_conflict",
        ),
        (
            json!({"end": h.at(45)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "end_not_later",
        ),
        (
            json!({"end": h.at(30)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "end_not_later",
        ),
        (
            json!({"end": h.at(601)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside_business_hours",
        ),
        (
            json!({"end": "tomorrow"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
        ),
    ];
    for (body, status, code) in refusals {
        let v = h
            .post(&h.member, "/v1/bookings/a1/extend", body.clone(), status)
            .await;
        assert_eq!(v["error"]["code"], code, "{body}: {v}");
    }
    for body in [
        json!({}),
        json!({"end": h.at(50), "start": h.at(0)}),
        json!({"end": 5}),
    ] {
        let (s, v) = h
            .call(
                &h.member,
                Method::POST,
                "/v1/bookings/a1/extend",
                Some(body.clone()),
            )
            .await;
        assert!(s.is_client_error(), "{body}: {s} {v}");
    }
    // Not one's own: the same 404 as an unknown booking.
    let v = h
        .post(
            &other,
            "/v1/bookings/a1/extend",
            json!({"end": h.at(50)}),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(v["error"]["code"], "not_found");
    h.post(
        ADMIN,
        "/v1/spaces",
        json!({"id": "elsewhere", "name": "E", "timezone": "UTC"}),
        StatusCode::CREATED,
    )
    .await;
    let limited = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/tokens",
            Some(json!({"role": "device", "spaceIds": ["elsewhere"]})),
        )
        .await
        .1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    h.post(
        &limited,
        "/v1/bookings/a1/extend",
        json!({"end": h.at(50)}),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(h.booking("a1").await["end"].as_str(), Some(end.as_str()));
    assert_eq!(h.history_len("s1").await, history);
    // A finished booking: cancelled, then refused.
    h.post(&other, "/v1/bookings/b1/cancel", json!({}), StatusCode::OK)
        .await;
    let v = h
        .post(
            &other,
            "/v1/bookings/b1/extend",
            json!({"end": h.at(120)}),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(v["error"]["code"], "booking_finished");
    // b1 out of the way, a1 (a device of its space may) runs until 100.
    let v = h
        .post(
            &h.device,
            "/v1/bookings/a1/extend",
            json!({"end": h.at(100)}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(v["end"].as_str(), Some(h.at(100).as_str()));
}

async fn book_now_books_and_checks_in_or_refuses(db: Backend) {
    let h = harness(db).await;
    h.post(
        ADMIN,
        "/v1/spaces",
        json!({"id": "s2", "name": "Open", "timezone": "UTC"}),
        StatusCode::CREATED,
    )
    .await;
    let v = h
        .post(
            &h.member,
            "/v1/spaces/s2/book-now",
            json!({"duration": "PT30M", "title": "Quick sync"}),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(v["status"], "checked_in");
    assert_eq!(v["title"], "Quick sync");
    assert_eq!(v["start"].as_str(), Some(h.at(0).as_str()));
    assert_eq!(v["end"].as_str(), Some(h.at(30).as_str()));
    assert!(v["id"].as_str().unwrap().starts_with("bk_"), "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (_, space) = h.call(ADMIN, Method::GET, "/v1/spaces/s2", None).await;
    assert_eq!(space["state"]["room"], "occupied", "{space}");
    assert_eq!(space["state"]["space"], "reserved", "{space}");
    assert_eq!(space["state"]["bookingId"].as_str(), Some(id.as_str()));
    // The walker owns it.
    let (s, _) = h
        .call(
            &h.member,
            Method::POST,
            &format!("/v1/bookings/{id}/check-out"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // Cleaning holds the room for 10 minutes.
    let history = h.history_len("s2").await;
    let v = h
        .post(
            &h.device,
            "/v1/spaces/s2/book-now",
            json!({"duration": "PT15M"}),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(v["error"]["code"], "booking_conflict");
    for (body, code) in [
        (json!({"duration": "30 minutes"}), "invalid_duration"),
        (json!({"duration": "PT0S"}), "invalid_duration"),
        (json!({"duration": "PT25H"}), "invalid_duration"),
        (
            json!({"duration": "PT15M", "title": "a\u{0007}b"}),
            "invalid_title",
        ),
    ] {
        let v = h
            .post(
                &h.member,
                "/v1/spaces/s2/book-now",
                body.clone(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        assert_eq!(v["error"]["code"], code, "{body}: {v}");
    }
    for body in [json!({}), json!({"duration": "PT15M", "start": h.at(0)})] {
        let (s, v) = h
            .call(
                &h.member,
                Method::POST,
                "/v1/spaces/s2/book-now",
                Some(body.clone()),
            )
            .await;
        assert!(s.is_client_error(), "{body}: {s} {v}");
    }
    let v = h
        .post(
            &h.member,
            "/v1/spaces/nope/book-now",
            json!({"duration": "PT15M"}),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(v["error"]["code"], "not_found");
    h.post(
        ADMIN,
        "/v1/spaces",
        json!({"id": "elsewhere", "name": "E", "timezone": "UTC"}),
        StatusCode::CREATED,
    )
    .await;
    let limited = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/tokens",
            Some(json!({"role": "device", "spaceIds": ["elsewhere"]})),
        )
        .await
        .1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    h.post(
        &limited,
        "/v1/spaces/s2/book-now",
        json!({"duration": "PT15M"}),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        h.history_len("s2").await,
        history,
        "the refusals changed nothing"
    );
    let (_, list) = h
        .call(ADMIN, Method::GET, "/v1/bookings?spaceId=s2", None)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    // Closed (the Berlin space is open Monday and Tuesday until 18:00: 10 hours from now).
    h.post(ADMIN, "/v1/spaces", space_body("s1"), StatusCode::CREATED)
        .await;
    let v = h
        .post(
            &h.member,
            "/v1/spaces/s1/book-now",
            json!({"duration": "PT24H"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(v["error"]["code"], "outside_business_hours");
    h.post(ADMIN, "/v1/spaces/s1/disable", json!({}), StatusCode::OK)
        .await;
    let v = h
        .post(
            &h.member,
            "/v1/spaces/s1/book-now",
            json!({"duration": "PT15M"}),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(v["error"]["code"], "space_in_maintenance");
}

zs_store::test_on_both_backends!(
    extend_moves_the_end_or_refuses_and_changes_nothing,
    book_now_books_and_checks_in_or_refuses
);
