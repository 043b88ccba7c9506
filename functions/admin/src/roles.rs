//! Roles: create, read, list, update, delete.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::directory::Role;
use shared::http::{ApiError, Json, Path, Principal};
use shared::paging::ListPage;
use shared::tenancy::roles::{self, NewRole, RolePatch};
use shared::versioned::Precondition;

use crate::record;

fn role(status: StatusCode, role: &Role) -> Response {
    record(status, role.version, "/v1/roles", &role.id, role)
}

pub(crate) async fn list_roles(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ListPage<Role>>, ApiError> {
    roles::list(&state, &principal)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn create_role(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewRole>,
) -> Result<Response, ApiError> {
    let created = roles::create(&state, &principal, input).await?;
    Ok(role(StatusCode::CREATED, &created))
}

pub(crate) async fn get_role(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let found = roles::get(&state, &principal, &id).await?;
    Ok(role(StatusCode::OK, &found))
}

pub(crate) async fn update_role(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<RolePatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let changed = roles::update(&state, &principal, &id, precondition, patch).await?;
    Ok(role(StatusCode::OK, &changed))
}

pub(crate) async fn delete_role(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    roles::delete(
        &state,
        &principal,
        &id,
        Precondition::from_headers(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
