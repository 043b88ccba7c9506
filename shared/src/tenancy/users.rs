//! The people of a tenant as its admins manage them: invitations (a single-use link by
//! email; the invited person chooses their password with it), the user list, role
//! changes, deactivation and reactivation. A tenant always keeps an active admin.
//!
//! A deactivated user is refused on their very next request: every request re-reads the
//! user (see `auth::service::authenticate`), so no token outlives the deactivation.

use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::audit::{Actor, Entry};
use crate::auth::notices::Notice;
use crate::auth::service::{TokenPair, start_session};
use crate::auth::{passwords, secrets};
use crate::clock::rfc3339;
use crate::directory::{
    DirectoryEntry, Role, Status, User, admins_key, directory_key, get_tenant, list_roles,
    list_users, user_email_key, user_key,
};
use crate::error::Error;
use crate::i18n::Lang;
use crate::ids::{TenantId, is_id, new_id};
use crate::mail::{Mail, MailError};
use crate::paging::{ListPage, ListParams};
use crate::policy::{ADMIN_ROLE, Action, View};
use crate::principal::Principal;
use crate::principal::RequestMeta;
use crate::table::{Condition, Key, Query, TableError, Write, from_item, to_item};
use crate::validation::{Errors, normalize_email};
use crate::versioned::Precondition;

pub const PREFIX: &str = crate::directory::USER_PREFIX;
pub use crate::directory::UserView;
/// Most users (of any status) a tenant may have.
pub const MAX_USERS: usize = 1000;
/// Most roles one user may hold.
pub const MAX_ROLES_PER_USER: usize = 10;
/// How long an invitation link works.
pub const INVITATION_TTL_SECS: i64 = 7 * 86400;
const RESOURCE: &str = "users";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: Option<String>,
    pub role_ids: Vec<String>,
    pub locale: Option<String>,
}

/// The body of `PATCH /v1/users/{id}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role_ids: Option<Vec<String>>,
    /// `active` or `deactivated`.
    pub status: Option<Status>,
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    pub token: String,
    pub password: String,
    pub name: Option<String>,
}

/// A pending invitation: one per invited user (a new one replaces the old).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Invitation {
    user_id: String,
    secret_hash: String,
    expires_at: i64,
    ttl: i64,
}

fn invitation_key(tenant: &TenantId, user_id: &str) -> Key {
    Key::new(tenant.pk("invitations"), user_id)
}

fn not_found() -> Error {
    Error::NotFound("No user with this id.".into())
}

fn is_admin(user: &User) -> bool {
    user.status == Status::Active && user.role_ids.iter().any(|r| r == ADMIN_ROLE)
}

/// The active admins and the version of their marker.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Admins {
    user_ids: Vec<String>,
    version: u64,
}

/// The company's active admins.
pub async fn admin_ids(state: &AppState, tenant: &TenantId) -> Result<Vec<String>, Error> {
    let table = state.table.as_ref();
    Ok(match table.get(&admins_key(tenant)).await? {
        Some(item) => from_item::<Admins>(item)?.user_ids,
        None => list_users(table, tenant)
            .await?
            .iter()
            .filter(|u| is_admin(u))
            .map(|u| u.id.clone())
            .collect(),
    })
}

/// The write recording whether `user_id` is an active admin after a change; 409 if the
/// change would leave the tenant without one.
pub(crate) async fn admins_write(
    state: &AppState,
    tenant: &TenantId,
    user_id: &str,
    admin_after: bool,
) -> Result<Write, Error> {
    let table = state.table.as_ref();
    let (mut admins, condition) = match table.get(&admins_key(tenant)).await? {
        Some(item) => {
            let admins: Admins = from_item(item)?;
            let version = admins.version;
            (admins, Condition::VersionIs(version))
        }
        // Tenants from before the marker: count the admins once.
        None => {
            let user_ids = list_users(table, tenant)
                .await?
                .iter()
                .filter(|u| is_admin(u))
                .map(|u| u.id.clone())
                .collect();
            (
                Admins {
                    user_ids,
                    version: 0,
                },
                Condition::NotExists,
            )
        }
    };
    admins.user_ids.retain(|id| id != user_id);
    if admin_after {
        admins.user_ids.push(user_id.to_owned());
        admins.user_ids.sort();
    }
    if admins.user_ids.is_empty() {
        return Err(Error::conflict(
            "last-admin",
            "This is the company's last active administrator; make someone else an \
             administrator first.",
        ));
    }
    admins.version += 1;
    Ok(Write::Put {
        item: to_item(&admins_key(tenant), &admins)?,
        condition,
    })
}

