//! Transport hygiene against the real binary: a client that sends half a request's headers,
//! or nothing at all, is disconnected after the header timeout, and connections past the
//! cap wait to be accepted until one closes (issue 14 finding 5: 1,500 half-sent requests
//! held their connections for 35 s and more).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::*;

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Whether the server closes `s` (EOF or reset) within `within`.
fn closed_by_server(mut s: TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // e.g. a 408 before the close
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn half_sent_and_silent_connections_are_closed_after_the_header_timeout() {
    let dir = data_dir("transport-timeout");
    let server = Server::start(&dir, &[("ZS_HEADER_TIMEOUT_MS", "500".to_owned())]);
    let mut conns = vec![];
    for i in 0..60 {
        let mut s = TcpStream::connect(addr(&server)).unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
        }
        conns.push(s);
    }
    for s in conns {
        assert!(
            closed_by_server(s, Duration::from_secs(10)),
            "a connection without a whole request stayed open 10 s"
        );
    }
    // A whole request is still answered, and the connection then idles out the same way.
    let mut s = TcpStream::connect(addr(&server)).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = vec![0u8; 64];
    let n = s.read(&mut got).unwrap();
    assert!(String::from_utf8_lossy(&got[..n]).starts_with("HTTP/1.1 200"));
    assert!(closed_by_server(s, Duration::from_secs(10)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_until_one_closes() {
    let dir = data_dir("transport-cap");
    let server = Server::start(
        &dir,
        &[
            ("ZS_MAX_CONNECTIONS", "3".to_owned()),
            ("ZS_HEADER_TIMEOUT_MS", "60000".to_owned()),
        ],
    );
    let held: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(addr(&server)).unwrap())
        .collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let healthz = server.url("/healthz");
    let waiting = client
        .get(&healthz)
        .timeout(Duration::from_secs(1))
        .send()
        .await;
    assert!(
        waiting.is_err(),
        "a fourth connection was served: {waiting:?}"
    );
    drop(held);
    let served = client
        .get(&healthz)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
}
