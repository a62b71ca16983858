//! Hostile clients against the real binary over TCP: oversized (also chunked) bodies, deep
//! nesting, invalid UTF-8, wrong media types, undecodable paths and garbage queries each get
//! a 4xx in the error shape and store nothing; the rate limits configured by `ZS_RATE_LIMIT`,
//! `ZS_RATE_BURST` and `ZS_AUTH_FAILURE_LIMIT` answer 429 with `Retry-After`, keyed by token
//! and by the client's address, and leave the operations routes alone.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

struct Reply {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

async fn send(
    server: &Server,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<(reqwest::Body, &str)>,
) -> Reply {
    let mut r = reqwest::Client::new().request(method, server.url(path));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some((b, ctype)) = body {
        r = r.header("content-type", ctype).body(b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().expect("whole seconds"));
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        retry_after,
        body,
    }
}

fn assert_error(r: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    assert_eq!(r.body["error"]["code"], code, "{what}: {}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: {}",
        r.body
    );
}

/// POSTs `body` in 8 KiB chunks over a raw connection (`Transfer-Encoding: chunked`).
async fn chunked(server: &Server, path: &str, body: &[u8]) -> Reply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server.base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let mut sent = tcp.write_all(head.as_bytes()).await;
    for c in body.chunks(8192) {
        if sent.is_err() {
            break; // the server answered and closed early: fine
        }
        let mut chunk = format!("{:x}\r\n", c.len()).into_bytes();
        chunk.extend_from_slice(c);
        chunk.extend_from_slice(b"\r\n");
        sent = tcp.write_all(&chunk).await;
    }
    if sent.is_ok() {
        let _ = tcp.write_all(b"0\r\n\r\n").await;
    }
    let mut resp = Vec::new();
    let _ = tcp.read_to_end(&mut resp).await;
    let text = String::from_utf8_lossy(&resp).into_owned();
    assert!(text.starts_with("HTTP/1.1 "), "no HTTP response: {text:?}");
    let status = text[9..12].parse().unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    Reply {
        status,
        retry_after: None,
        body: serde_json::from_str(body).unwrap_or(Value::String(body.into())),
    }
}

