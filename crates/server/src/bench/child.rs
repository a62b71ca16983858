//! The service under measurement: this very binary, started as `serve` on a free port and a
//! fresh data directory, as a user would run it.

use anyhow::{Context, bail};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// What the child wrote to stderr: counts of ERROR and WARN lines, and the last lines.
#[derive(Debug, Default, Clone)]
pub struct LogTally {
    pub errors: usize,
    pub warnings: usize,
    pub last: Vec<String>,
}

/// A running `zs-scheduler serve`.
pub struct Service {
    child: Child,
    pub addr: SocketAddr,
    pub token: String,
    dir: PathBuf,
    log: Arc<Mutex<LogTally>>,
}

/// Variables that would point the child elsewhere than a fresh embedded store.
const CLEARED: &[&str] = &[
    "ZS_DATABASE_URL",
    "ZS_DATABASE_SCHEMA",
    "ZS_REDIS_URL",
    "ZS_STATUS_URL",
    "ZS_LISTEN",
    "ZS_DATA_DIR",
    "ZS_SECRET_KEY",
];

impl Service {
    /// Starts the binary on a fresh data directory and waits (at most 30 s) for its
    /// `listening on` line.
    pub async fn start() -> anyhow::Result<Service> {
        let dir = std::env::temp_dir().join(format!("zs-bench-api-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self::start_on(dir).await
    }

    /// [`Service::start`] on the data directory `dir` as it is (removed when stopped).
    pub async fn start_on(dir: PathBuf) -> anyhow::Result<Service> {
        let token = format!("bench-{}", rand::random::<u64>());
        Self::start_with(dir, token, &[]).await
    }

    /// An instance on PostgreSQL: `url`, every table in `schema`; instances started with the
    /// same schema, token and sealing key (base64) share the data and answer the same token.
    pub async fn start_on_postgres(
        url: &str,
        schema: &str,
        token: String,
        key: &str,
    ) -> anyhow::Result<Service> {
        let dir = std::env::temp_dir().join(format!(
            "zs-bench-pg-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        Self::start_with(
            dir,
            token,
            &[
                ("ZS_DATABASE_URL", url),
                ("ZS_DATABASE_SCHEMA", schema),
                ("ZS_SECRET_KEY", key),
            ],
        )
        .await
    }

    async fn start_with(
        dir: PathBuf,
        token: String,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Service> {
        let exe = std::env::current_exe().context("locating the zs-scheduler binary")?;
        let mut cmd = Command::new(&exe);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .env("ZS_ADMIN_TOKEN", &token)
            // The per-token limit (100/s by default) would measure the limiter, not the store.
            .env("ZS_RATE_LIMIT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for k in CLEARED {
            cmd.env_remove(k);
        }
        cmd.envs(env.iter().copied());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {} serve", exe.display()))?;
        let log = Arc::new(Mutex::new(LogTally::default()));
        tally(child.stderr.take().expect("piped"), log.clone());
        let mut out = BufReader::new(child.stdout.take().expect("piped")).lines();
        let listening = async {
            while let Some(line) = out.next_line().await? {
                if let Some(a) = line.strip_prefix("zs-scheduler listening on http://") {
                    return Ok::<_, anyhow::Error>(Some(a.parse::<SocketAddr>()?));
                }
            }
            Ok(None)
        };
        let addr = match tokio::time::timeout(Duration::from_secs(30), listening).await {
            Ok(Ok(Some(a))) => a,
            Ok(Ok(None)) | Ok(Err(_)) | Err(_) => {
                let last = log.lock().expect("log").last.join(" | ");
                let _ = child.kill().await;
                let _ = std::fs::remove_dir_all(&dir);
                bail!("the service did not start within 30 s; its log: {last}")
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
        Ok(Service {
            child,
            addr,
            token,
            dir,
            log,
        })
    }

    /// The CPU seconds the service has used so far (`None` where `/proc` cannot tell).
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()?))
    }

    /// The service's resident memory now and at its peak, in KiB (`VmRSS`, `VmHWM`).
    pub fn memory_kib(&self) -> Option<(u64, u64)> {
        memory_kib(&format!("/proc/{}/status", self.child.id()?))
    }

    /// Stops the service with SIGTERM (SIGKILL after 10 s), removes its data directory and
    /// returns what it logged.
    pub async fn stop(mut self) -> LogTally {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        self.log.lock().expect("log").clone()
    }
}

fn tally(stderr: tokio::process::ChildStderr, log: Arc<Mutex<LogTally>>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut t = log.lock().expect("log");
            t.errors += usize::from(line.contains(" ERROR "));
            t.warnings += usize::from(line.contains(" WARN "));
            if t.last.len() == 20 {
                t.last.remove(0);
            }
            t.last.push(line);
        }
    });
}

/// `VmRSS` and `VmHWM` (KiB) from a `/proc/…/status` file.
pub fn memory_kib(status: &str) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(status).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// User plus system CPU seconds of a process, from its `/proc/…/stat` line.
pub fn cpu_seconds(stat: &str) -> Option<f64> {
    let line = std::fs::read_to_string(stat).ok()?;
    // Fields after the command name (which may hold spaces) start with the state, field 3;
    // utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
    let rest = &line[line.rfind(')')? + 2..];
    let mut f = rest.split_whitespace().skip(11);
    let (utime, stime): (f64, f64) = (f.next()?.parse().ok()?, f.next()?.parse().ok()?);
    Some((utime + stime) / 100.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process_cpu_time() {
        let before = super::cpu_seconds("/proc/self/stat").unwrap();
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(std::hint::black_box(i));
        }
        std::hint::black_box(x);
        let after = super::cpu_seconds("/proc/self/stat").unwrap();
        assert!(after > before, "{before} {after}");
        assert_eq!(super::cpu_seconds("/proc/nonexistent/stat"), None);
    }

    #[test]
    fn reads_this_process_memory() {
        let (rss, peak) = super::memory_kib("/proc/self/status").unwrap();
        assert!(rss > 0 && peak >= rss, "{rss} {peak}");
        assert_eq!(super::memory_kib("/proc/nonexistent/status"), None);
    }
}
