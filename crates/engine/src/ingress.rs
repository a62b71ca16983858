//! Ingress jobs on `meetingScheduler` from other services (CONTRACT §7): the job name is
//! the event, the data carries the ids. Parsed strictly; a malformed job fails with a clear
//! reason and changes nothing. A job naming a booking not yet known may wait for it
//! ([`Engine::apply_ingress_within`]); every job is counted by outcome
//! (`zs_ingress_jobs_total`). Error reasons start with the API's code for the same meaning.

mod outcome;

pub use outcome::{Outcome, event_label};

use crate::{Engine, EngineError};
use outcome::{already_applied, count, refused};
use serde_json::Value;
use std::time::Duration;
use zs_core::{BookingId, Command, NewBooking, SpaceId};

/// The ingress event names, as jobs are named.
pub const EVENTS: [&str; 6] = [
    "BOOKING_CREATED",
    "BOOKING_CANCELLED",
    "USER_CHECKS_IN",
    "USER_CHECKS_OUT",
    "ADMIN_DISABLE",
    "ADMIN_ENABLE",
];

/// How often a job waiting for its booking looks for it in the store.
const BOOKING_POLL: Duration = Duration::from_millis(25);

/// An example instant for error messages.
const EXAMPLE_INSTANT: &str = "2026-05-04T09:00:00Z";

/// What an ingress job asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingress {
    /// `BOOKING_CREATED {bookingId, spaceId, start, end, title?}`
    Create(SpaceId, NewBooking),
    /// `BOOKING_CANCELLED`, `USER_CHECKS_IN`, `USER_CHECKS_OUT` `{bookingId}`
    Booking(BookingId, Command),
    /// `ADMIN_DISABLE`, `ADMIN_ENABLE` `{spaceId}`
    Space(SpaceId, Command),
}

fn field<'a>(data: &'a Value, name: &str) -> Result<&'a str, String> {
    data.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("data.{name} must be a string"))
}

fn instant(data: &Value, name: &str) -> Result<jiff::Timestamp, String> {
    let got = match data.get(name) {
        Some(Value::String(s)) => match s.parse::<jiff::Timestamp>() {
            Ok(t) => return Ok(zs_core::clock::to_millis(t)),
            Err(_) => format!("{s:?}"),
        },
        // Epoch milliseconds are the usual mistake: say what is wanted instead.
        Some(Value::Number(n)) => format!("the number {n}"),
        Some(Value::Bool(_)) => "a boolean".to_owned(),
        Some(Value::Array(_)) => "an array".to_owned(),
        Some(Value::Object(_)) => "an object".to_owned(),
        Some(Value::Null) => "null".to_owned(),
        None => "nothing".to_owned(),
    };
    Err(format!(
        "data.{name} must be an RFC 3339 instant such as {EXAMPLE_INSTANT:?} (got {got})"
    ))
}

/// Parses an ingress job; the error says what is wrong with it.
pub fn parse(name: &str, data: &Value) -> Result<Ingress, String> {
    if !data.is_object() {
        return Err("data must be a JSON object".into());
    }
    let booking = || BookingId::parse(field(data, "bookingId")?).map_err(|e| e.to_string());
    let space = || SpaceId::parse(field(data, "spaceId")?).map_err(|e| e.to_string());
    Ok(match name {
        "BOOKING_CREATED" => {
            let title = match data.get("title") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(t)) if t.len() <= 500 => t.clone(),
                Some(_) => {
                    return Err("data.title must be a string of at most 500 characters".into());
                }
            };
            let n = NewBooking {
                id: booking()?,
                title,
                start: instant(data, "start")?,
                end: instant(data, "end")?,
            };
            Ingress::Create(space()?, n)
        }
        "BOOKING_CANCELLED" => Ingress::Booking(booking()?, Command::Cancel(booking()?)),
        "USER_CHECKS_IN" => Ingress::Booking(booking()?, Command::CheckIn(booking()?)),
        "USER_CHECKS_OUT" => Ingress::Booking(booking()?, Command::CheckOut(booking()?)),
        "ADMIN_DISABLE" => Ingress::Space(space()?, Command::Disable),
        "ADMIN_ENABLE" => Ingress::Space(space()?, Command::Enable),
        other => {
            return Err(format!(
                "{other:?} is not an ingress event ({})",
                EVENTS.join(", ")
            ));
        }
    })
}

impl Ingress {
    /// The booking the job names, if any.
    pub fn booking(&self) -> Option<&BookingId> {
        match self {
            Ingress::Create(_, n) => Some(&n.id),
            Ingress::Booking(id, _) => Some(id),
            Ingress::Space(..) => None,
        }
    }

