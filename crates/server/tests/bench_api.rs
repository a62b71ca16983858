//! `zs-scheduler bench api` end to end with tiny numbers: the built binary starts itself as the
//! service, runs every phase, and its figures parse and add up. No figure is asserted on.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bench(args: &[&str], anchor: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zs-scheduler"))
        .args(["bench", "api", "--requests", "200", "--connections", "8"])
        .args(["--spaces", "20", "--timers", "60", "--anchor"])
        .arg(anchor)
        .args(args)
        .output()
        .unwrap()
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zs-bench-api-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The phases, their request counts, and that every request got its expected answer.
fn check_phases(v: &Value) {
    let phases = v["phases"].as_array().unwrap();
    let names: Vec<&str> = phases
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "space",
            "create",
            "check-in",
            "cancel",
            "check-out",
            "timers"
        ],
        "{v}"
    );
    // The timer phase: all 60 start transitions counted off the instances' metrics, each
    // within a lateness bucket; its maximum is the time until the last one was seen.
    let timers = &phases[5];
    assert_eq!(timers["requests"], 60, "{timers}");
    assert_eq!(timers["errors"], 0, "{timers}");
    let (p50, p99) = (
        timers["p50Ms"].as_f64().unwrap(),
        timers["p99Ms"].as_f64().unwrap(),
    );
    assert!(p50 > 0.0 && p50 <= p99 && p99.is_finite(), "{timers}");
    assert!(timers["maxMs"].as_f64().unwrap() > 0.0, "{timers}");
    let note = v["notes"][0].as_str().unwrap();
    assert!(
        note.starts_with("timers: 60 bookings created in "),
        "{note}"
    );
    for (p, n) in phases[..5].iter().zip([20, 200, 100, 100, 100]) {
        assert_eq!(p["requests"], n, "{p}");
        assert_eq!(p["ok"], n, "{p}");
        assert_eq!(p["errors"], 0, "{p}");
        let (p50, p99, max) = (&p["p50Ms"], &p["p99Ms"], &p["maxMs"]);
        let (p50, p99, max) = (
            p50.as_f64().unwrap(),
            p99.as_f64().unwrap(),
            max.as_f64().unwrap(),
        );
        assert!(p50 > 0.0 && p50 <= p99 && p99 <= max, "{p}");
        assert!(p["perSecond"].as_f64().unwrap() > 0.0, "{p}");
    }
    assert_eq!(v["serviceLog"]["errorLines"], 0, "{v}");
    assert_eq!(v["settings"]["connections"], 8);
    let cpu = &v["cpuSeconds"];
    assert!(cpu["wall"].as_f64().unwrap() > 0.0, "{cpu}");
    assert!(cpu["service"].as_f64().is_some(), "{cpu}");
    assert!(cpu["loadGenerator"].as_f64().is_some(), "{cpu}");
}

#[test]
fn without_the_anchor_it_says_so_and_still_measures() {
    let missing = temp("missing").join("booking_writes.py");
    let out = bench(&["--json"], &missing);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    check_phases(&v);
    let anchor = &v["anchor"];
    assert_eq!(anchor["rate"], Value::Null);
    for run in ["before", "after"] {
        let why = anchor[run]["notMeasured"].as_str().unwrap();
        assert!(why.contains("no anchor script at"), "{why}");
    }
    for p in v["phases"].as_array().unwrap() {
        assert_eq!(p["ratioToAnchor"], Value::Null, "{p}");
    }
}

#[test]
fn the_anchor_runs_before_and_after_and_each_phase_gets_its_ratio() {
    let dir = temp("anchor");
    let script = support::stand_in_anchor(&dir);
    let out = bench(&["--json"], &script);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    check_phases(&v);
    assert_eq!(v["anchor"]["rate"], 2000.0);
    assert_eq!(v["anchor"]["before"]["rate"], 2000.0);
    assert_eq!(v["anchor"]["after"]["rate"], 2000.0);
    for p in v["phases"].as_array().unwrap() {
        let ratio = p["ratioToAnchor"].as_f64().unwrap();
        let per_s = p["perSecond"].as_f64().unwrap();
        assert!((ratio - per_s / 2000.0).abs() < 1e-9, "{p}");
    }
    let runs = std::fs::read_to_string(dir.join("runs")).unwrap();
    assert_eq!(
        runs, "200\n200\n",
        "the anchor runs once before, once after"
    );

    // The table says the same.
    let out = bench(&[], &script);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        text.starts_with("service: 1 instance on sqlite\nphase"),
        "{text}"
    );
    assert!(text.contains("x anchor"), "{text}");
    assert!(text.contains("anchor before: 2000/s"), "{text}");
    assert!(text.contains("anchor (mean): 2000/s"), "{text}");
    let create = text.lines().find(|l| l.starts_with("create ")).unwrap();
    assert_eq!(create.split_whitespace().nth(1), Some("200"), "{create}");
}

#[test]
fn a_plan_that_cannot_fit_is_refused_before_anything_runs() {
    let out = Command::new(env!("CARGO_BIN_EXE_zs-scheduler"))
        .args(["bench", "api", "--requests", "61", "--spaces", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("use more --spaces"), "{err}");
    assert!(!err.contains("service listening"), "{err}");
}

/// Three instances on one fresh PostgreSQL schema, the connections spread over them; the
/// schema is dropped afterwards.
#[test]
fn three_instances_on_postgres_share_the_load_and_leave_no_schema() {
    let url = zs_store::testing::postgres_url();
    let missing = temp("pg").join("booking_writes.py");
    let out = bench(&["--json", "--postgres", &url], &missing);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    check_phases(&v);
    assert_eq!(v["settings"]["store"], "postgres");
    assert_eq!(v["settings"]["instances"], 3);
    let schema = v["settings"]["postgresSchema"].as_str().unwrap().to_owned();
    assert!(schema.starts_with("bench_"), "{schema}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let left: i64 = rt.block_on(async {
        let store = zs_store::Store::connect_postgres(&url, None).await.unwrap();
        let mut c = store.read().await.unwrap();
        zs_store::testing::int(
            &mut c,
            "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
            &schema,
        )
        .await
        .unwrap()
    });
    assert_eq!(left, 0, "the benchmark's schema is dropped");
}
