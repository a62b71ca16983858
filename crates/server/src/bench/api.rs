//! `bench api`: the service's write paths over HTTP — booking creates, check-ins, cancels and
//! check-outs — measured against the release binary on a fresh embedded store, with the SQLite
//! anchor run before and after in the same invocation.

use super::anchor;
use super::burst;
use super::child::Service;
use super::load::{self, Call, MakeCall};
use super::report::{Anchor, Cpu, Report, Row};
use anyhow::{bail, ensure};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use zs_core::Clock;

/// `bench api` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    /// Booking creates (phase 1); half are then checked in and out, the other half cancelled.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(2..=10_000_000))]
    pub requests: u64,
    /// Concurrent keep-alive connections, each sending its next request once answered.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub connections: u64,
    /// Spaces the bookings are spread over (at most 60 bookings per space).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub spaces: u64,
    /// The anchor script (SQLite's pace for one booking create's writes), run with python3
    /// with as many transactions as --requests.
    #[arg(long, default_value = "../shared/bench/sqlite-limit/booking_writes.py")]
    pub anchor: PathBuf,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Run the service on PostgreSQL at this URL instead of the embedded store: --instances
    /// processes on one fresh schema (dropped afterwards), the connections spread over them.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Instances with --postgres.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=16))]
    pub instances: u64,
    /// Bookings of the last phase, each in a space of its own and all starting at one
    /// instant: the time until every instance committed their start transitions (0: no such
    /// phase).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub timers: u64,
    /// Seconds from the timer phase's first booking create to its instant (default: 5 s and
    /// five times what the create phase's pace says the creates take).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timer_lead: Option<u64>,
}

/// The services under measurement: one on the embedded store, or `instances` on one
/// PostgreSQL schema.
async fn start_services(args: &ApiArgs) -> anyhow::Result<(Vec<Service>, Option<String>)> {
    let Some(url) = &args.postgres else {
        return Ok((vec![Service::start().await?], None));
    };
    let schema = format!("bench_{}", std::process::id());
    let token = format!("bench-{}", rand::random::<u64>());
    let key = zs_delivery::SecretKey::generate().to_base64();
    let mut list = vec![];
    for _ in 0..args.instances {
        list.push(Service::start_on_postgres(url, &schema, token.clone(), &key).await?);
    }
    Ok((list, Some(schema)))
}

/// Drops the benchmark's PostgreSQL schema.
async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
    let store = zs_store::Store::connect_postgres(url, None).await?;
    let mut c = store.begin().await?;
    zs_store::testing::execute(
        &mut c,
        &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        None,
    )
    .await?;
    c.commit().await?;
    Ok(())
}

/// Where each booking goes: `per_space` bookings a space, one per `slot`, the first starting
/// at `t0`; each lasts half its slot, so with the cleaning time after it no two overlap.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub spaces: usize,
    pub t0: Timestamp,
    pub slot: SignedDuration,
}

/// The spaces' settings: the check-in window opens `LEAD` before a start, so every booking of
/// the plan (all start within `SPAN` of `t0`) may be checked in as soon as it exists.
const LEAD: SignedDuration = SignedDuration::from_hours(23);
const SPAN: SignedDuration = SignedDuration::from_hours(20);
const CLEANING: SignedDuration = SignedDuration::from_mins(10);
/// How far ahead the first start is: no timer of the plan falls due during a run.
const AHEAD: SignedDuration = SignedDuration::from_mins(30);

impl Plan {
    /// A plan for `requests` bookings over `spaces` spaces, starting `AHEAD` of `now`.
    pub fn new(requests: usize, spaces: usize, now: Timestamp) -> anyhow::Result<Plan> {
        let per_space = requests.div_ceil(spaces) as i64;
        let slot = SignedDuration::from_secs((SPAN.as_secs() / per_space).min(3600));
        ensure!(
            slot >= CLEANING * 2,
            "{per_space} bookings a space do not fit the check-in window; \
             use more --spaces (at most 60 bookings a space)"
        );
        let t0 = Timestamp::from_second(now.as_second())? + AHEAD;
        Ok(Plan { spaces, t0, slot })
    }