    /// The space the job names in its data, if any (a booking-only job names none: its
    /// space is the booking's, known to the store once the booking exists).
    pub fn space(&self) -> Option<&SpaceId> {
        match self {
            Ingress::Create(s, _) | Ingress::Space(s, _) => Some(s),
            Ingress::Booking(..) => None,
        }
    }
}

impl Engine {
    /// Applies an ingress job with the same rules as the API. Returns the job's result
    /// (the booking or the space state), or why it was refused. A job whose effect is
    /// already in place (a repeat) completes with `{"alreadyApplied": true, …}`.
    pub async fn apply_ingress(&self, name: &str, data: &Value) -> Result<Value, String> {
        self.apply_ingress_within(name, data, Duration::ZERO).await
    }

    /// [`Engine::apply_ingress`], but a job naming a booking the store does not know yet
    /// (`BOOKING_CANCELLED`, `USER_CHECKS_IN`, `USER_CHECKS_OUT`) waits up to `wait` for
    /// it to appear before it is refused as `not_found`. Counts the job by outcome.
    pub async fn apply_ingress_within(
        &self,
        name: &str,
        data: &Value,
        wait: Duration,
    ) -> Result<Value, String> {
        let job = match parse(name, data) {
            Ok(job) => job,
            Err(e) => {
                count(name, Outcome::Malformed);
                return Err(e);
            }
        };
        let result = self.apply_parsed(job, data, wait).await;
        let outcome = match &result {
            Ok(v) if v.get("alreadyApplied") == Some(&Value::Bool(true)) => Outcome::AlreadyApplied,
            Ok(_) => Outcome::Applied,
            Err(_) => Outcome::Refused,
        };
        count(name, outcome);
        result
    }

    /// The space of booking `id`, waiting up to `wait` for the booking to be stored.
    async fn space_of_within(&self, id: &BookingId, wait: Duration) -> Result<SpaceId, String> {
        let until = tokio::time::Instant::now() + wait;
        loop {
            match self.space_of(id).await {
                Err(EngineError::NotFound(_)) if tokio::time::Instant::now() < until => {
                    tokio::time::sleep(BOOKING_POLL).await;
                }
                Err(EngineError::NotFound(what)) if !wait.is_zero() => {
                    return Err(format!(
                        "not_found: {what} not found (waited {} ms for it to be created)",
                        wait.as_millis()
                    ));
                }
                r => return r.map_err(refused),
            }
        }
    }

    async fn apply_parsed(
        &self,
        job: Ingress,
        data: &Value,
        wait: Duration,
    ) -> Result<Value, String> {
        match job {
            Ingress::Create(space, n) => {
                let id = n.id.clone();
                match self.create_booking(&space, n, None).await {
                    Ok(crate::Created::New { body, .. }) => {
                        Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
                    }
                    Ok(crate::Created::Replayed { body, .. }) => {
                        Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
                    }
                    Err(EngineError::Exists(_)) => self.same_booking(&space, &id, data).await,
                    Err(e) => Err(refused(e)),
                }
            }
            Ingress::Booking(id, cmd) => {
                let space = self.space_of_within(&id, wait).await?;
                match self.execute(&space, cmd.clone()).await {
                    Ok(a) => {
                        let b = a
                            .facts
                            .bookings
                            .iter()
                            .find(|b| b.id == id)
                            .map(crate::payload::booking_json);
                        Ok(b.unwrap_or(Value::Null))
                    }
                    Err(e) if already_applied(&cmd, &e) => {
                        Ok(serde_json::json!({ "alreadyApplied": true, "bookingId": id }))
                    }
                    Err(e) => Err(refused(e)),
                }
            }
            Ingress::Space(space, cmd) => match self.execute(&space, cmd.clone()).await {
                Ok(a) => Ok(serde_json::json!({
                    "spaceId": space, "space": a.facts.status.space.as_str(), "room": a.facts.status.room.as_str()
                })),
                Err(e) if already_applied(&cmd, &e) => {
                    Ok(serde_json::json!({ "alreadyApplied": true, "spaceId": space }))
                }
                Err(e) => Err(refused(e)),
            },
        }
    }
}

