//! The OpenAPI document: what the handlers declare, plus our `info` and `servers`, the error
//! answers every route of a kind can give (the extractors' 400/401/413/415/422, the rate
//! limit's 429, the store's 503, so the document lists every status a client can see), the
//! `/openapi.json` route itself, and the webhooks the service sends.

pub mod schemas;
mod webhooks;

use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::info::{InfoBuilder, LicenseBuilder};
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::{Components, Content, OpenApi, RefOr};

/// The address `zs-scheduler serve` listens on when not told otherwise.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// Completes the document the routes generate: see the module comment.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    doc.info = InfoBuilder::new()
        .title("zs-scheduler")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Meeting-space scheduling: two state machines per space (the space's scheduling \
             state and the room's physical state), driven by bookings, timers, admin actions \
             and check-ins. Authenticate with `Authorization: Bearer <token>`; errors are \
             `{\"error\": {\"code\", \"message\"}}`. The reference in words is `docs/api.md` \
             in the repository.",
        ))
        .license(Some(
            LicenseBuilder::new()
                .name("Apache-2.0")
                .identifier(Some("Apache-2.0"))
                .build(),
        ))
        .build();
    doc.servers = Some(vec![
        ServerBuilder::new()
            .url(DEFAULT_SERVER)
            .description(Some(
                "the default listen address of `zs-scheduler serve` (change it with `ZS_LISTEN` or `--listen`)",
            ))
            .build(),
    ]);
    let comps = doc.components.get_or_insert_with(Components::new);
    comps.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    register::<schemas::TransitionEvent>(comps);
    register::<schemas::BookingWebhook>(comps);
    register::<schemas::SpaceStateChangedWebhook>(comps);
    register::<schemas::RoomStateChangedWebhook>(comps);
    register::<schemas::SeriesReleasedWebhook>(comps);
    document_errors(&mut doc);
    doc.paths
        .paths
        .insert("/openapi.json".into(), openapi_route());
    doc.webhooks = Some(webhooks::webhooks());
    doc
}

/// Adds `T` and every schema it refers to.
fn register<T: ToSchema>(comps: &mut Components) {
    let mut all: Vec<(String, RefOr<Schema>)> = vec![(T::name().into_owned(), T::schema())];
    T::schemas(&mut all);
    for (name, schema) in all {
        comps.schemas.entry(name).or_insert(schema);
    }
}

fn openapi_route() -> PathItem {
    let op = OperationBuilder::new()
        .operation_id(Some("getOpenApi"))
        .summary(Some("This document."))
        .tag("ops")
        .response(
            "200",
            ResponseBuilder::new()
                .description("The OpenAPI 3.1 document of this API")
                .content(
                    "application/json",
                    Content::new(Some(ObjectBuilder::new().schema_type(Type::Object))),
                ),
        );
    PathItem::new(HttpMethod::Get, op)
}

/// Routes any role may call (no 403): reads of spaces, utilisation and the event stream.
fn open_to_every_role(method: &HttpMethod, path: &str) -> bool {
    matches!(method, HttpMethod::Get)
        && (path.starts_with("/v1/spaces") || path == "/v1/events" || path == "/v1/utilisation")
}

fn error(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "ErrorBody",
            )))),
        )
        .build()
}

fn rate_limited() -> Response {
    let mut r = error(
        "`rate_limited`: this token (or, for failed authentications, this address) is over its rate limit",
    );
    r.headers.insert(
        "Retry-After".into(),
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                ))
                .description(Some("seconds to wait before retrying"))
                .build(),
        ),
    );
    r
}

fn document(method: &HttpMethod, path: &str, op: &mut Operation) {
    if op.security.is_none() {
        return;
    }
    let has = |place: ParameterIn| {
        op.parameters.iter().flatten().any(|p| match p {
            RefOr::T(p) => p.parameter_in == place,
            RefOr::Ref(_) => false,
        })
    };
    let mut errors: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut say = |status, what| errors.entry(status).or_default().push(what);
    say("401", "`unauthorized`: no bearer token, or an unknown one");
    if !open_to_every_role(method, path) {
        say("403", "`forbidden`: the token's role may not do this");
    }
    say(
        "503",
        "`unavailable`: the store is unavailable; retry shortly",
    );
    if has(ParameterIn::Path) {
        say("400", "`invalid_path`: a path segment that does not decode");
        say("404", "`not_found`: no such resource");
    }
    if has(ParameterIn::Query) {
        say("400", "`invalid_query`: a query string that does not parse");
        say(
            "422",
            "`invalid_time`, `invalid_range` or `invalid_id`: a bad query value",
        );
    }
    if has(ParameterIn::Header) {
        say("400", "`invalid_idempotency_key`");
    }
    if op.request_body.is_some() {
        say(
            "400",
            "`invalid_json`: the body is not JSON; `invalid_body`: the body could not be read",
        );
        say("413", "`body_too_large`: the body is over 64 KiB");
        say(
            "415",
            "`unsupported_media_type`: send Content-Type: application/json",
        );
        say("422", "`invalid_body` or an invalid value");
    } else {
        say(
            "413",
            "`body_not_allowed`: this route takes no request body",
        );
    }
    for (status, what) in errors {
        let what = what.join("; ");
        match op.responses.responses.entry(status.into()) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(RefOr::T(error(&what)));
            }
            // The handler's own answer for this status: the common causes join its own.
            std::collections::btree_map::Entry::Occupied(mut o) => {
                if let RefOr::T(r) = o.get_mut() {
                    r.description = format!("{}; {what}", r.description);
                }
            }
        }
    }
    op.responses
        .responses
        .entry("429".into())
        .or_insert_with(|| RefOr::T(rate_limited()));
}

/// Adds the common error answers to every authenticated operation of `doc` (their body is
/// the `ErrorBody` schema the handlers' own error answers register).
pub fn document_errors(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Patch, &mut item.patch),
            (HttpMethod::Delete, &mut item.delete),
        ] {
            if let Some(op) = op {
                document(&method, path, op);
            }
        }
    }
}
