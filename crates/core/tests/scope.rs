//! A decision on the bookings its scope reads is the decision on all of them: for random
//! bookings of every status on a minute grid (so starts, ends, cleanings and the decision
//! instant keep meeting exactly), with spans up to the longest booking, and every kind of
//! command at random instants.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use zs_core::calendar::Zone;
use zs_core::rules::MAX_BOOKING;
use zs_core::{
    Booking, BookingId, BookingStatus, Command, EventKind, NewBooking, Period, Scope, Space,
    SpaceFacts, SpaceId, SpaceSettings, decide, decision_instant,
};

fn t0() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

fn minute(m: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(m)
}

/// Bookings one after another on a minute grid, any status; a long one now and then.
fn bookings() -> impl Strategy<Value = Vec<Booking>> {
    let one = (0i64..180, 1i64..90, 0u8..8, 0usize..7, 0i64..90);
    proptest::collection::vec(one, 0..30).prop_map(|list| {
        let space = SpaceId::parse("s").unwrap();
        let mut at = -600;
        let mut out = vec![];
        for (i, (gap, len, long, status, ended)) in list.into_iter().enumerate() {
            let start = at + gap;
            let len = if long == 0 { len * 60 } else { len }.min(MAX_BOOKING.as_mins());
            let mut b = NewBooking {
                id: BookingId::parse(&format!("b{i}")).unwrap(),
                title: String::new(),
                start: minute(start),
                end: minute(start + len),
            }
            .to_booking(space.clone(), minute(-10_000));
            b.status = BookingStatus::ALL[status];
            if b.status == BookingStatus::Completed {
                b.ended_at = Some(minute(start + ended.min(len)));
            }
            // Checked in (a completed one mostly was: its room is cleaning after it).
            if b.status == BookingStatus::CheckedIn
                || (b.status == BookingStatus::Completed && ended % 4 != 0)
            {
                b.checked_in_at = Some(minute(start));
            }
            out.push(b);
            at = start + len;
        }
        out
    })
}

fn command() -> impl Strategy<Value = Command> {
    let id = (0usize..32).prop_map(|i| BookingId::parse(&format!("b{i}")).unwrap());
    prop_oneof![
        (-600i64..1_200, 1i64..120).prop_map(|(s, l)| Command::Create(NewBooking {
            id: BookingId::parse("new").unwrap(),
            title: String::new(),
            start: minute(s),
            end: minute(s + l),
        })),
        id.clone().prop_map(Command::CheckIn),
        id.clone().prop_map(Command::CheckOut),
        id.clone().prop_map(Command::Cancel),
        (id.clone(), -600i64..1_200).prop_map(|(booking, e)| Command::Extend {
            booking,
            end: minute(e),
        }),
        Just(Command::Disable),
        Just(Command::Enable),
        (0usize..EventKind::ALL.len(), id).prop_map(|(k, b)| Command::Timer {
            event: EventKind::ALL[k],
            booking: Some(b),
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn a_decision_in_scope_is_the_decision_on_all_bookings(
        all in bookings(),
        cmd in command(),
        now in -600i64..1_200,
        cleaning in 1i64..30,
        lead in 1i64..30,
        maintenance in any::<bool>(),
        edge in 0u8..5,
        k in 0usize..30,
    ) {
        let settings_cleaning = SignedDuration::from_mins(cleaning);
        let mut settings = SpaceSettings::defaults(Zone::parse("UTC").unwrap());
        settings.cleaning = Period::minutes(cleaning);
        settings.upcoming_lead = Period::minutes(lead);
        let space = Space { id: SpaceId::parse("s").unwrap(), name: "s".into(), settings, maintenance };
        let status = zs_core::initial_status(&space, &all, minute(-600));
        let whole = SpaceFacts { space, status, bookings: all };
        // A new booking in the past is refused before anything is read: keep most in the
        // future of the decision.
        // Or the decision falls on an edge of a booking: a cleaning's end, a start, an end.
        let near = whole.bookings.get(k);
        let at = match (&cmd, edge, near) {
            (Command::Create(n), _, _) if n.start < minute(now) => {
                n.start - SignedDuration::from_mins(now.rem_euclid(240))
            }
            (_, 1, Some(b)) => b.ended_at.unwrap_or(b.end) + settings_cleaning,
            (_, 2, Some(b)) => b.start,
            (_, 3, Some(b)) => b.end,
            _ => minute(now),
        };
        let scope = Scope::of(&cmd, &whole.space, decision_instant(&whole, at));
        let mut part = SpaceFacts { bookings: scope.select(&whole.bookings), ..whole.clone() };
        let mut full = whole.clone();
        let by_part = decide(&mut part, cmd.clone(), at);
        let by_full = decide(&mut full, cmd, at);
        prop_assert_eq!(&by_part, &by_full);
        prop_assert_eq!(&part.status, &full.status);
        prop_assert_eq!(&part.space, &full.space);
        // Every booking the part holds ends as in the whole; the rest did not change.
        for b in &full.bookings {
            match part.bookings.iter().find(|p| p.id == b.id) {
                Some(p) => prop_assert_eq!(p, b),
                None => prop_assert!(whole.bookings.contains(b), "{} changed outside the scope", b.id),
            }
        }
        prop_assert_eq!(part.bookings.len() <= full.bookings.len(), true);
    }
}
