//! Secrets never reach the logs: the real binary at `ZS_LOG=trace` with an admin token, a
//! status secret, minted member and device tokens, a webhook's `whsec_` secret (rotated
//! once) and the generated key sealing webhook secrets goes
//! through a short day (bookings, check-in, check-out, a no-show, retried deliveries,
//! requests with wrong tokens, shutdown); no fragment of any secret appears in its output.

mod support;

use rand::RngCore;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::*;

/// `n` random bytes in hex (also valid base64, so usable as a `whsec_` key).
fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The parts of `secret` that must not be logged: every 12-character window of it (a
/// truncated or partly masked secret is still a leak).
fn fragments(secret: &str) -> Vec<String> {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(12.min(chars.len()))
        .map(|w| w.iter().collect())
        .collect()
}

async fn as_token(
    api: &Api,
    token: &str,
    method: reqwest::Method,
    path: &str,
) -> (u16, serde_json::Value) {
    let other = Api {
        http: api.http.clone(),
        base: api.base.clone(),
        token: token.to_owned(),
    };
    other.call(method, path, Some(json!({}))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_ever_logged() {
    let status = Receiver::start().await;
    status.fail_first.store(1, Ordering::SeqCst);
    let hooks = Receiver::start().await;
    hooks.fail_first.store(2, Ordering::SeqCst);
    let admin = format!("adm-{}", random_hex(24));
    let status_key = random_hex(24);
    let status_secret = format!("whsec_{status_key}");
    let dir = data_dir("secrets");
    let server = Server::start(
        &dir,
        &[
            ("ZS_ADMIN_TOKEN", admin.clone()),
            ("ZS_LOG", "trace".into()),
            ("RUST_LOG", "trace".into()),
            ("ZS_STATUS_URL", status.url()),
            ("ZS_STATUS_SECRET", status_secret.clone()),
            ("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".into()),
            ("ZS_WEBHOOK_RETRY", "0s,200ms,400ms".into()),
            ("ZS_STATUS_RETRY", "0s,200ms".into()),
        ],
    );
    let log = server.log.clone();
    let mut api = Api::new(&server.base);
    api.token = admin.clone();

    let mut secrets = vec![admin.clone(), status_secret.clone(), status_key];
    let mut tokens = vec![];
    for role in ["member", "device"] {
        let (s, v) = api
            .post("/v1/tokens", json!({"role": role, "label": role}))
            .await;
        assert_eq!(s, 201, "{v}");
        tokens.push(v["token"].as_str().unwrap().to_owned());
    }
    secrets.extend(tokens.iter().cloned());
    let (s, wh) = api.post("/v1/webhooks", json!({"url": hooks.url()})).await;
    assert_eq!(s, 201, "{wh}");
    let whsec = wh["secret"].as_str().unwrap().to_owned();
    secrets.push(whsec.strip_prefix("whsec_").unwrap().to_owned());
    secrets.push(whsec);
    // A rotated secret, and the key sealing them all (generated in the data directory).
    let id = wh["id"].as_str().unwrap();
    let (s, rotated) = api
        .post(&format!("/v1/webhooks/{id}/rotate"), json!({}))
        .await;
    assert_eq!(s, 200, "{rotated}");
    secrets.push(rotated["secret"].as_str().unwrap().to_owned());
    let key = std::fs::read_to_string(dir.join("secret-key")).unwrap();
    secrets.push(key.trim().to_owned());

    let space = json!({"id": "s1", "name": "S1", "timezone": "UTC",
        "upcomingLead": "PT1S", "noShowGrace": "PT1S", "cleaning": "PT1S"});
    assert_eq!(api.post("/v1/spaces", space).await.0, 201);
    let (member, device) = (
        Api {
            token: tokens[0].clone(),
            ..Api::new(&server.base)
        },
        &tokens[1],
    );
    let t0 = now_ms();
    let ts = |ms: i64| (t0 + jiff::SignedDuration::from_millis(ms)).to_string();
    for (id, s, e) in [("A", 1500, 3000), ("B", 4500, 6000)] {
        let body = json!({"id": id, "spaceId": "s1", "start": ts(s), "end": ts(e)});
        let (st, v) = member.post("/v1/bookings", body).await;
        assert_eq!(st, 201, "{v}");
    }
    // Wrong, truncated and malformed credentials, on several routes.
    let wrong = [
        format!("{}x", tokens[0]),
        tokens[1][..tokens[1].len() - 1].to_owned(),
        admin.to_uppercase(),
        "zs_not-a-real-token".to_owned(),
    ];
    for w in &wrong {
        for path in ["/v1/spaces", "/v1/bookings", "/v1/webhooks"] {
            assert_eq!(as_token(&api, w, reqwest::Method::GET, path).await.0, 401);
        }
        assert_eq!(
            as_token(&api, w, reqwest::Method::POST, "/v1/bookings/A/check-in")
                .await
                .0,
            401
        );
    }
    let resp = reqwest::Client::new()
        .get(server.url("/v1/spaces"))
        .header("authorization", format!("Basic {admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (s, v) = as_token(
        &api,
        device,
        reqwest::Method::POST,
        "/v1/bookings/A/check-in",
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = member.post("/v1/bookings/A/check-out", json!({})).await;
    assert_eq!(s, 200, "{v}");
    // B is a no-show: its grace runs out at 5.5 s.
    eventually(10, "B's no-show", || {
        status
            .all()
            .iter()
            .any(|r| r.body.contains("NO_SHOW_TIMEOUT"))
    })
    .await;
    eventually(10, "webhooks delivered after their retries", || {
        hooks.all().len() >= 4
    })
    .await;
    let (s, v) = api.get("/v1/spaces/s1/history").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(server.stop().code(), Some(0));
    // The readers see end-of-file once the process has exited.
    std::thread::sleep(Duration::from_millis(300));

    let lines = log.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l.contains("webhook delivery")),
        "the output holds the deliveries' log lines (is it at trace?)"
    );
    let text = lines.join("\n");
    let out = dir.join("output.log");
    std::fs::write(&out, &text).unwrap();
    for secret in &secrets {
        for f in fragments(secret) {
            if let Some(line) = lines.iter().find(|l| l.contains(&f)) {
                panic!(
                    "a secret ({}…) appears in the output ({} lines, kept in {}): {line}",
                    &secret[..6],
                    lines.len(),
                    out.display()
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
