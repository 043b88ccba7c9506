//! Tasks' own handler: the list with its views
//! (create, read, update and delete are the record engine's handlers, `shared::http::records`).

use axum::Json as JsonResponse;
use axum::extract::State;
use shared::AppState;
use shared::http::{ApiError, Principal, Query};
use shared::paging::ListPage;
use shared::policy::View;
use shared::tasks::service::{self as tasks, TaskQuery};

pub(crate) async fn list_tasks(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<TaskQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    tasks::list(&state, &principal, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
