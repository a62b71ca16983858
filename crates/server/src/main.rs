//! The `zs-scheduler` binary: `serve`, `diagrams`, `bench`, `simulate`, `help`.

mod bench;
mod config;
mod http;
mod secret_key;
mod serve;
mod simulate;

use clap::{CommandFactory, Parser, Subcommand};

/// zs-scheduler: drives meeting spaces through their day at the exact second.
// Our own `help` subcommand: clap's built-in one refuses `help --help`.
#[derive(Debug, Parser)]
#[command(name = "zs-scheduler", version, about, disable_help_subcommand = true)]
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
    /// Measure: timer lateness (`bench timers`), HTTP writes beside their anchor (`bench api`).
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Deterministic simulation: a seeded workload with injected faults on a virtual clock,
    /// checking every invariant after every step.
    Simulate(simulate::SimulateArgs),
    /// Print this help, or the help of the given command.
    Help {
        /// The command to explain (serve, diagrams, bench, simulate).
        command: Option<String>,
    },
}

/// mimalloc instead of glibc's malloc: in a burst of due timers glibc's allocator took ~15 %
/// of the CPU, much of it waiting on its arena locks between the runner and the HTTP and
/// event threads (docs/decisions.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Cmd::Serve(args) => runtime().block_on(serve::run(*args)),
        Cmd::Diagrams => {
            print!("{}", zs_core::diagram::document());
            Ok(())
        }
        Cmd::Bench(cmd) => runtime().block_on(bench::run(cmd)),
        // Runs its worlds on threads of its own (see `simulate`).
        Cmd::Simulate(args) => simulate::run_cli(args),
        Cmd::Help { command } => help(command.as_deref()),
    };
    exit(result)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// `zs-scheduler help [command]`.
fn help(command: Option<&str>) -> anyhow::Result<()> {
    let mut cli = Cli::command();
    // A reader that stops early (`| head`) is not an error of ours.
    match command {
        None => {
            let _ = cli.print_long_help();
        }
        Some(name) => match cli.find_subcommand_mut(name) {
            Some(sub) => {
                let mut sub = sub.clone().bin_name(format!("zs-scheduler {name}"));
                let _ = sub.print_long_help();
            }
            None => anyhow::bail!(
                "no command {name}; the commands are serve, diagrams, bench, simulate and help"
            ),
        },
    }
    Ok(())
}

fn exit(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zs-scheduler: {}", one_line(&e));
            std::process::ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, each said once: many errors (ours, sqlx's,
/// redis's) put their source's text into their own message and also return that source,
/// so a plain `{:#}` repeats the innermost sentence at every layer.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string().replace('\n', " ");
        if text.is_empty() || line.contains(text.as_str()) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;

    /// An error that prints its source and also returns it (thiserror's `{0}` + `#[from]`).
    #[derive(Debug)]
    struct Wrapping(std::io::Error);

    impl std::fmt::Display for Wrapping {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "redis queues: {}", self.0)
        }
    }

    impl std::error::Error for Wrapping {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn one_line_says_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let e = anyhow::Error::new(Wrapping(io)).context("connecting to Redis");
        assert_eq!(
            one_line(&e),
            "connecting to Redis: redis queues: connection refused"
        );
    }

    #[test]
    fn one_line_keeps_causes_that_add_something() {
        let e = anyhow::anyhow!("disk full").context("writing data/admin-token");
        assert_eq!(one_line(&e), "writing data/admin-token: disk full");
    }
}
