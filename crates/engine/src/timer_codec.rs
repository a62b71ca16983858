//! The one codec between a domain timer and a job on `meetingScheduler`: a
//! [`zs_core::Timer`] becomes a job row ([`timer_job`], its data as CONTRACT §7's timer
//! payload: [`timer_data`]), and a stored or queued timer job becomes the space and the
//! command it applies ([`parse_job`], [`parse_timer`], [`space_id`]). The store's runner,
//! the catch-up and the BullMQ worker all read timer jobs through here.

use serde_json::{Value, json};
use zs_core::{BookingId, Command, EventKind, SpaceId, Timer};
use zs_store::Queue;
use zs_store::jobs::{Job, NewJob};

/// The job for a timer.
pub fn timer_job(t: &Timer) -> NewJob {
    NewJob {
        id: t.id.clone(),
        queue: Queue::MeetingScheduler,
        name: t.event.as_str().to_owned(),
        data: timer_data(t),
        due: t.due,
        rank: t.event.same_instant_rank(),
        // A space's timers form a group, so a queue worker can run them in order.
        group: Some(t.space_id.as_str().to_owned()),
    }
}

/// Data of a timer job on `meetingScheduler`: the ids it concerns and its event.
pub fn timer_data(t: &Timer) -> Value {
    let mut v =
        json!({ "spaceId": t.space_id, "event": t.event.as_str(), "dueAt": t.due.to_string() });
    if let Some(b) = &t.booking_id {
        v["bookingId"] = json!(b);
    }
    v
}

/// The timer event a `meetingScheduler` job name stands for; `None` for any other name
/// (the ingress jobs share the queue).
pub fn timer_event(name: &str) -> Option<EventKind> {
    EventKind::parse(name).filter(|e| e.is_timer())
}

/// Why a timer job's `data.spaceId` cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpaceIdError {
    /// Absent, or not a string.
    #[error("data.spaceId must be a string")]
    Missing,
    /// A string that is no space id.
    #[error("data.spaceId: {0}")]
    Invalid(String),
}

/// The space a timer job's data names.
pub fn space_id(data: &Value) -> Result<SpaceId, SpaceIdError> {
    let space = data
        .get("spaceId")
        .and_then(Value::as_str)
        .ok_or(SpaceIdError::Missing)?;
    SpaceId::parse(space).map_err(|e| SpaceIdError::Invalid(e.to_string()))
}

/// The space and command of a timer job named `name` with `data`, or why it cannot run.
pub fn parse_timer(name: &str, data: &Value) -> Result<(SpaceId, Command), String> {
    let event = timer_event(name).ok_or_else(|| format!("unknown timer event {name:?}"))?;
    let space = space_id(data).map_err(|e| e.to_string())?;
    let booking = match data.get("bookingId").and_then(Value::as_str) {
        Some(b) => Some(BookingId::parse(b).map_err(|e| e.to_string())?),
        None => None,
    };
    Ok((space, Command::Timer { event, booking }))
}

/// [`parse_timer`] for a stored job.
pub fn parse_job(j: &Job) -> Result<(SpaceId, Command), String> {
    parse_timer(&j.name, &j.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn job(name: &str, data: serde_json::Value) -> Job {
        Job {
            seq: 1,
            id: "j".into(),
            queue: Queue::MeetingScheduler,
            name: name.into(),
            data,
            due: Timestamp::UNIX_EPOCH,
            attempts_made: 0,
            last_error: None,
            group: None,
        }
    }

    #[test]
    fn parses_timer_jobs_and_refuses_malformed_ones() {
        let ok = parse_job(&job(
            "START_TIME_REACHED",
            json!({"spaceId": "s1", "bookingId": "b1"}),
        ));
        assert!(matches!(
            ok,
            Ok((
                _,
                Command::Timer {
                    event: EventKind::StartTimeReached,
                    booking: Some(_)
                }
            ))
        ));
        assert!(parse_job(&job("BOOKING_CREATED", json!({"spaceId": "s1"}))).is_err());
        assert!(
            parse_job(&job("DAY_START", json!({})))
                .unwrap_err()
                .contains("spaceId")
        );
        assert!(parse_job(&job("DAY_START", json!({"spaceId": "a b"}))).is_err());
    }

    #[test]
    fn a_timer_job_parses_back_to_its_space_and_timer() {
        for booking_id in [Some(BookingId::parse("b1").unwrap()), None] {
            let t = Timer {
                id: "b1.NO_SHOW_TIMEOUT".into(),
                event: EventKind::NoShowTimeout,
                space_id: SpaceId::parse("s1").unwrap(),
                booking_id: booking_id.clone(),
                due: Timestamp::from_millisecond(1_800_000_000_000).unwrap(),
            };
            let j = timer_job(&t);
            assert_eq!(j.name, "NO_SHOW_TIMEOUT");
            assert_eq!(j.group.as_deref(), Some("s1"));
            // CONTRACT §7's timer payload.
            let mut data = json!({"spaceId": "s1", "event": "NO_SHOW_TIMEOUT", "dueAt": "2027-01-15T08:00:00Z"});
            if booking_id.is_some() {
                data["bookingId"] = json!("b1");
            }
            assert_eq!(j.data, data);
            let (space, cmd) = parse_timer(&j.name, &j.data).unwrap();
            assert_eq!(space, t.space_id);
            assert!(matches!(
                cmd,
                Command::Timer { event: EventKind::NoShowTimeout, booking } if booking == booking_id
            ));
        }
    }
}
