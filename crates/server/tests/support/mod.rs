//! Test support: start the real binary on port 0, and real HTTP receivers on 127.0.0.1.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const ADMIN: &str = "test-admin-token";

/// The `ZS_SECRET_KEY` of instances on PostgreSQL that set none (32 bytes, base64).
pub const SHARED_SECRET_KEY: &str = "dGVzdCBrZXkgc2hhcmVkIGJ5IHRoZSBpbnN0YW5jZXM=";

/// A fresh data directory per test.
pub fn data_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "zs-e2e-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        % 1_000_000_007
}

/// A running `zs-scheduler serve`.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the binary with `env` on a fresh port and waits until it listens.
    pub fn start(dir: &Path, env: &[(&str, String)]) -> Server {
        Self::start_binary(env!("CARGO_BIN_EXE_zs-scheduler"), dir, env)
    }

    /// [`Server::start`] with another build of the binary (e.g. the release one).
    pub fn start_binary(bin: &str, dir: &Path, env: &[(&str, String)]) -> Server {
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .env("ZS_ADMIN_TOKEN", ADMIN)
            .env("ZS_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Instances sharing a PostgreSQL database must share the key sealing the webhook
        // secrets (each would otherwise generate its own in its data directory and be
        // refused at start): the tests' instances get one unless they choose their own.
        let pg = env.iter().any(|(k, _)| *k == "ZS_DATABASE_URL");
        if pg && !env.iter().any(|(k, _)| *k == "ZS_SECRET_KEY") {
            cmd.env("ZS_SECRET_KEY", SHARED_SECRET_KEY);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start zs-scheduler");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(vec![]));
        let l2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                l2.lock().unwrap().push(line);
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let l3 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("zs-scheduler listening on ") {
                    let _ = tx.send(a.to_owned());
                }
                l3.lock().unwrap().push(format!("stdout: {line}"));
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("server did not start: {:?}", log.lock().unwrap()));
        Server { child, base, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// SIGKILL.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at: jiff::Timestamp,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A real HTTP receiver on 127.0.0.1 that records requests and can fail the first N.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    pub got: Arc<Mutex<Vec<Received>>>,
    pub fail_first: Arc<AtomicUsize>,
    /// While non-zero, each request is answered only after this many milliseconds.
    pub hold_ms: Arc<AtomicUsize>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Receiver::start_on("127.0.0.1:0").await
    }

    /// [`Receiver::start`] on a chosen address (e.g. a port a receiver that was down
    /// listens on again).
    pub async fn start_on(bind: &str) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let fail_first = Arc::new(AtomicUsize::new(0));
        let hold_ms = Arc::new(AtomicUsize::new(0));
        let (g, f, h) = (got.clone(), fail_first.clone(), hold_ms.clone());
        let app =
            axum::Router::new().fallback(move |headers: axum::http::HeaderMap, body: String| {
                let (g, f, h) = (g.clone(), f.clone(), h.clone());
                async move {
                    let headers = headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                        .collect();
                    g.lock().unwrap().push(Received {
                        headers,
                        body,
                        at: jiff::Timestamp::now(),
                    });
                    let hold = h.load(Ordering::SeqCst);
                    if hold > 0 {
                        tokio::time::sleep(Duration::from_millis(hold as u64)).await;
                    }
                    let fail = f
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if fail {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::NO_CONTENT
                    }
                }
            });
        let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            addr,
            got,
            fail_first,
            hold_ms,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// An API client with the admin token.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            token: ADMIN.to_owned(),
        }
    }
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut r = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }
    /// Like [`Api::call`], but a transport error (the process is down, the connection was
    /// cut) is returned instead of panicking; each request gives up after `timeout`.
    pub async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<(u16, serde_json::Value), String> {
        let mut r = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .timeout(timeout);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        ))
    }
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
}

/// RFC 3339 for now + `ms`.
pub fn at(ms: i64) -> String {
    (jiff::Timestamp::now() + jiff::SignedDuration::from_millis(ms)).to_string()
}

/// Waits until `f` holds, up to `secs`.
pub async fn eventually<F: FnMut() -> bool>(secs: u64, what: &str, mut f: F) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Now, truncated to the millisecond (the precision zs-scheduler keeps).
pub fn now_ms() -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(jiff::Timestamp::now().as_millisecond()).unwrap()
}

/// A space's history (`GET /v1/spaces/{id}/history`) oldest first, as
/// (event, occurredAt, sequence).
pub fn history_events(h: &serde_json::Value) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["event"].as_str().unwrap().to_owned(),
                t["occurredAt"].as_str().unwrap().to_owned(),
                t["sequence"].as_u64().unwrap(),
            )
        })
        .collect();
    v.reverse();
    v
}

/// The PostgreSQL the tests use: `ZS_TEST_DATABASE_URL`, else the local `test` database
/// (what scripts/test.sh makes sure is running).
pub fn pg_url() -> String {
    std::env::var("ZS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A PostgreSQL schema name no other test (or run) uses; `scripts/test.sh` drops leftovers.
pub fn unique_schema(label: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000_000_000;
    format!("zs_t_{label}_{}_{n}", std::process::id())
}

/// Runs `redis-cli` on the test Redis and returns its output.
pub fn redis_cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Deletes every key under `prefix` on the test Redis.
pub fn redis_forget(prefix: &str) {
    for k in redis_cli(&["--scan", "--pattern", &format!("{prefix}:*")]).lines() {
        redis_cli(&["DEL", k]);
    }
}

/// A port on 127.0.0.1 that was free a moment ago (for a listener that starts later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs SQL through `psql` on the test PostgreSQL and returns its unaligned output.
pub fn psql(sql: &str) -> String {
    let out = Command::new("psql")
        .arg(pg_url())
        .args(["-X", "-q", "-A", "-t", "-c", sql])
        .output()
        .expect("psql");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `url` with one more query parameter.
pub fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

/// A small seeded generator (SplitMix64): a failing run is repeated with its printed seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// The seed from `var` when set, else from the clock.
    pub fn seed_from_env(var: &str) -> u64 {
        std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(rand_suffix)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % (hi - lo) as u64) as i64
    }
}

/// A stand-in for the SQLite anchor script in `dir` (`anchor.py`): prints the real script's
/// line at 2000/s for the transactions it is asked for, and appends that number to
/// `dir/runs` on every run.
pub fn stand_in_anchor(dir: &Path) -> PathBuf {
    let script = dir.join("anchor.py");
    let body = format!(
        "import sys\nopen({:?}, 'a').write(sys.argv[1] + '\\n')\n\
         print(sys.argv[1] + ' booking transactions in 0.10 s: 2000/s, 500 us each')\n",
        dir.join("runs").display().to_string()
    );
    std::fs::write(&script, body).unwrap();
    script
}
