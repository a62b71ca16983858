//! Outbound HTTP: Standard Webhooks signing, the SSRF guard, the retry schedule and the sender.
//!
//! This crate is deliberately independent of the domain crates: it knows how to sign a
//! payload, decide whether a target may be contacted, when to retry, and how to POST once.

pub mod retry;
pub mod sealing;
pub mod sender;
pub mod signing;
pub mod ssrf;

pub use retry::RetrySchedule;
pub use sealing::{SealError, SecretKey};
pub use sender::{AttemptOutcome, Sender, SenderConfig, Transport};
pub use signing::{WebhookSecret, sign, signed_headers};
pub use ssrf::{GuardedResolver, check_target, check_url, is_forbidden_ip};

/// Errors raised while preparing or performing an outbound delivery.
///
/// Messages are short and never contain secrets or full target URLs.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// The webhook secret is not `whsec_<base64>` with 24–64 decoded bytes.
    #[error("invalid webhook secret: expected whsec_<base64> encoding 24 to 64 bytes")]
    InvalidSecret,
    /// The target URL is malformed or not acceptable (scheme, host, credentials).
    #[error("invalid url: {0}")]
    InvalidUrl(String),
    /// The target resolves to (or is) an address the SSRF guard refuses. The message says
    /// which setting lets such targets through.
    #[error(
        "forbidden target: {0}; private and loopback targets are refused unless the server \
         runs with ZS_ALLOW_PRIVATE_WEBHOOKS=true (or --allow-private-webhooks)"
    )]
    ForbiddenTarget(String),
    /// A retry schedule string could not be parsed.
    #[error("invalid retry schedule: {0}")]
    InvalidSchedule(String),
    /// The HTTP client could not be built.
    #[error("http client error: {0}")]
    Client(String),
}
