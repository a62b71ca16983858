//! Routes, one module per resource.

pub mod bookings;
pub mod events;
pub mod ops;
pub mod series;
pub mod spaces;
pub mod tokens;
pub mod utilisation;
pub mod webhooks;

/// A random id with a prefix (`sp_…`, `bk_…`).
pub fn generated_id(prefix: &str) -> String {
    format!("{prefix}_{}", &zs_engine::payload::message_id()[4..])
}
