//! Extractors that turn every malformed request into a problem+json 4xx with a reason,
//! instead of axum's plain-text rejections.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use hub_domain::validate::FieldError;
use hub_domain::{Suspension, User, Viewer};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// A JSON body, read within the body limit and deserialised with the path of the first bad
/// field. Keeps a digest of the raw request for idempotency keys.
///
/// A NUL (U+0000) in any string of the body is a 422 on that field: PostgreSQL refuses it in
/// text, and nobody types it. `ApiJson<T, false>` leaves that to the handler (sign-in, which
/// answers every bad e-mail with the 401 of a wrong password and never stores the password).
pub struct ApiJson<T, const REFUSE_NUL: bool = true> {
    /// The value.
    pub value: T,
    /// SHA-256 of method, path and body.
    pub fingerprint: String,
}

impl<T: DeserializeOwned, S: Send + Sync, const REFUSE_NUL: bool> FromRequest<S>
    for ApiJson<T, REFUSE_NUL>
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim().to_ascii_lowercase();
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::unsupported_media_type(
                "send the body as application/json",
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(req.method().as_str().as_bytes());
        hasher.update(b" ");
        hasher.update(req.uri().path().as_bytes());
        hasher.update(b"\n");
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large("the request body is larger than this server accepts")
            } else {
                ApiError::bad_request(format!("cannot read the request body: {e}"))
            }
        })?;
        hasher.update(&bytes);
        let value = if REFUSE_NUL {
            parse_json(&bytes)?
        } else {
            parse_json_any_text(&bytes)?
        };
        Ok(Self {
            value,
            fingerprint: hex::encode(hasher.finalize()),
        })
    }
}

/// Deserialises JSON, naming the field at fault: syntax errors are 400, type and value errors
/// (an unknown enum value, a string for a number, a missing field) are 422 on that field, and
/// so is a NUL (U+0000) in any string or key.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value = parse_json_any_text(bytes)?;
    // JSON can hold a NUL only as the escape `\u0000`; without one there is nothing to find.
    if bytes.windows(6).any(|w| w == b"\\u0000") {
        let field = match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(v) => {
                let mut path = String::new();
                nul_in(&v, &mut path).then(|| if path.is_empty() { "body".into() } else { path })
            }
            // Parsed as T but not as a value (nested too deep): refuse rather than look away.
            Err(_) => Some("body".to_string()),
        };
        if let Some(field) = field {
            return Err(ApiError::validation(vec![FieldError::new(
                field,
                "must not contain the NUL character (U+0000)",
            )]));
        }
    }
    Ok(value)
}

/// Whether a JSON value holds a NUL in a string or a key; `path` is left naming the first, as
/// serde_path_to_error names fields (`note`, `items[2].body`).
fn nul_in(v: &serde_json::Value, path: &mut String) -> bool {
    use serde_json::Value;
    let len = path.len();
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            path.truncate(len);
            path.push_str(&format!("[{i}]"));
            nul_in(item, path)
        }),
        Value::Object(fields) => fields.iter().any(|(k, item)| {
            path.truncate(len);
            if len > 0 {
                path.push('.');
            }
            path.push_str(&k.replace('\0', "\\u0000"));
            k.contains('\0') || nul_in(item, path)
        }),
        _ => false,
    }
}

/// [`parse_json`] without the search for NUL characters.
fn parse_json_any_text<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::bad_request(format!("malformed JSON: {inner}"))
            }
            Category::Data => {
                let field = if path == "." {
                    "body".to_string()
                } else {
                    path
                };
                ApiError::validation(vec![FieldError::new(
                    field,
                    strip_position(&inner.to_string()),
                )])
            }
        }
    })?;
    // One JSON value and nothing after it but white space: `{...} xyz` is not a body.
    de.end()
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// serde_json appends " at line 1 column 42"; the field path says more.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// A query string, deserialised with 4xx answers naming the bad parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        // Every parameter is one line of text; a control character (a NUL above all, which
        // PostgreSQL refuses in text) has no place in one.
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            if k.chars().any(char::is_control) {
                return Err(ApiError::invalid(
                    "query",
                    "a parameter name holds a control character",
                ));
            }
            if v.chars().any(char::is_control) {
                return Err(ApiError::invalid(
                    k.into_owned(),
                    "must not contain control characters",
                ));
            }
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                ApiError::invalid(
                    if field == "." { "query".into() } else { field },
                    e.into_inner().to_string(),
                )
            })
    }
}

