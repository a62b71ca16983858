//! The figures of `bench api`: one row per phase, as a table or as one JSON object.

use super::anchor::AnchorRun;
use super::load::Measured;
use serde_json::{Value, json};

/// One phase's figures.
#[derive(Debug, Clone)]
pub struct Row {
    pub phase: &'static str,
    pub requests: usize,
    pub ok: usize,
    pub errors: usize,
    pub per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Row {
    /// Reduces a phase's measurements.
    pub fn of(phase: &'static str, m: &Measured) -> Row {
        let mut l = m.latencies_us.clone();
        l.sort_unstable();
        let ms = |us: u64| us as f64 / 1000.0;
        Row {
            phase,
            requests: m.requests,
            ok: m.ok,
            errors: m.errors,
            per_s: m.requests as f64 / m.wall.as_secs_f64().max(1e-9),
            p50_ms: ms(pct(&l, 0.50)),
            p99_ms: ms(pct(&l, 0.99)),
            max_ms: ms(l.last().copied().unwrap_or(0)),
        }
    }
}

/// The nearest-rank percentile (0 for no samples).
fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The anchor as measured before and after the product's phases.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub script: String,
    pub before: Result<AnchorRun, String>,
    pub after: Result<AnchorRun, String>,
}

impl Anchor {
    /// The mean of the runs that gave a figure.
    pub fn rate(&self) -> Option<f64> {
        let rates: Vec<f64> = [&self.before, &self.after]
            .into_iter()
            .filter_map(|r| r.as_ref().ok().map(|a| a.rate))
            .collect();
        (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
    }
}

/// CPU seconds used from the first request to the last answer: by this process (the load
/// generator) and by the service, beside the wall time (the host has two cores).
#[derive(Debug, Clone)]
pub struct Cpu {
    pub bench: Option<f64>,
    pub service: Option<f64>,
    pub wall: f64,
}

fn secs(s: Option<f64>) -> String {
    s.map_or("unknown".to_owned(), |s| format!("{s:.1} s"))
}

/// Everything one run printed.
pub struct Report {
    pub settings: Value,
    pub rows: Vec<Row>,
    pub anchor: Anchor,
    pub load_before: String,
    pub cpu: Cpu,
    pub load_after: String,
    pub log_errors: usize,
    pub log_warnings: usize,
    pub samples: Vec<String>,
    /// Lines printed under the table that say how a row was measured.
    pub notes: Vec<String>,
}

/// One anchor run as printed: its rate and line, or why it gave none.
pub fn run_text(r: &Result<AnchorRun, String>) -> String {
    match r {
        Ok(a) => format!("{:.0}/s ({})", a.rate, a.line),
        Err(why) => format!("not measured: {why}"),
    }
}

fn run_json(r: &Result<AnchorRun, String>) -> Value {
    match r {
        Ok(a) => json!({"rate": a.rate, "line": a.line}),
        Err(why) => json!({"rate": null, "notMeasured": why}),
    }
}

impl Report {
    /// The table, the anchor beside it, the host's load and the service's log tally.
    pub fn text(&self) -> String {
        let anchor = self.anchor.rate();
        let mut s = String::new();
        let store = self.settings["store"].as_str().unwrap_or("sqlite");
        let instances = self.settings["instances"].as_u64().unwrap_or(1);
        s += &format!(
            "service: {instances} instance{} on {store}\n",
            if instances == 1 { "" } else { "s" }
        );
        s += &format!(
            "{:<12} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8}\n",
            "phase", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "x anchor"
        );
        for r in &self.rows {
            let ratio = anchor.map_or("-".to_owned(), |a| format!("{:.2}", r.per_s / a));
            s += &format!(
                "{:<12} {:>9} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>8}\n",
                r.phase, r.requests, r.per_s, r.p50_ms, r.p99_ms, r.max_ms, r.errors, ratio
            );
        }
        for n in &self.notes {
            s += &format!("{n}\n");
        }
        s += &format!("anchor before: {}\n", run_text(&self.anchor.before));
        s += &format!("anchor after:  {}\n", run_text(&self.anchor.after));
        match anchor {
            Some(a) => s += &format!("anchor (mean): {a:.0}/s — {}\n", self.anchor.script),
            None => s += &format!("anchor: not measured — {}\n", self.anchor.script),
        }
        s += &format!(
            "load average: {} (before) {} (after)\n",
            self.load_before, self.load_after
        );
        s += &format!(
            "cpu during the phases: load generator {}, service {}, wall {:.1} s\n",
            secs(self.cpu.bench),
            secs(self.cpu.service),
            self.cpu.wall
        );
        s += &format!(
            "service log: {} ERROR, {} WARN lines\n",
            self.log_errors, self.log_warnings
        );
        for x in &self.samples {
            s += &format!("unexpected: {x}\n");
        }
        s
    }

    /// The same figures as one JSON object.
    pub fn json(&self) -> Value {
        let anchor = self.anchor.rate();
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                json!({
                    "phase": r.phase, "requests": r.requests, "ok": r.ok, "errors": r.errors,
                    "perSecond": r.per_s, "p50Ms": r.p50_ms, "p99Ms": r.p99_ms,
                    "maxMs": r.max_ms, "ratioToAnchor": anchor.map(|a| r.per_s / a),
                })
            })
            .collect();
        json!({
            "settings": self.settings,
            "phases": rows,
            "anchor": {
                "script": self.anchor.script,
                "before": run_json(&self.anchor.before),
                "after": run_json(&self.anchor.after),
                "rate": anchor,
            },
            "loadAverage": {"before": self.load_before, "after": self.load_after},
            "cpuSeconds": {
                "loadGenerator": self.cpu.bench, "service": self.cpu.service, "wall": self.cpu.wall,
            },
            "serviceLog": {"errorLines": self.log_errors, "warnLines": self.log_warnings},
            "unexpected": self.samples,
            "notes": self.notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let l: Vec<u64> = (1..=100).collect();
        assert_eq!(pct(&l, 0.5), 50);
        assert_eq!(pct(&l, 0.99), 99);
        assert_eq!(pct(&l, 1.0), 100);
        assert_eq!(pct(&[7], 0.99), 7);
        assert_eq!(pct(&[], 0.5), 0);
    }

    #[test]
    fn the_anchor_rate_is_the_mean_of_the_runs_that_measured() {
        let run = |rate| {
            Ok(AnchorRun {
                rate,
                line: String::new(),
            })
        };
        let mut a = Anchor {
            script: "x".into(),
            before: run(1000.0),
            after: run(3000.0),
        };
        assert_eq!(a.rate(), Some(2000.0));
        a.after = Err("python3 is not installed".into());
        assert_eq!(a.rate(), Some(1000.0));
        a.before = Err("python3 is not installed".into());
        assert_eq!(a.rate(), None);
    }
}
