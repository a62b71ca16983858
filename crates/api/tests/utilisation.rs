//! Utilisation through the API with a real store and the engine's test clock: a day with an
//! early check-out, a no-show, a cancellation, maintenance and a session in progress, read
//! back to the millisecond for one space and for all; a DST day; and the refusals.

mod support;

use axum::http::{Method, StatusCode};
use jiff::Timestamp;
use serde_json::{Value, json};
use support::{ADMIN, App};
use zs_engine::testing::TestEngine;
use zs_store::Backend;

const DAY: &str = "from=2026-05-04T00:00:00Z&to=2026-05-05T00:00:00Z";

/// The app on a fresh store, its clock at `now`.
async fn harness(db: Backend, now: &str) -> App {
    App::new(TestEngine::on(db).label("utilisation-api").at(now)).await
}

impl App {
    /// Moves the clock to `at` (today, UTC) and runs every timer due by then.
    async fn at(&self, hhmmss: &str) {
        let t: Timestamp = format!("2026-05-04T{hhmmss}Z").parse().unwrap();
        self.clock.set(t);
        self.engine.run_due_timers().await.unwrap();
    }
}

fn booking(id: &str, start: &str, end: &str) -> Value {
    json!({"id": id, "spaceId": "room", "start": format!("2026-05-04T{start}:00Z"),
           "end": format!("2026-05-04T{end}:00Z")})
}

/// `(open, booked, occupied, released)` seconds and `(bookings, noShows, checkIns)`.
type Read = ((f64, f64, f64, f64), (u64, u64, u64));

/// The figures of a space or of the total.
fn figures(v: &Value) -> Read {
    let f = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"));
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    (
        (
            f("openSeconds"),
            f("bookedSeconds"),
            f("occupiedSeconds"),
            f("releasedSeconds"),
        ),
        (n("bookings"), n("noShows"), n("checkIns")),
    )
}

async fn a_day_of_history_reads_back_to_the_millisecond(db: Backend) {
    let h = harness(db, "2026-05-04T06:00:00Z").await;
    let weekdays = json!({"mon": [{"open": "08:00", "close": "18:00"}]});
    let room = json!({"id": "room", "name": "Room", "timezone": "UTC", "businessHours": weekdays});
    h.ok(Method::POST, "/v1/spaces", Some(room)).await;
    let quiet = json!({"id": "quiet", "name": "Quiet", "timezone": "UTC"});
    h.ok(Method::POST, "/v1/spaces", Some(quiet)).await;
    for (id, start, end) in [
        ("early", "09:00", "10:00"),
        ("absent", "11:00", "12:00"),
        ("dropped", "13:00", "14:00"),
        ("running", "16:30", "17:30"),
    ] {
        h.ok(Method::POST, "/v1/bookings", Some(booking(id, start, end)))
            .await;
    }
    h.at("07:00:00").await;
    h.ok(Method::POST, "/v1/bookings/dropped/cancel", None)
        .await;
    h.at("08:50:00").await;
    h.ok(Method::POST, "/v1/bookings/early/check-in", None)
        .await;
    h.at("09:30:00.250").await;
    h.ok(Method::POST, "/v1/bookings/early/check-out", None)
        .await;
    h.at("11:10:00").await; // nobody came: released at the no-show deadline
    h.at("15:00:00").await;
    h.ok(Method::POST, "/v1/spaces/room/disable", None).await;
    h.at("16:00:00").await;
    h.ok(Method::POST, "/v1/spaces/room/enable", None).await;
    h.at("16:30:00").await;
    h.ok(Method::POST, "/v1/bookings/running/check-in", None)
        .await;
    h.at("17:00:00").await;

    let one = h
        .ok(
            Method::GET,
            &format!("/v1/spaces/room/utilisation?{DAY}"),
            None,
        )
        .await;
    let room = (
        // 08:00–18:00 less the hour of maintenance.
        (
            9.0 * 3600.0,
            // early, absent and running: three hours booked (the cancelled one is not).
            3.0 * 3600.0,
            // 08:50 to 09:30:00.250, and 16:30 to now (17:00).
            2400.25 + 1800.0,
            // 09:30:00.250 to 10:00, and the no-show's 11:10 to 12:00.
            1799.75 + 3000.0,
        ),
        (3, 1, 2),
    );
    assert_eq!(figures(&one["total"]), room, "{one}");
    assert_eq!(one["spaces"].as_array().unwrap().len(), 1);
    assert_eq!(one["spaces"][0]["spaceId"], "room");
    assert_eq!(figures(&one["spaces"][0]), room);
    assert_eq!(
        (one["from"].as_str(), one["to"].as_str()),
        (Some("2026-05-04T00:00:00Z"), Some("2026-05-05T00:00:00Z"))
    );

    let all = h
        .ok(Method::GET, &format!("/v1/utilisation?{DAY}"), None)
        .await;
    let ids: Vec<&str> = all["spaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["spaceId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["quiet", "room"]);
    // Always open, created at 06:00: open from then to midnight.
    assert_eq!(
        figures(&all["spaces"][0]),
        ((18.0 * 3600.0, 0.0, 0.0, 0.0), (0, 0, 0))
    );
    assert_eq!(figures(&all["spaces"][1]), room);
    let ((o, b, c, r), (n, s, i)) = room;
    assert_eq!(
        figures(&all["total"]),
        ((o + 18.0 * 3600.0, b, c, r), (n, s, i))
    );

    // A narrower range clips to the millisecond: 09:15 to 09:30:00.001.
    let path = "/v1/spaces/room/utilisation?from=2026-05-04T09:15:00Z&to=2026-05-04T09:30:00.001Z";
    let v = h.ok(Method::GET, path, None).await;
    assert_eq!(
        figures(&v["total"]),
        ((900.001, 900.001, 900.001, 0.0), (0, 0, 0)),
        "{v}"
    );
}

