//! Newtype identifiers for spaces and bookings: validated once, trusted afterwards.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{kind} id {value:?} is invalid: use 1 to {max} characters from A-Z, a-z, 0-9, '_' and '-'"
)]
pub struct InvalidId {
    /// Which kind of id (`space`, `booking`, …).
    pub kind: &'static str,
    /// The refused text.
    pub value: String,
    /// The longest such id.
    pub max: usize,
}

fn valid(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

macro_rules! id_type {
    ($name:ident, $kind:literal, $max:expr) => {
        #[doc = concat!("The identifier of a ", $kind, ".")]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a client-chosen id.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                if valid(s, $max) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(InvalidId {
                        kind: $kind,
                        value: s.chars().take(80).collect(),
                        max: $max,
                    })
                }
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(SpaceId, "space", 64);
id_type!(BookingId, "booking", 64);
// Six characters short of a booking id: occurrence n of series s is booking `s-n`.
id_type!(SeriesId, "series", 58);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids_and_refuses_others() {
        assert!(SpaceId::parse("room-1_A").is_ok());
        for bad in ["", "a b", "a:b", "ä", &"x".repeat(65), "a/b", "a.b"] {
            assert!(BookingId::parse(bad).is_err(), "{bad:?} accepted");
        }
        let e = SpaceId::parse("a b").unwrap_err();
        assert!(e.to_string().contains("space id"));
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<SpaceId>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<SpaceId>("\"not ok\"").is_err());
    }
}
