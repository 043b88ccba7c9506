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
