//! `zs-scheduler simulate` as a user runs it: the real binary, a small seeded world split
//! into shards that run side by side, each checked against the oracle; bad flags refused.

use std::process::Command;

fn simulate(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zs-scheduler"))
        .arg("simulate")
        .args(args)
        .env_remove("ZS_LOG")
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sharded_run_checks_every_world_and_prints_the_total() {
    let (ok, out, err) = simulate(&[
        "--spaces", "8", "--days", "2", "--seed", "5", "--shards", "2", "--jobs", "2",
    ]);
    assert!(ok, "simulate failed:\n{out}\n{err}");
    let worlds: Vec<&str> = out.lines().filter(|l| l.contains(": ok in ")).collect();
    assert_eq!(worlds.len(), 2, "{out}");
    assert!(
        worlds
            .iter()
            .any(|l| l.starts_with("seed 5 shard 1/2 (seed ")),
        "{out}"
    );
    assert!(
        worlds
            .iter()
            .any(|l| l.starts_with("seed 5 shard 2/2 (seed ")),
        "{out}"
    );
    assert!(worlds.iter().all(|l| l.contains("— 4 spaces")), "{out}");
    let total = out
        .lines()
        .find(|l| l.starts_with("all 2 world(s) in "))
        .unwrap_or_else(|| panic!("no total line:\n{out}"));
    // Each world's transitions were checked against the oracle, and the total adds them up.
    let per_world: u64 = out
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("transitions checked against the oracle: ")
        })
        .map(|l| l.split(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert!(per_world > 0, "{out}");
    assert!(
        total.contains(&format!("{per_world} transitions checked")),
        "{total}"
    );
}

#[test]
fn a_shard_count_larger_than_the_spaces_is_refused() {
    let (ok, out, err) = simulate(&["--spaces", "3", "--shards", "4"]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("--shards must be between 1 and --spaces (3)"),
        "{err}"
    );
}

/// `--store memory` runs the same world as the default file store (the same figures) and an
/// unknown store is refused.
#[test]
fn the_store_flag_picks_memory_or_file_and_the_world_is_the_same() {
    let run = |store: &str| {
        let (ok, out, err) = simulate(&[
            "--spaces", "6", "--days", "3", "--seed", "9", "--store", store,
        ]);
        assert!(ok, "simulate --store {store} failed:\n{out}\n{err}");
        // Everything but the wall time and rate on the first line.
        let mut lines = out.lines();
        let first = lines.next().unwrap_or_default();
        let steps = first.split(" steps").next().unwrap_or_default().to_owned();
        let steps = steps.rsplit(", ").next().unwrap_or_default().to_owned();
        let rest: Vec<String> = lines
            .filter(|l| !l.starts_with("all "))
            .map(str::to_owned)
            .collect();
        (steps, rest)
    };
    let on_file = run("file");
    let in_memory = run("memory");
    assert!(
        !on_file.0.is_empty() && !on_file.1.is_empty(),
        "{on_file:?}"
    );
    assert_eq!(on_file, in_memory);
    let (ok, _, err) = simulate(&["--store", "disk"]);
    assert!(!ok && err.contains("invalid value 'disk'"), "{err}");
}
