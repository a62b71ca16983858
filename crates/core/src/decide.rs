//! The domain's one entry point: apply a command to a space's facts at an instant and
//! return what changed, as data. No I/O; on error the facts are untouched.

use crate::booking::{
    Booking, BookingStatus as S, CANCEL_NO_SHOW_STRIKES, CANCEL_REQUESTED,
    CANCEL_SPACE_IN_MAINTENANCE,
};
use crate::error::DomainError;
use crate::event::EventKind;
use crate::ids::BookingId;
use crate::machine::booking::{self, Step};
use crate::machine::guards::{Moment, RoomGuards, SpaceGuards};
use crate::machine::{TransitionError, room, space};
use crate::notice::{BookingNotice, Notice};
use crate::rules::{self, NewBooking};
use crate::space::Space;
use crate::state::SpaceState;
use crate::status::{SpaceStatus, Transition};
use crate::timer::{self, TimerChange};
use jiff::Timestamp;

/// Everything the domain needs to know about one space to decide an event.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceFacts {
    /// The space and its settings.
    pub space: Space,
    /// Its stored status.
    pub status: SpaceStatus,
    /// Its live bookings, recently completed ones (for cleaning), and the one concerned.
    pub bookings: Vec<Booking>,
}

/// A command for one space.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `BOOKING_CREATED`
    Create(NewBooking),
    /// `USER_CHECKS_IN`
    CheckIn(BookingId),
    /// `USER_CHECKS_OUT`
    CheckOut(BookingId),
    /// `BOOKING_CANCELLED`
    Cancel(BookingId),
    /// `BOOKING_CANCELLED` of an occurrence of a series released after its no-show strikes
    /// (reason `no_show_strikes`, CONTRACT §9): the engine sends it, never a user.
    Release(BookingId),
    /// `BOOKING_EXTENDED`: a later end for a booking that has not ended.
    Extend {
        /// The booking.
        booking: BookingId,
        /// Its new end (kept to the millisecond).
        end: Timestamp,
    },
    /// `ADMIN_DISABLE`
    Disable,
    /// `ADMIN_ENABLE`
    Enable,
    /// A timer event that came due.
    Timer {
        /// The timer event.
        event: EventKind,
        /// The booking, for booking timers.
        booking: Option<BookingId>,
    },
}

impl Command {
    /// The event this command is.
    pub fn event(&self) -> EventKind {
        match self {
            Command::Create(_) => EventKind::BookingCreated,
            Command::CheckIn(_) => EventKind::UserChecksIn,
            Command::CheckOut(_) => EventKind::UserChecksOut,
            Command::Cancel(_) | Command::Release(_) => EventKind::BookingCancelled,
            Command::Extend { .. } => EventKind::BookingExtended,
            Command::Disable => EventKind::AdminDisable,
            Command::Enable => EventKind::AdminEnable,
            Command::Timer { event, .. } => *event,
        }
    }

    /// The booking this command concerns.
    pub fn booking(&self) -> Option<&BookingId> {
        match self {
            Command::Create(n) => Some(&n.id),
            Command::CheckIn(b)
            | Command::CheckOut(b)
            | Command::Cancel(b)
            | Command::Release(b) => Some(b),
            Command::Extend { booking, .. } => Some(booking),
            Command::Timer { booking, .. } => booking.as_ref(),
            Command::Disable | Command::Enable => None,
        }
    }
}

/// What one command changed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Bookings created or changed (to be written).
    pub touched: Vec<BookingId>,
    /// Timer jobs to add or remove, in the same transaction.
    pub timers: Vec<TimerChange>,
    /// The status change, if any.
    pub transition: Option<Transition>,
    /// Webhook-worthy notices, in order.
    pub notices: Vec<Notice>,
    /// The event had nothing left to do (a timer for a finished booking, a repeat).
    pub stale: bool,
    /// The maintenance flag changed.
    pub maintenance_changed: bool,
    /// The booking this command created.
    pub created: Option<BookingId>,
    /// Guards chose a state the table does not list: applied anyway, reported as a bug.
    pub anomalies: Vec<TransitionError>,
}

