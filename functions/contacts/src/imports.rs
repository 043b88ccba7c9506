//! CSV imports: starting one, following it, and its report row by row.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::response::Response;
use shared::AppState;
use shared::http::extract::raw_body;
use shared::http::{ApiError, MapQuery, Path, Principal, Query};
use shared::ids::JobId;
use shared::imports::{self, ImportOptions, ImportView, RowReport};
use shared::paging::{ListPage, ListParams};

use crate::accepted;

pub(crate) async fn create_import(
    State(state): State<AppState>,
    principal: Principal,
    MapQuery(options, mapping): MapQuery<ImportOptions>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let body = raw_body(
        request,
        &["text/csv", "text/plain", "application/octet-stream"],
        state.config.max_import_bytes,
    )
    .await?;
    let import = imports::create(&state, &principal, options, mapping, &body).await?;
    Ok(accepted("/v1/imports", &import.id, &import))
}

pub(crate) async fn list_imports(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<ImportView>>, ApiError> {
    imports::list(&state, &principal, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn get_import(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<JobId>,
) -> Result<JsonResponse<ImportView>, ApiError> {
    imports::get(&state, &principal, &id)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn import_rows(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<JobId>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<RowReport>>, ApiError> {
    imports::rows(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
