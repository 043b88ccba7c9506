//! Who is calling: the `Principal` (tenant, user or API key, session, roles, team and
//! effective permissions) every tenant-scoped operation starts from, and the request facts
//! the audit log keeps. The HTTP edge makes them from a request (`crate::http::principal`).

pub mod cache;
mod reader;

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::error::Error;
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
    /// The company's directory stamp read when the caller was authenticated: what is
    /// kept per company (custom field definitions) is used while it still holds.
    pub stamp: Option<cache::Stamp>,
}

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
    pub fn session(&self) -> Result<&str, Error> {
        self.session_id.as_deref().ok_or_else(|| {
            Error::Forbidden("API keys have no user account; sign in as a person.".into())
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
            stamp: None,
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

    pub fn require(&self, resource: &str, action: Action) -> Result<Scope, Error> {
        self.permissions.require(resource, action)
    }

    /// See [`Effective::check_writable`].
    pub fn check_writable(&self, resource: &str, fields: &[&str]) -> Result<(), Error> {
        self.permissions.check_writable(resource, fields)
    }

    /// See [`Effective::view`].
    pub fn view<T: serde::Serialize>(
        &self,
        resource: &str,
        record: &T,
        reveal: bool,
    ) -> Result<View, Error> {
        self.permissions.view(resource, record, reveal)
    }
}

/// The caller's IP address: from the API Gateway request context in Lambda (put there by
/// `shared::lambda`), from the TCP peer locally. Forwarding headers are not trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

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
