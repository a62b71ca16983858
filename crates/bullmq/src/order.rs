//! Ordered ingress on `meetingScheduler`: an ingress job waits while an ingress job added
//! before it for the same booking or space is still being run, on this instance or another.
//!
//! BullMQ hands plain jobs out of `wait` in the order they were added (`RPOPLPUSH wait
//! active`), so when a job starts, every job added before it is in `active` or finished.
//! Before applying a job we read `active` (and, once per job, its `name`, `data` and
//! `timestamp`) and wait while an earlier job there names the same booking or space. Which
//! job was added first: auto ids (the queue's counter) compare as integers; when either id
//! is a custom one, the `timestamp` (ms) decides, and equal timestamps do not wait. The wait
//! is bounded (the queue's lock duration), so a job held by an instance that died cannot
//! block the ones after it for longer than it takes to be taken over. Timer jobs neither
//! wait nor are waited for.

use crate::QueueError;
use bullmq::QueueKeys;
use bullmq::redis_connection::RedisConnection;
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use zs_engine::Engine;
use zs_engine::ingress::Ingress;

/// What an ingress job names, for ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The job id.
    pub id: String,
    /// The job's `timestamp` (ms since the epoch, the producer's clock).
    pub timestamp: u64,
    /// The booking it names.
    pub booking: Option<String>,
    /// The space it names, or its booking's space when the store knows the booking.
    pub space: Option<String>,
    /// Whether it is a `BOOKING_CREATED`.
    pub creates: bool,
}

/// Whether job `a` was added to the queue before job `b`.
pub fn added_before(a: &Claim, b: &Claim) -> bool {
    match (a.id.parse::<u64>(), b.id.parse::<u64>()) {
        (Ok(x), Ok(y)) => x < y,
        _ => a.timestamp < b.timestamp,
    }
}

/// Whether `later` must wait for `earlier` (added before it) to finish. Jobs for the same
/// space wait; jobs for the same booking wait, except that a `BOOKING_CREATED` does not wait
/// for an earlier job that only names its booking: such a job can only be waiting for this
/// very booking to be created (had it existed, the create would change nothing).
pub fn must_follow(earlier: &Claim, later: &Claim) -> bool {
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    if same(&earlier.space, &later.space) {
        return true;
    }
    same(&earlier.booking, &later.booking) && (earlier.creates || !later.creates)
}

/// The first job among `active` that `me` must wait for, if any.
pub fn blocker<'a>(me: &Claim, active: impl IntoIterator<Item = &'a Claim>) -> Option<&'a Claim> {
    active
        .into_iter()
        .find(|a| a.id != me.id && added_before(a, me) && must_follow(a, me))
}

/// How often a waiting job reads `active` again (sooner when a job of this instance ends).
const POLL: Duration = Duration::from_millis(10);
/// How long one Redis read may take before it counts as failed.
const READ_WITHIN: Duration = Duration::from_secs(2);
/// How many ids of jobs finished here are remembered (they leave `active` a moment later).
const FINISHED_KEPT: usize = 4096;

/// Makes ingress jobs of one queue wait their turn.
pub struct Gate {
    conn: RedisConnection,
    keys: QueueKeys,
    done: tokio::sync::Notify,
    finished: Mutex<Finished>,
}

/// Ids of jobs this instance has finished processing, oldest first.
#[derive(Default)]
struct Finished {
    order: VecDeque<String>,
    set: HashSet<String>,
}

/// A job's fields as read from its hash: `name`, `data`, `timestamp`.
type Fields = (Option<String>, Option<String>, Option<String>);

impl Gate {
    /// Connects to `redis_url` for the jobs of `{prefix}:{queue}`.
    pub async fn connect(redis_url: &str, prefix: &str, queue: &str) -> Result<Self, QueueError> {
        let opts = bullmq::options::RedisConnectionOptions {
            url: redis_url.to_owned(),
            ..Default::default()
        };
        Ok(Self {
            conn: RedisConnection::new_managed_only(&opts).await?,
            keys: QueueKeys::new(queue, Some(prefix)),
            done: tokio::sync::Notify::new(),
            finished: Mutex::default(),
        })
    }

    /// Notes that this instance has finished job `id` and wakes the jobs waiting here.
    pub fn finished(&self, id: &str) {
        {
            let mut f = self.finished.lock().unwrap_or_else(|p| p.into_inner());
            if f.set.insert(id.to_owned()) {
                f.order.push_back(id.to_owned());
            }
            while f.order.len() > FINISHED_KEPT {
                if let Some(old) = f.order.pop_front() {
                    f.set.remove(&old);
                }
            }
        }
        self.done.notify_waiters();
    }

