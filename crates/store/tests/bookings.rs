//! A space's working set: exactly the bookings its next event may concern, on both backends.

use jiff::{SignedDuration, Timestamp};
use zs_core::{Booking, BookingId, BookingStatus, SpaceId, initial_status};
use zs_store::{Backend, bookings, spaces, testing};

const NOW: i64 = 1_800_000_000;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(NOW + s).unwrap()
}

/// A booking of `space` five minutes long from `start`; a completed one ended at `ended`.
fn booking(
    id: &str,
    space: &str,
    start: i64,
    status: BookingStatus,
    ended: Option<i64>,
) -> Booking {
    Booking {
        id: BookingId::parse(id).unwrap(),
        space_id: SpaceId::parse(space).unwrap(),
        title: id.into(),
        start: at(start),
        end: at(start + 300),
        status,
        created_at: at(-86_400),
        checked_in_at: None,
        ended_at: ended.map(at),
        cancelled_at: None,
        cancel_reason: None,
        series_id: None,
    }
}

/// Every live booking of the asked spaces, the completed ones whose cleaning may still run
/// (ended within `max_cleaning` of now), and the extra bookings of those spaces whatever their
/// status — in start order, each once; nothing of another space, nothing else that is over.
async fn a_working_set_is_the_live_recent_and_asked_bookings_of_its_spaces(db: Backend) {
    use BookingStatus::*;
    let store = testing::fresh(db, "working-sets").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    for id in ["s1", "s2", "s3"] {
        let s = testing::utc_space(id);
        let st = initial_status(&s, &[], at(0));
        assert!(spaces::insert(&mut tx, &s, &st).await.unwrap());
    }
    let all = [
        booking("checked-in", "s1", -290, CheckedIn, None),
        booking("awaiting", "s1", 20, AwaitingCheckIn, None),
        booking("upcoming", "s1", 600, Upcoming, None),
        booking("scheduled", "s1", 7200, Scheduled, None),
        booking("just-ended", "s1", -700, Completed, Some(-400)),
        booking("long-ended", "s1", -90_000, Completed, Some(-86_000)),
        booking("cancelled", "s1", -50_000, Cancelled, None),
        booking("no-show", "s1", -60_000, NoShow, None),
        booking("other-live", "s2", 0, Scheduled, None),
        booking("other-old", "s2", -90_000, Completed, Some(-86_000)),
        booking("third-live", "s3", 100, Scheduled, None),
    ];
    bookings::upsert_many(&mut tx, &all.iter().collect::<Vec<_>>())
        .await
        .unwrap();
    let ids = |list: Vec<Booking>| {
        list.into_iter()
            .map(|b| b.id.to_string())
            .collect::<Vec<_>>()
    };
    let s = |id: &str| SpaceId::parse(id).unwrap();
    let b = |id: &str| BookingId::parse(id).unwrap();
    let cleaning = SignedDuration::from_mins(10).as_millis() as i64;

    let (s1, s3) = (s("s1"), s("s3"));
    let one = bookings::working_set(&mut tx, &s1, at(0), cleaning, None);
    assert_eq!(
        ids(one.await.unwrap()),
        [
            "just-ended",
            "checked-in",
            "awaiting",
            "upcoming",
            "scheduled"
        ],
        "live and within cleaning, in start order"
    );

    // An asked booking comes whatever its status, once even when it is live anyway; an
    // asked booking of a space not asked for does not.
    let extra = [b("long-ended"), b("upcoming"), b("other-old")];
    let extra: Vec<&BookingId> = extra.iter().collect();
    let both = [&s1, &s3];
    let many = bookings::working_sets(&mut tx, &both, at(0), cleaning, &extra);
    assert_eq!(
        ids(many.await.unwrap()),
        [
            "long-ended",
            "just-ended",
            "checked-in",
            "awaiting",
            "third-live",
            "upcoming",
            "scheduled"
        ]
    );

    // The live ids are the live bookings alone, in start order.
    let live = bookings::live_ids(&mut tx, &s1).await.unwrap();
    let live: Vec<String> = live.iter().map(|b| b.to_string()).collect();
    assert_eq!(live, ["checked-in", "awaiting", "upcoming", "scheduled"]);

    // Once the cleaning window has passed, the completed booking drops out.
    let later = bookings::working_set(&mut tx, &s1, at(-400 + 601), cleaning, None);
    assert!(!ids(later.await.unwrap()).contains(&"just-ended".to_string()));
    let edge = bookings::working_set(&mut tx, &s1, at(-400 + 599), cleaning, None);
    assert!(ids(edge.await.unwrap()).contains(&"just-ended".to_string()));
}

