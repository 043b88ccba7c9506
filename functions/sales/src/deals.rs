//! Deals' own handlers: the list with its filters and a deal's stage history
//! (create, read, update and delete are the record engine's handlers, `shared::http::records`).

use axum::Json as JsonResponse;
use axum::extract::State;
use shared::AppState;
use shared::deals::service::{self as deals, DealQuery, StageChange};
use shared::http::{ApiError, Path, Principal, Query};
use shared::ids::DealId;
use shared::paging::{ListPage, ListParams};
use shared::policy::View;

pub(crate) async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<DealQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    deals::list(&state, &principal, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<DealId>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<StageChange>>, ApiError> {
    deals::history(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
