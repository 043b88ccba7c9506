//! The `admin` function: what tenant admins manage (users and their invitations, teams,
//! roles, API keys, webhooks and the event list). Handlers only translate HTTP to calls of `shared::tenancy` and
//! `shared::auth::api_keys`.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shared::AppState;
use shared::auth::api_keys::{self, ApiKeyView, CreatedKey, NewApiKey, Reassignment};
use shared::auth::mfa;
use shared::fields::FieldDef;
use shared::fields::service::{self as fields, FieldPatch, FieldQuery, NewField};
use shared::http::cursor::{ListPage, ListParams};
use shared::http::idempotency::shown_once;
use shared::http::versions::{Precondition, etag};
use shared::http::{ApiError, Json, Path, Principal, Query, Routes};
use shared::policy::View;
use shared::tenancy::Role;
use shared::tenancy::roles::{self, NewRole, RolePatch};
use shared::tenancy::settings::{
    self, General, GeneralPatch, Sales, SalesPatch, Security, SecurityPatch,
};
use shared::tenancy::teams::{self, NewTeam, Team, TeamPatch};
use shared::tenancy::users::{self, NewUser, UserPatch};
use shared::tickets::settings::{self as service_settings, ServiceSettings, ServiceSettingsPatch};

mod webhooks;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/users", list_users)
        .post("/v1/users", invite_user)
        .get("/v1/users/{id}", get_user)
        .patch("/v1/users/{id}", update_user)
        .post("/v1/users/{id}/invitation", resend_invitation)
        .delete("/v1/users/{id}/mfa", reset_mfa)
        .get("/v1/settings/general", general)
        .patch("/v1/settings/general", update_general)
        .get("/v1/settings/security", security)
        .patch("/v1/settings/security", update_security)
        .get("/v1/settings/sales", sales)
        .patch("/v1/settings/sales", update_sales)
        .get("/v1/settings/service", service)
        .patch("/v1/settings/service", update_service)
        .get("/v1/settings/fields", list_fields)
        .post("/v1/settings/fields", create_field)
        .patch("/v1/settings/fields/{id}", update_field)
        .delete("/v1/settings/fields/{id}", remove_field)
        .get("/v1/roles", list_roles)
        .post("/v1/roles", create_role)
        .get("/v1/roles/{id}", get_role)
        .patch("/v1/roles/{id}", update_role)
        .delete("/v1/roles/{id}", delete_role)
        .get("/v1/teams", list_teams)
        .post("/v1/teams", create_team)
        .get("/v1/teams/{id}", get_team)
        .patch("/v1/teams/{id}", rename_team)
        .delete("/v1/teams/{id}", delete_team)
        .put("/v1/teams/{id}/members/{user_id}", add_member)
        .delete("/v1/teams/{id}/members/{user_id}", remove_member)
        .get("/v1/api-keys", list_keys)
        .post("/v1/api-keys", create_key)
        .get("/v1/api-keys/{id}", get_key)
        .delete("/v1/api-keys/{id}", revoke_key)
        .post("/v1/api-keys/{id}/reassign", reassign_key)
        .merge(webhooks::routes())
}

/// A record with its `ETag` (and `Location` when just created under `collection`).
fn record<T: Serialize>(
    status: StatusCode,
    version: u64,
    collection: &str,
    id: &str,
    body: &T,
) -> Response {
    let mut response =
        (status, [(header::ETAG, etag(version))], JsonResponse(body)).into_response();
    if status == StatusCode::CREATED
        && let Ok(location) = HeaderValue::from_str(&format!("{collection}/{id}"))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn view(status: StatusCode, collection: &str, v: View) -> Response {
    record(status, v.version, collection, v.id(), &v)
}

// Users

async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    users::list(&state, &principal, params)
        .await
        .map(JsonResponse)
}

async fn invite_user(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewUser>,
) -> Result<Response, ApiError> {
    let user = users::invite(&state, &principal, input).await?;
    Ok(view(StatusCode::CREATED, "/v1/users", user))
}

async fn get_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let user = users::get(&state, &principal, &id).await?;
    Ok(view(StatusCode::OK, "/v1/users", user))
}

async fn update_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<UserPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let user = users::update(&state, &principal, &id, precondition, patch).await?;
    Ok(view(StatusCode::OK, "/v1/users", user))
}

