//! The scale-out fault tests (Redis + PostgreSQL): the SIGKILL loop on three instances, a
//! Redis restart and PostgreSQL connection cuts mid-run.

use super::*;
use crate::fault_kit::redis::PrivateRedis;
use serde_json::json;

/// The scale-out settings: PostgreSQL `schema` (its connections named after it), Redis at
/// `redis_url` under a prefix named after the schema, 2 s queue locks.
fn scaleout_env(
    status: &Receiver,
    schema: &str,
    redis_url: &str,
) -> (Vec<(&'static str, String)>, String) {
    let prefix = schema.replace('_', "-");
    let mut env = base_env(status, &patient_retry());
    env.extend([
        (
            "ZS_DATABASE_URL",
            with_param(&pg_url(), "application_name", schema),
        ),
        ("ZS_DATABASE_SCHEMA", schema.to_owned()),
        ("ZS_REDIS_URL", redis_url.to_owned()),
        ("ZS_QUEUE_PREFIX", prefix.clone()),
        ("ZS_QUEUE_LOCK_MS", "2000".to_owned()),
    ]);
    (env, prefix)
}

/// 2. The SIGKILL loop on three instances sharing Redis and PostgreSQL: a random one is
/// killed each time and started again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loop_on_redis_and_postgres() {
    let status = Receiver::start().await;
    let hooks = Receiver::start().await;
    let schema = unique_schema("kill");
    let (env, prefix) = scaleout_env(&status, &schema, "redis://127.0.0.1:6379");
    let fleet = Fleet::start("faults-scaleout", 3, env);
    kill_loop_under_load("scale-out", fleet, &status, &hooks, 8).await;
    redis_forget(&prefix);
    psql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
}