/// The status a space should start with at `at`.
pub fn initial_status(space: &Space, bookings: &[Booking], at: Timestamp) -> SpaceStatus {
    let rg = RoomGuards::read(space, bookings, Moment::after(at));
    let sg = SpaceGuards::read(space, bookings, Moment::after(at));
    status_from(&rg, &sg, sg.derive(), rg.derive(), at, 0)
}

fn status_from(
    rg: &RoomGuards,
    sg: &SpaceGuards,
    space: SpaceState,
    room: crate::RoomState,
    since: Timestamp,
    sequence: u64,
) -> SpaceStatus {
    let booking_id = rg
        .occupied
        .clone()
        .or(sg.reserved.clone())
        .or(rg.upcoming.clone());
    let next_booking_at = (space == SpaceState::AvailableAt)
        .then_some(sg.next_booking_at)
        .flatten();
    SpaceStatus {
        space,
        room,
        booking_id,
        next_booking_at,
        since,
        sequence,
    }
}

/// The instant a command for this space is decided at: `at`, or the space's last change
/// if that is later. A wall clock that steps back (an NTP correction, a VM resumed from a
/// snapshot) never takes a space back in time: its history stays in order and every rule
/// is judged at an instant the space has already reached.
pub fn decision_instant(facts: &SpaceFacts, at: Timestamp) -> Timestamp {
    at.max(facts.status.since)
}

/// Applies `cmd` to `facts` at `at` (at the space's last change if `at` is earlier: see
/// [`decision_instant`]). On `Err` nothing changed.
pub fn decide(facts: &mut SpaceFacts, cmd: Command, at: Timestamp) -> Result<Outcome, DomainError> {
    let at = decision_instant(facts, at);
    let event = cmd.event();
    rules::precheck(facts, &cmd, at)?;
    if room::refuses(facts.status.room, event) {
        return Err(TransitionError::Refused {
            machine: "room",
            state: facts.status.room.as_str(),
            event,
        }
        .into());
    }
    if space::refuses(facts.status.space, event) {
        return Err(TransitionError::Refused {
            machine: "space",
            state: facts.status.space.as_str(),
            event,
        }
        .into());
    }
    let mut next = facts.clone();
    let mut out = Outcome::default();
    if !change_facts(&mut next, &cmd, at, &mut out) {
        out.stale = true;
        return Ok(out);
    }
    run_machines(&mut next, &cmd, at, &mut out);
    *facts = next;
    Ok(out)
}

fn run_machines(f: &mut SpaceFacts, cmd: &Command, at: Timestamp, out: &mut Outcome) {
    let event = cmd.event();
    let moment = Moment::of(event, at);
    let rg = RoomGuards::read(&f.space, &f.bookings, moment);
    let sg = SpaceGuards::read(&f.space, &f.bookings, moment);
    let room = room::apply(f.status.room, event, &rg).unwrap_or_else(|e| {
        out.anomalies.push(e);
        rg.derive()
    });
    let space = space::apply(f.status.space, event, &sg).unwrap_or_else(|e| {
        out.anomalies.push(e);
        sg.derive()
    });
    let old = f.status.clone();
    let new = status_from(&rg, &sg, space, room, at, old.sequence + 1);
    if !new.differs(&old) {
        return;
    }
    if old.space != new.space {
        out.notices.push(Notice::SpaceStateChanged {
            from: old.space,
            to: new.space,
        });
    }
    if old.room != new.room {
        out.notices.push(Notice::RoomStateChanged {
            from: old.room,
            to: new.room,
        });
    }
    out.transition = Some(Transition {
        space_id: f.space.id.clone(),
        event,
        booking_id: cmd.booking().cloned(),
        from_space: old.space,
        from_room: old.room,
        to: new.clone(),
    });
    f.status = new;
}

