//! API keys for partners (ERP, finance, shops): `crmk.<tenant>.<key id>.<secret>`, shown
//! once at creation; only a SHA-256 of the secret is stored. A key acts with a role's
//! permissions or with its own permission set, met with its maker's permissions as they
//! are now (both read fresh on every request, so role edits apply at once): a key never
//! does more than its maker may do today. When its maker is deactivated the key stops
//! (401); the key list shows such keys (`maker_active: false`) so an admin can reassign
//! them to an active user (`POST /v1/api-keys/{id}/reassign`) or revoke them. Revoking
//! works on the next request.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use super::key_makers::{Reassignment, reassign};
use super::key_makers::{is_live, maker_permissions, own_permissions, view_of};
use super::secrets;
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::directory;
use crate::directory::{Role, Status, read_partition};
use crate::error::Error;
use crate::ids::{TenantId, is_id, new_id};
use crate::paging::ListPage;
use crate::policy::{Action, Effective, Permissions};
use crate::principal::Principal;
use crate::principal::cache::KeptKey;
use crate::principal::{Caller, RequestMeta};
use crate::table::{Condition, Key, Table, TableError, Write, from_item, to_item};
use crate::validation::Errors;

pub const PREFIX: &str = crate::ids::ApiKeyId::PREFIX;
/// The start of every API key, so leaked keys are recognisable (e.g. by secret scanners).
pub const TOKEN_KIND: &str = "crmk";
/// Most keys (live or revoked) a tenant may keep.
pub const MAX_KEYS: usize = 200;
/// `last_used_at` is written at most this often per key, not on every request.
const LAST_USED_GRANULARITY_SECS: i64 = 60;
pub const RESOURCE: &str = "api_keys";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The token up to its secret: enough to recognise the key, useless without it.
    pub prefix: String,
    pub secret_hash: String,
    pub role_id: Option<String>,
    pub permissions: Option<Permissions>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub version: u64,
}

/// A key as listed: everything but its secret hash.
#[derive(Clone, Debug, Serialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub role_id: Option<String>,
    pub permissions: Option<Permissions>,
    pub created_by: String,
    /// Whether the key's maker (the user behind `created_by`) can still act. A key whose
    /// maker was deactivated does not work; reassign it or revoke it.
    pub maker_active: bool,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub version: u64,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(k: &ApiKey) -> Self {
        Self {
            id: k.id.clone(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            role_id: k.role_id.clone(),
            permissions: k.permissions.clone(),
            created_by: k.created_by.clone(),
            maker_active: true,
            created_at: k.created_at.clone(),
            expires_at: k.expires_at.clone(),
            last_used_at: k.last_used_at.clone(),
            revoked_at: k.revoked_at.clone(),
            version: k.version,
        }
    }
}

/// A new key, with the token shown this once.
#[derive(Debug, Serialize)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The token to send as `Authorization: Bearer <key>`. It cannot be shown again.
    #[serde(rename = "key")]
    pub token: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    pub name: String,
    pub role_id: Option<String>,
    pub permissions: Option<Permissions>,
    /// RFC 3339; the key stops working then.
    pub expires_at: Option<String>,
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk("api-keys"), id)
}

fn not_found() -> Error {
    Error::NotFound("No API key with this id.".into())
}

async fn all(table: &dyn Table, tenant: &TenantId) -> Result<Vec<ApiKey>, TableError> {
    read_partition(table, tenant.pk("api-keys")).await
}

