//! Ingress jobs on `meetingScheduler` from other services (CONTRACT §7): the job name is
//! the event, the data carries the ids. Parsed strictly; a malformed job fails with a clear
//! reason and changes nothing.

use crate::{Engine, EngineError};
use serde_json::Value;
use zs_core::{BookingId, Command, NewBooking, SpaceId};

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
    let s = field(data, name)?;
    s.parse::<jiff::Timestamp>()
        .map(zs_core::clock::to_millis)
        .map_err(|_| format!("data.{name} {s:?} is not an RFC 3339 instant"))
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
                "{other:?} is not an ingress event (BOOKING_CREATED, BOOKING_CANCELLED, USER_CHECKS_IN, USER_CHECKS_OUT, ADMIN_DISABLE, ADMIN_ENABLE)"
            ));
        }
    })
}

/// Whether a refusal only says the job's effect is already in place — what a queue's
/// at-least-once delivery produces when a job runs again after a crash.
fn already_applied(cmd: &Command, e: &EngineError) -> bool {
    use zs_core::{BookingStatus as S, DomainError as D};
    let EngineError::Domain(d) = e else {
        return false;
    };
    matches!(
        (cmd, d),
        (Command::CheckIn(_), D::AlreadyCheckedIn)
            | (Command::CheckOut(_), D::NotCheckedIn(S::Completed))
            | (Command::Cancel(_), D::Finished(S::Cancelled))
            | (Command::Disable, D::AlreadyInMaintenance)
            | (Command::Enable, D::NotInMaintenance)
    )
}

impl Engine {
    /// Applies an ingress job with the same rules as the API. Returns the job's result
    /// (the booking or the space state), or why it was refused. A job whose effect is
    /// already in place (a repeat) completes with `{"alreadyApplied": true, …}`.
    pub async fn apply_ingress(&self, name: &str, data: &Value) -> Result<Value, String> {
        let refused = |e: EngineError| match e {
            EngineError::Domain(d) => format!("{}: {d}", d.code()),
            other => other.to_string(),
        };
        match parse(name, data)? {
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
                let space = self.space_of(&id).await.map_err(refused)?;
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
                "booking_exists: another booking with id {id} exists"
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
}
