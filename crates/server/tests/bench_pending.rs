//! `zs-scheduler bench pending` and `bench timers` end to end with tiny numbers: the built
//! binary sets up its bookings, restarts itself on them (pending) or fires them (timers), and
//! prints figures that add up. No figure of speed is asserted on.

mod support;

use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_zs-scheduler"))
        .arg("bench")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The number after `key` in `line` (`key` ends where the number starts).
fn number_after(text: &str, key: &str) -> f64 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("no {key:?} in {text}"))
        + key.len();
    let digits: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after {key:?} in {text}"))
}

/// `bench pending` with 120 bookings over 12 spaces, 4 in flight, no anchor script, and
/// `more` arguments.
fn tiny_pending(more: &[&str]) -> String {
    let mut args = vec!["pending", "--bookings", "120", "--spaces", "12"];
    args.extend(["--concurrency", "4"]);
    args.extend(["--anchor", "/nonexistent/booking_writes.py"]);
    args.extend(more);
    run(&args)
}

#[test]
fn pending_sets_up_four_timers_a_booking_and_restarts_on_them() {
    let out = tiny_pending(&[]);
    assert!(out.contains("setup: 120 bookings over 12 spaces"), "{out}");
    assert!(
        out.contains("anchor before none (no anchor script at"),
        "{out}"
    );
    assert_eq!(number_after(&out, "pending: "), 480.0, "{out}");
    let listening = number_after(&out, "restart: listening ");
    let ready = number_after(&out, "ready ");
    let serving = number_after(&out, "serving a read ");
    assert!(listening <= ready && ready <= serving, "{out}");
    let (rss, peak) = (number_after(&out, "rss "), number_after(&out, "peak "));
    assert!(rss > 0.0 && peak >= rss, "{out}");
    assert!(out.contains("service log: 0 ERROR"), "{out}");
}

/// With `--burst-after`, every space's first booking starts at one instant after the set-up,
/// and the in-process runner applies those starts with the month ahead pending: each start is
/// seen committed, none early, and the jobs left are the rest (the first bookings' upcoming
/// timers were never planned: their lead had passed when they were made).
#[test]
fn pending_burst_after_applies_the_first_starts_with_the_month_ahead() {
    let out = tiny_pending(&["--burst-after", "5"]);
    assert!(
        out.contains("month-ahead burst: timers=12 (measured 12)"),
        "{out}"
    );
    assert_eq!(number_after(&out, "early="), 0.0, "{out}");
    assert!(
        out.contains("all 12 starts applied") && out.contains("9 bookings ahead of each space"),
        "{out}"
    );
    assert_eq!(number_after(&out, "pending: "), 480.0 - 24.0, "{out}");
    assert!(out.contains("service log: 0 ERROR"), "{out}");
}

#[test]
fn pending_refuses_more_bookings_than_thirty_days_hold() {
    let out = Command::new(env!("CARGO_BIN_EXE_zs-scheduler"))
        .args(["bench", "pending", "--bookings", "2000", "--spaces", "1"])
        .args(["--anchor", "/nonexistent/booking_writes.py"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2000 bookings a space do not fit 30 days"),
        "{err}"
    );
}

#[test]
fn a_burst_alone_fires_every_timer_and_none_early() {
    let out = run(&[
        "timers",
        "--spread",
        "0",
        "--burst",
        "60",
        "--lead",
        "5",
        "--concurrency",
        "8",
        "--anchor",
        "/nonexistent/booking_writes.py",
    ]);
    assert!(!out.contains("spread:"), "{out}");
    assert!(out.contains("burst: set up 60 spaces in "), "{out}");
    assert_eq!(number_after(&out, "burst: timers="), 60.0, "{out}");
    assert_eq!(number_after(&out, "early="), 0.0, "{out}");
    assert!(out.contains("burst: all 60 applied"), "{out}");
    // Without the anchor script (not in a clone on its own) it says so, and still measures.
    assert!(
        out.contains("anchor before: not measured: no anchor script at"),
        "{out}"
    );
    assert!(out.contains("burst: no anchor measured"), "{out}");
}

#[test]
fn the_burst_is_printed_as_a_ratio_to_the_anchor_run_before_and_after() {
    let dir = std::env::temp_dir().join(format!("zs-bench-timers-anchor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = support::stand_in_anchor(&dir);
    let out = run(&[
        "timers",
        "--spread",
        "0",
        "--burst",
        "40",
        "--lead",
        "5",
        "--anchor",
        script.to_str().unwrap(),
    ]);
    assert!(out.contains("anchor before: 2000/s"), "{out}");
    assert!(out.contains("anchor after: 2000/s"), "{out}");
    let pace = number_after(&out, "transitions_per_s=");
    let line = out
        .lines()
        .find(|l| l.contains("x the anchor's 2000/s"))
        .unwrap();
    let x: f64 = line["burst: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // The ratio is the burst's pace over the anchor's (both rounded as printed).
    assert!(
        (x - pace / 2000.0).abs() <= 0.01 + pace / 2000.0 * 0.01,
        "{line} vs {pace}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("runs")).unwrap(),
        "20000\n20000\n"
    );
}
