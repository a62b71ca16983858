//! The durable job queues (`meetingScheduler`, `statusUpdateQueue`, `webhookDeliveryQueue`):
//! jobs are rows written in the same transaction as the change that causes them.

use crate::backend::{Cols, locked};
use crate::bulk::bulk;
use crate::query::query;
use crate::typed::{Queue, Relay};
use crate::{Conn, Result, StoreError, ts};
use jiff::Timestamp;

/// A job to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Deterministic id; adding an existing id replaces the pending job.
    pub id: String,
    /// The queue.
    pub queue: Queue,
    /// The job name (for timers: the event name).
    pub name: String,
    /// JSON data.
    pub data: serde_json::Value,
    /// When it is due.
    pub due: Timestamp,
    /// Order among jobs due at the same instant (lower first).
    pub rank: u8,
    /// Jobs of one group run one at a time, oldest first (status posts of one space).
    pub group: Option<String>,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Insertion order (ties at the same instant and rank).
    pub seq: i64,
    /// Its id.
    pub id: String,
    /// The queue.
    pub queue: Queue,
    /// The name.
    pub name: String,
    /// JSON data.
    pub data: serde_json::Value,
    /// When it is due.
    pub due: Timestamp,
    /// Attempts made so far.
    pub attempts_made: i64,
    /// The last failure.
    pub last_error: Option<String>,
    /// Its group (a space's timers, a space's status posts): a group's jobs run in order.
    pub group: Option<String>,
}

/// Adds or replaces one job (see [`put_many`]).
pub async fn put(c: &mut Conn, j: &NewJob, now: Timestamp) -> Result<()> {
    put_many(c, std::slice::from_ref(j), now).await
}

/// Adds or replaces many jobs (one statement on PostgreSQL: [`crate::bulk`]): adding an existing id replaces the
/// pending job (its attempts start again).
pub async fn put_many(c: &mut Conn, list: &[NewJob], now: Timestamp) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    const ONE: &str = "INSERT INTO jobs (id, queue, name, data, due_ms, rank, grp, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data, \
         due_ms = excluded.due_ms, rank = excluded.rank, grp = excluded.grp, attempts_made = 0, \
         last_error = NULL, relayed = $9";
    const MANY: &str = "INSERT INTO jobs (id, queue, name, data, due_ms, rank, grp, created_at) SELECT value->>0, \
         value->>1, value->>2, value->>3, CAST(value->>4 AS BIGINT), CAST(value->>5 AS BIGINT), value->>6, $2 \
         FROM ROWS($1) WHERE true \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data, \
         due_ms = excluded.due_ms, rank = excluded.rank, grp = excluded.grp, attempts_made = 0, \
         last_error = NULL, relayed = $3";
    let mut w = bulk(ONE, MANY, 7)
        .shared(now.as_millisecond())
        .shared(Relay::Pending.as_i64());
    for j in list {
        w.row([
            j.id.as_str().into(),
            j.queue.as_str().into(),
            j.name.as_str().into(),
            j.data.to_string().into(),
            j.due.as_millisecond().into(),
            i64::from(j.rank).into(),
            j.group.as_deref().into(),
        ]);
    }
    w.execute(c).await?;
    if c.is_pg() {
        query(crate::postgres::NOTIFY_SQL)
            .bind("jobs")
            .execute(c)
            .await?;
    }
    Ok(())
}

/// Removes one job; `true` if it existed.
pub async fn remove(c: &mut Conn, id: &str) -> Result<bool> {
    let n = query("DELETE FROM jobs WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(n > 0)
}

/// Removes jobs by their insertion numbers (a claimed batch).
pub async fn remove_seqs(c: &mut Conn, seqs: &[i64]) -> Result<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    const ONE: &str = "DELETE FROM jobs WHERE seq = $1";
    const MANY: &str =
        "DELETE FROM jobs WHERE seq IN (SELECT CAST(value->>0 AS BIGINT) FROM ROWS($1))";
    let mut w = bulk(ONE, MANY, 1);
    for &seq in seqs {
        w.row([seq.into()]);
    }
    w.execute(c).await?;
    Ok(())
}

