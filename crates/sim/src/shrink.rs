//! Shrinking a failing plan: delta debugging over its steps (drop halves, quarters, …
//! single steps while the run still fails), within a time budget.

use crate::plan::{PlanConfig, Step};
use crate::world::{Violation, run};
use std::path::Path;
use std::time::{Duration, Instant};

/// The shortest step list found (within `budget`) that still fails, with its violation.
pub async fn shrink(
    plan: &PlanConfig,
    steps: &[Step],
    failure: &Violation,
    base: &Path,
    budget: Duration,
) -> (Vec<Step>, Violation) {
    let started = Instant::now();
    let mut current: Vec<Step> = steps[..(failure.step + 1).min(steps.len())].to_vec();
    let mut violation = failure.clone();
    let mut tries = 0u32;
    let mut chunk = current.len().div_ceil(2);
    while chunk >= 1 && started.elapsed() < budget {
        let mut i = 0;
        while i < current.len() && started.elapsed() < budget {
            let mut candidate = current.clone();
            candidate.drain(i..(i + chunk).min(current.len()));
            tries += 1;
            let dir = base.join(format!("shrink-{tries}"));
            let r = run(plan, &candidate, &dir).await;
            let _ = std::fs::remove_dir_all(&dir);
            match r {
                Err(v) => {
                    let keep = (v.step + 1).min(candidate.len());
                    candidate.truncate(keep);
                    current = candidate;
                    violation = v;
                }
                Ok(_) => i += chunk,
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    (current, violation)
}
