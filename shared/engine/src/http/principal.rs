//! Who is calling, from a request: the `Principal` extractor verifies the bearer token
//! and loads the caller's tenant, user, session and permissions; `ClientIp` is the
//! caller's address; `RequestMeta` the facts the audit log keeps.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{header, request::Parts};

use super::problem::ApiError;
use crate::AppState;
use crate::error::Error;
pub use crate::principal::*;

/// What a user who must enrol a second factor may still do.
pub const ENROLMENT_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/me"),
    ("POST", "/v1/me/mfa/totp"),
    ("POST", "/v1/me/mfa/totp/confirm"),
    ("POST", "/v1/me/password"),
];

/// The bearer token of a request, if it carries one.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let token = bearer(parts).map(str::to_owned).ok_or_else(|| {
            Error::Unauthenticated("Send an access token: `Authorization: Bearer <token>`.".into())
        })?;
        let request = RequestMeta::from_request_parts(parts, state).await?;
        let principal = if token.starts_with(crate::auth::api_keys::TOKEN_KIND) {
            crate::auth::api_keys::authenticate(state, &token, request).await?
        } else {
            let claims = state.tokens.verify(&token)?;
            crate::auth::service::authenticate(state, claims, request).await?
        };
        let route = (parts.method.as_str(), parts.uri.path());
        if principal.must_enrol_mfa && !ENROLMENT_ROUTES.contains(&route) {
            return Err(ApiError(Error::MfaEnrolmentRequired));
        }
        let span = tracing::Span::current();
        span.record("tenant_id", principal.tenant.as_str());
        span.record("user_id", principal.user_id.as_str());
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        if let Some(ip) = parts.extensions.get::<ClientIp>() {
            return Ok(*ip);
        }
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

/// Longest user agent kept (they are free text sent by the client).
const MAX_USER_AGENT: usize = 256;

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let text = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(MAX_USER_AGENT).collect::<String>())
        };
        Ok(RequestMeta {
            request_id: text("x-request-id"),
            ip: ip.to_string(),
            user_agent: text("user-agent"),
            client_request_id: parts
                .extensions
                .get::<ClientRequestId>()
                .map(|c| c.0.clone()),
        })
    }
}
