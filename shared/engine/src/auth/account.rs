//! What signed-in users manage themselves: their name and language, their sessions (list,
//! end one) and their password (change it, which ends every other session).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::passwords;
use super::service::revoke;
use super::sessions::{self, Session};
use super::throttle::{self, PER_ACCOUNT};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::directory;
use crate::directory::User;
use crate::error::Error;
use crate::ids::TenantId;
use crate::ids::is_id;
use crate::paging::{ListPage, ListParams};
use crate::principal::Principal;
use crate::principal::RequestMeta;
use crate::table::{
    Condition, Index, Query, TableError, Write, from_item, query_filtered, to_item,
};

/// A session as its user sees it.
#[derive(Debug, Serialize)]
pub struct SessionView {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    /// Whether this is the session of the request itself.
    pub current: bool,
}

fn live(session: &Session, now: OffsetDateTime) -> bool {
    !session.revoked && session.expires_at > now.unix_timestamp()
}

/// The caller's live sessions, newest first.
pub async fn list_sessions(
    state: &AppState,
    principal: &Principal,
    params: ListParams,
) -> Result<ListPage<SessionView>, Error> {
    let current = principal.session()?;
    let limit = params.limit()?;
    let pk = sessions::user_sessions_pk(&principal.tenant, &principal.user_id);
    let list_id = format!("{}/sessions/{}", principal.tenant, principal.user_id);
    let start = params
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(&list_id, c))
        .transpose()?;
    let now = state.clock.now();
    let query = Query::partition(pk)
        .on(Index::Gsi1)
        .descending()
        .limit(limit)
        .start(start);
    // Ended sessions stay until their expiry; they are skipped, not listed.
    let (sessions, next) = query_filtered(state.table.as_ref(), query, limit, 10, |s: &Session| {
        live(s, now)
    })
    .await?;
    let data = sessions
        .into_iter()
        .map(|session| SessionView {
            current: session.id == current,
            expires_at: OffsetDateTime::from_unix_timestamp(session.expires_at)
                .map(rfc3339)
                .unwrap_or_default(),
            id: session.id,
            created_at: session.created_at,
            last_used_at: session.last_used_at,
        })
        .collect();
    Ok(ListPage {
        data,
        next_cursor: next.map(|n| state.cursors.encode(&list_id, &n)),
    })
}

/// Ends one of the caller's sessions; any other id is not found.
pub async fn end_session(state: &AppState, principal: &Principal, id: &str) -> Result<(), Error> {
    principal.session()?;
    let not_found = || Error::NotFound("No session with this id.".into());
    if !is_id(sessions::PREFIX, id) {
        return Err(not_found());
    }
    let item = state
        .table
        .get(&sessions::key(&principal.tenant, id))
        .await?
        .ok_or_else(not_found)?;
    let session: Session = from_item(item)?;
    if session.user_id != principal.user_id || !live(&session, state.clock.now()) {
        return Err(not_found());
    }
    revoke(
        state,
        &principal.tenant,
        session,
        Some("auth.session_ended"),
        &principal.request,
    )
    .await
}

/// What users change of their own account: how they are named and the language the
/// console and the product's mail speak to them in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub locale: Option<String>,
}

