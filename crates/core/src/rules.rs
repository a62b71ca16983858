//! Booking rules (CONTRACT §4): what a command must satisfy before anything changes.

use crate::booking::{Booking, BookingStatus as S};
use crate::decide::{Command, SpaceFacts};
use crate::error::DomainError;
use crate::ids::{BookingId, SpaceId};
use jiff::{SignedDuration, Timestamp};

/// The longest booking accepted.
pub const MAX_BOOKING: SignedDuration = SignedDuration::from_hours(24 * 7);

/// A booking request, before the rules have judged it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBooking {
    /// Its id.
    pub id: BookingId,
    /// A human title.
    pub title: String,
    /// Inclusive start (kept to the millisecond).
    pub start: Timestamp,
    /// Exclusive end (kept to the millisecond).
    pub end: Timestamp,
}

impl NewBooking {
    /// The booking this request becomes, created at `at`.
    pub fn to_booking(&self, space_id: SpaceId, at: Timestamp) -> Booking {
        Booking {
            id: self.id.clone(),
            space_id,
            title: self.title.clone(),
            start: crate::clock::to_millis(self.start),
            end: crate::clock::to_millis(self.end),
            status: S::Scheduled,
            created_at: at,
            checked_in_at: None,
            ended_at: None,
            cancelled_at: None,
            cancel_reason: None,
            series_id: None,
        }
    }
}

/// Checks the command against the rules; `Ok` means the command may change the facts.
pub fn precheck(f: &SpaceFacts, cmd: &Command, at: Timestamp) -> Result<(), DomainError> {
    match cmd {
        Command::Create(n) => check_new(f, n, at),
        Command::CheckIn(id) => check_in(f, find(f, id), at),
        Command::CheckOut(id) => match find(f, id).map(|b| b.status) {
            Some(S::CheckedIn) => Ok(()),
            Some(s) => Err(DomainError::NotCheckedIn(s)),
            None => Ok(()),
        },
        Command::Cancel(id) | Command::Release(id) => match find(f, id).map(|b| b.status) {
            Some(S::CheckedIn) => Err(DomainError::InProgress),
            Some(s @ (S::Completed | S::Cancelled | S::NoShow)) => Err(DomainError::Finished(s)),
            _ => Ok(()),
        },
        Command::Extend { booking, end } => match find(f, booking) {
            Some(b) => check_extend(f, b, *end, at),
            None => Ok(()),
        },
        Command::Disable if f.space.maintenance => Err(DomainError::AlreadyInMaintenance),
        Command::Enable if !f.space.maintenance => Err(DomainError::NotInMaintenance),
        Command::Disable | Command::Enable | Command::Timer { .. } => Ok(()),
    }
}

fn find<'a>(f: &'a SpaceFacts, id: &BookingId) -> Option<&'a Booking> {
    f.bookings.iter().find(|b| &b.id == id)
}

fn check_in(f: &SpaceFacts, b: Option<&Booking>, at: Timestamp) -> Result<(), DomainError> {
    let Some(b) = b else { return Ok(()) };
    match b.status {
        S::CheckedIn => return Err(DomainError::AlreadyCheckedIn),
        s @ (S::Completed | S::Cancelled | S::NoShow) => return Err(DomainError::Finished(s)),
        S::Scheduled | S::Upcoming | S::AwaitingCheckIn => {}
    }
    let s = &f.space.settings;
    let (opens, closes) = (
        b.upcoming_at(s.upcoming_lead),
        b.no_show_at(s.no_show_grace),
    );
    if at < opens || at >= closes {
        return Err(DomainError::CheckInWindow { opens, closes });
    }
    if f.space.maintenance {
        return Err(DomainError::InMaintenance);
    }
    Ok(())
}

fn check_new(f: &SpaceFacts, n: &NewBooking, at: Timestamp) -> Result<(), DomainError> {
    let (start, end) = (
        crate::clock::to_millis(n.start),
        crate::clock::to_millis(n.end),
    );
    if start >= end {
        return Err(DomainError::InvalidInterval);
    }
    if start < at {
        return Err(DomainError::InPast { start, now: at });
    }
    if end.duration_since(start) > MAX_BOOKING {
        return Err(DomainError::TooLong);
    }
    let policies = &f.space.settings.policies;
    policies.check_length(start, end)?;
    policies.check_start(start, at)?;
    check_hours(f, start, end)?;
    check_free(f, &n.id, start, end)
}

