//! Companies' own handlers: the list, a company's contacts and upserts in bulk by an
//! external system's id (create, read, update, delete, the timeline and activities are
//! the record engine's handlers, `shared::http::records`).

use axum::Json as JsonResponse;
use axum::extract::State;
use shared::AppState;
use shared::companies::service::{self as companies, CompanyQuery};
use shared::external::{BulkUpsert, Object};
use shared::http::{ApiError, FilterQuery, Json, Path, Principal, Query};
use shared::ids::CompanyId;
use shared::paging::{ListPage, ListParams};
use shared::policy::View;

use crate::bulk_upsert;

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
