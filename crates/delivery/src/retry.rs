//! The retry schedule: how long to wait before each delivery attempt.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::DeliveryError;

/// Delays before each attempt; entry `n - 1` is the delay before attempt `n`.
///
/// Always non-empty. The first entry is usually zero (deliver immediately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    /// Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (8 attempts).
    fn default() -> Self {
        const MIN: u64 = 60;
        const HOUR: u64 = 60 * MIN;
        let secs = [
            0,
            5,
            5 * MIN,
            30 * MIN,
            2 * HOUR,
            5 * HOUR,
            10 * HOUR,
            10 * HOUR,
        ];
        Self(secs.into_iter().map(Duration::from_secs).collect())
    }
}

impl RetrySchedule {
    /// Builds a schedule from explicit delays; errors when `delays` is empty.
    pub fn from_delays(delays: Vec<Duration>) -> Result<Self, DeliveryError> {
        if delays.is_empty() {
            return Err(DeliveryError::InvalidSchedule(
                "at least one attempt is required".into(),
            ));
        }
        Ok(Self(delays))
    }

    /// Parses a comma-separated list such as `"0s,5s,5m,30m,2h"` (units `ms`, `s`, `m`, `h`).
    pub fn parse(s: &str) -> Result<Self, DeliveryError> {
        let delays = s
            .split(',')
            .map(|entry| parse_delay(entry.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_delays(delays)
    }

    /// Delay before the 1-based `attempt`; `None` for attempt 0 or when attempts are exhausted.
    pub fn delay_before(&self, attempt: u32) -> Option<Duration> {
        let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
        self.0.get(index).copied()
    }

    /// Total number of attempts, including the first.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX)
    }

    /// All delays, in attempt order.
    pub fn delays(&self) -> &[Duration] {
        &self.0
    }
}

/// Parses one entry: decimal digits followed by `ms`, `s`, `m` or `h`.
fn parse_delay(entry: &str) -> Result<Duration, DeliveryError> {
    let bad = || {
        DeliveryError::InvalidSchedule(format!(
            "bad entry {entry:?}: expected <number><ms|s|m|h>, e.g. \"0s,5s,5m,30m,2h\""
        ))
    };
    let split = entry.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (digits, unit) = entry.split_at(split);
    if digits.is_empty() {
        return Err(bad());
    }
    let value: u64 = digits.parse().map_err(|_| bad())?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    let millis = value.checked_mul(millis_per_unit).ok_or_else(bad)?;
    Ok(Duration::from_millis(millis))
}

impl FromStr for RetrySchedule {
    type Err = DeliveryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for RetrySchedule {
    /// Writes the schedule in the form accepted by [`RetrySchedule::parse`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, delay) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let ms = delay.as_millis();
            match ms {
                0 => f.write_str("0s")?,
                _ if ms % 3_600_000 == 0 => write!(f, "{}h", ms / 3_600_000)?,
                _ if ms % 60_000 == 0 => write!(f, "{}m", ms / 60_000)?,
                _ if ms % 1_000 == 0 => write!(f, "{}s", ms / 1_000)?,
                _ => write!(f, "{ms}ms")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn default_schedule() {
        let s = RetrySchedule::default();
        assert_eq!(s.max_attempts(), 8);
        assert_eq!(s.delay_before(1), Some(Duration::ZERO));
        assert_eq!(s.delay_before(2), Some(secs(5)));
        assert_eq!(s.delay_before(3), Some(secs(300)));
        assert_eq!(s.delay_before(4), Some(secs(1800)));
        assert_eq!(s.delay_before(5), Some(secs(7200)));
        assert_eq!(s.delay_before(6), Some(secs(18000)));
        assert_eq!(s.delay_before(7), Some(secs(36000)));
        assert_eq!(s.delay_before(8), Some(secs(36000)));
        assert_eq!(s.delay_before(9), None);
        assert_eq!(s.delay_before(0), None);
        assert_eq!(s.delay_before(u32::MAX), None);
    }

    #[test]
    fn parse_units() {
        let s = RetrySchedule::parse("0s, 250ms,5s,5m ,30m,2h").unwrap();
        assert_eq!(
            s.delays(),
            [
                Duration::ZERO,
                Duration::from_millis(250),
                secs(5),
                secs(300),
                secs(1800),
                secs(7200)
            ]
        );
        assert_eq!(s.max_attempts(), 6);
        assert_eq!("1m".parse::<RetrySchedule>().unwrap().delays(), [secs(60)]);
    }

    #[test]
    fn parse_errors_explain_the_format() {
        for bad in [
            "",
            "5",
            "s",
            "5x",
            "-5s",
            "1.5s",
            "5s,,5s",
            "5 s",
            "99999999999999999999h",
        ] {
            let err = RetrySchedule::parse(bad).unwrap_err();
            assert!(matches!(err, DeliveryError::InvalidSchedule(_)), "{bad}");
            assert!(err.to_string().contains("ms|s|m|h"), "{bad}: {err}");
        }
        let overflow = RetrySchedule::parse("18446744073709551615h").unwrap_err();
        assert!(matches!(overflow, DeliveryError::InvalidSchedule(_)));
    }

    #[test]
    fn display_roundtrips() {
        let default = RetrySchedule::default();
        assert_eq!(default.to_string(), "0s,5s,5m,30m,2h,5h,10h,10h");
        assert_eq!(RetrySchedule::parse(&default.to_string()).unwrap(), default);
        let odd = RetrySchedule::parse("1500ms,90s,0ms").unwrap();
        assert_eq!(odd.to_string(), "1500ms,90s,0s");
    }

    #[test]
    fn from_delays_requires_one_attempt() {
        assert!(RetrySchedule::from_delays(vec![]).is_err());
        assert_eq!(
            RetrySchedule::from_delays(vec![secs(1)])
                .unwrap()
                .max_attempts(),
            1
        );
    }
}