/// Changes the booking facts and plans timers; `false` when the event is stale.
fn change_facts(f: &mut SpaceFacts, cmd: &Command, at: Timestamp, out: &mut Outcome) -> bool {
    match cmd {
        Command::Create(n) => create(f, n, at, out),
        Command::Disable | Command::Enable => {
            f.space.maintenance = matches!(cmd, Command::Disable);
            out.maintenance_changed = true;
            true
        }
        Command::Timer {
            event: EventKind::DayStart | EventKind::DayEnd,
            ..
        } => {
            if let Some(t) = timer::next_day_timer(&f.space, at) {
                out.timers.push(TimerChange::Schedule(t));
            }
            true
        }
        Command::Extend { booking, end } => {
            match f.bookings.iter().position(|b| &b.id == booking) {
                Some(i) => extend(f, i, *end, out),
                None => false,
            }
        }
        _ => match cmd
            .booking()
            .and_then(|id| f.bookings.iter().position(|b| &b.id == id))
        {
            Some(i) => {
                let reason = match cmd {
                    Command::Release(_) => CANCEL_NO_SHOW_STRIKES,
                    _ => CANCEL_REQUESTED,
                };
                move_booking(f, i, cmd.event(), reason, at, out)
            }
            None => false,
        },
    }
}

fn create(f: &mut SpaceFacts, n: &NewBooking, at: Timestamp, out: &mut Outcome) -> bool {
    let lead = f.space.settings.upcoming_lead;
    let mut b = n.to_booking(f.space.id.clone(), at);
    let in_window = b.upcoming_at(lead) <= at;
    if in_window {
        b.status = S::Upcoming;
    }
    out.timers.extend(
        timer::booking_plan(&f.space, &b, at)
            .into_iter()
            .map(TimerChange::Schedule),
    );
    out.notices.push(Notice::Booking {
        kind: BookingNotice::Created,
        booking: Box::new(b.clone()),
    });
    if in_window {
        out.notices.push(Notice::Booking {
            kind: BookingNotice::Start,
            booking: Box::new(b.clone()),
        });
    }
    out.touched.push(b.id.clone());
    out.created = Some(b.id.clone());
    f.bookings.push(b);
    true
}

/// Gives booking `i` its later `end` (the rules have allowed it) and re-plans the timers
/// that depend on the end: `END_TIME_REACHED`, and the no-show deadline of a booking not
/// checked in (`start + noShowGrace`, or `end` if sooner). The status stays.
fn extend(f: &mut SpaceFacts, i: usize, end: Timestamp, out: &mut Outcome) -> bool {
    match booking::table(f.bookings[i].status, EventKind::BookingExtended) {
        Step::Stay => {}
        Step::Refuse | Step::Stale | Step::To(_) | Step::Choose(_) => return false,
    }
    let space = f.space.clone();
    let b = &mut f.bookings[i];
    b.end = crate::clock::to_millis(end);
    let plan = timer::booking_plan(&space, b, b.created_at);
    let wanted = |t: &timer::Timer| match t.event {
        EventKind::EndTimeReached => true,
        EventKind::NoShowTimeout => b.status.is_pending(),
        EventKind::BookingCreated
        | EventKind::UpcomingReached
        | EventKind::StartTimeReached
        | EventKind::UserChecksIn
        | EventKind::UserChecksOut
        | EventKind::CleaningEnded
        | EventKind::BookingCancelled
        | EventKind::BookingExtended
        | EventKind::AdminDisable
        | EventKind::AdminEnable
        | EventKind::DayStart
        | EventKind::DayEnd => false,
    };
    out.timers.extend(
        plan.into_iter()
            .filter(|t| wanted(t))
            .map(TimerChange::Schedule),
    );
    out.touched.push(b.id.clone());
    out.notices.push(Notice::Booking {
        kind: BookingNotice::Extended,
        booking: Box::new(b.clone()),
    });
    true
}

