//! `bench pending`: a month of bookings ahead for a campus — about a million pending timers
//! on the embedded store — set up through the engine, then this binary started as `serve` on
//! it: how fast the set-up ran (beside the SQLite anchor), how soon the restarted service
//! answers, and how much memory it holds with every timer pending.

use super::anchor;
use super::child::Service;
use super::timers::{collect, create_spaces, engine_on, report};
use anyhow::{Context, ensure};
use futures::{StreamExt, TryStreamExt};
use jiff::{SignedDuration, Timestamp};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use zs_core::{BookingId, NewBooking};

/// `bench pending` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct PendingArgs {
    /// Bookings to set up; each has four pending timers (upcoming, start, no-show, end).
    #[arg(long, default_value_t = 250_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub bookings: u64,
    /// Spaces the bookings are spread over, evenly across the next 30 days.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub spaces: u64,
    /// Booking creates in flight at once during the set-up.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub concurrency: u64,
    /// The anchor script (SQLite's pace for one booking create's writes), run with python3.
    #[arg(long, default_value = "../shared/bench/sqlite-limit/booking_writes.py")]
    pub anchor: PathBuf,
    /// Starts every space's first booking this many seconds after the set-up begins (instead
    /// of two hours ahead; it must outlast the set-up) and runs the timer runner: how soon
    /// after that instant all their starts are applied, each space holding a month ahead.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..3_600))]
    pub burst_after: Option<u64>,
}

/// Where the bookings go: the first starts two hours from now (no timer falls due during the
/// run), each space's follow one a slot apart over 30 days, each lasting half its slot.
fn slot(bookings: u64, spaces: u64) -> anyhow::Result<SignedDuration> {
    let per_space = bookings.div_ceil(spaces) as i64;
    let slot = SignedDuration::from_hours(24 * 30) / per_space as i32;
    ensure!(
        slot >= SignedDuration::from_mins(40),
        "{per_space} bookings a space do not fit 30 days with their cleaning; use more --spaces"
    );
    Ok(slot.min(SignedDuration::from_hours(3)))
}

/// Runs the pending-timers benchmark.
pub async fn run(args: PendingArgs) -> anyhow::Result<()> {
    let anchor_before = anchor::measure(&args.anchor, 20_000);
    let dir = std::env::temp_dir().join(format!("zs-bench-pending-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let slot = slot(args.bookings, args.spaces)?;
    let e = engine_on(&dir).await?;
    let spaces = create_spaces(&e, args.spaces as usize, "s", args.concurrency as usize).await?;
    let ahead = args.burst_after.map_or(SignedDuration::from_hours(2), |s| {
        SignedDuration::from_secs(s as i64)
    });
    let t0 = Timestamp::from_second(e.clock.now().as_second())? + ahead;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // As `serve` does: the write-ahead log checkpointed in the background, kept short.
    let checkpoints = tokio::spawn(e.clone().checkpoint_loop(stop_rx.clone()));
    let runner = args
        .burst_after
        .map(|_| tokio::spawn(e.clone().timer_loop(stop_rx)));
    let setup = Instant::now();
    futures::stream::iter(0..args.bookings as usize)
        .map(|k| {
            let (e, spaces) = (&e, &spaces);
            async move {
                let space = &spaces[k % spaces.len()];
                let start = t0 + slot * (k / spaces.len()) as i32;
                let n = NewBooking {
                    id: BookingId::parse(&format!("b{k}"))?,
                    title: String::new(),
                    start,
                    end: start + slot / 2,
                };
                e.create_booking(space, n, None).await?;
                Ok::<_, anyhow::Error>(())
            }
        })
        .buffer_unordered(args.concurrency as usize)
        .try_collect::<()>()
        .await?;
    let setup_s = setup.elapsed().as_secs_f64();
    if args.burst_after.is_some() {
        // The spaces' first bookings start at `t0`, each space's lead having passed already:
        // their starts are the only timers due then.
        ensure!(
            e.clock.now() < t0,
            "the set-up took longer than --burst-after; raise it"
        );
        let mut rx = e.subscribe();
        let f = collect(&e, spaces.len(), t0, &mut rx).await?;
        let drained = f.last_commit.duration_since(t0).as_secs_f64() * 1000.0;
        report("month-ahead burst", f, drained.max(0.001) / 1000.0);
        println!(
            "month-ahead burst: all {} starts applied {drained:.1} ms after their instant, \
             {} bookings ahead of each space",
            spaces.len(),
            args.bookings / args.spaces - 1
        );
    }
    let _ = stop_tx.send(true);
    if let Some(runner) = runner {
        let _ = runner.await;
    }
    let _ = checkpoints.await;
    let pending = {
        let mut c = e.store.read().await?;
        zs_store::jobs::depths(&mut c)
            .await?
            .into_iter()
            .filter(|(q, _)| *q == zs_store::Queue::MeetingScheduler)
            .map(|(_, n)| n)
            .sum::<i64>()
    };
    e.store.close().await;
    drop(e);

    // The restart: this binary as `serve` on the same directory.
    let started = Instant::now();
    let service = Service::start_on(dir.clone()).await?;
    let listening_ms = started.elapsed().as_secs_f64() * 1000.0;
    let client = reqwest::Client::new();
    let ready = format!("http://{}/readyz", service.addr);
    loop {
        let ok = client
            .get(&ready)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            break;
        }
        ensure!(
            started.elapsed() < Duration::from_secs(120),
            "not ready within 120 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ready_ms = started.elapsed().as_secs_f64() * 1000.0;
    // A read that touches the store: the first space's state.
    let space = client
        .get(format!("http://{}/v1/spaces/s-0", service.addr))
        .bearer_auth(&service.token)
        .send()
        .await?;
    ensure!(
        space.status().is_success(),
        "reading a space: {}",
        space.status()
    );
    let serving_ms = started.elapsed().as_secs_f64() * 1000.0;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss, peak) = service
        .memory_kib()
        .context("reading the service's memory")?;
    let log = service.stop().await;
    let anchor_after = anchor::measure(&args.anchor, 20_000);

    let rate = args.bookings as f64 / setup_s;
    let anchor_line = |a: &Result<anchor::AnchorRun, String>| match a {
        Ok(a) => format!("{:.0}/s", a.rate),
        Err(e) => format!("none ({e})"),
    };
    let ratio = match (&anchor_before, &anchor_after) {
        (Ok(a), Ok(b)) => format!("{:.2}", rate / ((a.rate + b.rate) / 2.0)),
        _ => "-".into(),
    };
    println!(
        "setup: {} bookings over {} spaces in {setup_s:.1} s: {rate:.0} creates/s ({} in flight), \
         {ratio} x anchor (anchor before {}, after {})",
        args.bookings,
        args.spaces,
        args.concurrency,
        anchor_line(&anchor_before),
        anchor_line(&anchor_after)
    );
    println!("pending: {pending} timer jobs");
    println!(
        "restart: listening {listening_ms:.0} ms, ready {ready_ms:.0} ms, serving a read {serving_ms:.0} ms after start"
    );
    println!(
        "memory with every timer pending: rss {:.0} MiB, peak {:.0} MiB",
        rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    println!(
        "service log: {} ERROR, {} WARN lines",
        log.errors, log.warnings
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fit_thirty_days_and_refuse_a_crowd() {
        assert_eq!(
            slot(250_000, 1_000).unwrap(),
            SignedDuration::from_mins(172) + SignedDuration::from_millis(48_000)
        );
        assert_eq!(slot(10, 10).unwrap(), SignedDuration::from_hours(3));
        assert!(slot(2_000_000, 1_000).is_err());
    }
}
