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
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::sync::atomic::Ordering;
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
    /// Both, in the API's order.
    pub const ALL: [Conflicts; 2] = [Conflicts::Refuse, Conflicts::Skip];

    /// The API's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Conflicts::Refuse => "refuse",
            Conflicts::Skip => "skip",
        }
    }

    /// Reads the API's word.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
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
    fn outcomes(&self) -> Vec<&Outcome> {
        self.outcomes.iter().collect()
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
    fn outcomes(&self) -> Vec<&Outcome> {
        self.outcomes.iter().collect()
    }
}

/// Occurrences decided on a space's facts, before anything is written.
struct Decided {
    outcomes: Vec<Outcome>,
    /// The space's status after each outcome (its webhooks show the status it led to).
    statuses: Vec<zs_core::SpaceStatus>,
    skipped: Vec<Skipped>,
}

/// The default rolling horizon of a series without an end (`ZS_SERIES_HORIZON`).
pub const DEFAULT_HORIZON: SignedDuration = SignedDuration::from_hours(24 * 90);

impl Engine {
    /// How far ahead a series without an end is booked.
    pub fn series_horizon(&self) -> SignedDuration {
        SignedDuration::from_millis(self.series_horizon_ms.load(Ordering::Relaxed))
    }

    /// Sets how far ahead a series without an end is booked (`ZS_SERIES_HORIZON`).
    pub fn set_series_horizon(&self, horizon: SignedDuration) {
        self.series_horizon_ms
            .store(horizon.as_millis() as i64, Ordering::Relaxed);
    }

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
        let at = t.at();
        let open = new.rule.end == RuleEnd::Never;
        let until = at + self.series_horizon();
        let all = occurrences(
            &new.rule,
            &space.settings.zone,
            zs_core::clock::to_millis(new.start),
            zs_core::clock::to_millis(new.end),
        )
        .map_err(|e| EngineError::InvalidRule(e.to_string()))?;
        // A series without an end is booked up to the horizon (at most the cap at once).
        let planned: Vec<Occurrence> = all
            .take_while(|o| !open || o.start <= until)
            .take(MAX_OCCURRENCES + 1)
            .collect();
        if planned.len() > MAX_OCCURRENCES && !open {
            return Err(EngineError::InvalidRule(format!(
                "rrule: the series would have more than {MAX_OCCURRENCES} occurrences: end it sooner (COUNT or UNTIL)"
            )));
        }
        let planned = &planned[..planned.len().min(MAX_OCCURRENCES)];
        let materialized_until = match (open, planned.len() == MAX_OCCURRENCES) {
            (false, _) => None,
            (true, false) => Some(until),
            (true, true) => planned.last().map(|o| o.start),
        };
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
            materialized_until,
            no_shows: 0,
            released_at: None,
        };
        let c = t.conn();
        for o in planned {
            let id = occurrence_id(&new.id, o.n)?;
            if bookings::get(c, &id).await?.is_some() {
                return Err(EngineError::Exists(format!("booking {id}")));
            }
        }
        let mut facts = SpaceFacts {
            space,
            status,
            bookings: vec![],
        };
        let at = decision_instant(&facts, at);
        let decided = decide_occurrences(&mut facts, &made, planned, new.conflicts, at, c).await?;
        if !series::insert(c, &made, owner).await? {
            return Err(EngineError::Exists(format!("series {}", made.id)));
        }
        let occurrences = self
            .write_occurrences(c, &mut facts, &made.id, &decided, owner, at)
            .await?;
        Ok(SeriesMade {
            series: made,
            occurrences,
            skipped: decided.skipped,
            outcomes: decided.outcomes,
        })
    }

    /// Books, for every series without an end, its occurrences up to the horizon from now;
    /// returns how many were booked. Each series is extended in its space's transaction
    /// after reading again how far it is booked, so two instances extending at once book
    /// each occurrence once. An occurrence the rules refuse by then is left out (logged):
    /// a series already made cannot be refused.
    pub async fn extend_series(&self) -> Result<usize, EngineError> {
        let mut booked = 0;
        loop {
            let until = self.clock.now() + self.series_horizon();
            let due = {
                let mut c = self.store.read().await?;
                series::open_due(&mut c, until, 100).await?
            };
            if due.is_empty() {
                return Ok(booked);
            }
            let mut moved = false;
            let mut spaces: Vec<SpaceId> = vec![];
            for (_, space) in due {
                if !spaces.contains(&space) {
                    spaces.push(space);
                }
            }
            for space in spaces {
                let mut t = match SpaceTx::open(self, &space).await {
                    Ok(t) => t,
                    // The space is gone (deleted with its series meanwhile).
                    Err(EngineError::NotFound(_)) => continue,
                    Err(e) => return Err(e),
                };
                let r = self.extend_space_in(&mut t).await;
                let done = t.finish(r).await?;
                booked += done.occurrences.len();
                moved |= done.moved;
            }
            if !moved {
                return Ok(booked);
            }
        }
    }

    /// Extends every due series without an end of the transaction's space. The occurrences
    /// that enter the horizon together are booked in start order across the space's series
    /// (at one start, the series made first goes first), each decided on what the earlier ones
    /// left: as if each had been booked the moment it entered the horizon, so which of two
    /// conflicting series keeps a slot does not depend on how often the loop runs.
    async fn extend_space_in(&self, t: &mut SpaceTx<'_>) -> Result<Extended, EngineError> {
        let at = t.at();
        let until = at + self.series_horizon();
        let mut extended = Extended {
            occurrences: vec![],
            outcomes: vec![],
            moved: false,
        };
        let (space, status) = t.space().await?;
        // Read again under the space's lock: another instance may have booked them already.
        let ids = series::open_due_in_space(t.conn(), &space.id, until).await?;
        let mut due = vec![];
        for id in ids {
            let Some((s, owner)) = series::get_owned(t.conn(), &id).await? else {
                continue;
            };
            let Some(from) = s.materialized_until.filter(|m| *m < until) else {
                continue;
            };
            let rule =
                Rule::parse(&s.rrule).map_err(|e| EngineError::InvalidRule(e.to_string()))?;
            let bound = s
                .cancelled_from
                .map_or(until, |c| until.min(c - SignedDuration::from_millis(1)));
            let all = occurrences(&rule, &space.settings.zone, s.start, s.end)
                .map_err(|e| EngineError::InvalidRule(e.to_string()))?;
            let planned: Vec<Occurrence> = all
                .skip_while(|o| o.start <= from)
                .take_while(|o| o.start <= bound)
                .take(MAX_OCCURRENCES)
                .collect();
            let reached = if planned.len() == MAX_OCCURRENCES {
                planned.last().map(|o| o.start)
            } else if bound < until {
                None // cancelled from an instant within the horizon: nothing more to book
            } else {
                Some(until)
            };
            let mut fresh = vec![];
            for o in planned {
                if bookings::get(t.conn(), &occurrence_id(&id, o.n)?)
                    .await?
                    .is_none()
                {
                    fresh.push(o);
                }
            }
            due.push((s, owner, reached, fresh));
        }
        // Start order; at one start, the order the series were made in (`due`'s order).
        let mut order: Vec<(Timestamp, usize, usize)> = due
            .iter()
            .enumerate()
            .flat_map(|(k, (.., fresh))| {
                fresh.iter().enumerate().map(move |(j, o)| (o.start, k, j))
            })
            .collect();
        order.sort();
        let mut facts = SpaceFacts {
            space,
            status,
            bookings: vec![],
        };
        let at = decision_instant(&facts, at);
        let c = t.conn();
        for (_, k, j) in order {
            let (s, owner, _, fresh) = &due[k];
            let one = std::slice::from_ref(&fresh[j]);
            let decided = decide_occurrences(&mut facts, s, one, Conflicts::Skip, at, c).await?;
            for skip in &decided.skipped {
                tracing::info!(series = %s.id, occurrence = skip.n, start = %skip.start, code = skip.error.code(),
                    "a series occurrence was left out: {}", skip.error);
            }
            let booked = self
                .write_occurrences(c, &mut facts, &s.id, &decided, owner.as_deref(), at)
                .await?;
            extended.occurrences.extend(booked);
            extended.outcomes.extend(decided.outcomes);
        }
        for (s, _, reached, _) in &due {
            series::set_materialized(c, &s.id, *reached).await?;
        }
        extended.moved = !due.is_empty();
        Ok(extended)
    }

    /// Extends the series without an end once a minute (and at once) until `shutdown`.
    pub async fn series_loop(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            match self.extend_series().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(occurrences = n, "series extended to the horizon"),
                Err(e) => {
                    tracing::warn!(error = %e, "extending series failed; trying again in a minute")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Writes decided occurrences: marks them as the series', writes every outcome (in
    /// order, each with the status it led to), records the owner; returns the bookings.
    async fn write_occurrences(
        &self,
        c: &mut zs_store::Conn,
        facts: &mut SpaceFacts,
        id: &SeriesId,
        decided: &Decided,
        owner: Option<&str>,
        at: Timestamp,
    ) -> Result<Vec<Booking>, EngineError> {
        let created: std::collections::HashSet<&BookingId> = decided
            .outcomes
            .iter()
            .filter_map(|o| o.created.as_ref())
            .collect();
        for b in facts.bookings.iter_mut() {
            if created.contains(&b.id) {
                b.series_id = Some(id.clone());
            }
        }
        let endpoints = self.endpoints(c).await?;
        let mut w = Writes::default();
        let mut view = facts.clone();
        for (out, status) in decided.outcomes.iter().zip(&decided.statuses) {
            self.report_anomalies(&facts.space.id, out);
            view.status = status.clone();
            w.add(self, &endpoints, &view, out, at);
        }
        w.flush(c, at).await?;
        let mut booked: Vec<Booking> = facts
            .bookings
            .iter()
            .filter(|b| created.contains(&b.id))
            .cloned()
            .collect();
        if let Some(owner) = owner {
            for b in &booked {
                bookings::set_owner(c, &b.id, owner).await?;
            }
        }
        booked.sort_by_key(|b| b.start);
        Ok(booked)
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
            // Not started, or started and not checked in: what a cancel can take.
            if b.start < from || !b.status.is_pending() {
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

/// Decides `planned` occurrences of series `s` in order on `facts` (read from the store
/// for their span first): each as `BOOKING_CREATED` on what the earlier ones left. With
/// `Refuse`, the first refusal refuses all; with `Skip`, refused ones are listed.
async fn decide_occurrences(
    facts: &mut SpaceFacts,
    s: &series::Series,
    planned: &[Occurrence],
    conflicts: Conflicts,
    at: Timestamp,
    c: &mut zs_store::Conn,
) -> Result<Decided, EngineError> {
    let mut decided = Decided {
        outcomes: vec![],
        statuses: vec![],
        skipped: vec![],
    };
    let (Some(first), Some(last)) = (planned.first(), planned.last()) else {
        return Ok(decided);
    };
    let scope = Scope::with_span(&facts.space, at, None, Some((first.start, last.end)));
    facts.bookings = bookings::scoped(c, &facts.space.id, &scope).await?;
    for o in planned {
        let cmd = Command::Create(NewBooking {
            id: occurrence_id(&s.id, o.n)?,
            title: s.title.clone(),
            start: o.start,
            end: o.end,
        });
        match decide(facts, cmd, at) {
            Ok(out) => {
                decided.statuses.push(facts.status.clone());
                decided.outcomes.push(out);
            }
            Err(error) if conflicts == Conflicts::Skip => decided.skipped.push(Skipped {
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
    Ok(decided)
}

/// A series extended: the occurrences booked now.
struct Extended {
    occurrences: Vec<Booking>,
    outcomes: Vec<Outcome>,
    /// Whether how far it is booked moved (false: nothing to do).
    moved: bool,
}

impl Reported for Extended {
    fn outcomes(&self) -> Vec<&Outcome> {
        self.outcomes.iter().collect()
    }
}

/// Occurrence `n`'s booking id: `{series}-{n}`.
pub fn occurrence_id(series: &SeriesId, n: u32) -> Result<BookingId, EngineError> {
    BookingId::parse(&format!("{series}-{n}")).map_err(|e| EngineError::Invalid(e.to_string()))
}