/// Berlin's spring-forward Sunday is 23 hours long, and a booking from 01:00 to 04:00 local
/// time that day holds two real hours.
async fn a_dst_day_counts_its_real_hours(db: Backend) {
    let h = harness(db, "2026-03-27T12:00:00Z").await;
    let sunday = json!({"sun": [{"open": "00:00", "close": "24:00"}]});
    let room =
        json!({"id": "room", "name": "Room", "timezone": "Europe/Berlin", "businessHours": sunday});
    h.ok(Method::POST, "/v1/spaces", Some(room)).await;
    let b = json!({"id": "night", "spaceId": "room", "start": "2026-03-29T01:00:00+01:00",
                   "end": "2026-03-29T04:00:00+02:00"});
    h.ok(Method::POST, "/v1/bookings", Some(b)).await;
    let path = "/v1/spaces/room/utilisation?from=2026-03-28T00:00:00Z&to=2026-03-30T00:00:00Z";
    let v = h.ok(Method::GET, path, None).await;
    assert_eq!(
        figures(&v["total"]),
        ((23.0 * 3600.0, 2.0 * 3600.0, 0.0, 0.0), (1, 0, 0)),
        "{v}"
    );
}

async fn every_role_may_read_and_bad_ranges_are_refused(db: Backend) {
    let h = harness(db, "2026-05-04T06:00:00Z").await;
    h.ok(
        Method::POST,
        "/v1/spaces",
        Some(json!({"id": "room", "name": "Room", "timezone": "UTC"})),
    )
    .await;
    for role in ["member", "device"] {
        let t = h
            .ok(Method::POST, "/v1/tokens", Some(json!({"role": role})))
            .await;
        let token = t["token"].as_str().unwrap();
        for path in [
            format!("/v1/spaces/room/utilisation?{DAY}"),
            format!("/v1/utilisation?{DAY}"),
        ] {
            let (s, v) = h.call(token, Method::GET, &path, None).await;
            assert_eq!(s, StatusCode::OK, "{role} {path}: {v}");
        }
    }
    let refused = [
        (
            "/v1/spaces/room/utilisation?from=2026-05-05T00:00:00Z&to=2026-05-04T00:00:00Z",
            422,
            "invalid_range",
        ),
        (
            "/v1/utilisation?from=2026-05-04T00:00:00Z&to=2026-05-04T00:00:00Z",
            422,
            "invalid_range",
        ),
        (
            "/v1/utilisation?from=2026-01-01T00:00:00Z&to=2027-01-02T00:00:00.001Z",
            422,
            "invalid_range",
        ),
        (
            "/v1/utilisation?from=2026-05-04&to=2026-05-05T00:00:00Z",
            422,
            "invalid_time",
        ),
        (
            "/v1/utilisation?to=2026-05-05T00:00:00Z",
            400,
            "invalid_query",
        ),
        (
            "/v1/spaces/nope/utilisation?from=2026-05-04T00:00:00Z&to=2026-05-05T00:00:00Z",
            404,
            "not_found",
        ),
        (
            "/v1/spaces/nope/utilisation?from=bad&to=2026-05-05T00:00:00Z",
            422,
            "invalid_time",
        ),
    ];
    for (path, status, code) in refused {
        let (s, v) = h.call(ADMIN, Method::GET, path, None).await;
        assert_eq!(
            (s.as_u16(), v["error"]["code"].as_str()),
            (status, Some(code)),
            "{path}: {v}"
        );
    }
    // 366 days exactly is allowed.
    let path = "/v1/utilisation?from=2026-01-01T00:00:00Z&to=2027-01-02T00:00:00Z";
    assert_eq!(
        h.call(ADMIN, Method::GET, path, None).await.0,
        StatusCode::OK
    );
}

zs_store::test_on_both_backends!(
    a_day_of_history_reads_back_to_the_millisecond,
    a_dst_day_counts_its_real_hours,
    every_role_may_read_and_bad_ranges_are_refused,
);
