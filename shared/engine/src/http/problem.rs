//! RFC 9457 problem details: the HTTP edge's rendering of the domain's errors, in one
//! place (status, title, detail, members, headers); their `type` URIs are stable and listed
//! in `docs/errors.md`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The problem+json side of [`crate::error::Error`]; the edge knows it by this name.
pub use crate::error::Error as ApiError;

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_)
            | ApiError::CrossSiteRequest(_)
            | ApiError::ReadOnlyFields(_)
            | ApiError::HiddenFields(_)
            | ApiError::MfaEnrolmentRequired => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "Malformed request",
            ApiError::Unauthenticated(_) => "Authentication required",
            ApiError::Forbidden(_) | ApiError::ReadOnlyFields(_) | ApiError::HiddenFields(_) => {
                "Not allowed"
            }
            ApiError::CrossSiteRequest(_) => "Cross-site request refused",
            ApiError::MfaEnrolmentRequired => "Two-factor sign-in required",
            ApiError::NotFound(_) => "Not found",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::PreconditionFailed(_) => "Version mismatch",
            ApiError::PayloadTooLarge { .. } => "Payload too large",
            ApiError::UnsupportedMediaType(_) => "Unsupported media type",
            ApiError::Validation(_) => "Validation failed",
            ApiError::TooManyRequests { .. } => "Too many requests",
            ApiError::Unavailable(_) => "Service unavailable",
            ApiError::Internal(_) => "Internal error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::BadRequest(d)
            | ApiError::Unauthenticated(d)
            | ApiError::Forbidden(d)
            | ApiError::CrossSiteRequest(d)
            | ApiError::NotFound(d)
            | ApiError::PreconditionFailed(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::TooManyRequests { detail: d, .. }
            | ApiError::Conflict { detail: d, .. } => d.clone(),
            ApiError::MethodNotAllowed { allow } => {
                format!("This resource supports only: {allow}.")
            }
            ApiError::PayloadTooLarge { limit } => {
                format!("The request body exceeds the limit of {limit} bytes.")
            }
            ApiError::Validation(errors) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("Some fields are invalid: {}.", fields.join(", "))
            }
            ApiError::ReadOnlyFields(errors) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("Your role may not change: {}.", fields.join(", "))
            }
            ApiError::HiddenFields(errors) => {
                let params: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                format!(
                    "Your role cannot see what these parameters read, so a list cannot be \
                     filtered, sorted or totalled by them: {}.",
                    params.join(", ")
                )
            }
            ApiError::MfaEnrolmentRequired => "Your company requires two-factor sign-in: set it \
                up first (POST /v1/me/mfa/totp, then POST /v1/me/mfa/totp/confirm)."
                .into(),
            ApiError::Unavailable(_) => {
                "A backing service is unavailable; please retry shortly.".into()
            }
            ApiError::Internal(_) => "Something went wrong on our side; it has been logged.".into(),
        }
    }

    /// The problem document.
    pub fn body(&self) -> Value {
        let status = self.status();
        let mut body = json!({
            "type": format!("urn:crm:problem:{}", self.kind()),
            "title": self.title(),
            "status": status.as_u16(),
            "detail": self.detail(),
        });
        let obj = body.as_object_mut().expect("a JSON object");
        match self {
            ApiError::Validation(errors)
            | ApiError::ReadOnlyFields(errors)
            | ApiError::HiddenFields(errors) => {
                obj.insert("errors".into(), json!(errors));
            }
            ApiError::Conflict { extra, .. } => {
                obj.extend(extra.clone());
            }
            _ => {}
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Unavailable(e) | ApiError::Internal(e) => {
                tracing::error!(error = %e, kind = self.kind(), "request failed");
            }
            _ => tracing::debug!(kind = self.kind(), "request rejected"),
        }
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self {
            ApiError::Unauthenticated(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"crm\""),
                );
            }
            ApiError::MethodNotAllowed { allow } => {
                if let Ok(v) = HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, v);
                }
            }
            ApiError::TooManyRequests { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            ApiError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}