    fn is_finished(&self, id: &str) -> bool {
        let f = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        f.set.contains(id)
    }

    /// Waits, at most `bound`, until no ingress job added before `job` for the same booking
    /// or space is active. Returns the id of a job still in the way when the bound ran out.
    pub async fn wait_turn(
        &self,
        engine: &Engine,
        job: &bullmq::Job,
        parsed: &Ingress,
        bound: Duration,
    ) -> Option<String> {
        let until = tokio::time::Instant::now() + bound;
        let mut me = claim(engine, job.id(), job.timestamp(), parsed).await;
        // The job itself is in `active` too; it never waits for itself.
        let mut known: HashMap<String, Option<Claim>> = HashMap::from([(me.id.clone(), None)]);
        let mut failing = false;
        loop {
            let woken = self.done.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let active = self.active(engine, &mut known).await;
            // A booking created by an earlier job since the last look brings its space, and
            // with it the order behind earlier jobs for that space. Looked up after reading
            // `active`: a create gone from there has committed its booking.
            if me.space.is_none()
                && let Some(b) = parsed.booking()
                && let Ok(space) = engine.space_of(b).await
            {
                me.space = Some(space.to_string());
            }
            let in_way = match active {
                Ok(ids) => {
                    let running = ids
                        .iter()
                        .filter_map(|id| known.get(id).and_then(Option::as_ref));
                    blocker(&me, running).map(|a| a.id.clone())
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(job = %job.id(), error = %e, "reading the active jobs to keep ingress order; retrying");
                        failing = true;
                    }
                    Some(String::new())
                }
            };
            let in_way = in_way?;
            if tokio::time::Instant::now() >= until {
                return Some(in_way);
            }
            tokio::select! {
                () = &mut woken => {}
                () = tokio::time::sleep(POLL) => {}
                () = tokio::time::sleep_until(until) => {}
            }
        }
    }

    /// The ids in `active` of jobs not finished here, with the claims of ids not seen
    /// before added to `known`. Which jobs are finished is taken right after reading
    /// `active`, before any booking is looked up: a create counted as finished has committed
    /// its booking by then, so the lookups see it.
    async fn active(
        &self,
        engine: &Engine,
        known: &mut HashMap<String, Option<Claim>>,
    ) -> Result<Vec<String>, String> {
        let ids: Vec<String> = self
            .read(redis::cmd("LRANGE").arg(self.keys.active()).arg(0).arg(-1))
            .await?;
        let ids: Vec<String> = ids.into_iter().filter(|id| !self.is_finished(id)).collect();
        let new: Vec<&String> = ids.iter().filter(|id| !known.contains_key(*id)).collect();
        let mut pipe = redis::pipe();
        for id in &new {
            pipe.cmd("HMGET")
                .arg(self.keys.job_key(id))
                .arg("name")
                .arg("data")
                .arg("timestamp");
        }
        let fields: Vec<Fields> = if new.is_empty() {
            vec![]
        } else {
            match tokio::time::timeout(READ_WITHIN, self.conn.pipe(&pipe)).await {
                Ok(r) => r.map_err(|e| e.to_string())?,
                Err(_) => return Err("no answer from Redis".into()),
            }
        };
        for (id, f) in new.into_iter().zip(fields) {
            let c = match ingress_of(&f) {
                Some((parsed, ts)) => Some(claim(engine, id, ts, &parsed).await),
                None => None,
            };
            known.insert(id.clone(), c);
        }
        // A job naming only a booking that was not stored when first seen may have been
        // created since: then it is ordered with the booking's space as well.
        for id in &ids {
            if let Some(Some(c)) = known.get_mut(id)
                && c.space.is_none()
                && let Some(b) = c.booking.as_deref()
                && let Ok(b) = zs_core::BookingId::parse(b)
                && let Ok(space) = engine.space_of(&b).await
            {
                c.space = Some(space.to_string());
            }
        }
        Ok(ids)
    }

    async fn read<T: redis::FromRedisValue>(&self, cmd: &mut redis::Cmd) -> Result<T, String> {
        match tokio::time::timeout(READ_WITHIN, self.conn.cmd(cmd)).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("no answer from Redis".into()),
        }
    }
}

/// The ingress job a job hash holds, with its timestamp; `None` for timer jobs, malformed
/// jobs (they change nothing, so nothing waits for them) and jobs already removed.
fn ingress_of((name, data, ts): &Fields) -> Option<(Ingress, u64)> {
    let name = name.as_deref()?;
    if crate::scheduler::is_timer(name) {
        return None;
    }
    let data: Value = serde_json::from_str(data.as_deref()?).ok()?;
    let parsed = zs_engine::ingress::parse(name, &data).ok()?;
    let ts = ts.as_deref().and_then(|t| t.parse().ok()).unwrap_or(0);
    Some((parsed, ts))
}

