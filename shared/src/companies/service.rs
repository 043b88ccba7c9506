//! Company operations as the API offers them: permission first, then the caller's tenant
//! and record scope (a company out of scope, or of another tenant, is not found).

use super::{Company, CompanyPatch, NewCompany, PREFIX, RESOURCE, key, normalize_and_check};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::contacts;
use crate::http::cursor::{ListPage, ListParams};
use crate::http::versions::Precondition;
use crate::http::{ApiError, Principal};
use crate::ids::{TenantId, is_id, new_id};
use crate::policy::{Action, Scope, View};
use crate::records::{self, check_owner, index_by_owner, phone_region, write_on_version};
use crate::table::{Condition, Index, Item, Query, Table, Write, from_item, to_item};
use crate::timeline::{self, NewActivity, TimelineEntry};
use crate::validation::Errors;

fn not_found() -> ApiError {
    ApiError::NotFound("No company with this id.".into())
}

fn to_stored(tenant: &TenantId, company: &Company) -> Result<Item, ApiError> {
    let mut item = to_item(&key(tenant, &company.id), company)?;
    index_by_owner(&mut item, tenant, RESOURCE, &company.owner_id, &company.id);
    Ok(item)
}

/// Whether company `id` exists in `tenant` (for linking contacts to it).
pub async fn exists(table: &dyn Table, tenant: &TenantId, id: &str) -> Result<bool, ApiError> {
    Ok(is_id(PREFIX, id) && table.get(&key(tenant, id)).await?.is_some())
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewCompany,
) -> Result<View, ApiError> {
    principal.require(RESOURCE, Action::Create)?;
    principal.check_writable(RESOURCE, &input.fields_sent())?;
    let now = rfc3339(state.clock.now());
    let mut company = Company {
        id: new_id(PREFIX),
        name: input.name,
        legal_name: input.legal_name,
        industry: input.industry,
        size_band: input.size_band,
        region: input.region,
        address: input.address,
        website: input.website,
        phone: input.phone,
        tags: input.tags,
        owner_id: input.owner_id.unwrap_or_else(|| principal.user_id.clone()),
        lifecycle_stage: input.lifecycle_stage.unwrap_or_default(),
        annual_revenue: input.annual_revenue,
        notes: input.notes,
        created_by: principal.user_id.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let mut errors = Errors::new();
    let region = phone_region(state, principal).await?;
    normalize_and_check(&mut company, &region, &mut errors);
    if company.owner_id != principal.user_id {
        check_owner(state, principal, RESOURCE, &company.owner_id, &mut errors).await?;
    }
    errors.finish().map_err(ApiError::Validation)?;
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "company.created",
        RESOURCE,
        Some(&company.id),
    )
    .with_changes(None, Some(&company));
    state
        .table
        .transact(vec![
            Write::Put {
                item: to_stored(&principal.tenant, &company)?,
                condition: Condition::NotExists,
            },
            timeline::change(&principal.tenant, &company.id, state.clock.now(), &entry)?,
            entry.write(&principal.tenant)?,
        ])
        .await?;
    principal.view(RESOURCE, &company, false)
}

async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Company, ApiError> {
    if !is_id(PREFIX, id) {
        return Err(not_found());
    }
    let item = state
        .table
        .get(&key(&principal.tenant, id))
        .await?
        .ok_or_else(not_found)?;
    let company: Company = from_item(item)?;
    if !principal.reaches(scope, &company.owner_id) {
        return Err(not_found());
    }
    Ok(company)
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<View, ApiError> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    let company = load(state, principal, scope, id).await?;
    principal.view(RESOURCE, &company, false)
}

/// Companies newest first, one page at a time.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    params: ListParams,
) -> Result<ListPage<View>, ApiError> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    let (items, next_cursor) =
        records::list_in_scope(state, principal, RESOURCE, scope, &params).await?;
    let data = items
        .into_iter()
        .map(|item| principal.view(RESOURCE, &from_item::<Company>(item)?, false))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ListPage { data, next_cursor })
}

/// The contacts linked to company `id` that the caller may see, newest first.
pub async fn contacts(
    state: &AppState,
    principal: &Principal,
    id: &str,
    params: ListParams,
) -> Result<ListPage<View>, ApiError> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    load(state, principal, scope, id).await?;
    contacts::service::of_company(state, principal, id, params).await
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: CompanyPatch,
) -> Result<View, ApiError> {
    let scope = principal.require(RESOURCE, Action::Update)?;
    principal.check_writable(RESOURCE, &patch.fields_sent())?;
    let region = phone_region(state, principal).await?;
    let company = write_on_version(&precondition, "company", || async {
        let current = load(state, principal, scope, id).await?;
        let mut next = current.clone();
        let mut errors = Errors::new();
        patch.clone().apply(&mut next, &mut errors);
        normalize_and_check(&mut next, &region, &mut errors);
        if next.owner_id != current.owner_id {
            check_owner(state, principal, RESOURCE, &next.owner_id, &mut errors).await?;
        }
        errors.finish().map_err(ApiError::Validation)?;
        precondition.check(current.version)?;
        if next == current {
            return Ok(Ok(current));
        }
        let now = state.clock.now();
        next.version = current.version + 1;
        next.updated_at = rfc3339(now);
        let entry = Entry::by(principal, now, "company.updated", RESOURCE, Some(id))
            .with_changes(Some(&current), Some(&next));
        let writes = vec![
            Write::Put {
                item: to_stored(&principal.tenant, &next)?,
                condition: Condition::VersionIs(current.version),
            },
            timeline::change(&principal.tenant, id, now, &entry)?,
            entry.write(&principal.tenant)?,
        ];
        Ok(state.table.transact(writes).await.map(|()| next))
    })
    .await?;
    principal.view(RESOURCE, &company, false)
}

/// Deletes a company no contact links to (409 `company-has-contacts` otherwise).
pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
) -> Result<(), ApiError> {
    let scope = principal.require(RESOURCE, Action::Delete)?;
    write_on_version(&precondition, "company", || async {
        let current = load(state, principal, scope, id).await?;
        precondition.check(current.version)?;
        let linked = state
            .table
            .query(
                &Query::partition(contacts::company_pk(&principal.tenant, id))
                    .on(Index::Gsi2)
                    .limit(1),
            )
            .await?;
        if !linked.items.is_empty() {
            return Err(ApiError::conflict(
                "company-has-contacts",
                "Contacts still belong to this company; move or unlink them first.",
            ));
        }
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "company.deleted",
            RESOURCE,
            Some(id),
        )
        .with_changes(Some(&current), None);
        let write = Write::Delete {
            key: key(&principal.tenant, id),
            condition: Condition::VersionIs(current.version),
        };
        Ok(entry
            .commit(state.table.as_ref(), &principal.tenant, write)
            .await)
    })
    .await
}

/// Logs an activity (note, call, meeting, email) on company `id`; needs `update` on it.
pub async fn log_activity(
    state: &AppState,
    principal: &Principal,
    id: &str,
    input: NewActivity,
) -> Result<TimelineEntry, ApiError> {
    let scope = principal.require(RESOURCE, Action::Update)?;
    load(state, principal, scope, id).await?;
    timeline::log(state, principal, RESOURCE, id, input).await
}

/// The timeline of company `id`, newest first.
pub async fn timeline(
    state: &AppState,
    principal: &Principal,
    id: &str,
    params: ListParams,
) -> Result<ListPage<TimelineEntry>, ApiError> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    load(state, principal, scope, id).await?;
    timeline::list(state, principal, RESOURCE, id, params).await
}
