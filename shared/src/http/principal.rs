//! Who is calling: the `Principal` extractor verifies the bearer token and loads the
//! caller's tenant, user, session and permissions; `ClientIp` is the caller's address.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{header, request::Parts};

use super::problem::ApiError;
use crate::AppState;
use crate::ids::TenantId;
use crate::policy::{Action, Effective, Scope, View};

/// An authenticated caller. Every tenant-scoped operation starts from one: its `tenant` is
/// the only tenant its requests can reach.
#[derive(Clone, Debug)]
pub struct Principal {
    pub tenant: TenantId,
    /// The user, or for an API key the key's id (it owns what it creates).
    pub user_id: String,
    pub caller: Caller,
    /// The session of a signed-in user; API keys have none.
    pub session_id: Option<String>,
    pub role_ids: Vec<String>,
    /// Who shares a team with the caller (the caller included): what `team` scope reaches.
    pub team_members: BTreeSet<String>,
    /// The company requires a second factor this user has not set up yet: only the
    /// routes of [`ENROLMENT_ROUTES`] serve them until they do.
    pub must_enrol_mfa: bool,
    pub permissions: Effective,
    /// Where the request came from, for the audit log.
    pub request: RequestMeta,
}

/// What a user who must enrol a second factor may still do.
pub const ENROLMENT_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/me"),
    ("POST", "/v1/me/mfa/totp"),
    ("POST", "/v1/me/mfa/totp/confirm"),
    ("POST", "/v1/me/password"),
];

/// What kind of credential a request carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    User,
    ApiKey,
    /// The product acting for the public (a web-form ticket, a survey response).
    System,
}

impl Principal {
    /// The caller's session: only people have one; API keys get a 403.
    pub fn session(&self) -> Result<&str, ApiError> {
        self.session_id.as_deref().ok_or_else(|| {
            ApiError::Forbidden("API keys have no user account; sign in as a person.".into())
        })
    }

    /// The product itself acting in `tenant` for the public (`actor` names the door:
    /// `web-form`, `survey`), with the administrator's permissions: the public endpoints
    /// decide what it may do, and the audit log shows it as the system.
    pub fn system(tenant: TenantId, actor: &str, request: RequestMeta) -> Self {
        let admin = crate::policy::templates()
            .into_iter()
            .find(|t| t.id == crate::policy::ADMIN_ROLE)
            .map(|t| t.permissions)
            .unwrap_or_default();
        Self {
            tenant,
            user_id: actor.to_owned(),
            caller: Caller::System,
            session_id: None,
            role_ids: Vec::new(),
            team_members: BTreeSet::from([actor.to_owned()]),
            must_enrol_mfa: false,
            permissions: Effective::union([&admin]),
            request,
        }
    }

    /// The custom values a new record starts from, for `fields::prepare`: nothing, but
    /// for the product acting for the public an empty map, so the company's required
    /// custom fields (which a web form cannot know) do not bind it.
    pub fn new_record_fields(&self) -> Option<&'static serde_json::Map<String, serde_json::Value>> {
        static NONE: std::sync::LazyLock<serde_json::Map<String, serde_json::Value>> =
            std::sync::LazyLock::new(serde_json::Map::new);
        (self.caller == Caller::System).then(|| &*NONE)
    }

    /// Whether `scope` reaches a record owned by `owner_id`.
    pub fn reaches(&self, scope: Scope, owner_id: &str) -> bool {
        match scope {
            Scope::All => true,
            Scope::Team => self.team_members.contains(owner_id),
            Scope::Own => owner_id == self.user_id,
        }
    }

    pub fn require(&self, resource: &str, action: Action) -> Result<Scope, ApiError> {
        self.permissions.require(resource, action)
    }

    /// See [`Effective::check_writable`].
    pub fn check_writable(&self, resource: &str, fields: &[&str]) -> Result<(), ApiError> {
        self.permissions.check_writable(resource, fields)
    }

    /// See [`Effective::view`].
    pub fn view<T: serde::Serialize>(
        &self,
        resource: &str,
        record: &T,
        reveal: bool,
    ) -> Result<View, ApiError> {
        self.permissions.view(resource, record, reveal)
    }
}

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
            ApiError::Unauthenticated(
                "Send an access token: `Authorization: Bearer <token>`.".into(),
            )
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
            return Err(ApiError::MfaEnrolmentRequired);
        }
        let span = tracing::Span::current();
        span.record("tenant_id", principal.tenant.as_str());
        span.record("user_id", principal.user_id.as_str());
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

/// The caller's IP address: from the API Gateway request context in Lambda (put there by
/// `shared::lambda`), from the TCP peer locally. Forwarding headers are not trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

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

/// The request facts the audit log keeps: the server's request id, the id the client
/// sent (sanitised, never trusted as ours), caller address, user agent.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestMeta {
    /// The id the server gave the request (`x-request-id` of the response).
    pub request_id: Option<String>,
    pub ip: String,
    pub user_agent: Option<String>,
    /// The `X-Request-Id` the client sent, sanitised (see [`ClientRequestId`]).
    #[serde(default)]
    pub client_request_id: Option<String>,
}

/// The `X-Request-Id` a client sent. The server replaces the header with an id of its
/// own (see `http::app`) and keeps the client's here, bounded to
/// [`MAX_CLIENT_REQUEST_ID`] characters of `A-Z a-z 0-9 - _ . : /` (others are dropped),
/// so a client can correlate but never forge or inject into the server's records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRequestId(pub String);

/// Longest client request id kept.
pub const MAX_CLIENT_REQUEST_ID: usize = 128;

impl ClientRequestId {
    /// The sanitised form of a header value; `None` when nothing usable is left.
    pub fn sanitise(raw: &[u8]) -> Option<Self> {
        let kept: String = raw
            .iter()
            .map(|b| *b as char)
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/'))
            .take(MAX_CLIENT_REQUEST_ID)
            .collect();
        (!kept.is_empty()).then_some(Self(kept))
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
