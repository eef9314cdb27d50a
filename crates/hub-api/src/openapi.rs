//! The errors every API route can answer, added to the generated OpenAPI document in one place.
//!
//! The annotations of each handler list what is particular to it (403 for a missing role, 409
//! for a state conflict, 429 where it is rate-limited, 404 for a missing parent...). What comes
//! from the extractors and layers shared by all routes is added here, from what the operation
//! declares: a JSON body can be malformed (400), too large (413), of another media type (415)
//! or invalid (422); query and header parameters can be invalid (422); a path parameter can
//! name nothing (404); a route with a security requirement refuses a missing, malformed or
//! expired token (401, also on routes where signing in is optional); and any route can be
//! overloaded, lose its database or time out (503 with `Retry-After`).

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};
use utoipa::Modify;

/// The media type of every error answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Adds the shared error answers to every operation under `/api/v1`.
pub struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, doc: &mut OpenApi) {
        for (path, item) in doc.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            for op in operations_mut(item) {
                add_common_errors(path, op);
            }
        }
    }
}

/// Every operation of a path.
pub fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn add_common_errors(path: &str, op: &mut Operation) {
    let has_body = op.request_body.is_some();
    let params = op.parameters.as_deref().unwrap_or(&[]);
    let has_query_or_header = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query | ParameterIn::Header));
    let has_path_param = path.contains('{');
    // An empty requirement (`{}`) means "anonymous is fine"; any other names a scheme.
    let authenticated = op.security.as_deref().unwrap_or(&[]).iter().any(|r| {
        serde_json::to_value(r)
            .ok()
            .and_then(|v| v.as_object().map(|o| !o.is_empty()))
            .unwrap_or(false)
    });

    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(problem(description)));
    };
    if has_body {
        add("400", "The body is not well-formed JSON");
    }
    if authenticated {
        add(
            "401",
            "The token is missing (where signing in is required), malformed, unknown, expired or revoked",
        );
    }
    if has_path_param {
        add("404", "No such resource (a malformed id names none)");
    }
    if has_body {
        add(
            "413",
            "The body is larger than this server accepts (`limits.body_limit_bytes`)",
        );
        add("415", "The body is not sent as `application/json`");
    }
    if has_body || has_query_or_header {
        add(
            "422",
            "A field, parameter or header is invalid; `errors` names each field at fault",
        );
    }
    add(
        "503",
        "Overloaded, the database is unreachable, or the request timed out; retry after `Retry-After` seconds",
    );
    for (status, response) in op.responses.responses.iter_mut() {
        if let (RefOr::T(response), "429" | "503") = (response, status.as_str()) {
            response
                .headers
                .entry("Retry-After".to_string())
                .or_insert_with(retry_after);
        }
    }
}

/// An error answer: a `Problem` as `application/problem+json`.
pub fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn retry_after() -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        )
        .description(Some("Seconds to wait before trying again"))
        .build()
}
