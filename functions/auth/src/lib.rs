//! The `auth` function: sign-up, login, token refresh, logout, joining by invitation,
//! "who am I", and what users manage themselves (sessions, password).
//! Handlers only translate HTTP to calls of `shared::auth` and `shared::tenancy`.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use shared::AppState;
use shared::auth::account::{self, PasswordChange, SessionView};
use shared::auth::service::{self, Login, Me, RefreshRequest, TokenPair};
use shared::http::cursor::{ListPage, ListParams};
use shared::http::principal::RequestMeta;
use shared::http::{ApiError, Json, Path, Principal, Query, Routes};
use shared::tenancy::signup::{self, SignUp};
use shared::tenancy::users::{self, AcceptInvitation};

pub fn routes() -> Routes {
    Routes::new()
        .post("/v1/signup", sign_up)
        .post("/v1/auth/login", login)
        .post("/v1/auth/refresh", refresh)
        .post("/v1/auth/logout", logout)
        .post("/v1/invitations/accept", accept_invitation)
        .get("/v1/me", me)
        .post("/v1/me/password", change_password)
        .get("/v1/sessions", list_sessions)
        .delete("/v1/sessions/{id}", end_session)
}

async fn sign_up(
    State(state): State<AppState>,
    request: RequestMeta,
    Json(input): Json<SignUp>,
) -> Result<impl IntoResponse, ApiError> {
    let created = signup::sign_up(&state, input, &request).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, "/v1/me")],
        JsonResponse(created),
    ))
}

async fn login(
    State(state): State<AppState>,
    request: RequestMeta,
    Json(input): Json<Login>,
) -> Result<JsonResponse<TokenPair>, ApiError> {
    service::login(&state, input, &request)
        .await
        .map(JsonResponse)
}

async fn refresh(
    State(state): State<AppState>,
    request: RequestMeta,
    Json(input): Json<RefreshRequest>,
) -> Result<JsonResponse<TokenPair>, ApiError> {
    service::refresh(&state, input, &request)
        .await
        .map(JsonResponse)
}

async fn logout(
    State(state): State<AppState>,
    request: RequestMeta,
    Json(input): Json<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    service::logout(&state, input, &request).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn accept_invitation(
    State(state): State<AppState>,
    request: RequestMeta,
    Json(input): Json<AcceptInvitation>,
) -> Result<JsonResponse<TokenPair>, ApiError> {
    users::accept(&state, input, &request)
        .await
        .map(JsonResponse)
}

async fn me(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<Me>, ApiError> {
    service::me(&state, &principal).await.map(JsonResponse)
}

async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    account::change_password(&state, &principal, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_sessions(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<SessionView>>, ApiError> {
    account::list_sessions(&state, &principal, params)
        .await
        .map(JsonResponse)
}

async fn end_session(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    account::end_session(&state, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
