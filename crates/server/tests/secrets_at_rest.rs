//! Webhook signing secrets at rest (issue 14 finding 6), with the real binary: the SQLite
//! file and its log never hold a secret (read raw), PostgreSQL's column is not the secret,
//! the key file is generated 0600, a malformed or wrong `ZS_SECRET_KEY` stops the start
//! with exit 2 and one line naming it, and a rotated endpoint's deliveries verify with both
//! the new and the previous secret at a receiver on 127.0.0.1.

#![cfg(unix)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Runs `serve` on `dir` with `env` and waits for it to exit: its code and stderr.
fn serve_expecting_exit(dir: &Path, env: &[(&str, String)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zs-scheduler"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("ZS_ADMIN_TOKEN", ADMIN)
        .env_remove("ZS_LOG")
        .env_remove("ZS_REDIS_URL")
        .env_remove("ZS_DATABASE_URL")
        .env_remove("ZS_SECRET_KEY")
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
            panic!("zs-scheduler serve still running after 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    (status.code(), text.trim().to_owned())
}

/// Every form of a `whsec_` secret that must not be found at rest: the text, its base64
/// part, and the raw key bytes.
fn forms(secret: &str) -> Vec<Vec<u8>> {
    let b64 = secret.strip_prefix("whsec_").unwrap();
    vec![
        secret.as_bytes().to_vec(),
        b64.as_bytes().to_vec(),
        STANDARD.decode(b64).unwrap(),
    ]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Reads the database and its write-ahead log raw and fails on any form of the secrets.
fn assert_no_secret_in_files(dir: &Path, secrets: &[String]) {
    let mut read = 0;
    for f in ["zs-scheduler.db", "zs-scheduler.db-wal"] {
        let Ok(bytes) = std::fs::read(dir.join(f)) else {
            continue;
        };
        read += bytes.len();
        assert!(!contains(&bytes, b"whsec_"), "{f} holds a whsec_ secret");
        for s in secrets {
            for form in forms(s) {
                assert!(!contains(&bytes, &form), "{f} holds a secret");
            }
        }
    }
    assert!(read > 0, "no database file read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_files_hold_no_secret_and_only_the_right_key_starts() {
    let dir = data_dir("sealed");
    let server = Server::start(&dir, &[("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".into())]);
    let api = Api::new(&server.base);
    let (s, wh) = api
        .post("/v1/webhooks", json!({"url": "http://127.0.0.1:9/hook"}))
        .await;
    assert_eq!(s, 201, "{wh}");
    let first = wh["secret"].as_str().unwrap().to_owned();
    // Already before the rotation: the created secret is nowhere in the files.
    assert_no_secret_in_files(&dir, std::slice::from_ref(&first));
    let id = wh["id"].as_str().unwrap().to_owned();
    let (s, rotated) = api
        .post(&format!("/v1/webhooks/{id}/rotate"), json!({}))
        .await;
    assert_eq!(s, 200, "{rotated}");
    let second = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let (s, listed) = api.get("/v1/webhooks").await;
    assert_eq!(s, 200);
    assert!(listed["items"][0].get("secret").is_none(), "{listed}");
    let secrets = [first, second];
    // While it runs (the log holds the latest writes) and after a clean stop.
    assert_no_secret_in_files(&dir, &secrets);
    let key_file = dir.join("secret-key");
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600,
        "the generated key file"
    );
    assert!(server.stop().success());
    assert_no_secret_in_files(&dir, &secrets);
    let key = std::fs::read_to_string(&key_file).unwrap();

    // A malformed key: one line naming the setting, exit 2.
    let (code, err) = serve_expecting_exit(&dir, &[("ZS_SECRET_KEY", "hunter2".into())]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("zs-scheduler: ZS_SECRET_KEY is not a valid key: expected 32 bytes"),
        "{err}"
    );
    // A well-formed key that is not this database's: refused before anything is signed.
    let other = STANDARD.encode([7u8; 32]);
    let (code, err) = serve_expecting_exit(&dir, &[("ZS_SECRET_KEY", other)]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "ZS_SECRET_KEY is not the key this database's webhook secrets were sealed with"
        ),
        "{err}"
    );
    // The key file's key given as the setting is the right key.
    let server = Server::start(&dir, &[("ZS_SECRET_KEY", key.trim().to_owned())]);
    let (s, _) = Api::new(&server.base).get("/v1/webhooks").await;
    assert_eq!(s, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_endpoint_is_signed_with_the_new_and_the_previous_secret() {
    let hooks = Receiver::start().await;
    let dir = data_dir("rotate");
    let server = Server::start(&dir, &[("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".into())]);
    let api = Api::new(&server.base);
    let (_, wh) = api
        .post(
            "/v1/webhooks",
            json!({"url": hooks.url(), "events": ["booking.created"]}),
        )
        .await;
    let first = wh["secret"].as_str().unwrap().to_owned();
    let id = wh["id"].as_str().unwrap().to_owned();
    let (s, rotated) = api
        .post(&format!("/v1/webhooks/{id}/rotate"), json!({}))
        .await;
    assert_eq!(s, 200, "{rotated}");
    let second = rotated["secret"].as_str().unwrap().to_owned();
    let until: jiff::Timestamp = rotated["previousSecretExpiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let left = until - jiff::Timestamp::now();
    assert!(
        left > jiff::SignedDuration::from_hours(23) && left <= jiff::SignedDuration::from_hours(24),
        "{rotated}"
    );
    let (s, missing) = api.post("/v1/webhooks/ep_nope/rotate", json!({})).await;
    assert_eq!(s, 404, "{missing}");
    assert_eq!(missing["error"]["code"], "not_found");

    let body = json!({"id": "r1", "name": "r1", "timezone": "UTC"});
    assert_eq!(api.post("/v1/spaces", body).await.0, 201);
    let start = now_ms() + jiff::SignedDuration::from_hours(1);
    let end = start + jiff::SignedDuration::from_mins(30);
    let b =
        json!({"id": "b1", "spaceId": "r1", "start": start.to_string(), "end": end.to_string()});
    assert_eq!(api.post("/v1/bookings", b).await.0, 201);
    eventually(10, "the booking.created webhook", || {
        !hooks.all().is_empty()
    })
    .await;
    let r = &hooks.all()[0];
    let signature = r.header("webhook-signature").unwrap();
    assert_eq!(signature.split(' ').count(), 2, "{signature}");
    for secret in [&first, &second] {
        let wh = standardwebhooks::Webhook::new(secret).unwrap();
        let mut h = http::HeaderMap::new();
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            h.insert(name, r.header(name).unwrap().parse().unwrap());
        }
        wh.verify(r.body.as_bytes(), &h)
            .expect("each secret verifies on its own");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stores_no_secret_and_refuses_another_key() {
    let schema = unique_schema("sealed");
    let key = STANDARD.encode([3u8; 32]);
    let pg = [
        ("ZS_DATABASE_URL", pg_url()),
        ("ZS_DATABASE_SCHEMA", schema.clone()),
        ("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".into()),
    ];
    let mut env = pg.to_vec();
    env.push(("ZS_SECRET_KEY", key));
    let server = Server::start(&data_dir("pg-sealed"), &env);
    let (s, wh) = Api::new(&server.base)
        .post("/v1/webhooks", json!({"url": "http://127.0.0.1:9/hook"}))
        .await;
    assert_eq!(s, 201, "{wh}");
    let secret = wh["secret"].as_str().unwrap();
    let column = psql(&format!("SELECT secret FROM {schema}.webhooks"));
    let column = column.trim();
    assert!(column.starts_with("v1:"), "{column}");
    for form in forms(secret) {
        assert!(
            !contains(column.as_bytes(), &form),
            "the column holds the secret"
        );
    }
    // A second instance with another key (here: its own generated key file) is refused.
    let (code, err) = serve_expecting_exit(&data_dir("pg-other"), &pg);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("secret-key (ZS_SECRET_KEY unset) is not the key this database's webhook secrets were sealed with"),
        "{err}"
    );
    drop(server);
    psql(&format!("DROP SCHEMA {schema} CASCADE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plaintext_secret_of_an_older_database_is_sealed_at_start() {
    let hooks = Receiver::start().await;
    let dir = data_dir("upgrade");
    let env = [("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".to_owned())];
    let server = Server::start(&dir, &env);
    let api = Api::new(&server.base);
    let (s, wh) = api
        .post(
            "/v1/webhooks",
            json!({"url": hooks.url(), "events": ["booking.created"]}),
        )
        .await;
    assert_eq!(s, 201, "{wh}");
    assert!(server.stop().success());
    // As a version before sealing left it: the `whsec_` text in the column, no key check
    // value, no key file; all in the database file itself.
    let plain = format!("whsec_{}", STANDARD.encode([9u8; 32]));
    let db = dir.join("zs-scheduler.db");
    // (No key check table before this version: its absence is no error here.)
    let _ = Command::new("sqlite3")
        .arg(&db)
        .arg("DELETE FROM secret_key_check")
        .output();
    let sql = format!("UPDATE webhooks SET secret = '{plain}'; PRAGMA wal_checkpoint(TRUNCATE);");
    let out = Command::new("sqlite3").arg(&db).arg(&sql).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let _ = std::fs::remove_file(dir.join("secret-key"));
    let before = std::fs::read(&db).unwrap();
    assert!(
        contains(&before, plain.as_bytes()),
        "the old database holds it"
    );

    let server = Server::start(&dir, &env);
    let api = Api::new(&server.base);
    let body = json!({"id": "u1", "name": "u1", "timezone": "UTC"});
    assert_eq!(api.post("/v1/spaces", body).await.0, 201);
    let start = now_ms() + jiff::SignedDuration::from_hours(1);
    let end = start + jiff::SignedDuration::from_mins(30);
    let b =
        json!({"id": "b1", "spaceId": "u1", "start": start.to_string(), "end": end.to_string()});
    assert_eq!(api.post("/v1/bookings", b).await.0, 201);
    eventually(10, "the booking.created webhook", || {
        !hooks.all().is_empty()
    })
    .await;
    // The subscriber keeps its secret: the delivery verifies with the plaintext one.
    let r = &hooks.all()[0];
    let mut h = http::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        h.insert(name, r.header(name).unwrap().parse().unwrap());
    }
    standardwebhooks::Webhook::new(&plain)
        .unwrap()
        .verify(r.body.as_bytes(), &h)
        .expect("the same secret signs");
    assert!(
        server
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("sealed webhook secrets stored in plaintext")),
        "the start says it sealed them"
    );
    assert!(server.stop().success());
    assert_no_secret_in_files(&dir, &[plain]);
    let column = Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT secret FROM webhooks")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&column.stdout).starts_with("v1:"));
}
