//! Mermaid state diagrams generated from the transition tables (docs/state-machines.md).

use crate::booking::BookingStatus;
use crate::event::EventKind;
use crate::machine::{booking, room, space};
use crate::state::{RoomState, SpaceState};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Draws a machine: `targets(state, event)` lists where a cell may lead; `initial`, if any,
/// lists the states a new instance starts in and the event that creates it.
fn render<S: Copy + Ord + PartialEq + 'static>(
    states: &[S],
    targets: impl Fn(S, EventKind) -> Vec<S>,
    name: impl Fn(S) -> &'static str,
    initial: Option<(&[S], EventKind)>,
) -> String {
    let ident = |s: S| name(s).replace('-', "_");
    let mut edges: BTreeMap<(S, S), Vec<&'static str>> = BTreeMap::new();
    for &from in states {
        for event in EventKind::ALL {
            for to in targets(from, event) {
                if to != from {
                    edges.entry((from, to)).or_default().push(event.as_str());
                }
            }
        }
    }
    let mut out = String::from("```mermaid\nstateDiagram-v2\n");
    for &s in states {
        let _ = writeln!(out, "    {}: {}", ident(s), name(s));
    }
    if let Some((starts, event)) = initial {
        for &s in starts {
            let _ = writeln!(out, "    [*] --> {}: {}", ident(s), event.as_str());
        }
    }
    for ((from, to), events) in edges {
        let _ = writeln!(
            out,
            "    {} --> {}: {}",
            ident(from),
            ident(to),
            events.join(", ")
        );
    }
    out.push_str("```\n");
    out
}

/// The room machine as a Mermaid diagram.
pub fn room_diagram() -> String {
    let targets = |s, e| room::table(s, e).targets(s);
    render(&RoomState::ALL, targets, RoomState::as_str, None)
}

/// The space machine as a Mermaid diagram.
pub fn space_diagram() -> String {
    let targets = |s, e| space::table(s, e).targets(s);
    render(&SpaceState::ALL, targets, SpaceState::as_str, None)
}

/// The booking machine as a Mermaid diagram.
pub fn booking_diagram() -> String {
    let targets = |s, e| booking::table(s, e).targets(s);
    let initial = Some((booking::CREATED, EventKind::BookingCreated));
    render(&BookingStatus::ALL, targets, BookingStatus::as_str, initial)
}

/// The code a booking rule answers a command with that the booking table refuses in
/// `status` (`rules::precheck`); `None` where the table does not refuse.
pub fn booking_refusal_code(status: BookingStatus, event: EventKind) -> Option<&'static str> {
    use crate::error::DomainError as D;
    if booking::table(status, event) != booking::Step::Refuse {
        return None;
    }
    let finished = !status.is_live();
    let error = match event {
        EventKind::UserChecksIn if finished => D::Finished(status),
        EventKind::UserChecksIn => D::AlreadyCheckedIn,
        EventKind::UserChecksOut => D::NotCheckedIn(status),
        EventKind::BookingCancelled if finished => D::Finished(status),
        EventKind::BookingCancelled => D::InProgress,
        EventKind::BookingExtended => D::Finished(status),
        EventKind::BookingCreated
        | EventKind::UpcomingReached
        | EventKind::StartTimeReached
        | EventKind::NoShowTimeout
        | EventKind::EndTimeReached
        | EventKind::CleaningEnded
        | EventKind::AdminDisable
        | EventKind::AdminEnable
        | EventKind::DayStart
        | EventKind::DayEnd => return None,
    };
    Some(error.code())
}

/// The code a refused event is answered with: the booking rule it breaks. The API applies
/// a space's due timers before every command, so the stored states are current and a rule
/// speaks before the table does. `None` for events no rule covers.
pub fn refusal_code(machine: &str, event: EventKind) -> Option<&'static str> {
    use crate::error::DomainError as D;
    let code = match event {
        EventKind::UserChecksOut => D::NotCheckedIn(BookingStatus::Scheduled).code(),
        EventKind::UserChecksIn if machine == "space" => D::InMaintenance.code(),
        EventKind::UserChecksIn => D::CheckInWindow {
            opens: jiff::Timestamp::UNIX_EPOCH,
            closes: jiff::Timestamp::UNIX_EPOCH,
        }
        .code(),
        EventKind::AdminEnable => D::NotInMaintenance.code(),
        EventKind::AdminDisable => D::AlreadyInMaintenance.code(),
        EventKind::BookingCreated
        | EventKind::UpcomingReached
        | EventKind::StartTimeReached
        | EventKind::NoShowTimeout
        | EventKind::EndTimeReached
        | EventKind::CleaningEnded
        | EventKind::BookingCancelled
        | EventKind::BookingExtended
        | EventKind::DayStart
        | EventKind::DayEnd => return None,
    };
    Some(code)
}

/// `EVENT (`code`)` for one refused event.
fn refused(machine: &str, event: EventKind) -> String {
    let code = refusal_code(machine, event).unwrap_or("transition_refused");
    format!("{} (`{code}`)", event.as_str())
}

