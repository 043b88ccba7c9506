//! Contacts' own handlers: the list and upserts in bulk by an external system's id
//! (create, read with masked fields in clear on request, update, delete, the timeline and
//! activities are the record engine's handlers, `shared::http::records`).

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use shared::AppState;
use shared::contacts::service::{self, ContactQuery};
use shared::external::{BulkUpsert, Object};
use shared::http::{ApiError, FilterQuery, Json, Principal};
use shared::paging::ListPage;
use shared::policy::View;

use crate::{bulk_upsert, record};

/// A record with its `ETag` (and `Location` under `collection` when just created).
pub(crate) fn with_etag(status: StatusCode, contact: View) -> Response {
    record(status, "/v1/contacts", contact)
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
