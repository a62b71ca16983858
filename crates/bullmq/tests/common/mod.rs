//! Shared support for the interop tests against the real `bullmq` npm package (6.7.0,
//! pinned in crates/server/tests/interop; `npm ci` there first, as scripts/test.sh does) on
//! the Redis at 127.0.0.1:6379. Each test uses its own key prefix and removes it at the end.

#![allow(dead_code)]

use serde_json::Value;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// The Redis the tests use.
pub const REDIS: &str = "redis://127.0.0.1:6379";
/// The queue every test uses (under its own prefix).
pub const QUEUE: &str = zs_engine::Queue::MeetingScheduler.as_str();

/// The Node project with the pinned `bullmq`.
pub fn interop_dir() -> String {
    format!("{}/../server/tests/interop", env!("CARGO_MANIFEST_DIR"))
}

/// A key prefix no other test (or run) uses. Dropping it deletes whatever is left under it,
/// so a failing test leaves nothing behind either; tests still `cleanup` (obliterate) at the
/// end.
pub struct Prefix(String);

impl std::ops::Deref for Prefix {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let keys = std::process::Command::new("redis-cli")
            .args(["--scan", "--pattern", &format!("{}:*", self.0)])
            .output();
        if let Ok(out) = keys {
            let keys: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect();
            for chunk in keys.chunks(500) {
                let _ = std::process::Command::new("redis-cli")
                    .arg("DEL")
                    .args(chunk)
                    .output();
            }
        }
    }
}

/// A fresh prefix for `test`.
pub fn prefix(test: &str) -> Prefix {
    Prefix(unique(test))
}

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("zs-bmq-{name}-{}-{nanos}", std::process::id())
}

/// Runs a Node script to completion and parses its stdout's last line as JSON.
pub async fn node_json(script: &str, args: &[&str]) -> Value {
    let out = Command::new("node")
        .current_dir(interop_dir())
        .arg(script)
        .args(args)
        .output()
        .await
        .expect("node is installed");
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{script} printed {stdout:?}: {e}"))
}

/// What Node's `inspect.js` sees of the queue and of the jobs `ids`.
pub async fn inspect(prefix: &str, ids: &[&str]) -> Value {
    let ids = serde_json::to_string(ids).unwrap();
    node_json("inspect.js", &[REDIS, prefix, QUEUE, &ids]).await
}

/// Adds jobs with Node's `Queue.addBulk`; returns their ids.
pub async fn node_add(prefix: &str, jobs: &Value) -> Vec<String> {
    let v = node_json("add.js", &[REDIS, prefix, QUEUE, &jobs.to_string()]).await;
    serde_json::from_value(v).unwrap()
}

/// A long-running Node script (worker.js, events.js) whose JSON lines are collected.
pub struct NodeProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<Value>>>,
}

impl NodeProcess {
    /// Starts `script` and waits for its `{"ready":true}` line.
    pub async fn start(script: &str, args: &[&str]) -> NodeProcess {
        let mut child = Command::new("node")
            .current_dir(interop_dir())
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node is installed");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let lines: Arc<Mutex<Vec<Value>>> = Arc::default();
        let sink = lines.clone();
        tokio::spawn(async move {
            let mut r = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = r.next_line().await {
                if let Ok(v) = serde_json::from_str(&line) {
                    sink.lock().unwrap().push(v);
                }
            }
        });
        let p = NodeProcess {
            child,
            stdin,
            lines,
        };
        let what = format!("{script} ready");
        eventually(20, &what, || {
            p.lines.lock().unwrap().iter().any(|v| v["ready"] == true)
        })
        .await;
        p
    }

    /// The lines so far, except `ready`/`closed`.
    pub fn lines(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v.get("ready").is_none() && v.get("closed").is_none())
            .cloned()
            .collect()
    }

    /// Waits up to `secs` until `f` holds for the lines printed so far.
    pub async fn wait_for(&self, secs: u64, what: &str, f: impl Fn(&[Value]) -> bool) {
        eventually(secs, what, || f(&self.lines())).await;
    }

    /// Closes its stdin (the script then closes gracefully) and waits for it to exit.
    pub async fn stop(mut self) -> Vec<Value> {
        drop(self.stdin.take());
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("node script exits after its stdin closes")
            .unwrap();
        assert!(status.success(), "node script failed: {status}");
        // The reader task may still be draining the pipe.
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.lines()
    }
}

