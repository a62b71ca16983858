//! `bench timers`: schedules real booking timers on the embedded store and measures how
//! late (never how early) each transition commits after its due instant.

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;
use zs_core::{BookingId, NewBooking, Period, Space, SpaceId, SpaceSettings};
use zs_delivery::{Sender, SenderConfig};
use zs_engine::{Engine, OutboundConfig};

use super::report::{Anchor, run_text};

/// `bench timers` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct TimersArgs {
    /// Timers in the spread test.
    #[arg(long, default_value_t = 10_000)]
    pub spread: usize,
    /// Seconds the spread test's timers are spread over.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Timers due at one instant in the burst test.
    #[arg(long, default_value_t = 1_000)]
    pub burst: usize,
    /// Seconds between the end of space creation and the first timer (booking setup must fit).
    #[arg(long, default_value_t = 15)]
    pub lead: u64,
    /// Run without the background WAL checkpoint (to see its share of the tail).
    #[arg(long)]
    pub no_checkpoint: bool,
    /// Space and booking creates in flight at once while setting up.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub concurrency: u64,
    /// The anchor script (SQLite's pace for one booking create's writes), run with python3
    /// before and after, 20,000 transactions each: the burst's pace and the set-up's are
    /// printed as ratios to it.
    #[arg(long, default_value = "../shared/bench/sqlite-limit/booking_writes.py")]
    pub anchor: std::path::PathBuf,
}

/// Transactions of each anchor run.
const ANCHOR_RUN: usize = 20_000;

/// An engine on a fresh embedded store in `dir`, on the system clock.
pub(super) async fn engine_on(dir: &std::path::Path) -> anyhow::Result<Arc<Engine>> {
    let store = zs_store::Store::open(dir).await?;
    let sender = Sender::new(SenderConfig::default())?;
    let out = OutboundConfig::with_sender(sender);
    Ok(Engine::new(store, Arc::new(zs_core::SystemClock), out))
}

