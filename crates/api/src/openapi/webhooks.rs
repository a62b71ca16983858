//! The document's OpenAPI 3.1 `webhooks`: one entry per webhook type the service sends, with
//! its body schema and the Standard Webhooks signature headers.

use super::schemas::{
    BookingWebhook, RoomStateChangedWebhook, SeriesReleasedWebhook, SpaceStateChangedWebhook,
};
use utoipa::ToSchema;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, Paths, PathsBuilder, Ref, RefOr, Required};
use zs_core::notice::WEBHOOK_TYPES;

/// The body schema of a webhook type, if the service sends that type.
fn body_schema(kind: &str) -> Option<String> {
    let name = if kind.starts_with("booking.") {
        BookingWebhook::name()
    } else if kind == "space.state_changed" {
        SpaceStateChangedWebhook::name()
    } else if kind == "room.state_changed" {
        RoomStateChangedWebhook::name()
    } else if kind == "series.released" {
        SeriesReleasedWebhook::name()
    } else {
        return None;
    };
    Some(name.into_owned())
}

/// `booking.checked_in` → `bookingCheckedIn`: an operation id.
fn camel(kind: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in kind.chars() {
        if c == '.' || c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn header(name: &str, description: &str, pattern: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern)),
        ))
        .build()
}

/// When each webhook type is sent.
const WHEN: [(&str, &str); 11] = [
    ("booking.created", "A booking was created."),
    (
        "booking.start",
        "A booking's upcoming lead was reached (`UPCOMING_REACHED`).",
    ),
    ("booking.checked_in", "Someone checked in."),
    (
        "booking.no_show",
        "Nobody checked in before the no-show deadline.",
    ),
    ("booking.checked_out", "The occupant checked out early."),
    ("booking.ended", "A booking's end time was reached."),
    (
        "booking.cancelled",
        "A booking was cancelled (on request, by maintenance, or with its series' release).",
    ),
    (
        "booking.extended",
        "A booking's end was moved later; `data.end` is the new end.",
    ),
    (
        "series.released",
        "A series' consecutive no-shows reached its space's `noShowStrikes`: its remaining occurrences were cancelled.",
    ),
    ("space.state_changed", "A space's scheduling state changed."),
    ("room.state_changed", "A room's physical state changed."),
];

fn when(kind: &str) -> &'static str {
    WHEN.iter()
        .find(|(k, _)| *k == kind)
        .map_or("An event of this type happened.", |(_, w)| w)
}

/// The `webhooks` of the document: one per type in [`WEBHOOK_TYPES`] (a type without a
/// body schema is left out, and the document test then fails).
pub fn webhooks() -> Paths {
    let mut paths = PathsBuilder::new();
    for kind in WEBHOOK_TYPES {
        let Some(schema) = body_schema(kind) else {
            continue;
        };
        let body = RequestBodyBuilder::new()
            .description(Some(format!(
                "`{{type, timestamp, data}}` with `type` = `{kind}`"
            )))
            .required(Some(Required::True))
            .content(
                "application/json",
                Content::new(Some(RefOr::Ref(Ref::from_schema_name(schema)))),
            )
            .build();
        let op = OperationBuilder::new()
            .operation_id(Some(camel(kind)))
            .summary(Some(format!("`{kind}`")))
            .description(Some(format!(
                "{} POSTed to every webhook endpoint subscribed to `{kind}` (or to all types), \
                 signed per Standard Webhooks.",
                when(kind)
            )))
            .tag("webhooks")
            .parameter(header(
                "webhook-id",
                "The delivery id (`msg_…`): the same on every retry, so receivers can drop repeats.",
                "^msg_[0-9a-z]{26}$",
            ))
            .parameter(header(
                "webhook-timestamp",
                "When this attempt was sent, in Unix seconds.",
                "^[0-9]+$",
            ))
            .parameter(header(
                "webhook-signature",
                "`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, \
                 keyed with the base64 part of the endpoint's `whsec_` secret. For 24 hours \
                 after a rotation, two signatures separated by a space: the new secret's, \
                 then the previous one's (a receiver accepts the message if any verifies).",
                "^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$",
            ))
            .request_body(Some(body))
            .response(
                "2XX",
                ResponseBuilder::new()
                    .description("Acknowledged: any 2xx within the timeout ends the delivery."),
            )
            .response(
                "default",
                ResponseBuilder::new().description(
                    "Anything else, or no answer in time: retried on a growing schedule, then \
                     marked failed and kept for replay.",
                ),
            );
        paths = paths.path(kind, PathItem::new(HttpMethod::Post, op));
    }
    paths.build()
}