/// The first admins marker, written at sign-up.
pub(crate) fn first_admin_write(tenant: &TenantId, user_id: &str) -> Result<Write, Error> {
    let admins = Admins {
        user_ids: vec![user_id.to_owned()],
        version: 1,
    };
    Ok(Write::Put {
        item: to_item(&admins_key(tenant), &admins)?,
        condition: Condition::NotExists,
    })
}

/// Checks `role_ids` name roles of the tenant that the caller may hand out.
fn check_roles(
    principal: &Principal,
    roles: &[Role],
    role_ids: &[String],
    errors: &mut Errors,
) -> Result<(), Error> {
    if role_ids.is_empty() || role_ids.len() > MAX_ROLES_PER_USER {
        errors.add(
            "role_ids",
            format!("must name 1 to {MAX_ROLES_PER_USER} roles"),
        );
    }
    for (i, id) in role_ids.iter().enumerate() {
        match roles.iter().find(|r| &r.id == id) {
            None => errors.add(format!("role_ids[{i}]"), "is not a role of this company"),
            Some(role) => principal.permissions.covers(&role.permissions)?,
        }
        if role_ids[..i].contains(id) {
            errors.add(format!("role_ids[{i}]"), "appears twice");
        }
    }
    Ok(())
}

/// The invitation mail with its link, and the invitation record it belongs to.
async fn invitation(
    state: &AppState,
    tenant: &TenantId,
    user: &User,
    inviter: &str,
) -> Result<(Mail, Invitation), Error> {
    let (secret, secret_hash) = secrets::new_secret();
    let now = state.clock.now().unix_timestamp();
    let token = secrets::compose("inv", tenant, &user.id, &secret);
    let company = get_tenant(state.table.as_ref(), tenant)
        .await?
        .map(|t| t.company_name)
        .unwrap_or_default();
    let link = format!(
        "{}/invitations/accept?token={token}",
        state.config.public_url
    );
    let name = &user.name;
    let mail = match Lang::of_locale(&user.locale) {
        Lang::En => Mail {
            to: user.email.clone(),
            subject: format!("You are invited to {company} on CRM"),
            text: format!(
                "Hello {name},\n\n{inviter} invited you to join {company} on CRM.\n\n\
                 Choose your password here (the link works once, for 7 days):\n{link}\n\n\
                 Apps and scripts send the token and a password to \
                 POST /v1/invitations/accept.\n\nIf you did not expect this, ignore this \
                 email.\n"
            ),
        },
        Lang::Zh => Mail {
            to: user.email.clone(),
            subject: format!("{inviter} 邀请您加入 {company} 的 CRM"),
            text: format!(
                "{name}，您好：\n\n{inviter} 邀请您加入 {company} 的 CRM。\n\n\
                 请在此设置您的密码（链接仅可使用一次，7 天内有效）：\n{link}\n\n\
                 应用和脚本可将令牌和密码发送到 POST /v1/invitations/accept。\n\n\
                 如果您并未期待此邀请，请忽略本邮件。\n"
            ),
        },
    };
    let record = Invitation {
        user_id: user.id.clone(),
        secret_hash,
        expires_at: now + INVITATION_TTL_SECS,
        ttl: now + INVITATION_TTL_SECS + 86400,
    };
    Ok((mail, record))
}

fn mail_failed(e: MailError) -> Error {
    match e {
        MailError::Rejected(m) => Error::Unavailable(format!("mail refused: {m}")),
        MailError::Unavailable(m) => Error::Unavailable(m),
    }
}

async fn inviter_name(state: &AppState, principal: &Principal) -> Result<String, Error> {
    Ok(
        crate::directory::get_user(state.table.as_ref(), &principal.tenant, &principal.user_id)
            .await?
            .map_or_else(|| "An administrator".to_owned(), |u| u.name),
    )
}

