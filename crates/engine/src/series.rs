//! Recurring series (CONTRACT §9): a series is made, and cancelled, in one space
//! transaction. Its occurrences are expanded from its rule in the space's zone
//! ([`zs_core::series`]) and each is decided as an ordinary `BOOKING_CREATED` on the facts
//! the earlier ones left — so every rule and booking policy holds for each, they never
//! overlap one another, and each is written, posted and sent like any booking. With
//! `conflicts: refuse` the first refusal refuses the whole series (nothing stored); with
//! `skip` the refused occurrences are left out and listed.

use crate::persist::Writes;
use crate::space_tx::{Reported, SpaceTx};
use crate::{Engine, EngineError};
use jiff::Timestamp;
use zs_core::series::{Occurrence, Rule, RuleEnd, occurrences};
use zs_core::{
    Booking, BookingId, Command, DomainError, NewBooking, Outcome, Scope, SeriesId, SpaceFacts,
    SpaceId, decide, decision_instant,
};
use zs_store::{bookings, series};

/// The most occurrences one series is made with.
pub const MAX_OCCURRENCES: usize = zs_core::series::MAX_COUNT as usize;

/// What to do with an occurrence the rules refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflicts {
    /// Refuse the whole series (the default).
    Refuse,
    /// Leave the occurrence out and list it.
    Skip,
}

impl Conflicts {
    /// The API's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Conflicts::Refuse => "refuse",
            Conflicts::Skip => "skip",
        }
    }
}

/// A series to make.
#[derive(Debug, Clone)]
pub struct NewSeries {
    /// Its id (occurrence `n` is booking `{id}-{n}`).
    pub id: SeriesId,
    /// The occurrences' title.
    pub title: String,
    /// The first occurrence's start.
    pub start: Timestamp,
    /// The first occurrence's end.
    pub end: Timestamp,
    /// The rule.
    pub rule: Rule,
    /// Refuse or skip occurrences the rules refuse.
    pub conflicts: Conflicts,
}

/// An occurrence left out (`conflicts: skip`).
#[derive(Debug, Clone)]
pub struct Skipped {
    /// Its number.
    pub n: u32,
    /// Its start.
    pub start: Timestamp,
    /// Its end.
    pub end: Timestamp,
    /// Why the rules refused it.
    pub error: DomainError,
}

/// A series as made: the stored series, its occurrences, what was skipped.
#[derive(Debug)]
pub struct SeriesMade {
    /// The series.
    pub series: series::Series,
    /// The occurrences booked, in order.
    pub occurrences: Vec<Booking>,
    /// The occurrences left out, in order.
    pub skipped: Vec<Skipped>,
    outcomes: Vec<Outcome>,
}

impl Reported for SeriesMade {
    fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }
}

/// A series after a cancel: the occurrences cancelled.
#[derive(Debug)]
pub struct SeriesCancelled {
    /// The occurrences cancelled, in order.
    pub cancelled: Vec<Booking>,
    outcomes: Vec<Outcome>,
}

impl Reported for SeriesCancelled {
    fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }
}

impl Engine {
    /// Makes a series on `space` (see the module); `owner` (the calling token) owns it and
    /// its occurrences.
    pub async fn create_series(
        &self,
        space: &SpaceId,
        new: NewSeries,
        owner: Option<&str>,
    ) -> Result<SeriesMade, EngineError> {
        let mut t = SpaceTx::open(self, space).await?;
        let r = self.create_series_in(&mut t, space, new, owner).await;
        t.finish(r).await
    }