/// Removes every job of `queue` in `group` whose id starts with `prefix`. On SQLite the
/// ids are read as a range of the id index (the prefix up to the first id past it), so
/// only the matching jobs are visited, however many the group holds. PostgreSQL compares
/// text by the database's collation, where that range is not the prefix: there the
/// group's jobs are read (the group index) and matched with `LIKE`.
pub async fn remove_prefix(c: &mut Conn, queue: Queue, group: &str, prefix: &str) -> Result<u64> {
    if c.lite().is_some()
        && let Some(past) = past_prefix(prefix)
    {
        // `+` keeps the planner off the group index: the id range is the narrow one.
        return query("DELETE FROM jobs WHERE id >= $3 AND id < $4 AND +queue = $1 AND +grp = $2")
            .bind(queue.as_str())
            .bind(group)
            .bind(prefix)
            .bind(&past)
            .execute(c)
            .await;
    }
    let like = format!(
        "{}%",
        prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    query("DELETE FROM jobs WHERE queue = $1 AND grp = $2 AND id LIKE $3 ESCAPE '\\'")
        .bind(queue.as_str())
        .bind(group)
        .bind(&like)
        .execute(c)
        .await
}

/// The first text past every text that starts with `prefix` in code-point order (SQLite's
/// binary order of UTF-8): the prefix with its last character moved on by one. `None`
/// when there is none (an empty prefix, or one ending in the last code point).
fn past_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()?;
    // Surrogates are no characters: the one after U+D7FF is U+E000.
    let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32)?;
    chars.push(next);
    Some(chars.into_iter().collect())
}

/// The queue a stored row names.
fn queue_of(name: &str) -> Result<Queue> {
    Queue::parse(name).ok_or_else(|| StoreError::Corrupt(format!("unknown queue {name:?}")))
}

/// The columns every job read selects first, in this order ([`row_to_job`] reads them by
/// position: by name, each column was a search of the statement's names).
macro_rules! job_columns {
    () => {
        "seq, id, queue, name, data, due_ms, attempts_made, last_error, grp"
    };
}

fn row_to_job(r: &dyn Cols) -> Result<Job> {
    let data = r.text_at(4);
    Ok(Job {
        seq: r.int_at(0),
        id: r.text_at(1),
        queue: queue_of(&r.text_at(2))?,
        name: r.text_at(3),
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
        due: ts(r.int_at(5))?,
        attempts_made: r.int_at(6),
        last_error: r.opt_text_at(7),
        group: r.opt_text_at(8),
    })
}

