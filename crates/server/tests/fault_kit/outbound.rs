//! The audit's outbound half: every status post received (deduplicated by space and
//! sequence) for every transition, none before its instant; every webhook received under
//! exactly one webhook-id, and every delivery in the logs delivered.

use super::audit::{Entry, Evidence, Report, get};
use crate::support::Api;
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn check_posts(ev: &Evidence<'_>, histories: &[Vec<Entry>], r: &mut Report) {
    let all = ev.status.all();
    r.post_requests = all.len();
    let mut got: BTreeMap<(String, u64), (String, Timestamp)> = BTreeMap::new();
    for p in &all {
        let v = p.json();
        let key = (
            v["spaceId"].as_str().unwrap_or("?").to_owned(),
            v["sequence"].as_u64().unwrap_or(0),
        );
        let event = v["event"].as_str().unwrap_or("?").to_owned();
        let at: Timestamp = v["occurredAt"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        if p.at < at {
            r.early += 1;
            r.problems.push(format!(
                "status post {key:?} {event} received at {} before it occurred ({at})",
                p.at
            ));
        }
        if let Some((e0, _)) = got.get(&key) {
            if *e0 != event {
                r.problems
                    .push(format!("status post {key:?} sent as {e0} and as {event}"));
            }
        } else {
            r.post_delays_ms
                .push((at, p.at.duration_since(at).as_millis() as i64));
            got.insert(key, (event, at));
        }
    }
    // Posts of spaces outside the plan belong to a test's own extras.
    let planned: BTreeSet<&str> = ev.plan.spaces.iter().map(|s| s.id.as_str()).collect();
    got.retain(|k, _| planned.contains(k.0.as_str()));
    r.post_requests = all
        .iter()
        .filter(|p| {
            p.json()["spaceId"]
                .as_str()
                .is_some_and(|s| planned.contains(s))
        })
        .count();
    r.posts_unique = got.len();
    for (sp, h) in ev.plan.spaces.iter().zip(histories) {
        r.posts_expected += h.len();
        for e in h {
            match got.remove(&(sp.id.clone(), e.seq)) {
                None => {
                    r.posts_missing += 1;
                    r.problems.push(format!(
                        "status post {} #{} ({}) never received",
                        sp.id, e.seq, e.event
                    ));
                }
                Some((event, _)) if event != e.event => {
                    r.problems.push(format!(
                        "status post {} #{} is {event}, history says {}",
                        sp.id, e.seq, e.event
                    ));
                }
                Some(_) => {}
            }
        }
    }
    for (k, (e, _)) in got {
        r.problems.push(format!(
            "status post {k:?} ({e}) for a transition not in the history"
        ));
    }
}

pub(super) async fn check_hooks(
    api: &Api,
    ev: &Evidence<'_>,
    expected: &BTreeSet<(String, String)>,
    r: &mut Report,
) {
    r.hooks_expected = expected.len();
    let all = ev.hooks.all();
    r.hook_requests = all.len();
    let mut ids: BTreeMap<String, (String, String)> = BTreeMap::new();
    for h in &all {
        let id = h.header("webhook-id").unwrap_or("?").to_owned();
        let v = h.json();
        let key = (
            v["type"].as_str().unwrap_or("?").to_owned(),
            v["data"]["bookingId"].as_str().unwrap_or("?").to_owned(),
        );
        if let Some(k0) = ids.get(&id) {
            if *k0 != key {
                r.problems
                    .push(format!("webhook-id {id} carried {k0:?} and {key:?}"));
            }
        } else {
            ids.insert(id, key);
        }
    }
    r.hook_ids = ids.len();
    let mut by_key: BTreeMap<&(String, String), Vec<&String>> = BTreeMap::new();
    for (id, key) in &ids {
        by_key.entry(key).or_default().push(id);
    }
    for k in expected {
        match by_key.get(k).map(Vec::len) {
            None => {
                r.hooks_missing += 1;
                r.problems.push(format!("webhook {k:?} never received"));
            }
            Some(1) => {}
            Some(n) => {
                r.hooks_double += 1;
                r.problems
                    .push(format!("webhook {k:?} received with {n} different ids"));
            }
        }
    }
    for k in by_key.keys() {
        if !expected.contains(*k) {
            r.problems.push(format!(
                "webhook {k:?} received, but its event is not in the history"
            ));
        }
    }
    let mut logged = BTreeSet::new();
    let mut truncated = false;
    for ep in ev.endpoints {
        let items = match get(api, &format!("/v1/webhooks/{ep}/deliveries")).await {
            Ok((200, v)) => v["items"].as_array().cloned().unwrap_or_default(),
            other => {
                r.problems
                    .push(format!("delivery log of {ep} unavailable: {other:?}"));
                continue;
            }
        };
        truncated |= items.len() >= 200;
        for d in items {
            let id = d["id"].as_str().unwrap_or("?").to_owned();
            r.log_entries += 1;
            let attempts = d["log"].as_array().cloned().unwrap_or_default();
            r.log_failed_attempts += attempts.iter().filter(|a| a["success"] == false).count();
            if attempts.len() > 1 {
                r.log_retried += 1;
            }
            if d["status"] == "delivered" {
                r.log_delivered += 1;
            } else {
                r.problems.push(format!(
                    "delivery {id} ({}) is {} after {} attempts",
                    d["eventType"], d["status"], d["attempts"]
                ));
            }
            if !ids.contains_key(&id) {
                r.problems.push(format!(
                    "delivery {id} ({}) in the log, never received",
                    d["eventType"]
                ));
            }
            logged.insert(id);
        }
    }
    if !truncated {
        for id in ids.keys().filter(|i| !logged.contains(*i)) {
            r.problems.push(format!(
                "webhook-id {id} received but not in any delivery log"
            ));
        }
    }
}
