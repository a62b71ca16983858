//! `zs-scheduler simulate`: the deterministic simulation (see the `zs-sim` crate).
//!
//! Each world (one seed, or one shard of a seed's spaces) is sequential: it runs on one
//! thread with a single-threaded runtime, pinned to one core together with the store's
//! connection thread, so every store round trip is a wake-up on the same core instead of
//! one across cores (twice as fast here). Worlds run side by side, one per core.

use anyhow::bail;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zs_sim::{PlanConfig, Stats, generate, run, shrink};

/// Flags of `zs-scheduler simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Spaces (in all, across `--shards`).
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
    /// Split each seed's spaces into this many independent worlds (each with its own
    /// store and its own seed, printed so a failing shard reruns alone).
    #[arg(long, default_value_t = 1)]
    shards: usize,
    /// Worlds run at once (default: one per core).
    #[arg(long)]
    jobs: Option<usize>,
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
    /// Where each world keeps its database: `file` (SQLite in a temporary directory) or
    /// `memory` (SQLite in memory: the same SQL and store code, a crash keeps only what was
    /// committed).
    #[arg(long, value_enum, default_value_t = StoreArg::File)]
    store: StoreArg,
}

/// `--store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StoreArg {
    File,
    Memory,
}

impl From<StoreArg> for zs_sim::StoreKind {
    fn from(a: StoreArg) -> Self {
        match a {
            StoreArg::File => zs_sim::StoreKind::File,
            StoreArg::Memory => zs_sim::StoreKind::Memory,
        }
    }
}

/// One world to run: a seed's plan, or one shard of it.
#[derive(Debug, Clone)]
struct World {
    /// `seed 7` or `seed 7 shard 3/10`.
    label: String,
    plan: PlanConfig,
}

/// The worlds of a run: shard `k` of seed `s` has its own seed (the seed itself when there
/// is one shard, so a single world reruns as before).
fn worlds(a: &SimulateArgs) -> anyhow::Result<Vec<World>> {
    if a.shards == 0 || a.shards > a.spaces.max(1) {
        bail!("--shards must be between 1 and --spaces ({})", a.spaces);
    }
    let mut list = vec![];
    for seed in a.seed..a.seed.saturating_add(a.seeds) {
        for k in 0..a.shards {
            let spaces = a.spaces / a.shards + usize::from(k < a.spaces % a.shards);
            let (label, seed) = if a.shards == 1 {
                (format!("seed {seed}"), seed)
            } else {
                let s = shard_seed(seed, k);
                (
                    format!("seed {seed} shard {}/{} (seed {s})", k + 1, a.shards),
                    s,
                )
            };
            list.push(World {
                label,
                plan: PlanConfig {
                    spaces,
                    days: a.days,
                    seed,
                    faults: !a.no_faults,
                    start: a.start,
                    bookings_per_day: a.bookings_per_day,
                    store: a.store.into(),
                },
            });
        }
    }
    Ok(list)
}

/// A shard's own seed, mixed from the run's seed and the shard's index (SplitMix64).
fn shard_seed(seed: u64, shard: usize) -> u64 {
    let mut z = seed ^ (shard as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) & 0x7FFF_FFFF_FFFF_FFFF
}

/// What became of the worlds.
#[derive(Default)]
struct Tally {
    total: Stats,
    failed: Vec<String>,
}

