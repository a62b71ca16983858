//! A job's relay mark through its life (added, relayed, leased, retried, claimed), as the
//! stored numbers earlier versions wrote, on both backends; a row naming an unknown queue
//! reads as corrupt.

use jiff::{SignedDuration, Timestamp};
use zs_store::jobs::{self, NewJob};
use zs_store::{Backend, Conn, Queue, Relay, StoreError, testing};

const Q: Queue = Queue::MeetingScheduler;

fn job(id: &str, due: Timestamp) -> NewJob {
    NewJob {
        id: id.into(),
        queue: Q,
        name: "START_TIME_REACHED".into(),
        data: serde_json::Value::Null,
        due,
        rank: 0,
        group: None,
    }
}

/// The stored `relayed` number of job `id`, read past the store's API.
async fn stored_mark(c: &mut Conn, id: &str) -> i64 {
    const SQL: &str = "SELECT relayed FROM jobs WHERE id = $1";
    testing::int(c, SQL, id).await.unwrap()
}

async fn ids(v: Vec<jobs::Job>) -> Vec<String> {
    v.into_iter().map(|j| j.id).collect()
}

async fn a_jobs_relay_mark_is_stored_as_before(db: Backend) {
    let store = testing::fresh(db, "relay-marks").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let t0 = Timestamp::from_second(1_000).unwrap();
    let s = |n: i64| t0 + SignedDuration::from_secs(n);
    jobs::put_many(&mut tx, &[job("j1", t0), job("j2", t0)], t0)
        .await
        .unwrap();
    assert_eq!(stored_mark(&mut tx, "j1").await, 0);
    assert_eq!(Relay::parse(0), Some(Relay::Pending));
    let unrelayed = jobs::unrelayed(&mut tx, Q, 10).await.unwrap();
    assert!(unrelayed.iter().all(|j| j.queue == Q));
    assert_eq!(ids(unrelayed).await, ["j1", "j2"]);

    // Relayed: 1, and no longer listed for the relay; not due before its instant.
    jobs::mark_relayed(&mut tx, &[("j1".into(), t0)])
        .await
        .unwrap();
    assert_eq!(stored_mark(&mut tx, "j1").await, 1);
    assert_eq!(
        ids(jobs::unrelayed(&mut tx, Q, 10).await.unwrap()).await,
        ["j2"]
    );
    let early = jobs::due(&mut tx, Q, s(-1), s(10), 10).await.unwrap();
    assert_eq!(ids(early).await, Vec::<String>::new());

    // Leased by a queue worker: a relayed job becomes claimed (2), a job never relayed
    // stays 0. A claimed job is due again as soon as its lease is within `claimed_by`.
    jobs::lease(&mut tx, &["j1".into(), "j2".into()], s(5))
        .await
        .unwrap();
    assert_eq!(stored_mark(&mut tx, "j1").await, 2);
    assert_eq!(stored_mark(&mut tx, "j2").await, 0);
    let taken_over = jobs::due(&mut tx, Q, t0, s(10), 10).await.unwrap();
    assert_eq!(ids(taken_over).await, ["j1"]);
    let heads = jobs::due_heads(&mut tx, Q, t0, s(10), 10).await.unwrap();
    assert_eq!(ids(heads).await, ["j1"]);

    // Redis lost its jobs: relayed plans go back to 0, claimed ones stay claimed.
    jobs::mark_relayed(&mut tx, &[("j2".into(), s(5))])
        .await
        .unwrap();
    assert_eq!(jobs::unmark_relayed(&mut tx, Q).await.unwrap(), 1);
    assert_eq!(stored_mark(&mut tx, "j1").await, 2);
    assert_eq!(stored_mark(&mut tx, "j2").await, 0);

    // A retry is a new plan to relay (0); claiming that exact plan marks it claimed (2).
    jobs::retry_later(&mut tx, "j1", s(20), "HTTP 500")
        .await
        .unwrap();
    assert_eq!(stored_mark(&mut tx, "j1").await, 0);
    let claimed = jobs::claim_exact(&mut tx, Q, "j1", s(20), s(30))
        .await
        .unwrap()
        .expect("the plan due at its retry instant");
    assert_eq!((claimed.queue, claimed.due), (Q, s(30)));
    assert_eq!(stored_mark(&mut tx, "j1").await, 2);
    // Replacing a job starts its plan afresh.
    jobs::put(&mut tx, &job("j1", s(40)), t0).await.unwrap();
    assert_eq!(stored_mark(&mut tx, "j1").await, 0);
    assert_eq!(jobs::depths(&mut tx).await.unwrap(), [(Q, 2)]);

    // A row naming a queue this version does not know is reported, not guessed at.
    const ODD: &str = "INSERT INTO jobs (id, queue, name, data, due_ms, rank, created_at) \
        VALUES ('odd', 'someOtherQueue', 'X', 'null', 0, 0, 0)";
    testing::execute(&mut tx, ODD, None).await.unwrap();
    let err = jobs::depths(&mut tx).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
}

