//! The `audit` function: the tenant's audit log, read-only. Entries are written by the
//! services that make the changes, in the same transactions; no route alters them.

use axum::Json as JsonResponse;
use axum::extract::State;
use shared::AppState;
use shared::audit::{self, Entry, Filter};
use shared::http::{ApiError, Principal, Query, Routes};
use shared::paging::ListPage;

pub fn routes() -> Routes {
    Routes::new().get("/v1/audit", list)
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(filter): Query<Filter>,
) -> Result<JsonResponse<ListPage<Entry>>, ApiError> {
    audit::list(&state, &principal, filter)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
