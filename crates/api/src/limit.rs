//! Rate limits: every authenticated request counts against its token (keyed by the token's
//! SHA-256), and failed authentications count against the client's IP address. Over a limit
//! the answer is 429 `rate_limited` with `Retry-After`.

use crate::error::ApiError;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Requests per second and burst of one limit; `per_second == 0` disables it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests allowed at once (a bucket of this size refilled at `per_second`).
    pub burst: u32,
}

impl Rate {
    /// `per_second` with a burst of `burst`, or twice the rate when `burst` is `None`.
    pub fn new(per_second: u32, burst: Option<u32>) -> Self {
        Self {
            per_second,
            burst: burst.unwrap_or(per_second.saturating_mul(2)),
        }
    }
    /// No limit.
    pub const OFF: Rate = Rate {
        per_second: 0,
        burst: 0,
    };
    fn quota(self) -> Option<Quota> {
        let rate = NonZeroU32::new(self.per_second)?;
        let burst = NonZeroU32::new(self.burst.max(1)).expect("at least one");
        Some(Quota::per_second(rate).allow_burst(burst))
    }
}

/// The limits of an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitConfig {
    /// Per token (all roles, the admin too).
    pub per_token: Rate,
    /// Failed authentications per client IP address.
    pub auth_failures_per_ip: Rate,
}

impl Default for LimitConfig {
    /// 100 requests/s per token (burst 200), 10 failed authentications/s per IP (burst 20).
    fn default() -> Self {
        Self {
            per_token: Rate::new(100, None),
            auth_failures_per_ip: Rate::new(10, None),
        }
    }
}

impl LimitConfig {
    /// No limits at all.
    pub const OFF: LimitConfig = LimitConfig {
        per_token: Rate::OFF,
        auth_failures_per_ip: Rate::OFF,
    };
}

/// Forget the state of keys idle long enough to be full again, every this many checks
/// (keeps the maps as small as the set of recently active tokens and addresses).
const SWEEP_EVERY: u64 = 4096;

/// One keyed limiter, or none when disabled.
struct Keyed<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(rate: Rate) -> Self {
        Self {
            limiter: rate.quota().map(DefaultKeyedRateLimiter::keyed),
            checks: AtomicU64::new(0),
        }
    }
    /// Takes one request from `key`'s allowance; `Err(wait)` when there is none left.
    fn take(&self, key: &K) -> Result<(), Duration> {
        let Some(l) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            l.retain_recent();
            l.shrink_to_fit();
        }
        l.check_key(key)
            .map_err(|not_until| not_until.wait_time_from(l.clock().now()))
    }
}

/// The rate limiters every handler shares.
pub struct Limits {
    tokens: Keyed<String>,
    failures: Keyed<IpAddr>,
    /// Addresses over their failure allowance, until when: answered 429 before any token
    /// lookup, so a client guessing tokens cannot make the store work for it.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

impl Limits {
    /// Limiters for `cfg`.
    pub fn new(cfg: LimitConfig) -> Self {
        Self {
            tokens: Keyed::new(cfg.per_token),
            failures: Keyed::new(cfg.auth_failures_per_ip),
            blocked: Mutex::default(),
        }
    }

    /// Counts an authenticated request against its token (by hash).
    pub fn token(&self, token_hash: &str) -> Result<(), ApiError> {
        self.tokens
            .take(&token_hash.to_owned())
            .map_err(|wait| limited(wait, "this token"))
    }

    /// Refuses a client whose failure allowance is spent, before its token is looked up.
    pub fn check_blocked(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(ip) = ip.map(client) else {
            return Ok(());
        };
        let mut blocked = self.blocked.lock().expect("blocked map");
        let now = Instant::now();
        match blocked.get(&ip) {
            Some(&until) if until > now => Err(limited(
                until - now,
                "failed authentications from your address",
            )),
            Some(_) => {
                blocked.remove(&ip);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Counts a failed authentication against the client's address: `unauthorized` while
    /// within the allowance, 429 beyond it. Without a known address (an app served without
    /// connection info) failures are not counted.
    pub fn failure(&self, ip: Option<IpAddr>, unauthorized: ApiError) -> ApiError {
        let Some(ip) = ip.map(client) else {
            return unauthorized;
        };
        match self.failures.take(&ip) {
            Ok(()) => unauthorized,
            Err(wait) => {
                let mut blocked = self.blocked.lock().expect("blocked map");
                let now = Instant::now();
                blocked.retain(|_, until| *until > now);
                blocked.insert(ip, now + wait);
                limited(wait, "failed authentications from your address")
            }
        }
    }
}

/// The client an address stands for: itself for IPv4, its /64 for IPv6 (one host usually
/// holds a whole /64, and could otherwise rotate through it).
fn client(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
    }
}

fn limited(wait: Duration, what: &str) -> ApiError {
    // Whole seconds, rounded up, at least one (RFC 9110 §10.2.3).
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let mut e = ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests for {what}; retry in {secs} s"),
    );
    e.retry_after = Some(secs);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_gets_its_burst_then_waits_whole_seconds() {
        let l = Limits::new(LimitConfig {
            per_token: Rate::new(1, Some(3)),
            auth_failures_per_ip: Rate::OFF,
        });
        for _ in 0..3 {
            l.token("a").unwrap();
        }
        let e = l.token("a").unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "rate_limited");
        assert_eq!(e.retry_after, Some(1));
        l.token("b").expect("another token has its own allowance");
    }

    #[test]
    fn zero_disables() {
        let l = Limits::new(LimitConfig::OFF);
        for _ in 0..10_000 {
            l.token("a").unwrap();
            let ip = Some(IpAddr::from([127, 0, 0, 1]));
            let e = l.failure(ip, ApiError::not_found("x"));
            assert_eq!(e.status, axum::http::StatusCode::NOT_FOUND);
            l.check_blocked(ip).unwrap();
        }
    }

    #[test]
    fn an_address_over_its_failures_is_blocked_before_lookup() {
        let l = Limits::new(LimitConfig {
            per_token: Rate::OFF,
            auth_failures_per_ip: Rate::new(1, Some(2)),
        });
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        let other = Some(IpAddr::from([10, 0, 0, 2]));
        for _ in 0..2 {
            let e = l.failure(ip, ApiError::not_found("x"));
            assert_eq!(e.status, axum::http::StatusCode::NOT_FOUND);
        }
        assert_eq!(l.failure(ip, ApiError::not_found("x")).code, "rate_limited");
        assert_eq!(l.check_blocked(ip).unwrap_err().retry_after, Some(1));
        l.check_blocked(other).unwrap();
        l.check_blocked(None).unwrap();
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let l = Limits::new(LimitConfig {
            per_token: Rate::OFF,
            auth_failures_per_ip: Rate::new(1, Some(1)),
        });
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(
            l.failure(Some(a), ApiError::not_found("x")).code,
            "not_found"
        );
        assert_eq!(
            l.failure(Some(same_64), ApiError::not_found("x")).code,
            "rate_limited"
        );
        l.check_blocked(Some(a)).unwrap_err();
        l.check_blocked(Some(other_64)).unwrap();
    }
}