fn json_body(b: impl Into<reqwest::Body>) -> Option<(reqwest::Body, &'static str)> {
    Some((b.into(), "application/json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_clear_4xx_and_store_nothing() {
    let dir = data_dir("hostile");
    let server = Server::start(&dir, &[]);
    let api = Api::new(&server.base);
    let space = json!({"id": "s1", "name": "S1", "timezone": "UTC"});
    assert_eq!(api.post("/v1/spaces", space).await.0, 201);
    let admin = Some(ADMIN);
    let post = |path: &'static str, body: Option<(reqwest::Body, &'static str)>| {
        send(&server, Method::POST, path, admin, body)
    };

    let big = json!({"name": "x".repeat(1 << 20), "timezone": "UTC"}).to_string();
    let r = post("/v1/spaces", json_body(big.clone())).await;
    assert_error(&r, 413, "body_too_large", "a 1 MiB body");
    // Chunked, without a Content-Length: the limit holds while reading.
    let r = chunked(&server, "/v1/spaces", big.as_bytes()).await;
    assert_error(&r, 413, "body_too_large", "a chunked 1 MiB body");
    let r = post("/v1/spaces", json_body("[".repeat(60_000))).await;
    assert_error(&r, 422, "invalid_body", "60,000 [");
    let deep = format!(
        "{{\"name\": \"x\", \"timezone\": \"UTC\", \"businessHours\": {}",
        "[".repeat(60_000)
    );
    let r = post("/v1/spaces", json_body(deep)).await;
    assert_error(&r, 400, "invalid_json", "60,000 [ in free-form JSON");
    let mut utf8 = br#"{"name": "caf"#.to_vec();
    utf8.extend_from_slice(&[0xe9, b'"', b',']);
    utf8.extend_from_slice(br#" "timezone": "UTC"}"#);
    let r = post("/v1/spaces", json_body(utf8)).await;
    assert_error(&r, 400, "invalid_json", "invalid UTF-8 in a string");
    let form = Some((
        reqwest::Body::from("name=x&timezone=UTC"),
        "application/x-www-form-urlencoded",
    ));
    let r = post("/v1/spaces", form).await;
    assert_error(&r, 415, "unsupported_media_type", "a form body");
    let r = post(
        "/v1/bookings",
        json_body(
            r#"{"spaceId": "s1", "start": "9999-12-30T20:00:00Z", "end": "9999-12-30T21:00:00Z"}"#,
        ),
    )
    .await;
    assert_error(&r, 422, "invalid_time", "a booking at the end of time");

    for (path, status, code) in [
        ("/v1/spaces/%FF", 400, "invalid_path"),
        ("/v1/spaces/%00", 404, "not_found"),
        ("/v1/webhooks/%00/deliveries", 404, "not_found"),
        ("/v1/spaces/s1/history?limit=1e99", 400, "invalid_query"),
        (
            "/v1/spaces/s1/availability?from=yesterday",
            422,
            "invalid_time",
        ),
        (
            "/v1/spaces/s1/availability?from=9999-12-30T00:00:00Z",
            422,
            "invalid_time",
        ),
        (
            "/v1/bookings?from=2026-05-04T10:00:00Z&to=%FF%FE",
            422,
            "invalid_time",
        ),
    ] {
        let r = send(&server, Method::GET, path, admin, None).await;
        assert_error(&r, status, code, path);
    }

    let (_, spaces) = api.get("/v1/spaces").await;
    assert_eq!(spaces["items"].as_array().unwrap().len(), 1, "only s1");
    let (_, bookings) = api.get("/v1/bookings").await;
    assert_eq!(bookings["items"], json!([]));
    assert_eq!(server.stop().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_retry_after() {
    let dir = data_dir("ratelimit");
    let server = Server::start(
        &dir,
        &[
            ("ZS_RATE_LIMIT", "1".into()),
            ("ZS_RATE_BURST", "3".into()),
            ("ZS_AUTH_FAILURE_LIMIT", "1".into()),
        ],
    );
    let api = Api::new(&server.base);
    let (s, v) = api.post("/v1/tokens", json!({"role": "member"})).await;
    assert_eq!(s, 201, "{v}");
    let member = v["token"].as_str().unwrap().to_owned();
    let (s, v) = api.post("/v1/tokens", json!({"role": "device"})).await;
    assert_eq!(s, 201, "{v}");
    let device = v["token"].as_str().unwrap().to_owned();

    for i in 0..3 {
        let r = send(&server, Method::GET, "/v1/spaces", Some(&member), None).await;
        assert_eq!(r.status, 200, "request {i} is within ZS_RATE_BURST");
    }
    let r = send(&server, Method::GET, "/v1/spaces", Some(&member), None).await;
    assert_error(&r, 429, "rate_limited", "the member's 4th request");
    let wait = r.retry_after.expect("Retry-After");
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let r = send(&server, Method::GET, "/v1/spaces", Some(&device), None).await;
    assert_eq!(r.status, 200, "the device token has its own allowance");
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        for _ in 0..5 {
            let r = send(&server, Method::GET, path, Some(&member), None).await;
            assert_eq!(r.status, 200, "{path} is not limited");
        }
    }

    // Failed authentications from 127.0.0.1: a burst of two, then 429 for that address.
    for token in [None, Some("wrong")] {
        let r = send(&server, Method::GET, "/v1/spaces", token, None).await;
        assert_error(&r, 401, "unauthorized", "a failure within the allowance");
    }
    let r = send(&server, Method::GET, "/v1/spaces", Some("wrong"), None).await;
    assert_error(&r, 429, "rate_limited", "the third failure in a row");
    assert!(r.retry_after.is_some_and(|s| s >= 1));
    // A good token is not locked out by its address's failures (others behind one proxy).
    let r = send(&server, Method::GET, "/v1/spaces", Some(&device), None).await;
    assert_eq!(
        r.status, 200,
        "a good token from the blocked address: {}",
        r.body
    );

    tokio::time::sleep(std::time::Duration::from_millis(wait * 1000 + 100)).await;
    let r = send(&server, Method::GET, "/v1/spaces", Some(&member), None).await;
    assert_eq!(r.status, 200, "the member may go on after Retry-After");
    let (s, _) = api.get("/v1/spaces").await;
    assert_eq!(s, 200, "the admin was never locked out");
    assert_eq!(server.stop().code(), Some(0));
}
