//! Benchmark consumer for the BullMQ harness (`shared/bench/bullmq-node`, "Measuring another
//! consumer"): the product's [`zs_bullmq::worker::QueueWorker`] with a trivial handler.
//!
//! Reads `REDIS_URL`, `QUEUE_PREFIX`, `QUEUE_NAME`, `CONCURRENCY` and `RECORD_LATENESS`
//! (falling back to `ZS_REDIS_URL` / `ZS_QUEUE_PREFIX`), prints `READY` once taking jobs,
//! and on SIGTERM or SIGINT stops, then prints one JSON line: `completed`, `failed`,
//! `processed` and, with `RECORD_LATENESS=1`, `lateness_ms` (handler start − (`timestamp` +
//! `opts.delay`) per job). Jobs named `WARMUP` are run but left out of every figure.

use anyhow::Context;
use bullmq::Job;
use bullmq::worker::{CancellationToken, WorkerEvent};
use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use zs_bullmq::worker::{EventHook, QueueWorker, WorkerConfig};

// `bullmq-official` 1.4.4 clones a ~40 KB script string on every `moveToFinished`; glibc's
// malloc made that (and the many small allocations of reply parsing) a fifth of the CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WARMUP: &str = "WARMUP";
/// How long in-flight jobs get to finish after SIGTERM.
const CLOSE_GRACE_MS: u64 = 5_000;

/// What the run self-reports.
#[derive(Default)]
struct Tally {
    completed: AtomicU64,
    failed: AtomicU64,
    processed: AtomicU64,
    /// Ids of warm-up jobs still to complete (to leave them out of `completed`).
    warmup_ids: Mutex<HashSet<String>>,
    warmups_pending: AtomicU64,
    lateness_ms: Mutex<Vec<i64>>,
}

impl Tally {
    fn on_event(&self, event: &WorkerEvent) {
        let (job_id, counter) = match event {
            WorkerEvent::Completed { job_id, .. } => (job_id, &self.completed),
            WorkerEvent::Failed { job_id, .. } => (job_id, &self.failed),
            _ => return,
        };
        if self.warmups_pending.load(Ordering::Relaxed) > 0 && lock(&self.warmup_ids).remove(job_id)
        {
            self.warmups_pending.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn on_job(&self, job: &Job, record_lateness: bool) {
        if job.name() == WARMUP {
            lock(&self.warmup_ids).insert(job.id().to_owned());
            self.warmups_pending.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.processed.fetch_add(1, Ordering::Relaxed);
        if record_lateness {
            let due = job.timestamp() + job.opts().delay.unwrap_or(0);
            let late = zs_bullmq::worker::now_ms() as i64 - due as i64;
            lock(&self.lateness_ms).push(late);
        }
    }

    fn report(&self) -> serde_json::Value {
        serde_json::json!({
            "consumer": "zs-scheduler",
            "completed": self.completed.load(Ordering::Relaxed),
            "failed": self.failed.load(Ordering::Relaxed),
            "processed": self.processed.load(Ordering::Relaxed),
            "lateness_ms": *lock(&self.lateness_ms),
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn env(name: &str, fallback: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .or_else(|| std::env::var(fallback).ok())
        .filter(|v| !v.is_empty())
}

/// What `--help` prints: the settings are environment variables, there are no flags.
const USAGE: &str = "\
zs-bench-consumer: the zs-scheduler queue worker with a trivial handler, for the BullMQ
benchmark harness. Prints READY once taking jobs; on SIGTERM or SIGINT stops and prints one
JSON line: completed, failed, processed and (with RECORD_LATENESS=1) lateness_ms.
Jobs named WARMUP are run but left out of every figure.

Usage: zs-bench-consumer

Settings (environment variables; there are no flags):
  REDIS_URL        Redis to use (else ZS_REDIS_URL; default redis://127.0.0.1:6390)
  QUEUE_PREFIX     BullMQ key prefix (else ZS_QUEUE_PREFIX; required)
  QUEUE_NAME       queue to consume (default meetingScheduler)
  CONCURRENCY      jobs run at once (default 10)
  RECORD_LATENESS  1 to report each job's start minus its due instant, in ms

Options:
  -h, --help     Print this help
  -V, --version  Print the version
";

/// Handles the command line: `Some(exit code)` when there is nothing to run.
fn command_line() -> Option<std::process::ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => None,
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Some(std::process::ExitCode::SUCCESS)
        }
        Some("-V" | "--version") => {
            println!("zs-bench-consumer {}", env!("CARGO_PKG_VERSION"));
            Some(std::process::ExitCode::SUCCESS)
        }
        Some(other) => {
            eprintln!(
                "zs-bench-consumer: unexpected argument {other}; settings are environment \
                 variables (see --help)"
            );
            Some(std::process::ExitCode::from(2))
        }
    }
}

fn main() -> std::process::ExitCode {
    if let Some(code) = command_line() {
        return code;
    }
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zs-bench-consumer: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

// One thread: Redis round trips dominate, and a single-threaded runtime spends no CPU on
// cross-thread wake-ups.
#[tokio::main(flavor = "current_thread")]
async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let config = WorkerConfig {
        redis_url: env("REDIS_URL", "ZS_REDIS_URL")
            .unwrap_or_else(|| "redis://127.0.0.1:6390".to_owned()),
        prefix: env("QUEUE_PREFIX", "ZS_QUEUE_PREFIX")
            .context("QUEUE_PREFIX is not set (see --help)")?,
        queue: env("QUEUE_NAME", "QUEUE_NAME").unwrap_or_else(|| "meetingScheduler".to_owned()),
        concurrency: env("CONCURRENCY", "CONCURRENCY")
            .map(|c| c.parse())
            .transpose()
            .context("CONCURRENCY is not a number")?
            .unwrap_or(10),
        lock_ms: zs_bullmq::worker::DEFAULT_LOCK_MS,
    };
    let record_lateness = env("RECORD_LATENESS", "RECORD_LATENESS").as_deref() == Some("1");
    let tally = Arc::new(Tally::default());

    let on_job = tally.clone();
    let processor = move |job: Job, _token: CancellationToken| {
        on_job.on_job(&job, record_lateness);
        async { Ok(serde_json::Value::Null) }
    };
    let on_event = tally.clone();
    let hook: EventHook = Arc::new(move |event| on_event.on_event(event));
    let worker = QueueWorker::start(&config, processor, Some(hook))
        .await
        .context("starting the worker")?;
    println!("READY");
    std::io::stdout().flush()?;

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    worker.close(CLOSE_GRACE_MS).await;
    println!("{}", tally.report());
    std::io::stdout().flush()?;
    Ok(())
}
