//! Contacts: create, read (masked fields in clear on request), list, update, delete, and
//! upserts in bulk by an external system's id.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::contacts::service::{self, ContactQuery};
use shared::contacts::{ContactPatch, NewContact};
use shared::external::{BulkUpsert, Object};
use shared::http::{ApiError, FilterQuery, Json, Path, Principal, Query};
use shared::ids::ContactId;
use shared::paging::ListPage;
use shared::policy::View;
use shared::versioned::Precondition;

use crate::{bulk_upsert, record};

/// Options of `GET /v1/contacts/{id}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetOptions {
    /// Show masked fields in clear (needs `reveal`; audited).
    #[serde(default)]
    reveal: bool,
}

/// A record with its `ETag` (and `Location` under `collection` when just created).
pub(crate) fn with_etag(status: StatusCode, contact: View) -> Response {
    record(status, "/v1/contacts", contact)
}

pub(crate) async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewContact>,
) -> Result<Response, ApiError> {
    let contact = service::create(&state, &principal, input).await?;
    Ok(with_etag(StatusCode::CREATED, contact))
}

pub(crate) async fn bulk_contacts(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<BulkUpsert>,
) -> Result<JsonResponse<serde_json::Value>, ApiError> {
    bulk_upsert(state, principal, Object::Contacts, input).await
}

pub(crate) async fn list(
    State(state): State<AppState>,
    principal: Principal,
    FilterQuery(params, custom): FilterQuery<ContactQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    service::list(&state, &principal, params, custom)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ContactId>,
    Query(options): Query<GetOptions>,
) -> Result<Response, ApiError> {
    let contact = service::get(&state, &principal, &id, options.reveal).await?;
    Ok(with_etag(StatusCode::OK, contact))
}

pub(crate) async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ContactId>,
    headers: HeaderMap,
    Json(patch): Json<ContactPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let contact = service::update(&state, &principal, &id, precondition, patch).await?;
    Ok(with_etag(StatusCode::OK, contact))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ContactId>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    service::delete(
        &state,
        &principal,
        &id,
        Precondition::from_headers(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