/// A numeric id in the path; anything else is a 404 (there is no such resource).
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found("resource"))?;
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Id)
            .ok_or_else(|| ApiError::not_found("resource"))
    }
}

/// The signed-in user; 401 without a valid token.
pub struct Auth(pub User);

/// The signed-in user if any; an invalid token is still a 401 (the client should know).
pub struct MaybeAuth(pub Option<User>);

impl MaybeAuth {
    /// The viewer for redaction rules.
    pub fn viewer(&self) -> Viewer {
        viewer_of(self.0.as_ref())
    }
}

/// The viewer a user is (anonymous for none).
pub fn viewer_of(user: Option<&User>) -> Viewer {
    match user {
        Some(u) => Viewer {
            user_id: Some(u.id),
            roles: u.roles.clone(),
        },
        None => Viewer::anonymous(),
    }
}

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(v) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    match v.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::unauthorized("use Authorization: Bearer <token>")),
    }
}

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<User>() {
            return Ok(MaybeAuth(Some(user.clone())));
        }
        let Some(token) = bearer(parts)? else {
            return Ok(MaybeAuth(None));
        };
        let mut session = session_of(state, token).await?;
        // Suspended everywhere: no staff powers while it lasts, in every handler and read
        // (what a moderator may see, decide or delete), as on live connections.
        if session.suspension.is_some() {
            session
                .user
                .roles
                .retain(|r| r.role == hub_domain::RoleKind::Stakeholder);
        }
        let user = session.user.clone();
        parts.extensions.insert(user.clone());
        parts.extensions.insert(SessionSuspension(session));
        Ok(MaybeAuth(Some(user)))
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match MaybeAuth::from_request_parts(parts, state).await? {
            MaybeAuth(Some(u)) => Ok(Auth(u)),
            MaybeAuth(None) => Err(ApiError::unauthorized(
                "sign in first: Authorization: Bearer <token>",
            )),
        }
    }
}

/// The suspension everywhere of the signed-in user, read with their session (one query for
/// both). A suspension in one region is looked up where something is done in a region.
#[derive(Debug, Clone)]
struct SessionSuspension(hub_store::Session);

/// The signed-in user and their active suspension, if any; 401 without a valid token.
pub struct AuthSuspension {
    /// The user.
    pub user: User,
    /// Their suspension everywhere in force when the request came in.
    pub suspension: Option<Suspension>,
    /// Whether a suspension in some region was in force too (see
    /// [`crate::routes::moderation`]'s `not_suspended`).
    pub suspended_in_a_region: bool,
}

impl FromRequestParts<AppState> for AuthSuspension {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Auth(user) = Auth::from_request_parts(parts, state).await?;
        let (suspension, suspended_in_a_region) = match parts.extensions.get::<SessionSuspension>()
        {
            Some(s) => (s.0.suspension.clone(), s.0.suspended_in_a_region),
            // The user came from elsewhere than the session lookup: ask (and look for a
            // regional suspension where it matters).
            None => (state.store.suspension_in(user.id, None).await?, true),
        };
        Ok(Self {
            user,
            suspension,
            suspended_in_a_region,
        })
    }
}

/// The bearer token of a request, its session not looked up yet: a handler with other work
/// to do first looks it up with [`BearerToken::authenticate`] while doing it (creating a post
/// renders its text meanwhile). No token, or a malformed `Authorization` header, is a 401 at
/// once, before the body is read.
pub struct BearerToken(String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match bearer(parts)? {
            Some(token) => Ok(Self(token.to_string())),
            None => Err(ApiError::unauthorized(
                "sign in first: Authorization: Bearer <token>",
            )),
        }
    }
}

impl BearerToken {
    /// The signed-in user and their suspension in force, as [`AuthSuspension`] gives them (the
    /// same 401s).
    pub async fn authenticate(&self, state: &AppState) -> Result<AuthSuspension, ApiError> {
        let s = session_of(state, &self.0).await?;
        Ok(AuthSuspension {
            user: s.user,
            suspension: s.suspension,
            suspended_in_a_region: s.suspended_in_a_region,
        })
    }
}

