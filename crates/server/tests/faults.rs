//! Crash and fault tests on the real binary, under a seeded load of bookings with 1–3 s
//! timers: SIGKILL loops (embedded store; three instances on Redis + PostgreSQL), a Redis
//! that restarts empty mid-run, PostgreSQL connections cut mid-run, and a webhook receiver
//! that is down for a whole lifecycle. Each test prints its figures (`--no-capture`) and
//! checks that every transition happened exactly once, in a gapless sequence, none early,
//! and that every status post and webhook arrived: lost = 0.
//!
//! `ZS_FAULT_SEED` repeats a run; `ZS_SOAK_KILLS` sets the kill count (default 20;
//! `scripts/soak.sh` runs 200).

mod fault_kit;
mod support;

use fault_kit::fleet::{Fleet, kill_loop};
use fault_kit::plan::{Plan, ms};
use fault_kit::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

#[path = "faults/scaleout.rs"]
mod scaleout;
#[path = "faults/webhooks.rs"]
mod webhooks;

/// Runs the kill loop on `fleet` under a load spanning the loop, then audits.
async fn kill_loop_under_load(
    label: &str,
    fleet: Fleet,
    status: &Receiver,
    hooks: &Receiver,
    spaces: usize,
) {
    let kills = kills_from_env();
    let seed = Rng::seed_from_env("ZS_FAULT_SEED");
    println!(
        "[{label}] seed {seed} (ZS_FAULT_SEED={seed} repeats it), {kills} kills, {} instance(s)",
        fleet.len()
    );
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let plan = Plan::draw(&mut rng, spaces, now_ms() + ms(1500), kills as i64 * 2000);
    let prepared = Load::prepare(plan, &fleet.base(0), &hooks.url()).await;
    let pool = fleet.pool.clone();
    let fleet = Arc::new(tokio::sync::Mutex::new(fleet));
    let killer = kill_loop(fleet.clone(), kills, Rng::new(seed ^ 0x5eed));
    let load = prepared.drive(pool.clone(), killer).await;
    let loop_done = started.elapsed();
    let pick = || pool.pick();
    let report = load.settle(pick, status, hooks, SETTLE_WITHIN, label).await;
    let mut f = fleet.lock().await;
    let restarts = &f.restart_ms;
    println!(
        "[{label}] kills {}, restarts {} (mean {} ms, max {} ms); load, kills and the plan's bookings done after {:.1} s, audit clean after {:.1} s",
        f.kills,
        restarts.len(),
        restarts.iter().sum::<u128>() / restarts.len().max(1) as u128,
        restarts.iter().max().unwrap_or(&0),
        loop_done.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if !report.problems.is_empty() {
        f.print_logs(&["ERROR", "WARN", "panicked"]);
    }
    assert!(
        report.problems.is_empty(),
        "[{label}] {} problems (seed {seed})",
        report.problems.len()
    );
    assert_eq!(report.lost(), 0);
    assert!(f.stop_all(), "clean exit on SIGTERM");
}

/// How long a load's audit has to come clean after the plan's last booking.
const SETTLE_WITHIN: Duration = Duration::from_secs(40);

/// 1. SIGKILL at random points, restarted on the same data directory, 20 times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loop_on_the_embedded_store() {
    let status = Receiver::start().await;
    let hooks = Receiver::start().await;
    let fleet = Fleet::start("faults-embedded", 1, base_env(&status, &patient_retry()));
    kill_loop_under_load("embedded", fleet, &status, &hooks, 8).await;
}