/// A lease of one job (the usual claim) takes that job alone: its due instant moves to the
/// lease's end and a relayed plan becomes claimed; the job beside it is untouched.
async fn a_lease_of_one_job_takes_that_job_alone(db: Backend) {
    let store = testing::fresh(db, "relay-lease-one").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let t0 = Timestamp::from_second(1_000).unwrap();
    let s = |n: i64| t0 + SignedDuration::from_secs(n);
    jobs::put_many(&mut tx, &[job("a", t0), job("b", t0)], t0)
        .await
        .unwrap();
    jobs::mark_relayed(&mut tx, &[("a".into(), t0), ("b".into(), t0)])
        .await
        .unwrap();
    jobs::lease(&mut tx, &["a".into()], s(30)).await.unwrap();
    assert_eq!(stored_mark(&mut tx, "a").await, 2);
    assert_eq!(stored_mark(&mut tx, "b").await, 1);
    let due_now = jobs::due(&mut tx, Q, s(10), s(10), 10).await.unwrap();
    assert_eq!(ids(due_now).await, ["b"], "a is leased until s(30)");
    let after_lease = jobs::due(&mut tx, Q, s(30), s(30), 10).await.unwrap();
    assert_eq!(ids(after_lease).await, ["b", "a"], "in due order");
}

/// Whether the relay's index exists, read past the store's API.
async fn has_relay_index(db: Backend, c: &mut Conn) -> bool {
    let sql = match db {
        Backend::Sqlite => "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = $1",
        Backend::Postgres => {
            "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1"
        }
    };
    testing::int(c, sql, "jobs_unrelayed").await.unwrap() == 1
}

/// The embedded store keeps the relay's index only while a relay runs on it (a fresh file
/// has none; the relay's start creates it, a start without drops it); PostgreSQL keeps it
/// always. The relay's list is the same either way.
async fn the_relay_index_is_kept_only_where_a_relay_runs(db: Backend) {
    let store = testing::fresh(db, "relay-index").await.unwrap();
    let t0 = Timestamp::from_second(1_000).unwrap();
    let mut tx = store.begin().await.unwrap();
    let pg = matches!(db, Backend::Postgres);
    assert_eq!(has_relay_index(db, &mut tx).await, pg);
    jobs::put_many(&mut tx, &[job("j1", t0), job("j2", t0)], t0)
        .await
        .unwrap();
    jobs::mark_relayed(&mut tx, &[("j1".into(), t0)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for relaying in [true, true, false, false, true] {
        let mut tx = store.begin().await.unwrap();
        jobs::relay_index(&mut tx, relaying).await.unwrap();
        tx.commit().await.unwrap();
        let mut c = store.read().await.unwrap();
        assert_eq!(has_relay_index(db, &mut c).await, relaying || pg);
        let list = jobs::unrelayed(&mut c, Q, 10).await.unwrap();
        assert_eq!(ids(list).await, ["j2"]);
    }
}

zs_store::test_on_both_backends!(
    a_jobs_relay_mark_is_stored_as_before,
    a_lease_of_one_job_takes_that_job_alone,
    the_relay_index_is_kept_only_where_a_relay_runs
);
