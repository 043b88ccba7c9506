//! RFC 9457 problem details: the HTTP edge's answer for the domain's errors, in one place
//! (status, the problem document of [`Error::body`], headers); their `type` URIs are stable
//! and listed in `docs/errors.md`.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::Error;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// A domain error as the edge answers it (problem+json). Handlers return it; `?` turns any
/// domain error (or anything that becomes one) into it.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl std::ops::Deref for ApiError {
    type Target = Error;

    fn deref(&self) -> &Error {
        &self.0
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ApiError(error) = self;
        match &error {
            Error::Unavailable(e) | Error::Internal(e) => {
                tracing::error!(error = %e, kind = error.kind(), "request failed");
            }
            _ => tracing::debug!(kind = error.kind(), "request rejected"),
        }
        let mut response = (error.status(), axum::Json(error.body())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &error {
            Error::Unauthenticated(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"crm\""),
                );
            }
            Error::MethodNotAllowed { allow } => {
                if let Ok(v) = HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, v);
                }
            }
            Error::TooManyRequests { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            Error::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}