/// Jobs of `queue` due at or before `now`, in run order (due, rank, insertion), and jobs
/// a queue worker claimed whose lease ran out by `claimed_by` (the worker died mid-send).
/// `claimed_by` must not be earlier than `now` (the index range is `due_ms <= claimed_by`).
///
/// On PostgreSQL the rows come back as one JSON array: a burst of due timers is read in
/// one step instead of one driver round trip per row (SQLite reads them in place). Inside a PostgreSQL write transaction the
/// jobs are claimed (`FOR UPDATE SKIP LOCKED`): another instance skips them — and a job of
/// a group (a space's timers) is returned only if no earlier due job of its group is held
/// by another transaction, so a group's jobs never run out of order (see
/// [`group_order_prefix`]). Jobs held back stay locked by this transaction, untouched,
/// until it ends.
pub async fn due(
    c: &mut Conn,
    queue: Queue,
    now: Timestamp,
    claimed_by: Timestamp,
    limit: i64,
) -> Result<Vec<Job>> {
    const DUE: &str = concat!(
        "SELECT ",
        job_columns!(),
        ", rank FROM jobs WHERE queue = $1 AND due_ms <= $4 AND (due_ms <= $2 OR relayed = $5) \
         ORDER BY due_ms, rank, seq LIMIT $3"
    );
    const ROW: &str = job_columns!();
    let bound = |sql: String| {
        query(sql)
            .bind(queue.as_str())
            .bind(now.as_millisecond())
            .bind(limit)
            .bind(claimed_by.as_millisecond())
            .bind(Relay::Claimed.as_i64())
    };
    if !c.is_pg() {
        // Rows read in place on the writer's connection: no round trip to save.
        return bound(DUE.to_owned()).fetch_all(c, row_to_job).await;
    }
    let due = locked(DUE, c.locking(), "FOR UPDATE SKIP LOCKED");
    let sql = format!(
        "SELECT json_agg(json_build_array({ROW}) ORDER BY due_ms, rank, seq)::text FROM ({due}) j"
    );
    let text: Option<String> = bound(sql).fetch_one(c, |r| Ok(r.opt_text_at(0))).await?;
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        i64,
        i64,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = serde_json::from_str(text.as_deref().unwrap_or("[]"))
        .map_err(|e| crate::StoreError::Corrupt(format!("due jobs: {e}")))?;
    let mut jobs: Vec<Job> = Vec::with_capacity(rows.len());
    for (seq, id, queue, name, data, due_ms, attempts_made, last_error, group) in rows {
        jobs.push(Job {
            seq,
            id,
            queue: queue_of(&queue)?,
            name,
            data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
            due: ts(due_ms)?,
            attempts_made,
            last_error,
            group,
        });
    }
    let locking = matches!(c, Conn::PgTx(_));
    if !locking || jobs.iter().all(|j| j.group.is_none()) {
        // One writer at a time (SQLite), or nothing grouped: nothing can be skipped.
        return Ok(jobs);
    }
    let mut groups: Vec<&str> = jobs.iter().filter_map(|j| j.group.as_deref()).collect();
    groups.sort_unstable();
    groups.dedup();
    let list = serde_json::to_string(&groups).expect("strings serialise");
    // Every due job of those groups, in run order, as committed now (locked or not).
    const ORDER: &str = "SELECT grp, id FROM jobs WHERE queue = $1 AND grp IN (SELECT value FROM LIST($2)) \
         AND due_ms <= $4 AND (due_ms <= $3 OR relayed = $5) ORDER BY grp, due_ms, rank, seq";
    let order: Vec<(String, String)> = query(ORDER)
        .bind(queue.as_str())
        .bind(&list)
        .bind(now.as_millisecond())
        .bind(claimed_by.as_millisecond())
        .bind(Relay::Claimed.as_i64())
        .fetch_all(c, |r| Ok((r.text_at(0), r.text_at(1))))
        .await?;
    Ok(group_order_prefix(jobs, &order))
}

/// Of `taken` (jobs this transaction locked), keeps the ungrouped ones and, of each group,
/// those that come before the first of the group's due jobs (`due_order`: (group, id) in
/// run order) that it did not take — that one is held by another transaction, and the
/// group's later jobs must wait for it: a space's `CLEANING_ENDED` taken after the next
/// booking's `UPCOMING_REACHED` would find the room no longer cleaning.
pub(crate) fn group_order_prefix(taken: Vec<Job>, due_order: &[(String, String)]) -> Vec<Job> {
    use std::collections::{HashMap, HashSet};
    let ours: HashSet<&str> = taken.iter().map(|j| j.id.as_str()).collect();
    // For each group, the ids up to (not including) its first job held elsewhere.
    let mut runnable: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut blocked: HashSet<&str> = HashSet::new();
    for (grp, id) in due_order {
        if blocked.contains(grp.as_str()) {
            continue;
        }
        if ours.contains(id.as_str()) {
            runnable.entry(grp).or_default().insert(id);
        } else {
            blocked.insert(grp);
        }
    }
    let keep: Vec<bool> = taken
        .iter()
        .map(|j| match &j.group {
            None => true,
            Some(g) => runnable
                .get(g.as_str())
                .is_some_and(|ids| ids.contains(j.id.as_str())),
        })
        .collect();
    taken
        .into_iter()
        .zip(keep)
        .filter_map(|(j, k)| k.then_some(j))
        .collect()
}

/// Like [`due`], but only the oldest job of each group (so groups run in order).
pub async fn due_heads(
    c: &mut Conn,
    queue: Queue,
    now: Timestamp,
    claimed_by: Timestamp,
    limit: i64,
) -> Result<Vec<Job>> {
    const SQL: &str = concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs j WHERE queue = $1 AND due_ms <= $4 AND (due_ms <= $2 OR relayed = $5) \
         AND (grp IS NULL OR NOT EXISTS \
         (SELECT 1 FROM jobs k WHERE k.queue = $1 AND k.grp = j.grp AND k.seq < j.seq)) \
         ORDER BY due_ms, rank, seq LIMIT $3"
    );
    query(locked(SQL, c.locking(), "FOR UPDATE SKIP LOCKED"))
        .bind(queue.as_str())
        .bind(now.as_millisecond())
        .bind(limit)
        .bind(claimed_by.as_millisecond())
        .bind(Relay::Claimed.as_i64())
        .fetch_all(c, row_to_job)
        .await
}

