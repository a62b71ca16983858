//! An in-memory driver of one space: runs commands and fires its timers in due order on
//! a virtual clock. Property tests and the simulator use it to exercise the real domain.
//!
//! Like the engine, it decides each command on the bookings the command's [`Scope`] reads,
//! not on all of them; in debug builds it decides on all of them as well and checks that
//! both decisions agree.

use crate::decide::{Command, Outcome, SpaceFacts, decide, decision_instant, initial_status};
use crate::error::DomainError;
use crate::scope::Scope;
use crate::space::Space;
use crate::timer::{Timer, TimerChange, next_day_timer};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};

type Key = (i64, u8, u64);

/// One space with its pending timers.
#[derive(Debug, Clone)]
pub struct SpaceSim {
    /// The facts the domain sees.
    pub facts: SpaceFacts,
    queue: BTreeMap<Key, Timer>,
    by_id: HashMap<String, Key>,
    seq: u64,
    /// Every timer fired, with the instant it was applied at.
    pub fired: Vec<(Timer, Timestamp)>,
}

impl SpaceSim {
    /// A new space at `at`, with its first business-hours timer planned.
    pub fn new(space: Space, at: Timestamp) -> Self {
        let status = initial_status(&space, &[], at);
        let first = next_day_timer(&space, at);
        let mut sim = Self {
            facts: SpaceFacts {
                space,
                status,
                bookings: vec![],
            },
            queue: BTreeMap::new(),
            by_id: HashMap::new(),
            seq: 0,
            fired: vec![],
        };
        if let Some(t) = first {
            sim.schedule(t);
        }
        sim
    }

    fn schedule(&mut self, t: Timer) {
        self.remove(&t.id);
        self.seq += 1;
        let key = (
            t.due.as_millisecond(),
            t.event.same_instant_rank(),
            self.seq,
        );
        self.by_id.insert(t.id.clone(), key);
        self.queue.insert(key, t);
    }

    fn remove(&mut self, id: &str) {
        if let Some(k) = self.by_id.remove(id) {
            self.queue.remove(&k);
        }
    }

    fn apply_changes(&mut self, out: &Outcome) {
        for c in &out.timers {
            match c {
                TimerChange::Schedule(t) => self.schedule(t.clone()),
                TimerChange::Remove(id) => self.remove(id),
                TimerChange::RemoveBooking(b) => {
                    let prefix = format!("{b}.");
                    let ids: Vec<String> = self
                        .by_id
                        .keys()
                        .filter(|k| k.starts_with(&prefix))
                        .cloned()
                        .collect();
                    ids.iter().for_each(|id| self.remove(id));
                }
            }
        }
    }

    /// Runs a user, admin or booking command at `at`.
    pub fn command(&mut self, cmd: Command, at: Timestamp) -> Result<Outcome, DomainError> {
        let out = self.decide_in_scope(cmd, at)?;
        self.apply_changes(&out);
        Ok(out)
    }

    /// Decides `cmd` on the bookings its scope reads and takes what changed into the facts.
    fn decide_in_scope(&mut self, cmd: Command, at: Timestamp) -> Result<Outcome, DomainError> {
        let scope = Scope::of(&cmd, &self.facts.space, decision_instant(&self.facts, at));
        self.in_scope(&scope, |f| decide(f, cmd.clone(), at))
    }

    /// Runs `decision` on the facts `scope` reads, then writes its changes back. In debug
    /// builds `decision` also runs on all the facts, and both must end alike.
    fn in_scope<T: PartialEq + std::fmt::Debug>(
        &mut self,
        scope: &Scope,
        decision: impl Fn(&mut SpaceFacts) -> Result<T, DomainError>,
    ) -> Result<T, DomainError> {
        let mut part = SpaceFacts {
            space: self.facts.space.clone(),
            status: self.facts.status.clone(),
            bookings: scope.select(&self.facts.bookings),
        };
        let r = decision(&mut part);
        #[cfg(debug_assertions)]
        let whole = {
            let mut all = self.facts.clone();
            let r = decision(&mut all);
            (r, all)
        };
        if r.is_ok() {
            self.facts.space = part.space;
            self.facts.status = part.status;
            for b in part.bookings {
                match self.facts.bookings.iter_mut().find(|x| x.id == b.id) {
                    Some(x) => *x = b,
                    None => self.facts.bookings.push(b),
                }
            }
        }
        #[cfg(debug_assertions)]
        {
            assert_eq!(
                r, whole.0,
                "{scope:?} decided otherwise than all the bookings"
            );
            assert_eq!(self.facts, whole.1, "{scope:?} left other facts");
        }
        r
    }

    /// Runs a walk-up (book now) at `at`: its three outcomes, in order.
    pub fn book_now(
        &mut self,
        walk_up: &crate::walk_up::WalkUp,
        at: Timestamp,
    ) -> Result<Vec<Outcome>, DomainError> {
        let scope = Scope::of_walk_up(
            walk_up,
            &self.facts.space,
            decision_instant(&self.facts, at),
        );
        let outs = self.in_scope(&scope, |f| crate::walk_up::book_now(f, walk_up, at))?;
        outs.iter().for_each(|o| self.apply_changes(o));
        Ok(outs)
    }

    /// Fires every timer due at or before `now`, in due order; returns their outcomes.
    pub fn run_until(&mut self, now: Timestamp) -> Vec<Outcome> {
        let mut outs = vec![];
        while let Some((&key, _)) = self.queue.first_key_value() {
            if key.0 > now.as_millisecond() {
                break;
            }
            let t = self.queue.remove(&key).expect("present");
            self.by_id.remove(&t.id);
            let at = t.due.max(self.facts.status.since);
            let cmd = Command::Timer {
                event: t.event,
                booking: t.booking_id.clone(),
            };
            let out = self
                .decide_in_scope(cmd, at)
                .expect("timer events are never refused");
            self.apply_changes(&out);
            self.fired.push((t, at));
            outs.push(out);
        }
        outs
    }

    /// The pending timers in due order.
    pub fn pending(&self) -> impl Iterator<Item = &Timer> {
        self.queue.values()
    }
}
