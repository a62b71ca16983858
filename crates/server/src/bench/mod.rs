//! `bench`: the figures the project tracks, each printed beside what it is compared with.

mod anchor;
mod api;
mod burst;
mod child;
mod load;
mod pending;
mod report;
mod timers;

/// `bench` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchCmd {
    /// Timer lateness on the embedded store (in-process, no HTTP).
    Timers(timers::TimersArgs),
    /// Booking creates, check-ins, cancels and check-outs over HTTP against this
    /// binary itself (started as `serve` on a fresh embedded store), beside the SQLite anchor
    /// measured in the same run.
    Api(api::ApiArgs),
    /// A month of bookings ahead (about a million pending timers) set up on the embedded
    /// store, then this binary restarted on it: set-up pace beside the SQLite anchor, time
    /// until it serves again, and its memory.
    Pending(pending::PendingArgs),
}

/// Runs the chosen benchmark.
pub async fn run(cmd: BenchCmd) -> anyhow::Result<()> {
    match cmd {
        BenchCmd::Timers(args) => timers::run(args).await,
        BenchCmd::Api(args) => api::run(args).await,
        BenchCmd::Pending(args) => pending::run(args).await,
    }
}
