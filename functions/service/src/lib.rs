//! The `service` function: tickets (with their comments and history), satisfaction
//! surveys and their analysis, and the public doors: the web form that opens tickets and
//! the survey links customers answer. Handlers only translate HTTP to calls of the
//! services in `shared`.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use shared::AppState;
use shared::feedback::summary::{self, Summary, SummaryQuery};
use shared::feedback::{self, NewSurvey, PublicSurvey, Survey, SurveyQuery, SurveyResponse};
use shared::http::cursor::{ListPage, ListParams};
use shared::http::idempotency::shown_once;
use shared::http::principal::RequestMeta;
use shared::http::versions::{Precondition, record_response};
use shared::http::{ApiError, Json, Path, Principal, Query, Routes};
use shared::policy::View;
use shared::tickets::comments::{self, Comment, NewComment};
use shared::tickets::service::{self as tickets, TicketChange, TicketQuery};
use shared::tickets::web_form::{self, WebFormTicket};
use shared::tickets::{NewTicket, TicketPatch};

pub fn routes() -> Routes {
    Routes::new()
        .post("/v1/tickets", create)
        .get("/v1/tickets", list)
        .get("/v1/tickets/{id}", get)
        .patch("/v1/tickets/{id}", update)
        .delete("/v1/tickets/{id}", delete)
        .get("/v1/tickets/{id}/history", history)
        .get("/v1/tickets/{id}/comments", list_comments)
        .post("/v1/tickets/{id}/comments", comment)
        .post("/v1/surveys", create_survey)
        .get("/v1/surveys", list_surveys)
        .get("/v1/surveys/{id}", get_survey)
        .get("/v1/feedback/summary", feedback_summary)
        .post("/v1/public/{slug}/tickets", web_form_ticket)
        .get("/v1/public/surveys/{token}", public_survey)
        .post("/v1/public/surveys/{token}", answer_survey)
}

fn ticket_response(status: StatusCode, ticket: View) -> Response {
    record_response(status, "/v1/tickets", ticket.id(), ticket.version, &ticket)
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewTicket>,
) -> Result<Response, ApiError> {
    let ticket = tickets::create(&state, &principal, input).await?;
    Ok(ticket_response(StatusCode::CREATED, ticket))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<TicketQuery>,
) -> Result<JsonResponse<ListPage<View>>, ApiError> {
    tickets::list(&state, &principal, query)
        .await
        .map(JsonResponse)
}

async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let ticket = tickets::get(&state, &principal, &id).await?;
    Ok(ticket_response(StatusCode::OK, ticket))
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<TicketPatch>,
) -> Result<Response, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    let ticket = tickets::update(&state, &principal, &id, precondition, patch).await?;
    Ok(ticket_response(StatusCode::OK, ticket))
}

async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let precondition = Precondition::from_headers(&headers);
    tickets::delete(&state, &principal, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<TicketChange>>, ApiError> {
    tickets::history(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
}

async fn list_comments(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<JsonResponse<ListPage<Comment>>, ApiError> {
    comments::list(&state, &principal, &id, params)
        .await
        .map(JsonResponse)
}

async fn comment(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(input): Json<NewComment>,
) -> Result<(StatusCode, JsonResponse<Comment>), ApiError> {
    let made = comments::create(&state, &principal, &id, input).await?;
    Ok((StatusCode::CREATED, JsonResponse(made)))
}

async fn create_survey(
    State(state): State<AppState>,
    principal: Principal,
    Json(input): Json<NewSurvey>,
) -> Result<Response, ApiError> {
    let made = feedback::create(&state, &principal, input).await?;
    let id = made.survey.id.clone();
    let version = made.survey.version;
    // The answer link is a credential shown once.
    Ok(shown_once(record_response(
        StatusCode::CREATED,
        "/v1/surveys",
        &id,
        version,
        &made,
    )))
}

async fn list_surveys(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<SurveyQuery>,
) -> Result<JsonResponse<ListPage<Survey>>, ApiError> {
    feedback::list(&state, &principal, query)
        .await
        .map(JsonResponse)
}

async fn get_survey(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<JsonResponse<Survey>, ApiError> {
    feedback::get(&state, &principal, &id)
        .await
        .map(JsonResponse)
}

async fn feedback_summary(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<SummaryQuery>,
) -> Result<JsonResponse<Summary>, ApiError> {
    summary::summary(&state, &principal, query)
        .await
        .map(JsonResponse)
}

/// What the public doors answer when they took a submission.
fn received() -> Response {
    (
        StatusCode::ACCEPTED,
        JsonResponse(serde_json::json!({ "status": "received" })),
    )
        .into_response()
}

async fn web_form_ticket(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    request: RequestMeta,
    Json(input): Json<WebFormTicket>,
) -> Result<Response, ApiError> {
    web_form::submit(&state, &slug, request, input).await?;
    Ok(received())
}

async fn public_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: RequestMeta,
) -> Result<JsonResponse<PublicSurvey>, ApiError> {
    feedback::show_public(&state, &token, request)
        .await
        .map(JsonResponse)
}

async fn answer_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: RequestMeta,
    Json(input): Json<SurveyResponse>,
) -> Result<Response, ApiError> {
    feedback::respond(&state, &token, request, input).await?;
    Ok(received())
}
