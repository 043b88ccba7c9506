//! Deals: create, read, list, update (and move between stages), delete, and a deal's
//! stage history.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::deals::service::{self as deals, DealQuery, StageChange};
use shared::deals::{DealPatch, NewDeal};
use shared::http::versions::{Precondition, record_response};
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::DealId;
use shared::paging::{ListPage, ListParams};
use shared::policy::View;

fn deal_response(status: StatusCode, deal: View) -> Response {
    record_response(status, "/v1/deals", deal.id(), deal.version, &deal)
}

pub(crate) async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewDeal>,
) -> Result<Response, ApiError> {
    let deal = deals::create(&state, &principal, input).await?;
    Ok(deal_response(StatusCode::CREATED, deal))
}

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

pub(crate) async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<DealId>,
) -> Result<Response, ApiError> {
    let deal = deals::get(&state, &principal, &id).await?;
    Ok(deal_response(StatusCode::OK, deal))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<DealId>,
    headers: HeaderMap,
    Json(patch): Json<DealPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let deal = deals::update(&state, &principal, &id, precondition, patch).await?;
    Ok(deal_response(StatusCode::OK, deal))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<DealId>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    deals::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
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
