//! The public doors, open without signing in: the web form that opens a ticket, and the
//! survey links customers answer.

use axum::Json as JsonResponse;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::AppState;
use shared::feedback::{self, PublicSurvey, SurveyResponse};
use shared::http::{ApiError, Json, Path};
use shared::principal::RequestMeta;
use shared::tickets::web_form::{self, WebFormTicket};

/// What the public doors answer when they took a submission.
fn received() -> Response {
    (
        StatusCode::ACCEPTED,
        JsonResponse(serde_json::json!({ "status": "received" })),
    )
        .into_response()
}

pub(crate) async fn web_form_ticket(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    request: RequestMeta,
    Json(input): Json<WebFormTicket>,
) -> Result<Response, ApiError> {
    web_form::submit(&state, &slug, request, input).await?;
    Ok(received())
}

pub(crate) async fn public_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: RequestMeta,
) -> Result<JsonResponse<PublicSurvey>, ApiError> {
    feedback::show_public(&state, &token, request)
        .await
        .map(JsonResponse)
        .map_err(ApiError::from)
}

pub(crate) async fn answer_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: RequestMeta,
    Json(input): Json<SurveyResponse>,
) -> Result<Response, ApiError> {
    feedback::respond(&state, &token, request, input).await?;
    Ok(received())
}
