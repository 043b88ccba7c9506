//! Teams: create, read, list, rename, delete, and adding or removing a member.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::http::{ApiError, Json, Path, Principal};
use shared::ids::TeamId;
use shared::paging::ListPage;
use shared::tenancy::teams::{self, NewTeam, Team, TeamPatch};
use shared::versioned::Precondition;

use crate::record;

fn team(status: StatusCode, team: &Team) -> Response {
    record(status, team.version, "/v1/teams", &team.id, team)
}

pub(crate) async fn list_teams(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ListPage<Team>>, ApiError> {
    teams::list(&state, &principal)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn create_team(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewTeam>,
) -> Result<Response, ApiError> {
    let created = teams::create(&state, &principal, input).await?;
    Ok(team(StatusCode::CREATED, &created))
}

pub(crate) async fn get_team(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TeamId>,
) -> Result<Response, ApiError> {
    let found = teams::get(&state, &principal, &id).await?;
    Ok(team(StatusCode::OK, &found))
}

pub(crate) async fn rename_team(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TeamId>,
    headers: HeaderMap,
    Json(patch): Json<TeamPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let changed = teams::rename(&state, &principal, &id, precondition, patch).await?;
    Ok(team(StatusCode::OK, &changed))
}

pub(crate) async fn delete_team(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TeamId>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    teams::delete(
        &state,
        &principal,
        &id,
        Precondition::from_headers(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn add_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let changed = teams::add_member(&state, &principal, &id, &user_id).await?;
    Ok(team(StatusCode::OK, &changed))
}

pub(crate) async fn remove_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let changed = teams::remove_member(&state, &principal, &id, &user_id).await?;
    Ok(team(StatusCode::OK, &changed))
}
