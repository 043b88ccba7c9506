//! The `objects` function: the custom objects a tenant defines (their definitions and
//! JSON Schema) and their records (create, read, list with filters, sort and search,
//! update, delete, activities and timelines). Handlers only translate HTTP to calls of
//! the services in `shared`; [`routes`] lists every route in one place.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use shared::AppState;
use shared::external::{self, BulkUpsert, Object};
use shared::fields::objects::{self as definitions, NewObject, ObjectPatch, ObjectView};
use shared::http::versions::record_response;
use shared::http::{ApiError, FilterQuery, Json, Path, Principal, Query, Routes};
use shared::objects::{self as records, NewRecord, RecordPatch, RecordQuery};
use shared::paging::{ListPage, ListParams};
use shared::policy::View;
use shared::timeline::{NewActivity, TimelineEntry};
use shared::versioned::Precondition;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/objects", list_objects)
        .post("/v1/objects", create_object)
        .get("/v1/objects/{key}", get_object)
        .patch("/v1/objects/{key}", update_object)
        .delete("/v1/objects/{key}", delete_object)
        .get("/v1/objects/{key}/schema", schema)
        .get("/v1/objects/{key}/records", list_records)
        .post("/v1/objects/{key}/records", create_record)
        .post("/v1/objects/{key}/records/bulk", bulk_upsert)
        .get("/v1/objects/{key}/records/{id}", get_record)
        .patch("/v1/objects/{key}/records/{id}", update_record)
        .delete("/v1/objects/{key}/records/{id}", delete_record)
        .post("/v1/objects/{key}/records/{id}/activities", log_activity)
        .get("/v1/objects/{key}/records/{id}/timeline", timeline)
}

async fn list_objects(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ListPage<ObjectView>>, ApiError> {
    let data = definitions::list(&state, &principal).await?;
    Ok(JsonResponse(ListPage {
        data,
        next_cursor: None,
    }))
}

fn object_response(status: StatusCode, object: ObjectView) -> Response {
    let mut response = (status, JsonResponse(&object)).into_response();
    if status == StatusCode::CREATED
        && let Ok(location) = format!("/v1/objects/{}", object.object.key).parse()
    {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, location);
    }
    response
}

async fn create_object(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewObject>,
) -> Result<Response, ApiError> {
    let object = definitions::create(&state, &principal, input).await?;
    Ok(object_response(StatusCode::CREATED, object))
}

async fn get_object(
    State(state): State<AppState>,
    principal: Principal,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let object = definitions::get(&state, &principal, &key).await?;
    Ok(object_response(StatusCode::OK, object))
}

async fn update_object(
    State(state): State<AppState>,
    principal: Principal,
    Path(key): Path<String>,
    Json(patch): Json<ObjectPatch>,
) -> Result<Response, ApiError> {
    let object = definitions::update(&state, &principal, &key, patch).await?;
    Ok(object_response(StatusCode::OK, object))
}

async fn delete_object(
    State(state): State<AppState>,
    principal: Principal,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    definitions::delete(&state, &principal, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn schema(
    State(state): State<AppState>,
    principal: Principal,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let schema = definitions::schema(&state, &principal, &key).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/schema+json")],
        JsonResponse(schema),
    )
        .into_response())
}

fn record(status: StatusCode, key: &str, record: View) -> Response {
    let collection = format!("/v1/objects/{key}/records");
    record_response(status, &collection, record.id(), record.version, &record)
}

async fn list_records(
    State(state): State<AppState>,
    principal: Principal,
    Path(key): Path<String>,
    FilterQuery(query, custom): FilterQuery<RecordQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    records::list(&state, &principal, &key, query, custom)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

async fn create_record(
    State(state): State<AppState>,
    principal: Principal,
    Path(key): Path<String>,
    Json(input): Json<NewRecord>,
) -> Result<Response, ApiError> {
    let created = records::create(&state, &principal, &key, input).await?;
    Ok(record(StatusCode::CREATED, &key, created))
}

/// `POST /v1/objects/{key}/records/bulk`: up to 100 records upserted by a partner
/// system's ids, each reported on its own.
async fn bulk_upsert(
    State(state): State<AppState>,
    principal: Principal,
    Path(key): Path<String>,
    Json(input): Json<BulkUpsert>,
) -> Result<JsonResponse<serde_json::Value>, ApiError> {
    let results = external::bulk_upsert(&state, &principal, Object::Custom(key), input).await?;
    Ok(JsonResponse(serde_json::json!({ "results": results })))
}

async fn get_record(
    State(state): State<AppState>,
    principal: Principal,
    Path((key, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let found = records::get(&state, &principal, &key, &id).await?;
    Ok(record(StatusCode::OK, &key, found))
}

async fn update_record(
    State(state): State<AppState>,
    principal: Principal,
    Path((key, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(patch): Json<RecordPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let updated = records::update(&state, &principal, &key, &id, precondition, patch).await?;
    Ok(record(StatusCode::OK, &key, updated))
}

async fn delete_record(
    State(state): State<AppState>,
    principal: Principal,
    Path((key, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    records::delete(&state, &principal, &key, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn log_activity(
    State(state): State<AppState>,
    principal: Principal,
    Path((key, id)): Path<(String, String)>,
    Json(input): Json<NewActivity>,
) -> Result<(StatusCode, JsonResponse<TimelineEntry>), ApiError> {
    let entry = records::log_activity(&state, &principal, &key, &id, input).await?;
    Ok((StatusCode::CREATED, JsonResponse(entry)))
}

async fn timeline(
    State(state): State<AppState>,
    principal: Principal,
    Path((key, id)): Path<(String, String)>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<TimelineEntry>>, ApiError> {
    records::timeline(&state, &principal, &key, &id, params)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
