//! The sign-in flows: login (with throttling and tenant selection), refresh-token
//! rotation with reuse detection, logout, and turning an access token into a `Principal`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::mfa::{self, MfaChallenge};
use super::passwords;
use super::sessions::{self, SecretIs, Session};
use super::throttle::{self, PER_ACCOUNT, PER_ADDRESS};
use crate::AppState;
use crate::audit::{Actor, Entry};
use crate::clock::rfc3339;
use crate::directory;
use crate::directory::{Status, User};
use crate::error::Error;
use crate::ids::TenantId;
use crate::policy::Effective;
use crate::principal::Principal;
use crate::principal::{Caller, RequestMeta};
use crate::table::{Condition, TableError, Write, from_item, to_item};
use crate::tokens::Claims;
use crate::validation::{Errors, normalize_email};

/// Longest password accepted at login; bounds the hashing work an attacker can ask for.
const MAX_LOGIN_PASSWORD: usize = 1024;
/// Longest refresh token accepted (real ones are about 100 characters).
const MAX_REFRESH_TOKEN: usize = 512;
/// The most tenants one email is looked up in at a login that names no tenant (each costs
/// a password check); with more, the login must name its `tenant_id`.
const MAX_TENANTS_PER_EMAIL: usize = 10;

#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    /// The company requires a second factor the user has not set up: until they enrol
    /// (`POST /v1/me/mfa/totp`), other routes answer 403 `mfa-enrolment-required`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mfa_enrolment_required: bool,
}

/// What a correct password gets: tokens, or the second step when the user has MFA.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum LoginReply {
    Tokens(TokenPair),
    Mfa(MfaChallenge),
}

