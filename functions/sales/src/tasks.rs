//! Tasks (to-dos, with their reminders): create, read, list, update, delete.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use shared::AppState;
use shared::http::versions::{Precondition, record_response};
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::TaskId;
use shared::paging::ListPage;
use shared::policy::View;
use shared::tasks::service::{self as tasks, TaskQuery};
use shared::tasks::{NewTask, TaskPatch};

fn task_response(status: StatusCode, task: View) -> Response {
    record_response(status, "/v1/tasks", task.id(), task.version, &task)
}

pub(crate) async fn create_task(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewTask>,
) -> Result<Response, ApiError> {
    let task = tasks::create(&state, &principal, input).await?;
    Ok(task_response(StatusCode::CREATED, task))
}

pub(crate) async fn list_tasks(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<TaskQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    tasks::list(&state, &principal, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn get_task(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TaskId>,
) -> Result<Response, ApiError> {
    let task = tasks::get(&state, &principal, &id).await?;
    Ok(task_response(StatusCode::OK, task))
}

pub(crate) async fn update_task(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TaskId>,
    headers: HeaderMap,
    Json(patch): Json<TaskPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let task = tasks::update(&state, &principal, &id, precondition, patch).await?;
    Ok(task_response(StatusCode::OK, task))
}

pub(crate) async fn delete_task(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<TaskId>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    tasks::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}