/// Leases jobs until `until`: they are not due again unless the lease runs out (a crash).
pub async fn lease(c: &mut Conn, ids: &[String], until: Timestamp) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    // A relayed job leased here is marked claimed: if the lease runs out, the store's
    // runner takes it at once instead of waiting for the queue's fallback lag.
    const ONE: &str = "UPDATE jobs SET due_ms = $2, relayed = CASE WHEN relayed = $3 THEN $3 ELSE $4 END \
         WHERE id = $1";
    const MANY: &str = "UPDATE jobs SET due_ms = $2, relayed = CASE WHEN relayed = $3 THEN $3 ELSE $4 END \
         WHERE id IN (SELECT value->>0 FROM ROWS($1))";
    let until = until.as_millisecond();
    let (pending, claimed) = (Relay::Pending.as_i64(), Relay::Claimed.as_i64());
    if let [one] = ids {
        // Most claims take one job (a delivery, a space's status post): its key alone,
        // without building and reading a JSON list on PostgreSQL.
        query(ONE)
            .bind(one)
            .bind(until)
            .bind(pending)
            .bind(claimed)
            .execute(c)
            .await?;
        return Ok(());
    }
    let mut w = bulk(ONE, MANY, 1)
        .shared(until)
        .shared(pending)
        .shared(claimed);
    for id in ids {
        w.row([id.into()]);
    }
    w.execute(c).await?;
    Ok(())
}

/// The earliest due instant in `queue`, if any job is pending.
pub async fn next_due(c: &mut Conn, queue: Queue) -> Result<Option<Timestamp>> {
    let ms: Option<i64> = query("SELECT MIN(due_ms) FROM jobs WHERE queue = $1")
        .bind(queue.as_str())
        .fetch_one(c, |r| Ok(r.opt_int_at(0)))
        .await?;
    ms.map(ts).transpose()
}

/// The earliest due instant of every queue that has pending jobs, in one query.
///
/// One index seek per queue (`jobs_due` leads with `queue, due_ms`), not a `GROUP BY` that
/// reads every pending job: the simulator asks this after every step, and its cost must not
/// grow with the number of spaces.
pub async fn next_due_by_queue(c: &mut Conn) -> Result<Vec<(Queue, Timestamp)>> {
    // One parameter per queue of `Queue::ALL`, bound in that order.
    const SQL: &str = concat!(
        "SELECT q, d FROM (SELECT q, (SELECT MIN(due_ms) FROM jobs WHERE queue = q) AS d FROM (",
        "SELECT CAST($1 AS TEXT) AS q UNION ALL SELECT CAST($2 AS TEXT) ",
        "UNION ALL SELECT CAST($3 AS TEXT)) AS names) AS heads WHERE d IS NOT NULL"
    );
    let [a, b, q3] = Queue::ALL.map(Queue::as_str);
    let rows: Vec<(String, i64)> = query(SQL)
        .bind(a)
        .bind(b)
        .bind(q3)
        .fetch_all(c, |r| Ok((r.text_at(0), r.int_at(1))))
        .await?;
    rows.into_iter()
        .map(|(q, ms)| Ok((queue_of(&q)?, ts(ms)?)))
        .collect()
}

/// Creates the relay's index (`jobs_unrelayed`: the jobs whose plan is not in the Redis queue
/// yet, in due order) or drops it, on the embedded store. Only the relay reads it, and every
/// job written, leased or removed pays for it, so the file keeps it only while a relay runs
/// on it (`serve` says which at start). PostgreSQL keeps it always: nothing to do there.
pub async fn relay_index(c: &mut Conn, relaying: bool) -> Result<()> {
    if c.is_pg() {
        return Ok(());
    }
    let sql = if relaying {
        "CREATE INDEX IF NOT EXISTS jobs_unrelayed ON jobs (queue, relayed, due_ms)"
    } else {
        "DROP INDEX IF EXISTS jobs_unrelayed"
    };
    query(sql).execute(c).await?;
    Ok(())
}