/// Invites `input.email`: a user in `invited` state and a mailed single-use link. The
/// mail goes out first, so a failure leaves nothing behind and can simply be retried.
pub async fn invite(
    state: &AppState,
    principal: &Principal,
    input: NewUser,
) -> Result<View, Error> {
    principal.require(RESOURCE, Action::Create)?;
    let table = state.table.as_ref();
    let roles = list_roles(table, &principal.tenant).await?;
    let mut errors = Errors::new();
    errors.email("email", &input.email);
    errors.opt_text("name", input.name.as_deref(), 200);
    // Unless the inviter says otherwise, a new colleague reads the company's language.
    let locale = match &input.locale {
        Some(locale) => locale.clone(),
        None => get_tenant(table, &principal.tenant)
            .await?
            .map_or_else(|| "en".into(), |t| t.locale),
    };
    if !crate::i18n::valid_locale(&locale) {
        errors.add("locale", "must be a language tag like `en` or `zh-CN`");
    }
    check_roles(principal, &roles, &input.role_ids, &mut errors)?;
    errors.finish().map_err(Error::Validation)?;

    let email = normalize_email(&input.email);
    if table
        .get(&user_email_key(&principal.tenant, &email))
        .await?
        .is_some()
    {
        return Err(email_taken());
    }
    if list_users(table, &principal.tenant).await?.len() >= MAX_USERS {
        return Err(Error::conflict(
            "too-many-users",
            format!("A company can have at most {MAX_USERS} users."),
        ));
    }
    let now = state.clock.now();
    let user = User {
        id: new_id(PREFIX),
        name: input
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default())
            .to_owned(),
        email: email.clone(),
        password_hash: String::new(),
        status: Status::Invited,
        role_ids: input.role_ids,
        locale,
        mfa: None,
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
        version: 1,
    };
    let inviter = inviter_name(state, principal).await?;
    let (mail, record) = invitation(state, &principal.tenant, &user, &inviter).await?;
    state.mailer.send(&mail).await.map_err(mail_failed)?;
    let entry = Entry::by(principal, now, "user.invited", RESOURCE, Some(&user.id))
        .with_changes(None, Some(&UserView::from(&user)));
    let new = |item| Write::Put {
        item,
        condition: Condition::NotExists,
    };
    match state
        .table
        .transact(
            [
                vec![
                    new(to_item(&user_key(&principal.tenant, &user.id), &user)?),
                    new(to_item(
                        &user_email_key(&principal.tenant, &email),
                        &serde_json::json!({ "user_id": user.id }),
                    )?),
                    Write::Put {
                        item: to_item(&invitation_key(&principal.tenant, &user.id), &record)?,
                        condition: Condition::None,
                    },
                ],
                entry.writes(&principal.tenant)?,
            ]
            .concat(),
        )
        .await
    {
        Ok(()) => {}
        Err(TableError::ConditionFailed { index: Some(1) }) => return Err(email_taken()),
        Err(e) => return Err(e.into()),
    }
    principal.view(RESOURCE, &UserView::from(&user), false)
}

fn email_taken() -> Error {
    Error::conflict(
        "email-taken",
        "A user with this email already exists in your company.",
    )
}

/// Sends a new invitation link to an invited user; the old link stops working.
pub async fn resend_invitation(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<(), Error> {
    principal.require(RESOURCE, Action::Create)?;
    let user = load(state, principal, id).await?;
    // The link sets the user's password: only for someone who could make them.
    crate::directory::require_covers_user(state.table.as_ref(), principal, &user).await?;
    if user.status != Status::Invited {
        return Err(Error::conflict(
            "not-invited",
            "This user has already joined (or was deactivated); there is nothing to resend.",
        ));
    }
    let inviter = inviter_name(state, principal).await?;
    let (mail, record) = invitation(state, &principal.tenant, &user, &inviter).await?;
    state.mailer.send(&mail).await.map_err(mail_failed)?;
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "user.invitation_sent",
        RESOURCE,
        Some(id),
    );
    state
        .table
        .transact(
            [
                vec![
                    Write::Put {
                        item: to_item(&invitation_key(&principal.tenant, id), &record)?,
                        condition: Condition::None,
                    },
                    // Only while the user is still the invited one we read.
                    Write::Check {
                        key: user_key(&principal.tenant, id),
                        condition: Condition::VersionIs(user.version),
                    },
                ],
                entry.writes(&principal.tenant)?,
            ]
            .concat(),
        )
        .await?;
    Ok(())
}