/// `/readyz` of every live instance: (status or 0 for no answer).
async fn readiness(pool: &fault_kit::fleet::Pool, n: usize) -> Vec<u16> {
    let mut out = vec![];
    for _ in 0..n {
        let Some(base) = pool.pick() else { continue };
        let r = reqwest::Client::new()
            .get(format!("{base}/readyz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        out.push(r.map(|r| r.status().as_u16()).unwrap_or(0));
    }
    out
}

/// Runs the load on `fleet` with `fault` injected mid-run; audits and returns the report.
async fn load_with_fault<F, Fut>(
    label: &str,
    fleet: &mut Fleet,
    status: &Receiver,
    hooks: &Receiver,
    fault: F,
) -> (
    fault_kit::audit::Report,
    Arc<std::sync::Mutex<fault_kit::driver::ApiStats>>,
)
where
    F: FnOnce(fault_kit::fleet::Pool) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let seed = Rng::seed_from_env("ZS_FAULT_SEED");
    println!("[{label}] seed {seed} (ZS_FAULT_SEED={seed} repeats it)");
    let mut rng = Rng::new(seed);
    let plan = Plan::draw(&mut rng, 6, now_ms() + ms(1500), 20_000);
    let prepared = Load::prepare(plan, &fleet.base(0), &hooks.url()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pool = fleet.pool.clone();
    let load = prepared.drive(pool.clone(), fault(pool.clone())).await;
    let pick = || pool.pick();
    let report = load.settle(pick, status, hooks, SETTLE_WITHIN, label).await;
    if !report.problems.is_empty() {
        fleet.print_logs(&["ERROR", "WARN", "panicked"]);
    }
    (report, load.api_stats)
}

/// 3. A private Redis without persistence is killed mid-run and started again empty: the
/// store is the authority and its runners take over what Redis lost; `/readyz` says 503
/// while Redis is down and 200 after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_mid_run_loses_nothing() {
    let mut redis = PrivateRedis::start(false);
    let status = Receiver::start().await;
    let hooks = Receiver::start().await;
    let schema = unique_schema("redisdown");
    let (env, prefix) = scaleout_env(&status, &schema, &redis.url());
    let mut fleet = Fleet::start("faults-redis", 2, env);
    let t = Instant::now();
    // A booking an hour ahead (outside the plan, not audited): its four timers are in Redis
    // before the outage and lost with it.
    let api = Api::new(&fleet.base(0));
    let far = json!({"id": "room-far", "name": "far", "timezone": "UTC"});
    assert_eq!(api.post("/v1/spaces", far).await.0, 201);
    let body = json!({"id": "bk-far", "spaceId": "room-far", "start": at(3_600_000), "end": at(3_660_000)});
    assert_eq!(api.post("/v1/bookings", body).await.0, 201);
    let mut ready = Readiness::default();
    let (redis_ref, ready_ref) = (&mut redis, &mut ready);
    let (report, _) = load_with_fault("redis-restart", &mut fleet, &status, &hooks, |pool| {
        redis_outage(pool, redis_ref, ready_ref, &schema)
    })
    .await;
    println!(
        "[redis-restart] /readyz before {:?}, while Redis was down (4 s) {:?}, 200 on both {} ms after it came back; took {:.1} s",
        ready.before,
        ready.down,
        ready.back_ms,
        t.elapsed().as_secs_f64()
    );
    for (phase, from, to) in [
        ("before the outage", jiff::Timestamp::MIN, ready.outage.0),
        ("during it", ready.outage.0, ready.outage.1),
        (
            "in the 6 s after",
            ready.outage.1,
            ready.outage.1 + ms(6000),
        ),
        ("later", ready.outage.1 + ms(6000), jiff::Timestamp::MAX),
    ] {
        let (n, median, max) = report.post_delays_between(from, to);
        println!(
            "[redis-restart] status posts of transitions {phase}: {n}, arrived after their instant by median {median} ms, max {max} ms"
        );
    }
    for q in [
        "meetingScheduler",
        "statusUpdateQueue",
        "webhookDeliveryQueue",
    ] {
        let k = format!("{prefix}:{q}");
        let n = |kind: &str, key: &str| redis.cli(&[kind, &format!("{k}:{key}")]).trim().to_owned();
        println!(
            "[redis-restart] {q} in the restarted Redis: wait {}, delayed {}, active {}, completed {}, failed {}",
            n("LLEN", "wait"),
            n("ZCARD", "delayed"),
            n("LLEN", "active"),
            n("ZCARD", "completed"),
            n("ZCARD", "failed"),
        );
    }
    println!(
        "[redis-restart] store plans when Redis came back: {}; 2 s after both were ready: {}",
        ready.plans_at_restart, ready.plans_after
    );
    let far_jobs = redis
        .cli(&[
            "ZRANGE",
            &format!("{prefix}:meetingScheduler:delayed"),
            "0",
            "-1",
        ])
        .lines()
        .filter(|l| l.starts_with("bk-far."))
        .count();
    println!(
        "[redis-restart] timer jobs of the far booking back in the restarted Redis: {far_jobs} of 4"
    );
    println!(
        "[redis-restart] relays that noticed the loss and relayed every pending plan again: {}",
        fleet.count_in_logs("relaying every pending plan again")
    );
    if std::env::var("ZS_FAULT_DEBUG").is_ok() {
        println!("[redis-restart] outage {:?}", ready.outage);
        fleet.print_logs(&[""]);
    }
    assert!(
        report.problems.is_empty(),
        "{} problems",
        report.problems.len()
    );
    assert_eq!(far_jobs, 4, "the relay put the lost plans back");
    // Once Redis is back, the queues carry the posts again at once (the relay and the probe
    // connect afresh, a worker left stuck by the lost connection is replaced), not the
    // store's fallback, ZS_QUEUE_LOCK_MS (2 s) late, nor after the crate's reconnect
    // backoff (up to 5 s).
    let (after_n, after_median, _) =
        report.post_delays_between(ready.outage.1, jiff::Timestamp::MAX);
    assert!(
        after_n >= 3,
        "too few posts after the outage to judge: {after_n}"
    );
    assert!(
        after_median < 1000,
        "status posts after the outage went by the fallback: median {after_median} ms late"
    );
    assert!(
        ready.back_ms < 2000,
        "/readyz said 200 only {} ms after Redis was back",
        ready.back_ms
    );
    assert_eq!(ready.before, [200, 200]);
    assert!(
        ready.down.contains(&503),
        "503 while Redis is down: {:?}",
        ready.down
    );
    assert!(fleet.stop_all());
    psql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
}

/// What `/readyz` said around the Redis outage, and when it was.
#[derive(Default)]
struct Readiness {
    before: Vec<u16>,
    down: Vec<u16>,
    back_ms: u128,
    outage: (jiff::Timestamp, jiff::Timestamp),
    plans_at_restart: String,
    plans_after: String,
}

/// 8 s into the run, kills Redis for 4 s (polling `/readyz`), starts it again empty and
/// waits until both instances are ready.
async fn redis_outage(
    pool: fault_kit::fleet::Pool,
    redis: &mut PrivateRedis,
    ready: &mut Readiness,
    schema: &str,
) {
    tokio::time::sleep(Duration::from_secs(8)).await;
    ready.before = readiness(&pool, 2).await;
    redis.kill();
    ready.outage.0 = jiff::Timestamp::now();
    let down = Instant::now();
    while down.elapsed() < Duration::from_secs(4) {
        ready.down.extend(readiness(&pool, 2).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let plans = |schema: &str| {
        psql(&format!(
            "SELECT string_agg(queue || ' relayed=' || relayed || ': ' || n, ', ') FROM \
             (SELECT queue, relayed, count(*) AS n FROM {schema}.jobs GROUP BY 1, 2 ORDER BY 1, 2) j"
        ))
        .trim()
        .to_owned()
    };
    ready.plans_at_restart = plans(schema);
    redis.restart();
    ready.outage.1 = jiff::Timestamp::now();
    let up = Instant::now();
    while readiness(&pool, 2).await != [200, 200] {
        assert!(
            up.elapsed() < Duration::from_secs(30),
            "ready again after Redis restarted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ready.back_ms = up.elapsed().as_millis();
    tokio::time::sleep(Duration::from_secs(2)).await;
    ready.plans_after = plans(schema);
}

/// 4. Every PostgreSQL connection of the instances (and only theirs: selected by their
/// `application_name`, the test's schema) is terminated for 2 s, twice: requests during a
/// cut may get 503, never another 5xx, none after recovery, and nothing is lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_cut_mid_run() {
    let status = Receiver::start().await;
    let hooks = Receiver::start().await;
    let schema = unique_schema("pgcut");
    let (env, prefix) = scaleout_env(&status, &schema, "redis://127.0.0.1:6379");
    let mut fleet = Fleet::start("faults-pgcut", 2, env);
    let t = Instant::now();
    let sql = format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{schema}'"
    );
    let mut terminated = vec![];
    let mut recovered_at = jiff::Timestamp::now();
    let (term_ref, rec_ref) = (&mut terminated, &mut recovered_at);
    let (report, api_stats) =
        load_with_fault("pg-cut", &mut fleet, &status, &hooks, |_pool| async move {
            for pause in [6, 5] {
                tokio::time::sleep(Duration::from_secs(pause)).await;
                let cut = Instant::now();
                let mut n = 0;
                while cut.elapsed() < Duration::from_secs(2) {
                    n += psql(&sql).trim().parse::<usize>().unwrap_or(0);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                term_ref.push(n);
            }
            // Recovery: a pool notices a dead connection on its next use.
            *rec_ref = jiff::Timestamp::now() + ms(3000);
        })
        .await;
    let late_503 = api_stats
        .lock()
        .unwrap()
        .unavailable_at
        .iter()
        .filter(|t| **t > recovered_at)
        .count();
    let readyz = readiness(&fleet.pool, fleet.len()).await;
    println!(
        "[pg-cut] backends terminated per cut {terminated:?}; 503s after recovery {late_503}; /readyz after {readyz:?}; took {:.1} s",
        t.elapsed().as_secs_f64()
    );
    assert!(
        report.problems.is_empty(),
        "{} problems",
        report.problems.len()
    );
    assert!(
        terminated.iter().all(|n| *n > 0),
        "the cuts hit the instances' connections"
    );
    assert_eq!(late_503, 0, "no 503 after recovery");
    assert!(readyz.iter().all(|s| *s == 200), "{readyz:?}");
    assert!(fleet.stop_all());
    redis_forget(&prefix);
    psql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
}
