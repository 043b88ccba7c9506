//! The `sales` function: pipelines and their boards, deals (create, read, list, update
//! and move, delete, stage history), tasks with their reminders, and each user's
//! notifications. Handlers only translate HTTP to calls of the services in `shared`.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::deals::service::{self as deals, Board, BoardQuery, DealQuery, StageChange};
use shared::deals::{DealPatch, NewDeal};
use shared::http::cursor::{ListPage, ListParams};
use shared::http::versions::{Precondition, record_response};
use shared::http::{ApiError, Json, Path, Principal, Query, Routes};
use shared::notifications::{self, Notification, NotificationQuery};
use shared::orders::service::{self as orders, Created, OrderQuery, PurchaseHistory};
use shared::orders::{NewOrder, OrderPatch};
use shared::pipelines::service::{self as pipelines, MoveDeals, Moved};
use shared::pipelines::{NewPipeline, Pipeline, PipelinePatch};
use shared::policy::View;
use shared::products::{self, NewProduct, Product, ProductPatch, ProductQuery};
use shared::tasks::service::{self as tasks, TaskQuery};
use shared::tasks::{NewTask, TaskPatch};

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/pipelines", list_pipelines)
        .post("/v1/pipelines", create_pipeline)
        .get("/v1/pipelines/{id}", get_pipeline)
        .patch("/v1/pipelines/{id}", update_pipeline)
        .delete("/v1/pipelines/{id}", delete_pipeline)
        .get("/v1/pipelines/{id}/board", board)
        .post(
            "/v1/pipelines/{id}/stages/{stage_id}/move-deals",
            move_deals,
        )
        .post("/v1/deals", create)
        .get("/v1/deals", list)
        .get("/v1/deals/{id}", get)
        .patch("/v1/deals/{id}", update)
        .delete("/v1/deals/{id}", delete)
        .get("/v1/deals/{id}/stage-history", history)
        .post("/v1/products", create_product)
        .get("/v1/products", list_products)
        .get("/v1/products/{id}", get_product)
        .patch("/v1/products/{id}", update_product)
        .delete("/v1/products/{id}", delete_product)
        .post("/v1/orders", create_order)
        .get("/v1/orders", list_orders)
        .get("/v1/orders/{id}", get_order)
        .patch("/v1/orders/{id}", update_order)
        .delete("/v1/orders/{id}", delete_order)
        .put(
            "/v1/orders/external/{source}/{external_id}",
            upsert_external_order,
        )
        .post("/v1/orders/bulk", bulk_upsert_orders)
        .get("/v1/contacts/{id}/purchases", contact_purchases)
        .get("/v1/companies/{id}/purchases", company_purchases)
        .post("/v1/tasks", create_task)
        .get("/v1/tasks", list_tasks)
        .get("/v1/tasks/{id}", get_task)
        .patch("/v1/tasks/{id}", update_task)
        .delete("/v1/tasks/{id}", delete_task)
        .get("/v1/notifications", list_notifications)
        .post("/v1/notifications/{id}/read", read_notification)
        .post("/v1/notifications/read-all", read_all_notifications)
}

fn product_response(status: StatusCode, product: &Product) -> Response {
    record_response(
        status,
        "/v1/products",
        &product.id,
        product.version,
        product,
    )
}

async fn create_product(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewProduct>,
) -> Result<Response, ApiError> {
    let product = products::create(&state, &principal, input).await?;
    Ok(product_response(StatusCode::CREATED, &product))
}

async fn list_products(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<ProductQuery>,
) -> Result<JsonResponse<ListPage<Product>>, ApiError> {
    products::list(&state, &principal, query)
        .await
        .map(JsonResponse)
}

async fn get_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let product = products::get(&state, &principal, &id).await?;
    Ok(product_response(StatusCode::OK, &product))
}

async fn update_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<ProductPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let product = products::update(&state, &principal, &id, precondition, patch).await?;
    Ok(product_response(StatusCode::OK, &product))
}

async fn delete_product(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    products::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn order_response(created: Created) -> Response {
    let status = if created.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let order = created.order;
    record_response(status, "/v1/orders", order.id(), order.version, &order)
}

async fn create_order(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewOrder>,
) -> Result<Response, ApiError> {
    Ok(order_response(
        orders::create(&state, &principal, input).await?,
    ))
}

async fn list_orders(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<OrderQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    orders::list(&state, &principal, query)
        .await
        .map(JsonResponse)
}

async fn get_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let order = orders::get(&state, &principal, &id).await?;
    Ok(record_response(
        StatusCode::OK,
        "/v1/orders",
        order.id(),
        order.version,
        &order,
    ))
}

async fn update_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<OrderPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let order = orders::update(&state, &principal, &id, precondition, patch).await?;
    Ok(record_response(
        StatusCode::OK,
        "/v1/orders",
        order.id(),
        order.version,
        &order,
    ))
}