/// An extension to `end` (CONTRACT §10): of a booking that has not ended, to a later end,
/// within the space's length policies (its start, already accepted, does not move),
/// still inside the business-hours interval it started in, clear of the next booking.
fn check_extend(
    f: &SpaceFacts,
    b: &Booking,
    end: Timestamp,
    at: Timestamp,
) -> Result<(), DomainError> {
    let end = crate::clock::to_millis(end);
    match b.status {
        S::Scheduled | S::Upcoming | S::AwaitingCheckIn | S::CheckedIn => {}
        s @ (S::Completed | S::Cancelled | S::NoShow) => return Err(DomainError::Finished(s)),
    }
    if at >= b.end {
        return Err(DomainError::Ended { end: b.end });
    }
    if end <= b.end {
        return Err(DomainError::EndNotLater {
            end,
            current: b.end,
        });
    }
    if end.duration_since(b.start) > MAX_BOOKING {
        return Err(DomainError::TooLong);
    }
    f.space.settings.policies.check_length(b.start, end)?;
    check_hours(f, b.start, end)?;
    check_free(f, &b.id, b.start, end)
}

/// `[start, end)` lies inside one business-hours interval of the space.
fn check_hours(f: &SpaceFacts, start: Timestamp, end: Timestamp) -> Result<(), DomainError> {
    let s = &f.space.settings;
    let inside = match s.interval_end(start) {
        Ok(None) => true,
        Ok(Some(close)) => end <= close,
        Err(()) => false,
    };
    if inside {
        return Ok(());
    }
    let date = s.zone.local_date(start);
    let hours = s
        .business_hours
        .as_ref()
        .map_or_else(|| "open all day".to_owned(), |h| h.day_text(date.weekday()));
    Err(DomainError::OutsideBusinessHours {
        space: f.space.id.to_string(),
        day: date.strftime("%a %Y-%m-%d").to_string(),
        zone: s.zone.name().to_owned(),
        hours,
    })
}

