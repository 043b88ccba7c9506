//! Contact operations as the API offers them. Each one checks the caller's permission
//! first and confines itself to the caller's tenant and record scope: a contact out of
//! scope, or of another tenant, is simply not found.

use serde_json::Value;

use super::{Contact, ContactPatch, NewContact, PREFIX, key, normalize_and_check, owner_pk};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::http::cursor::{ListPage, ListParams};
use crate::http::versions::Precondition;
use crate::http::{ApiError, Principal};
use crate::ids::{is_id, new_id};
use crate::policy::{Action, Scope, View};
use crate::table::{
    Condition, Index, Item, Query, TableError, Write, from_item, query_filtered, to_item,
};
use crate::tenancy::{self, Status};
use crate::validation::Errors;

const RESOURCE: &str = "contacts";
/// How often a write without `If-Match` re-reads and retries when it races another.
const WRITE_ATTEMPTS: usize = 8;
/// Most table pages one list request reads while filtering by team.
const MAX_LIST_READS: usize = 10;

fn not_found() -> ApiError {
    ApiError::NotFound("No contact with this id.".into())
}

fn to_stored(principal: &Principal, contact: &Contact) -> Result<Item, ApiError> {
    let mut item = to_item(&key(&principal.tenant, &contact.id), contact)?;
    item.insert(
        "gsi1pk".into(),
        Value::String(owner_pk(&principal.tenant, &contact.owner_id)),
    );
    item.insert("gsi1sk".into(), Value::String(contact.id.clone()));
    Ok(item)
}

/// Giving a contact an owner (other than a creator keeping it) needs `assign`, and the
/// owner must be an active user of the caller's tenant.
async fn check_owner(
    state: &AppState,
    principal: &Principal,
    owner_id: &str,
    errors: &mut Errors,
) -> Result<(), ApiError> {
    principal.require(RESOURCE, Action::Assign)?;
    if owner_id == principal.user_id {
        return Ok(());
    }
    let active = is_id("usr", owner_id)
        && tenancy::get_user(state.table.as_ref(), &principal.tenant, owner_id)
            .await?
            .is_some_and(|u| u.status == Status::Active);
    if !active {
        errors.add("owner_id", "is not an active user of this company");
    }
    Ok(())
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewContact,
) -> Result<View, ApiError> {
    principal.require(RESOURCE, Action::Create)?;
    principal.check_writable(RESOURCE, &input.fields_sent())?;
    let now = rfc3339(state.clock.now());
    let mut contact = Contact {
        id: new_id(PREFIX),
        name: input.name,
        emails: input.emails,
        phones: input.phones,
        company_name: input.company_name,
        title: input.title,
        address: input.address,
        tags: input.tags,
        owner_id: input.owner_id.unwrap_or_else(|| principal.user_id.clone()),
        lifecycle_stage: input.lifecycle_stage.unwrap_or_default(),
        source: input.source,
        notes: input.notes,
        created_by: principal.user_id.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let mut errors = Errors::new();
    normalize_and_check(&mut contact, &mut errors);
    if contact.owner_id != principal.user_id {
        check_owner(state, principal, &contact.owner_id, &mut errors).await?;
    }
    errors.finish().map_err(ApiError::Validation)?;
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "contact.created",
        RESOURCE,
        Some(&contact.id),
    )
    .with_changes(None, Some(&contact));
    entry
        .commit(
            state.table.as_ref(),
            &principal.tenant,
            Write::Put {
                item: to_stored(principal, &contact)?,
                condition: Condition::NotExists,
            },
        )
        .await?;
    principal.view(RESOURCE, &contact, false)
}

/// The contact `id` if it exists in the caller's tenant and `scope`.
async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Contact, ApiError> {
    if !is_id(PREFIX, id) {
        return Err(not_found());
    }
    let item = state
        .table
        .get(&key(&principal.tenant, id))
        .await?
        .ok_or_else(not_found)?;
    let contact: Contact = from_item(item)?;
    if !principal.reaches(scope, &contact.owner_id) {
        return Err(not_found());
    }
    Ok(contact)
}

/// The contact `id`; with `reveal`, masked fields in clear (needs `reveal`, audited).
pub async fn get(
    state: &AppState,
    principal: &Principal,
    id: &str,
    reveal: bool,
) -> Result<View, ApiError> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    if reveal {
        principal.require(RESOURCE, Action::Reveal)?;
    }
    let contact = load(state, principal, scope, id).await?;
    let masked = principal.permissions.masked_fields(RESOURCE);
    if reveal && !masked.is_empty() {
        let fields: Vec<&str> = masked
            .into_iter()
            .filter(|f| contact_has(&contact, f))
            .collect();
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "contact.revealed",
            RESOURCE,
            Some(id),
        )
        .with_fields(&fields);
        state
            .table
            .transact(vec![entry.write(&principal.tenant)?])
            .await?;
    }
    principal.view(RESOURCE, &contact, reveal)
}

