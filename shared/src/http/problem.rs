//! RFC 9457 problem details: the one error type of the HTTP edge. Every service error is
//! converted into it once; its `type` URIs are stable and listed in `docs/errors.md`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::validation::FieldError;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A request that uses (or asks for) the session cookie came without this site's
    /// `Origin`: another site may be making the browser send it (CSRF).
    #[error("cross-site request: {0}")]
    CrossSiteRequest(String),
    /// The company requires a second factor the caller has not set up.
    #[error("MFA enrolment required")]
    MfaEnrolmentRequired,
    /// A write touched fields the caller's role may not change (403, each field named).
    #[error("read-only fields")]
    ReadOnlyFields(Vec<FieldError>),
    /// A list's filter, sort or total reads fields the caller's role hides or masks (403,
    /// each parameter named): answering would spell the field out.
    #[error("hidden fields")]
    HiddenFields(Vec<FieldError>),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// A conflict with the current state; `kind` names it in the `type` URI and `extra`
    /// adds members (e.g. the tenants to choose from).
    #[error("conflict ({kind}): {detail}")]
    Conflict {
        kind: &'static str,
        detail: String,
        extra: Map<String, Value>,
    },
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many requests (retry after {retry_after}s)")]
    TooManyRequests { retry_after: u64, detail: String },
    /// A dependency (table, blob store, key service) failed. The text is logged, not shown.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug. The text is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn conflict(kind: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            kind,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

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

    /// The stable last segment of the `type` URI.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "malformed-request",
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::CrossSiteRequest(_) => "cross-site-request",
            ApiError::ReadOnlyFields(_) => "read-only-field",
            ApiError::HiddenFields(_) => "hidden-field",
            ApiError::MfaEnrolmentRequired => "mfa-enrolment-required",
            ApiError::NotFound(_) => "not-found",
            ApiError::MethodNotAllowed { .. } => "method-not-allowed",
            ApiError::Conflict { kind, .. } => kind,
            ApiError::PreconditionFailed(_) => "version-mismatch",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Validation(_) => "validation-failed",
            ApiError::TooManyRequests { .. } => "rate-limited",
            ApiError::Unavailable(_) => "service-unavailable",
            ApiError::Internal(_) => "internal-error",
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

impl From<crate::table::TableError> for ApiError {
    fn from(e: crate::table::TableError) -> Self {
        use crate::table::TableError;
        match e {
            // Callers that expect a condition to fail map it themselves; one that reaches
            // here is a concurrent change the client may retry.
            TableError::ConditionFailed { .. } | TableError::Conflict => ApiError::conflict(
                "concurrent-modification",
                "The record was changed at the same time by another request; please retry.",
            ),
            TableError::Invalid(m) => ApiError::Internal(format!("table request: {m}")),
            TableError::Unavailable(m) => ApiError::Unavailable(m),
        }
    }
}

impl From<crate::keys::KeyError> for ApiError {
    fn from(e: crate::keys::KeyError) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}

impl From<crate::blobs::BlobError> for ApiError {
    fn from(e: crate::blobs::BlobError) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}
