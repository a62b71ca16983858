//! Sends the load: each booking's create, check-in / cancel and check-out at its instant,
//! through whichever instance is up. A request cut by a kill is sent again (creates carry an
//! `Idempotency-Key`); its outcome is then `Unknown` unless a repeat settles it, and the
//! audit takes the space history as the truth.

use super::fleet::Pool;
use super::plan::{BookingPlan, Fate, Plan, ms};
use crate::support::Api;
use jiff::Timestamp;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// Never sent: no instance was up before its deadline, or an earlier step failed.
    NotSent,
    /// Accepted (2xx), or a repeat found it done.
    Done,
    /// Refused with this error code, and no earlier attempt may have been applied.
    Refused(String),
    /// An attempt may have been applied (cut by a kill, or 503), and no repeat settled it.
    Unknown,
}

/// The three steps of one booking.
#[derive(Debug, Clone)]
pub struct Acks {
    pub create: Ack,
    pub act1: Ack,
    pub act2: Ack,
}

/// What the API answered over the run.
#[derive(Debug, Default)]
pub struct ApiStats {
    pub accepted: usize,
    pub refused: usize,
    pub transport_errors: usize,
    pub unavailable_503: usize,
    /// When each 503 was answered.
    pub unavailable_at: Vec<Timestamp>,
    /// Every other 5xx: (when, what) — a bug.
    pub server_errors: Vec<(Timestamp, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Create,
    CheckIn,
    CheckOut,
    Cancel,
}

/// Runs every booking's steps at their instants; returns the acks in plan order.
pub async fn drive(plan: &Plan, pool: Pool, stats: Arc<Mutex<ApiStats>>) -> Vec<Acks> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, b) in plan.bookings.iter().enumerate() {
        let (b, sp) = (b.clone(), plan.spaces[b.space].clone());
        let (pool, stats) = (pool.clone(), stats.clone());
        tasks.spawn(async move {
            let upcoming = b.start - ms(sp.lead_ms);
            let no_show = b.start + ms(sp.grace_ms);
            (i, run_booking(&b, upcoming, no_show, &pool, &stats).await)
        });
    }
    let mut acks = vec![None; plan.bookings.len()];
    while let Some(r) = tasks.join_next().await {
        let (i, a) = r.expect("booking task");
        acks[i] = Some(a);
    }
    acks.into_iter().map(Option::unwrap).collect()
}

async fn run_booking(
    b: &BookingPlan,
    upcoming: Timestamp,
    no_show: Timestamp,
    pool: &Pool,
    stats: &Mutex<ApiStats>,
) -> Acks {
    let mut acks = Acks {
        create: Ack::NotSent,
        act1: Ack::NotSent,
        act2: Ack::NotSent,
    };
    sleep_until(b.create_at).await;
    // Created inside its upcoming window it would have another lifecycle: give up before.
    acks.create = send(b, Step::Create, upcoming - ms(300), pool, stats).await;
    if acks.create != Ack::Done {
        return acks;
    }
    if let Some(t) = b.act1_at {
        sleep_until(t).await;
        acks.act1 = match b.fate {
            Fate::Cancel => send(b, Step::Cancel, b.start - ms(100), pool, stats).await,
            _ => send(b, Step::CheckIn, no_show - ms(150), pool, stats).await,
        };
    }
    if let Some(t) = b.act2_at
        && matches!(acks.act1, Ack::Done | Ack::Unknown)
    {
        sleep_until(t).await;
        acks.act2 = send(b, Step::CheckOut, b.end - ms(150), pool, stats).await;
    }
    acks
}

/// Sleeps until the wall clock reaches `t`.
pub async fn sleep_until(t: Timestamp) {
    let left = t.duration_since(Timestamp::now());
    if left.is_positive() {
        tokio::time::sleep(Duration::try_from(left).unwrap_or_default()).await;
    }
}

/// Sends one step until it is settled or `deadline` passes.
async fn send(
    b: &BookingPlan,
    step: Step,
    deadline: Timestamp,
    pool: &Pool,
    stats: &Mutex<ApiStats>,
) -> Ack {
    let mut maybe_applied = false;
    loop {
        if Timestamp::now() > deadline {
            return if maybe_applied {
                Ack::Unknown
            } else {
                Ack::NotSent
            };
        }
        let Some(base) = pool.pick() else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let api = Api::new(&base);
        let (path, body, key) = match step {
            Step::Create => (
                "/v1/bookings".to_owned(),
                json!({"id": b.id, "spaceId": format!("room-{}", b.space), "start": b.start.to_string(), "end": b.end.to_string(), "title": b.id}),
                Some(b.id.as_str()),
            ),
            Step::CheckIn => (format!("/v1/bookings/{}/check-in", b.id), json!({}), None),
            Step::CheckOut => (format!("/v1/bookings/{}/check-out", b.id), json!({}), None),
            Step::Cancel => (format!("/v1/bookings/{}/cancel", b.id), json!({}), None),
        };
        let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
        let r = api
            .try_call(
                reqwest::Method::POST,
                &path,
                Some(body),
                &headers,
                Duration::from_secs(5),
            )
            .await;
        let (status, v) = match r {
            Err(_) => {
                stats.lock().unwrap().transport_errors += 1;
                maybe_applied = true;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Ok(x) => x,
        };
        if status >= 500 {
            {
                let mut s = stats.lock().unwrap();
                if status == 503 {
                    s.unavailable_503 += 1;
                    s.unavailable_at.push(Timestamp::now());
                } else {
                    s.server_errors
                        .push((Timestamp::now(), format!("{status} {path}: {v}")));
                }
            }
            maybe_applied = true;
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        if status == 429 {
            // Rate limited: nothing was applied; try again after its Retry-After (1 s).
            tokio::time::sleep(Duration::from_millis(1000)).await;
            continue;
        }
        if (200..300).contains(&status) {
            stats.lock().unwrap().accepted += 1;
            return Ack::Done;
        }
        stats.lock().unwrap().refused += 1;
        let code = v["error"]["code"].as_str().unwrap_or("?").to_owned();
        return match (step, code.as_str()) {
            // A repeat of a check-in that went through.
            (Step::CheckIn, "already_checked_in") if maybe_applied => Ack::Done,
            _ if maybe_applied => Ack::Unknown,
            _ => Ack::Refused(code),
        };
    }
}