/// `n` spaces `{tag}-0`…, created `concurrency` at a time; each is to get one booking whose
/// start is its timer: `START_TIME_REACHED` is then the only event due in the window (the
/// lead has passed, the grace comes later).
pub(super) async fn create_spaces(
    e: &Engine,
    n: usize,
    tag: &str,
    concurrency: usize,
) -> anyhow::Result<Vec<SpaceId>> {
    let zone = zs_core::calendar::Zone::parse("UTC")?;
    let ids = (0..n)
        .map(|i| SpaceId::parse(&format!("{tag}-{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    futures::stream::iter(ids.iter())
        .map(|id| {
            let settings = SpaceSettings {
                upcoming_lead: Period::minutes(60),
                no_show_grace: Period::minutes(30),
                ..SpaceSettings::defaults(zone.clone())
            };
            e.create_space(Space {
                id: id.clone(),
                name: id.to_string(),
                settings,
                maintenance: false,
            })
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(ids)
}

async fn book(
    e: &Engine,
    spaces: &[SpaceId],
    starts: &[Timestamp],
    concurrency: usize,
) -> anyhow::Result<()> {
    futures::stream::iter(spaces.iter().zip(starts))
        .map(|(space, start)| async move {
            let n = NewBooking {
                id: BookingId::parse(&format!("{space}-b"))?,
                title: String::new(),
                start: *start,
                end: *start + SignedDuration::from_hours(1),
            };
            e.create_booking(space, n, None).await?;
            Ok::<_, anyhow::Error>(())
        })
        .buffer_unordered(concurrency)
        .try_collect::<()>()
        .await
}

pub(super) struct Figures {
    late_ms: Vec<f64>,
    /// Transitions the collector fell too far behind to see (the broadcast keeps 4,096):
    /// applied, but not measured.
    missed: u64,
    early: usize,
    pub(super) last_commit: Timestamp,
}

/// Receives the `n` timer transitions of a window whose last timer is due at `last_due`.
pub(super) async fn collect(
    e: &Engine,
    n: usize,
    last_due: Timestamp,
    rx: &mut tokio::sync::broadcast::Receiver<Arc<zs_engine::Committed>>,
) -> anyhow::Result<Figures> {
    let mut f = Figures {
        late_ms: Vec::with_capacity(n),
        missed: 0,
        early: 0,
        last_commit: Timestamp::UNIX_EPOCH,
    };
    // 120 s from the last due instant of the window, however far ahead it is.
    let ahead = last_due.duration_since(e.clock.now()).unsigned_abs();
    let deadline = Instant::now() + ahead + std::time::Duration::from_secs(120);
    while f.late_ms.len() + (f.missed as usize) < n {
        let c = match tokio::time::timeout_at(deadline.into(), rx.recv())
            .await
            .context("timers did not all fire within 120 s of their instant")?
        {
            Ok(c) => c,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(k)) => {
                f.missed += k;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let Some(due) = c.due else { continue };
        let late = c.committed_at.duration_since(due).as_secs_f64() * 1000.0;
        if late < 0.0 {
            f.early += 1;
        }
        f.late_ms.push(late);
        f.last_commit = f.last_commit.max(c.committed_at);
    }
    Ok(f)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub(super) fn report(name: &str, mut f: Figures, window_s: f64) {
    f.late_ms.sort_by(|a, b| a.total_cmp(b));
    let n = f.late_ms.len();
    println!(
        "{name}: timers={} (measured {n}) late_ms p50={:.3} p99={:.3} max={:.3} early={} transitions_per_s={:.0}",
        n + f.missed as usize,
        pct(&f.late_ms, 0.5),
        pct(&f.late_ms, 0.99),
        f.late_ms[n - 1],
        f.early,
        (n + f.missed as usize) as f64 / window_s
    );
}

/// Runs the timer benchmark.
pub async fn run(args: TimersArgs) -> anyhow::Result<()> {
    let script = args.anchor.clone();
    let before = super::anchor::measure(&script, ANCHOR_RUN);
    println!("anchor before: {}", run_text(&before));
    let dir = std::env::temp_dir().join(format!("zs-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let e = engine_on(&dir).await?;
    let c = args.concurrency as usize;
    let (stop_tx, stop_rx) = watch::channel(false);
    let runner = tokio::spawn(e.clone().timer_loop(stop_rx.clone()));
    if !args.no_checkpoint {
        tokio::spawn(e.clone().checkpoint_loop(stop_rx));
    }

    // Spread: N timers uniformly over the window, the first one `lead` seconds from now.
    if args.spread > 0 {
        let spaces = create_spaces(&e, args.spread, "spread", c).await?;
        let setup = Instant::now();
        let t0 = e.clock.now() + SignedDuration::from_secs(args.lead as i64);
        let step = args.seconds as f64 * 1000.0 / args.spread as f64;
        let starts: Vec<Timestamp> = (0..args.spread)
            .map(|i| t0 + SignedDuration::from_millis((i as f64 * step) as i64))
            .collect();
        book(&e, &spaces, &starts, c).await?;
        println!(
            "spread: scheduled {} timers in {:.1} s",
            args.spread,
            setup.elapsed().as_secs_f64()
        );
        anyhow::ensure!(
            e.clock.now() < t0,
            "setup took longer than --lead; raise it"
        );
        let mut rx = e.subscribe();
        let last = *starts.last().expect("spread > 0");
        let f = collect(&e, args.spread, last, &mut rx).await?;
        report("spread", f, args.seconds as f64);
    }

    // Burst: M timers due at one instant.
    let setup = Instant::now();
    let spaces = create_spaces(&e, args.burst, "burst", c).await?;
    let spaces_s = setup.elapsed().as_secs_f64();
    let t1 = e.clock.now() + SignedDuration::from_secs(args.lead as i64);
    let booking = Instant::now();
    book(&e, &spaces, &vec![t1; args.burst], c).await?;
    let bookings_s = booking.elapsed().as_secs_f64();
    println!(
        "burst: set up {n} spaces in {spaces_s:.1} s and a booking each in {bookings_s:.1} s \
         ({:.0} bookings/s, {c} in flight)",
        args.burst as f64 / bookings_s,
        n = args.burst,
    );
    anyhow::ensure!(
        e.clock.now() < t1,
        "burst setup took longer than --lead; raise it"
    );
    let mut rx = e.subscribe();
    let f = collect(&e, args.burst, t1, &mut rx).await?;
    let drained = f.last_commit.duration_since(t1).as_secs_f64() * 1000.0;
    let window_s = drained.max(0.001) / 1000.0;
    report("burst", f, window_s);
    println!(
        "burst: all {} applied {:.1} ms after their instant",
        args.burst, drained
    );

    let _ = stop_tx.send(true);
    let _ = runner.await;
    e.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    let after = super::anchor::measure(&script, ANCHOR_RUN);
    println!("anchor after: {}", run_text(&after));
    let anchor = Anchor {
        script: script.display().to_string(),
        before,
        after,
    };
    match anchor.rate() {
        Some(a) => println!(
            "burst: {:.2} x the anchor's {a:.0}/s (transitions/s); set-up {:.2} x (bookings/s) — {}",
            args.burst as f64 / window_s / a,
            args.burst as f64 / bookings_s / a,
            anchor.script
        ),
        None => println!("burst: no anchor measured — {}", anchor.script),
    }
    Ok(())
}