    async fn create_series_in(
        &self,
        t: &mut SpaceTx<'_>,
        space_id: &SpaceId,
        new: NewSeries,
        owner: Option<&str>,
    ) -> Result<SeriesMade, EngineError> {
        let (space, status) = t.space().await?;
        if new.rule.end == RuleEnd::Never {
            return Err(EngineError::InvalidRule(
                "rrule: a series needs COUNT or UNTIL (a series without an end is not supported yet)"
                    .into(),
            ));
        }
        let planned: Vec<Occurrence> = occurrences(
            &new.rule,
            &space.settings.zone,
            zs_core::clock::to_millis(new.start),
            zs_core::clock::to_millis(new.end),
        )
        .map_err(|e| EngineError::InvalidRule(e.to_string()))?
        .take(MAX_OCCURRENCES + 1)
        .collect();
        if planned.len() > MAX_OCCURRENCES {
            return Err(EngineError::InvalidRule(format!(
                "rrule: the series would have more than {MAX_OCCURRENCES} occurrences: end it sooner (COUNT or UNTIL)"
            )));
        }
        let at = t.at();
        let c = t.conn();
        let made = series::Series {
            id: new.id.clone(),
            space_id: space_id.clone(),
            title: new.title.clone(),
            rrule: new.rule.to_string(),
            start: zs_core::clock::to_millis(new.start),
            end: zs_core::clock::to_millis(new.end),
            conflicts: new.conflicts.as_str().to_owned(),
            created_at: at,
            cancelled_from: None,
        };
        let ids: Vec<BookingId> = planned
            .iter()
            .map(|o| occurrence_id(&new.id, o.n))
            .collect::<Result<_, _>>()?;
        for id in &ids {
            if bookings::get(c, id).await?.is_some() {
                return Err(EngineError::Exists(format!("booking {id}")));
            }
        }
        let mut facts = SpaceFacts {
            space,
            status,
            bookings: vec![],
        };
        let at = decision_instant(&facts, at);
        let span = (
            planned.first().map_or(made.start, |o| o.start),
            planned.last().map_or(made.end, |o| o.end),
        );
        let scope = Scope::with_span(&facts.space, at, None, Some(span));
        facts.bookings = bookings::scoped(c, space_id, &scope).await?;
        let mut outcomes = vec![];
        // The status after each occurrence: its webhooks show the status it led to.
        let mut steps = vec![];
        let mut skipped = vec![];
        for (o, id) in planned.iter().zip(ids) {
            let cmd = Command::Create(NewBooking {
                id,
                title: new.title.clone(),
                start: o.start,
                end: o.end,
            });
            match decide(&mut facts, cmd, at) {
                Ok(out) => {
                    steps.push(facts.status.clone());
                    outcomes.push(out);
                }
                Err(error) if new.conflicts == Conflicts::Skip => skipped.push(Skipped {
                    n: o.n,
                    start: o.start,
                    end: o.end,
                    error,
                }),
                Err(error) => {
                    return Err(EngineError::Occurrence {
                        n: o.n,
                        start: o.start,
                        error,
                    });
                }
            }
        }
        if !series::insert(c, &made, owner).await? {
            return Err(EngineError::Exists(format!("series {}", made.id)));
        }
        for b in facts.bookings.iter_mut() {
            if outcomes
                .iter()
                .any(|out| out.created.as_ref() == Some(&b.id))
            {
                b.series_id = Some(made.id.clone());
            }
        }
        let endpoints = self.endpoints(c).await?;
        let mut w = Writes::default();
        let mut view = facts.clone();
        for (out, status) in outcomes.iter().zip(steps) {
            self.report_anomalies(space_id, out);
            view.status = status;
            w.add(self, &endpoints, &view, out, at);
        }
        w.flush(c, at).await?;
        let booked: Vec<Booking> = facts
            .bookings
            .iter()
            .filter(|b| b.series_id.as_ref() == Some(&made.id))
            .cloned()
            .collect();
        if let Some(owner) = owner {
            for b in &booked {
                bookings::set_owner(c, &b.id, owner).await?;
            }
        }
        let mut occurrences = booked;
        occurrences.sort_by_key(|b| b.start);
        Ok(SeriesMade {
            series: made,
            occurrences,
            skipped,
            outcomes,
        })
    }

    /// Cancels the series' live occurrences that start at or after `from` (all of them
    /// without), as `BOOKING_CANCELLED` each; one in progress (checked in) is left to end.
    /// Records the instant on the series.
    pub async fn cancel_series(
        &self,
        space: &SpaceId,
        id: &SeriesId,
        from: Option<Timestamp>,
    ) -> Result<SeriesCancelled, EngineError> {
        let mut t = SpaceTx::open(self, space).await?;
        let r = self.cancel_series_in(&mut t, id, from).await;
        t.finish(r).await
    }

    async fn cancel_series_in(
        &self,
        t: &mut SpaceTx<'_>,
        id: &SeriesId,
        from: Option<Timestamp>,
    ) -> Result<SeriesCancelled, EngineError> {
        let at = t.at();
        let list = series::occurrences(t.conn(), id, Timestamp::MIN).await?;
        let from = from.unwrap_or(Timestamp::MIN);
        let mut outcomes = vec![];
        let mut cancelled = vec![];
        for b in list {
            let cancellable = b.start >= from
                && matches!(
                    b.status,
                    zs_core::BookingStatus::Scheduled
                        | zs_core::BookingStatus::Upcoming
                        | zs_core::BookingStatus::AwaitingCheckIn
                );
            if !cancellable {
                continue;
            }
            let applied = t.apply(Command::Cancel(b.id.clone())).await?;
            if let Some(done) = applied.facts.bookings.iter().find(|x| x.id == b.id) {
                cancelled.push(done.clone());
            }
            outcomes.push(applied.outcome);
        }
        series::cancel_from(t.conn(), id, from.max(at)).await?;
        Ok(SeriesCancelled {
            cancelled,
            outcomes,
        })
    }
}

/// Occurrence `n`'s booking id: `{series}-{n}`.
pub fn occurrence_id(series: &SeriesId, n: u32) -> Result<BookingId, EngineError> {
    BookingId::parse(&format!("{series}-{n}")).map_err(|e| EngineError::Invalid(e.to_string()))
}
