//! The regional spaces and the GCM objectives.

use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::NaiveDate;
use hub_domain::calendar::{CalendarEvent, RegionCalendar, RegionDef};
use hub_domain::objectives::{negotiate_language, OBJECTIVES};
use hub_domain::RegionCounts;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_regions))
        .routes(routes!(get_region))
        .routes(routes!(list_objectives))
}

/// A regional discussion space.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionView {
    /// Slug (`europe`, ...).
    pub slug: String,
    /// Name.
    pub name: String,
    /// The UN regional commission that holds the review.
    pub commission: String,
    /// Languages of the space (BCP 47).
    pub languages: Vec<String>,
    /// Review cycles: pre-consultations, consultations, hearings and reviews.
    pub calendar: RegionCalendar,
    /// The next review, if one is ahead.
    pub next_review: Option<CalendarEvent>,
    /// When the analysis document for the current cycle is due (the review date less the
    /// configured lead days).
    pub analysis_due_at: Option<NaiveDate>,
    /// Activity counts.
    pub counts: RegionCounts,
}

fn view(r: &RegionDef, counts: RegionCounts, lead_days: u32) -> RegionView {
    let today = chrono::Utc::now().date_naive();
    RegionView {
        slug: r.slug.clone(),
        name: r.name.clone(),
        commission: r.commission.clone(),
        languages: r.languages.clone(),
        calendar: r.calendar.clone(),
        next_review: r
            .calendar
            .next_review(today)
            .filter(|e| !e.has_ended(today))
            .cloned(),
        analysis_due_at: r.calendar.analysis_due(today, lead_days),
        counts,
    }
}

/// The five regional spaces.
#[utoipa::path(get, path = "/regions", tag = "regions", responses((status = 200, body = Vec<RegionView>)))]
async fn list_regions(State(state): State<AppState>) -> ApiResult<Json<Vec<RegionView>>> {
    let counts = state.store.region_counts().await?;
    Ok(Json(
        state
            .regions
            .iter()
            .map(|r| {
                let c = counts
                    .iter()
                    .find(|(slug, _)| *slug == r.slug)
                    .map(|(_, c)| c.clone())
                    .unwrap_or_default();
                view(r, c, state.config.analysis_lead_days)
            })
            .collect(),
    ))
}

/// One regional space.
#[utoipa::path(get, path = "/regions/{slug}", tag = "regions",
    params(("slug" = String, Path, description = "Region slug")),
    responses((status = 200, body = RegionView), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_region(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<RegionView>> {
    let r = state
        .region(&slug)
        .ok_or_else(|| ApiError::not_found("region"))?;
    let counts = state.store.region_counts().await?;
    let c = counts
        .into_iter()
        .find(|(s, _)| *s == slug)
        .map(|(_, c)| c)
        .unwrap_or_default();
    Ok(Json(view(r, c, state.config.analysis_lead_days)))
}

/// A GCM objective.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectiveView {
    /// 1 to 23.
    pub id: u8,
    /// Short title in the negotiated language.
    pub title: String,
    /// The full title of the resolution (English).
    pub full_title: String,
    /// Language of `title`.
    pub language: String,
    /// IMRF round-table cluster (1 to 4).
    pub cluster: u8,
}

/// The 23 objectives; titles in English, French or Spanish by `Accept-Language`.
#[utoipa::path(get, path = "/objectives", tag = "regions", responses((status = 200, body = Vec<ObjectiveView>)))]
async fn list_objectives(headers: HeaderMap) -> Json<Vec<ObjectiveView>> {
    let lang = negotiate_language(headers.get("accept-language").and_then(|v| v.to_str().ok()));
    Json(
        OBJECTIVES
            .iter()
            .map(|o| ObjectiveView {
                id: o.id,
                title: o.short_title(lang).to_string(),
                full_title: o.title_en.to_string(),
                language: lang.to_string(),
                cluster: o.cluster,
            })
            .collect(),
    )
}