fn bad_invitation() -> Error {
    Error::Unauthenticated(
        "The invitation link is invalid, expired or already used; ask for a new one.".into(),
    )
}

/// Joins with an invitation token: sets the password, activates the user and signs
/// them in. The invitation is deleted in the same transaction, so it works once.
pub async fn accept(
    state: &AppState,
    input: AcceptInvitation,
    request: &RequestMeta,
) -> Result<TokenPair, Error> {
    if input.token.len() > 512 {
        return Err(Error::validation("token", "must be at most 512 characters"));
    }
    let mut errors = Errors::new();
    errors.opt_text("name", input.name.as_deref(), 200);
    errors.finish().map_err(Error::Validation)?;
    let (tenant, user_id, secret) =
        secrets::parse("inv", PREFIX, &input.token).ok_or_else(bad_invitation)?;
    let table = state.table.as_ref();
    let now = state.clock.now();
    let invitation: Invitation = table
        .get(&invitation_key(&tenant, &user_id))
        .await?
        .map(from_item)
        .transpose()?
        .ok_or_else(bad_invitation)?;
    if !secrets::matches(&invitation.secret_hash, &secret)
        || invitation.expires_at <= now.unix_timestamp()
    {
        return Err(bad_invitation());
    }
    let mut user = crate::directory::get_user(table, &tenant, &user_id)
        .await?
        .filter(|u| u.status == Status::Invited)
        .ok_or_else(bad_invitation)?;
    if let Err(rule) = passwords::check_strength(&input.password, &user.email) {
        return Err(Error::validation("password", rule));
    }
    let current_version = user.version;
    user.password_hash = passwords::hash(&input.password).await?;
    user.status = Status::Active;
    if let Some(name) = input
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        user.name = name.to_owned();
    }
    user.version += 1;
    user.updated_at = rfc3339(now);
    let (session, tokens) = start_session(state, &tenant, &user.id, now)?;
    let entry = Entry::new(
        now,
        Actor::user(&user.id),
        "user.joined",
        RESOURCE,
        Some(&user.id),
        request,
    );
    let mut writes = [
        vec![
            Write::Delete {
                key: invitation_key(&tenant, &user.id),
                condition: Condition::Exists,
            },
            Write::Put {
                item: to_item(&user_key(&tenant, &user.id), &user)?,
                condition: Condition::VersionIs(current_version),
            },
            Write::Put {
                item: to_item(
                    &directory_key(&user.email, &tenant),
                    &DirectoryEntry {
                        tenant_id: tenant.clone(),
                        user_id: user.id.clone(),
                    },
                )?,
                condition: Condition::None,
            },
            session,
        ],
        entry.writes(&tenant)?,
    ]
    .concat();
    if is_admin(&user) {
        writes.push(admins_write(state, &tenant, &user.id, true).await?);
    }
    match state.table.transact(writes).await {
        Ok(()) => Ok(tokens),
        // Used (or replaced, or the user changed) meanwhile.
        Err(TableError::ConditionFailed { .. }) => Err(bad_invitation()),
        Err(e) => Err(e.into()),
    }
}

async fn load(state: &AppState, principal: &Principal, id: &str) -> Result<User, Error> {
    if !is_id(PREFIX, id) {
        return Err(not_found());
    }
    crate::directory::get_user(state.table.as_ref(), &principal.tenant, id)
        .await?
        .ok_or_else(not_found)
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<View, Error> {
    principal.require(RESOURCE, Action::Read)?;
    let user = load(state, principal, id).await?;
    principal.view(RESOURCE, &UserView::from(&user), false)
}

/// The tenant's users, oldest first.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    params: ListParams,
) -> Result<ListPage<View>, Error> {
    principal.require(RESOURCE, Action::Read)?;
    let list_id = format!("{}/users", principal.tenant);
    let query = Query::partition(principal.tenant.pk("users"));
    let (items, next_cursor) = crate::records::page(state, query, &list_id, &params).await?;
    let data = items
        .into_iter()
        .map(|item| principal.view(RESOURCE, &UserView::from(&from_item::<User>(item)?), false))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ListPage { data, next_cursor })
}

