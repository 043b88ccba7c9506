//! Orders' own handlers: create (a partner's repeat answers the order made), the list,
//! upserts by an external system's id (one or in bulk), and a contact's or company's
//! purchase history (read, update and delete are the record engine's handlers,
//! `shared::http::records`).

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use shared::AppState;
use shared::http::versions::record_response;
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::{CompanyId, ContactId};
use shared::orders::NewOrder;
use shared::orders::service::{self as orders, Created, OrderQuery, PurchaseHistory};
use shared::paging::ListPage;
use shared::policy::View;

fn order_response(created: Created) -> Response {
    let status = if created.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let order = created.order;
    record_response(status, "/v1/orders", order.id(), order.version, &order)
}

pub(crate) async fn create_order(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewOrder>,
) -> Result<Response, ApiError> {
    Ok(order_response(
        orders::create(&state, &principal, input).await?,
    ))
}

pub(crate) async fn list_orders(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<OrderQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    orders::list(&state, &principal, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn upsert_external_order(
    State(state): State<AppState>,
    principal: Principal,
    Path((source, external_id)): Path<(String, String)>,
    Json(input): Json<NewOrder>,
) -> Result<Response, ApiError> {
    let created = orders::upsert_external(&state, &principal, &source, &external_id, input).await?;
    Ok(order_response(created))
}

pub(crate) async fn bulk_upsert_orders(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<orders::BulkOrders>,
) -> Result<JsonResponse<serde_json::Value>, ApiError> {
    let results = orders::bulk_upsert(&state, &principal, input).await?;
    Ok(JsonResponse(serde_json::json!({ "results": results })))
}

pub(crate) async fn contact_purchases(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ContactId>,
) -> Result<JsonResponse<PurchaseHistory>, ApiError> {
    orders::purchases(&state, &principal, "contacts", &id)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn company_purchases(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<CompanyId>,
) -> Result<JsonResponse<PurchaseHistory>, ApiError> {
    orders::purchases(&state, &principal, "companies", &id)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
