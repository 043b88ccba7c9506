//! Duplicate contacts: the groups that look alike, and merging one contact into another.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::contacts::merge::{self as merging, DuplicateGroup, MergeRequest};
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::ContactId;
use shared::paging::{ListPage, ListParams};
use shared::versioned::Precondition;

use crate::contacts::with_etag;

pub(crate) async fn duplicates(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<DuplicateGroup>>, ApiError> {
    merging::duplicates(&state, &principal, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn merge(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ContactId>,
    headers: HeaderMap,
    Json(input): Json<MergeRequest>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let contact = merging::merge(&state, &principal, &id, precondition, input).await?;
    Ok(with_etag(StatusCode::OK, contact))
}