/// Renames, changes roles, deactivates or reactivates a user.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: UserPatch,
) -> Result<View, Error> {
    principal.require(RESOURCE, Action::Update)?;
    let current = load(state, principal, id).await?;
    let roles = list_roles(state.table.as_ref(), &principal.tenant).await?;
    let mut next = current.clone();
    let mut errors = Errors::new();
    if let Some(name) = &patch.name {
        errors.text("name", name, 1, 200);
        next.name = name.trim().to_owned();
    }
    if let Some(locale) = &patch.locale {
        if !crate::i18n::valid_locale(locale) {
            errors.add("locale", "must be a language tag like `en` or `zh-CN`");
        }
        next.locale = locale.clone();
    }
    if let Some(role_ids) = &patch.role_ids {
        check_roles(principal, &roles, role_ids, &mut errors)?;
        next.role_ids = role_ids.clone();
    }
    match (&patch.status, &current.status) {
        (None, _) => {}
        (Some(Status::Suspended | Status::Invited), _) => {
            errors.add("status", "must be `active` or `deactivated`");
        }
        (Some(Status::Active), Status::Invited) => {
            return Err(Error::conflict(
                "invitation-pending",
                "An invited user becomes active by accepting the invitation.",
            ));
        }
        // Someone deactivated before joining has no password yet: reactivated, they are
        // invited again (and need a new link).
        (Some(Status::Active), Status::Deactivated) if current.password_hash.is_empty() => {
            next.status = Status::Invited;
        }
        (Some(status), _) => next.status = status.clone(),
    }
    errors.finish().map_err(Error::Validation)?;
    // Changing someone's roles or status changes what they may do: it is for a person
    // (not an API key) who holds everything the user's roles allow.
    let notice = if next.role_ids != current.role_ids || next.status != current.status {
        principal.session()?;
        principal.permissions.covers_user(
            roles
                .iter()
                .filter(|r| current.role_ids.contains(&r.id))
                .map(|r| &r.permissions),
        )?;
        match (&current.status, &next.status) {
            (Status::Active, Status::Deactivated) => Some(Notice::Deactivated),
            (Status::Deactivated, Status::Active) => Some(Notice::Reactivated),
            // Someone who never joined has no account to be told about.
            (Status::Invited, _) | (_, Status::Invited) => None,
            _ => Some(Notice::RolesChanged),
        }
    } else {
        None
    };
    precondition.check(current.version)?;
    if next == current {
        return principal.view(RESOURCE, &UserView::from(&current), false);
    }
    let now = state.clock.now();
    next.version = current.version + 1;
    next.updated_at = rfc3339(now);
    let mut writes = vec![Write::Put {
        item: to_item(&user_key(&principal.tenant, id), &next)?,
        condition: Condition::VersionIs(current.version),
    }];
    if is_admin(&current) != is_admin(&next) {
        writes.push(admins_write(state, &principal.tenant, id, is_admin(&next)).await?);
    }
    if current.status == Status::Invited && next.status == Status::Deactivated {
        // Deactivating an invited user withdraws the invitation.
        writes.push(Write::Delete {
            key: invitation_key(&principal.tenant, id),
            condition: Condition::None,
        });
    }
    let action = match (&current.status, &next.status) {
        (Status::Active, Status::Deactivated) | (Status::Invited, Status::Deactivated) => {
            "user.deactivated"
        }
        (Status::Deactivated, Status::Active) => "user.reactivated",
        _ => "user.updated",
    };
    let entry = Entry::by(principal, now, action, RESOURCE, Some(id)).with_changes(
        Some(&UserView::from(&current)),
        Some(&UserView::from(&next)),
    );
    writes.extend(entry.writes(&principal.tenant)?);
    match state.table.transact(writes).await {
        Ok(()) => {
            if let Some(notice) = notice {
                crate::auth::notices::tell(state, principal, &next, notice).await;
            }
            principal.view(RESOURCE, &UserView::from(&next), false)
        }
        Err(TableError::ConditionFailed { index: Some(0) }) => Err(Error::PreconditionFailed(
            "The user changed meanwhile; fetch them again.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}
