//! A space: its settings (zone, business hours, lead, grace, cleaning) and maintenance flag.

use crate::calendar::{BusinessHours, Zone};
use crate::ids::SpaceId;
use crate::period::Period;
use crate::policy::Policies;
use crate::series::NoShowStrikes;
use jiff::Timestamp;

/// The timing and calendar settings of a space.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceSettings {
    /// The space's IANA zone; business hours are local to it.
    pub zone: Zone,
    /// Weekly business hours; `None` is open around the clock.
    pub business_hours: Option<BusinessHours>,
    /// How long before `start` the room becomes `upcoming` (and `booking.start` fires).
    pub upcoming_lead: Period,
    /// How long after `start` a booking without check-in is released.
    pub no_show_grace: Period,
    /// How long the room is `cleaning` after an occupied session ends.
    pub cleaning: Period,
    /// Limits on bookings' length and start (CONTRACT §11); none by default.
    pub policies: Policies,
    /// Consecutive no-shows of a series that release it (CONTRACT §9); 3 by default.
    pub no_show_strikes: NoShowStrikes,
}

impl SpaceSettings {
    /// The contract defaults: lead `PT15M`, grace `PT10M`, cleaning `PT10M`, open around the
    /// clock, no booking policy, a series released after 3 consecutive no-shows.
    pub fn defaults(zone: Zone) -> Self {
        Self {
            zone,
            business_hours: None,
            upcoming_lead: Period::minutes(15),
            no_show_grace: Period::minutes(10),
            cleaning: Period::minutes(10),
            policies: Policies::NONE,
            no_show_strikes: NoShowStrikes::DEFAULT,
        }
    }

    /// Whether the space is within business hours at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        match &self.business_hours {
            None => true,
            Some(h) => h.is_open(&self.zone, at),
        }
    }

    /// The end of the business-hours interval containing `at`: `Ok(None)` when the space
    /// never closes, `Err(())` when it is closed at `at`.
    #[allow(clippy::result_unit_err)]
    pub fn interval_end(&self, at: Timestamp) -> Result<Option<Timestamp>, ()> {
        match &self.business_hours {
            None => Ok(None),
            Some(h) => h.interval_at(&self.zone, at).map(|i| i.end).ok_or(()),
        }
    }
}

/// A space as the domain sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    /// Its id.
    pub id: SpaceId,
    /// A human name.
    pub name: String,
    /// Timing and calendar.
    pub settings: SpaceSettings,
    /// Whether an admin put it in maintenance.
    pub maintenance: bool,
}
