//! Ownership (issue 14, finding 3): members read and act on the bookings they created only,
//! a device limited to `spaceIds` acts on those spaces' bookings only, and `DELETE
//! /v1/spaces/{id}` removes a finished space with everything only it had.

use super::*;
use zs_store::Queue;
use zs_store::jobs::{self, NewJob};
use zs_store::{bookings, spaces};

impl Harness {
    /// Mints a token; its clear text.
    async fn mint(&self, body: Value) -> String {
        let (s, v) = self
            .call(ADMIN, Method::POST, "/v1/tokens", Some(body))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["token"].as_str().unwrap().to_owned()
    }

    /// Books `id` in `space` with `token`, `from` to `to` minutes from now.
    async fn book(&self, token: &str, id: &str, space: &str, from: i64, to: i64) {
        let body = json!({"id": id, "spaceId": space, "start": self.at(from), "end": self.at(to)});
        let (s, v) = self
            .call(token, Method::POST, "/v1/bookings", Some(body))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }

    /// The ids of `GET /v1/bookings` for `token`.
    async fn listed(&self, token: &str) -> Vec<String> {
        let (s, v) = self.call(token, Method::GET, "/v1/bookings", None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn status_of(&self, booking: &str) -> String {
        let (s, v) = self
            .call(ADMIN, Method::GET, &format!("/v1/bookings/{booking}"), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["status"].as_str().unwrap().to_owned()
    }
}

/// The answer for a booking that does not exist, with the id swapped for `id`: what a
/// caller must get for a booking that exists but is not theirs.
async fn unknown_answer(h: &Harness, token: &str, method: Method, path: &str, id: &str) -> Value {
    let (s, v) = h
        .call(
            token,
            method,
            &path.replace("{id}", "no-such-booking"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    serde_json::from_str(&v.to_string().replace("no-such-booking", id)).unwrap()
}

const BOOKING_ROUTES: [(Method, &str); 4] = [
    (Method::GET, "/v1/bookings/{id}"),
    (Method::POST, "/v1/bookings/{id}/cancel"),
    (Method::POST, "/v1/bookings/{id}/check-in"),
    (Method::POST, "/v1/bookings/{id}/check-out"),
];

async fn members_see_and_act_on_their_own_bookings_only(db: Backend) {
    let h = harness(db).await;
    let other = h.mint(json!({"role": "member", "label": "B"})).await;
    h.call(ADMIN, Method::POST, "/v1/spaces", Some(space_body("s1")))
        .await;
    // Check-in opens 15 minutes before the start: a1 and b1 can be checked in now.
    h.book(&h.member, "a1", "s1", 10, 40).await;
    h.book(&other, "b1", "s1", 60, 90).await;
    h.book(ADMIN, "adm", "s1", 120, 150).await;

    assert_eq!(h.listed(&h.member).await, ["a1"]);
    assert_eq!(h.listed(&other).await, ["b1"]);
    assert_eq!(h.listed(ADMIN).await, ["a1", "b1", "adm"]);
    let (_, v) = h
        .call(&h.member, Method::GET, "/v1/bookings?spaceId=s1", None)
        .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");

    // Someone else's booking, or one an admin made, answers exactly as an unknown id.
    for id in ["b1", "adm"] {
        for (method, path) in BOOKING_ROUTES {
            let want = unknown_answer(&h, &h.member, method.clone(), path, id).await;
            let (s, v) = h
                .call(&h.member, method.clone(), &path.replace("{id}", id), None)
                .await;
            assert_eq!((s, &v), (StatusCode::NOT_FOUND, &want), "{method} {path}");
            assert_eq!(v["error"]["code"], "not_found");
        }
    }
    assert_eq!(h.status_of("b1").await, "scheduled", "nothing changed");

    // Its own: read, check in, check out; the other member cancels its own.
    let (s, v) = h
        .call(&h.member, Method::GET, "/v1/bookings/a1", None)
        .await;
    assert_eq!((s, v["id"].as_str()), (StatusCode::OK, Some("a1")));
    let (s, v) = h
        .call(&h.member, Method::POST, "/v1/bookings/a1/check-in", None)
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("checked_in")),
        "{v}"
    );
    let (s, _) = h
        .call(&h.member, Method::POST, "/v1/bookings/a1/check-out", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = h
        .call(&other, Method::POST, "/v1/bookings/b1/cancel", None)
        .await;
    assert_eq!(s, StatusCode::OK);

    // Admins read and act on all; an unlimited device acts on all (the admin's included).
    let (s, _) = h.call(ADMIN, Method::GET, "/v1/bookings/b1", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = h
        .call(&h.device, Method::POST, "/v1/bookings/adm/cancel", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h.status_of("adm").await, "cancelled");

    // The owner is the token, not the role: a revoked member's bookings are nobody's but
    // the admin's and the devices'; a new token of the same person does not inherit them.
    let renewed = h.mint(json!({"role": "member", "label": "B again"})).await;
    assert!(h.listed(&renewed).await.is_empty());
}

async fn a_limited_device_acts_on_its_spaces_only(db: Backend) {
    let h = harness(db).await;
    for id in ["s1", "s2"] {
        h.call(ADMIN, Method::POST, "/v1/spaces", Some(space_body(id)))
            .await;
    }
    let (s, v) = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/tokens",
            Some(json!({"role": "device", "label": "panel", "spaceIds": ["s1", "s1"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["spaceIds"], json!(["s1"]), "repeats folded");
    let panel = v["token"].as_str().unwrap().to_owned();
    let panel_id = v["id"].as_str().unwrap().to_owned();

    // Refused mints: clear 422s, and no token is stored.
    let before = h.call(ADMIN, Method::GET, "/v1/tokens", None).await.1;
    for (body, code) in [
        (
            json!({"role": "member", "spaceIds": ["s1"]}),
            "invalid_space_ids",
        ),
        (
            json!({"role": "member", "spaceIds": []}),
            "invalid_space_ids",
        ),
        (
            json!({"role": "device", "spaceIds": []}),
            "invalid_space_ids",
        ),
        (
            json!({"role": "device", "spaceIds": ["not an id"]}),
            "invalid_space_ids",
        ),
        (
            json!({"role": "device", "spaceIds": ["s1", "nope"]}),
            "unknown_space",
        ),
        (json!({"role": "device", "spaceIds": "s1"}), "invalid_body"),
    ] {
        let (s, v) = h
            .call(ADMIN, Method::POST, "/v1/tokens", Some(body.clone()))
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{body}: {v}"
        );
    }
    let (_, v) = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/tokens",
            Some(json!({"role": "device", "spaceIds": ["s1", "nope"]})),
        )
        .await;
    assert!(
        v["error"]["message"].as_str().unwrap().contains("nope"),
        "{v}"
    );
    let (_, v) = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/tokens",
            Some(json!({"role": "member", "spaceIds": ["s1"]})),
        )
        .await;
    assert!(
        v["error"]["message"].as_str().unwrap().contains("device"),
        "{v}"
    );
    assert_eq!(
        h.call(ADMIN, Method::GET, "/v1/tokens", None).await.1,
        before
    );

    // The list shows the limit; unlimited tokens show null.
    let listed = &before["items"];
    let limit_of = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .unwrap()["spaceIds"]
            .clone()
    };
    assert_eq!(limit_of(&panel_id), json!(["s1"]));
    let unlimited: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["id"] != panel_id.as_str())
        .collect();
    assert_eq!(unlimited.len(), 2);
    assert!(
        unlimited.iter().all(|t| t["spaceIds"].is_null()),
        "{listed}"
    );

    h.book(&h.member, "in1", "s1", 10, 40).await;
    h.book(&h.member, "in2", "s2", 10, 40).await;
    h.book(&h.member, "in2b", "s2", 60, 90).await;
    let in2 = h.status_of("in2").await;
    for (method, path) in &BOOKING_ROUTES {
        let want = unknown_answer(&h, &panel, method.clone(), path, "in2").await;
        let (s, v) = h
            .call(&panel, method.clone(), &path.replace("{id}", "in2"), None)
            .await;
        assert_eq!((s, &v), (StatusCode::NOT_FOUND, &want), "{method} {path}");
    }
    assert_eq!(h.status_of("in2").await, in2, "nothing changed");
    let (s, v) = h
        .call(&panel, Method::POST, "/v1/bookings/in1/check-in", None)
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("checked_in")),
        "{v}"
    );
    let (s, _) = h
        .call(&panel, Method::POST, "/v1/bookings/in1/check-out", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    // A door panel reads its spaces' bookings (whoever made them) and lists them one space at
    // a time; another space is as unknown to it as a missing one.
    let (s, v) = h.call(&panel, Method::GET, "/v1/bookings/in1", None).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("completed")),
        "{v}"
    );
    let (s, v) = h
        .call(&panel, Method::GET, "/v1/bookings?spaceId=s1", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["items"][0]["id"], "in1");
    let (s, v) = h.call(&panel, Method::GET, "/v1/bookings", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("space_required")),
        "{v}"
    );
    let (s, v) = h
        .call(&panel, Method::GET, "/v1/bookings?spaceId=s2", None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{v}"
    );
    // An unlimited device lists every space's bookings.
    assert_eq!(h.listed(&h.device).await.len(), 3);
    // An unlimited device acts on any space.
    let (s, _) = h
        .call(&h.device, Method::POST, "/v1/bookings/in2/cancel", None)
        .await;
    assert_eq!(s, StatusCode::OK);

    // The limit is read with the token on every request: once s1 is deleted the panel's
    // list is empty, and it means none, not all; s1 created again is not the panel's.
    let (s, v) = h.call(ADMIN, Method::DELETE, "/v1/spaces/s1", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (_, v) = h.call(ADMIN, Method::GET, "/v1/tokens", None).await;
    let panel_row = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == panel_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(panel_row["spaceIds"], json!([]));
    let (s, _) = h
        .call(&panel, Method::POST, "/v1/bookings/in2b/cancel", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    h.call(ADMIN, Method::POST, "/v1/spaces", Some(space_body("s1")))
        .await;
    h.book(&h.member, "again", "s1", 60, 90).await;
    let (s, _) = h
        .call(&panel, Method::POST, "/v1/bookings/again/cancel", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Revoked: 401 at once.
    let (s, _) = h
        .call(
            ADMIN,
            Method::DELETE,
            &format!("/v1/tokens/{panel_id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = h
        .call(&panel, Method::POST, "/v1/bookings/again/cancel", None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

async fn deleting_a_space_removes_what_only_it_had(db: Backend) {
    let h = harness(db).await;
    let s1 = zs_core::SpaceId::parse("s1").unwrap();
    for id in ["s1", "s2"] {
        h.call(ADMIN, Method::POST, "/v1/spaces", Some(space_body(id)))
            .await;
    }
    h.book(&h.member, "done", "s1", 10, 40).await;
    h.book(&h.member, "live", "s1", 60, 90).await;
    h.book(&h.member, "live2", "s1", 120, 150).await;
    h.book(&h.member, "other", "s2", 60, 90).await;
    h.call(&h.member, Method::POST, "/v1/bookings/done/cancel", None)
        .await;

    // Roles, unknown ids, live bookings.
    for token in [&h.member, &h.device] {
        let (s, _) = h.call(token, Method::DELETE, "/v1/spaces/s1", None).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, v) = h.call(ADMIN, Method::DELETE, "/v1/spaces/nope", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = h.call(ADMIN, Method::DELETE, "/v1/spaces/s1", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("space_has_live_bookings")),
        "{v}"
    );
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("2 live bookings") && message.contains("live, live2"),
        "{message}"
    );
    assert_eq!(h.status_of("live").await, "scheduled", "nothing changed");
    for id in ["live", "live2"] {
        let (s, _) = h
            .call(
                &h.member,
                Method::POST,
                &format!("/v1/bookings/{id}/cancel"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }
    let last = h.call(ADMIN, Method::GET, "/v1/spaces/s1", None).await.1["state"]["sequence"]
        .as_u64()
        .unwrap();
    assert!(last > 0);
    let mut c = h.engine.store.read().await.unwrap();
    let timers = jobs::list(&mut c, Queue::MeetingScheduler, 1000)
        .await
        .unwrap();
    let s1_timer = timers
        .iter()
        .find(|j| j.group.as_deref() == Some("s1"))
        .expect("s1 has its business-hours timer")
        .clone();
    drop(c);

    let (s, v) = h.call(ADMIN, Method::DELETE, "/v1/spaces/s1", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, _) = h.call(ADMIN, Method::DELETE, "/v1/spaces/s1", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a second delete");
    for path in ["/v1/spaces/s1", "/v1/bookings/done", "/v1/bookings/live"] {
        let (s, _) = h.call(ADMIN, Method::GET, path, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(h.listed(ADMIN).await, ["other"], "s2 keeps its own");

    // Nothing of s1 is left in the store.
    let mut c = h.engine.store.read().await.unwrap();
    assert!(spaces::get(&mut c, &s1).await.unwrap().is_none());
    assert!(spaces::history(&mut c, &s1, 1000).await.unwrap().is_empty());
    assert!(
        bookings::list(&mut c, Some(&s1), None, None, 1000)
            .await
            .unwrap()
            .is_empty()
    );
    let timers = jobs::list(&mut c, Queue::MeetingScheduler, 1000)
        .await
        .unwrap();
    assert!(
        timers.iter().all(|j| j.group.as_deref() != Some("s1")),
        "{timers:?}"
    );
    assert!(timers.iter().any(|j| j.group.as_deref() == Some("s2")));
    drop(c);

    // No timer fires for it later, and one that still arrives (a plan that raced the
    // delete, a delayed queue job) is dropped quietly.
    let mut tx = h.engine.store.begin().await.unwrap();
    let stray = NewJob {
        id: s1_timer.id.clone(),
        queue: Queue::MeetingScheduler,
        name: s1_timer.name.clone(),
        data: s1_timer.data.clone(),
        due: s1_timer.due,
        rank: 9,
        group: s1_timer.group.clone(),
    };
    jobs::put(&mut tx, &stray, h.clock_now()).await.unwrap();
    tx.commit().await.unwrap();
    h.clock.advance(SignedDuration::from_hours(30));
    h.engine.run_due_timers().await.unwrap();
    assert_eq!(
        h.engine.run_space_timers(&s1, h.clock_now()).await.unwrap(),
        0
    );
    let mut c = h.engine.store.read().await.unwrap();
    let timers = jobs::list(&mut c, Queue::MeetingScheduler, 1000)
        .await
        .unwrap();
    assert!(
        timers.iter().all(|j| j.group.as_deref() != Some("s1")),
        "{timers:?}"
    );
    assert!(spaces::get(&mut c, &s1).await.unwrap().is_none());
    assert!(spaces::history(&mut c, &s1, 1000).await.unwrap().is_empty());
    drop(c);

    // The same id may be created again: a new space whose sequence goes on above the
    // deleted one's, so status receivers take its updates.
    let (s, v) = h
        .call(
            ADMIN,
            Method::POST,
            "/v1/spaces",
            Some(json!({"id": "s1", "name": "Again", "timezone": "UTC"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["state"]["sequence"].as_u64(), Some(last));
    h.book(&h.member, "new", "s1", 60, 90).await;
    let (_, v) = h
        .call(ADMIN, Method::GET, "/v1/spaces/s1/history", None)
        .await;
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "no history of the deleted space: {v}");
    assert_eq!(items[0]["sequence"].as_u64(), Some(last + 1));
}

zs_store::test_on_both_backends!(
    members_see_and_act_on_their_own_bookings_only,
    a_limited_device_acts_on_its_spaces_only,
    deleting_a_space_removes_what_only_it_had
);
