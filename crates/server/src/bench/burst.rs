//! The timer phase of `bench api`: `n` bookings created over HTTP in fresh spaces, all
//! starting at one instant, then the time from that instant until every instance has
//! committed all `n` `START_TIME_REACHED` transitions, read off the instances' own
//! `/metrics` (summed over instances: on PostgreSQL each commits its share).

use super::load::{self, Call, Conn, MakeCall};
use super::report::Row;
use anyhow::{Context, ensure};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zs_core::Clock;

/// The transition each booking of the phase makes at its start (nothing else is due then:
/// the space's default lead has passed at creation, its grace comes after).
const EVENT: &str = "START_TIME_REACHED";
/// How often the instances' counters are read while the timers are applied.
const POLL: Duration = Duration::from_millis(10);

/// The phase's figures: a [`Row`] whose rate is transitions per second from the instant to the
/// last commit seen, whose latencies are the lateness histogram's bucket bounds, and whose
/// maximum is the milliseconds from the instant to the poll that first saw all `n` committed.
pub struct Burst {
    pub row: Row,
    /// Seconds the bookings took to create, and the lead the instant was set at.
    pub setup_s: f64,
    pub lead_s: f64,
}

fn space_id(i: usize) -> String {
    format!("t{i}")
}

/// The lead when none is given: 5 s and five times what `n` creates take at `create_rate`
/// (creates per second measured earlier in the run; the phase's creates are of the same
/// kind, in spaces of their own).
pub fn default_lead(n: usize, create_rate: f64) -> SignedDuration {
    let secs = 5.0 + 5.0 * n as f64 / create_rate.max(1.0);
    SignedDuration::from_secs(secs.ceil().min(86_400.0) as i64)
}

/// Runs the phase over `conns` (open to `services`, in turn), the instant `lead` after the
/// first booking create.
pub async fn measure(
    conns: &mut Vec<Conn>,
    services: &[SocketAddr],
    token: &str,
    n: usize,
    lead: SignedDuration,
) -> anyhow::Result<Burst> {
    let make: MakeCall = Arc::new(|i| Call {
        path: "/v1/spaces".into(),
        body: json!({"id": space_id(i), "name": format!("timer bench {i}"), "timezone": "UTC"})
            .to_string(),
    });
    let m = load::phase(conns, token, n, 201, make).await;
    ensure!(
        m.errors == 0,
        "timer phase: spaces not created: {:?}",
        m.samples
    );

    let client = reqwest::Client::new();
    let before = committed(&client, services).await?;
    let at = Timestamp::from_second(zs_core::SystemClock.now().as_second())? + lead;
    let make: MakeCall = Arc::new(move |i| Call {
        path: "/v1/bookings".into(),
        body: json!({
            "id": format!("tb{i}"), "spaceId": space_id(i), "title": "timer bench",
            "start": at.to_string(), "end": (at + SignedDuration::from_hours(1)).to_string(),
        })
        .to_string(),
    });
    let setup = Instant::now();
    let m = load::phase(conns, token, n, 201, make).await;
    let setup_s = setup.elapsed().as_secs_f64();
    ensure!(
        m.errors == 0 && zs_core::SystemClock.now() < at,
        "timer phase: {} of {n} bookings created in {setup_s:.1} s, the lead was {:.0} s; \
         give a longer --timer-lead (unexpected answers: {:?})",
        m.ok,
        lead.as_secs_f64(),
        m.samples
    );

    let wait = at.duration_since(zs_core::SystemClock.now()).unsigned_abs();
    tokio::time::sleep(wait).await;
    let start = Instant::now();
    let deadline = start + Duration::from_secs(120);
    let buckets = loop {
        let now = committed(&client, services).await?;
        if now.transitions - before.transitions >= n as f64 {
            break now.lateness;
        }
        ensure!(
            Instant::now() < deadline,
            "timer phase: {} of {n} transitions within 120 s of their instant",
            now.transitions - before.transitions
        );
        tokio::time::sleep(POLL).await;
    };
    let drained = start.elapsed().as_secs_f64().max(1e-3);
    let lateness = Lateness::between(&before.lateness, &buckets);
    Ok(Burst {
        row: Row {
            phase: "timers",
            requests: n,
            ok: n,
            errors: 0,
            per_s: n as f64 / drained,
            p50_ms: lateness.quantile(0.5) * 1000.0,
            p99_ms: lateness.quantile(0.99) * 1000.0,
            max_ms: drained * 1000.0,
        },
        setup_s,
        lead_s: lead.as_secs_f64(),
    })
}

