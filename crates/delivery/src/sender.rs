//! The HTTP sender: one POST attempt to a subscriber, reduced to an [`AttemptOutcome`].

use std::error::Error as StdError;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::CONTENT_TYPE;
use reqwest::redirect::Policy;
use serde::{Deserialize, Serialize};

use crate::DeliveryError;
use crate::ssrf::{GuardedResolver, check_url};

/// Longest connect timeout, whatever the per-attempt timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest error text kept in an outcome.
const MAX_ERROR_LEN: usize = 200;

/// Settings for [`Sender`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderConfig {
    /// Whole-attempt timeout (connect, send, and receive the response head).
    pub timeout: Duration,
    /// Allow private/loopback/special-purpose targets (tests, on-premise setups).
    pub allow_private: bool,
    /// `User-Agent` header value.
    pub user_agent: String,
}

impl Default for SenderConfig {
    /// 10 s timeout, private targets refused, `zs-scheduler/0.1`.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            allow_private: false,
            user_agent: "zs-scheduler/0.1".to_owned(),
        }
    }
}

/// Result of one delivery attempt. Never carries secrets or full URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptOutcome {
    /// A 2xx response arrived within the timeout.
    pub success: bool,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Short description of the failure, if any.
    pub error: Option<String>,
    /// Wall-clock duration of the attempt.
    pub duration_ms: u64,
    /// Retrying cannot help (invalid URL, target refused by the SSRF guard).
    pub permanent: bool,
}

impl AttemptOutcome {
    fn failure(started: Instant, status: Option<u16>, error: String, permanent: bool) -> Self {
        Self {
            success: false,
            status,
            error: Some(truncate(error)),
            duration_ms: elapsed_ms(started),
            permanent,
        }
    }
}

/// A network other than the real one: the deterministic simulator's virtual receivers.
/// Gets the same requests [`Sender::post`] would send, and answers with an outcome.
pub trait Transport: Send + Sync + 'static {
    /// Delivers one POST; may never resolve (a receiver that hangs until the process dies).
    fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = AttemptOutcome> + Send>>;
}

/// Outbound webhook client: no proxy, no redirects, SSRF-guarded DNS, bounded time.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
    transport: Option<Arc<dyn Transport>>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("allow_private", &self.allow_private)
            .field("timeout", &self.timeout)
            .field("simulated", &self.transport.is_some())
            .finish()
    }
}

impl Sender {
    /// Builds the client; fails on a zero timeout or when the TLS backend cannot initialise.
    pub fn new(cfg: SenderConfig) -> Result<Self, DeliveryError> {
        if cfg.timeout.is_zero() {
            return Err(DeliveryError::Client("timeout must be positive".into()));
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(Policy::none())
            .dns_resolver(GuardedResolver {
                allow_private: cfg.allow_private,
            })
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(MAX_CONNECT_TIMEOUT))
            .user_agent(cfg.user_agent)
            .build()
            .map_err(|e| DeliveryError::Client(root_cause(&e)))?;
        Ok(Self {
            client,
            allow_private: cfg.allow_private,
            timeout: cfg.timeout,
            transport: None,
        })
    }

    /// A sender whose requests go to `transport` instead of the network (the simulator);
    /// URLs are still checked as for a real send.
    pub fn simulated(
        cfg: SenderConfig,
        transport: Arc<dyn Transport>,
    ) -> Result<Self, DeliveryError> {
        Ok(Self {
            transport: Some(transport),
            ..Self::new(cfg)?
        })
    }

    /// POSTs `body` as `application/json` with the extra `headers`; never panics.
    ///
    /// A caller-supplied `content-type` is replaced. Redirects are reported, not followed.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> AttemptOutcome {
        let started = Instant::now();
        let url = match check_url(url, self.allow_private) {
            Ok(url) => url,
            Err(e) => return AttemptOutcome::failure(started, None, e.to_string(), true),
        };
        if let Some(t) = &self.transport {
            return t.post(url.as_str(), headers, body).await;
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        let mut request = self.client.post(url).body(body);
        for (name, value) in headers {
            if !name.eq_ignore_ascii_case(CONTENT_TYPE.as_str()) {
                request = request.header(*name, value.as_str());
            }
        }
        let request = request.header(CONTENT_TYPE, "application/json");
        let outcome = match request.send().await {
            Ok(response) => Self::judge_status(started, response.status().as_u16()),
            Err(e) => self.judge_error(started, &e),
        };
        tracing::debug!(
            host,
            status = outcome.status,
            success = outcome.success,
            duration_ms = outcome.duration_ms,
            error = outcome.error.as_deref(),
            "webhook delivery attempt"
        );
        outcome
    }

    fn judge_status(started: Instant, status: u16) -> AttemptOutcome {
        match status {
            200..=299 => AttemptOutcome {
                success: true,
                status: Some(status),
                error: None,
                duration_ms: elapsed_ms(started),
                permanent: false,
            },
            300..=399 => AttemptOutcome::failure(
                started,
                Some(status),
                "redirect not followed".into(),
                false,
            ),
            _ => AttemptOutcome::failure(started, Some(status), format!("HTTP {status}"), false),
        }
    }

    fn judge_error(&self, started: Instant, e: &reqwest::Error) -> AttemptOutcome {
        if let Some(refused) = find_delivery_error(e) {
            return AttemptOutcome::failure(started, None, refused.to_string(), true);
        }
        let (text, permanent) = if e.is_timeout() {
            let ms = self.timeout.as_millis();
            (format!("timeout: no response within {ms} ms"), false)
        } else if e.is_builder() {
            (format!("invalid request: {}", root_cause(e)), true)
        } else if e.is_connect() {
            (format!("connection failed: {}", root_cause(e)), false)
        } else {
            (format!("request failed: {}", root_cause(e)), false)
        };
        AttemptOutcome::failure(started, e.status().map(|s| s.as_u16()), text, permanent)
    }
}

/// Our own error (e.g. the resolver's refusal) somewhere in the source chain.
fn find_delivery_error<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a DeliveryError> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(ours) = err.downcast_ref::<DeliveryError>() {
            return Some(ours);
        }
        current = err.source();
    }
    None
}

/// The innermost cause's message: specific, and free of the URL reqwest adds at the top.
/// In plain words: `Connection refused (os error 111)` becomes `connection refused`.
fn root_cause(e: &(dyn StdError + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    plain(current.to_string())
}

/// Drops the OS error number and lowers the first letter of an I/O error's text.
fn plain(mut text: String) -> String {
    if let Some(at) = text.find(" (os error") {
        text.truncate(at);
    }
    let mut chars = text.chars();
    match chars.next() {
        Some(first)
            if first.is_uppercase() && chars.clone().next().is_some_and(char::is_lowercase) =>
        {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text,
    }
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_ERROR_LEN {
        let mut cut = MAX_ERROR_LEN;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn io_errors_read_as_plain_words() {
        assert_eq!(
            plain("Connection refused (os error 111)".into()),
            "connection refused"
        );
        assert_eq!(plain("HTTP 500".into()), "HTTP 500");
        assert_eq!(plain("dns error: no record".into()), "dns error: no record");
    }
}