/// `[start, end + cleaning)` overlaps no other booking's blocked interval.
fn check_free(
    f: &SpaceFacts,
    id: &BookingId,
    start: Timestamp,
    end: Timestamp,
) -> Result<(), DomainError> {
    let cleaning = f.space.settings.cleaning;
    let wanted = (start, end + cleaning.duration());
    let clash = f.bookings.iter().filter(|b| &b.id != id).find(|b| {
        b.blocked_interval(cleaning)
            .is_some_and(|(a, z)| a < wanted.1 && wanted.0 < z)
    });
    match clash {
        Some(b) => Err(DomainError::Conflict { with: b.id.clone() }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::calendar::{BusinessHours, Zone};
    use crate::decide::Command;
    use crate::ids::{BookingId, SpaceId};
    use crate::rules::NewBooking;
    use crate::sim::SpaceSim;
    use crate::space::{Space, SpaceSettings};
    use jiff::Timestamp;

    /// `room-1` in Berlin: weekdays 08:00–18:00 (Monday with a lunch break), weekends closed.
    fn berlin_room(now: Timestamp) -> SpaceSim {
        let day = serde_json::json!([{"open": "08:00", "close": "18:00"}]);
        let hours = serde_json::json!({
            "mon": [{"open": "08:00", "close": "12:00"}, {"open": "13:00", "close": "18:00"}],
            "tue": day, "wed": day, "thu": day, "fri": day,
        });
        let settings = SpaceSettings {
            business_hours: Some(BusinessHours::parse_json(&hours).unwrap()),
            ..SpaceSettings::defaults(Zone::parse("Europe/Berlin").unwrap())
        };
        let space = Space {
            id: SpaceId::parse("room-1").unwrap(),
            name: "Room 1".into(),
            settings,
            maintenance: false,
        };
        SpaceSim::new(space, now)
    }

    fn create(start: &str, end: &str) -> Command {
        Command::Create(NewBooking {
            id: BookingId::parse("b1").unwrap(),
            title: String::new(),
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
        })
    }

    #[test]
    fn outside_hours_names_the_days_hours_in_local_time() {
        let now: Timestamp = "2026-05-01T00:00:00Z".parse().unwrap();
        let mut sim = berlin_room(now);
        // 07:00–09:00 Berlin (CEST, UTC+2) on Monday 4 May 2026.
        let err = sim
            .command(create("2026-05-04T05:00:00Z", "2026-05-04T07:00:00Z"), now)
            .unwrap_err();
        assert_eq!(err.code(), "outside_business_hours");
        let text = err.to_string();
        assert!(
            text.ends_with(
                "outside the business hours of room-1 on Mon 2026-05-04 (Europe/Berlin): \
                 08:00–12:00, 13:00–18:00"
            ),
            "{text}"
        );
        let err = sim
            .command(create("2026-05-09T08:00:00Z", "2026-05-09T09:00:00Z"), now)
            .unwrap_err();
        assert!(
            err.to_string()
                .ends_with("on Sat 2026-05-09 (Europe/Berlin): closed"),
            "{err}"
        );
    }

    #[test]
    fn refusals_print_contract_strings_not_rust_names() {
        let now: Timestamp = "2026-05-01T00:00:00Z".parse().unwrap();
        let mut sim = berlin_room(now);
        sim.command(create("2026-05-05T08:00:00Z", "2026-05-05T09:00:00Z"), now)
            .unwrap();
        let err = sim
            .command(Command::CheckOut(BookingId::parse("b1").unwrap()), now)
            .unwrap_err();
        assert_eq!(err.code(), "not_checked_in");
        assert_eq!(
            err.to_string(),
            "the booking is not checked in (status scheduled)"
        );
    }

    fn extend(id: &str, end: &str) -> Command {
        Command::Extend {
            booking: BookingId::parse(id).unwrap(),
            end: end.parse().unwrap(),
        }
    }

    /// Each extension rule refuses with its code and changes nothing; a valid extension
    /// moves the end, re-plans the end (and no-show) timers and changes no state.
    #[test]
    fn extension_rules() {
        use crate::booking::BookingStatus;
        use crate::event::EventKind;
        let now: Timestamp = "2026-05-05T06:00:00Z".parse().unwrap();
        let mut sim = berlin_room(now);
        // Tue 5 May, Berlin 08:00–08:05 and 10:00–11:00 (UTC+2); 10 min cleaning.
        sim.command(create("2026-05-05T06:00:00Z", "2026-05-05T06:05:00Z"), now)
            .unwrap();
        let mut b2 = create("2026-05-05T08:00:00Z", "2026-05-05T09:00:00Z");
        if let Command::Create(n) = &mut b2 {
            n.id = BookingId::parse("b2").unwrap();
        }
        sim.command(b2, now).unwrap();
        sim.run_until(now);
        let cases = [
            ("b1", "2026-05-05T06:05:00Z", "end_not_later"),
            ("b1", "2026-05-05T06:04:00Z", "end_not_later"),
            // 07:51 + 10 min cleaning reaches b2's 08:00 start.
            ("b1", "2026-05-05T07:51:00Z", "booking_conflict"),
            // past 18:00 Berlin.
            ("b2", "2026-05-05T16:00:01Z", "outside_business_hours"),
            ("b2", "2026-05-12T09:00:00Z", "booking_too_long"),
        ];
        for (id, end, code) in cases {
            let before = sim.facts.clone();
            let err = sim.command(extend(id, end), now).unwrap_err();
            assert_eq!(err.code(), code, "{id} to {end}");
            assert_eq!(sim.facts, before, "{id} to {end}");
        }
        let status = sim.facts.status.clone();
        // b1 is not checked in: both its end and its no-show deadline (the old end, sooner
        // than start + grace) move.
        let out = sim
            .command(extend("b1", "2026-05-05T07:50:00Z"), now)
            .unwrap();
        assert_eq!(out.transition, None);
        assert_eq!(sim.facts.status, status);
        let b1 = &sim.facts.bookings[0];
        assert_eq!(b1.end, "2026-05-05T07:50:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(b1.status, BookingStatus::AwaitingCheckIn);
        let due = |event| {
            sim.pending()
                .find(|t| t.id == format!("b1.{event}"))
                .map(|t| t.due.to_string())
        };
        assert_eq!(
            due(EventKind::EndTimeReached).as_deref(),
            Some("2026-05-05T07:50:00Z")
        );
        assert_eq!(
            due(EventKind::NoShowTimeout).as_deref(),
            Some("2026-05-05T06:10:00Z")
        );
        assert_eq!(out.notices.len(), 1);
        assert_eq!(out.notices[0].webhook_type(), "booking.extended");
        // once it has ended (a no-show here), it is refused.
        sim.run_until("2026-05-05T06:10:00Z".parse().unwrap());
        let err = sim
            .command(extend("b1", "2026-05-05T07:55:00Z"), now)
            .unwrap_err();
        assert_eq!(err.code(), "booking_finished");
    }
}