/// Moves booking `i` as the booking table says for `event`, and does what entering its new
/// status means; `false` when the table says the event is stale (or refused: a rule has
/// refused those cells already, in [`rules::precheck`]).
#[cfg(test)]
pub(crate) fn change_booking(
    f: &mut SpaceFacts,
    i: usize,
    event: EventKind,
    at: Timestamp,
    out: &mut Outcome,
) -> bool {
    move_booking(f, i, event, CANCEL_REQUESTED, at, out)
}

/// [`change_booking`], recording `cancel_reason` if `event` cancels the booking on request
/// (`requested`, or `no_show_strikes` for a released series).
fn move_booking(
    f: &mut SpaceFacts,
    i: usize,
    event: EventKind,
    cancel_reason: &'static str,
    at: Timestamp,
    out: &mut Outcome,
) -> bool {
    let maintenance = f.space.maintenance;
    let from = f.bookings[i].status;
    let to = match booking::table(from, event) {
        Step::Refuse | Step::Stale => return false,
        Step::Stay => return true,
        Step::To(to) => to,
        Step::Choose(listed) => {
            // The only guard: a start reached during maintenance cancels the booking.
            let to = if maintenance {
                S::Cancelled
            } else {
                S::AwaitingCheckIn
            };
            debug_assert!(listed.contains(&to), "{from:?} {event}");
            to
        }
    };
    let notice = enter(f, i, to, event, cancel_reason, at, out);
    let b = &mut f.bookings[i];
    b.status = to;
    out.touched.push(b.id.clone());
    if let Some(kind) = notice {
        out.notices.push(Notice::Booking {
            kind,
            booking: Box::new(b.clone()),
        });
    }
    true
}

/// The entry actions of booking `i`'s new status `to`, reached by `event`: the facts it
/// records and the timers it plans; returns the notice it sends. A cancel on request
/// records `cancel_reason`.
fn enter(
    f: &mut SpaceFacts,
    i: usize,
    to: S,
    event: EventKind,
    cancel_reason: &'static str,
    at: Timestamp,
    out: &mut Outcome,
) -> Option<BookingNotice> {
    let cleaning_space = f.space.clone();
    let b = &mut f.bookings[i];
    let id = b.id.clone();
    match to {
        // No cell leads back to scheduled.
        S::Scheduled => None,
        S::Upcoming => Some(BookingNotice::Start),
        S::AwaitingCheckIn => None,
        S::CheckedIn => {
            b.checked_in_at = Some(at);
            for timer in [EventKind::NoShowTimeout, EventKind::UpcomingReached] {
                let timer_id = timer::booking_timer_id(&id, timer);
                out.timers.push(TimerChange::Remove(timer_id));
            }
            Some(BookingNotice::CheckedIn)
        }
        S::Completed => {
            let by_end = event == EventKind::EndTimeReached;
            let ended = if by_end { b.end } else { at };
            b.ended_at = Some(ended);
            out.timers.push(TimerChange::RemoveBooking(id));
            let cleaning = timer::cleaning_timer(&cleaning_space, b, ended);
            out.timers.push(TimerChange::Schedule(cleaning));
            Some(if by_end {
                BookingNotice::Ended
            } else {
                BookingNotice::CheckedOut
            })
        }
        S::Cancelled => {
            let reason = if event == EventKind::StartTimeReached {
                CANCEL_SPACE_IN_MAINTENANCE
            } else {
                cancel_reason
            };
            b.cancelled_at = Some(at);
            b.cancel_reason = Some(reason.into());
            out.timers.push(TimerChange::RemoveBooking(id));
            Some(BookingNotice::Cancelled)
        }
        S::NoShow => {
            out.timers.push(TimerChange::RemoveBooking(id));
            Some(BookingNotice::NoShow)
        }
    }
}