/// What the instances' counters said at one moment, summed over instances.
struct Counters {
    transitions: f64,
    lateness: Lateness,
}

/// A cumulative lateness histogram: (upper bound in seconds, count at or below it).
#[derive(Debug, Clone, Default, PartialEq)]
struct Lateness(Vec<(f64, f64)>);

impl Lateness {
    /// The counts of `after` less those of `before` (the same buckets).
    fn between(before: &Lateness, after: &Lateness) -> Lateness {
        Lateness(
            after
                .0
                .iter()
                .map(|&(le, c)| {
                    let b = before.0.iter().find(|(l, _)| *l == le).map_or(0.0, |p| p.1);
                    (le, c - b)
                })
                .collect(),
        )
    }

    /// The smallest bucket bound at or below which a share `q` of the samples fall.
    fn quantile(&self, q: f64) -> f64 {
        let total = self.0.last().map_or(0.0, |b| b.1);
        self.0
            .iter()
            .find(|(_, c)| *c >= q * total)
            .map_or(f64::INFINITY, |b| b.0)
    }

    /// Adds one instance's bucket line `zs_timer_lateness_seconds_bucket{le="0.005"} 12`.
    fn add_line(&mut self, line: &str) -> Option<()> {
        let rest = line.strip_prefix("zs_timer_lateness_seconds_bucket{")?;
        let le = rest.split("le=\"").nth(1)?.split('"').next()?;
        let le: f64 = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().ok()?
        };
        let count: f64 = rest.rsplit(' ').next()?.parse().ok()?;
        match self.0.iter_mut().find(|(l, _)| *l == le) {
            Some(b) => b.1 += count,
            None => {
                self.0.push((le, count));
                self.0.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
        }
        Some(())
    }
}

/// `zs_transitions_total{event="START_TIME_REACHED"}` in one instance's exposition.
fn transitions(text: &str) -> f64 {
    let prefix = format!("zs_transitions_total{{event=\"{EVENT}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn committed(client: &reqwest::Client, services: &[SocketAddr]) -> anyhow::Result<Counters> {
    let mut c = Counters {
        transitions: 0.0,
        lateness: Lateness::default(),
    };
    for addr in services {
        let text = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .with_context(|| format!("reading {addr}/metrics"))?
            .text()
            .await?;
        c.transitions += transitions(&text);
        for line in text.lines() {
            c.lateness.add_line(line);
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# TYPE zs_transitions_total counter
zs_transitions_total{event=\"UPCOMING_REACHED\"} 4
zs_transitions_total{event=\"START_TIME_REACHED\"} 17
zs_timer_lateness_seconds_bucket{le=\"0.001\"} 3
zs_timer_lateness_seconds_bucket{le=\"0.01\"} 15
zs_timer_lateness_seconds_bucket{le=\"+Inf\"} 21
zs_timer_lateness_seconds_sum 0.5
";

    #[test]
    fn the_default_lead_is_five_seconds_and_five_times_the_creates() {
        assert_eq!(default_lead(10_000, 2_000.0), SignedDuration::from_secs(30));
        assert_eq!(default_lead(100, 300.0), SignedDuration::from_secs(7));
        // No pace measured: one create a second.
        assert_eq!(default_lead(10, 0.0), SignedDuration::from_secs(55));
    }

    #[test]
    fn reads_the_start_transitions_of_one_instance() {
        assert_eq!(transitions(TEXT), 17.0);
        assert_eq!(
            transitions("zs_transitions_total{event=\"CHECK_IN\"} 3\n"),
            0.0
        );
    }

    #[test]
    fn sums_instances_and_takes_the_bucket_bound_of_a_quantile() {
        let mut two = Lateness::default();
        for l in TEXT.lines().chain(TEXT.lines()) {
            two.add_line(l);
        }
        assert_eq!(
            two.0,
            vec![(0.001, 6.0), (0.01, 30.0), (f64::INFINITY, 42.0)]
        );
        let mut one = Lateness::default();
        for l in TEXT.lines() {
            one.add_line(l);
        }
        let d = Lateness::between(&one, &two);
        assert_eq!(d.0, vec![(0.001, 3.0), (0.01, 15.0), (f64::INFINITY, 21.0)]);
        assert_eq!(d.quantile(0.1), 0.001);
        assert_eq!(d.quantile(0.5), 0.01);
        assert_eq!(d.quantile(0.99), f64::INFINITY);
    }
}