impl Engine {
    /// A repeated `BOOKING_CREATED`: fine when the stored booking is the same one.
    async fn same_booking(
        &self,
        space: &SpaceId,
        id: &BookingId,
        data: &Value,
    ) -> Result<Value, String> {
        let mut c = self.store.read().await.map_err(|e| e.to_string())?;
        let b = zs_store::bookings::get(&mut c, id)
            .await
            .map_err(|e| e.to_string())?;
        let same = b.as_ref().is_some_and(|b| {
            &b.space_id == space
                && Some(b.start) == instant(data, "start").ok()
                && Some(b.end) == instant(data, "end").ok()
        });
        match b {
            Some(b) if same => {
                let mut v = crate::payload::booking_json(&b);
                v["alreadyApplied"] = Value::Bool(true);
                Ok(v)
            }
            _ => Err(format!(
                "already_exists: another booking with id {id} exists"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_every_ingress_event() {
        let c = parse(
            "BOOKING_CREATED",
            &json!({"bookingId": "b", "spaceId": "s", "start": "2026-05-04T09:00:00Z", "end": "2026-05-04T10:00:00Z"}),
        );
        assert!(matches!(c, Ok(Ingress::Create(_, ref n)) if n.title.is_empty()));
        assert!(matches!(
            parse("USER_CHECKS_IN", &json!({"bookingId": "b"})),
            Ok(Ingress::Booking(_, Command::CheckIn(_)))
        ));
        assert!(matches!(
            parse("USER_CHECKS_OUT", &json!({"bookingId": "b"})),
            Ok(Ingress::Booking(_, Command::CheckOut(_)))
        ));
        assert!(matches!(
            parse("BOOKING_CANCELLED", &json!({"bookingId": "b"})),
            Ok(Ingress::Booking(_, Command::Cancel(_)))
        ));
        assert!(matches!(
            parse("ADMIN_DISABLE", &json!({"spaceId": "s"})),
            Ok(Ingress::Space(_, Command::Disable))
        ));
        assert!(matches!(
            parse("ADMIN_ENABLE", &json!({"spaceId": "s"})),
            Ok(Ingress::Space(_, Command::Enable))
        ));
    }

    #[test]
    fn malformed_jobs_say_what_is_wrong() {
        let cases = [
            ("BOOKING_CREATED", json!({"spaceId": "s"}), "bookingId"),
            (
                "BOOKING_CREATED",
                json!({"bookingId": "b", "spaceId": "s", "start": "soon", "end": "later"}),
                "RFC 3339",
            ),
            ("USER_CHECKS_IN", json!({"bookingId": 7}), "bookingId"),
            ("USER_CHECKS_IN", json!("b"), "JSON object"),
            ("ADMIN_DISABLE", json!({"spaceId": "a b"}), "space id"),
            (
                "START_TIME_REACHED",
                json!({"spaceId": "s"}),
                "not an ingress event",
            ),
        ];
        for (name, data, needle) in cases {
            let e = parse(name, &data).unwrap_err();
            assert!(e.contains(needle), "{name} {data}: {e}");
        }
    }

    #[test]
    fn epoch_milliseconds_are_told_that_rfc_3339_is_wanted() {
        let data = json!({"bookingId": "b", "spaceId": "s", "start": 1_777_885_200_000_i64, "end": "2026-05-04T10:00:00Z"});
        assert_eq!(
            parse("BOOKING_CREATED", &data).unwrap_err(),
            r#"data.start must be an RFC 3339 instant such as "2026-05-04T09:00:00Z" (got the number 1777885200000)"#
        );
        let data = json!({"bookingId": "b", "spaceId": "s", "start": "2026-05-04T09:00:00Z", "end": "tomorrow"});
        assert_eq!(
            parse("BOOKING_CREATED", &data).unwrap_err(),
            r#"data.end must be an RFC 3339 instant such as "2026-05-04T09:00:00Z" (got "tomorrow")"#
        );
    }

    #[test]
    fn jobs_name_their_booking_and_space() {
        let c = parse(
            "BOOKING_CREATED",
            &json!({"bookingId": "b", "spaceId": "s", "start": "2026-05-04T09:00:00Z", "end": "2026-05-04T10:00:00Z"}),
        )
        .unwrap();
        assert_eq!(
            (
                c.booking().map(|b| b.as_str()),
                c.space().map(|s| s.as_str())
            ),
            (Some("b"), Some("s"))
        );
        let k = parse("USER_CHECKS_IN", &json!({"bookingId": "b"})).unwrap();
        assert_eq!(
            (k.booking().map(|b| b.as_str()), k.space()),
            (Some("b"), None)
        );
        let d = parse("ADMIN_DISABLE", &json!({"spaceId": "s"})).unwrap();
        assert_eq!(
            (d.booking(), d.space().map(|s| s.as_str())),
            (None, Some("s"))
        );
    }

    #[test]
    fn unknown_job_names_are_not_metric_labels() {
        assert_eq!(event_label("USER_CHECKS_IN"), "USER_CHECKS_IN");
        assert_eq!(event_label("whatever a producer sends"), "other");
    }
}
