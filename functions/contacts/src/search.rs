//! The global search across the customer records.

use axum::Json as JsonResponse;
use axum::extract::State;
use shared::AppState;
use shared::http::{ApiError, Principal, Query};
use shared::search::global::{self, Results, SearchQuery};

pub(crate) async fn search(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<SearchQuery>,
) -> Result<JsonResponse<Results>, ApiError> {
    global::search(&state, &principal, params)
        .await
        .map(JsonResponse)
}
