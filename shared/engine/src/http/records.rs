//! The record engine at the edge: create, read, update, delete, and a record's timeline
//! and activities, one handler each for every kind (`post("/v1/deals",
//! records::create::<Deals>)`), so a function's route table serves a kind by naming it.
//! A kind's path id is its own id type, so a malformed id is refused before anything is
//! read. Lists, with each kind's own filters, and what a kind does beyond these stay its
//! own handlers.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::versions::record_response;
use super::{ApiError, Json, Path, Principal, Query};
use crate::AppState;
use crate::engine::{self, Kind};
use crate::paging::{ListPage, ListParams};
use crate::policy::View;
use crate::records::Writing;
use crate::timeline::{NewActivity, TimelineEntry};
use crate::versioned::Precondition;

/// A kind the edge serves: a value of it (kinds of built-in records carry no state).
pub trait Served: Kind + Default + 'static {}

impl<K: Kind + Default + 'static> Served for K {}

/// The record with its `ETag`, and its `Location` when just created (its collection is
/// `/v1/<resource>`).
fn answer<K: Served>(kind: &K, status: StatusCode, record: View) -> Response {
    let collection = format!("/v1/{}", kind.resource());
    record_response(status, &collection, record.id(), record.version, &record)
}

pub async fn create<K: Served>(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<K::New>,
) -> Result<Response, ApiError>
where
    K::New: DeserializeOwned,
{
    let kind = K::default();
    let record = engine::create(&state, &principal, &kind, input, Writing::default()).await?;
    Ok(answer(&kind, StatusCode::CREATED, record))
}

pub async fn get<K: Served>(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<K::Id>,
) -> Result<Response, ApiError> {
    let kind = K::default();
    let record = engine::get(&state, &principal, &kind, id.as_ref(), false).await?;
    Ok(answer(&kind, StatusCode::OK, record))
}

/// Options of a read of a kind with masked fields.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadOptions {
    /// Show masked fields in clear (needs `reveal`; audited).
    #[serde(default)]
    reveal: bool,
}

/// [`get`] of a kind with masked fields, shown in clear with `?reveal=true`.
pub async fn get_revealing<K: Served>(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<K::Id>,
    Query(options): Query<ReadOptions>,
) -> Result<Response, ApiError> {
    let kind = K::default();
    let record = engine::get(&state, &principal, &kind, id.as_ref(), options.reveal).await?;
    Ok(answer(&kind, StatusCode::OK, record))
}

pub async fn update<K: Served>(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<K::Id>,
    headers: HeaderMap,
    Json(patch): Json<K::Patch>,
) -> Result<Response, ApiError>
where
    K::Patch: DeserializeOwned,
{
    let kind = K::default();
    let precondition = Precondition::from_headers(&headers);
    let record = engine::update(
        &state,
        &principal,
        &kind,
        id.as_ref(),
        precondition,
        patch,
        false,
    )
    .await?;
    Ok(answer(&kind, StatusCode::OK, record))
}

pub async fn delete<K: Served>(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<K::Id>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    engine::delete(&state, &principal, &K::default(), id.as_ref(), precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn timeline<K: Served>(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<K::Id>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<TimelineEntry>>, ApiError> {
    let page = engine::timeline(&state, &principal, &K::default(), id.as_ref(), params).await?;
    Ok(JsonResponse(page))
}

pub async fn log_activity<K: Served>(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<K::Id>,
    Json(input): Json<NewActivity>,
) -> Result<(StatusCode, JsonResponse<TimelineEntry>), ApiError> {
    let entry = engine::log_activity(&state, &principal, &K::default(), id.as_ref(), input).await?;
    Ok((StatusCode::CREATED, JsonResponse(entry)))
}
