//! Companies: create, read, list, update, delete, a company's contacts, and upserts in
//! bulk by an external system's id.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::companies::service::{self as companies, CompanyQuery};
use shared::companies::{CompanyPatch, NewCompany};
use shared::external::{BulkUpsert, Object};
use shared::http::{ApiError, FilterQuery, Json, Path, Principal, Query};
use shared::ids::CompanyId;
use shared::paging::{ListPage, ListParams};
use shared::policy::View;
use shared::versioned::Precondition;

use crate::{bulk_upsert, record};

pub(crate) async fn create_company(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewCompany>,
) -> Result<Response, ApiError> {
    let company = companies::create(&state, &principal, input).await?;
    Ok(record(StatusCode::CREATED, "/v1/companies", company))
}

pub(crate) async fn bulk_companies(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<BulkUpsert>,
) -> Result<JsonResponse<serde_json::Value>, ApiError> {
    bulk_upsert(state, principal, Object::Companies, input).await
}

pub(crate) async fn list_companies(
    State(state): State<AppState>,
    principal: Principal,
    FilterQuery(params, custom): FilterQuery<CompanyQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    companies::list(&state, &principal, params, custom)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn get_company(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<CompanyId>,
) -> Result<Response, ApiError> {
    let company = companies::get(&state, &principal, &id).await?;
    Ok(record(StatusCode::OK, "/v1/companies", company))
}

pub(crate) async fn update_company(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<CompanyId>,
    headers: HeaderMap,
    Json(patch): Json<CompanyPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let company = companies::update(&state, &principal, &id, precondition, patch).await?;
    Ok(record(StatusCode::OK, "/v1/companies", company))
}

pub(crate) async fn delete_company(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<CompanyId>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    companies::delete(
        &state,
        &principal,
        &id,
        Precondition::from_headers(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn company_contacts(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<CompanyId>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    companies::contacts(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
