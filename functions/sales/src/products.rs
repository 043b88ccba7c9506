//! The product catalogue's own handler: the list
//! (create, read, update and delete are the record engine's handlers, `shared::http::records`).

use axum::Json as JsonResponse;
use axum::extract::State;
use shared::AppState;
use shared::http::{ApiError, Principal, Query};
use shared::paging::ListPage;
use shared::products::{self, Product, ProductQuery};

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
