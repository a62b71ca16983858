//! What a newcomer meets first, on the real binary: a start-up that cannot reach Redis or
//! PostgreSQL fails fast in one line, a private webhook target is refused with the setting
//! that allows it, a failing receiver is logged with its reason at WARN, and every help
//! command answers.

mod support;

use serde_json::json;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use support::*;

/// The longest a failed start may take (the promise is 5 s; the margin is for a loaded CI).
const FAILS_WITHIN: Duration = Duration::from_secs(5);

/// What a `serve` that was expected to fail did.
struct Failed {
    code: Option<i32>,
    stderr: Vec<String>,
    took: Duration,
}

/// Runs `zs-scheduler serve` with `env` and waits for it to exit (killing it, and failing
/// the test, if it is still running after 20 s).
fn serve_expecting_exit(name: &str, env: &[(&str, String)]) -> Failed {
    let dir = data_dir(name);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zs-scheduler"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .env("ZS_ADMIN_TOKEN", ADMIN)
        .env_remove("ZS_LOG")
        .env_remove("ZS_REDIS_URL")
        .env_remove("ZS_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("start zs-scheduler");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("zs-scheduler serve ({name}) still running after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let mut text = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    Failed {
        code: status.code(),
        stderr: text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        took,
    }
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    free_port()
}

#[test]
fn unreachable_redis_fails_fast_in_one_line_without_the_password() {
    let url = format!("redis://:sekret-pw@127.0.0.1:{}", closed_port());
    let f = serve_expecting_exit("no-redis", &[("ZS_REDIS_URL", url)]);
    assert!(f.took < FAILS_WITHIN, "took {:?}", f.took);
    assert_ne!(f.code, Some(0));
    assert!(f.code.is_some(), "killed by a signal");
    assert_eq!(f.stderr.len(), 1, "{:#?}", f.stderr);
    let line = &f.stderr[0];
    assert!(
        line.starts_with("zs-scheduler: cannot reach Redis at "),
        "{line}"
    );
    assert!(line.contains("(ZS_REDIS_URL)"), "{line}");
    assert!(line.ends_with("connection refused"), "{line}");
    assert!(!line.contains("sekret-pw"), "the password leaked: {line}");
}

#[test]
fn a_redis_that_refuses_the_login_is_said_in_plain_words() {
    // The test Redis has no password: AUTH with one is refused.
    let url = "redis://:sekret-pw@127.0.0.1:6379".to_owned();
    let f = serve_expecting_exit("redis-auth", &[("ZS_REDIS_URL", url)]);
    assert!(f.took < FAILS_WITHIN, "took {:?}", f.took);
    assert_ne!(f.code, Some(0));
    assert_eq!(f.stderr.len(), 1, "{:#?}", f.stderr);
    let line = &f.stderr[0];
    assert!(line.contains("(ZS_REDIS_URL): "), "{line}");
    assert!(!line.contains("sekret-pw"), "the password leaked: {line}");
    assert!(
        !line.contains("AuthenticationFailed"),
        "Debug formatting: {line}"
    );
}

#[test]
fn a_delivery_retention_that_is_not_a_duration_is_refused_in_one_line() {
    for bad in ["P1M", "soon", "PT0S"] {
        let f = serve_expecting_exit("bad-retention", &[("ZS_DELIVERY_RETENTION", bad.into())]);
        assert!(f.took < FAILS_WITHIN, "took {:?}", f.took);
        assert_eq!(f.code, Some(2), "{bad}: {:#?}", f.stderr);
        assert_eq!(f.stderr.len(), 1, "{bad}: {:#?}", f.stderr);
        let line = &f.stderr[0];
        assert!(line.contains("ZS_DELIVERY_RETENTION"), "{line}");
        assert!(line.contains(&format!("{bad:?}")), "{line}");
        assert!(line.contains("\"off\""), "{line}");
    }
}

#[test]
fn missing_postgres_database_says_so_once() {
    let db = format!("zs_no_such_db_{}", std::process::id());
    let url = format!("postgres://postgres@127.0.0.1:5432/{db}");
    let f = serve_expecting_exit("no-db", &[("ZS_DATABASE_URL", url)]);
    assert!(f.took < FAILS_WITHIN, "took {:?}", f.took);
    assert_ne!(f.code, Some(0));
    assert!(f.code.is_some(), "killed by a signal");
    assert_eq!(f.stderr.len(), 1, "{:#?}", f.stderr);
    let line = &f.stderr[0];
    assert!(line.contains("(ZS_DATABASE_URL)"), "{line}");
    let says = format!("database \"{db}\" does not exist");
    assert_eq!(line.matches(&says).count(), 1, "{line}");
}

#[test]
fn unreachable_postgres_fails_fast_in_one_line_without_the_password() {
    let url = format!(
        "postgres://postgres:sekret-pw@127.0.0.1:{}/test",
        closed_port()
    );
    let f = serve_expecting_exit("no-pg", &[("ZS_DATABASE_URL", url)]);
    assert!(f.took < FAILS_WITHIN, "took {:?}", f.took);
    assert_ne!(f.code, Some(0));
    assert_eq!(f.stderr.len(), 1, "{:#?}", f.stderr);
    let line = &f.stderr[0];
    assert!(
        line.starts_with("zs-scheduler: cannot reach PostgreSQL at "),
        "{line}"
    );
    assert!(
        line.contains("(ZS_DATABASE_URL): connection refused"),
        "{line}"
    );
    assert!(!line.contains("sekret-pw"), "the password leaked: {line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_webhook_targets_are_refused_with_the_setting_that_allows_them() {
    let dir = data_dir("private-hooks");
    let server = Server::start(&dir, &[]);
    let api = Api::new(&server.base);
    for url in ["http://127.0.0.1:9/x", "http://localhost:9/x"] {
        let (s, v) = api.post("/v1/webhooks", json!({"url": url})).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (422, Some("invalid_url")),
            "{url}: {v}"
        );
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("ZS_ALLOW_PRIVATE_WEBHOOKS=true"),
            "{url}: {message}"
        );
    }
    let (s, v) = api.get("/v1/webhooks").await;
    assert_eq!(
        (s, v["items"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{v}"
    );
    // A name that does not resolve now is accepted: each delivery resolves it again.
    let unresolvable = "https://hooks.zs-scheduler.invalid/x";
    let (s, v) = api.post("/v1/webhooks", json!({"url": unresolvable})).await;
    assert_eq!(s, 201, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_is_logged_with_its_status_at_warn() {
    let hooks = Receiver::start().await;
    hooks.fail_first.store(usize::MAX, Ordering::SeqCst);
    let dir = data_dir("warn-hooks");
    let server = Server::start(
        &dir,
        &[
            ("ZS_WEBHOOK_RETRY", "0s,100ms".into()),
            ("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".into()),
        ],
    );
    let api = Api::new(&server.base);
    let (s, wh) = api
        .post(
            "/v1/webhooks",
            json!({"url": hooks.url(), "events": ["booking.created"]}),
        )
        .await;
    assert_eq!(s, 201, "{wh}");
    let space = json!({"id": "w", "name": "w", "timezone": "UTC"});
    assert_eq!(api.post("/v1/spaces", space).await.0, 201);
    let booking = json!({"id": "wb", "spaceId": "w", "start": at(3_600_000), "end": at(7_200_000)});
    assert_eq!(api.post("/v1/bookings", booking).await.0, 201);

    // Both attempts fail (500), and the delivery is dead-lettered.
    let log = server.log.clone();
    let failed_lines = move || {
        log.lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("webhook delivery attempt failed"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let lines = failed_lines.clone();
    eventually(20, "two failed attempts logged", move || lines().len() >= 2).await;
    for line in failed_lines() {
        assert!(line.contains(" WARN "), "{line}");
        assert!(line.contains("status=500"), "{line}");
        assert!(line.contains("reason=HTTP 500"), "{line}");
        assert!(!line.contains("Some("), "Debug formatting: {line}");
    }
    let all = server.log.lock().unwrap().clone();
    assert!(
        all.iter().all(|l| !l.contains(" ERROR ")),
        "an ERROR line: {all:#?}"
    );
    assert_eq!(hooks.all().len(), 2);
}

#[test]
fn every_help_command_answers() {
    let bin = env!("CARGO_BIN_EXE_zs-scheduler");
    let commands = ["serve", "diagrams", "bench", "simulate", "help"];
    let mut asks: Vec<Vec<String>> = vec![
        vec!["--help".into()],
        vec!["-h".into()],
        vec!["help".into()],
        vec!["help".into(), "--help".into()],
    ];
    for c in commands {
        asks.push(vec![c.into(), "--help".into()]);
        asks.push(vec!["help".into(), c.into()]);
    }
    for args in asks {
        let out = Command::new(bin).args(&args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert!(text.contains("Usage: zs-scheduler"), "{args:?}: {text}");
    }
    let out = Command::new(bin).args(["help", "nope"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("serve, diagrams, bench, simulate"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_status_receiver_is_logged_with_the_transport_error_at_warn() {
    let dir = data_dir("warn-status");
    let target = format!("http://127.0.0.1:{}/status", closed_port());
    let server = Server::start(
        &dir,
        &[
            ("ZS_STATUS_URL", target),
            ("ZS_STATUS_RETRY", "0s,100ms".into()),
        ],
    );
    let api = Api::new(&server.base);
    let space = json!({"id": "st", "name": "st", "timezone": "UTC"});
    assert_eq!(api.post("/v1/spaces", space).await.0, 201);
    let booking =
        json!({"id": "sb", "spaceId": "st", "start": at(3_600_000), "end": at(7_200_000)});
    assert_eq!(api.post("/v1/bookings", booking).await.0, 201);

    let log = server.log.clone();
    let failed_lines = move || {
        log.lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("status post failed"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let lines = failed_lines.clone();
    eventually(20, "a failed status post logged", move || {
        !lines().is_empty()
    })
    .await;
    for line in failed_lines() {
        assert!(line.contains(" WARN "), "{line}");
        assert!(
            line.contains("reason=connection failed: connection refused"),
            "{line}"
        );
        assert!(!line.contains("os error"), "{line}");
    }
    let all = server.log.lock().unwrap().clone();
    assert!(
        all.iter().all(|l| !l.contains(" ERROR ")),
        "an ERROR line: {all:#?}"
    );
}