/// A new session for `user_id`: the write that stores it and the tokens to hand out.
pub fn start_session(
    state: &AppState,
    tenant: &TenantId,
    user_id: &str,
    now: OffsetDateTime,
) -> Result<(Write, TokenPair), Error> {
    let session_id = sessions::new_session_id();
    let (secret, secret_hash) = sessions::new_secret();
    let expires_at = now.unix_timestamp() + state.config.refresh_token_ttl.as_secs() as i64;
    let session = Session {
        id: session_id.clone(),
        user_id: user_id.to_owned(),
        secret_hash,
        previous_hashes: Vec::new(),
        created_at: rfc3339(now),
        last_used_at: rfc3339(now),
        expires_at,
        revoked: false,
        version: 1,
        ttl: expires_at + 7 * 86400,
        gsi1pk: sessions::user_sessions_pk(tenant, user_id),
        gsi1sk: session_id.clone(),
    };
    let item = to_item(&sessions::key(tenant, &session_id), &session)?;
    let access = state.tokens.issue(tenant, user_id, &session_id, now)?;
    Ok((
        Write::Put {
            item,
            condition: Condition::NotExists,
        },
        TokenPair {
            access_token: access.token,
            refresh_token: sessions::refresh_token(tenant, &session_id, &secret),
            token_type: "Bearer",
            expires_in: access.expires_in,
            mfa_enrolment_required: false,
        },
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
    pub tenant_id: Option<String>,
}

fn bad_credentials() -> Error {
    Error::Unauthenticated("The email or password is incorrect.".into())
}

/// Holds an answer until `floor` has passed since `started`: work that differs between
/// existing and unknown accounts (reads, audit writes, mail) then cannot be timed.
pub async fn pad(started: tokio::time::Instant, floor: std::time::Duration) {
    tokio::time::sleep_until(started + floor).await;
}

/// Signs in with email and password. Every wrong answer takes at least the configured
/// floor (`CRM_AUTH_ANSWER_FLOOR_MS`), whether or not the email has an account.
pub async fn login(
    state: &AppState,
    input: Login,
    request: &RequestMeta,
) -> Result<LoginReply, Error> {
    let started = tokio::time::Instant::now();
    let reply = check_login(state, input, request).await;
    if matches!(reply, Err(Error::Unauthenticated(_))) {
        pad(started, state.config.auth_answer_floor).await;
    }
    reply
}

async fn check_login(
    state: &AppState,
    input: Login,
    request: &RequestMeta,
) -> Result<LoginReply, Error> {
    let mut errors = Errors::new();
    errors.email("email", &input.email);
    let email = normalize_email(&input.email);
    if input.password.is_empty() || input.password.len() > MAX_LOGIN_PASSWORD {
        errors.add(
            "password",
            format!("must be 1 to {MAX_LOGIN_PASSWORD} bytes"),
        );
    }
    let wanted = match input.tenant_id.as_deref() {
        None => None,
        Some(t) => match TenantId::parse(t) {
            Some(t) => Some(t),
            None => {
                errors.add("tenant_id", "is not a tenant id");
                None
            }
        },
    };
    errors.finish().map_err(Error::Validation)?;

    let table = state.table.as_ref();
    let now = state.clock.now();
    let secs = now.unix_timestamp();
    let by_address = format!("ip:{}", request.ip);
    let by_account = format!("email:{email}");
    // Counted before the password is checked, so concurrent guesses cannot pass the limit
    // together; a successful login gives its attempts back.
    let locked = "Too many failed sign-in attempts; try again later.";
    throttle::attempt(table, &by_address, PER_ADDRESS, secs, locked).await?;
    throttle::attempt(table, &by_account, PER_ACCOUNT, secs, locked).await?;

    let entries = match &wanted {
        Some(tenant) => table
            .get(&directory::directory_key(&email, tenant))
            .await?
            .map(from_item::<directory::DirectoryEntry>)
            .transpose()?
            .into_iter()
            .collect(),
        None => directory::directory_lookup(table, &email, MAX_TENANTS_PER_EMAIL).await?,
    };
    let mut matched: Vec<(TenantId, User)> = Vec::new();
    let mut refused: Vec<(TenantId, User)> = Vec::new();
    if entries.is_empty() {
        // Spend the same time as a wrong password, so unknown emails are not revealed.
        passwords::verify(&input.password, None).await;
    }
    for entry in entries {
        if let Some(user) = directory::get_user(table, &entry.tenant_id, &entry.user_id).await? {
            if passwords::verify(&input.password, Some(user.password_hash.clone())).await
                && user.status == Status::Active
            {
                matched.push((entry.tenant_id, user));
            } else {
                refused.push((entry.tenant_id, user));
            }
        }
    }
    if matched.is_empty() {
        // Each company whose account was tried learns of it in its audit log.
        for (tenant, user) in &refused {
            let entry = Entry::new(
                now,
                Actor::user(&user.id),
                "auth.login_failed",
                "auth",
                Some(&user.id),
                request,
            );
            state.table.transact(entry.writes(tenant)?).await?;
        }
        tracing::info!("login failed");
        return Err(bad_credentials());
    }
    // The password was right: this was no guess.
    throttle::forgive(table, &by_account, PER_ACCOUNT, secs).await?;
    if matched.len() > 1 {
        // The caller proved the password for each of these, so naming them leaks nothing.
        let mut tenants = Vec::new();
        for (tenant_id, _) in &matched {
            let name = directory::get_tenant(table, tenant_id)
                .await?
                .map(|t| t.company_name)
                .unwrap_or_default();
            tenants.push(json!({ "tenant_id": tenant_id, "company_name": name }));
        }
        let mut extra = Map::new();
        extra.insert("tenants".into(), Value::Array(tenants));
        return Err(Error::Conflict {
            kind: "tenant-selection-required",
            detail: "This email has accounts in several companies; repeat the login with \
                     one of these `tenant_id`s."
                .into(),
            extra,
        });
    }
    throttle::forgive(table, &by_address, PER_ADDRESS, secs).await?;
    let (tenant, user) = matched.remove(0);
    let company = match directory::get_tenant(table, &tenant).await? {
        Some(t) if t.status == Status::Active => t,
        _ => return Err(bad_credentials()),
    };
    if user.has_mfa() {
        let (write, challenge) = mfa::challenge(state, &tenant, &user)?;
        state.table.transact(vec![write]).await?;
        return Ok(LoginReply::Mfa(challenge));
    }
    let (write, mut tokens) = start_session(state, &tenant, &user.id, now)?;
    tokens.mfa_enrolment_required = company.require_mfa;
    let entry = Entry::new(
        now,
        Actor::user(&user.id),
        "auth.login_succeeded",
        "auth",
        Some(&user.id),
        request,
    );
    state
        .table
        .transact([vec![write], entry.writes(&tenant)?].concat())
        .await?;
    tracing::info!(tenant_id = %tenant, user_id = %user.id, "login succeeded");
    Ok(LoginReply::Tokens(tokens))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

fn bad_refresh() -> Error {
    Error::Unauthenticated("The refresh token is invalid, expired or revoked.".into())
}

/// Loads the session a refresh token names, if the token is well formed.
async fn load_session(
    state: &AppState,
    token: &str,
) -> Result<Option<(TenantId, Session, String)>, Error> {
    let Some((tenant, session_id, secret)) = sessions::parse_refresh_token(token) else {
        return Ok(None);
    };
    let Some(item) = state
        .table
        .get(&sessions::key(&tenant, &session_id))
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((tenant, from_item(item)?, secret)))
}

/// Marks a session revoked (a no-op if it already is), recording `action` in the log
/// when one is given.
pub async fn revoke(
    state: &AppState,
    tenant: &TenantId,
    mut session: Session,
    action: Option<&str>,
    request: &RequestMeta,
) -> Result<(), Error> {
    for _ in 0..5 {
        if session.revoked {
            return Ok(());
        }
        let expected = session.version;
        session.revoked = true;
        session.version += 1;
        let mut writes = vec![Write::Put {
            item: to_item(&sessions::key(tenant, &session.id), &session)?,
            condition: Condition::VersionIs(expected),
        }];
        if let Some(action) = action {
            let entry = Entry::new(
                state.clock.now(),
                Actor::user(&session.user_id),
                action,
                "auth",
                Some(&session.user_id),
                request,
            );
            writes.extend(entry.writes(tenant)?);
        }
        match state.table.transact(writes).await {
            Ok(()) => return Ok(()),
            Err(TableError::ConditionFailed { .. }) => {
                match state.table.get(&sessions::key(tenant, &session.id)).await? {
                    Some(item) => session = from_item(item)?,
                    None => return Ok(()),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(
        "concurrent-modification",
        "The session is being changed by another request; please retry.",
    ))
}

impl RefreshRequest {
    fn check(&self) -> Result<(), Error> {
        let len = self.refresh_token.len();
        if !(1..=MAX_REFRESH_TOKEN).contains(&len) {
            return Err(Error::validation(
                "refresh_token",
                format!("must be 1 to {MAX_REFRESH_TOKEN} characters"),
            ));
        }
        Ok(())
    }
}

pub async fn refresh(
    state: &AppState,
    input: RefreshRequest,
    request: &RequestMeta,
) -> Result<TokenPair, Error> {
    input.check()?;
    let now = state.clock.now();
    let Some((tenant, mut session, secret)) = load_session(state, &input.refresh_token).await?
    else {
        return Err(bad_refresh());
    };
    if session.revoked || session.expires_at <= now.unix_timestamp() {
        return Err(bad_refresh());
    }
    match sessions::classify_secret(&session, &secret) {
        SecretIs::Current => {}
        SecretIs::Superseded => {
            // An old token of this family was replayed: it leaked. End the whole family.
            tracing::warn!(tenant_id = %tenant, "refresh token reuse; session revoked");
            revoke(
                state,
                &tenant,
                session,
                Some("auth.refresh_token_reused"),
                request,
            )
            .await?;
            return Err(bad_refresh());
        }
        SecretIs::Unknown => return Err(bad_refresh()),
    }
    if !account_is_active(state, &tenant, &session.user_id).await? {
        return Err(bad_refresh());
    }
    let (new_secret, new_hash) = sessions::new_secret();
    let expected = session.version;
    sessions::rotate(&mut session, new_hash);
    session.last_used_at = rfc3339(now);
    session.version += 1;
    let item = to_item(&sessions::key(&tenant, &session.id), &session)?;
    match state.table.put(item, Condition::VersionIs(expected)).await {
        Ok(()) => {}
        // Another refresh with the same token won the race: this one is a replay.
        Err(TableError::ConditionFailed { .. }) => return Err(bad_refresh()),
        Err(e) => return Err(e.into()),
    }
    let access = state
        .tokens
        .issue(&tenant, &session.user_id, &session.id, now)?;
    Ok(TokenPair {
        access_token: access.token,
        refresh_token: sessions::refresh_token(&tenant, &session.id, &new_secret),
        token_type: "Bearer",
        expires_in: access.expires_in,
        mfa_enrolment_required: false,
    })
}

/// Ends the session of a refresh token. Unknown tokens are ignored: logging out twice, or
/// with a token that never existed, leaves the same state.
pub async fn logout(
    state: &AppState,
    input: RefreshRequest,
    request: &RequestMeta,
) -> Result<(), Error> {
    input.check()?;
    if let Some((tenant, session, secret)) = load_session(state, &input.refresh_token).await?
        // Only a token the session handed out ends it: knowing its id is not enough.
        && sessions::classify_secret(&session, &secret) != SecretIs::Unknown
    {
        revoke(state, &tenant, session, Some("auth.logout"), request).await?;
        tracing::info!(tenant_id = %tenant, "logged out");
    }
    Ok(())
}

/// Whether the user and their company are both active.
async fn account_is_active(
    state: &AppState,
    tenant: &TenantId,
    user_id: &str,
) -> Result<bool, Error> {
    let table = state.table.as_ref();
    let (user, company) = tokio::try_join!(
        directory::get_user(table, tenant, user_id),
        directory::get_tenant(table, tenant),
    )?;
    Ok(user.is_some_and(|u| u.status == Status::Active)
        && company.is_some_and(|t| t.status == Status::Active))
}

/// The principal behind a verified access token: its user and company must be active,
/// its session unrevoked; its permissions are read fresh, so role changes apply on the next request.
pub async fn authenticate(
    state: &AppState,
    claims: Claims,
    request: RequestMeta,
) -> Result<Principal, Error> {
    let denied = || Error::Unauthenticated("The access token is no longer valid.".into());
    let tenant = TenantId::parse(&claims.tid).ok_or_else(denied)?;
    let stamp = state.directory.stamp(&tenant).await?;
    if let Some(mut principal) =
        state
            .directory
            .principal(&tenant, &claims.sub, &claims.sid, &stamp)
    {
        principal.request = request;
        principal.stamp = Some(stamp);
        return Ok(principal);
    }
    let table = state.table.as_ref();
    let session_key = sessions::key(&tenant, &claims.sid);
    let (user, company, session, roles, teams) = tokio::try_join!(
        directory::get_user(table, &tenant, &claims.sub),
        directory::get_tenant(table, &tenant),
        table.get(&session_key),
        directory::list_roles(table, &tenant),
        directory::teams(table, &tenant),
    )?;
    let user = user
        .filter(|u| u.status == Status::Active)
        .ok_or_else(denied)?;
    let company = company
        .filter(|t| t.status == Status::Active)
        .ok_or_else(denied)?;
    let company_requires_mfa = company.require_mfa;
    let session: Session = from_item(session.ok_or_else(denied)?)?;
    if session.revoked || session.user_id != user.id {
        return Err(denied());
    }
    let permissions = Effective::union(
        roles
            .iter()
            .filter(|r| user.role_ids.contains(&r.id))
            .map(|r| &r.permissions),
    );
    let principal = Principal {
        tenant,
        must_enrol_mfa: company_requires_mfa && !user.has_mfa(),
        team_members: directory::teammates(&teams, &user.id),
        user_id: user.id,
        caller: Caller::User,
        session_id: Some(session.id),
        role_ids: user.role_ids,
        permissions,
        request,
        stamp: Some(stamp.clone()),
    };
    state.directory.keep(stamp, &principal);
    Ok(principal)
}

/// Who started a piece of work that runs later (an import, an export), acting again: the
/// same user or API key, if still active, with permissions as they are now. `None` when
/// they can no longer act. A user acts without a session.
pub async fn principal_for(
    state: &AppState,
    tenant: &TenantId,
    actor: &crate::audit::Actor,
    request: RequestMeta,
) -> Result<Option<Principal>, Error> {
    let Some(id) = actor.id.as_deref() else {
        return Ok(None);
    };
    if actor.kind == "api_key" {
        return crate::auth::api_keys::principal_for(state, tenant, id, request).await;
    }
    let table = state.table.as_ref();
    let (user, company, roles, teams) = tokio::try_join!(
        directory::get_user(table, tenant, id),
        directory::get_tenant(table, tenant),
        directory::list_roles(table, tenant),
        directory::teams(table, tenant),
    )?;
    let (Some(user), Some(company)) = (user, company) else {
        return Ok(None);
    };
    if user.status != Status::Active || company.status != Status::Active {
        return Ok(None);
    }
    let permissions = Effective::union(
        roles
            .iter()
            .filter(|r| user.role_ids.contains(&r.id))
            .map(|r| &r.permissions),
    );
    Ok(Some(Principal {
        tenant: tenant.clone(),
        must_enrol_mfa: company.require_mfa && !user.has_mfa(),
        team_members: directory::teammates(&teams, &user.id),
        user_id: user.id,
        caller: Caller::User,
        session_id: None,
        role_ids: user.role_ids,
        permissions,
        request,
        stamp: None,
    }))
}

/// The permission sets `actor` acts with, whatever their status now: a user's roles, or
/// an API key's role or own set (a key never acts beyond it). What someone must cover to
/// act on the actor's behalf (see `Effective::covers_user`). An actor that is not a user
/// or key of the tenant (or the system) counts as an administrator.
pub async fn grants_of(
    state: &AppState,
    tenant: &TenantId,
    actor: &crate::audit::Actor,
) -> Result<Vec<crate::policy::Permissions>, Error> {
    let table = state.table.as_ref();
    let roles = directory::list_roles(table, tenant).await?;
    let role = |id: &str| {
        roles
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.permissions.clone())
    };
    let admin = || {
        role(crate::policy::ADMIN_ROLE)
            .into_iter()
            .collect::<Vec<_>>()
    };
    let Some(id) = actor.id.as_deref() else {
        return Ok(admin());
    };
    match actor.kind.as_str() {
        "user" => Ok(match directory::get_user(table, tenant, id).await? {
            Some(user) => user.role_ids.iter().filter_map(|r| role(r)).collect(),
            None => admin(),
        }),
        "api_key" => Ok(
            match crate::auth::api_keys::find(state, tenant, id).await? {
                Some(key) => match (&key.role_id, &key.permissions) {
                    (Some(r), _) => role(r).into_iter().collect(),
                    (None, Some(p)) => vec![p.clone()],
                    (None, None) => Vec::new(),
                },
                None => admin(),
            },
        ),
        _ => Ok(admin()),
    }
}

#[derive(Debug, Serialize)]
pub struct Me {
    pub user: Value,
    pub tenant: Value,
    /// Per resource, per action, the widest scope.
    pub permissions: Value,
    /// Per resource, the fields the caller's roles restrict.
    pub field_rules: Value,
}

pub async fn me(state: &AppState, principal: &Principal) -> Result<Me, Error> {
    principal.session()?;
    let table = state.table.as_ref();
    let (user, tenant) = tokio::try_join!(
        directory::get_user(table, &principal.tenant, &principal.user_id),
        directory::get_tenant(table, &principal.tenant),
    )?;
    let user = user.ok_or_else(|| Error::Unauthenticated("The user no longer exists.".into()))?;
    let tenant =
        tenant.ok_or_else(|| Error::Unauthenticated("The tenant no longer exists.".into()))?;
    Ok(Me {
        user: json!({
            "id": user.id, "email": user.email, "name": user.name, "locale": user.locale,
            "status": user.status, "role_ids": user.role_ids, "created_at": user.created_at,
            "mfa_enabled": user.has_mfa(),
        }),
        tenant: json!({
            "id": tenant.id, "company_name": tenant.company_name, "locale": tenant.locale,
            "status": tenant.status, "created_at": tenant.created_at,
        }),
        permissions: json!(principal.permissions.actions()),
        field_rules: json!(principal.permissions.field_rules()),
    })
}
