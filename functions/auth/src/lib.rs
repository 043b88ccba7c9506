//! The `auth` function: sign-up, login, token refresh, logout, joining by invitation,
//! "who am I", and what users manage themselves (sessions, password).
//! Handlers only translate HTTP to calls of `shared::auth` and `shared::tenancy`; the
//! sign-in routes hand the refresh token over in the body or, for browsers, in a cookie
//! (`shared::http::browser`).

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use shared::AppState;
use shared::auth::account::{self, PasswordChange, ProfileChange, SessionView};
use shared::auth::mfa::{self, Confirmation, MfaLogin};
use shared::auth::reset::{self, ResetConfirm, ResetRequest};
use shared::auth::service::{self, Login, Me, RefreshRequest};
use shared::error::Error;
use shared::http::browser::{self, SignIn};
use shared::http::idempotency::shown_once;
use shared::http::{ApiError, Json, OptionalJson, Path, Principal, Query, Routes};
use shared::ids::SessionId;
use shared::paging::{ListPage, ListParams};
use shared::principal::RequestMeta;
use shared::tenancy::signup::{self, SignUp};
use shared::tenancy::users::{self, AcceptInvitation};

pub fn routes() -> Routes {
    Routes::new()
        .post("/v1/signup", sign_up)
        .post("/v1/auth/login", login)
        .post("/v1/auth/refresh", refresh)
        .post("/v1/auth/logout", logout)
        .post("/v1/auth/mfa", login_mfa)
        .post("/v1/auth/password-reset", request_reset)
        .post("/v1/auth/password-reset/confirm", confirm_reset)
        .post("/v1/invitations/accept", accept_invitation)
        .get("/v1/me", me)
        .patch("/v1/me", update_me)
        .post("/v1/me/password", change_password)
        .post("/v1/me/mfa/totp", begin_mfa)
        .post("/v1/me/mfa/totp/confirm", confirm_mfa)
        .post("/v1/me/mfa/disable", disable_mfa)
        .get("/v1/sessions", list_sessions)
        .delete("/v1/sessions/{id}", end_session)
}

async fn sign_up(
    State(state): State<AppState>,
    request: RequestMeta,
    SignIn { input, delivery }: SignIn<SignUp>,
) -> Result<Response, ApiError> {
    let created = signup::sign_up(&state, input, &request).await?;
    Ok(shown_once((
        StatusCode::CREATED,
        [(header::LOCATION, "/v1/me")],
        delivery.answer(&created)?,
    )))
}

async fn login(
    State(state): State<AppState>,
    request: RequestMeta,
    SignIn { input, delivery }: SignIn<Login>,
) -> Result<Response, ApiError> {
    let reply = service::login(&state, input, &request).await?;
    Ok(shown_once(delivery.answer(&reply)?))
}

async fn login_mfa(
    State(state): State<AppState>,
    request: RequestMeta,
    SignIn { input, delivery }: SignIn<MfaLogin>,
) -> Result<Response, ApiError> {
    let tokens = mfa::complete_login(&state, input, &request).await?;
    Ok(shown_once(delivery.answer(&tokens)?))
}

async fn request_reset(
    State(state): State<AppState>,
    request: RequestMeta,
    Json(input): Json<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    reset::request(&state, input, &request).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn confirm_reset(
    State(state): State<AppState>,
    request: RequestMeta,
    Json(input): Json<ResetConfirm>,
) -> Result<StatusCode, ApiError> {
    reset::confirm(&state, input, &request).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn begin_mfa(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    let enrolment = mfa::begin(&state, &principal).await?;
    Ok(shown_once(JsonResponse(enrolment)))
}

async fn confirm_mfa(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<Confirmation>,
) -> Result<Response, ApiError> {
    let codes = mfa::confirm(&state, &principal, input).await?;
    Ok(shown_once(JsonResponse(codes)))
}

async fn disable_mfa(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<Confirmation>,
) -> Result<StatusCode, ApiError> {
    mfa::disable(&state, &principal, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of a refresh or logout: the token, or nothing for the cookie's.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Presented {
    refresh_token: Option<String>,
}

fn no_session_cookie() -> Error {
    Error::Unauthenticated(
        "Send `refresh_token` in the body, or the `crm_refresh` cookie of a browser session."
            .into(),
    )
}

async fn refresh(
    State(state): State<AppState>,
    request: RequestMeta,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<Presented>,
) -> Result<Response, ApiError> {
    let body_token = body.and_then(|b| b.refresh_token);
    let (token, delivery) = browser::presented(body_token, &headers, &state.config)?;
    let refreshed = match token {
        Some(refresh_token) => {
            service::refresh(&state, RefreshRequest { refresh_token }, &request).await
        }
        None => Err(no_session_cookie()),
    };
    match refreshed {
        Ok(tokens) => Ok(shown_once(delivery.answer(&tokens)?)),
        // A cookie that names no live session is of no further use to the browser.
        Err(e @ Error::Unauthenticated(_)) => Ok(delivery.clearing(ApiError::from(e))),
        Err(e) => Err(e.into()),
    }
}

async fn logout(
    State(state): State<AppState>,
    request: RequestMeta,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<Presented>,
) -> Result<Response, ApiError> {
    let body_token = body.and_then(|b| b.refresh_token);
    let (token, delivery) = browser::presented(body_token, &headers, &state.config)?;
    let Some(refresh_token) = token else {
        return Ok(delivery.clearing(ApiError::from(no_session_cookie())));
    };
    service::logout(&state, RefreshRequest { refresh_token }, &request).await?;
    Ok(delivery.clearing(StatusCode::NO_CONTENT))
}

async fn accept_invitation(
    State(state): State<AppState>,
    request: RequestMeta,
    SignIn { input, delivery }: SignIn<AcceptInvitation>,
) -> Result<Response, ApiError> {
    let tokens = users::accept(&state, input, &request).await?;
    Ok(shown_once(delivery.answer(&tokens)?))
}

async fn update_me(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<ProfileChange>,
) -> Result<JsonResponse<Me>, ApiError> {
    account::update_profile(&state, &principal, input).await?;
    service::me(&state, &principal)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

async fn me(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<Me>, ApiError> {
    service::me(&state, &principal)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
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
        .map_err(ApiError::from)
}

async fn end_session(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<SessionId>,
) -> Result<StatusCode, ApiError> {
    account::end_session(&state, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
