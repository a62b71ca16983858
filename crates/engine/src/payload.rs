//! The JSON other systems read: status posts and webhook bodies (timer job data:
//! [`crate::timer_codec`]).

use jiff::Timestamp;
use serde_json::{Value, json};
use zs_core::{Booking, Notice, SpaceFacts, Transition};

/// The status post of CONTRACT §6: `bookingId` is the booking the new state is about,
/// `eventBookingId` the booking whose event caused it (null for space events).
pub fn status_post(t: &Transition) -> Value {
    json!({
        "spaceId": t.space_id,
        "spaceState": t.to.space.as_str(),
        "roomState": t.to.room.as_str(),
        "bookingId": t.to.booking_id,
        "eventBookingId": t.booking_id,
        "nextBookingAt": t.to.next_booking_at.map(|x| x.to_string()),
        "event": t.event.as_str(),
        "sequence": t.to.sequence,
        "occurredAt": t.to.since.to_string(),
    })
}

/// A booking as the API and webhooks show it.
pub fn booking_json(b: &Booking) -> Value {
    json!({
        "id": b.id,
        "bookingId": b.id,
        "spaceId": b.space_id,
        "title": b.title,
        "start": b.start.to_string(),
        "end": b.end.to_string(),
        "status": b.status.as_str(),
        "createdAt": b.created_at.to_string(),
        "checkedInAt": b.checked_in_at.map(|t| t.to_string()),
        "endedAt": b.ended_at.map(|t| t.to_string()),
        "cancelledAt": b.cancelled_at.map(|t| t.to_string()),
        "cancelReason": b.cancel_reason,
        "seriesId": b.series_id,
    })
}

/// A webhook body `{type, timestamp, data}`.
pub fn webhook_body(n: &Notice, f: &SpaceFacts, t: Option<&Transition>, at: Timestamp) -> String {
    let data = match n {
        Notice::Booking { booking, .. } => booking_json(booking),
        Notice::SeriesReleased {
            series,
            no_shows,
            cancelled,
        } => json!({
            "seriesId": series, "spaceId": f.space.id, "reason": zs_core::booking::CANCEL_NO_SHOW_STRIKES,
            "noShows": no_shows, "cancelledBookingIds": cancelled, "releasedAt": at.to_string(),
        }),
        Notice::SpaceStateChanged { from, to } => json!({
            "spaceId": f.space.id, "from": from.as_str(), "to": to.as_str(),
            "event": t.map(|t| t.event.as_str()), "sequence": t.map(|t| t.to.sequence),
            "bookingId": f.status.booking_id, "eventBookingId": t.and_then(|t| t.booking_id.as_ref()),
            "nextBookingAt": f.status.next_booking_at.map(|x| x.to_string()),
        }),
        Notice::RoomStateChanged { from, to } => json!({
            "spaceId": f.space.id, "from": from.as_str(), "to": to.as_str(),
            "event": t.map(|t| t.event.as_str()), "sequence": t.map(|t| t.to.sequence),
            "bookingId": f.status.booking_id, "eventBookingId": t.and_then(|t| t.booking_id.as_ref()),
        }),
    };
    json!({ "type": n.webhook_type(), "timestamp": at.to_string(), "data": data }).to_string()
}

/// A fresh webhook message id (`msg_` + 26 random base-32 characters).
pub fn message_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut rng = rand::rng();
    let s: String = (0..26)
        .map(|_| ALPHABET[rng.random_range(0..32)] as char)
        .collect();
    format!("msg_{s}")
}