/// How many live keys act with role `role_id`.
pub async fn holding_role(
    state: &AppState,
    tenant: &TenantId,
    role_id: &str,
) -> Result<usize, Error> {
    Ok(all(state.table.as_ref(), tenant)
        .await?
        .iter()
        .filter(|k| k.revoked_at.is_none() && k.role_id.as_deref() == Some(role_id))
        .count())
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewApiKey,
) -> Result<CreatedKey, Error> {
    principal.require(RESOURCE, Action::Create)?;
    let table = state.table.as_ref();
    let now = state.clock.now();
    let mut errors = Errors::new();
    errors.text("name", &input.name, 1, 100);
    let permissions = match (&input.role_id, &input.permissions) {
        (Some(role_id), None) => {
            match directory::list_roles(table, &principal.tenant)
                .await?
                .into_iter()
                .find(|r| &r.id == role_id)
            {
                Some(role) => Some(role.permissions),
                None => {
                    errors.add("role_id", "is not a role of this company");
                    None
                }
            }
        }
        (None, Some(permissions)) => {
            let catalog = crate::fields::objects::catalog(table, &principal.tenant).await?;
            permissions.check("permissions", &catalog, &mut errors);
            Some(permissions.clone())
        }
        _ => {
            errors.add(
                "role_id",
                "give either `role_id` or `permissions`, not both",
            );
            None
        }
    };
    let expires_at = match input.expires_at.as_deref() {
        None => None,
        Some(text) => {
            match OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
                Ok(at) if at > now => Some(rfc3339(at)),
                Ok(_) => {
                    errors.add("expires_at", "must be in the future");
                    None
                }
                Err(_) => {
                    errors.add(
                        "expires_at",
                        "must be an RFC 3339 time, like 2027-01-31T00:00:00Z",
                    );
                    None
                }
            }
        }
    };
    errors.finish().map_err(Error::Validation)?;
    if let Some(permissions) = &permissions {
        principal.permissions.covers(permissions)?;
    }
    if all(table, &principal.tenant).await?.len() >= MAX_KEYS {
        return Err(Error::conflict(
            "too-many-api-keys",
            format!("A company can keep at most {MAX_KEYS} API keys."),
        ));
    }
    let id = new_id(PREFIX);
    let (secret, secret_hash) = secrets::new_secret();
    let token = secrets::compose(TOKEN_KIND, &principal.tenant, &id, &secret);
    let record = ApiKey {
        prefix: token[..token.len() - secret.len() - 1].to_owned(),
        id,
        name: input.name.trim().to_owned(),
        secret_hash,
        role_id: input.role_id,
        permissions: input.permissions,
        created_by: principal.user_id.clone(),
        created_at: rfc3339(now),
        expires_at,
        last_used_at: None,
        revoked_at: None,
        version: 1,
    };
    let view = ApiKeyView::from(&record);
    let entry = Entry::by(
        principal,
        now,
        "api_key.created",
        RESOURCE,
        Some(&record.id),
    )
    .with_changes(None, Some(&view));
    entry
        .commit(
            state.table.as_ref(),
            &principal.tenant,
            Write::Put {
                item: to_item(&key(&principal.tenant, &record.id), &record)?,
                condition: Condition::NotExists,
            },
        )
        .await?;
    Ok(CreatedKey { key: view, token })
}

pub async fn list(state: &AppState, principal: &Principal) -> Result<ListPage<ApiKeyView>, Error> {
    principal.require(RESOURCE, Action::Read)?;
    let table = state.table.as_ref();
    let (mut keys, roles) = tokio::try_join!(
        all(table, &principal.tenant),
        directory::list_roles(table, &principal.tenant),
    )?;
    keys.sort_by(|a, b| b.id.cmp(&a.id));
    // Most keys share a few makers: each is looked up once.
    let mut active: std::collections::HashMap<String, bool> = Default::default();
    let mut data = Vec::with_capacity(keys.len());
    for key in &keys {
        let maker_active = match active.get(&key.created_by) {
            Some(a) => *a,
            None => {
                let a = maker_permissions(state, &principal.tenant, &key.created_by, &roles)
                    .await?
                    .is_some();
                active.insert(key.created_by.clone(), a);
                a
            }
        };
        data.push(ApiKeyView {
            maker_active,
            ..ApiKeyView::from(key)
        });
    }
    Ok(ListPage {
        data,
        next_cursor: None,
    })
}

