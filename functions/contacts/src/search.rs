//! The global search across the customer records.

use axum::Json as JsonResponse;
use axum::extract::State;
use shared::AppState;
use shared::global_search::{self as global, Results, SearchQuery};
use shared::http::{ApiError, Principal, Query};

pub(crate) async fn search(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<SearchQuery>,
) -> Result<JsonResponse<Results>, ApiError> {
    global::search(&state, &principal, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
