//! Custom fields: the list, defining one, changing and removing it.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::AppState;
use shared::fields::FieldDef;
use shared::fields::service::{self as fields, FieldPatch, FieldQuery, NewField};
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::FieldId;
use shared::paging::ListPage;

pub(crate) async fn list_fields(
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

pub(crate) async fn create_field(
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

pub(crate) async fn update_field(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<FieldId>,
    Json(patch): Json<FieldPatch>,
) -> Result<JsonResponse<FieldDef>, ApiError> {
    fields::update(&state, &principal, &id, patch)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn remove_field(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<FieldId>,
) -> Result<StatusCode, ApiError> {
    fields::remove(&state, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
