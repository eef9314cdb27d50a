//! The errors every API route can answer, added to the generated OpenAPI document in one place.
//!
//! The annotations of each handler list what is particular to it (403 for a missing role, 409
//! for a state conflict, 429 where it is rate-limited, 404 for a missing parent...). What comes
//! from the extractors and layers shared by all routes is added here, from what the operation
//! declares: a JSON body can be malformed (400), too large (413), of another media type (415)
//! or invalid (422); query and header parameters can be invalid (422); a path parameter can
//! name nothing (404); a route with a security requirement refuses a missing, malformed or
//! expired token (401, also on routes where signing in is optional); and any route can be
//! overloaded, lose its database or time out (503 with `Retry-After`). An answer left without a
//! description gets its status's reason phrase.

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
            for op in operations_mut(item) {
                if path.starts_with("/api/v1/") {
                    add_common_errors(path, op);
                }
                describe_undescribed(op);
            }
        }
    }
}

/// An answer the annotation gave no description gets the status's reason phrase.
fn describe_undescribed(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            if response.description.is_empty() {
                let reason = status
                    .parse::<u16>()
                    .ok()
                    .and_then(|s| http::StatusCode::from_u16(s).ok())
                    .and_then(|s| s.canonical_reason());
                response.description = reason.unwrap_or("Answer").to_string();
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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::to_value(crate::openapi()).expect("the document serialises")
    }

    /// Every `(method, path, operation)` of the document.
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                if op.get("responses").is_some() {
                    out.push((method.clone(), path.clone(), op.clone()));
                }
            }
        }
        out
    }

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_ref_points_at_a_schema() {
        let doc = doc();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        let dangling: Vec<&str> = found
            .into_iter()
            .filter(|r| {
                let name = r.strip_prefix("#/components/schemas/");
                name.is_none_or(|n| doc["components"]["schemas"].get(n).is_none())
            })
            .collect();
        assert!(dangling.is_empty(), "dangling $refs: {dangling:?}");
    }

    #[test]
    fn path_parameters_are_those_of_the_template() {
        let doc = doc();
        let mut wrong = Vec::new();
        for (method, path, op) in operations(&doc) {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut declared: Vec<String> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect();
            let mut template: Vec<String> = path
                .split('{')
                .skip(1)
                .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_string()))
                .collect();
            declared.sort();
            template.sort();
            if declared != template {
                wrong.push(format!("{method} {path}: declared {declared:?}"));
            }
        }
        assert!(
            wrong.is_empty(),
            "path parameters not in their paths: {wrong:#?}"
        );
    }

    #[test]
    fn every_error_is_problem_json() {
        let doc = doc();
        let mut wrong = Vec::new();
        for (method, path, op) in operations(&doc) {
            for (status, response) in op["responses"].as_object().expect("responses") {
                // The readiness answer is the same body whether ready or not.
                if !(status.starts_with('4') || status.starts_with('5')) || path == "/readyz" {
                    continue;
                }
                let types: Vec<&String> = response["content"]
                    .as_object()
                    .map(|c| c.keys().collect())
                    .unwrap_or_default();
                if types.len() != 1 || types[0] != super::PROBLEM_JSON {
                    wrong.push(format!("{method} {path} {status}: {types:?}"));
                }
            }
        }
        assert!(wrong.is_empty(), "errors not as problem+json: {wrong:#?}");
    }

    #[test]
    fn every_answer_is_described() {
        let doc = doc();
        for (method, path, op) in operations(&doc) {
            for (status, response) in op["responses"].as_object().expect("responses") {
                let d = response["description"].as_str().unwrap_or("");
                assert!(!d.is_empty(), "{method} {path} {status}");
            }
        }
    }

    #[test]
    fn shared_errors_follow_what_each_operation_takes() {
        let doc = doc();
        let has = |method: &str, path: &str, status: &str| {
            doc["paths"][path][method]["responses"]
                .get(status)
                .is_some()
        };
        // A JSON body: malformed, too large, another media type, invalid.
        for s in ["400", "401", "404", "413", "415", "422", "503"] {
            assert!(has("post", "/api/v1/threads/{id}/posts", s), "{s}");
        }
        // No body, no token: none of those.
        assert!(!has("get", "/api/v1/regions", "400"));
        assert!(!has("get", "/api/v1/regions", "401"));
        assert!(!has("get", "/api/v1/regions", "415"));
        assert!(has("get", "/api/v1/regions", "503"));
        // Signing in optional: an invalid token is still a 401.
        assert!(has("get", "/api/v1/threads/{id}", "401"));
        let retry = &doc["paths"]["/api/v1/threads/{id}/posts"]["post"]["responses"];
        assert!(retry["429"]["headers"].get("Retry-After").is_some());
        assert!(retry["503"]["headers"].get("Retry-After").is_some());
    }

    /// The enums' values in the document are the words the API reads and writes.
    #[test]
    fn vocabularies_are_documented_as_spoken() {
        use hub_domain::*;
        fn check<T: serde::Serialize>(doc: &Value, name: &str, all: &[T]) {
            let wire: Vec<Value> = all
                .iter()
                .map(|v| serde_json::to_value(v).expect("a wire name"))
                .collect();
            let documented = doc["components"]["schemas"][name]["enum"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(documented, wire, "{name}");
        }
        let doc = doc();
        check(&doc, "PostKind", PostKind::ALL);
        check(&doc, "Aspect", Aspect::ALL);
        check(&doc, "PostStatus", PostStatus::ALL);
        check(&doc, "StakeholderGroup", StakeholderGroup::ALL);
        check(&doc, "RoleKind", RoleKind::ALL);
        check(&doc, "ThreadSort", ThreadSort::ALL);
        check(&doc, "FlagReason", FlagReason::ALL);
        check(&doc, "PostAction", PostAction::ALL);
        check(&doc, "ThreadAction", ThreadAction::ALL);
    }
}
