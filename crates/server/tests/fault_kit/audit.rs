//! The audit: reads every space's history, every booking, the status posts and webhooks the
//! receivers got and the delivery logs, and checks them against the plan and what the
//! driver did — every transition exactly once in a gapless sequence, every booking in the
//! one terminal status its actions imply, nothing early, nothing lost.

use super::driver::{Ack, Acks, ApiStats};
use super::plan::{BookingPlan, Fate, Plan, SpacePlan, ms};
pub use super::report::Report;
use crate::support::{Api, Receiver};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// What the audit looks at.
pub struct Evidence<'a> {
    pub plan: &'a Plan,
    pub acks: &'a [Acks],
    pub status: &'a Receiver,
    pub hooks: &'a Receiver,
    /// The webhook endpoints' ids.
    pub endpoints: &'a [String],
    pub api_stats: &'a std::sync::Mutex<ApiStats>,
}

/// One history entry.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) seq: u64,
    pub(super) event: String,
    pub(super) booking: Option<String>,
    pub(super) at: Timestamp,
}

/// The lifecycle a booking went through, by its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    NoShow,
    Ended,
    CheckedOut,
    Cancelled,
}

impl Life {
    fn name(self) -> &'static str {
        match self {
            Life::NoShow => "no_show",
            Life::Ended => "ended",
            Life::CheckedOut => "checked_out",
            Life::Cancelled => "cancelled",
        }
    }
}

const TIMERS: [&str; 5] = [
    "UPCOMING_REACHED",
    "START_TIME_REACHED",
    "NO_SHOW_TIMEOUT",
    "END_TIME_REACHED",
    "CLEANING_ENDED",
];