/// The user a bearer token signs in and their suspension in force; 401 for a token unknown,
/// expired or revoked.
async fn session_of(state: &AppState, token: &str) -> Result<hub_store::Session, ApiError> {
    state
        .store
        .session_full(&crate::auth::token_hash(token))
        .await?
        .ok_or_else(|| ApiError::unauthorized("the token is unknown, expired or revoked"))
}

/// The `Idempotency-Key` header, if sent: 1 to 255 visible ASCII characters.
pub struct IdempotencyKeyHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(v) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let s = v.to_str().unwrap_or("");
        if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(ApiError::invalid(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            ));
        }
        Ok(Self(Some(s.to_string())))
    }
}

/// The client's address: the TCP peer, or, when the peer is a trusted reverse proxy
/// (`trusted_proxies`), the address it says the request came from (see [`client_ip`]). Empty
/// when unknown (in-process tests).
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = match parts
            .extensions
            .get::<axum::extract::ConnectInfo<crate::listener::Peer>>()
        {
            Some(c) => Some(c.0 .0.ip()),
            None => parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        };
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// Who sent a request that reached the hub from `peer`. A peer that is not a trusted proxy is
/// the client, whatever its headers say (anyone can write `X-Forwarded-For`). From a trusted
/// proxy, the client is the rightmost address of `X-Forwarded-For` that is not a trusted proxy
/// itself: each proxy appends the address it was reached from, so what lies left of that may
/// be the client's own invention. Without a usable header, the proxy is all there is to go by.
pub fn client_ip(
    peer: Option<std::net::IpAddr>,
    headers: &axum::http::HeaderMap,
    trusted: &[ipnet::IpNet],
) -> String {
    let Some(peer) = peer else {
        return String::new();
    };
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer.to_string();
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) if is_trusted(&ip) => continue,
            Ok(ip) => return ip.to_string(),
            // Not an address: nothing further left can be trusted either.
            Err(_) => break,
        }
    }
    peer.to_string()
}

#[cfg(test)]
mod tests {
    use super::client_ip;
    use axum::http::{HeaderMap, HeaderValue};

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn the_client_is_the_rightmost_address_no_trusted_proxy_added() {
        let trusted: Vec<ipnet::IpNet> = vec![
            "10.0.0.0/8".parse().expect("net"),
            ipnet::IpNet::from("192.0.2.7".parse::<std::net::IpAddr>().expect("ip")),
        ];
        let from = |peer: &str, h: &HeaderMap| client_ip(peer.parse().ok(), h, &trusted);
        // Not from a proxy: the peer, whatever it claims.
        assert_eq!(from("203.0.113.9", &xff(&["1.2.3.4"])), "203.0.113.9");
        // From a proxy: what it appended, not what the client wrote before it.
        assert_eq!(from("10.1.2.3", &xff(&["1.2.3.4"])), "1.2.3.4");
        assert_eq!(from("10.1.2.3", &xff(&["6.6.6.6, 1.2.3.4"])), "1.2.3.4");
        assert_eq!(from("10.1.2.3", &xff(&["6.6.6.6", "1.2.3.4"])), "1.2.3.4");
        // Through two proxies.
        assert_eq!(from("192.0.2.7", &xff(&["1.2.3.4, 10.9.9.9"])), "1.2.3.4");
        assert_eq!(from("10.1.2.3", &xff(&["2001:db8::1"])), "2001:db8::1");
        // Nothing usable: the proxy is all there is.
        assert_eq!(from("10.1.2.3", &HeaderMap::new()), "10.1.2.3");
        assert_eq!(from("10.1.2.3", &xff(&["1.2.3.4, junk"])), "10.1.2.3");
        assert_eq!(from("10.1.2.3", &xff(&["10.2.2.2"])), "10.1.2.3");
        // No trusted proxies: headers never count.
        assert_eq!(
            client_ip("10.1.2.3".parse().ok(), &xff(&["1.2.3.4"]), &[]),
            "10.1.2.3"
        );
        assert_eq!(client_ip(None, &xff(&["1.2.3.4"]), &trusted), "");
    }
}