/// A small deterministic generator, so a failure names its case.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as i64
    }
}

/// `n` bookings of `space` (ids `{prefix}0`…), one after another (PostgreSQL refuses
/// overlapping ones) from `from` seconds after `NOW`: each after a gap of up to `max_gap_h`
/// hours, a minute to `max_len_h` hours long, its status drawn from `statuses`; a completed
/// one ended somewhere in its span.
#[allow(clippy::too_many_arguments)]
fn one_after_another(
    rng: &mut Lcg,
    space: &str,
    prefix: &str,
    n: usize,
    from: i64,
    max_gap_h: i64,
    max_len_h: i64,
    statuses: &[BookingStatus],
) -> Vec<Booking> {
    let mut start = from;
    let mut all = Vec::with_capacity(n);
    for i in 0..n {
        start += 1 + rng.below(max_gap_h * 3_600);
        let status = statuses[rng.below(statuses.len() as i64) as usize];
        let mut b = booking(&format!("{prefix}{i}"), space, start, status, None);
        let length = 60 + rng.below(max_len_h * 3_600);
        b.end = at(start + length);
        if b.status == BookingStatus::Completed {
            b.ended_at = Some(at(start + rng.below(length)));
        }
        all.push(b);
        start += length;
    }
    all
}

/// A scoped read returns exactly what `Scope::select` — the rule the domain's decisions are
/// property-tested with — picks from all the space's bookings: over random bookings of every
/// status (another space's never), and commands that claim a span, name a booking, or
/// neither, at random instants.
async fn a_scoped_read_is_what_the_scope_selects(db: Backend) {
    use BookingStatus::*;
    use zs_core::{Command, NewBooking, Scope};
    let store = testing::fresh(db, "scoped").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let space = testing::utc_space("s1");
    for s in [&space, &testing::utc_space("s2")] {
        let st = initial_status(s, &[], at(0));
        assert!(spaces::insert(&mut tx, s, &st).await.unwrap());
    }
    let mut rng = Lcg(15);
    // From five weeks back.
    let all = one_after_another(
        &mut rng,
        "s1",
        "b",
        300,
        -35 * 86_400,
        3,
        8,
        &BookingStatus::ALL,
    );
    let other = booking("elsewhere", "s2", 0, Scheduled, None);
    let mut rows: Vec<&Booking> = all.iter().collect();
    rows.push(&other);
    bookings::upsert_many(&mut tx, &rows).await.unwrap();
    let key = |mut v: Vec<Booking>| {
        v.sort_by_key(|b| (b.start, b.id.to_string()));
        v.into_iter().map(|b| b.id.to_string()).collect::<Vec<_>>()
    };
    let cleaning = space.settings.cleaning.duration();
    let scheduled: Vec<&Booking> = all.iter().filter(|b| b.status == Scheduled).collect();
    for case in 0..400 {
        // Half the cases sit on an edge: the instant a cleaning ends, a booking's start, or
        // a span that just touches (or just misses) a neighbour's span plus cleaning.
        let near = &all[rng.below(300) as usize];
        let nudge = SignedDuration::from_millis(rng.below(3) - 1);
        let edge = (case / 4) % 2 == 1;
        // A span's edges are drawn against a scheduled neighbour (the others are read anyway).
        let pick = rng.below(scheduled.len() as i64) as usize;
        let neighbour = scheduled[pick];
        let now = match (edge, near.ended_at) {
            (true, Some(ended)) => ended + cleaning + nudge,
            (true, None) => near.start + nudge,
            (false, _) => at(rng.below(70 * 86_400) - 35 * 86_400),
        };
        let named = BookingId::parse(&format!("b{}", rng.below(300))).unwrap();
        let (start, end) = if edge && (case / 8) % 2 == 0 {
            let start = neighbour.end + cleaning + nudge;
            (
                start,
                start + SignedDuration::from_secs(60 + rng.below(7_200)),
            )
        } else if edge {
            let end = neighbour.start - cleaning + nudge;
            (end - SignedDuration::from_secs(60 + rng.below(7_200)), end)
        } else {
            let start = now + SignedDuration::from_secs(rng.below(5 * 86_400));
            (
                start,
                start + SignedDuration::from_secs(60 + rng.below(7_200)),
            )
        };
        let cmd = match case % 4 {
            0 => Command::Create(NewBooking {
                id: BookingId::parse("new").unwrap(),
                title: String::new(),
                start,
                end,
            }),
            1 => Command::Extend {
                booking: named,
                end,
            },
            2 => Command::CheckIn(named),
            _ => Command::Disable,
        };
        let scope = Scope::of(&cmd, &space, now);
        let read = bookings::scoped(&mut tx, &space.id, &scope).await.unwrap();
        assert_eq!(key(read), key(scope.select(&all)), "case {case}: {scope:?}");
    }
}

