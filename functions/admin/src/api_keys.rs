//! API keys: create (the secret shown once), read, list, revoke, and reassign to another
//! user.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use shared::AppState;
use shared::auth::api_keys::{self, ApiKeyView, CreatedKey, NewApiKey, Reassignment};
use shared::http::idempotency::shown_once;
use shared::http::{ApiError, Json, Path, Principal};
use shared::ids::ApiKeyId;
use shared::paging::ListPage;

use crate::record;

pub(crate) async fn list_keys(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ListPage<ApiKeyView>>, ApiError> {
    api_keys::list(&state, &principal)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn create_key(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewApiKey>,
) -> Result<Response, ApiError> {
    let created: CreatedKey = api_keys::create(&state, &principal, input).await?;
    let (version, id) = (created.key.version, created.key.id.clone());
    Ok(shown_once(record(
        StatusCode::CREATED,
        version,
        "/v1/api-keys",
        &id,
        &created,
    )))
}

pub(crate) async fn get_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ApiKeyId>,
) -> Result<JsonResponse<ApiKeyView>, ApiError> {
    api_keys::get(&state, &principal, &id)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn reassign_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ApiKeyId>,
    Json(input): Json<Reassignment>,
) -> Result<JsonResponse<ApiKeyView>, ApiError> {
    api_keys::reassign(&state, &principal, &id, input)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ApiKeyId>,
) -> Result<StatusCode, ApiError> {
    api_keys::revoke(&state, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
