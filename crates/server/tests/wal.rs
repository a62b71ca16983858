//! The embedded store's write-ahead log stays small under write load: 32 clients create
//! bookings as fast as they can while 8 others keep reading (readers are what keep SQLite
//! from restarting its log), and the `-wal` file is sampled throughout.
//!
//! `WAL_LOAD_SECS` (default 8) sets the load's length and `WAL_LOAD_BIN` another binary (the
//! release build, for the figures in RELIABILITY.md); the test prints peak log size and the
//! creates per second of each tenth of the run, so decay shows too. `WAL_LOAD_LIVE=N` keeps
//! each writer's space at N live bookings (it cancels its oldest once N are booked): the
//! instance ages (its database and history grow) while a space's live bookings stay as many
//! as a real room has, so a decay then comes from age, not from ever longer days.

mod support;

use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::*;

const WRITERS: usize = 32;
const READERS: usize = 8;
/// The bound under load (the target at 32 writers).
const WAL_BOUND: u64 = 64 << 20;
/// Once the load is over, the log is cut back to the store's 8 MiB limit; a log that is
/// never restarted never shrinks (it stayed at its peak while the server ran).
const WAL_AFTER_LOAD: u64 = 8 << 20;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn start_server(dir: &std::path::Path) -> Server {
    let env = [("ZS_RATE_LIMIT", "0".to_owned())];
    match std::env::var("WAL_LOAD_BIN") {
        Ok(bin) => Server::start_binary(&bin, dir, &env),
        Err(_) => Server::start(dir, &env),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_ahead_log_stays_bounded_under_concurrent_writes() {
    let secs = env_u64("WAL_LOAD_SECS", 8);
    let live = env_u64("WAL_LOAD_LIVE", 0) as usize;
    let dir = data_dir("wal");
    let server = start_server(&dir);
    let api = Api::new(&server.base);
    for w in 0..WRITERS {
        let (status, body) = api
            .post(
                "/v1/spaces",
                json!({"id": format!("w{w}"), "name": "Load", "timezone": "UTC"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let wal = dir.join("zs-scheduler.db-wal");
    let stop = Arc::new(AtomicBool::new(false));
    let created = Arc::new(AtomicU64::new(0));
    let base_ms = now_ms().as_millisecond() + 3_600_000;
    let mut tasks = vec![];
    for w in 0..WRITERS {
        let (api, stop, created) = (Api::new(&server.base), stop.clone(), created.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0i64;
            let mut booked = std::collections::VecDeque::new();
            while !stop.load(Ordering::Relaxed) {
                // Half-hour slots: 20 minutes booked, then the default 10 of cleaning.
                let start = base_ms + i * 1_800_000;
                let body = json!({"spaceId": format!("w{w}"), "title": "load",
                    "start": at(start), "end": at(start + 1_200_000)});
                let (status, b) = api.post("/v1/bookings", body).await;
                assert_eq!(status, 201, "{b}");
                created.fetch_add(1, Ordering::Relaxed);
                i += 1;
                if live > 0 {
                    booked.push_back(b["id"].as_str().unwrap().to_owned());
                    if booked.len() > live {
                        let oldest = booked.pop_front().unwrap();
                        let (status, b) = api
                            .post(&format!("/v1/bookings/{oldest}/cancel"), json!({}))
                            .await;
                        assert_eq!(status, 200, "{b}");
                    }
                }
            }
        }));
    }
    for r in 0..READERS {
        let (api, stop) = (Api::new(&server.base), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (status, _) = api.get(&format!("/v1/spaces/w{}", r % WRITERS)).await;
                assert_eq!(status, 200);
            }
        }));
    }
    let began = Instant::now();
    let (mut peak, mut windows, mut last) = (0u64, vec![], 0u64);
    let window = Duration::from_millis(secs * 100);
    while began.elapsed() < Duration::from_secs(secs) {
        let until = began.elapsed() + window;
        while began.elapsed() < until {
            peak = peak.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let now = created.load(Ordering::Relaxed);
        windows.push((now - last) as f64 / window.as_secs_f64());
        last = now;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    // A round of checkpoints, then one more write, which starts the restarted log.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let body = json!({"spaceId": "w0", "title": "after", "start": at(base_ms - 3_000_000),
        "end": at(base_ms - 2_400_000)});
    let (status, b) = api.post("/v1/bookings", body).await;
    assert_eq!(status, 201, "{b}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let total = created.load(Ordering::Relaxed);
    let rates: Vec<String> = windows.iter().map(|r| format!("{r:.0}")).collect();
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let db = std::fs::metadata(dir.join("zs-scheduler.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    let live = if live > 0 {
        format!("{live} live per space")
    } else {
        "every booking kept live".to_owned()
    };
    println!(
        "wal: {total} creates in {secs} s, {WRITERS} writers + {READERS} readers, {live}; peak -wal {:.1} MiB, {:.1} MiB after the load; database {:.1} MiB; creates/s per tenth: {}",
        mib(peak),
        mib(after),
        mib(db),
        rates.join(" ")
    );
    assert!(total > 0, "no booking was created");
    assert!(
        peak <= WAL_BOUND,
        "the write-ahead log grew to {peak} bytes (bound {WAL_BOUND})"
    );
    assert!(
        after <= WAL_AFTER_LOAD,
        "the write-ahead log stayed at {after} bytes after the load"
    );
    let log = server.log.lock().unwrap().join("\n");
    assert!(!log.contains(" ERROR "), "{log}");
}