/// The timer runner's read: of each asked space the active bookings, those completed within
/// the cleaning bound, the asked ones, and the first `next` scheduled from the earliest due
/// instant — for random bookings of three spaces (one not asked), at random instants.
async fn a_timer_batch_reads_the_first_scheduled_of_each_space(db: Backend) {
    use BookingStatus::*;
    let store = testing::fresh(db, "timer-sets").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let names = ["s1", "s2", "s3"];
    for id in names {
        let s = testing::utc_space(id);
        let st = initial_status(&s, &[], at(0));
        assert!(spaces::insert(&mut tx, &s, &st).await.unwrap());
    }
    // Scheduled twice as often as any other status.
    let statuses = [
        Scheduled,
        Scheduled,
        Upcoming,
        AwaitingCheckIn,
        CheckedIn,
        Completed,
        Cancelled,
        NoShow,
    ];
    let mut rng = Lcg(17);
    let mut all = vec![];
    for space in names {
        let prefix = format!("{space}-");
        let mine = one_after_another(&mut rng, space, &prefix, 120, -10 * 86_400, 6, 4, &statuses);
        all.extend(mine);
    }
    bookings::upsert_many(&mut tx, &all.iter().collect::<Vec<_>>())
        .await
        .unwrap();
    let max_cleaning = 3_600_000;
    let key = |mut v: Vec<String>| {
        v.sort();
        v
    };
    for case in 0..60 {
        let earliest = at(rng.below(20 * 86_400) - 10 * 86_400);
        let next = 1 + rng.below(5) as usize;
        let extra_ids: Vec<BookingId> = (0..3)
            .map(|_| {
                BookingId::parse(&format!(
                    "{}-{}",
                    names[rng.below(3) as usize],
                    rng.below(120)
                ))
                .unwrap()
            })
            .collect();
        let extra: Vec<&BookingId> = extra_ids.iter().collect();
        let asked = [SpaceId::parse("s1").unwrap(), SpaceId::parse("s2").unwrap()];
        let asked: Vec<&SpaceId> = asked.iter().collect();
        let read = bookings::timer_sets(&mut tx, &asked, earliest, max_cleaning, &extra, next)
            .await
            .unwrap();
        let got: Vec<String> = read.iter().map(|b| b.id.to_string()).collect();
        let mut want = vec![];
        for space in &asked {
            let mine: Vec<&Booking> = all.iter().filter(|b| &&b.space_id == space).collect();
            let mut first: Vec<&&Booking> = mine
                .iter()
                .filter(|b| b.status == Scheduled && b.start >= earliest)
                .collect();
            first.sort_by_key(|b| b.start);
            first.truncate(next);
            for b in &mine {
                let active = matches!(b.status, Upcoming | AwaitingCheckIn | CheckedIn);
                let cleaning = b.status == Completed
                    && b.ended_at.is_some_and(|e| {
                        e.as_millisecond() >= earliest.as_millisecond() - max_cleaning
                    });
                let asked = extra.contains(&&b.id);
                if active || cleaning || asked || first.iter().any(|f| f.id == b.id) {
                    want.push(b.id.to_string());
                }
            }
        }
        assert_eq!(key(got.clone()), key(want), "case {case}");
        let starts: Vec<Timestamp> = read.iter().map(|b| b.start).collect();
        assert!(starts.is_sorted(), "case {case}: in start order");
    }
}

zs_store::test_on_both_backends!(
    a_working_set_is_the_live_recent_and_asked_bookings_of_its_spaces,
    a_scoped_read_is_what_the_scope_selects,
    a_timer_batch_reads_the_first_scheduled_of_each_space,
);
