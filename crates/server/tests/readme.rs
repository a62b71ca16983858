//! The README, run as a newcomer runs it: every shell block, exactly as written, in order, in
//! bash from a fresh folder inside the workspace (so `cargo run` finds it and `./data` is
//! new). Service blocks (`cargo run …`) are started in the background and must answer
//! `/readyz`; the other blocks must exit 0 without an error answer, and the walkthrough's
//! states are checked as the README describes them. A shell block this test does not know
//! fails it, so a new command cannot go untested. The Node snippet must be the interop
//! suite's `readme-ingress.js`, which `ingress.rs` runs.
//!
//! Uses ports 8080 and 8081 (the README's), PostgreSQL schema `zs_demo` and Redis prefix
//! `zs-demo`, all of which it clears first. `scripts/test.sh` builds the release binary
//! first, so `cargo run --release` starts at once.

mod support;

use serde_json::Value;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// A fenced block of the README: its language and its text.
#[derive(Debug)]
struct Block {
    lang: String,
    text: String,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = vec![];
    let mut open: Option<Block> = None;
    for line in markdown.lines() {
        match (&mut open, line.trim_start().strip_prefix("```")) {
            (None, Some(lang)) => {
                open = Some(Block {
                    lang: lang.trim().to_owned(),
                    text: String::new(),
                })
            }
            (Some(_), Some(_)) => out.extend(open.take()),
            (Some(b), None) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// A bash session whose exported variables carry over from one block to the next.
struct Shell {
    dir: PathBuf,
    env: PathBuf,
}

impl Shell {
    fn new(dir: &Path) -> Shell {
        let env = dir.join(".readme-env");
        std::fs::write(&env, "").unwrap();
        Shell {
            dir: dir.to_owned(),
            env,
        }
    }

    fn command(&self, script: &str) -> Command {
        let wrapped = format!(
            "source {env}\n{script}\nstatus=$?\nexport -p > {env}\nexit $status",
            env = self.env.display()
        );
        let mut c = Command::new("bash");
        c.arg("-c").arg(wrapped).current_dir(&self.dir);
        // What the test runner set for itself is not the user's environment.
        for (k, _) in std::env::vars() {
            if k.starts_with("CARGO_") && k != "CARGO_HOME" || k.starts_with("NEXTEST") {
                c.env_remove(k);
            }
        }
        c
    }

    /// Runs a block to its end; returns its standard output.
    fn run(&self, script: &str) -> String {
        let out = self.command(script).output().expect("bash runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "README block failed ({}):\n{script}\nstdout: {stdout}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Starts a block in the background, in a process group of its own.
    fn spawn(&self, script: &str) -> Background {
        let log = self.dir.join(format!(".readme-bg-{}", rand_id()));
        let file = std::fs::File::create(&log).unwrap();
        let child = self
            .command(script)
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("bash starts");
        Background { child, log }
    }
}

fn rand_id() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A block running in the background (a service, the event stream).
struct Background {
    child: Child,
    log: PathBuf,
}

impl Background {
    fn output(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Signals the block's process group (and nothing else: `--` keeps the negative id from
    /// being read as an option).
    fn signal(&self, signal: &str) {
        let group = self.child.id();
        assert!(group > 1, "no process group to signal");
        let _ = Command::new("kill")
            .args(["-s", signal, "--", &format!("-{group}")])
            .status();
    }

    /// SIGTERM to the whole group, as Ctrl-C would; waits for it to exit.
    fn stop(mut self) -> String {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.output()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.signal("KILL");
        let _ = self.child.wait();
    }
}

/// The port a service block listens on (`--listen`, else the default 8080).
fn port_of(block: &str) -> u16 {
    block
        .split_whitespace()
        .skip_while(|w| *w != "--listen")
        .nth(1)
        .and_then(|a| a.rsplit(':').next()?.parse().ok())
        .unwrap_or(8080)
}

async fn wait_ready(service: &mut Background, port: u16) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let r = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if r.is_ok_and(|r| r.status() == 200) {
            return;
        }
        let exited = service.child.try_wait().unwrap();
        assert!(
            exited.is_none() && Instant::now() < deadline,
            "the service never answered /readyz on {port} ({exited:?}):\n{}",
            service.output()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The walkthrough's space, read with the walkthrough's token.
async fn space_state(token: &str) -> (String, String) {
    let r: Value = reqwest::Client::new()
        .get("http://127.0.0.1:8080/v1/spaces/room-1")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let s = &r["state"];
    (
        s["space"].as_str().unwrap_or_default().to_owned(),
        s["room"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn wait_for_room(token: &str, room: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (_, r) = space_state(token).await;
        if r == room {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "room never became {room} (is {r})"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Ordinary operation logs no `ERROR` line.
fn no_error_lines(log: &str) {
    let errors: Vec<_> = log.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert!(
        errors.is_empty(),
        "ERROR lines in the service's log: {errors:#?}"
    );
}

/// Clears what the README's scale-out blocks use, so each run starts from nothing.
fn clear_demo_state() {
    let _ = psql("DROP SCHEMA IF EXISTS zs_demo CASCADE");
    redis_forget("zs-demo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_readme_command_runs_as_written() {
    let workspace = Path::new(WORKSPACE).canonicalize().unwrap();
    let readme = std::fs::read_to_string(workspace.join("README.md")).unwrap();
    let dir = workspace
        .join("target")
        .join(format!("readme-run-{}", rand_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shell = Shell::new(&dir);
    clear_demo_state();

    let mut service: Option<Background> = None;
    let mut stream: Option<Background> = None;
    let mut token = String::new();
    let mut ran = 0;
    for block in blocks(&readme) {
        let text = block.text.trim();
        match block.lang.as_str() {
            "sh" => {}
            "js" => {
                let file = workspace.join("crates/server/tests/interop/readme-ingress.js");
                let script = std::fs::read_to_string(&file).unwrap();
                assert_eq!(
                    text,
                    script.trim(),
                    "the README's Node snippet must be {}, which the interop suite runs",
                    file.display()
                );
                continue;
            }
            _ => continue,
        }
        ran += 1;
        eprintln!(
            "README block {ran}: {}",
            text.lines().next().unwrap_or_default()
        );
        if text == "./scripts/test.sh" {
            // The test command is what runs this test: CI must call it as written.
            let ci = std::fs::read_to_string(workspace.join(".ci/run")).unwrap();
            assert!(ci.lines().any(|l| l.trim() == "./scripts/test.sh"));
        } else if text.contains("cargo run") {
            let had_token = text.contains("ZS_ADMIN_TOKEN=");
            if let Some(s) = service.take() {
                no_error_lines(&s.stop());
            }
            let port = port_of(text);
            let mut s = shell.spawn(text);
            wait_ready(&mut s, port).await;
            if !had_token {
                assert!(
                    s.output().contains("generated admin token"),
                    "a first start without ZS_ADMIN_TOKEN prints the generated token:\n{}",
                    s.output()
                );
            }
            service = Some(s);
        } else if text.starts_with("curl -N") {
            // Ctrl-C ends it in the README; here it runs on while the walkthrough goes on.
            stream = Some(shell.spawn(text));
        } else {
            if text.contains("/check-in") {
                wait_for_room(&token, "upcoming", 90).await;
            }
            let out = shell.run(text);
            assert!(
                !out.contains("\"error\""),
                "README block answered an error:\n{text}\n{out}"
            );
            if text.starts_with("export H=") {
                let env = std::fs::read_to_string(&shell.env).unwrap();
                token = env
                    .lines()
                    .find_map(|l| l.split("Bearer ").nth(1))
                    .map(|t| t.trim_end_matches(['"', '\'']).to_owned())
                    .expect("the README exports its token in H");
            }
            if text.contains("/v1/bookings -H") {
                assert_eq!(
                    space_state(&token).await,
                    ("available_at".into(), "free".into())
                );
            }
            if text.contains("/check-in") {
                wait_for_room(&token, "occupied", 5).await;
            }
            if text.contains("/check-out") {
                wait_for_room(&token, "cleaning", 5).await;
            }
            if text.contains("/disable") && text.contains("/enable") {
                // Maintenance on and off again: back to what the facts say.
                assert_eq!(space_state(&token).await.0, "available_now");
            }
            if text.contains("/history") {
                let h: Value = serde_json::from_str(&out).unwrap();
                let events: Vec<_> = h["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|t| t["event"].as_str())
                    .collect();
                for e in ["BOOKING_CREATED", "UPCOMING_REACHED", "USER_CHECKS_IN"] {
                    assert!(events.contains(&e), "history lacks {e}: {events:?}");
                }
            }
            if text.contains("/v1/series") {
                // 09:00 in Berlin each time: 08:00Z in winter, 07:00Z from the change on.
                let v: Value = serde_json::from_str(&out).unwrap();
                let starts: Vec<&str> = v["occurrences"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|b| b["start"].as_str())
                    .collect();
                let hours: Vec<&str> = starts.iter().map(|s| &s[10..]).collect();
                assert_eq!(
                    hours,
                    ["T08:00:00Z", "T07:00:00Z", "T07:00:00Z"],
                    "the series across the DST change: {starts:?}"
                );
            }
            if let Some(s) = stream.take_if(|_| text.contains("/history")) {
                let seen = s.stop();
                assert!(
                    seen.contains("USER_CHECKS_IN") && seen.contains("ADMIN_DISABLE"),
                    "the event stream showed the walkthrough's transitions:\n{seen}"
                );
            }
        }
    }
    if let Some(s) = service.take() {
        no_error_lines(&s.stop());
    }
    assert!(stream.is_none(), "the event stream block was never checked");
    assert!(ran >= 12, "only {ran} shell blocks found in the README");
    clear_demo_state();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn blocks_are_read_with_their_language() {
    let md = "text\n```sh\necho a\n```\n\n```js\nx()\n```\n```\nplain\n```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 3);
    assert_eq!((b[0].lang.as_str(), b[0].text.as_str()), ("sh", "echo a\n"));
    assert_eq!((b[1].lang.as_str(), b[1].text.as_str()), ("js", "x()\n"));
    assert_eq!(b[2].lang, "");
}

#[test]
fn a_service_block_listens_where_it_says() {
    assert_eq!(port_of("cargo run --release -- serve"), 8080);
    assert_eq!(
        port_of("X=1 cargo run --release -- serve --listen 127.0.0.1:8081 --data-dir ./d"),
        8081
    );
}

/// The README and `docs/` stand alone in a clone: no link leaves the repository (a
/// `../shared/…` path is not in a clone), and every relative link names a file that exists.
#[test]
fn every_link_of_the_readme_and_docs_stays_in_the_repository() {
    let workspace = Path::new(WORKSPACE).canonicalize().unwrap();
    let mut pages = vec![workspace.join("README.md")];
    for entry in std::fs::read_dir(workspace.join("docs")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "md") {
            pages.push(p);
        }
    }
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let shown = page.strip_prefix(&workspace).unwrap().display().to_string();
        assert!(
            !text.contains("../shared"),
            "{shown} points outside the clone"
        );
        for target in text.split("](").skip(1).filter_map(|s| s.split(')').next()) {
            if target.starts_with("http") || target.starts_with('#') {
                continue;
            }
            let file = target.split('#').next().unwrap();
            let resolved = page.parent().unwrap().join(file);
            assert!(
                resolved.exists(),
                "{shown} links to {target}, which is not in the repository"
            );
            let resolved = resolved.canonicalize().unwrap();
            assert!(
                resolved.starts_with(&workspace),
                "{shown}: {target} leaves it"
            );
        }
    }
}
