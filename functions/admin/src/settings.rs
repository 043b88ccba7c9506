//! The company's settings: general, security, sales and service.

use axum::Json as JsonResponse;
use axum::extract::State;
use shared::AppState;
use shared::http::{ApiError, Json, Principal};
use shared::tenancy::settings::{
    self, General, GeneralPatch, Sales, SalesPatch, Security, SecurityPatch,
};
use shared::tickets::settings::{self as service_settings, ServiceSettings, ServiceSettingsPatch};

pub(crate) async fn general(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<General>, ApiError> {
    settings::general(&state, &principal)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn update_general(
    State(state): State<AppState>,
    principal: Principal,
    Json(patch): Json<GeneralPatch>,
) -> Result<JsonResponse<General>, ApiError> {
    settings::update_general(&state, &principal, patch)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn sales(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<Sales>, ApiError> {
    settings::sales(&state, &principal)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn update_sales(
    State(state): State<AppState>,
    principal: Principal,
    Json(patch): Json<SalesPatch>,
) -> Result<JsonResponse<Sales>, ApiError> {
    settings::update_sales(&state, &principal, patch)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn service(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ServiceSettings>, ApiError> {
    service_settings::get(&state, &principal)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn update_service(
    State(state): State<AppState>,
    principal: Principal,
    Json(patch): Json<ServiceSettingsPatch>,
) -> Result<JsonResponse<ServiceSettings>, ApiError> {
    service_settings::update(&state, &principal, patch)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn security(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<Security>, ApiError> {
    settings::security(&state, &principal)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn update_security(
    State(state): State<AppState>,
    principal: Principal,
    Json(patch): Json<SecurityPatch>,
) -> Result<JsonResponse<Security>, ApiError> {
    settings::update_security(&state, &principal, patch)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
