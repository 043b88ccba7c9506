//! Tickets: create, read, list, update, delete, their history, and their comments.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::http::versions::{Precondition, record_response};
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::TicketId;
use shared::paging::{ListPage, ListParams};
use shared::policy::View;
use shared::tickets::comments::{self, Comment, NewComment};
use shared::tickets::service::{self as tickets, TicketChange, TicketQuery};
use shared::tickets::{NewTicket, TicketPatch};

fn ticket_response(status: StatusCode, ticket: View) -> Response {
    record_response(status, "/v1/tickets", ticket.id(), ticket.version, &ticket)
}

pub(crate) async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewTicket>,
) -> Result<Response, ApiError> {
    let ticket = tickets::create(&state, &principal, input).await?;
    Ok(ticket_response(StatusCode::CREATED, ticket))
}

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

pub(crate) async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TicketId>,
) -> Result<Response, ApiError> {
    let ticket = tickets::get(&state, &principal, &id).await?;
    Ok(ticket_response(StatusCode::OK, ticket))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TicketId>,
    headers: HeaderMap,
    Json(patch): Json<TicketPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let ticket = tickets::update(&state, &principal, &id, precondition, patch).await?;
    Ok(ticket_response(StatusCode::OK, ticket))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TicketId>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    tickets::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
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
