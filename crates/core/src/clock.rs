//! The clock every piece of logic reads, so tests and the simulator can drive time.

use jiff::Timestamp;
use std::sync::{Arc, Mutex};

/// A source of "now". Production uses [`SystemClock`]; tests use [`ManualClock`].
pub trait Clock: Send + Sync + 'static {
    /// The current instant, truncated to the millisecond (the precision we store).
    fn now(&self) -> Timestamp;
    /// The current instant with the clock's full precision (for sleeping exactly).
    fn now_precise(&self) -> Timestamp {
        self.now()
    }
}

/// Truncates an instant to whole milliseconds.
pub fn to_millis(t: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(t.as_millisecond()).expect("in range")
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        to_millis(Timestamp::now())
    }
    fn now_precise(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    /// A clock standing at `t`.
    pub fn new(t: Timestamp) -> Self {
        Self(Arc::new(Mutex::new(to_millis(t))))
    }
    /// Moves the clock to `t` (it may also move backwards: a clock that jumps).
    pub fn set(&self, t: Timestamp) {
        *self.0.lock().expect("clock lock") = to_millis(t);
    }
    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: jiff::SignedDuration) {
        let mut g = self.0.lock().expect("clock lock");
        *g = to_millis(g.checked_add(d).expect("clock overflow"));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let t0: Timestamp = "2026-01-01T00:00:00.123456Z".parse().unwrap();
        let c = ManualClock::new(t0);
        assert_eq!(c.now().as_millisecond(), t0.as_millisecond());
        assert_eq!(c.now().subsec_nanosecond() % 1_000_000, 0);
        c.advance(jiff::SignedDuration::from_secs(5));
        assert_eq!(c.now().as_millisecond(), t0.as_millisecond() + 5000);
    }

    #[test]
    fn system_clock_is_millisecond_truncated() {
        assert_eq!(SystemClock.now().subsec_nanosecond() % 1_000_000, 0);
    }
}
