//! `zs-scheduler simulate`: the deterministic simulation (see the `zs-sim` crate).

use anyhow::bail;
use std::time::{Duration, Instant};
use zs_sim::{PlanConfig, generate, run, shrink};

/// Flags of `zs-scheduler simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Spaces.
    #[arg(long, default_value_t = 100)]
    spaces: usize,
    /// Days of bookings.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// The seed (the first of `--seeds` runs).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many seeds to run, from `--seed` on.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Bookings per space per day, on average.
    #[arg(long, default_value_t = 2.0)]
    bookings_per_day: f64,
    /// Where the virtual clock starts (RFC 3339); the default is a week before Europe's
    /// and three weeks after North America's 2026 spring-forward.
    #[arg(long, default_value = "2026-03-22T00:00:00Z")]
    start: jiff::Timestamp,
    /// Run without injected faults.
    #[arg(long)]
    no_faults: bool,
    /// How long to spend shrinking a failing run, in seconds.
    #[arg(long, default_value_t = 120)]
    shrink_secs: u64,
}

pub async fn run_cli(a: SimulateArgs) -> anyhow::Result<()> {
    let base = std::env::temp_dir().join(format!("zs-sim-{}", std::process::id()));
    let mut failed = vec![];
    for seed in a.seed..a.seed + a.seeds {
        let plan = PlanConfig {
            spaces: a.spaces,
            days: a.days,
            seed,
            faults: !a.no_faults,
            start: a.start,
            bookings_per_day: a.bookings_per_day,
        };
        let steps = generate(&plan);
        let dir = base.join(format!("seed-{seed}"));
        let started = Instant::now();
        let r = run(&plan, &steps, &dir).await;
        let secs = started.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(&dir);
        match r {
            Ok(s) => {
                println!(
                    "seed {seed}: ok in {secs:.1} s — {} spaces, {:.0} virtual days, {} steps ({:.0}/s)",
                    a.spaces,
                    s.virtual_days,
                    s.steps,
                    s.steps as f64 / secs
                );
                println!(
                    "  bookings: {} requested, {} accepted, {} conflicts refused, {} invalid refused; user events {} applied, {} refused; maintenance toggles {}",
                    s.booking_requests,
                    s.bookings,
                    s.conflicts,
                    s.invalid,
                    s.user_accepted,
                    s.user_refused,
                    s.maintenance
                );
                println!(
                    "  transitions checked against the oracle: {} ({} by timers); ingress jobs {} ({} delivered twice)",
                    s.transitions, s.timer_transitions, s.ingress_jobs, s.ingress_repeats
                );
                println!(
                    "  faults: {} crashes, {} crashes mid-delivery, {} timer jobs handed over twice, {} runner stalls, {} clock jumps, {} receiver changes",
                    s.crashes,
                    s.mid_delivery_crashes,
                    s.duplicate_timers,
                    s.runner_stalls,
                    s.clock_jumps,
                    s.receiver_changes
                );
                println!(
                    "  webhooks: {} delivered ({} received more than once), {} dead-lettered after their whole schedule; status posts: {} in order, gapless",
                    s.webhooks_delivered, s.webhook_redeliveries, s.webhooks_dead, s.status_posts
                );
            }
            Err(v) => {
                println!(
                    "seed {seed}: FAILED after step {} of {}: {}",
                    v.step,
                    steps.len(),
                    v.message
                );
                let (short, v) =
                    shrink(&plan, &steps, &v, &base, Duration::from_secs(a.shrink_secs)).await;
                println!(
                    "  shortest reproduction found ({} steps; rerun with --seed {seed} --seeds 1 --spaces {} --days {}): {}",
                    short.len(),
                    a.spaces,
                    a.days,
                    v.message
                );
                for (i, s) in short.iter().enumerate() {
                    println!("  {i:>4}  {s}");
                }
                failed.push(seed);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    if !failed.is_empty() {
        bail!("simulation failed for seeds {failed:?}");
    }
    Ok(())
}
