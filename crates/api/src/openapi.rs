//! The OpenAPI document: what the handlers declare, plus the error answers every route of a
//! kind can give (the extractors' 400/401/413/415/422, the rate limit's 429, the store's 503),
//! so the document lists every status a client can see.

use std::collections::BTreeMap;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, OpenApi, RefOr};

/// Routes any role may call (no 403): reads of spaces and the event stream.
fn open_to_every_role(method: &HttpMethod, path: &str) -> bool {
    matches!(method, HttpMethod::Get) && (path.starts_with("/v1/spaces") || path == "/v1/events")
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
        say("400", "`invalid_json`: the body is not JSON");
        say("413", "`body_too_large`: the body is over 64 KiB");
        say(
            "415",
            "`unsupported_media_type`: send Content-Type: application/json",
        );
        say("422", "`invalid_body` or an invalid value");
    }
    for (status, what) in errors {
        op.responses
            .responses
            .entry(status.into())
            .or_insert_with(|| RefOr::T(error(&what.join("; "))));
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
