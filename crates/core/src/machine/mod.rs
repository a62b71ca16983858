//! The state machines as explicit transition tables over every state × event.
//!
//! Each cell says what an event does to a state: [`Target::Refuse`] (a typed error),
//! [`Target::Stay`], [`Target::To`] a fixed state, or [`Target::Choose`] one of a listed few,
//! picked by guards computed from the facts. `apply` checks the guards' pick against the
//! cell, so a table that forgot a case fails loudly in tests instead of drifting silently.
//! The booking machine ([`booking`]) has its own cells: a timer can also come too late.

pub mod booking;
pub mod guards;
pub mod room;
pub mod space;

use crate::event::EventKind;

/// One cell of a transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<S: 'static> {
    /// The event cannot happen in this state: the caller gets a typed error.
    Refuse,
    /// The event leaves this machine where it is.
    Stay,
    /// The event always moves this machine to the state.
    To(S),
    /// The event moves this machine to one of these states, chosen by guards.
    Choose(&'static [S]),
}

impl<S: Copy + PartialEq> Target<S> {
    /// Every state this cell may lead to from `from` (for diagrams and exhaustive tests).
    pub fn targets(self, from: S) -> Vec<S> {
        match self {
            Target::Refuse => vec![],
            Target::Stay => vec![from],
            Target::To(s) => vec![s],
            Target::Choose(list) => list.to_vec(),
        }
    }
}

/// Why a machine did not move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The table refuses the event in this state.
    #[error("{event} is not allowed while the {machine} is {state}")]
    Refused {
        /// `room` or `space`.
        machine: &'static str,
        /// The current state's contract string.
        state: &'static str,
        /// The refused event.
        event: EventKind,
    },
    /// The guards chose a state the table does not list for this cell: a bug.
    #[error(
        "{machine} table has no {state} --{event}--> {derived} (guards disagree with the table)"
    )]
    TableMiss {
        /// `room` or `space`.
        machine: &'static str,
        /// The current state.
        state: &'static str,
        /// The event.
        event: EventKind,
        /// What the guards derived.
        derived: &'static str,
    },
}

/// Applies one table cell: the guards' `derived` state must be a target the cell allows.
fn settle<S: Copy + PartialEq>(
    cell: Target<S>,
    from: S,
    derived: S,
    miss: impl FnOnce() -> TransitionError,
    refused: impl FnOnce() -> TransitionError,
) -> Result<S, TransitionError> {
    match cell {
        Target::Refuse => Err(refused()),
        _ if cell.targets(from).contains(&derived) => Ok(derived),
        _ => Err(miss()),
    }
}

/// Test support: holds a table against every state × event × guard outcome.
#[cfg(test)]
pub(crate) fn check_every_pair<S: Copy + PartialEq + std::fmt::Debug + 'static>(
    states: &[S],
    table: impl Fn(S, EventKind) -> Target<S>,
    apply: impl Fn(S, EventKind, S) -> Result<S, TransitionError>,
) -> usize {
    let mut refused = 0;
    for &state in states {
        for event in EventKind::ALL {
            let cell = table(state, event);
            for &derived in states {
                let got = apply(state, event, derived);
                if cell == Target::Refuse {
                    assert!(matches!(got, Err(TransitionError::Refused { .. })));
                } else if cell.targets(state).contains(&derived) {
                    assert_eq!(got, Ok(derived), "{state:?} {event}");
                } else {
                    assert!(
                        matches!(got, Err(TransitionError::TableMiss { .. })),
                        "{state:?} {event}"
                    );
                }
            }
            refused += usize::from(cell == Target::Refuse);
        }
    }
    refused
}
