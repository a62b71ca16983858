//! Deterministic simulation: the real domain, engine and embedded store, driven on a
//! virtual clock by a seeded workload with injected faults (crashes, crashes with a
//! delivery on the wire, duplicate jobs, clock jumps, failing, hanging and gone
//! receivers), checking the invariants after every step. A failure prints its seed and the
//! shortest step list found that still reproduces it.

mod errors;
pub mod history;
pub mod model;
pub mod net;
pub mod plan;
mod shrink;
mod world;

pub use plan::{Action, Mode, PlanConfig, Step, StoreKind, generate};
pub use shrink::shrink;
pub use world::{Stats, Violation, run};