pub fn run_cli(a: SimulateArgs) -> anyhow::Result<()> {
    // Silent unless asked: faults make the engine warn by design.
    crate::serve::init_tracing("off");
    let list = worlds(&a)?;
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let jobs = a
        .jobs
        .unwrap_or_else(|| cores.len().max(1))
        .clamp(1, list.len());
    let base = std::env::temp_dir().join(format!("zs-sim-{}", std::process::id()));
    let queue = Mutex::new(list.into_iter());
    let tally = Mutex::new(Tally::default());
    let started = Instant::now();
    std::thread::scope(|s| {
        for j in 0..jobs {
            let core = (!cores.is_empty()).then(|| cores[j % cores.len()]);
            let (queue, tally, base, a) = (&queue, &tally, &base, &a);
            s.spawn(move || {
                // Pinned before the runtime and the store start: the threads they spawn
                // (the store's connection thread among them) inherit the core.
                if let Some(core) = core {
                    core_affinity::set_for_current(core);
                }
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                // The queue's lock is taken and dropped inside the closure, not held over
                // the loop's body.
                let next = || queue.lock().unwrap().next();
                while let Some(w) = next() {
                    let r = rt.block_on(run_world(&w, base, a));
                    let mut t = tally.lock().unwrap();
                    match r {
                        Ok(stats) => add(&mut t.total, &stats),
                        Err(()) => t.failed.push(w.label.clone()),
                    }
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&base);
    let t = tally.into_inner().unwrap();
    let secs = started.elapsed().as_secs_f64();
    if a.seeds * a.shards as u64 > 1 {
        let s = &t.total;
        println!(
            "all {} world(s) in {secs:.1} s on {jobs} thread(s): {} spaces × {} days per seed; {} steps ({:.0}/s), {} bookings, {} transitions checked, {} webhooks delivered, {} status posts",
            a.seeds * a.shards as u64,
            a.spaces,
            a.days,
            s.steps,
            s.steps as f64 / secs,
            s.bookings,
            s.transitions,
            s.webhooks_delivered,
            s.status_posts
        );
    }
    if !t.failed.is_empty() {
        bail!("simulation failed: {}", t.failed.join("; "));
    }
    Ok(())
}

/// Runs one world and prints its figures, or its failure and the shortest reproduction.
async fn run_world(w: &World, base: &std::path::Path, a: &SimulateArgs) -> Result<Stats, ()> {
    let plan = &w.plan;
    let steps = generate(plan);
    let dir = base.join(format!("seed-{}", plan.seed));
    let started = Instant::now();
    let r = run(plan, &steps, &dir).await;
    let secs = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    let label = &w.label;
    let s = match r {
        Ok(s) => s,
        Err(v) => {
            println!(
                "{label}: FAILED after step {} of {}: {}",
                v.step,
                steps.len(),
                v.message
            );
            let (short, v) =
                shrink(plan, &steps, &v, &dir, Duration::from_secs(a.shrink_secs)).await;
            let _ = std::fs::remove_dir_all(&dir);
            println!(
                "  shortest reproduction found ({} steps; rerun with --seed {} --spaces {} --days {} --bookings-per-day {}{}{}): {}",
                short.len(),
                plan.seed,
                plan.spaces,
                plan.days,
                plan.bookings_per_day,
                if plan.faults { "" } else { " --no-faults" },
                match plan.store {
                    zs_sim::StoreKind::File => "",
                    zs_sim::StoreKind::Memory => " --store memory",
                },
                v.message
            );
            for (i, s) in short.iter().enumerate() {
                println!("  {i:>4}  {s}");
            }
            return Err(());
        }
    };
    println!(
        "{label}: ok in {secs:.1} s — {} spaces, {:.0} virtual days, {} steps ({:.0}/s)\n  bookings: {} requested, {} accepted, {} conflicts refused, {} invalid refused; {} refused by a booking policy (bookings, extensions, walk-ups); series {} made ({} refused whole, {} occurrences skipped, {} cancelled with their series, {} released by no-show strikes with {} occurrences, {} occurrences booked as series without an end were extended); user events {} applied, {} refused; maintenance toggles {}; extensions {} ({} refused), walk-ups {} ({} refused)\n  transitions checked against the oracle: {} ({} by timers); ingress jobs {} ({} delivered twice)\n  faults: {} crashes, {} crashes mid-delivery, {} timer jobs handed over twice, {} runner stalls, {} clock jumps, {} receiver changes\n  webhooks: {} delivered ({} received more than once), {} dead-lettered after their whole schedule, {} of them checked and deleted a day after they settled; status posts: {} in order, gapless",
        plan.spaces,
        s.virtual_days,
        s.steps,
        s.steps as f64 / secs,
        s.booking_requests,
        s.bookings,
        s.conflicts,
        s.invalid,
        s.policy_refused,
        s.series,
        s.series_refused,
        s.series_skipped,
        s.series_cancelled,
        s.series_released,
        s.released_occurrences,
        s.series_extended,
        s.user_accepted,
        s.user_refused,
        s.maintenance,
        s.extensions,
        s.extensions_refused,
        s.walk_ups,
        s.walk_ups_refused,
        s.transitions,
        s.timer_transitions,
        s.ingress_jobs,
        s.ingress_repeats,
        s.crashes,
        s.mid_delivery_crashes,
        s.duplicate_timers,
        s.runner_stalls,
        s.clock_jumps,
        s.receiver_changes,
        s.webhooks_delivered,
        s.webhook_redeliveries,
        s.webhooks_dead,
        s.deliveries_pruned,
        s.status_posts
    );
    Ok(s)
}

/// Adds a world's counts to the run's total.
fn add(total: &mut Stats, s: &Stats) {
    total.steps += s.steps;
    total.bookings += s.bookings;
    total.transitions += s.transitions;
    total.webhooks_delivered += s.webhooks_delivered;
    total.status_posts += s.status_posts;
    total.virtual_days = total.virtual_days.max(s.virtual_days);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        a: SimulateArgs,
    }

    fn args(v: &[&str]) -> SimulateArgs {
        Cli::try_parse_from(std::iter::once("x").chain(v.iter().copied()))
            .unwrap()
            .a
    }

    #[test]
    fn shards_split_the_spaces_and_get_seeds_of_their_own() {
        let w = worlds(&args(&[
            "--spaces", "10", "--shards", "3", "--seed", "7", "--seeds", "2",
        ]))
        .unwrap();
        assert_eq!(w.len(), 6);
        let sizes: Vec<usize> = w.iter().map(|w| w.plan.spaces).collect();
        assert_eq!(sizes, [4, 3, 3, 4, 3, 3]);
        let mut seeds: Vec<u64> = w.iter().map(|w| w.plan.seed).collect();
        seeds.sort();
        seeds.dedup();
        assert_eq!(seeds.len(), 6, "every shard has its own seed");
        assert!(w[0].label.contains("shard 1/3"));
    }

    #[test]
    fn one_shard_keeps_the_seed_so_earlier_runs_repeat() {
        let w = worlds(&args(&["--seed", "42"])).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].plan.seed, 42);
        assert_eq!(w[0].label, "seed 42");
    }

    #[test]
    fn absurd_shard_counts_are_refused() {
        assert!(worlds(&args(&["--spaces", "3", "--shards", "4"])).is_err());
        assert!(worlds(&args(&["--shards", "0"])).is_err());
    }
}