/// Pending jobs of `queue` in run order (for inspection).
pub async fn list(c: &mut Conn, queue: Queue, limit: i64) -> Result<Vec<Job>> {
    query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE queue = $1 ORDER BY due_ms, rank, seq LIMIT $2"
    ))
    .bind(queue.as_str())
    .bind(limit)
    .fetch_all(c, row_to_job)
    .await
}

/// Records a failed attempt and moves the job to `retry_at`.
pub async fn retry_later(c: &mut Conn, id: &str, retry_at: Timestamp, error: &str) -> Result<()> {
    query(
        "UPDATE jobs SET attempts_made = attempts_made + 1, due_ms = $1, last_error = $2, relayed = $4 \
         WHERE id = $3",
    )
    .bind(retry_at.as_millisecond())
    .bind(error)
    .bind(id)
    .bind(Relay::Pending.as_i64())
    .execute(c)
    .await?;
    Ok(())
}

/// The jobs of one group (a space's timers) due at or before `up_to`, in run order. Inside a
/// PostgreSQL write transaction they are locked until commit, so two instances never run
/// the same job (the second waits, then finds it gone).
pub async fn group_due(
    c: &mut Conn,
    queue: Queue,
    group: &str,
    up_to: Timestamp,
    limit: i64,
) -> Result<Vec<Job>> {
    const SQL: &str = concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE queue = $1 AND grp = $2 AND due_ms <= $3 \
         ORDER BY due_ms, rank, seq LIMIT $4"
    );
    query(locked(SQL, c.locking(), "FOR UPDATE"))
        .bind(queue.as_str())
        .bind(group)
        .bind(up_to.as_millisecond())
        .bind(limit)
        .fetch_all(c, row_to_job)
        .await
}

/// Claims the job `id` of `queue` if its plan is still the one due at `due`: moves it to
/// `until` (a lease, as [`lease`]) and returns it; `None` when it was removed, moved, or
/// claimed already (a queue job delivered twice, or superseded).
pub async fn claim_exact(
    c: &mut Conn,
    queue: Queue,
    id: &str,
    due: Timestamp,
    until: Timestamp,
) -> Result<Option<Job>> {
    query(
        concat!(
            "UPDATE jobs SET due_ms = $4, relayed = $5 WHERE queue = $1 AND id = $2 AND due_ms = $3 RETURNING ",
            job_columns!()
        ),
    )
    .bind(queue.as_str())
    .bind(id)
    .bind(due.as_millisecond())
    .bind(until.as_millisecond())
    .bind(Relay::Claimed.as_i64())
    .fetch_optional(c, row_to_job)
    .await
}

/// The oldest job of a group (the next status post of a space), if any. Inside a
/// PostgreSQL write transaction it is locked until commit (waiting for a transaction that
/// holds it, such as the relay marking it relayed: skipping it would lose the turn).
pub async fn group_head(c: &mut Conn, queue: Queue, group: &str) -> Result<Option<Job>> {
    const SQL: &str = concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE queue = $1 AND grp = $2 ORDER BY seq LIMIT 1"
    );
    query(locked(SQL, c.locking(), "FOR UPDATE"))
        .bind(queue.as_str())
        .bind(group)
        .fetch_optional(c, row_to_job)
        .await
}

/// Jobs of `queue` whose current plan has not been relayed to Redis yet, in due order.
pub async fn unrelayed(c: &mut Conn, queue: Queue, limit: i64) -> Result<Vec<Job>> {
    query(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE queue = $1 AND relayed = $3 ORDER BY due_ms, rank, seq LIMIT $2"
    ))
    .bind(queue.as_str())
    .bind(limit)
    .bind(Relay::Pending.as_i64())
    .fetch_all(c, row_to_job)
    .await
}

/// Marks the relayed plans of `queue` unrelayed, for the relay to add them again (the queue
/// lost them); plans a worker has claimed stay claimed. Returns how many.
pub async fn unmark_relayed(c: &mut Conn, queue: Queue) -> Result<u64> {
    query("UPDATE jobs SET relayed = $2 WHERE queue = $1 AND relayed = $3")
        .bind(queue.as_str())
        .bind(Relay::Pending.as_i64())
        .bind(Relay::Relayed.as_i64())
        .execute(c)
        .await
}

