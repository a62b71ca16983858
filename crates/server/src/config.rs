//! Configuration: flags, or the `ZS_*` variables of CONTRACT §8 (flags win).

use std::net::SocketAddr;
use std::path::PathBuf;

/// `zs-scheduler serve` settings.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, env = "ZS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Embedded data directory (SQLite file, generated admin token).
    #[arg(long, env = "ZS_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The admin bearer token; generated on first start and kept in the data directory when unset.
    #[arg(long, env = "ZS_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Where status updates are POSTed.
    #[arg(long, env = "ZS_STATUS_URL")]
    pub status_url: Option<String>,
    /// `whsec_` secret signing the status posts.
    #[arg(long, env = "ZS_STATUS_SECRET", hide_env_values = true)]
    pub status_secret: Option<String>,
    /// Key sealing the webhook signing secrets in the database: 32 bytes in standard base64
    /// (`openssl rand -base64 32`). Unset: the data directory's `secret-key` file, generated
    /// on first start. Instances sharing a PostgreSQL database need the same key.
    #[arg(long, env = "ZS_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Let webhooks target private and loopback addresses.
    #[arg(long, env = "ZS_ALLOW_PRIVATE_WEBHOOKS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub allow_private_webhooks: bool,
    /// Use the Redis (BullMQ-compatible) queues.
    #[arg(long, env = "ZS_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// PostgreSQL for spaces, bookings, jobs and delivery logs (instead of the embedded file).
    #[arg(long, env = "ZS_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// PostgreSQL schema for zs-scheduler's tables (created if missing).
    #[arg(long, env = "ZS_DATABASE_SCHEMA")]
    pub database_schema: Option<String>,
    /// BullMQ lock duration (ms) of our Redis workers: a job held by an instance that died
    /// is taken over by another after this long; the stores' own runners also take over
    /// jobs Redis lost once they are this overdue.
    #[arg(long, env = "ZS_QUEUE_LOCK_MS", default_value_t = 30_000)]
    pub queue_lock_ms: u64,
    /// How many `meetingScheduler` jobs (timers and ingress) each instance runs at once.
    /// Ingress jobs for the same booking or space keep the order they were added in at any
    /// setting (docs/ingress.md); 1 also serialises jobs for unrelated bookings.
    #[arg(long, env = "ZS_QUEUE_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub queue_concurrency: u16,
    /// BullMQ key prefix.
    #[arg(long, env = "ZS_QUEUE_PREFIX", default_value = "bull")]
    pub queue_prefix: String,
    /// Webhook retry schedule: delays before each attempt (ms, s, m, h).
    #[arg(
        long,
        env = "ZS_WEBHOOK_RETRY",
        default_value = "0s,5s,5m,30m,2h,5h,10h,10h"
    )]
    pub webhook_retry: String,
    /// Status-post retry delays; the last one repeats until delivered.
    #[arg(long, env = "ZS_STATUS_RETRY", default_value = "0s,1s,5s,30s,2m,5m")]
    pub status_retry: String,
    /// How far ahead a series without COUNT or UNTIL is booked (ISO-8601 weeks, days, hours:
    /// `P90D`, `P26W`); extended as time passes.
    #[arg(long, env = "ZS_SERIES_HORIZON", default_value = "P90D")]
    pub series_horizon: String,
    /// How long a settled webhook delivery (delivered or failed) is kept, with its attempt
    /// log, after its last change (ISO-8601 weeks, days, hours: `P30D`, `PT12H`); `off`
    /// keeps every delivery for ever. Pending deliveries are never deleted.
    #[arg(long, env = "ZS_DELIVERY_RETENTION", default_value = "P30D")]
    pub delivery_retention: String,
    /// Per-attempt timeout of outbound HTTP, in milliseconds.
    #[arg(long, env = "ZS_HTTP_TIMEOUT_MS", default_value_t = 10_000)]
    pub http_timeout_ms: u64,
    /// Requests per second each token may make (all roles); 0 disables the limit.
    #[arg(long, env = "ZS_RATE_LIMIT", default_value_t = 100)]
    pub rate_limit: u32,
    /// Requests a token may make at once before the per-second rate applies (default: twice
    /// ZS_RATE_LIMIT).
    #[arg(long, env = "ZS_RATE_BURST")]
    pub rate_burst: Option<u32>,
    /// Failed authentications per second per client IP address (burst twice that); beyond
    /// them the address gets 429 until its allowance refills. 0 disables the limit.
    #[arg(long, env = "ZS_AUTH_FAILURE_LIMIT", default_value_t = 10)]
    pub auth_failure_limit: u32,
    /// Longest wait for a request's headers, in milliseconds; also how long an idle
    /// keep-alive connection stays open.
    #[arg(long, env = "ZS_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// Most HTTP connections open at once; more wait to be accepted.
    #[arg(long, env = "ZS_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
}
