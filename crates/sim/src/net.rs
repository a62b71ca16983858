//! The virtual network: receivers that answer as the plan says (up, failing, timing out,
//! gone), and remember what they were sent. Requests reach it through the engine's real
//! outbound path ([`zs_delivery::Sender::simulated`]): signing, URL checks, retry rules.

use crate::plan::{Mode, RECEIVERS};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use zs_delivery::{AttemptOutcome, Transport};

/// What the receivers saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Webhook ids acknowledged with a 2xx, with how often.
    pub webhooks: HashMap<String, u32>,
    /// Status posts acknowledged, per space, in arrival order (sequence numbers).
    pub status: HashMap<String, Vec<u64>>,
    /// Requests that reached a receiver, answered or not.
    pub requests: u64,
}

#[derive(Default)]
struct State {
    modes: HashMap<String, Mode>,
    seen: Seen,
    hang: Option<oneshot::Sender<()>>,
}

/// The receivers.
#[derive(Clone, Default)]
pub struct Net(Arc<Mutex<State>>);

impl Net {
    /// All receivers up, except the one that is always gone.
    pub fn new() -> Self {
        let net = Net::default();
        for r in RECEIVERS {
            net.set(r, Mode::Up);
        }
        net.set(RECEIVERS[3], Mode::Gone);
        net
    }

    /// Sets how `host` answers.
    pub fn set(&self, host: &str, mode: Mode) {
        self.lock().modes.insert(host.to_owned(), mode);
    }

    /// Brings every receiver back up (except the one that is always gone).
    pub fn all_up(&self) {
        for r in &RECEIVERS[..3] {
            self.set(r, Mode::Up);
        }
    }

    /// The next request is received and then never answered: the sender hangs until the
    /// process dies. Resolves once that request arrived.
    pub fn hang_next(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.lock().hang = Some(tx);
        rx
    }

    /// Cancels a [`Net::hang_next`] that found no request.
    pub fn no_hang(&self) {
        self.lock().hang = None;
    }

    /// A look at what was received.
    pub fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.lock().seen)
    }

    /// Forgets the webhook ids of deliveries checked and deleted: the memory of what was
    /// received stays as small as the store's. One of them received again is then an id no
    /// delivery has, which the final checks catch.
    pub fn forget_webhooks(&self, ids: &[String]) {
        let mut st = self.lock();
        for id in ids {
            st.seen.webhooks.remove(id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The host of an `http(s)://host[:port]/…` URL.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', ':', '?']).unwrap_or(rest.len());
    rest[..end].to_ascii_lowercase()
}

fn outcome(status: Option<u16>, error: Option<&str>) -> AttemptOutcome {
    AttemptOutcome {
        success: status.is_some_and(|s| (200..300).contains(&s)),
        status,
        error: error.map(str::to_owned),
        duration_ms: 0,
        permanent: false,
    }
}

impl Transport for Net {
    fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = AttemptOutcome> + Send>> {
        let host = host_of(url);
        let mut st = self.lock();
        st.seen.requests += 1;
        let mode = st.modes.get(&host).copied().unwrap_or(Mode::Failing);
        let ack = |st: &mut State| {
            if host == RECEIVERS[0] {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let space = v["spaceId"].as_str().unwrap_or("?").to_owned();
                let seq = v["sequence"].as_u64().unwrap_or(0);
                st.seen.status.entry(space).or_default().push(seq);
            } else if let Some((_, id)) = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("webhook-id"))
            {
                *st.seen.webhooks.entry(id.clone()).or_default() += 1;
            }
        };
        if let Some(hang) = st.hang.take() {
            // Received and processed by the receiver; the answer never comes back.
            if mode == Mode::Up {
                ack(&mut st);
            }
            let _ = hang.send(());
            return Box::pin(std::future::pending());
        }
        let out = match mode {
            Mode::Up => {
                ack(&mut st);
                outcome(Some(200), None)
            }
            Mode::Failing => outcome(Some(500), Some("HTTP 500")),
            Mode::TimingOut => outcome(None, Some("timeout: no response")),
            Mode::Gone => outcome(Some(410), Some("HTTP 410")),
        };
        Box::pin(std::future::ready(out))
    }
}