/// Marks jobs relayed, each only if its plan is still the one relayed (same id and due).
pub async fn mark_relayed(c: &mut Conn, plans: &[(String, Timestamp)]) -> Result<()> {
    if plans.is_empty() {
        return Ok(());
    }
    const ONE: &str = "UPDATE jobs SET relayed = $3 WHERE id = $1 AND due_ms = $2";
    const MANY: &str = "UPDATE jobs SET relayed = $2 WHERE EXISTS (SELECT 1 FROM ROWS($1) \
         WHERE value->>0 = jobs.id AND CAST(value->>1 AS BIGINT) = jobs.due_ms)";
    let mut w = bulk(ONE, MANY, 2).shared(Relay::Relayed.as_i64());
    for (id, due) in plans {
        w.row([id.as_str().into(), due.as_millisecond().into()]);
    }
    w.execute(c).await?;
    Ok(())
}

/// Pending job counts per queue (for `/metrics`).
pub async fn depths(c: &mut Conn) -> Result<Vec<(Queue, i64)>> {
    query("SELECT queue, COUNT(*) AS n FROM jobs GROUP BY queue")
        .fetch_all(c, |r| Ok((queue_of(&r.text("queue"))?, r.int("n"))))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, group: Option<&str>) -> Job {
        Job {
            seq: 0,
            id: id.into(),
            queue: Queue::MeetingScheduler,
            name: "T".into(),
            data: serde_json::Value::Null,
            due: Timestamp::UNIX_EPOCH,
            attempts_made: 0,
            last_error: None,
            group: group.map(str::to_owned),
        }
    }

    fn order(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(g, id)| (g.to_string(), id.to_string()))
            .collect()
    }

    fn ids(v: &[Job]) -> Vec<&str> {
        v.iter().map(|j| j.id.as_str()).collect()
    }

    #[test]
    fn a_group_stops_at_its_first_job_held_elsewhere() {
        let taken = vec![
            job("a.2", Some("a")),
            job("b.1", Some("b")),
            job("free", None),
            job("a.4", Some("a")),
            job("b.2", Some("b")),
        ];
        // a.1 and a.3 are due but held by another transaction; b has nothing held.
        let due = order(&[
            ("a", "a.1"),
            ("a", "a.2"),
            ("a", "a.3"),
            ("a", "a.4"),
            ("b", "b.1"),
            ("b", "b.2"),
        ]);
        assert_eq!(
            ids(&group_order_prefix(taken, &due)),
            ["b.1", "free", "b.2"]
        );
    }

    #[test]
    fn a_group_runs_up_to_the_hole() {
        let taken = vec![
            job("a.1", Some("a")),
            job("a.2", Some("a")),
            job("a.4", Some("a")),
        ];
        let due = order(&[("a", "a.1"), ("a", "a.2"), ("a", "a.3"), ("a", "a.4")]);
        assert_eq!(ids(&group_order_prefix(taken, &due)), ["a.1", "a.2"]);
    }

    #[test]
    fn nothing_held_elsewhere_keeps_everything_in_order() {
        let taken = vec![job("a.1", Some("a")), job("x", None), job("a.2", Some("a"))];
        let due = order(&[("a", "a.1"), ("a", "a.2")]);
        assert_eq!(ids(&group_order_prefix(taken, &due)), ["a.1", "x", "a.2"]);
    }

    #[test]
    fn the_text_past_a_prefix_bounds_exactly_the_texts_that_start_with_it() {
        assert_eq!(past_prefix("b1.").as_deref(), Some("b1/"));
        assert_eq!(past_prefix("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(past_prefix(""), None);
        assert_eq!(past_prefix("a\u{10FFFF}"), None);
        let prefix = "b1.";
        let past = past_prefix(prefix).unwrap();
        for id in [
            "b1.",
            "b1.START",
            "b1.\u{10FFFF}",
            "b10.START",
            "b1",
            "b1/",
            "b2.",
            "a",
        ] {
            let inside = id >= prefix && id < past.as_str();
            assert_eq!(inside, id.starts_with(prefix), "{id}");
        }
    }
}
