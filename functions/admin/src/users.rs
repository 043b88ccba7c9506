//! Users: the list, invitations (and resending them), reading and updating a user, and
//! resetting a user's second factor.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::auth::mfa;
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::UserId;
use shared::paging::{ListPage, ListParams};
use shared::policy::View;
use shared::tenancy::users::{self, NewUser, UserPatch};
use shared::versioned::Precondition;

use crate::record;

fn view(status: StatusCode, collection: &str, v: View) -> Response {
    record(status, v.version, collection, v.id(), &v)
}

pub(crate) async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    users::list(&state, &principal, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn invite_user(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewUser>,
) -> Result<Response, ApiError> {
    let user = users::invite(&state, &principal, input).await?;
    Ok(view(StatusCode::CREATED, "/v1/users", user))
}

pub(crate) async fn get_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<UserId>,
) -> Result<Response, ApiError> {
    let user = users::get(&state, &principal, &id).await?;
    Ok(view(StatusCode::OK, "/v1/users", user))
}

pub(crate) async fn update_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<UserId>,
    headers: HeaderMap,
    Json(patch): Json<UserPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let user = users::update(&state, &principal, &id, precondition, patch).await?;
    Ok(view(StatusCode::OK, "/v1/users", user))
}

pub(crate) async fn resend_invitation(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    users::resend_invitation(&state, &principal, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

pub(crate) async fn reset_mfa(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    mfa::reset(&state, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