/// Changes the caller's name or language. Unlike `PATCH /v1/users/{id}` it needs no
/// permission on users: everyone owns these two facts about themselves.
pub async fn update_profile(
    state: &AppState,
    principal: &Principal,
    input: ProfileChange,
) -> Result<(), Error> {
    principal.session()?;
    let table = state.table.as_ref();
    let user = directory::get_user(table, &principal.tenant, &principal.user_id)
        .await?
        .ok_or_else(|| Error::Unauthenticated("The user no longer exists.".into()))?;
    let mut errors = crate::validation::Errors::new();
    let mut next = user.clone();
    if let Some(name) = &input.name {
        errors.text("name", name, 1, 200);
        next.name = name.trim().to_owned();
    }
    if let Some(locale) = &input.locale {
        if !crate::i18n::valid_locale(locale) {
            errors.add("locale", "must be a language tag like `en` or `zh-CN`");
        }
        next.locale = locale.clone();
    }
    errors.finish().map_err(Error::Validation)?;
    if next == user {
        return Ok(());
    }
    let now = state.clock.now();
    next.version = user.version + 1;
    next.updated_at = rfc3339(now);
    let entry = Entry::by(
        principal,
        now,
        "user.updated",
        "users",
        Some(&principal.user_id),
    )
    .with_changes(
        Some(&directory::UserView::from(&user)),
        Some(&directory::UserView::from(&next)),
    );
    let writes = [
        vec![Write::Put {
            item: to_item(
                &directory::user_key(&principal.tenant, &principal.user_id),
                &next,
            )?,
            condition: Condition::VersionIs(user.version),
        }],
        entry.writes(&principal.tenant)?,
    ]
    .concat();
    match table.transact(writes).await {
        Ok(()) => Ok(()),
        Err(TableError::ConditionFailed { .. }) => Err(Error::conflict(
            "concurrent-modification",
            "Your account changed meanwhile; please try again.",
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's password after checking the current one; every other session of
/// the user ends (the one making the change goes on).
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    input: PasswordChange,
) -> Result<(), Error> {
    principal.session()?;
    let table = state.table.as_ref();
    let now = state.clock.now();
    let user = directory::get_user(table, &principal.tenant, &principal.user_id)
        .await?
        .ok_or_else(|| Error::Unauthenticated("The user no longer exists.".into()))?;
    if input.current_password.is_empty() || input.current_password.len() > 1024 {
        return Err(Error::validation(
            "current_password",
            "must be 1 to 1024 bytes",
        ));
    }
    if let Err(rule) = passwords::check_strength(&input.new_password, &user.email) {
        return Err(Error::validation("new_password", rule));
    }
    confirm_password(state, &user, "current_password", &input.current_password).await?;

    let new_hash = passwords::hash(&input.new_password).await?;
    let expected = user.version;
    let changed = User {
        password_hash: new_hash,
        updated_at: rfc3339(now),
        version: user.version + 1,
        ..user
    };
    let entry = Entry::by(
        principal,
        now,
        "auth.password_changed",
        "auth",
        Some(&principal.user_id),
    );
    let writes = [
        vec![Write::Put {
            item: to_item(
                &directory::user_key(&principal.tenant, &principal.user_id),
                &changed,
            )?,
            condition: Condition::VersionIs(expected),
        }],
        entry.writes(&principal.tenant)?,
    ]
    .concat();
    match table.transact(writes).await {
        Ok(()) => {}
        Err(TableError::ConditionFailed { .. }) => {
            return Err(Error::conflict(
                "concurrent-modification",
                "Your account changed meanwhile; please try again.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    end_sessions(
        state,
        &principal.tenant,
        &principal.user_id,
        principal.session_id.as_deref(),
        &principal.request,
    )
    .await
}

/// Checks that `password` (sent as `field`) is `user`'s current password: a fresh proof
/// that the person is at the keyboard, asked before changing how they sign in. A wrong
/// one is a 422 naming `field`; guesses count against the same per-account limit as
/// login (a right one gives its attempt back).
pub async fn confirm_password(
    state: &AppState,
    user: &User,
    field: &str,
    password: &str,
) -> Result<(), Error> {
    if password.is_empty() || password.len() > 1024 {
        return Err(Error::validation(field, "must be 1 to 1024 bytes"));
    }
    let table = state.table.as_ref();
    let now = state.clock.now().unix_timestamp();
    let subject = format!("email:{}", user.email);
    throttle::attempt(
        table,
        &subject,
        PER_ACCOUNT,
        now,
        "Too many wrong passwords; try again later.",
    )
    .await?;
    if !passwords::verify(password, Some(user.password_hash.clone())).await {
        return Err(Error::validation(field, "is not your current password"));
    }
    throttle::forgive(table, &subject, PER_ACCOUNT, now).await?;
    Ok(())
}

/// Revokes every session of `user_id` but `except`.
pub async fn end_sessions(
    state: &AppState,
    tenant: &TenantId,
    user_id: &str,
    except: Option<&str>,
    request: &RequestMeta,
) -> Result<(), Error> {
    let pk = sessions::user_sessions_pk(tenant, user_id);
    let mut start = None;
    loop {
        let page = state
            .table
            .query(
                &Query::partition(pk.clone())
                    .on(Index::Gsi1)
                    .limit(200)
                    .start(start),
            )
            .await?;
        for item in page.items {
            let session: Session = from_item(item)?;
            if Some(session.id.as_str()) != except && !session.revoked {
                revoke(state, tenant, session, None, request).await?;
            }
        }
        match page.next {
            Some(next) => start = Some(next),
            None => return Ok(()),
        }
    }
}
