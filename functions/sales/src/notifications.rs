//! Each user's notifications: the list, and marking one or all as read.

use axum::Json as JsonResponse;
use axum::extract::State;
use shared::AppState;
use shared::http::{ApiError, Path, Principal, Query};
use shared::ids::NotificationId;
use shared::notifications::{self, Notification, NotificationQuery};
use shared::paging::ListPage;

pub(crate) async fn list_notifications(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<NotificationQuery>,
) -> Result<JsonResponse<ListPage<Notification>>, ApiError> {
    notifications::list(&state, &principal, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn read_notification(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<NotificationId>,
) -> Result<JsonResponse<Notification>, ApiError> {
    notifications::mark_read(&state, &principal, &id)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

#[derive(serde::Serialize)]
pub(crate) struct Marked {
    marked: usize,
}

pub(crate) async fn read_all_notifications(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<Marked>, ApiError> {
    let marked = notifications::mark_all_read(&state, &principal).await?;
    Ok(JsonResponse(Marked { marked }))
}
