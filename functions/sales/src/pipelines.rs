//! Pipelines (create, read, list, update, delete), a pipeline's deal board, and moving
//! a stage's deals to another stage.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::deals::pipelines::service::{self as pipelines, MoveDeals, Moved};
use shared::deals::pipelines::{NewPipeline, Pipeline, PipelinePatch};
use shared::deals::service::{self as deals, Board, BoardQuery};
use shared::http::versions::{Precondition, record_response};
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::PipelineId;
use shared::paging::ListPage;

fn pipeline_response(status: StatusCode, pipeline: &Pipeline) -> Response {
    record_response(
        status,
        "/v1/pipelines",
        &pipeline.id,
        pipeline.version,
        pipeline,
    )
}

pub(crate) async fn list_pipelines(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<JsonResponse<ListPage<Pipeline>>, ApiError> {
    pipelines::list(&state, &principal)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn create_pipeline(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewPipeline>,
) -> Result<Response, ApiError> {
    let pipeline = pipelines::create(&state, &principal, input).await?;
    Ok(pipeline_response(StatusCode::CREATED, &pipeline))
}

pub(crate) async fn get_pipeline(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<PipelineId>,
) -> Result<Response, ApiError> {
    let pipeline = pipelines::get(&state, &principal, &id).await?;
    Ok(pipeline_response(StatusCode::OK, &pipeline))
}

pub(crate) async fn update_pipeline(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<PipelineId>,
    headers: HeaderMap,
    Json(patch): Json<PipelinePatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let pipeline = pipelines::update(&state, &principal, &id, precondition, patch).await?;
    Ok(pipeline_response(StatusCode::OK, &pipeline))
}

pub(crate) async fn delete_pipeline(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<PipelineId>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    pipelines::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn board(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<PipelineId>,
    Query(query): Query<BoardQuery>,
) -> Result<JsonResponse<Board>, ApiError> {
    deals::board(&state, &principal, &id, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn move_deals(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, stage_id)): Path<(String, String)>,
    Json(input): Json<MoveDeals>,
) -> Result<JsonResponse<Moved>, ApiError> {
    pipelines::move_deals(&state, &principal, &id, &stage_id, input)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
