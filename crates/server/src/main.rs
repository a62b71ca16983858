//! The `zs-scheduler` binary: `serve`, `diagrams`, `bench`, `simulate`.

mod bench;
mod config;
mod http;
mod serve;
mod simulate;

use clap::{Parser, Subcommand};

/// zs-scheduler: drives meeting spaces through their day at the exact second.
#[derive(Debug, Parser)]
#[command(name = "zs-scheduler", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Start the API and the workers.
    Serve(Box<config::ServeArgs>),
    /// Print the state diagrams generated from the transition tables (Markdown + Mermaid).
    Diagrams,
    /// Measure timer lateness on the embedded store.
    Bench(bench::BenchArgs),
    /// Deterministic simulation: a seeded workload with injected faults on a virtual clock,
    /// checking every invariant after every step.
    Simulate(simulate::SimulateArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Cmd::Simulate(args) = cli.command {
        // Runs its worlds on threads of its own (see `simulate`).
        return exit(simulate::run_cli(args));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = match cli.command {
        Cmd::Serve(args) => rt.block_on(serve::run(*args)),
        Cmd::Diagrams => {
            print!("{}", zs_core::diagram::document());
            Ok(())
        }
        Cmd::Bench(args) => rt.block_on(bench::run(args)),
        Cmd::Simulate(_) => unreachable!("run above"),
    };
    exit(result)
}

fn exit(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zs-scheduler: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