    /// The space, start and end of booking `k`.
    pub fn booking(&self, k: usize) -> (usize, Timestamp, Timestamp) {
        let start = self.t0 + self.slot * (k / self.spaces) as i32;
        (k % self.spaces, start, start + self.slot / 2)
    }
}

fn space_id(i: usize) -> String {
    format!("s{i}")
}

fn booking_id(k: usize) -> String {
    format!("b{k}")
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn own_cpu() -> Option<f64> {
    super::child::cpu_seconds("/proc/self/stat")
}

fn progress(json: bool, what: &str) {
    if !json {
        eprintln!("bench api: {what}");
    }
}

/// Runs the benchmark and prints its figures; fails when any request was not answered as
/// expected or the service logged an ERROR line.
pub async fn run(args: ApiArgs) -> anyhow::Result<()> {
    let (n, conns_n, spaces) = (
        args.requests as usize,
        args.connections as usize,
        args.spaces as usize,
    );
    // Refuse a plan that cannot work before spending time on the anchor.
    Plan::new(n, spaces, zs_core::SystemClock.now())?;
    let load_before = load_average();
    progress(args.json, &format!("anchor before ({n} transactions)"));
    let script = args.anchor.clone();
    let before = run_anchor(script.clone(), n).await;

    let (services, schema) = start_services(&args).await?;
    let mut conns = vec![];
    for (i, svc) in services.iter().enumerate() {
        progress(args.json, &format!("service listening on {}", svc.addr));
        // The connections dealt out in turn: instance i takes every i-th.
        let share = (i..conns_n).step_by(services.len()).count();
        conns.extend(load::connect_all(svc.addr, share).await?);
    }
    let token = services[0].token.clone();
    let service_cpu = |list: &[Service]| -> Option<f64> {
        list.iter().map(Service::cpu_seconds).sum::<Option<f64>>()
    };
    let cpu0 = (own_cpu(), service_cpu(&services), std::time::Instant::now());
    let mut rows = vec![];
    let mut samples = vec![];
    let mut phase = |name: &'static str, m: load::Measured| {
        samples.extend(m.samples.iter().cloned());
        rows.push(Row::of(name, &m));
    };

    progress(args.json, &format!("creating {spaces} spaces"));
    let make: MakeCall = Arc::new(|i| Call {
        path: "/v1/spaces".into(),
        body: json!({
            "id": space_id(i), "name": format!("bench {i}"), "timezone": "UTC",
            "upcomingLead": format!("PT{}H", LEAD.as_hours()),
            "cleaning": format!("PT{}M", CLEANING.as_mins()),
        })
        .to_string(),
    });
    phase(
        "space",
        load::phase(&mut conns, &token, spaces, 201, make).await,
    );

    // The plan is made once the spaces exist, so its starts are ahead of the clock.
    let plan = Plan::new(n, spaces, zs_core::SystemClock.now())?;
    progress(args.json, &format!("{n} booking creates"));
    let make: MakeCall = Arc::new(move |k| {
        let (s, start, end) = plan.booking(k);
        Call {
            path: "/v1/bookings".into(),
            body: json!({
                "id": booking_id(k), "spaceId": space_id(s), "title": "bench",
                "start": start.to_string(), "end": end.to_string(),
            })
            .to_string(),
        }
    });
    phase(
        "create",
        load::phase(&mut conns, &token, n, 201, make).await,
    );

    // Even bookings are checked in (then out), odd ones cancelled.
    let (evens, odds) = (n.div_ceil(2), n / 2);
    let action = |what: &'static str| -> MakeCall {
        Arc::new(move |i: usize| {
            let k = if what == "cancel" { 2 * i + 1 } else { 2 * i };
            Call {
                path: format!("/v1/bookings/{}/{what}", booking_id(k)),
                body: String::new(),
            }
        })
    };
    for (name, count) in [("check-in", evens), ("cancel", odds), ("check-out", evens)] {
        progress(args.json, &format!("{count} {name}s"));
        let m = load::phase(&mut conns, &token, count, 200, action(name)).await;
        phase(name, m);
    }
    let mut notes = vec![];
    if args.timers > 0 {
        let n = args.timers as usize;
        progress(
            args.json,
            &format!("{n} spaces and bookings due at one instant"),
        );
        let creates = rows
            .iter()
            .find(|r| r.phase == "create")
            .map_or(0.0, |r| r.per_s);
        let addrs: Vec<_> = services.iter().map(|s| s.addr).collect();
        let lead = args.timer_lead.map_or_else(
            || burst::default_lead(n, creates),
            |s| SignedDuration::from_secs(s as i64),
        );
        let b = burst::measure(&mut conns, &addrs, &token, n, lead).await?;
        notes.push(format!(
            "timers: {n} bookings created in {:.1} s, due {:.1} s after the first; all {n} \
             transitions committed {:.0} ms after their instant (last poll, every 10 ms); \
             p50/p99 are bounds of the lateness histogram's buckets",
            b.setup_s, b.lead_s, b.row.max_ms
        ));
        rows.push(b.row);
    }
    drop(conns);
    let cpu = Cpu {
        bench: own_cpu().zip(cpu0.0).map(|(b, a)| b - a),
        service: service_cpu(&services).zip(cpu0.1).map(|(b, a)| b - a),
        wall: cpu0.2.elapsed().as_secs_f64(),
    };
    let mut log = super::child::LogTally::default();
    for svc in services {
        let l = svc.stop().await;
        log.errors += l.errors;
        log.warnings += l.warnings;
        log.last.extend(l.last);
    }
    if let (Some(url), Some(schema)) = (&args.postgres, &schema) {
        drop_schema(url, schema).await?;
    }

    progress(args.json, "anchor after");
    let after = run_anchor(script.clone(), n).await;
    let report = Report {
        settings: json!({
            "requests": n, "connections": conns_n, "spaces": spaces,
            "store": if args.postgres.is_some() { "postgres" } else { "sqlite" },
            "instances": if args.postgres.is_some() { args.instances } else { 1 },
            "postgresSchema": schema,
        }),
        rows,
        anchor: Anchor {
            script: script.display().to_string(),
            before,
            after,
        },
        load_before,
        cpu,
        load_after: load_average(),
        log_errors: log.errors,
        log_warnings: log.warnings,
        samples,
        notes,
    };
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    let errors: usize = report.rows.iter().map(|r| r.errors).sum();
    if errors > 0 {
        bail!("{errors} requests were not answered as expected (see `unexpected`)");
    }
    if log.errors > 0 {
        bail!(
            "the service logged {} ERROR lines; its last lines: {}",
            log.errors,
            log.last.join(" | ")
        );
    }
    Ok(())
}

