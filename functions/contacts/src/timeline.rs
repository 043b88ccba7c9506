//! Contacts' and companies' timelines, and the activities logged on them.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::StatusCode;
use shared::AppState;
use shared::companies::service as companies;
use shared::contacts::service;
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::{CompanyId, ContactId};
use shared::paging::{ListPage, ListParams};
use shared::timeline::{NewActivity, TimelineEntry};

pub(crate) async fn log_contact_activity(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ContactId>,
    Json(input): Json<NewActivity>,
) -> Result<(StatusCode, JsonResponse<TimelineEntry>), ApiError> {
    let entry = service::log_activity(&state, &principal, &id, input).await?;
    Ok((StatusCode::CREATED, JsonResponse(entry)))
}

pub(crate) async fn contact_timeline(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ContactId>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<TimelineEntry>>, ApiError> {
    service::timeline(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn log_company_activity(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<CompanyId>,
    Json(input): Json<NewActivity>,
) -> Result<(StatusCode, JsonResponse<TimelineEntry>), ApiError> {
    let entry = companies::log_activity(&state, &principal, &id, input).await?;
    Ok((StatusCode::CREATED, JsonResponse(entry)))
}

pub(crate) async fn company_timeline(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<CompanyId>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<TimelineEntry>>, ApiError> {
    companies::timeline(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
