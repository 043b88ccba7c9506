//! Forgotten passwords: a reset link by email (through the Mailer port), valid for an hour
//! and once; setting the new password ends every session of the user. The request answers
//! the same whether or not the email has an account, so it reveals none.

use serde::{Deserialize, Serialize};

use super::account::end_sessions;
use super::throttle::{self, PER_ADDRESS, RESETS_PER_ACCOUNT};
use super::{passwords, secrets};
use crate::AppState;
use crate::audit::{Actor, Entry};
use crate::clock::rfc3339;
use crate::directory;
use crate::directory::{Status, User};
use crate::error::Error;
use crate::i18n::Lang;
use crate::ids::TenantId;
use crate::mail::Mail;
use crate::principal::RequestMeta;
use crate::table::{Condition, Key, TableError, Write, from_item, to_item};
use crate::validation::{Errors, normalize_email};

/// How long a reset link works.
pub const RESET_TTL_SECS: i64 = 3600;
const TOKEN_KIND: &str = "prt";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub email: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    pub token: String,
    pub new_password: String,
}

/// A pending reset: one per user (a new request replaces it).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Reset {
    user_id: String,
    secret_hash: String,
    expires_at: i64,
    ttl: i64,
}

fn reset_key(tenant: &TenantId, user_id: &str) -> Key {
    Key::new(tenant.pk("password-resets"), user_id)
}

/// Mails a reset link for each company the email has an active account in. The answer
/// takes at least the configured floor, mail or no mail.
pub async fn request(
    state: &AppState,
    input: ResetRequest,
    meta: &RequestMeta,
) -> Result<(), Error> {
    let started = tokio::time::Instant::now();
    let answer = send_links(state, input, meta).await;
    if answer.is_ok() {
        super::service::pad(started, state.config.auth_answer_floor).await;
    }
    answer
}

async fn send_links(
    state: &AppState,
    input: ResetRequest,
    meta: &RequestMeta,
) -> Result<(), Error> {
    let mut errors = Errors::new();
    errors.email("email", &input.email);
    errors.finish().map_err(Error::Validation)?;
    let email = normalize_email(&input.email);
    let table = state.table.as_ref();
    let now = state.clock.now();
    let secs = now.unix_timestamp();
    let busy = "Too many reset requests; try again later.";
    throttle::attempt(
        table,
        &format!("reset-ip:{}", meta.ip),
        PER_ADDRESS,
        secs,
        busy,
    )
    .await?;
    throttle::attempt(
        table,
        &format!("reset-email:{email}"),
        RESETS_PER_ACCOUNT,
        secs,
        busy,
    )
    .await?;
    for entry in directory::directory_lookup(table, &email, 10).await? {
        let Some(user) = directory::get_user(table, &entry.tenant_id, &entry.user_id)
            .await?
            .filter(|u| u.status == Status::Active)
        else {
            continue;
        };
        // A mail that cannot be sent is logged, not reported: the answer must not tell
        // whether the email has an account.
        if let Err(e) = send_link(state, &entry.tenant_id, &user, meta).await {
            tracing::error!(tenant_id = %entry.tenant_id, error = %e, "password reset mail failed");
        }
    }
    Ok(())
}

