//! The figures of a fault run (printed with `--no-capture`) and the problems found.

use jiff::Timestamp;
use std::collections::BTreeMap;

/// The figures of one run, and what was wrong.
#[derive(Debug, Default)]
pub struct Report {
    pub problems: Vec<String>,
    pub bookings_planned: usize,
    pub bookings_created: usize,
    pub lifecycles: BTreeMap<&'static str, usize>,
    pub unknown_acks: usize,
    pub transitions: usize,
    pub double_transitions: usize,
    pub timers_expected: usize,
    pub timers_fired: usize,
    pub timers_exact: usize,
    pub timers_late: usize,
    pub max_late_ms: i64,
    pub early: usize,
    pub posts_expected: usize,
    pub post_requests: usize,
    pub posts_unique: usize,
    pub posts_missing: usize,
    /// How long after its transition's instant each status post first arrived (ms).
    pub post_delays_ms: Vec<(Timestamp, i64)>,
    pub hooks_expected: usize,
    pub hook_requests: usize,
    pub hook_ids: usize,
    pub hooks_missing: usize,
    pub hooks_double: usize,
    pub log_entries: usize,
    pub log_delivered: usize,
    pub log_retried: usize,
    pub log_failed_attempts: usize,
    pub api_5xx: usize,
    pub api_503: usize,
    pub api_transport_errors: usize,
}

impl Report {
    /// Lost = expected transitions, posts or webhooks that never arrived.
    pub fn lost(&self) -> usize {
        self.posts_missing
            + self.hooks_missing
            + self.timers_expected.saturating_sub(self.timers_fired)
    }

    /// Median and maximum delay (ms) of the status posts of transitions in `[from, to)`.
    pub fn post_delays_between(&self, from: Timestamp, to: Timestamp) -> (usize, i64, i64) {
        let mut d: Vec<i64> = self
            .post_delays_ms
            .iter()
            .filter(|(at, _)| *at >= from && *at < to)
            .map(|x| x.1)
            .collect();
        d.sort_unstable();
        let median = d.get(d.len() / 2).copied().unwrap_or(0);
        (d.len(), median, d.last().copied().unwrap_or(0))
    }

    /// Prints the figures (visible with `--no-capture`).
    pub fn print(&self, label: &str) {
        let r = self;
        println!(
            "[{label}] bookings: planned {}, created {}, lifecycles {:?}, user actions settled by history {}",
            r.bookings_planned, r.bookings_created, r.lifecycles, r.unknown_acks
        );
        println!(
            "[{label}] transitions: {}, double transitions {}, sequences gapless: {}",
            r.transitions,
            r.double_transitions,
            !r.problems.iter().any(|p| p.contains("sequence"))
        );
        println!(
            "[{label}] timers: expected {}, fired {} (exact {}, late {}, max late {} ms), early {}",
            r.timers_expected,
            r.timers_fired,
            r.timers_exact,
            r.timers_late,
            r.max_late_ms,
            r.early
        );
        println!(
            "[{label}] status posts: expected {}, received {} requests, unique {}, duplicates {}, missing {}",
            r.posts_expected,
            r.post_requests,
            r.posts_unique,
            r.post_requests - r.posts_unique,
            r.posts_missing
        );
        let mut d: Vec<i64> = r.post_delays_ms.iter().map(|x| x.1).collect();
        d.sort_unstable();
        let pct = |q: usize| {
            d.get((d.len() * q / 100).min(d.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        };
        println!(
            "[{label}] status posts arrived after their transition's instant: median {} ms, p99 {} ms, max {} ms",
            pct(50),
            pct(99),
            d.last().copied().unwrap_or(0)
        );
        println!(
            "[{label}] webhooks: expected {}, received {} requests with {} ids (duplicates {}), missing {}, doubled {}; log: {} entries, {} delivered, {} retried, {} failed attempts",
            r.hooks_expected,
            r.hook_requests,
            r.hook_ids,
            r.hook_requests.saturating_sub(r.hook_ids),
            r.hooks_missing,
            r.hooks_double,
            r.log_entries,
            r.log_delivered,
            r.log_retried,
            r.log_failed_attempts
        );
        println!(
            "[{label}] api: 5xx (not 503) {}, 503 {}, transport errors {}; lost {}",
            r.api_5xx,
            r.api_503,
            r.api_transport_errors,
            r.lost()
        );
        for p in r.problems.iter().take(60) {
            println!("[{label}] PROBLEM: {p}");
        }
    }
}