pub(super) async fn get(api: &Api, path: &str) -> Result<(u16, serde_json::Value), String> {
    for _ in 0..10 {
        let r = api
            .try_call(
                reqwest::Method::GET,
                path,
                None,
                &[],
                Duration::from_secs(10),
            )
            .await;
        if !matches!(r, Ok((429, _))) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    Err(format!("GET {path}: still rate limited"))
}

/// Audits until nothing is wrong or `within` has passed (deliveries may still be draining);
/// returns the last report.
pub async fn settle(
    pick: impl Fn() -> Option<String>,
    ev: &Evidence<'_>,
    within: Duration,
) -> Report {
    let deadline = std::time::Instant::now() + within;
    loop {
        let r = match pick() {
            Some(base) => audit(&Api::new(&base), ev).await,
            None => Report {
                problems: vec!["no instance up".into()],
                ..Report::default()
            },
        };
        if r.problems.is_empty() || std::time::Instant::now() >= deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One audit pass.
pub async fn audit(api: &Api, ev: &Evidence<'_>) -> Report {
    let mut r = Report {
        bookings_planned: ev.plan.bookings.len(),
        ..Report::default()
    };
    let mut histories: Vec<Vec<Entry>> = vec![];
    for sp in &ev.plan.spaces {
        histories.push(history(api, sp, &mut r).await);
    }
    let mut by_booking: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for h in &histories {
        for e in h {
            match &e.booking {
                Some(b) => by_booking.entry(b.clone()).or_default().push(e.clone()),
                None => r
                    .problems
                    .push(format!("unexpected event without a booking: {e:?}")),
            }
        }
    }
    let mut expected_hooks: BTreeSet<(String, String)> = BTreeSet::new();
    for (b, acks) in ev.plan.bookings.iter().zip(ev.acks) {
        let sp = &ev.plan.spaces[b.space];
        let evs = by_booking.remove(&b.id).unwrap_or_default();
        if let Some(types) = check_booking(api, sp, b, acks, &evs, &mut r).await {
            for t in types {
                expected_hooks.insert((t.to_owned(), b.id.clone()));
            }
        }
    }
    for (b, _) in by_booking {
        r.problems
            .push(format!("history names a booking the test never made: {b}"));
    }
    super::outbound::check_posts(ev, &histories, &mut r);
    super::outbound::check_hooks(api, ev, &expected_hooks, &mut r).await;
    let s = ev.api_stats.lock().unwrap();
    r.api_5xx = s.server_errors.len();
    r.api_503 = s.unavailable_503;
    r.api_transport_errors = s.transport_errors;
    for (at, e) in &s.server_errors {
        r.problems
            .push(format!("API answered a 5xx other than 503 at {at}: {e}"));
    }
    r
}

async fn history(api: &Api, sp: &SpacePlan, r: &mut Report) -> Vec<Entry> {
    let h = match get(api, &format!("/v1/spaces/{}/history?limit=1000", sp.id)).await {
        Ok((200, v)) => v,
        other => {
            r.problems
                .push(format!("{}: history unavailable: {other:?}", sp.id));
            return vec![];
        }
    };
    let mut list: Vec<Entry> = h["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|t| Entry {
            seq: t["sequence"].as_u64().unwrap_or(0),
            event: t["event"].as_str().unwrap_or("?").to_owned(),
            booking: t["bookingId"].as_str().map(str::to_owned),
            at: t["occurredAt"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_default(),
        })
        .collect();
    list.sort_by_key(|e| e.seq);
    let seqs: Vec<u64> = list.iter().map(|e| e.seq).collect();
    if seqs != (1..=list.len() as u64).collect::<Vec<_>>() {
        r.problems
            .push(format!("{}: sequence not gapless 1..n: {seqs:?}", sp.id));
    }
    if list.windows(2).any(|w| w[1].at < w[0].at) {
        r.problems
            .push(format!("{}: occurredAt goes back in sequence order", sp.id));
    }
    let mut seen = BTreeSet::new();
    for e in &list {
        if let Some(b) = &e.booking
            && !seen.insert((b.clone(), e.event.clone()))
        {
            r.double_transitions += 1;
            r.problems
                .push(format!("{}: {} applied twice to {b}", sp.id, e.event));
        }
    }
    r.transitions += list.len();
    list
}

/// Checks one booking; returns the webhook types it must have caused, if it exists.
async fn check_booking(
    api: &Api,
    sp: &SpacePlan,
    b: &BookingPlan,
    acks: &Acks,
    evs: &[Entry],
    r: &mut Report,
) -> Option<Vec<&'static str>> {
    let (st, v) = match get(api, &format!("/v1/bookings/{}", b.id)).await {
        Ok(x) => x,
        Err(e) => {
            r.problems.push(format!("{}: unreadable: {e}", b.id));
            return None;
        }
    };
    if st == 404 {
        if acks.create == Ack::Done {
            r.problems.push(format!("{}: created (201) but gone", b.id));
        }
        if !evs.is_empty() {
            r.problems
                .push(format!("{}: not found but has history {evs:?}", b.id));
        }
        return None;
    }
    if st != 200 {
        r.problems.push(format!("{}: GET answered {st}: {v}", b.id));
        return None;
    }
    r.bookings_created += 1;
    let names: Vec<&str> = evs.iter().map(|e| e.event.as_str()).collect();
    let life = match v["status"].as_str() {
        Some("cancelled") => Life::Cancelled,
        Some("no_show") => Life::NoShow,
        Some("completed") if names.contains(&"USER_CHECKS_OUT") => Life::CheckedOut,
        Some("completed") => Life::Ended,
        other => {
            r.problems
                .push(format!("{}: not in a terminal status: {other:?}", b.id));
            return None;
        }
    };
    check_consistent(b, acks, life, r);
    let upcoming = b.start - ms(sp.lead_ms);
    let at_of = |n: &str| evs.iter().find(|e| e.event == n).map(|e| e.at);
    let cancelled: Timestamp = v["cancelledAt"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_default();
    // What the booking went through, as webhook types and (where they change a state) as
    // transitions. A create or a cancel that changes neither state (another booking of
    // the space comes first) is no transition, but still a webhook.
    let (want, hooks): (Vec<&str>, Vec<&'static str>) = match life {
        Life::NoShow => (
            vec!["UPCOMING_REACHED", "START_TIME_REACHED", "NO_SHOW_TIMEOUT"],
            vec!["booking.start", "booking.no_show"],
        ),
        Life::Ended => (
            vec![
                "UPCOMING_REACHED",
                "START_TIME_REACHED",
                "USER_CHECKS_IN",
                "END_TIME_REACHED",
                "CLEANING_ENDED",
            ],
            vec!["booking.start", "booking.checked_in", "booking.ended"],
        ),
        Life::CheckedOut => (
            vec![
                "UPCOMING_REACHED",
                "START_TIME_REACHED",
                "USER_CHECKS_IN",
                "USER_CHECKS_OUT",
                "CLEANING_ENDED",
            ],
            vec!["booking.start", "booking.checked_in", "booking.checked_out"],
        ),
        Life::Cancelled => {
            let mut w = vec![];
            let mut h = vec![];
            if cancelled >= upcoming {
                w.push("UPCOMING_REACHED");
                h.push("booking.start");
            }
            if cancelled >= b.start {
                w.push("START_TIME_REACHED");
            }
            if names.contains(&"BOOKING_CANCELLED") {
                w.push("BOOKING_CANCELLED");
            }
            h.push("booking.cancelled");
            (w, h)
        }
    };
    let rest: &[&str] = match names.split_first() {
        Some((&"BOOKING_CREATED", rest)) => rest,
        _ => &names,
    };
    if rest != want.as_slice() {
        r.problems.push(format!(
            "{} ({life:?}): history {names:?}, want [BOOKING_CREATED?] {want:?}",
            b.id
        ));
    }
    r.timers_expected += want.iter().filter(|n| TIMERS.contains(n)).count();
    let ended = at_of("USER_CHECKS_OUT").unwrap_or(b.end);
    for e in evs.iter().filter(|e| TIMERS.contains(&e.event.as_str())) {
        r.timers_fired += 1;
        let due = match e.event.as_str() {
            "UPCOMING_REACHED" => upcoming,
            "START_TIME_REACHED" => b.start,
            "NO_SHOW_TIMEOUT" => b.start + ms(sp.grace_ms),
            "END_TIME_REACHED" => b.end,
            _ => ended + ms(sp.cleaning_ms),
        };
        let late = e.at.duration_since(due).as_millis() as i64;
        if late < 0 {
            r.early += 1;
            r.problems.push(format!(
                "{}: {} at {} before its instant {due}",
                b.id, e.event, e.at
            ));
        } else if late == 0 {
            r.timers_exact += 1;
        } else {
            r.timers_late += 1;
            r.max_late_ms = r.max_late_ms.max(late);
        }
    }
    *r.lifecycles.entry(life.name()).or_default() += 1;
    Some(std::iter::once("booking.created").chain(hooks).collect())
}

/// The lifecycle must be the one the driver's acknowledged actions imply.
fn check_consistent(b: &BookingPlan, acks: &Acks, life: Life, r: &mut Report) {
    use Ack::*;
    let unknown = [&acks.create, &acks.act1, &acks.act2]
        .iter()
        .filter(|a| ***a == Unknown)
        .count();
    r.unknown_acks += unknown;
    let ok = match (b.fate, &acks.act1, &acks.act2) {
        (Fate::NoShow, _, _) => life == Life::NoShow,
        (Fate::Cancel, Done, _) => life == Life::Cancelled,
        (Fate::Cancel, Unknown, _) => matches!(life, Life::Cancelled | Life::NoShow),
        (Fate::Cancel, _, _) => life == Life::NoShow,
        (_, Refused(_) | NotSent, _) => life == Life::NoShow,
        (_, Done, Done) => life == Life::CheckedOut,
        (_, Done, Unknown) => matches!(life, Life::CheckedOut | Life::Ended),
        (_, Done, _) => life == Life::Ended,
        (_, Unknown, Done) => life == Life::CheckedOut,
        (_, Unknown, _) => life != Life::Cancelled,
    };
    if !ok {
        r.problems.push(format!(
            "{}: {life:?} does not follow from {:?} with {acks:?}",
            b.id, b.fate
        ));
    }
}
