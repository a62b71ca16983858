//! Webhook receivers that fail: one not listening for a booking's whole lifecycle (its
//! deliveries wait on the retry schedule and go out once it listens again), and one that
//! answers 500 until the schedule runs out (dead-lettered, then replayed by
//! `POST /v1/deliveries/{id}/retry`).

use super::*;
use crate::fault_kit::plan::{BookingPlan, Fate, SpacePlan};
use std::sync::atomic::Ordering;

/// Three spaces (1 s lead, grace, cleaning) and a no-show, an early check-out and a
/// cancelled booking, all over within ~7 s of `t0`.
fn small_plan(t0: jiff::Timestamp) -> Plan {
    let spaces = (0..3)
        .map(|i| SpacePlan {
            id: format!("room-{i}"),
            lead_ms: 1000,
            grace_ms: 1000,
            cleaning_ms: 1000,
        })
        .collect();
    let booking =
        |space: usize, fate, start: i64, act1: Option<i64>, act2: Option<i64>| BookingPlan {
            id: format!("bk-{space}-0"),
            space,
            start: t0 + ms(start),
            end: t0 + ms(start + 3000),
            fate,
            create_at: t0,
            act1_at: act1.map(|a| t0 + ms(a)),
            act2_at: act2.map(|a| t0 + ms(a)),
        };
    Plan {
        spaces,
        bookings: vec![
            booking(0, Fate::NoShow, 3000, None, None),
            booking(1, Fate::CheckOutEarly, 3000, Some(3300), Some(4500)),
            booking(2, Fate::Cancel, 4000, Some(1500), None),
        ],
    }
}

/// The delivery log entries of every endpoint.
async fn log_entries(api: &Api, endpoints: &[String]) -> Vec<serde_json::Value> {
    let mut all = vec![];
    for ep in endpoints {
        let (st, v) = api.get(&format!("/v1/webhooks/{ep}/deliveries")).await;
        assert_eq!(st, 200, "{v}");
        all.extend(v["items"].as_array().cloned().unwrap_or_default());
    }
    all
}

/// Runs the small plan to its end with webhooks to `hook_url`; returns what the audit needs.
async fn run_small_plan(fleet: &Fleet, hook_url: &str) -> Load {
    let plan = small_plan(now_ms() + ms(1000));
    Load::prepare(plan, &fleet.base(0), hook_url)
        .await
        .drive(fleet.pool.clone(), async {})
        .await
}

/// The audit of a small plan (20 s to come clean).
async fn audit_small(
    load: &Load,
    fleet: &Fleet,
    status: &Receiver,
    hooks: &Receiver,
    label: &str,
) -> fault_kit::report::Report {
    let pick = || fleet.pool.pick();
    load.settle(pick, status, hooks, Duration::from_secs(20), label)
        .await
}

/// 5a. The receiver is not listening during the whole lifecycle; once it listens on the
/// same port again, every webhook is delivered before the schedule runs out, and the log
/// shows the failed attempts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_wait_for_a_receiver_that_comes_back() {
    let t = Instant::now();
    let port = free_port();
    let status = Receiver::start().await;
    let mut fleet = Fleet::start("faults-hookdown", 1, base_env(&status, &patient_retry()));
    let hook_url = format!("http://127.0.0.1:{port}/hook");
    let load = run_small_plan(&fleet, &hook_url).await;
    let api = Api::new(&fleet.base(0));
    let before = log_entries(&api, &load.endpoints).await;
    let failed: usize = before
        .iter()
        .map(|d| d["log"].as_array().map_or(0, Vec::len))
        .sum();
    println!(
        "[hook-down] receiver down for the whole lifecycle: {} deliveries, all pending: {}, {failed} failed attempts logged",
        before.len(),
        before.iter().all(|d| d["status"] == "pending")
    );
    assert_eq!(
        before.len(),
        9,
        "created ×3, start ×2, no_show, checked_in, checked_out, cancelled: {before:?}"
    );
    for d in &before {
        assert_eq!(d["status"], "pending", "{d}");
        let log = d["log"].as_array().unwrap();
        assert!(log.len() >= 2, "retried while down: {d}");
        assert!(
            log.iter().all(|a| a["success"] == false
                && a["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("connection"))),
            "{d}"
        );
    }
    let hooks = Receiver::start_on(&format!("127.0.0.1:{port}")).await;
    let back = Instant::now();
    let report = audit_small(&load, &fleet, &status, &hooks, "hook-down").await;
    println!(
        "[hook-down] every webhook delivered {} ms after the receiver came back; took {:.1} s",
        back.elapsed().as_millis(),
        t.elapsed().as_secs_f64()
    );
    assert!(report.problems.is_empty());
    assert!(report.log_failed_attempts >= 2 * before.len());
    assert!(fleet.stop_all());
}

/// 5b. The receiver answers 500 until a three-attempt schedule runs out: the deliveries are
/// dead-lettered (`failed`, every attempt logged) and `POST /v1/deliveries/{id}/retry`
/// delivers each one with its original webhook-id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_lettered_webhooks_are_replayed() {
    let t = Instant::now();
    let status = Receiver::start().await;
    let hooks = Receiver::start().await;
    hooks.fail_first.store(1_000_000, Ordering::SeqCst);
    let mut fleet = Fleet::start("faults-deadletter", 1, base_env(&status, "0s,200ms,200ms"));
    let load = run_small_plan(&fleet, &hooks.url()).await;
    let api = Api::new(&fleet.base(0));
    let mut dead = vec![];
    for _ in 0..100 {
        dead = log_entries(&api, &load.endpoints).await;
        if dead.len() == 9 && dead.iter().all(|d| d["status"] == "failed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        dead.iter()
            .all(|d| d["status"] == "failed" && d["attempts"] == 3),
        "{dead:?}"
    );
    let requests = hooks.all().len();
    println!(
        "[dead-letter] {} deliveries dead-lettered after 3 attempts each; receiver saw {requests} requests (500 each)",
        dead.len()
    );
    assert_eq!(requests, 27);
    hooks.fail_first.store(0, Ordering::SeqCst);
    for d in &dead {
        let (st, v) = api
            .post(
                &format!("/v1/deliveries/{}/retry", d["id"].as_str().unwrap()),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(st, 202, "{v}");
    }
    let report = audit_small(&load, &fleet, &status, &hooks, "dead-letter").await;
    let after = log_entries(&api, &load.endpoints).await;
    let replayed_ok = after.iter().all(|d| {
        let log = d["log"].as_array().unwrap();
        log.len() == 4
            && log[..3].iter().all(|a| a["success"] == false)
            && log[3]["success"] == true
    });
    println!(
        "[dead-letter] replayed: {} delivered, each log 3 failed + 1 delivered: {replayed_ok}; took {:.1} s",
        after.iter().filter(|d| d["status"] == "delivered").count(),
        t.elapsed().as_secs_f64()
    );
    assert!(report.problems.is_empty());
    assert!(replayed_ok, "{after:?}");
    assert!(fleet.stop_all());
}
