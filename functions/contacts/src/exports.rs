//! Exports: starting one, and following it to its file.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::response::Response;
use shared::AppState;
use shared::exports::{self, ExportView, NewExport};
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::JobId;
use shared::paging::{ListPage, ListParams};

use crate::accepted;

pub(crate) async fn create_export(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewExport>,
) -> Result<Response, ApiError> {
    let export = exports::create(&state, &principal, input).await?;
    Ok(accepted("/v1/exports", &export.id, &export))
}

pub(crate) async fn list_exports(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<ExportView>>, ApiError> {
    exports::list(&state, &principal, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn get_export(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<JobId>,
) -> Result<JsonResponse<ExportView>, ApiError> {
    exports::get(&state, &principal, &id)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