async fn send_link(
    state: &AppState,
    tenant: &TenantId,
    user: &User,
    meta: &RequestMeta,
) -> Result<(), Error> {
    let now = state.clock.now();
    let (secret, secret_hash) = secrets::new_secret();
    let record = Reset {
        user_id: user.id.clone(),
        secret_hash,
        expires_at: now.unix_timestamp() + RESET_TTL_SECS,
        ttl: now.unix_timestamp() + RESET_TTL_SECS + 86400,
    };
    let entry = Entry::new(
        now,
        Actor::user(&user.id),
        "auth.password_reset_requested",
        "auth",
        Some(&user.id),
        meta,
    );
    state
        .table
        .transact(
            [
                vec![Write::Put {
                    item: to_item(&reset_key(tenant, &user.id), &record)?,
                    condition: Condition::None,
                }],
                entry.writes(tenant)?,
            ]
            .concat(),
        )
        .await?;
    let company = directory::get_tenant(state.table.as_ref(), tenant)
        .await?
        .map(|t| t.company_name)
        .unwrap_or_default();
    let token = secrets::compose(TOKEN_KIND, tenant, &user.id, &secret);
    let link = format!("{}/password-reset?token={token}", state.config.public_url);
    let name = &user.name;
    let mail = match Lang::of_locale(&user.locale) {
        Lang::En => Mail {
            to: user.email.clone(),
            subject: format!("Reset your CRM password for {company}"),
            text: format!(
                "Hello {name},\n\nSomeone (hopefully you) asked to reset your password for \
                 {company}. Choose a new one here (the link works once, for one hour):\n\
                 {link}\n\nApps send the token and the new password to \
                 POST /v1/auth/password-reset/confirm.\n\nIf it was not you, ignore this \
                 email; your password stays as it is.\n"
            ),
        },
        Lang::Zh => Mail {
            to: user.email.clone(),
            subject: format!("重置您在 {company} 的 CRM 密码"),
            text: format!(
                "{name}，您好：\n\n有人（希望是您本人）申请重置您在 {company} 的密码。\
                 请在此设置新密码（链接仅可使用一次，1 小时内有效）：\n{link}\n\n\
                 应用可将令牌和新密码发送到 POST /v1/auth/password-reset/confirm。\n\n\
                 如果不是您本人操作，请忽略本邮件，您的密码不会改变。\n"
            ),
        },
    };
    state
        .mailer
        .send(&mail)
        .await
        .map_err(|e| Error::Unavailable(e.to_string()))
}

fn bad_link() -> Error {
    Error::Unauthenticated(
        "The reset link is invalid, expired or already used; ask for a new one.".into(),
    )
}

/// Sets a new password with a reset token and ends every session of the user.
pub async fn confirm(
    state: &AppState,
    input: ResetConfirm,
    meta: &RequestMeta,
) -> Result<(), Error> {
    if input.token.len() > 512 {
        return Err(Error::validation("token", "must be at most 512 characters"));
    }
    let (tenant, user_id, secret) =
        secrets::parse(TOKEN_KIND, directory::USER_PREFIX, &input.token).ok_or_else(bad_link)?;
    let table = state.table.as_ref();
    let now = state.clock.now();
    let record: Reset = table
        .get(&reset_key(&tenant, &user_id))
        .await?
        .map(from_item)
        .transpose()?
        .ok_or_else(bad_link)?;
    if !secrets::matches(&record.secret_hash, &secret) || record.expires_at <= now.unix_timestamp()
    {
        return Err(bad_link());
    }
    let user = directory::get_user(table, &tenant, &user_id)
        .await?
        .filter(|u| u.status == Status::Active)
        .ok_or_else(bad_link)?;
    if let Err(rule) = passwords::check_strength(&input.new_password, &user.email) {
        return Err(Error::validation("new_password", rule));
    }
    let changed = User {
        password_hash: passwords::hash(&input.new_password).await?,
        updated_at: rfc3339(now),
        version: user.version + 1,
        ..user.clone()
    };
    let entry = Entry::new(
        now,
        Actor::user(&user.id),
        "auth.password_reset",
        "auth",
        Some(&user.id),
        meta,
    );
    match table
        .transact(
            [
                vec![
                    Write::Delete {
                        key: reset_key(&tenant, &user.id),
                        condition: Condition::Exists,
                    },
                    Write::Put {
                        item: to_item(&directory::user_key(&tenant, &user.id), &changed)?,
                        condition: Condition::VersionIs(user.version),
                    },
                ],
                entry.writes(&tenant)?,
            ]
            .concat(),
        )
        .await
    {
        Ok(()) => {}
        Err(TableError::ConditionFailed { .. }) => return Err(bad_link()),
        Err(e) => return Err(e.into()),
    }
    // Whoever knew the old password is signed out everywhere.
    end_sessions(state, &tenant, &user.id, None, meta).await
}
