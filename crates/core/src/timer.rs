//! Timer plans: which timer jobs a booking or a space's calendar needs, with stable ids.

use crate::booking::Booking;
use crate::event::EventKind;
use crate::ids::{BookingId, SpaceId};
use crate::space::Space;
use jiff::Timestamp;

/// A timer job: fire `event` for the space (and booking) at `due`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    /// Deterministic id: the same plan always yields the same id, so re-planning is an upsert.
    pub id: String,
    /// The timer event.
    pub event: EventKind,
    /// The space.
    pub space_id: SpaceId,
    /// The booking, for booking timers.
    pub booking_id: Option<BookingId>,
    /// When it is due (never fired earlier).
    pub due: Timestamp,
}

/// A change to the pending timer jobs, carried out in the same transaction as the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerChange {
    /// Add (or replace) a timer job.
    Schedule(Timer),
    /// Remove one pending timer job by id.
    Remove(String),
    /// Remove every pending timer job of a booking.
    RemoveBooking(BookingId),
}

/// The id of a booking timer: `{bookingId}.{EVENT}`.
pub fn booking_timer_id(booking: &BookingId, event: EventKind) -> String {
    format!("{booking}.{event}")
}

fn booking_timer(b: &Booking, event: EventKind, due: Timestamp) -> Timer {
    Timer {
        id: booking_timer_id(&b.id, event),
        event,
        space_id: b.space_id.clone(),
        booking_id: Some(b.id.clone()),
        due,
    }
}

/// The whole plan of a new booking: upcoming (unless its window already began), start,
/// no-show deadline and end, so a queue inspector sees every step ahead.
pub fn booking_plan(space: &Space, b: &Booking, at: Timestamp) -> Vec<Timer> {
    let s = &space.settings;
    let mut plan = Vec::with_capacity(4);
    let upcoming_at = b.upcoming_at(s.upcoming_lead);
    if upcoming_at > at {
        plan.push(booking_timer(b, EventKind::UpcomingReached, upcoming_at));
    }
    plan.push(booking_timer(b, EventKind::StartTimeReached, b.start));
    plan.push(booking_timer(
        b,
        EventKind::NoShowTimeout,
        b.no_show_at(s.no_show_grace),
    ));
    plan.push(booking_timer(b, EventKind::EndTimeReached, b.end));
    plan
}

/// The cleaning timer after an occupied session ended at `ended`.
pub fn cleaning_timer(space: &Space, b: &Booking, ended: Timestamp) -> Timer {
    booking_timer(
        b,
        EventKind::CleaningEnded,
        ended + space.settings.cleaning.duration(),
    )
}

/// The prefix shared by a space's business-hours timers, for removal on re-planning.
pub fn day_timer_prefix(space: &SpaceId) -> String {
    format!("{space}.DAY.")
}

/// The next business-hours timer strictly after `after`, if the space has boundaries.
pub fn next_day_timer(space: &Space, after: Timestamp) -> Option<Timer> {
    let hours = space.settings.business_hours.as_ref()?;
    let (due, boundary) = hours.next_boundary(&space.settings.zone, after)?;
    let event = match boundary {
        crate::calendar::Boundary::Open => EventKind::DayStart,
        crate::calendar::Boundary::Close => EventKind::DayEnd,
    };
    Some(Timer {
        id: format!("{}{}", day_timer_prefix(&space.id), due.as_millisecond()),
        event,
        space_id: space.id.clone(),
        booking_id: None,
        due,
    })
}