/// A Markdown table of refused events per state.
fn refusals() -> String {
    let mut out =
        String::from("| machine | state | refused events (answered with) |\n|---|---|---|\n");
    for s in RoomState::ALL {
        let r: Vec<_> = EventKind::ALL
            .into_iter()
            .filter(|e| room::refuses(s, *e))
            .map(|e| refused("room", e))
            .collect();
        if !r.is_empty() {
            let _ = writeln!(out, "| room | `{}` | {} |", s.as_str(), r.join(", "));
        }
    }
    for s in SpaceState::ALL {
        let r: Vec<_> = EventKind::ALL
            .into_iter()
            .filter(|e| space::refuses(s, *e))
            .map(|e| refused("space", e))
            .collect();
        if !r.is_empty() {
            let _ = writeln!(out, "| space | `{}` | {} |", s.as_str(), r.join(", "));
        }
    }
    for s in BookingStatus::ALL {
        let r: Vec<_> = EventKind::ALL
            .into_iter()
            .filter_map(|e| booking_refusal_code(s, e).map(|c| format!("{} (`{c}`)", e.as_str())))
            .collect();
        if !r.is_empty() {
            let _ = writeln!(out, "| booking | `{}` | {} |", s.as_str(), r.join(", "));
        }
    }
    out
}

/// The whole generated document.
pub fn document() -> String {
    format!(
        "# State machines\n\n<!-- generated from crates/core/src/machine by `zs-scheduler diagrams`; \
         a test fails when this file drifts -->\n\n\
         Self-loops (events that leave a machine where it is) are omitted. Where a cell lists \
         several targets, guards derived from the facts (CONTRACT §3) choose one.\n\n\
         ## Room\n\n{}\n## Space\n\n{}\n## Booking\n\nA booking starts `scheduled`, or \
         `upcoming` if its upcoming window has already begun. A start reached while the space \
         is in maintenance cancels the booking. A timer that comes after its booking has moved \
         on (a no-show deadline of a booking checked in, any timer of a cancelled one) is \
         stale: it changes nothing. The space's own events never move a booking. \
         `BOOKING_EXTENDED` (a later end for a booking that has not ended) leaves every \
         machine where it is and re-plans the booking's end timers. A walk-up (book now) is \
         no event of its own: it is `BOOKING_CREATED`, `START_TIME_REACHED` and \
         `USER_CHECKS_IN` of the new booking, applied in that order at one instant.\n\n{}\n\
         ## Refused events\n\nA refused event changes nothing \
         and gets HTTP 409 with the code of the booking rule it breaks. The API applies a \
         space's due timers before every command, so \
         the rule always speaks first: a check-in outside its window gets `check_in_window` \
         whatever the state, and the codes below are what an otherwise valid event gets. \
         `transition_refused` is answered only if a table ever refused an event that every \
         rule allowed, which would be a bug to report.\n\n{}",
        room_diagram(),
        space_diagram(),
        booking_diagram(),
        refusals()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_match_the_tables() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/state-machines.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        if on_disk != super::document() {
            if std::env::var_os("ZS_BLESS").is_some() {
                std::fs::write(path, super::document()).unwrap();
            } else {
                panic!("docs/state-machines.md drifted from the tables: rerun with ZS_BLESS=1");
            }
        }
    }

    #[test]
    fn readme_shows_the_current_diagrams() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        assert!(
            readme.contains(&super::room_diagram()),
            "README room diagram drifted: copy `zs-scheduler diagrams`"
        );
        assert!(
            readme.contains(&super::space_diagram()),
            "README space diagram drifted"
        );
        assert!(
            readme.contains(&super::booking_diagram()),
            "README booking diagram drifted"
        );
    }

    #[test]
    fn every_refused_event_is_answered_by_a_rule_code() {
        use crate::EventKind;
        use crate::machine::{room, space};
        for e in EventKind::ALL {
            let by_room = crate::RoomState::ALL.iter().any(|s| room::refuses(*s, e));
            let by_space = crate::SpaceState::ALL.iter().any(|s| space::refuses(*s, e));
            if by_room {
                assert!(super::refusal_code("room", e).is_some(), "{}", e.as_str());
            }
            if by_space {
                assert!(super::refusal_code("space", e).is_some(), "{}", e.as_str());
            }
        }
        let table = super::refusals();
        assert!(!table.contains("transition_refused"), "{table}");
        assert!(table.contains("USER_CHECKS_OUT (`not_checked_in`)"));
    }

    #[test]
    fn diagrams_name_every_state() {
        let d = super::document();
        for s in crate::RoomState::ALL {
            assert!(d.contains(s.as_str()));
        }
        assert!(d.contains("in_maintenance: in-maintenance"));
        assert!(d.contains("free --> upcoming"));
        for s in crate::BookingStatus::ALL {
            assert!(d.contains(&format!("    {0}: {0}\n", s.as_str())));
        }
        assert!(d.contains("[*] --> scheduled: BOOKING_CREATED"));
        assert!(d.contains("checked_in --> completed: USER_CHECKS_OUT, END_TIME_REACHED"));
    }
}
