//! The load: a fixed set of keep-alive HTTP/1.1 connections, each driven by its own task,
//! taking the next request of a phase as soon as its previous one is answered (closed loop),
//! and timing every request from send to the last byte of its answer.

use anyhow::Context;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, body::Body};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One request of a phase: method-less POST path and JSON body (empty for bodyless routes).
pub struct Call {
    pub path: String,
    pub body: String,
}

/// Builds the `i`-th request of a phase.
pub type MakeCall = Arc<dyn Fn(usize) -> Call + Send + Sync>;

/// What one phase measured.
#[derive(Debug, Clone)]
pub struct Measured {
    pub requests: usize,
    pub wall: Duration,
    /// Latency of every answered request, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Requests answered with the expected status.
    pub ok: usize,
    /// Requests answered with another status than expected, or not answered at all.
    pub errors: usize,
    /// The first few unexpected answers, for the report.
    pub samples: Vec<String>,
}

/// An open connection with what each request needs in its headers.
pub struct Conn {
    send: SendRequest<String>,
    addr: SocketAddr,
}

/// Opens `n` connections to `addr`.
pub async fn connect_all(addr: SocketAddr, n: usize) -> anyhow::Result<Vec<Conn>> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        conns.push(Conn {
            send: connect(addr).await?,
            addr,
        });
    }
    Ok(conns)
}

async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<String>> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (send, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(send)
}

/// Sends `n` requests made by `make` over `conns` (all of them at once), each expected to be
/// answered `expect`.
pub async fn phase(
    conns: &mut Vec<Conn>,
    token: &str,
    n: usize,
    expect: u16,
    make: MakeCall,
) -> Measured {
    let next = Arc::new(AtomicUsize::new(0));
    let auth: Arc<str> = format!("Bearer {token}").into();
    let started = Instant::now();
    let tasks: Vec<_> = conns
        .drain(..)
        .map(|conn| {
            let (next, make, auth) = (next.clone(), make.clone(), auth.clone());
            tokio::spawn(drive(conn, next, n, expect, make, auth))
        })
        .collect();
    let mut m = Measured {
        requests: n,
        wall: Duration::ZERO,
        latencies_us: Vec::with_capacity(n),
        ok: 0,
        errors: 0,
        samples: vec![],
    };
    for t in tasks {
        // A task only ends by returning: it catches its own errors.
        let Ok((conn, part)) = t.await else { continue };
        conns.extend(conn);
        m.latencies_us.extend(part.latencies_us);
        m.ok += part.ok;
        m.samples.extend(part.samples);
    }
    m.wall = started.elapsed();
    // Counted this way, requests no worker got to (all connections broke) are errors too.
    m.errors = n - m.ok;
    m.samples.truncate(5);
    m
}

/// One connection's share of a phase; returns the connection unless it broke for good.
async fn drive(
    mut conn: Conn,
    next: Arc<AtomicUsize>,
    n: usize,
    expect: u16,
    make: MakeCall,
    auth: Arc<str>,
) -> (Option<Conn>, Measured) {
    let mut m = Measured {
        requests: 0,
        wall: Duration::ZERO,
        latencies_us: vec![],
        ok: 0,
        errors: 0,
        samples: vec![],
    };
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            return (Some(conn), m);
        }
        let call = make(i);
        let t0 = Instant::now();
        match send(&mut conn, &auth, &call).await {
            Ok((status, _)) if status == expect => {
                m.latencies_us.push(t0.elapsed().as_micros() as u64);
                m.ok += 1;
            }
            Ok((status, body)) => {
                m.latencies_us.push(t0.elapsed().as_micros() as u64);
                m.errors += 1;
                if m.samples.len() < 5 {
                    m.samples
                        .push(format!("POST {} -> {status} {body}", call.path));
                }
            }
            Err(e) => {
                m.errors += 1;
                if m.samples.len() < 5 {
                    m.samples.push(format!("POST {} -> {e:#}", call.path));
                }
                // The connection may be gone: open a new one, or stop this worker.
                match connect(conn.addr).await {
                    Ok(s) => conn.send = s,
                    Err(_) => return (None, m),
                }
            }
        }
    }
}

async fn send(conn: &mut Conn, auth: &str, call: &Call) -> anyhow::Result<(u16, String)> {
    let mut req = Request::post(call.path.as_str())
        .header("host", conn.addr.to_string())
        .header("authorization", auth);
    if !call.body.is_empty() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(call.body.clone())?;
    conn.send.ready().await?;
    let resp = conn.send.send_request(req).await?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame?.into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}
