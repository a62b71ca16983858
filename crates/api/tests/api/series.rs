//! Recurring series (CONTRACT §9) through the API, on both backends: a weekly series across
//! the end of summer time keeps its local time; each occurrence is an ordinary booking with
//! `seriesId`; `conflicts: refuse` stores nothing and names the occurrence, `skip` lists it;
//! bad rules and bodies are refused with 422 and store nothing; a cancel takes every live
//! occurrence or those from an instant; only the series' own member sees it.

use super::*;

impl Harness {
    async fn send(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(token, method, path, body).await
    }
}

fn series(id: &str, start: &str, end: &str, rrule: &str) -> Value {
    json!({"id": id, "spaceId": "s1", "start": start, "end": end, "title": "Sync", "rrule": rrule})
}

fn starts(v: &Value) -> Vec<String> {
    v["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["start"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_series_books_its_occurrences_or_refuses_whole(db: Backend) {
    let h = harness(db).await;
    let (s, v) = h
        .send(
            ADMIN,
            Method::POST,
            "/v1/spaces",
            Some(json!({"id": "s1", "name": "Room", "timezone": "Europe/Berlin"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Mondays 09:00 in Berlin from 19 October 2026; summer time ends on the 25th.
    let weekly = series(
        "ws",
        "2026-10-19T07:00:00Z",
        "2026-10-19T07:30:00Z",
        "freq=weekly;byday=mo;count=3",
    );
    let (s, v) = h
        .send(&h.member, Method::POST, "/v1/series", Some(weekly))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["rrule"], "FREQ=WEEKLY;BYDAY=MO;COUNT=3");
    assert_eq!(
        starts(&v),
        [
            "2026-10-19T07:00:00Z",
            "2026-10-26T08:00:00Z",
            "2026-11-02T08:00:00Z"
        ]
    );
    let ids: Vec<&str> = v["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ws-1", "ws-2", "ws-3"]);
    assert_eq!(v["skipped"], json!([]));
    let (s, b) = h
        .send(&h.member, Method::GET, "/v1/bookings/ws-2", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["seriesId"].as_str(), b["status"].as_str()),
        (Some("ws"), Some("scheduled"))
    );
    assert_eq!(b["end"], "2026-10-26T08:30:00Z");
    let (s, g) = h.send(&h.member, Method::GET, "/v1/series/ws", None).await;
    assert_eq!(s, StatusCode::OK, "{g}");
    assert_eq!(starts(&g), starts(&v));
    assert_eq!(g["cancelledFrom"], Value::Null);

    // An ordinary booking in the way of the second occurrence of an 11:00 series.
    let blocker = json!({"id": "blocker", "spaceId": "s1", "start": "2026-10-26T10:00:00Z", "end": "2026-10-26T10:30:00Z"});
    let (s, v) = h
        .send(&h.member, Method::POST, "/v1/bookings", Some(blocker))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let eleven = || {
        series(
            "r",
            "2026-10-19T09:00:00Z",
            "2026-10-19T09:30:00Z",
            "FREQ=WEEKLY;COUNT=3",
        )
    };
    let (s, v) = h
        .send(&h.member, Method::POST, "/v1/series", Some(eleven()))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("booking_conflict")),
        "{v}"
    );
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("occurrence 2 of the series (starting 2026-10-26T10:00:00Z)"),
        "{message}"
    );
    for path in ["/v1/series/r", "/v1/bookings/r-1"] {
        let (s, _) = h.send(ADMIN, Method::GET, path, None).await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "{path} stored by a refused series"
        );
    }
    let mut skip = eleven();
    skip["conflicts"] = json!("skip");
    let (s, v) = h
        .send(&h.member, Method::POST, "/v1/series", Some(skip))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(starts(&v), ["2026-10-19T09:00:00Z", "2026-11-02T10:00:00Z"]);
    assert_eq!(
        v["skipped"],
        json!([{"start": "2026-10-26T10:00:00Z", "end": "2026-10-26T10:30:00Z", "code": "booking_conflict"}])
    );

    // Bad requests: 4xx, nothing stored.
    let bad = [
        (
            series(
                "b1",
                "2026-10-19T07:00:00Z",
                "2026-10-19T07:30:00Z",
                "FREQ=YEARLY;COUNT=2",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_rrule",
        ),
        // A Tuesday start for a Monday rule.
        (
            series(
                "b2",
                "2026-10-20T07:00:00Z",
                "2026-10-20T07:30:00Z",
                "FREQ=WEEKLY;BYDAY=MO;COUNT=2",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_rrule",
        ),
        (
            series(
                "b4",
                "2026-10-20T07:00:00Z",
                "2026-10-20T07:30:00Z",
                "FREQ=DAILY;UNTIL=20300101",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_rrule",
        ),
        (
            series(
                "b5",
                "2026-10-20T07:30:00Z",
                "2026-10-20T07:00:00Z",
                "FREQ=DAILY;COUNT=2",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_interval",
        ),
        (
            series(
                "b6",
                "2026-05-01T07:00:00Z",
                "2026-05-01T07:30:00Z",
                "FREQ=DAILY;COUNT=2",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "booking_in_past",
        ),
        (
            series(
                "ws",
                "2026-12-07T07:00:00Z",
                "2026-12-07T07:30:00Z",
                "FREQ=DAILY;COUNT=2",
            ),
            StatusCode::CONFLICT,
            "already_exists",
        ),
        (
            series(
                &"x".repeat(59),
                "2026-12-07T07:00:00Z",
                "2026-12-07T07:30:00Z",
                "FREQ=DAILY;COUNT=2",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id",
        ),
    ];
    for (body, status, code) in bad {
        let (s, v) = h
            .send(&h.member, Method::POST, "/v1/series", Some(body.clone()))
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {v}"
        );
    }
    let mut odd = series(
        "b7",
        "2026-12-07T07:00:00Z",
        "2026-12-07T07:30:00Z",
        "FREQ=DAILY;COUNT=2",
    );
    odd["conflicts"] = json!("sometimes");
    let (s, v) = h
        .send(&h.member, Method::POST, "/v1/series", Some(odd))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_conflicts")),
        "{v}"
    );
    let mut elsewhere = series(
        "b8",
        "2026-12-07T07:00:00Z",
        "2026-12-07T07:30:00Z",
        "FREQ=DAILY;COUNT=2",
    );
    elsewhere["spaceId"] = json!("nowhere");
    let (s, _) = h
        .send(&h.member, Method::POST, "/v1/series", Some(elsewhere))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for id in ["b1", "b2", "b4", "b5", "b6", "b7", "b8"] {
        let (s, _) = h
            .send(ADMIN, Method::GET, &format!("/v1/series/{id}"), None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{id} stored");
        let (s, _) = h
            .send(ADMIN, Method::GET, &format!("/v1/bookings/{id}-1"), None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{id}-1 stored");
    }
    let (s, _) = h
        .send(
            &h.device,
            Method::POST,
            "/v1/series",
            Some(series(
                "d",
                "2026-12-07T07:00:00Z",
                "2026-12-07T07:30:00Z",
                "FREQ=DAILY;COUNT=2",
            )),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Another member neither sees nor cancels it.
    let other = token_of(&h, "member").await;
    for (method, path) in [
        (Method::GET, "/v1/series/ws"),
        (Method::POST, "/v1/series/ws/cancel"),
    ] {
        let (s, v) = h.send(&other, method, path, None).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found")),
            "{path}"
        );
    }

    // Cancel from an instant: the 11:00 series' last occurrence only.
    let (s, v) = h
        .send(
            &h.member,
            Method::POST,
            "/v1/series/r/cancel",
            Some(json!({"from": "2026-10-27T00:00:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(starts(&v), ["2026-11-02T10:00:00Z"]);
    assert_eq!(v["cancelledFrom"], "2026-10-27T00:00:00Z");
    let status = |id: &'static str| {
        let h = &h;
        async move {
            h.send(ADMIN, Method::GET, &format!("/v1/bookings/{id}"), None)
                .await
                .1["status"]
                .clone()
        }
    };
    assert_eq!(status("r-1").await, "scheduled");
    assert_eq!(status("r-3").await, "cancelled");
    // Without a body: every live occurrence.
    let (s, v) = h
        .send(&h.member, Method::POST, "/v1/series/ws/cancel", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(starts(&v).len(), 3);
    for id in ["ws-1", "ws-2", "ws-3"] {
        assert_eq!(status(id).await, "cancelled", "{id}");
    }
    let (s, v) = h
        .send(
            &h.member,
            Method::POST,
            "/v1/series/ws/cancel",
            Some(json!({"from": "soon"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_time"))
    );
}

async fn a_series_is_held_to_the_spaces_policies(db: Backend) {
    let h = harness(db).await;
    let (s, v) = h
        .send(
            ADMIN,
            Method::POST,
            "/v1/spaces",
            Some(json!({"id": "s1", "name": "Room", "timezone": "UTC", "maxDuration": "PT20M", "bookingHorizon": "P10D"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let long = series(
        "p1",
        "2026-05-05T09:00:00Z",
        "2026-05-05T09:30:00Z",
        "FREQ=DAILY;COUNT=3",
    );
    let (s, v) = h
        .send(&h.member, Method::POST, "/v1/series", Some(long))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("policy_max_duration")
        ),
        "{v}"
    );
    // Daily for two weeks: what lies past the ten-day horizon is skipped, each with its code.
    let mut far = series(
        "p2",
        "2026-05-05T09:00:00Z",
        "2026-05-05T09:15:00Z",
        "FREQ=DAILY;COUNT=14",
    );
    far["conflicts"] = json!("skip");
    let (s, v) = h
        .send(&h.member, Method::POST, "/v1/series", Some(far))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Now is 2026-05-04T06:00Z: starts up to 2026-05-14T06:00Z are within ten days.
    assert_eq!(starts(&v).len(), 9);
    let codes: Vec<&str> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["policy_horizon"; 5]);
}

zs_store::test_on_both_backends!(
    a_series_books_its_occurrences_or_refuses_whole,
    a_series_is_held_to_the_spaces_policies
);