async fn resend_invitation(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    users::resend_invitation(&state, &principal, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn reset_mfa(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    mfa::reset(&state, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Settings

async fn general(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<General>, ApiError> {
    settings::general(&state, &principal)
        .await
        .map(JsonResponse)
}

async fn update_general(
    State(state): State<AppState>,
    principal: Principal,
    Json(patch): Json<GeneralPatch>,
) -> Result<JsonResponse<General>, ApiError> {
    settings::update_general(&state, &principal, patch)
        .await
        .map(JsonResponse)
}

async fn sales(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<Sales>, ApiError> {
    settings::sales(&state, &principal).await.map(JsonResponse)
}

async fn update_sales(
    State(state): State<AppState>,
    principal: Principal,
    Json(patch): Json<SalesPatch>,
) -> Result<JsonResponse<Sales>, ApiError> {
    settings::update_sales(&state, &principal, patch)
        .await
        .map(JsonResponse)
}

async fn service(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ServiceSettings>, ApiError> {
    service_settings::get(&state, &principal)
        .await
        .map(JsonResponse)
}

async fn update_service(
    State(state): State<AppState>,
    principal: Principal,
    Json(patch): Json<ServiceSettingsPatch>,
) -> Result<JsonResponse<ServiceSettings>, ApiError> {
    service_settings::update(&state, &principal, patch)
        .await
        .map(JsonResponse)
}

async fn security(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<Security>, ApiError> {
    settings::security(&state, &principal)
        .await
        .map(JsonResponse)
}

async fn update_security(
    State(state): State<AppState>,
    principal: Principal,
    Json(patch): Json<SecurityPatch>,
) -> Result<JsonResponse<Security>, ApiError> {
    settings::update_security(&state, &principal, patch)
        .await
        .map(JsonResponse)
}

// Custom fields

async fn list_fields(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<FieldQuery>,
) -> Result<JsonResponse<ListPage<FieldDef>>, ApiError> {
    let data = fields::list(&state, &principal, query).await?;
    Ok(JsonResponse(ListPage {
        data,
        next_cursor: None,
    }))
}

async fn create_field(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewField>,
) -> Result<Response, ApiError> {
    let field = fields::create(&state, &principal, input).await?;
    let mut response = (StatusCode::CREATED, JsonResponse(&field)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/settings/fields/{}", field.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn update_field(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(patch): Json<FieldPatch>,
) -> Result<JsonResponse<FieldDef>, ApiError> {
    fields::update(&state, &principal, &id, patch)
        .await
        .map(JsonResponse)
}

async fn remove_field(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    fields::remove(&state, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Roles

fn role(status: StatusCode, role: &Role) -> Response {
    record(status, role.version, "/v1/roles", &role.id, role)
}

async fn list_roles(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ListPage<Role>>, ApiError> {
    roles::list(&state, &principal).await.map(JsonResponse)
}

async fn create_role(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewRole>,
) -> Result<Response, ApiError> {
    let created = roles::create(&state, &principal, input).await?;
    Ok(role(StatusCode::CREATED, &created))
}

async fn get_role(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let found = roles::get(&state, &principal, &id).await?;
    Ok(role(StatusCode::OK, &found))
}

async fn update_role(
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

async fn delete_role(
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

// Teams

fn team(status: StatusCode, team: &Team) -> Response {
    record(status, team.version, "/v1/teams", &team.id, team)
}

async fn list_teams(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ListPage<Team>>, ApiError> {
    teams::list(&state, &principal).await.map(JsonResponse)
}

async fn create_team(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewTeam>,
) -> Result<Response, ApiError> {
    let created = teams::create(&state, &principal, input).await?;
    Ok(team(StatusCode::CREATED, &created))
}

async fn get_team(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let found = teams::get(&state, &principal, &id).await?;
    Ok(team(StatusCode::OK, &found))
}

async fn rename_team(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<TeamPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let changed = teams::rename(&state, &principal, &id, precondition, patch).await?;
    Ok(team(StatusCode::OK, &changed))
}

async fn delete_team(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
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

async fn add_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let changed = teams::add_member(&state, &principal, &id, &user_id).await?;
    Ok(team(StatusCode::OK, &changed))
}

async fn remove_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let changed = teams::remove_member(&state, &principal, &id, &user_id).await?;
    Ok(team(StatusCode::OK, &changed))
}

// API keys

async fn list_keys(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ListPage<ApiKeyView>>, ApiError> {
    api_keys::list(&state, &principal).await.map(JsonResponse)
}

async fn create_key(
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

async fn get_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<JsonResponse<ApiKeyView>, ApiError> {
    api_keys::get(&state, &principal, &id)
        .await
        .map(JsonResponse)
}

async fn reassign_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(input): Json<Reassignment>,
) -> Result<JsonResponse<ApiKeyView>, ApiError> {
    api_keys::reassign(&state, &principal, &id, input)
        .await
        .map(JsonResponse)
}

async fn revoke_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    api_keys::revoke(&state, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