/// Key `id` of `tenant`, if it exists.
pub async fn find(state: &AppState, tenant: &TenantId, id: &str) -> Result<Option<ApiKey>, Error> {
    if !is_id(PREFIX, id) {
        return Ok(None);
    }
    Ok(state
        .table
        .get(&key(tenant, id))
        .await?
        .map(from_item)
        .transpose()?)
}

pub async fn load(state: &AppState, tenant: &TenantId, id: &str) -> Result<ApiKey, Error> {
    if !is_id(PREFIX, id) {
        return Err(not_found());
    }
    let item = state
        .table
        .get(&key(tenant, id))
        .await?
        .ok_or_else(not_found)?;
    Ok(from_item(item)?)
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<ApiKeyView, Error> {
    principal.require(RESOURCE, Action::Read)?;
    let record = load(state, &principal.tenant, id).await?;
    let roles = directory::list_roles(state.table.as_ref(), &principal.tenant).await?;
    view_of(state, &principal.tenant, &record, &roles).await
}

/// Revokes a key: it stops working on its next request. Revoking twice is a no-op.
pub async fn revoke(state: &AppState, principal: &Principal, id: &str) -> Result<(), Error> {
    principal.require(RESOURCE, Action::Delete)?;
    for _ in 0..5 {
        let current = load(state, &principal.tenant, id).await?;
        if current.revoked_at.is_some() {
            return Ok(());
        }
        let now = state.clock.now();
        let mut next = current.clone();
        next.revoked_at = Some(rfc3339(now));
        next.version += 1;
        let entry = Entry::by(principal, now, "api_key.revoked", RESOURCE, Some(id)).with_changes(
            Some(&ApiKeyView::from(&current)),
            Some(&ApiKeyView::from(&next)),
        );
        match entry
            .commit(
                state.table.as_ref(),
                &principal.tenant,
                Write::Put {
                    item: to_item(&key(&principal.tenant, id), &next)?,
                    condition: Condition::VersionIs(current.version),
                },
            )
            .await
        {
            Ok(()) => return Ok(()),
            // Used meanwhile (last_used_at moved): read again.
            Err(TableError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(
        "concurrent-modification",
        "The key is being changed by other requests; please retry.",
    ))
}

fn denied() -> Error {
    Error::Unauthenticated("The API key is invalid, expired or revoked.".into())
}

/// The principal an API key acts as, if the key is genuine, live and its company active.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    request: RequestMeta,
) -> Result<Principal, Error> {
    let (tenant, id, secret) = secrets::parse(TOKEN_KIND, PREFIX, token).ok_or_else(denied)?;
    // What a key acts with is read once and kept while the company's directory (its keys
    // among it) is unchanged: see `principal::cache`.
    let stamp = state.directory.stamp(&tenant).await?;
    let now = state.clock.now();
    if let Some(kept) = state.directory.key(&tenant, &id, &stamp)
        && now < kept.until
    {
        if !secrets::matches(&kept.secret_hash, &secret) {
            return Err(denied());
        }
        let mut principal = kept.principal;
        principal.request = request;
        principal.stamp = Some(stamp);
        return Ok(principal);
    }
    let table = state.table.as_ref();
    let record_key = key(&tenant, &id);
    let (record, company, roles) = tokio::try_join!(
        table.get(&record_key),
        directory::get_tenant(table, &tenant),
        directory::list_roles(table, &tenant),
    )?;
    let record: ApiKey = from_item(record.ok_or_else(denied)?)?;
    if !secrets::matches(&record.secret_hash, &secret)
        || !is_live(&record, now)
        || !company.is_some_and(|t| t.status == Status::Active)
    {
        return Err(denied());
    }
    // Read once per request (the principal is kept for the request): a key acts with
    // its maker's permissions as they are now, and not at all once they are gone.
    let maker = maker_permissions(state, &tenant, &record.created_by, &roles)
        .await?
        .ok_or_else(|| {
            Error::Unauthenticated(
                "The API key's maker can no longer act (deactivated); an administrator can \
                 reassign the key to an active user."
                    .into(),
            )
        })?;
    let noted = note_use(state, &tenant, &record, now).await;
    let secret_hash = record.secret_hash.clone();
    let until = kept_until(&record, now);
    let mut principal = key_principal(tenant.clone(), record, &roles, &maker, request);
    principal.stamp = Some(stamp.clone());
    // A use just recorded moved the stamp: the next request reads the key again.
    if !noted {
        let kept = KeptKey {
            principal: principal.clone(),
            secret_hash,
            until,
        };
        state.directory.keep_key(stamp, &tenant, &id, kept);
    }
    Ok(principal)
}

/// Until when what was read of `record` at `now` may be used: before it expires and its
/// last use is due to be recorded again.
fn kept_until(record: &ApiKey, now: OffsetDateTime) -> OffsetDateTime {
    let parse =
        |at: &str| OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok();
    let due = record
        .last_used_at
        .as_deref()
        .and_then(parse)
        .map_or(now, |at| {
            at + time::Duration::seconds(LAST_USED_GRANULARITY_SECS)
        });
    match record.expires_at.as_deref() {
        Some(at) => due.min(parse(at).unwrap_or(now)),
        None => due,
    }
}

/// The principal of key `record`: its own permissions (from `roles` as they are now)
/// met with its maker's current ones.
fn key_principal(
    tenant: TenantId,
    record: ApiKey,
    roles: &[Role],
    maker: &Effective,
    request: RequestMeta,
) -> Principal {
    // A deleted role leaves the key with no permissions, not with an error.
    let permissions = own_permissions(&record, roles).intersect(maker);
    Principal {
        tenant,
        user_id: record.id.clone(),
        caller: Caller::ApiKey,
        session_id: None,
        role_ids: record.role_id.into_iter().collect(),
        team_members: [record.id].into_iter().collect(),
        must_enrol_mfa: false,
        permissions,
        request,
        stamp: None,
    }
}

/// Key `id` acting again (for work it started that runs later, such as an import), if
/// it is still valid; its permissions are read as they are now.
pub async fn principal_for(
    state: &AppState,
    tenant: &TenantId,
    id: &str,
    request: RequestMeta,
) -> Result<Option<Principal>, Error> {
    let table = state.table.as_ref();
    let record_key = key(tenant, id);
    let (record, company, roles) = tokio::try_join!(
        table.get(&record_key),
        directory::get_tenant(table, tenant),
        directory::list_roles(table, tenant),
    )?;
    let Some(record) = record else {
        return Ok(None);
    };
    let record: ApiKey = from_item(record)?;
    if !is_live(&record, state.clock.now()) || !company.is_some_and(|t| t.status == Status::Active)
    {
        return Ok(None);
    }
    let Some(maker) = maker_permissions(state, tenant, &record.created_by, &roles).await? else {
        return Ok(None);
    };
    Ok(Some(key_principal(
        tenant.clone(),
        record,
        &roles,
        &maker,
        request,
    )))
}

/// Records when a key was last used, at most once a minute; a lost race is harmless.
/// Whether it wrote (or tried to).
async fn note_use(
    state: &AppState,
    tenant: &TenantId,
    record: &ApiKey,
    now: OffsetDateTime,
) -> bool {
    let recent = record.last_used_at.as_deref().is_some_and(|at| {
        OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
            .is_ok_and(|at| (now - at).whole_seconds() < LAST_USED_GRANULARITY_SECS)
    });
    if recent {
        return false;
    }
    let mut next = record.clone();
    next.last_used_at = Some(rfc3339(now));
    next.version += 1;
    let Ok(item) = to_item(&key(tenant, &record.id), &next) else {
        return false;
    };
    if let Err(e) = state
        .table
        .put(item, Condition::VersionIs(record.version))
        .await
        && !matches!(e, TableError::ConditionFailed { .. })
    {
        tracing::warn!(error = %e, "recording API key use failed");
    }
    true
}
