//! The domain's one error type. Services, workers and ports' callers return it; it says
//! what went wrong in words a person can act on and names the offending fields. Only the
//! HTTP edge (`crate::http::problem`) turns it into a status and a problem+json document.

use serde_json::Map;
use serde_json::Value;

use crate::validation::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
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

impl Error {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn conflict(kind: &'static str, detail: impl Into<String>) -> Self {
        Error::Conflict {
            kind,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    /// The stable last segment of the `type` URI.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "malformed-request",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::Forbidden(_) => "forbidden",
            Error::CrossSiteRequest(_) => "cross-site-request",
            Error::ReadOnlyFields(_) => "read-only-field",
            Error::HiddenFields(_) => "hidden-field",
            Error::MfaEnrolmentRequired => "mfa-enrolment-required",
            Error::NotFound(_) => "not-found",
            Error::MethodNotAllowed { .. } => "method-not-allowed",
            Error::Conflict { kind, .. } => kind,
            Error::PreconditionFailed(_) => "version-mismatch",
            Error::PayloadTooLarge { .. } => "payload-too-large",
            Error::UnsupportedMediaType(_) => "unsupported-media-type",
            Error::Validation(_) => "validation-failed",
            Error::TooManyRequests { .. } => "rate-limited",
            Error::Unavailable(_) => "service-unavailable",
            Error::Internal(_) => "internal-error",
        }
    }
}

impl From<crate::table::TableError> for Error {
    fn from(e: crate::table::TableError) -> Self {
        use crate::table::TableError;
        match e {
            // Callers that expect a condition to fail map it themselves; one that reaches
            // here is a concurrent change the client may retry.
            TableError::ConditionFailed { .. } | TableError::Conflict => Error::conflict(
                "concurrent-modification",
                "The record was changed at the same time by another request; please retry.",
            ),
            TableError::Invalid(m) => Error::Internal(format!("table request: {m}")),
            TableError::Unavailable(m) => Error::Unavailable(m),
        }
    }
}

impl From<crate::keys::KeyError> for Error {
    fn from(e: crate::keys::KeyError) -> Self {
        Error::Unavailable(e.to_string())
    }
}

impl From<crate::blobs::BlobError> for Error {
    fn from(e: crate::blobs::BlobError) -> Self {
        Error::Unavailable(e.to_string())
    }
}
// The problem document of each error: its part of the API (`docs/errors.md`), which a bulk
// operation also embeds per item. The HTTP response around it is the edge's
// (`crm_engine::http::problem`).
impl Error {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Error::BadRequest(_) => http::StatusCode::BAD_REQUEST,
            Error::Unauthenticated(_) => http::StatusCode::UNAUTHORIZED,
            Error::Forbidden(_)
            | Error::CrossSiteRequest(_)
            | Error::ReadOnlyFields(_)
            | Error::HiddenFields(_)
            | Error::MfaEnrolmentRequired => http::StatusCode::FORBIDDEN,
            Error::NotFound(_) => http::StatusCode::NOT_FOUND,
            Error::MethodNotAllowed { .. } => http::StatusCode::METHOD_NOT_ALLOWED,
            Error::Conflict { .. } => http::StatusCode::CONFLICT,
            Error::PreconditionFailed(_) => http::StatusCode::PRECONDITION_FAILED,
            Error::PayloadTooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Validation(_) => http::StatusCode::UNPROCESSABLE_ENTITY,
            Error::TooManyRequests { .. } => http::StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) => http::StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The short, fixed title of its problem document.
    pub fn title(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "Malformed request",
            Error::Unauthenticated(_) => "Authentication required",
            Error::Forbidden(_) | Error::ReadOnlyFields(_) | Error::HiddenFields(_) => {
                "Not allowed"
            }
            Error::CrossSiteRequest(_) => "Cross-site request refused",
            Error::MfaEnrolmentRequired => "Two-factor sign-in required",
            Error::NotFound(_) => "Not found",
            Error::MethodNotAllowed { .. } => "Method not allowed",
            Error::Conflict { .. } => "Conflict",
            Error::PreconditionFailed(_) => "Version mismatch",
            Error::PayloadTooLarge { .. } => "Payload too large",
            Error::UnsupportedMediaType(_) => "Unsupported media type",
            Error::Validation(_) => "Validation failed",
            Error::TooManyRequests { .. } => "Too many requests",
            Error::Unavailable(_) => "Service unavailable",
            Error::Internal(_) => "Internal error",
        }
    }

    /// The human explanation of its problem document.
    pub fn detail(&self) -> String {
        match self {
            Error::BadRequest(d)
            | Error::Unauthenticated(d)
            | Error::Forbidden(d)
            | Error::CrossSiteRequest(d)
            | Error::NotFound(d)
            | Error::PreconditionFailed(d)
            | Error::UnsupportedMediaType(d)
            | Error::TooManyRequests { detail: d, .. }
            | Error::Conflict { detail: d, .. } => d.clone(),
            Error::MethodNotAllowed { allow } => {
                format!("This resource supports only: {allow}.")
            }
            Error::PayloadTooLarge { limit } => {
                format!("The request body exceeds the limit of {limit} bytes.")
            }
            Error::Validation(errors) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("Some fields are invalid: {}.", fields.join(", "))
            }
            Error::ReadOnlyFields(errors) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("Your role may not change: {}.", fields.join(", "))
            }
            Error::HiddenFields(errors) => {
                let params: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                format!(
                    "Your role cannot see what these parameters read, so a list cannot be \
                     filtered, sorted or totalled by them: {}.",
                    params.join(", ")
                )
            }
            Error::MfaEnrolmentRequired => "Your company requires two-factor sign-in: set it \
                up first (POST /v1/me/mfa/totp, then POST /v1/me/mfa/totp/confirm)."
                .into(),
            Error::Unavailable(_) => {
                "A backing service is unavailable; please retry shortly.".into()
            }
            Error::Internal(_) => "Something went wrong on our side; it has been logged.".into(),
        }
    }

    /// The problem document (RFC 9457): what the edge answers with, and what a bulk
    /// operation reports for each item that failed.
    pub fn body(&self) -> serde_json::Value {
        let status = self.status();
        let mut body = serde_json::json!({
            "type": format!("urn:crm:problem:{}", self.kind()),
            "title": self.title(),
            "status": status.as_u16(),
            "detail": self.detail(),
        });
        let obj = body.as_object_mut().expect("a JSON object");
        match self {
            Error::Validation(errors)
            | Error::ReadOnlyFields(errors)
            | Error::HiddenFields(errors) => {
                obj.insert("errors".into(), serde_json::json!(errors));
            }
            Error::Conflict { extra, .. } => {
                obj.extend(extra.clone());
            }
            _ => {}
        }
        body
    }
}