/// The claim of a parsed job: a job naming only its booking takes the booking's space when
/// the store knows the booking.
async fn claim(engine: &Engine, id: &str, timestamp: u64, parsed: &Ingress) -> Claim {
    let space = match (parsed.space(), parsed.booking()) {
        (Some(s), _) => Some(s.to_string()),
        (None, Some(b)) => engine.space_of(b).await.ok().map(|s| s.to_string()),
        (None, None) => None,
    };
    Claim {
        id: id.to_owned(),
        timestamp,
        booking: parsed.booking().map(|b| b.to_string()),
        space,
        creates: matches!(parsed, Ingress::Create(..)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, ts: u64, booking: Option<&str>, space: Option<&str>, creates: bool) -> Claim {
        Claim {
            id: id.into(),
            timestamp: ts,
            booking: booking.map(Into::into),
            space: space.map(Into::into),
            creates,
        }
    }

    #[test]
    fn auto_ids_compare_as_numbers_custom_ids_by_timestamp() {
        let (a, b) = (
            job("9", 500, None, None, false),
            job("10", 100, None, None, false),
        );
        assert!(added_before(&a, &b), "9 before 10, whatever the clocks say");
        assert!(!added_before(&b, &a));
        let (c, d) = (
            job("order-a", 100, None, None, false),
            job("7", 101, None, None, false),
        );
        assert!(added_before(&c, &d));
        assert!(!added_before(&d, &c));
        let same = job("order-b", 100, None, None, false);
        assert!(
            !added_before(&c, &same) && !added_before(&same, &c),
            "a tie waits for no one"
        );
    }

    #[test]
    fn same_booking_or_space_waits_other_jobs_do_not() {
        let create = job("1", 0, Some("bk-1"), Some("room-1"), true);
        let cancel = job("2", 0, Some("bk-1"), Some("room-1"), false);
        let unknown_cancel = job("2", 0, Some("bk-1"), None, false);
        let other_room = job("3", 0, Some("bk-9"), Some("room-2"), true);
        let disable = job("4", 0, None, Some("room-1"), false);
        assert!(must_follow(&create, &cancel));
        assert!(
            must_follow(&create, &unknown_cancel),
            "a booking not yet stored still orders"
        );
        assert!(!must_follow(&create, &other_room));
        assert!(
            must_follow(&cancel, &disable),
            "the booking's space orders it with the space"
        );
        assert!(
            !must_follow(&unknown_cancel, &disable),
            "space unknown: no order with it"
        );
        assert!(must_follow(
            &create,
            &job("5", 0, Some("bk-1"), Some("room-1"), true)
        ));
    }

    #[test]
    fn a_create_does_not_wait_for_a_job_waiting_for_its_booking() {
        let early_check_in = job("1", 0, Some("bk-1"), None, false);
        let create = job("2", 0, Some("bk-1"), Some("room-1"), true);
        assert!(!must_follow(&early_check_in, &create));
    }

    #[test]
    fn the_blocker_is_an_earlier_conflicting_job_never_itself_or_a_later_one() {
        let me = job("5", 0, Some("bk-1"), Some("room-1"), false);
        let later = job("6", 0, Some("bk-1"), Some("room-1"), true);
        let unrelated = job("3", 0, Some("bk-2"), Some("room-2"), true);
        let earlier = job("4", 0, None, Some("room-1"), false);
        assert_eq!(blocker(&me, [&me, &later, &unrelated]), None);
        assert_eq!(
            blocker(&me, [&me, &later, &unrelated, &earlier]).map(|c| c.id.as_str()),
            Some("4")
        );
    }

    #[test]
    fn timer_malformed_and_removed_jobs_claim_nothing() {
        let f = |n: &str, d: &str| {
            (
                Some(n.to_owned()),
                Some(d.to_owned()),
                Some("17".to_owned()),
            )
        };
        assert!(ingress_of(&f("START_TIME_REACHED", r#"{"spaceId":"room-1"}"#)).is_none());
        assert!(ingress_of(&f("USER_CHECKS_IN", r#"{"bookingId":7}"#)).is_none());
        assert!(ingress_of(&f("USER_CHECKS_IN", "not json")).is_none());
        assert!(ingress_of(&(None, None, None)).is_none());
        let (parsed, ts) = ingress_of(&f("USER_CHECKS_IN", r#"{"bookingId":"bk-1"}"#)).unwrap();
        assert_eq!(
            (parsed.booking().map(|b| b.as_str()), ts),
            (Some("bk-1"), 17)
        );
    }
}
