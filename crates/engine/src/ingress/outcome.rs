//! How an ingress job ended: its outcome for `zs_ingress_jobs_total`, and the reason a
//! refused job fails with (the API's code for the same meaning first).

use super::EVENTS;
use crate::EngineError;
use zs_core::Command;

/// How an ingress job ended, the `outcome` label of `zs_ingress_jobs_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It took effect.
    Applied,
    /// Its effect was already in place (a repeat).
    AlreadyApplied,
    /// The rules refused it (or the named booking or space does not exist).
    Refused,
    /// Its name or data is not an ingress job.
    Malformed,
}

impl Outcome {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::AlreadyApplied => "already_applied",
            Outcome::Refused => "refused",
            Outcome::Malformed => "malformed",
        }
    }
}

/// The `event` label of a job name: the name when it is an ingress event, else `other`
/// (job names are the producer's, so unknown ones are not turned into label values).
pub fn event_label(name: &str) -> &'static str {
    EVENTS
        .iter()
        .find(|e| **e == name)
        .copied()
        .unwrap_or("other")
}

/// Counts one finished ingress job.
pub(super) fn count(name: &str, outcome: Outcome) {
    metrics::counter!(
        "zs_ingress_jobs_total",
        "event" => event_label(name),
        "outcome" => outcome.as_str()
    )
    .increment(1);
}

/// The reason a refused job fails with: the API's code for the same meaning, then the text.
pub(super) fn refused(e: EngineError) -> String {
    match e {
        EngineError::Domain(d) => format!("{}: {d}", d.code()),
        e @ EngineError::NotFound(_) => format!("not_found: {e}"),
        e @ EngineError::Exists(_) => format!("already_exists: {e}"),
        e @ EngineError::Invalid(_) => format!("invalid_request: {e}"),
        e @ EngineError::InvalidRule(_) => format!("invalid_rrule: {e}"),
        ref e @ EngineError::Occurrence { ref error, .. } => format!("{}: {e}", error.code()),
        e @ EngineError::LiveBookings(..) => format!("space_has_live_bookings: {e}"),
        // The same codes as the API's for the store's answers (crates/api/src/error.rs).
        EngineError::Store(zs_store::StoreError::Overlap) => {
            "booking_conflict: the booking overlaps a live booking of this space".to_owned()
        }
        EngineError::Store(zs_store::StoreError::Duplicate(_)) => {
            "already_exists: it was created concurrently by another request".to_owned()
        }
        e @ EngineError::Store(_) => format!("unavailable: {e}"),
    }
}

/// Whether a refusal only says the job's effect is already in place — what a queue's
/// at-least-once delivery produces when a job runs again after a crash.
pub(super) fn already_applied(cmd: &Command, e: &EngineError) -> bool {
    use zs_core::{BookingStatus as S, DomainError as D};
    let EngineError::Domain(d) = e else {
        return false;
    };
    matches!(
        (cmd, d),
        (Command::CheckIn(_), D::AlreadyCheckedIn)
            | (Command::CheckOut(_), D::NotCheckedIn(S::Completed))
            | (Command::Cancel(_), D::Finished(S::Cancelled))
            | (Command::Disable, D::AlreadyInMaintenance)
            | (Command::Enable, D::NotInMaintenance)
    )
}
