//! The `contacts` function, the customer records: contacts and companies (create, read,
//! list, update, delete; a company's contacts; bulk upserts), their duplicates and merging,
//! activities and timelines, the global search, imports and exports. Handlers only
//! translate HTTP to calls of the services in `shared`; creating, reading, changing and
//! deleting a record, and its timeline, are the record engine's handlers
//! (`shared::http::records`). One module per resource holds its own handlers; [`routes`]
//! lists every route in one place.

use axum::Json as JsonResponse;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::AppState;
use shared::companies::service::Companies;
use shared::contacts::service::Contacts;
use shared::external::{self, BulkUpsert, Object};
use shared::http::versions::record_response;
use shared::http::{ApiError, Principal, Routes, records};
use shared::policy::View;

mod companies;
mod contacts;
mod duplicates;
mod exports;
mod imports;
mod search;

pub fn routes() -> Routes {
    Routes::new()
        .post("/v1/contacts", records::create::<Contacts>)
        .post("/v1/contacts/bulk", contacts::bulk_contacts)
        .get("/v1/contacts", contacts::list)
        .get("/v1/contacts/duplicates", duplicates::duplicates)
        .get("/v1/contacts/{id}", records::get_revealing::<Contacts>)
        .patch("/v1/contacts/{id}", records::update::<Contacts>)
        .delete("/v1/contacts/{id}", records::delete::<Contacts>)
        .post("/v1/contacts/{id}/merge", duplicates::merge)
        .post("/v1/companies", records::create::<Companies>)
        .post("/v1/companies/bulk", companies::bulk_companies)
        .get("/v1/companies", companies::list_companies)
        .get("/v1/companies/{id}", records::get::<Companies>)
        .patch("/v1/companies/{id}", records::update::<Companies>)
        .delete("/v1/companies/{id}", records::delete::<Companies>)
        .get("/v1/companies/{id}/contacts", companies::company_contacts)
        .post(
            "/v1/contacts/{id}/activities",
            records::log_activity::<Contacts>,
        )
        .get("/v1/contacts/{id}/timeline", records::timeline::<Contacts>)
        .post(
            "/v1/companies/{id}/activities",
            records::log_activity::<Companies>,
        )
        .get(
            "/v1/companies/{id}/timeline",
            records::timeline::<Companies>,
        )
        .get("/v1/search", search::search)
        .post("/v1/imports", imports::create_import)
        .get("/v1/imports", imports::list_imports)
        .get("/v1/imports/{id}", imports::get_import)
        .get("/v1/imports/{id}/rows", imports::import_rows)
        .post("/v1/exports", exports::create_export)
        .get("/v1/exports", exports::list_exports)
        .get("/v1/exports/{id}", exports::get_export)
}

/// `POST /v1/contacts/bulk` and `/v1/companies/bulk`: each item's outcome.
pub(crate) async fn bulk_upsert(
    state: AppState,
    principal: Principal,
    object: Object,
    input: BulkUpsert,
) -> Result<JsonResponse<serde_json::Value>, ApiError> {
    let results = external::bulk_upsert(&state, &principal, object, input).await?;
    Ok(JsonResponse(serde_json::json!({ "results": results })))
}

/// A job accepted: 202 with where to follow it.
pub(crate) fn accepted<T: serde::Serialize>(collection: &str, id: &str, body: &T) -> Response {
    let mut response = (StatusCode::ACCEPTED, JsonResponse(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("{collection}/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

pub(crate) fn record(status: StatusCode, collection: &str, record: View) -> Response {
    record_response(status, collection, record.id(), record.version, &record)
}
