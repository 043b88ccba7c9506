//! Tickets' own handlers: the list, a ticket's history and its comments
//! (create, read, update and delete are the record engine's handlers, `shared::http::records`).

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::StatusCode;
use shared::AppState;
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::TicketId;
use shared::paging::{ListPage, ListParams};
use shared::policy::View;
use shared::tickets::comments::{self, Comment, NewComment};
use shared::tickets::service::{self as tickets, TicketChange, TicketQuery};

pub(crate) async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<TicketQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    tickets::list(&state, &principal, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TicketId>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<TicketChange>>, ApiError> {
    tickets::history(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn list_comments(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TicketId>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<Comment>>, ApiError> {
    comments::list(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn comment(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TicketId>,
    Json(input): Json<NewComment>,
) -> Result<(StatusCode, JsonResponse<Comment>), ApiError> {
    let made = comments::create(&state, &principal, &id, input).await?;
    Ok((StatusCode::CREATED, JsonResponse(made)))
}
