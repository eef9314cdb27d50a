//! Registration, sign-in, sign-out and the current user.

use crate::auth::{new_token, token_hash};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{bearer, ApiJson, Auth, ClientIp};
use crate::ratelimit::Limit;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{request::Parts, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use hub_domain::validate::{self, Checker};
use hub_domain::{StakeholderGroup, User};
use hub_store::{NewUser, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// A registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// E-mail address (sign-in name).
    pub email: String,
    /// At least 12 characters.
    pub password: String,
    /// Name shown with posts.
    pub display_name: String,
    /// Organisation.
    pub organisation: Option<String>,
    /// Stakeholder group.
    pub stakeholder_group: StakeholderGroup,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
    /// Preferred language (BCP 47).
    pub language: Option<String>,
    /// May analysis documents name the organisation (default false).
    #[serde(default)]
    pub attribution: bool,
}

/// A session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Bearer token; keep it secret.
    pub token: String,
    /// The user.
    pub user: User,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

/// Signing in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// E-mail address.
    pub email: String,
    /// Password.
    pub password: String,
}

async fn start_session(state: &AppState, user: User) -> ApiResult<SessionResponse> {
    let token = new_token();
    let expires_at = Utc::now() + chrono::Duration::hours(state.config.token_ttl_hours);
    state
        .store
        .create_session(&token_hash(&token), user.id, expires_at.timestamp_micros())
        .await?;
    Ok(SessionResponse {
        token,
        user,
        expires_at,
    })
}

/// Creates an account and signs it in.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = SessionResponse), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Registration is closed", body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Too many registrations from this address", body = Problem, content_type = "application/problem+json")))]
async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<SessionResponse>)> {
    if !state.config.registration_open {
        return Err(ApiError::forbidden("registration is closed"));
    }
    signup_limit(&state, &ip).await?;
    let r = body.value;
    let mut c = Checker::new();
    let email = c.check(validate::email(&r.email));
    c.check(validate::password(&r.password));
    let display_name = c.check(validate::display_name(&r.display_name));
    let organisation = c.check(validate::organisation(r.organisation.as_deref()));
    let country = match r.country.as_deref() {
        Some(x) => c.check(validate::country(x)).map(Some),
        None => Some(None),
    };
    let language = match r.language.as_deref() {
        Some(x) => c.check(validate::language(x)).map(Some),
        None => Some(None),
    };
    c.finish().map_err(ApiError::validation)?;
    let (Some(email), Some(display_name), Some(organisation), Some(country), Some(language)) =
        (email, display_name, organisation, country, language)
    else {
        return Err(ApiError::internal("validation passed without values"));
    };
    let password_hash = state.hasher.hash(r.password).await?;
    let user = state
        .store
        .create_user(&NewUser {
            email,
            password_hash,
            display_name,
            organisation,
            stakeholder_group: r.stakeholder_group,
            country,
            language,
            attribution: r.attribution,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::invalid(
                "email",
                "an account with this e-mail exists; sign in instead",
            ),
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(start_session(&state, user).await?),
    ))
}

/// Signs in. Unknown e-mail and wrong password get the same 401.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: ApiJson<LoginRequest, false>,
) -> ApiResult<Json<SessionResponse>> {
    let r = body.value;
    // Five times the per-e-mail budget per address; in a trusted network (a venue's shared
    // address), for each account that signed in from it this hour.
    let seen = if trusted_network(&state, &ip) {
        state.limiter.accounts_seen(&ip, None).await
    } else {
        1
    };
    let per_ip = Limit::per_minute(
        state
            .config
            .login_attempts_per_minute
            .saturating_mul(5)
            .saturating_mul(u32::try_from(seen).unwrap_or(u32::MAX)),
    );
    // The address first: a throttled address does not get to count (and store) e-mails.
    state
        .limiter
        .check("login_ip", &ip, per_ip, "sign-in attempts")
        .await?;
    // An address registration would refuse names no account: the same 401 as a wrong password
    // (and a NUL, which PostgreSQL refuses in text, never reaches the database).
    let Ok(email) = validate::email(&r.email) else {
        return Err(ApiError::unauthorized("wrong e-mail or password"));
    };
    // Per e-mail and address, then per e-mail from everywhere with a higher ceiling: someone
    // guessing from one address is stopped there without locking the owner out of another.
    let per_pair = Limit::per_minute(state.config.login_attempts_per_minute);
    state
        .limiter
        .check(
            "login_email_ip",
            &format!("{email}|{ip}"),
            per_pair,
            "sign-in attempts",
        )
        .await?;
    let ceiling = Limit::per_minute(state.config.login_attempts_per_email_per_minute);
    state
        .limiter
        .check("login_email", &email, ceiling, "sign-in attempts")
        .await?;
    let found = state.store.user_by_email(&email).await?;
    let hash = found.as_ref().map(|(_, h)| h.clone());
    let ok = state.hasher.verify(r.password, hash).await?;
    match found {
        Some((user, _)) if ok => {
            state.limiter.accounts_seen(&ip, Some(user.id)).await;
            Ok(Json(start_session(&state, user).await?))
        }
        _ => Err(ApiError::unauthorized("wrong e-mail or password")),
    }
}

/// Whether the client address is in `limits.trusted_networks`.
fn trusted_network(state: &AppState, ip: &str) -> bool {
    ip.parse::<std::net::IpAddr>().is_ok_and(|a| {
        state
            .config
            .limits
            .trusted_networks
            .iter()
            .any(|n| n.contains(&a))
    })
}

/// Counts a registration against its address's hourly limit, unless the address is in a
/// trusted network (a venue or an office where many people sign up from one address).
async fn signup_limit(state: &AppState, ip: &str) -> ApiResult<()> {
    let limits = &state.config.limits;
    if trusted_network(state, ip) {
        return Ok(());
    }
    state
        .limiter
        .check(
            "signup_ip",
            ip,
            Limit::per_hour(limits.signups_per_ip_per_hour),
            "registrations from this address",
        )
        .await
}

/// Ends the session of the token used.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn logout(State(state): State<AppState>, _user: Auth, parts: Parts) -> ApiResult<StatusCode> {
    if let Some(token) = bearer(&parts)? {
        state.store.delete_session(&token_hash(token)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn me(Auth(user): Auth) -> Json<User> {
    Json(user)
}
