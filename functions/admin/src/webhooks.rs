//! Webhook subscriptions, their delivery logs, replays and pings, and the event list.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use shared::AppState;
use shared::events::{self, Event, EventQuery};
use shared::http::idempotency::shown_once;
use shared::http::versions::{Precondition, record_response};
use shared::http::{ApiError, Json, Path, Principal, Query, Routes};
use shared::ids::WebhookId;
use shared::paging::ListPage;
use shared::webhooks::deliver::{self, Delivery, DeliveryQuery, Replay, Replayed};
use shared::webhooks::{self, NewWebhook, Rotation, Webhook, WebhookPatch};

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/webhooks", list)
        .post("/v1/webhooks", create)
        .get("/v1/webhooks/{id}", get)
        .patch("/v1/webhooks/{id}", update)
        .delete("/v1/webhooks/{id}", delete)
        .post("/v1/webhooks/{id}/rotate-secret", rotate_secret)
        .post("/v1/webhooks/{id}/ping", ping)
        .get("/v1/webhooks/{id}/deliveries", deliveries)
        .post(
            "/v1/webhooks/{id}/deliveries/{delivery_id}/replay",
            replay_one,
        )
        .post("/v1/webhooks/{id}/replay", replay_since)
        .get("/v1/events", list_events)
}

const COLLECTION: &str = "/v1/webhooks";

/// A subscription (never its secrets) with its `ETag`.
fn webhook_response(webhook: &Webhook) -> Response {
    record_response(
        StatusCode::OK,
        COLLECTION,
        &webhook.id,
        webhook.version,
        &webhook.shown(),
    )
}

fn version_of(body: &Value) -> u64 {
    body.get("version").and_then(Value::as_u64).unwrap_or(0)
}

fn id_of(body: &Value) -> &str {
    body.get("id").and_then(Value::as_str).unwrap_or_default()
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ListPage<Value>>, ApiError> {
    webhooks::list(&state, &principal)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewWebhook>,
) -> Result<Response, ApiError> {
    let made = webhooks::create(&state, &principal, input).await?;
    let (version, id) = (version_of(&made.webhook), id_of(&made.webhook).to_owned());
    Ok(shown_once(record_response(
        StatusCode::CREATED,
        COLLECTION,
        &id,
        version,
        &made,
    )))
}

async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<WebhookId>,
) -> Result<Response, ApiError> {
    let webhook = webhooks::get(&state, &principal, &id).await?;
    Ok(webhook_response(&webhook))
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<WebhookId>,
    headers: HeaderMap,
    Json(patch): Json<WebhookPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let webhook = webhooks::update(&state, &principal, &id, precondition, patch).await?;
    Ok(webhook_response(&webhook))
}

async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<WebhookId>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    webhooks::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<WebhookId>,
    Json(rotation): Json<Rotation>,
) -> Result<Response, ApiError> {
    let rotated = webhooks::rotate_secret(&state, &principal, &id, rotation).await?;
    let version = version_of(&rotated.webhook);
    Ok(shown_once(record_response(
        StatusCode::OK,
        COLLECTION,
        &id,
        version,
        &rotated,
    )))
}

async fn ping(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<WebhookId>,
) -> Result<JsonResponse<Delivery>, ApiError> {
    deliver::ping(&state, &principal, &id)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

async fn deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<WebhookId>,
    Query(query): Query<DeliveryQuery>,
) -> Result<JsonResponse<ListPage<Delivery>>, ApiError> {
    deliver::list(&state, &principal, &id, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

async fn replay_one(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, JsonResponse<Delivery>), ApiError> {
    let delivery = deliver::replay_one(&state, &principal, &id, &delivery_id).await?;
    Ok((StatusCode::ACCEPTED, JsonResponse(delivery)))
}

async fn replay_since(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<WebhookId>,
    Json(replay): Json<Replay>,
) -> Result<(StatusCode, JsonResponse<Replayed>), ApiError> {
    let replayed = deliver::replay_since(&state, &principal, &id, replay).await?;
    Ok((StatusCode::ACCEPTED, JsonResponse(replayed)))
}

async fn list_events(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<EventQuery>,
) -> Result<JsonResponse<ListPage<Event>>, ApiError> {
    events::list(&state, &principal, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
