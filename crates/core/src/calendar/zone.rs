//! IANA zones, and resolving a local civil time to an instant the business-hours way.

use super::CalendarError;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated IANA zone name together with its rules from the bundled database.
///
/// Equality is by (canonical) name.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// Looks `name` up in the bundled IANA database (case-insensitively; the canonical
    /// spelling is kept, so `"europe/berlin"` becomes `"Europe/Berlin"`).
    pub fn parse(name: &str) -> Result<Zone, CalendarError> {
        let unknown = || CalendarError::UnknownZone(name.to_owned());
        let tz = TimeZone::get(name).map_err(|_| unknown())?;
        // `Etc/Unknown` loads as jiff's "unknown" zone, which has no IANA name.
        let canonical = tz.iana_name().ok_or_else(unknown)?.to_owned();
        Ok(Zone {
            name: canonical,
            tz,
        })
    }

    /// The canonical IANA name, e.g. `Europe/Berlin`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's rules.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The local date of an instant.
    pub(crate) fn local_date(&self, at: Timestamp) -> Date {
        self.tz.to_datetime(at).date()
    }

    /// The instant of a local civil time: a time in a DST gap moves forward to the end of
    /// the gap (the transition instant); an ambiguous time resolves to the earlier
    /// instant. `None` only at the edges of the supported range.
    pub(crate) fn resolve(&self, dt: DateTime) -> Option<Timestamp> {
        let amb = self.tz.to_ambiguous_timestamp(dt);
        match amb.offset() {
            AmbiguousOffset::Gap { before, after } => self.gap_end(dt, before, after),
            AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => {
                amb.earlier().ok()
            }
        }
    }

    /// The transition instant of the gap that `dt` falls in.
    fn gap_end(&self, dt: DateTime, before: Offset, after: Offset) -> Option<Timestamp> {
        // `dt` read with the later offset is before the transition, read with the earlier
        // offset it is after: the transition to `after` lies between the two.
        let lo = after.to_timestamp(dt).ok()?;
        let hi = before.to_timestamp(dt).ok()?;
        let found = self
            .tz
            .following(lo)
            .take_while(|t| t.timestamp() <= hi)
            .find(|t| t.offset() == after)
            .map(|t| t.timestamp());
        Some(found.unwrap_or(hi))
    }

    /// The first instant of a local date (its 00:00, or the end of a gap covering it).
    pub(crate) fn start_of(&self, date: Date) -> Option<Timestamp> {
        self.resolve(date.to_datetime(jiff::civil::Time::midnight()))
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Zone::parse(&name).map_err(serde::de::Error::custom)
    }
}
