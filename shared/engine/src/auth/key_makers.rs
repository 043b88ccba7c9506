//! Who an API key acts for: its maker. A key's permissions are met with its maker's as
//! they are now ([`maker_permissions`], following keys made by keys up to the person who
//! made the first); a key whose maker can no longer act does not work, and an admin can
//! name a new maker ([`reassign`]).

use serde::Deserialize;
use time::OffsetDateTime;

use super::api_keys::{ApiKey, ApiKeyView, RESOURCE, find, key, load};
use crate::AppState;
use crate::audit::Entry;
use crate::directory;
use crate::directory::{Role, Status};
use crate::error::Error;
use crate::ids::{TenantId, is_id};
use crate::policy::{Action, Effective, Permissions};
use crate::principal::Principal;
use crate::table::{Condition, TableError, Write, to_item};

/// Longest chain of keys made by keys followed to the person who made the first.
const MAX_MAKER_CHAIN: usize = 5;

/// The permissions of a key's maker (`created_by`) as they are now, or `None` when the
/// maker can no longer act (a deactivated or unknown user; a revoked or expired key that
/// made this one). A key made by a key is bounded by that key too, up to the person who
/// made the first.
pub async fn maker_permissions(
    state: &AppState,
    tenant: &TenantId,
    created_by: &str,
    roles: &[Role],
) -> Result<Option<Effective>, Error> {
    let now = state.clock.now();
    let mut maker = created_by.to_owned();
    let mut bound: Option<Effective> = None;
    let meet = |bound: Option<Effective>, next: Effective| match bound {
        Some(b) => b.intersect(&next),
        None => next,
    };
    for _ in 0..MAX_MAKER_CHAIN {
        if is_id(directory::USER_PREFIX, &maker) {
            let Some(user) = directory::get_user(state.table.as_ref(), tenant, &maker).await?
            else {
                return Ok(None);
            };
            if user.status != Status::Active {
                return Ok(None);
            }
            let theirs = Effective::union(
                roles
                    .iter()
                    .filter(|r| user.role_ids.contains(&r.id))
                    .map(|r| &r.permissions),
            );
            return Ok(Some(meet(bound, theirs)));
        }
        let Some(parent) = find(state, tenant, &maker).await? else {
            return Ok(None);
        };
        if !is_live(&parent, now) {
            return Ok(None);
        }
        bound = Some(meet(bound, own_permissions(&parent, roles)));
        maker = parent.created_by;
    }
    Ok(None)
}

/// Whether `record` is neither revoked nor expired at `now`.
pub fn is_live(record: &ApiKey, now: OffsetDateTime) -> bool {
    let expired = record.expires_at.as_deref().is_some_and(|at| {
        OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
            .map_or(true, |at| at <= now)
    });
    record.revoked_at.is_none() && !expired
}

/// The body of `POST /v1/api-keys/{id}/reassign`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reassignment {
    /// The active user whose permissions bound the key from now on.
    pub user_id: String,
}

/// Makes `input.user_id` the key's maker: it then acts with its own permissions met with
/// theirs (so a key left by a deactivated user works again, within the new maker's
/// rights). For a person (not a key) who could have made the key.
pub async fn reassign(
    state: &AppState,
    principal: &Principal,
    id: &str,
    input: Reassignment,
) -> Result<ApiKeyView, Error> {
    principal.require(RESOURCE, Action::Update)?;
    principal.session()?;
    let table = state.table.as_ref();
    // Another company's key is not found, whoever the body names.
    load(state, &principal.tenant, id).await?;
    let roles = directory::list_roles(table, &principal.tenant).await?;
    let maker = if is_id(directory::USER_PREFIX, &input.user_id) {
        directory::get_user(table, &principal.tenant, &input.user_id).await?
    } else {
        None
    };
    if !maker.is_some_and(|u| u.status == Status::Active) {
        return Err(Error::validation(
            "user_id",
            "is not an active user of this company",
        ));
    }
    for _ in 0..5 {
        let current = load(state, &principal.tenant, id).await?;
        if current.revoked_at.is_some() {
            return Err(Error::conflict(
                "api-key-revoked",
                "This key is revoked; make a new one instead.",
            ));
        }
        // As when making it: no one hands out a key wider than they hold.
        if let Some(own) = grants(&current, &roles) {
            principal.permissions.covers(&own)?;
        }
        if current.created_by == input.user_id {
            return view_of(state, &principal.tenant, &current, &roles).await;
        }
        let now = state.clock.now();
        let mut next = current.clone();
        next.created_by = input.user_id.clone();
        next.version += 1;
        let entry = Entry::by(principal, now, "api_key.reassigned", RESOURCE, Some(id))
            .with_changes(
                Some(&ApiKeyView::from(&current)),
                Some(&ApiKeyView::from(&next)),
            );
        match entry
            .commit(
                table,
                &principal.tenant,
                Write::Put {
                    item: to_item(&key(&principal.tenant, id), &next)?,
                    condition: Condition::VersionIs(current.version),
                },
            )
            .await
        {
            Ok(()) => return view_of(state, &principal.tenant, &next, &roles).await,
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

/// `record` as listed, with whether its maker can still act.
pub async fn view_of(
    state: &AppState,
    tenant: &TenantId,
    record: &ApiKey,
    roles: &[Role],
) -> Result<ApiKeyView, Error> {
    let maker_active = maker_permissions(state, tenant, &record.created_by, roles)
        .await?
        .is_some();
    Ok(ApiKeyView {
        maker_active,
        ..ApiKeyView::from(record)
    })
}

/// The permission set a key was given: its role's (as the role is now) or its own.
fn grants(record: &ApiKey, roles: &[Role]) -> Option<Permissions> {
    match (&record.role_id, &record.permissions) {
        (Some(role_id), _) => roles
            .iter()
            .find(|r| &r.id == role_id)
            .map(|r| r.permissions.clone()),
        (None, permissions) => permissions.clone(),
    }
}

/// What a key's own permission set allows (nothing if its role was deleted).
pub fn own_permissions(record: &ApiKey, roles: &[Role]) -> Effective {
    grants(record, roles)
        .map(|p| Effective::union([&p]))
        .unwrap_or_default()
}
