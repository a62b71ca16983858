//! `serve`: opens the store, starts the timer runner, the delivery workers and the API,
//! and shuts down gracefully on SIGTERM or Ctrl-C.

use crate::config::ServeArgs;
use anyhow::{Context, anyhow, bail};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use zs_api::limit::{LimitConfig, Limits, Rate};
use zs_api::{AppState, auth::token_hash};
use zs_delivery::{RetrySchedule, Sender, SenderConfig, WebhookSecret};
use zs_engine::{Engine, OutboundConfig};
use zs_store::Queue;
use zs_store::Store;

/// Logs to stderr, filtered by `ZS_LOG` (else by `default`).
pub(crate) fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ZS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// The admin token: the configured one, or the one kept in the data directory, or a new one
/// (written there with owner-only permissions and printed once).
fn admin_token(args: &ServeArgs) -> anyhow::Result<String> {
    if let Some(t) = args.admin_token.as_deref().filter(|t| !t.is_empty()) {
        return Ok(t.to_owned());
    }
    let path = args.data_dir.join("admin-token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        return Ok(t.trim().to_owned());
    }
    let token = zs_api::routes::tokens::new_token();
    write_private(&path, &token)?;
    println!(
        "zs-scheduler: generated admin token (kept in {}): {token}",
        path.display()
    );
    Ok(token)
}

/// Creates the data directory if needed and makes it the owner's alone (0700): it holds the
/// database with the webhook secrets and the generated admin token.
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private (0700)", dir.display()))?;
    }
    Ok(())
}

/// Opens (creating if needed) a file of the data directory readable by its owner only.
fn private_file(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let f = opts
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

fn write_private(path: &Path, s: &str) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(s.as_bytes())?;
    Ok(())
}

fn outbound(args: &ServeArgs) -> anyhow::Result<OutboundConfig> {
    let status_secret = args
        .status_secret
        .as_deref()
        .map(WebhookSecret::parse)
        .transpose()
        .context("ZS_STATUS_SECRET must be whsec_ followed by base64")?;
    let cfg_timeout = Duration::from_millis(args.http_timeout_ms.max(1));
    let cfg = SenderConfig {
        timeout: cfg_timeout,
        allow_private: args.allow_private_webhooks,
        ..SenderConfig::default()
    };
    // Status posts go to the operator's own core platform, typically on a private network.
    let status_sender = Sender::new(SenderConfig {
        allow_private: true,
        ..cfg.clone()
    })?;
    Ok(OutboundConfig {
        status_url: args.status_url.clone().filter(|u| !u.is_empty()),
        status_secret,
        webhook_retry: RetrySchedule::parse(&args.webhook_retry).context("ZS_WEBHOOK_RETRY")?,
        status_retry: RetrySchedule::parse(&args.status_retry).context("ZS_STATUS_RETRY")?,
        sender: Sender::new(cfg)?,
        status_sender,
        allow_private: args.allow_private_webhooks,
        // One attempt takes at most the timeout; twice that plus a margin covers the
        // bookkeeping around it.
        claim_lease: cfg_timeout * 2 + Duration::from_secs(5),
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// How long Redis may take to answer at start before `serve` gives up (PostgreSQL's first
/// connection has its own, shorter bound in the store): a wrong URL fails within 5 s.
const REDIS_FIRST_CONTACT: Duration = Duration::from_secs(4);

/// `url` with its password replaced by `***`: start-up errors print the URL they tried.
pub(crate) fn redact(url: &str) -> String {
    // Without a scheme, the whole string is read as `[user[:password]@]host…`.
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(scheme_end);
    // The last `@` before any query ends the user info, even when an unencoded password
    // holds a `/` (masking too much is fine, too little is not).
    let query = rest.find(['?', '#']).unwrap_or(rest.len());
    let (user_part, tail) = match rest[..query].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let (user, masked) = match userinfo.split_once(':') {
                Some((user, _)) => (user, ":***"),
                None => (userinfo, ""),
            };
            (format!("{user}{masked}"), &rest[at..])
        }
        None => (String::new(), rest),
    };
    // libpq-style `?password=…` too.
    let tail = match tail.find("password=") {
        Some(p) => {
            let value_end = tail[p..].find('&').map_or(tail.len(), |e| p + e);
            format!("{}password=***{}", &tail[..p], &tail[value_end..])
        }
        None => tail.to_owned(),
    };
    format!("{head}{user_part}{tail}")
}

/// One sentence for a store that would not open: where, which setting, why.
fn postgres_error(url: &str, e: zs_store::StoreError) -> anyhow::Error {
    let at = redact(url);
    match e {
        zs_store::StoreError::Unreachable(why) => {
            anyhow!("cannot reach PostgreSQL at {at} (ZS_DATABASE_URL): {why}")
        }
        other => anyhow!("PostgreSQL at {at} (ZS_DATABASE_URL): {other}"),
    }
}

/// `ZS_DELIVERY_RETENTION`: a duration, or `off` (`None`: keep every delivery).
fn delivery_retention(s: &str) -> anyhow::Result<Option<jiff::SignedDuration>> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let keep = zs_core::Limit::parse(s.trim())
        .map_err(|e| anyhow!("ZS_DELIVERY_RETENTION: {e}, or \"off\""))?;
    Ok(Some(keep.duration()))
}