/// Waits up to `secs` until `f` holds.
pub async fn eventually(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `f` until it returns a value, up to `secs`.
pub async fn poll_until<T, Fut: std::future::Future<Output = Option<T>>>(
    secs: u64,
    what: &str,
    mut f: impl FnMut() -> Fut,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The crate's job counts once `n` jobs have finished (completed or failed), up to `secs`.
pub async fn finished(queue: &bullmq::Queue, n: u64, secs: u64) -> bullmq::types::JobCounts {
    poll_until(secs, &format!("{n} finished jobs"), || async {
        let c = queue.get_job_counts().await.unwrap();
        (c.completed + c.failed >= n).then_some(c)
    })
    .await
}

/// A plain connection for reading keys directly.
pub async fn redis() -> bullmq::redis_connection::RedisConnection {
    let opts = bullmq::options::RedisConnectionOptions {
        url: REDIS.into(),
        ..Default::default()
    };
    bullmq::redis_connection::RedisConnection::new_managed_only(&opts)
        .await
        .unwrap()
}

/// The queue's events stream, oldest first: `(event, jobId)` of each entry.
pub async fn events(prefix: &str) -> Vec<(String, String)> {
    let entries: Vec<(String, Vec<String>)> = redis()
        .await
        .cmd(
            redis::cmd("XRANGE")
                .arg(format!("{prefix}:{QUEUE}:events"))
                .arg("-")
                .arg("+"),
        )
        .await
        .unwrap();
    entries
        .into_iter()
        .map(|(_, kv)| {
            let field = |name: &str| {
                kv.chunks(2)
                    .find(|p| p[0] == name)
                    .map(|p| p[1].clone())
                    .unwrap_or_default()
            };
            (field("event"), field("jobId"))
        })
        .collect()
}

/// Obliterates the queue and deletes whatever else is left under `prefix`.
pub async fn cleanup(prefix: &str) {
    let opts = bullmq::QueueOptions {
        connection: bullmq::options::RedisConnectionOptions {
            url: REDIS.into(),
            ..Default::default()
        },
        prefix: prefix.to_owned(),
        ..Default::default()
    };
    if let Ok(q) = bullmq::Queue::with_options(QUEUE, opts).await {
        let _ = q.obliterate(true, 1000).await;
        q.close().await;
    }
    let conn = redis().await;
    let keys: Vec<String> = conn
        .cmd(redis::cmd("KEYS").arg(format!("{prefix}:*")))
        .await
        .unwrap_or_default();
    for k in keys {
        let _ = conn.cmd::<i64>(redis::cmd("DEL").arg(k)).await;
    }
}

/// An engine on a fresh SQLite store in a temp dir (removed on drop), on the system clock,
/// with one space `space` (no business hours, default timings).
pub struct TestEngine {
    engine: std::sync::Arc<zs_engine::Engine>,
    dir: std::path::PathBuf,
}

impl TestEngine {
    /// The engine, to hand to a worker.
    pub fn arc(&self) -> std::sync::Arc<zs_engine::Engine> {
        self.engine.clone()
    }
}

impl std::ops::Deref for TestEngine {
    type Target = zs_engine::Engine;
    fn deref(&self) -> &zs_engine::Engine {
        &self.engine
    }
}

impl Drop for TestEngine {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A [`TestEngine`] with the space `space`.
pub async fn engine(space: &str) -> TestEngine {
    let dir = std::env::temp_dir().join(unique("engine"));
    let store = zs_store::Store::open(&dir).await.unwrap();
    let engine = zs_engine::testing::TestEngine::over(store)
        .build_with_clock(std::sync::Arc::new(zs_core::SystemClock))
        .await;
    let space = zs_store::testing::utc_space(space);
    engine.create_space(space).await.unwrap();
    TestEngine { engine, dir }
}

/// A space `id` in UTC, open around the clock, with 1 s lead, grace and cleaning, so a
/// booking's whole day passes in seconds.
pub fn fast_space(id: &str) -> zs_core::Space {
    let one = zs_core::Period::seconds(1);
    zs_core::Space {
        id: zs_core::SpaceId::parse(id).unwrap(),
        name: id.into(),
        settings: zs_core::SpaceSettings {
            upcoming_lead: one,
            no_show_grace: one,
            cleaning: one,
            ..zs_core::SpaceSettings::defaults(zs_core::calendar::Zone::parse("UTC").unwrap())
        },
        maintenance: false,
    }
}

/// RFC 3339 for now + `ms`.
pub fn at(ms: i64) -> String {
    (jiff::Timestamp::now() + jiff::SignedDuration::from_millis(ms)).to_string()
}
