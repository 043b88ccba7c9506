//! The product catalogue: create, read, list, update, delete.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::http::versions::{Precondition, record_response};
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::ProductId;
use shared::paging::ListPage;
use shared::policy::View;
use shared::products::{self, NewProduct, Product, ProductPatch, ProductQuery};

fn product_response(status: StatusCode, product: &View) -> Response {
    record_response(
        status,
        "/v1/products",
        product.id(),
        product.version,
        product,
    )
}

pub(crate) async fn create_product(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewProduct>,
) -> Result<Response, ApiError> {
    let product = products::create(&state, &principal, input).await?;
    Ok(product_response(StatusCode::CREATED, &product))
}

pub(crate) async fn list_products(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<ProductQuery>,
) -> Result<JsonResponse<ListPage<Product>>, ApiError> {
    products::list(&state, &principal, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn get_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ProductId>,
) -> Result<Response, ApiError> {
    let product = products::get(&state, &principal, &id).await?;
    Ok(product_response(StatusCode::OK, &product))
}

pub(crate) async fn update_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ProductId>,
    headers: HeaderMap,
    Json(patch): Json<ProductPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let product = products::update(&state, &principal, &id, precondition, patch).await?;
    Ok(product_response(StatusCode::OK, &product))
}

pub(crate) async fn delete_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<ProductId>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    products::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}
