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
        Command::Cancel(id) => match find(f, id).map(|b| b.status) {
            Some(S::CheckedIn) => Err(DomainError::InProgress),
            Some(s @ (S::Completed | S::Cancelled | S::NoShow)) => Err(DomainError::Finished(s)),
            _ => Ok(()),
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
    let s = &f.space.settings;
    let inside = match s.interval_end(start) {
        Ok(None) => true,
        Ok(Some(close)) => end <= close,
        Err(()) => false,
    };
    if !inside {
        return Err(DomainError::OutsideBusinessHours {
            zone: s.zone.name().to_owned(),
        });
    }
    let wanted = (start, end + s.cleaning.duration());
    let clash = f.bookings.iter().filter(|b| b.id != n.id).find(|b| {
        b.blocked_interval(s.cleaning)
            .is_some_and(|(a, z)| a < wanted.1 && wanted.0 < z)
    });
    match clash {
        Some(b) => Err(DomainError::Conflict { with: b.id.clone() }),
        None => Ok(()),
    }
}