async fn run_anchor(script: PathBuf, n: usize) -> Result<anchor::AnchorRun, String> {
    tokio::task::spawn_blocking(move || anchor::measure(&script, n))
        .await
        .unwrap_or_else(|e| Err(format!("the anchor run failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-05T11:00:00.250Z".parse().unwrap()
    }

    #[test]
    fn no_two_bookings_of_a_space_overlap_with_cleaning() {
        let plan = Plan::new(20_000, 1_000, now()).unwrap();
        let mut by_space: Vec<Vec<(Timestamp, Timestamp)>> = vec![vec![]; 1_000];
        for k in 0..20_000 {
            let (s, start, end) = plan.booking(k);
            by_space[s].push((start, end + CLEANING));
        }
        for v in by_space {
            assert_eq!(v.len(), 20);
            for w in v.windows(2) {
                assert!(w[0].1 <= w[1].0, "{w:?}");
            }
        }
    }

    #[test]
    fn every_booking_is_ahead_and_in_its_check_in_window_at_once() {
        for (n, spaces) in [(20_000, 1_000), (200, 20), (60, 1), (7, 3)] {
            let plan = Plan::new(n, spaces, now()).unwrap();
            for k in 0..n {
                let (_, start, end) = plan.booking(k);
                assert!(start >= now() + AHEAD - SignedDuration::from_secs(1));
                assert!(start - LEAD < now(), "{n}/{spaces}: booking {k} at {start}");
                assert!(end > start && end.duration_since(start) >= CLEANING);
            }
        }
    }

    #[test]
    fn too_many_bookings_a_space_are_refused_with_advice() {
        let e = Plan::new(61, 1, now()).unwrap_err().to_string();
        assert!(e.contains("use more --spaces"), "{e}");
    }
}
