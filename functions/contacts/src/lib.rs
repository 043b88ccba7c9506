//! The `contacts` function, the customer records: contacts and companies (create, read,
//! list, update, delete; a company's contacts). Handlers only translate HTTP to calls of
//! `shared::contacts::service` and `shared::companies::service`.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::AppState;
use shared::companies::service::{self as companies, CompanyQuery};
use shared::companies::{CompanyPatch, NewCompany};
use shared::contacts::merge::{self as merging, DuplicateGroup, MergeRequest};
use shared::contacts::service::{self, ContactQuery};
use shared::contacts::{ContactPatch, NewContact};
use shared::exports::{self, ExportView, NewExport};
use shared::external::{self, BulkUpsert, Object};
use shared::http::cursor::{ListPage, ListParams};
use shared::http::extract::raw_body;
use shared::http::versions::{Precondition, record_response};
use shared::http::{ApiError, FilterQuery, Json, MapQuery, Path, Principal, Query, Routes};
use shared::imports::{self, ImportOptions, ImportView, RowReport};
use shared::policy::View;
use shared::search::global::{self, Results, SearchQuery};
use shared::timeline::{NewActivity, TimelineEntry};

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
        .post("/v1/contacts/bulk", bulk_contacts)
        .get("/v1/contacts", list)
        .get("/v1/contacts/duplicates", duplicates)
        .get("/v1/contacts/{id}", get)
        .patch("/v1/contacts/{id}", update)
        .delete("/v1/contacts/{id}", delete)
        .post("/v1/contacts/{id}/merge", merge)
        .post("/v1/companies", create_company)
        .post("/v1/companies/bulk", bulk_companies)
        .get("/v1/companies", list_companies)
        .get("/v1/companies/{id}", get_company)
        .patch("/v1/companies/{id}", update_company)
        .delete("/v1/companies/{id}", delete_company)
        .get("/v1/companies/{id}/contacts", company_contacts)
        .post("/v1/contacts/{id}/activities", log_contact_activity)
        .get("/v1/contacts/{id}/timeline", contact_timeline)
        .post("/v1/companies/{id}/activities", log_company_activity)
        .get("/v1/companies/{id}/timeline", company_timeline)
        .get("/v1/search", search)
        .post("/v1/imports", create_import)
        .get("/v1/imports", list_imports)
        .get("/v1/imports/{id}", get_import)
        .get("/v1/imports/{id}/rows", import_rows)
        .post("/v1/exports", create_export)
        .get("/v1/exports", list_exports)
        .get("/v1/exports/{id}", get_export)
}

/// `POST /v1/contacts/bulk` and `/v1/companies/bulk`: each item's outcome.
async fn bulk_upsert(
    state: AppState,
    principal: Principal,
    object: Object,
    input: BulkUpsert,
) -> Result<JsonResponse<serde_json::Value>, ApiError> {
    let results = external::bulk_upsert(&state, &principal, object, input).await?;
    Ok(JsonResponse(serde_json::json!({ "results": results })))
}

async fn bulk_contacts(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<BulkUpsert>,
) -> Result<JsonResponse<serde_json::Value>, ApiError> {
    bulk_upsert(state, principal, Object::Contacts, input).await
}

async fn bulk_companies(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<BulkUpsert>,
) -> Result<JsonResponse<serde_json::Value>, ApiError> {
    bulk_upsert(state, principal, Object::Companies, input).await
}

/// A job accepted: 202 with where to follow it.
fn accepted<T: serde::Serialize>(collection: &str, id: &str, body: &T) -> Response {
    let mut response = (StatusCode::ACCEPTED, JsonResponse(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("{collection}/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn create_import(
    State(state): State<AppState>,
    principal: Principal,
    MapQuery(options, mapping): MapQuery<ImportOptions>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let body = raw_body(
        request,
        &["text/csv", "text/plain", "application/octet-stream"],
        state.config.max_import_bytes,
    )
    .await?;
    let import = imports::create(&state, &principal, options, mapping, &body).await?;
    Ok(accepted("/v1/imports", &import.id, &import))
}

async fn list_imports(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<ImportView>>, ApiError> {
    imports::list(&state, &principal, params)
        .await
        .map(JsonResponse)
}

async fn get_import(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<JsonResponse<ImportView>, ApiError> {
    imports::get(&state, &principal, &id)
        .await
        .map(JsonResponse)
}

async fn import_rows(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<RowReport>>, ApiError> {
    imports::rows(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
}

async fn create_export(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewExport>,
) -> Result<Response, ApiError> {
    let export = exports::create(&state, &principal, input).await?;
    Ok(accepted("/v1/exports", &export.id, &export))
}

async fn list_exports(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<ExportView>>, ApiError> {
    exports::list(&state, &principal, params)
        .await
        .map(JsonResponse)
}

async fn get_export(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<JsonResponse<ExportView>, ApiError> {
    exports::get(&state, &principal, &id)
        .await
        .map(JsonResponse)
}

async fn search(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<SearchQuery>,
) -> Result<JsonResponse<Results>, ApiError> {
    global::search(&state, &principal, params)
        .await
        .map(JsonResponse)
}

/// A record with its `ETag` (and `Location` under `collection` when just created).
fn with_etag(status: StatusCode, contact: View) -> Response {
    record(status, "/v1/contacts", contact)
}

fn record(status: StatusCode, collection: &str, record: View) -> Response {
    record_response(status, collection, record.id(), record.version, &record)
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
    FilterQuery(params, custom): FilterQuery<ContactQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    service::list(&state, &principal, params, custom)
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

async fn duplicates(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<DuplicateGroup>>, ApiError> {
    merging::duplicates(&state, &principal, params)
        .await
        .map(JsonResponse)
}

async fn merge(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(input): Json<MergeRequest>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let contact = merging::merge(&state, &principal, &id, precondition, input).await?;
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

async fn create_company(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewCompany>,
) -> Result<Response, ApiError> {
    let company = companies::create(&state, &principal, input).await?;
    Ok(record(StatusCode::CREATED, "/v1/companies", company))
}

async fn list_companies(
    State(state): State<AppState>,
    principal: Principal,
    FilterQuery(params, custom): FilterQuery<CompanyQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    companies::list(&state, &principal, params, custom)
        .await
        .map(JsonResponse)
}

async fn get_company(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let company = companies::get(&state, &principal, &id).await?;
    Ok(record(StatusCode::OK, "/v1/companies", company))
}

async fn update_company(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<CompanyPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let company = companies::update(&state, &principal, &id, precondition, patch).await?;
    Ok(record(StatusCode::OK, "/v1/companies", company))
}

async fn delete_company(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    companies::delete(
        &state,
        &principal,
        &id,
        Precondition::from_headers(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn company_contacts(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    companies::contacts(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
}

async fn log_contact_activity(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(input): Json<NewActivity>,
) -> Result<(StatusCode, JsonResponse<TimelineEntry>), ApiError> {
    let entry = service::log_activity(&state, &principal, &id, input).await?;
    Ok((StatusCode::CREATED, JsonResponse(entry)))
}

async fn contact_timeline(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<TimelineEntry>>, ApiError> {
    service::timeline(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
}

async fn log_company_activity(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(input): Json<NewActivity>,
) -> Result<(StatusCode, JsonResponse<TimelineEntry>), ApiError> {
    let entry = companies::log_activity(&state, &principal, &id, input).await?;
    Ok((StatusCode::CREATED, JsonResponse(entry)))
}

async fn company_timeline(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<TimelineEntry>>, ApiError> {
    companies::timeline(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
}