/// Whether `field` of `contact` holds a value (only those are revealed).
fn contact_has(contact: &Contact, field: &str) -> bool {
    serde_json::to_value(contact)
        .ok()
        .and_then(|v| v.get(field).cloned())
        .is_some_and(|v| !(v.is_null() || v == Value::Array(vec![])))
}

/// Contacts newest first, one page at a time.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    params: ListParams,
) -> Result<ListPage<View>, ApiError> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    let limit = params.limit()?;
    let (query, list_id) = match scope {
        // Team members' contacts are spread over the partition: read it, keep theirs.
        Scope::All | Scope::Team => (
            Query::partition(principal.tenant.pk("contacts")),
            format!("{}/contacts/all", principal.tenant),
        ),
        Scope::Own => (
            Query::partition(owner_pk(&principal.tenant, &principal.user_id)).on(Index::Gsi1),
            format!("{}/contacts/owner/{}", principal.tenant, principal.user_id),
        ),
    };
    let start = params
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(&list_id, c))
        .transpose()?;
    let query = query.descending().limit(limit).start(start);
    let (contacts, next) = query_filtered(
        state.table.as_ref(),
        query,
        limit,
        MAX_LIST_READS,
        |c: &Contact| principal.reaches(scope, &c.owner_id),
    )
    .await?;
    let data = contacts
        .iter()
        .map(|c| principal.view(RESOURCE, c, false))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ListPage {
        data,
        next_cursor: next.map(|next| state.cursors.encode(&list_id, &next)),
    })
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: ContactPatch,
) -> Result<View, ApiError> {
    let scope = principal.require(RESOURCE, Action::Update)?;
    principal.check_writable(RESOURCE, &patch.fields_sent())?;
    // The patch is applied to a fresh read on every attempt, so a concurrent change is
    // never overwritten: either both apply, or the client is told (412).
    for _ in 0..WRITE_ATTEMPTS {
        let current = load(state, principal, scope, id).await?;
        let mut next = current.clone();
        let mut errors = Errors::new();
        patch.clone().apply(&mut next, &mut errors);
        normalize_and_check(&mut next, &mut errors);
        if next.owner_id != current.owner_id {
            check_owner(state, principal, &next.owner_id, &mut errors).await?;
        }
        // An invalid change is reported as such whatever the version; a valid one is
        // applied only to the version the client saw.
        errors.finish().map_err(ApiError::Validation)?;
        precondition.check(current.version)?;
        if next == current {
            return principal.view(RESOURCE, &current, false);
        }
        let now = state.clock.now();
        next.version = current.version + 1;
        next.updated_at = rfc3339(now);
        let entry = Entry::by(principal, now, "contact.updated", RESOURCE, Some(id))
            .with_changes(Some(&current), Some(&next));
        match entry
            .commit(
                state.table.as_ref(),
                &principal.tenant,
                Write::Put {
                    item: to_stored(principal, &next)?,
                    condition: Condition::VersionIs(current.version),
                },
            )
            .await
        {
            Ok(()) => return principal.view(RESOURCE, &next, false),
            Err(TableError::ConditionFailed { .. }) if precondition.is_any() => continue,
            Err(TableError::ConditionFailed { .. }) => {
                return Err(ApiError::PreconditionFailed(
                    "The record changed while your update was applied; fetch it again.".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        "concurrent-modification",
        "The contact is being changed by many requests at once; please retry.",
    ))
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
) -> Result<(), ApiError> {
    let scope = principal.require(RESOURCE, Action::Delete)?;
    for _ in 0..WRITE_ATTEMPTS {
        let current = load(state, principal, scope, id).await?;
        precondition.check(current.version)?;
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "contact.deleted",
            RESOURCE,
            Some(id),
        )
        .with_changes(Some(&current), None);
        match entry
            .commit(
                state.table.as_ref(),
                &principal.tenant,
                Write::Delete {
                    key: key(&principal.tenant, id),
                    condition: Condition::VersionIs(current.version),
                },
            )
            .await
        {
            Ok(()) => return Ok(()),
            // Changed (or deleted) meanwhile: look again; the next read tells which.
            Err(TableError::ConditionFailed { .. }) if precondition.is_any() => continue,
            Err(TableError::ConditionFailed { .. }) => {
                return Err(ApiError::PreconditionFailed(
                    "The contact changed while it was being deleted; fetch it again.".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        "concurrent-modification",
        "The contact is being changed by many requests at once; please retry.",
    ))
}