/// Runs the service until a shutdown signal.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing("info,sqlx=warn");
    // Install the metrics recorder before anything records.
    zs_api::metrics_handle();
    let retention = delivery_retention(&args.delivery_retention)?;
    private_dir(&args.data_dir)?;
    let database_url = args.database_url.as_deref().filter(|u| !u.is_empty());
    // The embedded file allows one process; PostgreSQL allows as many as you like.
    let lock = private_file(&args.data_dir.join("lock"))?;
    if database_url.is_none() && lock.try_lock().is_err() {
        bail!(
            "another zs-scheduler is running on {}; one process per data directory",
            args.data_dir.display()
        );
    }
    // A Redis that is not there fails the start at once, in one line; an outage after the
    // start is retried by the queue connections.
    let redis_url = args.redis_url.as_deref().filter(|u| !u.is_empty());
    if let Some(url) = redis_url {
        zs_bullmq::reach::reachable(url, REDIS_FIRST_CONTACT)
            .await
            .map_err(|why| {
                anyhow!(
                    "cannot reach Redis at {} (ZS_REDIS_URL): {why}",
                    redact(url)
                )
            })?;
    }
    let store = match database_url {
        Some(url) => Store::connect_postgres(url, args.database_schema.as_deref())
            .await
            .map_err(|e| postgres_error(url, e))?,
        None => Store::open(&args.data_dir)
            .await
            .context("opening the embedded store")?,
    };
    let admin = admin_token(&args)?;
    let (key, key_source) = crate::secret_key::load(args.secret_key.as_deref(), &args.data_dir)?;
    let horizon = zs_core::Limit::parse(&args.series_horizon)
        .map_err(|e| anyhow!("ZS_SERIES_HORIZON: {e}"))?;
    let engine = Engine::with_secret_key(
        store.clone(),
        Arc::new(zs_core::SystemClock),
        outbound(&args)?,
        key,
    );
    engine.set_series_horizon(horizon.duration());
    let prepared = engine.prepare_secrets().await.map_err(|e| match e {
        zs_engine::secrets::PrepareError::WrongKey => anyhow!(
            "{key_source} is not the key this database's webhook secrets were sealed with; \
             start with that key (ZS_SECRET_KEY, or the data directory's secret-key file)"
        ),
        zs_engine::secrets::PrepareError::Store(e) => {
            anyhow::Error::new(e).context("checking the webhook secret key")
        }
    })?;
    if prepared.sealed > 0 {
        tracing::info!(
            sealed = prepared.sealed,
            "sealed webhook secrets stored in plaintext by an earlier version"
        );
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut workers = tokio::task::JoinSet::new();
    workers.spawn(engine.clone().timer_loop(stop_rx.clone()));
    workers.spawn(engine.clone().checkpoint_loop(stop_rx.clone()));
    workers.spawn(engine.clone().series_loop(stop_rx.clone()));
    workers.spawn(engine.clone().retention_loop(retention, stop_rx.clone()));
    workers.spawn(engine.clone().follow_other_instances(stop_rx.clone()));
    workers.spawn(
        engine
            .clone()
            .outbox_loop(Queue::StatusUpdates, stop_rx.clone()),
    );
    workers.spawn(
        engine
            .clone()
            .outbox_loop(Queue::WebhookDeliveries, stop_rx.clone()),
    );
    let mut probes: Vec<(&'static str, zs_api::Probe)> = vec![];
    let mut queue_depths: Option<zs_api::QueueDepths> = None;
    // The embedded store keeps the relay's index only while a relay runs on it.
    engine
        .relay_index(redis_url.is_some())
        .await
        .context("preparing the job queues' indexes")?;
    let ingress = match redis_url {
        Some(url) => {
            // Timers, status posts and webhooks become BullMQ jobs: the relay adds each plan
            // to its queue and the workers run them (meetingScheduler also takes ingress
            // jobs); the store's runners only catch what Redis lost (still overdue after
            // ZS_QUEUE_LOCK_MS, the same time a dead worker's job takes to be taken over).
            let mut producers = Vec::new();
            for queue in Queue::ALL {
                let p =
                    zs_bullmq::producer::Producer::connect(url, &args.queue_prefix, queue.as_str())
                        .await
                        .context("connecting to Redis (ZS_REDIS_URL)")?;
                producers.push((queue, p));
            }
            let redis = Arc::new(producers[0].1.probe());
            let probe: zs_api::Probe = Arc::new(move || {
                let redis = redis.clone();
                Box::pin(async move { redis.ping().await })
            });
            probes.push(("redis", probe));
            // The queues live in Redis now: /metrics counts them there.
            let counts = Arc::new(
                zs_bullmq::depth::QueueCounts::new(
                    url,
                    &args.queue_prefix,
                    &Queue::ALL.map(Queue::as_str),
                )
                .map_err(anyhow::Error::msg)
                .context("ZS_REDIS_URL")?,
            );
            queue_depths = Some(Arc::new(move || {
                let counts = counts.clone();
                Box::pin(async move { counts.count().await })
            }));
            let lock_ms = args.queue_lock_ms.max(1000);
            engine.set_fallback_lag(Duration::from_millis(lock_ms));
            workers.spawn(zs_bullmq::scheduler::relay_loop(
                engine.clone(),
                producers,
                stop_rx.clone(),
            ));
            let deliveries =
                zs_bullmq::start_delivery_workers(engine.clone(), url, &args.queue_prefix, lock_ms)
                    .await
                    .context("starting the Redis delivery workers")?;
            let w = zs_bullmq::start_scheduler_worker(
                engine.clone(),
                url,
                &args.queue_prefix,
                lock_ms,
                usize::from(args.queue_concurrency),
            )
            .await
            .context("starting the Redis queue worker")?;
            tracing::info!(prefix = %args.queue_prefix, "timers, ingress, status posts and webhooks on Redis queues");
            Some((w, deliveries))
        }
        None => None,
    };
    let app = zs_api::app(AppState {
        engine: engine.clone(),
        admin_token_hash: token_hash(&admin),
        probes,
        queue_depths,
        limits: Arc::new(Limits::new(LimitConfig {
            per_token: Rate::new(args.rate_limit, args.rate_burst),
            auth_failures_per_ip: Rate::new(args.auth_failure_limit, None),
        })),
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("zs-scheduler listening on http://{addr}");
    tracing::info!(%addr, data_dir = %args.data_dir.display(), "serving");
    let limits = crate::http::HttpLimits {
        header_timeout: Duration::from_millis(args.header_timeout_ms.max(1)),
        max_connections: args.max_connections,
        grace: Duration::from_secs(10),
    };
    crate::http::serve(listener, app, limits, shutdown_signal()).await;
    tracing::info!("shutting down: finishing in-flight work");
    if let Some((w, deliveries)) = &ingress {
        w.close(10_000).await;
        for d in deliveries {
            d.close(10_000).await;
        }
    }
    let _ = stop_tx.send(true);
    let drain = async { while workers.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(20), drain)
        .await
        .is_err()
    {
        tracing::warn!(
            "workers did not finish in 20 s; leased jobs will be retried on the next start"
        );
    }
    store.close().await;
    drop(lock);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_passwords_and_keeps_the_rest() {
        let cases = [
            ("redis://:sekret@127.0.0.1:1", "redis://:***@127.0.0.1:1"),
            (
                "postgres://app:p%40ss@db.example:5432/zs?sslmode=require",
                "postgres://app:***@db.example:5432/zs?sslmode=require",
            ),
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
            ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
            (
                "postgres://h/db?user=a&password=hunter2&x=1",
                "postgres://h/db?user=a&password=***&x=1",
            ),
            ("localhost:6379", "localhost:6379"),
            (
                "redis://:pa/ss@127.0.0.1:6379/0",
                "redis://:***@127.0.0.1:6379/0",
            ),
            ("app:pw@db:5432/zs", "app:***@db:5432/zs"),
        ];
        for (url, want) in cases {
            assert_eq!(redact(url), want, "{url}");
        }
    }
}