async fn delete_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    orders::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn upsert_external_order(
    State(state): State<AppState>,
    principal: Principal,
    Path((source, external_id)): Path<(String, String)>,
    Json(input): Json<NewOrder>,
) -> Result<Response, ApiError> {
    let created = orders::upsert_external(&state, &principal, &source, &external_id, input).await?;
    Ok(order_response(created))
}

async fn bulk_upsert_orders(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<orders::BulkOrders>,
) -> Result<JsonResponse<serde_json::Value>, ApiError> {
    let results = orders::bulk_upsert(&state, &principal, input).await?;
    Ok(JsonResponse(serde_json::json!({ "results": results })))
}

async fn contact_purchases(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<JsonResponse<PurchaseHistory>, ApiError> {
    orders::purchases(&state, &principal, "contacts", &id)
        .await
        .map(JsonResponse)
}

async fn company_purchases(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<JsonResponse<PurchaseHistory>, ApiError> {
    orders::purchases(&state, &principal, "companies", &id)
        .await
        .map(JsonResponse)
}

fn task_response(status: StatusCode, task: View) -> Response {
    record_response(status, "/v1/tasks", task.id(), task.version, &task)
}

async fn create_task(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewTask>,
) -> Result<Response, ApiError> {
    let task = tasks::create(&state, &principal, input).await?;
    Ok(task_response(StatusCode::CREATED, task))
}

async fn list_tasks(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<TaskQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    tasks::list(&state, &principal, query)
        .await
        .map(JsonResponse)
}

async fn get_task(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let task = tasks::get(&state, &principal, &id).await?;
    Ok(task_response(StatusCode::OK, task))
}

async fn update_task(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<TaskPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let task = tasks::update(&state, &principal, &id, precondition, patch).await?;
    Ok(task_response(StatusCode::OK, task))
}

async fn delete_task(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    tasks::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_notifications(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<NotificationQuery>,
) -> Result<JsonResponse<ListPage<Notification>>, ApiError> {
    notifications::list(&state, &principal, query)
        .await
        .map(JsonResponse)
}

async fn read_notification(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<JsonResponse<Notification>, ApiError> {
    notifications::mark_read(&state, &principal, &id)
        .await
        .map(JsonResponse)
}

#[derive(serde::Serialize)]
struct Marked {
    marked: usize,
}

async fn read_all_notifications(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<Marked>, ApiError> {
    let marked = notifications::mark_all_read(&state, &principal).await?;
    Ok(JsonResponse(Marked { marked }))
}

fn pipeline_response(status: StatusCode, pipeline: &Pipeline) -> Response {
    record_response(
        status,
        "/v1/pipelines",
        &pipeline.id,
        pipeline.version,
        pipeline,
    )
}

fn deal_response(status: StatusCode, deal: View) -> Response {
    record_response(status, "/v1/deals", deal.id(), deal.version, &deal)
}

async fn list_pipelines(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ListPage<Pipeline>>, ApiError> {
    pipelines::list(&state, &principal).await.map(JsonResponse)
}

async fn create_pipeline(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewPipeline>,
) -> Result<Response, ApiError> {
    let pipeline = pipelines::create(&state, &principal, input).await?;
    Ok(pipeline_response(StatusCode::CREATED, &pipeline))
}

async fn get_pipeline(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let pipeline = pipelines::get(&state, &principal, &id).await?;
    Ok(pipeline_response(StatusCode::OK, &pipeline))
}

async fn update_pipeline(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<PipelinePatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let pipeline = pipelines::update(&state, &principal, &id, precondition, patch).await?;
    Ok(pipeline_response(StatusCode::OK, &pipeline))
}

async fn delete_pipeline(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    pipelines::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn board(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(query): Query<BoardQuery>,
) -> Result<JsonResponse<Board>, ApiError> {
    deals::board(&state, &principal, &id, query)
        .await
        .map(JsonResponse)
}

async fn move_deals(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, stage_id)): Path<(String, String)>,
    Json(input): Json<MoveDeals>,
) -> Result<JsonResponse<Moved>, ApiError> {
    pipelines::move_deals(&state, &principal, &id, &stage_id, input)
        .await
        .map(JsonResponse)
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewDeal>,
) -> Result<Response, ApiError> {
    let deal = deals::create(&state, &principal, input).await?;
    Ok(deal_response(StatusCode::CREATED, deal))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<DealQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    deals::list(&state, &principal, query)
        .await
        .map(JsonResponse)
}

async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let deal = deals::get(&state, &principal, &id).await?;
    Ok(deal_response(StatusCode::OK, deal))
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<DealPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let deal = deals::update(&state, &principal, &id, precondition, patch).await?;
    Ok(deal_response(StatusCode::OK, deal))
}

async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    deals::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<StageChange>>, ApiError> {
    deals::history(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
}
