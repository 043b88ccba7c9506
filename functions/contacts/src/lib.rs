//! The `contacts` function: create, read, list, update and delete contacts.
//! Handlers only translate HTTP to calls of `shared::contacts::service`.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::AppState;
use shared::contacts::service::{self, ContactQuery};
use shared::contacts::{ContactPatch, NewContact};
use shared::http::cursor::ListPage;
use shared::http::versions::{Precondition, etag};
use shared::http::{ApiError, Json, Path, Principal, Query, Routes};
use shared::policy::View;

/// Options of `GET /v1/contacts/{id}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GetOptions {
    /// Show masked fields in clear (needs `reveal`; audited).
    #[serde(default)]
    reveal: bool,
}

pub fn routes() -> Routes {
    Routes::new()
        .post("/v1/contacts", create)
        .get("/v1/contacts", list)
        .get("/v1/contacts/{id}", get)
        .patch("/v1/contacts/{id}", update)
        .delete("/v1/contacts/{id}", delete)
}

/// A contact with its `ETag`.
fn with_etag(status: StatusCode, contact: View) -> Response {
    let tag = etag(contact.version);
    let location = HeaderValue::from_str(&format!("/v1/contacts/{}", contact.id()));
    let mut response = (status, [(header::ETAG, tag)], JsonResponse(&contact)).into_response();
    if status == StatusCode::CREATED
        && let Ok(location) = location
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewContact>,
) -> Result<Response, ApiError> {
    let contact = service::create(&state, &principal, input).await?;
    Ok(with_etag(StatusCode::CREATED, contact))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ContactQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    service::list(&state, &principal, params)
        .await
        .map(JsonResponse)
}

async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(options): Query<GetOptions>,
) -> Result<Response, ApiError> {
    let contact = service::get(&state, &principal, &id, options.reveal).await?;
    Ok(with_etag(StatusCode::OK, contact))
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<ContactPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let contact = service::update(&state, &principal, &id, precondition, patch).await?;
    Ok(with_etag(StatusCode::OK, contact))
}

async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    service::delete(
        &state,
        &principal,
        &id,
        Precondition::from_headers(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
