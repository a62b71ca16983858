//! A fleet of real `zs-scheduler serve` processes (one on the embedded store, or several on
//! PostgreSQL) that the tests kill with SIGKILL and start again on the same data.

use crate::support::{Rng, Server, data_dir};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The base URLs of the instances that are up (`None` while one is down): the driver sends
/// only to these.
#[derive(Clone, Default)]
pub struct Pool {
    bases: Arc<Mutex<Vec<Option<String>>>>,
    turn: Arc<std::sync::atomic::AtomicUsize>,
}

impl Pool {
    /// One of the live instances, in turn; `None` while all are down.
    pub fn pick(&self) -> Option<String> {
        let bases = self.bases.lock().unwrap();
        let live: Vec<&String> = bases.iter().flatten().collect();
        if live.is_empty() {
            return None;
        }
        let n = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(live[n % live.len()].clone())
    }

    fn set(&self, i: usize, base: Option<String>) {
        let mut bases = self.bases.lock().unwrap();
        if bases.len() <= i {
            bases.resize(i + 1, None);
        }
        bases[i] = base;
    }
}

/// The processes, their data directories and the shared configuration.
pub struct Fleet {
    env: Vec<(&'static str, String)>,
    dirs: Vec<PathBuf>,
    servers: Vec<Option<Server>>,
    /// Logs of every process started, also the killed ones (for failure reports).
    logs: Vec<(usize, Arc<Mutex<Vec<String>>>)>,
    pub pool: Pool,
    pub kills: usize,
    /// How long each restart took until the API listened.
    pub restart_ms: Vec<u128>,
}

impl Fleet {
    /// Starts `n` instances with `env` one after another (the first creates the schema).
    pub fn start(label: &str, n: usize, env: Vec<(&'static str, String)>) -> Fleet {
        let mut f = Fleet {
            env,
            dirs: vec![],
            servers: vec![],
            logs: vec![],
            pool: Pool::default(),
            kills: 0,
            restart_ms: vec![],
        };
        for i in 0..n {
            let dir = data_dir(&format!("{label}-{i}"));
            let s = Server::start(&dir, &f.env);
            f.pool.set(i, Some(s.base.clone()));
            f.logs.push((i, s.log.clone()));
            f.dirs.push(dir);
            f.servers.push(Some(s));
        }
        f
    }

    /// How many instances there are.
    pub fn len(&self) -> usize {
        self.servers.len()
    }

    /// The base URL of instance `i` (which must be up).
    pub fn base(&self, i: usize) -> String {
        self.servers[i].as_ref().expect("instance up").base.clone()
    }

    /// SIGKILL instance `i` (the driver stops sending to it first).
    pub fn kill(&mut self, i: usize) {
        self.pool.set(i, None);
        if let Some(s) = self.servers[i].take() {
            s.kill();
            self.kills += 1;
        }
    }

    /// Starts instance `i` again on its data directory.
    pub async fn restart(&mut self, i: usize) {
        let (dir, env) = (self.dirs[i].clone(), self.env.clone());
        let t = Instant::now();
        let s = tokio::task::spawn_blocking(move || Server::start(&dir, &env))
            .await
            .expect("restart");
        self.restart_ms.push(t.elapsed().as_millis());
        self.pool.set(i, Some(s.base.clone()));
        self.logs.push((i, s.log.clone()));
        self.servers[i] = Some(s);
    }

    /// SIGTERM every instance; `true` if all exited cleanly.
    pub fn stop_all(&mut self) -> bool {
        let mut ok = true;
        for (i, s) in self.servers.iter_mut().enumerate() {
            self.pool.set(i, None);
            if let Some(s) = s.take() {
                ok &= s.stop().success();
            }
        }
        ok
    }

    /// Prints the log lines of every process (also killed ones) that contain one of `words`.
    pub fn print_logs(&self, words: &[&str]) {
        for (i, log) in &self.logs {
            for l in log.lock().unwrap().iter() {
                if words.iter().any(|w| l.contains(w)) {
                    eprintln!("[{i}] {l}");
                }
            }
        }
    }

    /// Counts log lines containing `word` over every process started.
    pub fn count_in_logs(&self, word: &str) -> usize {
        self.logs
            .iter()
            .map(|(_, log)| {
                log.lock()
                    .unwrap()
                    .iter()
                    .filter(|l| l.contains(word))
                    .count()
            })
            .sum()
    }
}

/// Kills a random instance `kills` times — after it has been up 0.3–1.8 s — and starts it
/// again after 0.1–1.2 s down.
pub async fn kill_loop(fleet: Arc<tokio::sync::Mutex<Fleet>>, kills: usize, mut rng: Rng) {
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(rng.range(300, 1800) as u64)).await;
        let n = fleet.lock().await.len();
        let i = rng.range(0, n as i64) as usize;
        fleet.lock().await.kill(i);
        tokio::time::sleep(Duration::from_millis(rng.range(100, 1200) as u64)).await;
        fleet.lock().await.restart(i).await;
    }
}
