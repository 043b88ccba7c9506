//! Satisfaction surveys (create, read, list; the answer link shown once) and the feedback
//! summary.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use shared::AppState;
use shared::feedback::summary::{self, Summary, SummaryQuery};
use shared::feedback::{self, NewSurvey, Survey, SurveyQuery};
use shared::http::idempotency::shown_once;
use shared::http::versions::record_response;
use shared::http::{ApiError, Json, Path, Principal, Query};
use shared::ids::SurveyId;
use shared::paging::ListPage;

pub(crate) async fn create_survey(
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

pub(crate) async fn list_surveys(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<SurveyQuery>,
) -> Result<JsonResponse<ListPage<Survey>>, ApiError> {
    feedback::list(&state, &principal, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn get_survey(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<SurveyId>,
) -> Result<JsonResponse<Survey>, ApiError> {
    feedback::get(&state, &principal, &id)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn feedback_summary(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<SummaryQuery>,
) -> Result<JsonResponse<Summary>, ApiError> {
    summary::summary(&state, &principal, query)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}
