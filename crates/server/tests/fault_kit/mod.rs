//! The fault tests' kit: a seeded load of bookings ([`plan`]), a fleet of real
//! `zs-scheduler` processes that can be killed and restarted ([`fleet`]), a driver that
//! sends the load through whichever instance is up ([`driver`]), a private Redis
//! ([`redis`]), and the audit that compares what happened with what had to ([`audit`],
//! [`outbound`]).

pub mod audit;
pub mod driver;
pub mod fleet;
pub mod outbound;
pub mod plan;
pub mod redis;
pub mod report;

use crate::support::{Api, Receiver};
use driver::{Acks, ApiStats};
use plan::{Plan, ms};
use report::Report;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The settings every fault test runs with: status posts to `status`, fast retries, a 1 s
/// send timeout, loopback webhooks allowed, no rate limit.
pub fn base_env(status: &Receiver, webhook_retry: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ZS_STATUS_URL", status.url()),
        ("ZS_STATUS_RETRY", "0s,200ms,500ms,1s".to_owned()),
        ("ZS_WEBHOOK_RETRY", webhook_retry.to_owned()),
        ("ZS_HTTP_TIMEOUT_MS", "1000".to_owned()),
        ("ZS_ALLOW_PRIVATE_WEBHOOKS", "true".to_owned()),
        // The audit reads every booking at once with one token; 429s are not under test here.
        ("ZS_RATE_LIMIT", "0".to_owned()),
    ]
}

/// A webhook schedule that outlasts any outage of the tests (0 s, then 1 s for a minute).
pub fn patient_retry() -> String {
    let mut s = vec!["0s", "200ms", "500ms"];
    s.extend(std::iter::repeat_n("1s", 60));
    s.join(",")
}

/// Creates the plan's spaces and one webhook endpoint per booking type (to `hooks_url`)
/// through `base`; returns the endpoint ids.
pub async fn setup(base: &str, plan: &Plan, hooks_url: &str) -> Vec<String> {
    let api = Api::new(base);
    for sp in &plan.spaces {
        let (st, v) = api.post("/v1/spaces", sp.body()).await;
        assert_eq!(st, 201, "{v}");
    }
    // One endpoint per booking webhook type, so no delivery log (200 newest per endpoint)
    // overflows in CI.
    let mut ids = vec![];
    for t in zs_core::notice::booking_webhook_types() {
        let (st, ep) = api
            .post(
                "/v1/webhooks",
                serde_json::json!({"url": hooks_url, "events": [t]}),
            )
            .await;
        assert_eq!(st, 201, "{ep}");
        ids.push(ep["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// Fresh API statistics.
pub fn stats() -> Arc<Mutex<ApiStats>> {
    Arc::default()
}

/// Kill count for the SIGKILL loops: `ZS_SOAK_KILLS`, default 20.
pub fn kills_from_env() -> usize {
    std::env::var("ZS_SOAK_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

/// A plan whose spaces and webhook endpoints exist ([`Load::prepare`]), ready to be sent.
pub struct Prepared {
    plan: Plan,
    endpoints: Vec<String>,
}

/// A plan sent through a fleet: what the audit compares with what happened.
pub struct Load {
    pub plan: Plan,
    /// What the API acknowledged.
    pub acks: Vec<Acks>,
    /// The webhook endpoints' ids.
    pub endpoints: Vec<String>,
    pub api_stats: Arc<Mutex<ApiStats>>,
}

impl Load {
    /// Creates the plan's spaces and webhook endpoints (to `hooks_url`) through `base`.
    pub async fn prepare(plan: Plan, base: &str, hooks_url: &str) -> Prepared {
        let endpoints = setup(base, &plan, hooks_url).await;
        Prepared { plan, endpoints }
    }

    /// Audits until nothing is wrong or `within` has passed ([`audit::settle`], through
    /// whichever instance `pick` names) and prints the report under `label`.
    pub async fn settle(
        &self,
        pick: impl Fn() -> Option<String>,
        status: &Receiver,
        hooks: &Receiver,
        within: Duration,
        label: &str,
    ) -> Report {
        let ev = audit::Evidence {
            plan: &self.plan,
            acks: &self.acks,
            status,
            hooks,
            endpoints: &self.endpoints,
            api_stats: &self.api_stats,
        };
        let report = audit::settle(pick, &ev, within).await;
        report.print(label);
        report
    }
}

impl Prepared {
    /// Sends the plan through `pool` while `fault` runs, then waits until the plan's last
    /// booking is over.
    pub async fn drive(self, pool: fleet::Pool, fault: impl Future<Output = ()>) -> Load {
        let api_stats = stats();
        let (acks, ()) = tokio::join!(driver::drive(&self.plan, pool, api_stats.clone()), fault);
        driver::sleep_until(self.plan.all_done_at() + ms(500)).await;
        Load {
            plan: self.plan,
            acks,
            endpoints: self.endpoints,
            api_stats,
        }
    }
}
