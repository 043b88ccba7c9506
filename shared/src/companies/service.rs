//! Company operations as the API offers them: permission first, then the caller's tenant
//! and record scope (a company out of scope, or of another tenant, is not found).

use std::collections::BTreeMap;

use super::{Company, CompanyPatch, NewCompany, PREFIX, RESOURCE, key, normalize_and_check};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::contacts;
use crate::error::Error;
use crate::fields::{self, Definitions, service::definitions};
use crate::ids::{TenantId, is_id, new_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope, View};
use crate::principal::Principal;
use crate::records::{Writing, check_owner, index_by_owner, phone_region};
use crate::search::{self, Filter, ListRequest};
use crate::table::{Condition, Index, Item, Query, Write, from_item, to_item};
use crate::timeline::{self, NewActivity, TimelineEntry};
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::versioned::write_on_version;

fn not_found() -> Error {
    Error::NotFound("No company with this id.".into())
}

fn to_stored(tenant: &TenantId, company: &Company) -> Result<Item, Error> {
    let mut item = to_item(&key(tenant, &company.id), company)?;
    index_by_owner(&mut item, tenant, RESOURCE, &company.owner_id, &company.id);
    search::index_for_lists(&mut item, tenant, company);
    Ok(item)
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewCompany,
) -> Result<View, Error> {
    create_with(state, principal, input, Writing::default()).await
}

/// [`create`], with extra writes in its transaction, or as a dry run.
pub async fn create_with(
    state: &AppState,
    principal: &Principal,
    input: NewCompany,
    writing: Writing,
) -> Result<View, Error> {
    principal.require(RESOURCE, Action::Create)?;
    principal.check_writable(RESOURCE, &input.fields_sent())?;
    let now = rfc3339(state.clock.now());
    let mut company = Company {
        id: writing.id.clone().unwrap_or_else(|| new_id(PREFIX)),
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
        custom: input.custom.unwrap_or_default(),
        created_by: principal.user_id.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let mut errors = Errors::new();
    let region = match writing.region.clone() {
        Some(region) => region,
        None => phone_region(state, principal).await?,
    };
    normalize_and_check(&mut company, &region, &mut errors);
    if company.owner_id != principal.user_id {
        check_owner(state, principal, RESOURCE, &company.owner_id, &mut errors).await?;
    }
    let tenant = &principal.tenant;
    let defs = fields::prepare_with(
        state,
        tenant,
        RESOURCE,
        writing.definitions.as_deref(),
        &[&company.id],
        None,
        &mut company.custom,
        &mut errors,
    )
    .await?;
    errors.finish().map_err(Error::Validation)?;
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "company.created",
        RESOURCE,
        Some(&company.id),
    )
    .with_changes(None, Some(&company));
    let mut writes = vec![Write::Put {
        item: to_stored(&principal.tenant, &company)?,
        condition: Condition::NotExists,
    }];
    writes.extend(search::index_writes(tenant, None, Some(&company))?);
    writes.extend(fields::unique_writes(
        tenant,
        RESOURCE,
        &defs,
        &company.id,
        None,
        Some(&company.custom),
        None,
    )?);
    writes.push(timeline::change(
        tenant,
        &company.id,
        state.clock.now(),
        &entry,
    )?);
    writes.extend(entry.writes(tenant)?);
    if writing.dry_run {
        return show(principal, &defs, company);
    }
    writes.extend(writing.extra);
    state.table.transact(writes).await?;
    show(principal, &defs, company)
}

async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Company, Error> {
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

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<View, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    let company = load(state, principal, scope, id).await?;
    let defs = definitions(state.table.as_ref(), &principal.tenant, RESOURCE).await?;
    show(principal, &defs, company)
}

/// `company` as the caller sees it: removed custom fields left out, field rules applied.
fn show(principal: &Principal, defs: &Definitions, mut company: Company) -> Result<View, Error> {
    company.custom = defs.visible(&company.custom);
    principal.view(RESOURCE, &company, false)
}

/// `GET /v1/companies` parameters: a page of a filtered, sorted list, or of a search.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Words each matching the start of a word of the name, legal name, phone or website
    /// (CJK text: any part of it).
    pub q: Option<String>,
    /// `name`, `created`, `updated`, `-` first for descending; newest first by default.
    pub sort: Option<String>,
    pub owner_id: Option<String>,
    pub lifecycle_stage: Option<String>,
    /// Comma-separated; a company must have all of them.
    pub tags: Option<String>,
    pub industry: Option<String>,
    pub size_band: Option<String>,
    pub country: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub updated_after: Option<String>,
    pub updated_before: Option<String>,
}

impl CompanyQuery {
    fn filter(
        &mut self,
        custom: BTreeMap<String, String>,
        defs: &Definitions,
    ) -> Result<Filter, Error> {
        let mut errors = Errors::new();
        let mut filter = Filter::new();
        if let Some(stage) = &self.lifecycle_stage
            && serde_json::from_value::<crate::contacts::LifecycleStage>(stage.clone().into())
                .is_err()
        {
            errors.add("lifecycle_stage", "is not a lifecycle stage");
        }
        if let Some(band) = &self.size_band
            && serde_json::from_value::<super::SizeBand>(band.clone().into()).is_err()
        {
            errors.add("size_band", "is not a size band");
        }
        for (param, field, path, value) in [
            (
                "owner_id",
                "owner_id",
                &["owner_id"][..],
                self.owner_id.take(),
            ),
            (
                "lifecycle_stage",
                "lifecycle_stage",
                &["lifecycle_stage"],
                self.lifecycle_stage.take(),
            ),
            ("industry", "industry", &["industry"], self.industry.take()),
            (
                "size_band",
                "size_band",
                &["size_band"],
                self.size_band.take(),
            ),
            (
                "country",
                "region",
                &["region", "country"],
                self.country.take(),
            ),
            (
                "province",
                "region",
                &["region", "province"],
                self.province.take(),
            ),
            ("city", "region", &["region", "city"], self.city.take()),
            (
                "district",
                "region",
                &["region", "district"],
                self.district.take(),
            ),
        ] {
            filter.text(param, field, path, value, &mut errors);
        }
        filter.tags(self.tags.take(), &mut errors);
        filter.created(
            self.created_after.take(),
            self.created_before.take(),
            &mut errors,
        );
        filter.updated(
            self.updated_after.take(),
            self.updated_before.take(),
            &mut errors,
        );
        filter.custom(custom, defs, &mut errors);
        errors.finish().map_err(Error::Validation)?;
        Ok(filter)
    }
}

/// A page of companies: a search (with `q`, best match first unless sorted) or a
/// filtered, sorted list (newest first by default).
pub async fn list(
    state: &AppState,
    principal: &Principal,
    mut query: CompanyQuery,
    custom: BTreeMap<String, String>,
) -> Result<ListPage<View>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    let params = ListParams {
        limit: query.limit,
        cursor: query.cursor.take(),
    };
    let defs = definitions(state.table.as_ref(), &principal.tenant, RESOURCE).await?;
    let filter = query.filter(custom, &defs)?;
    let request = ListRequest::new(
        principal,
        RESOURCE,
        query.q.as_deref(),
        query.sort.as_deref(),
        filter,
        defs.removed_keys(),
    )?;
    let (found, next_cursor) = search::page(
        state,
        principal,
        scope,
        &request,
        PREFIX,
        &params,
        |id| async move {
            match load(state, principal, scope, &id).await {
                Ok(company) => Ok(Some(company)),
                Err(Error::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        },
        |item| async move { Ok(from_item::<Company>(item)?) },
    )
    .await?;
    let data = found
        .into_iter()
        .map(|c| show(principal, &defs, c))
        .collect::<Result<_, _>>()?;
    Ok(ListPage { data, next_cursor })
}

/// The contacts linked to company `id` that the caller may see, newest first.
pub async fn contacts(
    state: &AppState,
    principal: &Principal,
    id: &str,
    params: ListParams,
) -> Result<ListPage<View>, Error> {
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
) -> Result<View, Error> {
    update_with(state, principal, id, precondition, patch, false).await
}

/// [`update`], or with `dry_run` everything but the write (the answer shows the record
/// as it would be).
pub async fn update_with(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: CompanyPatch,
    dry_run: bool,
) -> Result<View, Error> {
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
        let defs = fields::prepare(
            state,
            &principal.tenant,
            RESOURCE,
            &[id],
            Some(&current.custom),
            &mut next.custom,
            &mut errors,
        )
        .await?;
        errors.finish().map_err(Error::Validation)?;
        precondition.check(current.version)?;
        if next == current {
            return Ok(Ok((current, defs)));
        }
        let now = state.clock.now();
        next.version = current.version + 1;
        next.updated_at = rfc3339(now);
        let entry = Entry::by(principal, now, "company.updated", RESOURCE, Some(id))
            .with_changes(Some(&current), Some(&next));
        let mut writes = vec![Write::Put {
            item: to_stored(&principal.tenant, &next)?,
            condition: Condition::VersionIs(current.version),
        }];
        writes.extend(search::index_writes(
            &principal.tenant,
            Some(&current),
            Some(&next),
        )?);
        writes.extend(fields::unique_writes(
            &principal.tenant,
            RESOURCE,
            &defs,
            id,
            Some(&current.custom),
            Some(&next.custom),
            None,
        )?);
        writes.push(timeline::change(&principal.tenant, id, now, &entry)?);
        writes.extend(entry.writes(&principal.tenant)?);
        if dry_run {
            return Ok(Ok((next, defs)));
        }
        Ok(state.table.transact(writes).await.map(|()| (next, defs)))
    })
    .await?;
    show(principal, &company.1, company.0)
}

/// Deletes a company no contact links to (409 `company-has-contacts` otherwise).
pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
) -> Result<(), Error> {
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
            return Err(Error::conflict(
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
        let mut writes = vec![Write::Delete {
            key: key(&principal.tenant, id),
            condition: Condition::VersionIs(current.version),
        }];
        writes.extend(search::index_writes(
            &principal.tenant,
            Some(&current),
            None,
        )?);
        writes.extend(entry.writes(&principal.tenant)?);
        Ok(state.table.transact(writes).await)
    })
    .await
}

/// Logs an activity (note, call, meeting, email) on company `id`; needs `update` on it.
pub async fn log_activity(
    state: &AppState,
    principal: &Principal,
    id: &str,
    input: NewActivity,
) -> Result<TimelineEntry, Error> {
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
) -> Result<ListPage<TimelineEntry>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    load(state, principal, scope, id).await?;
    timeline::list(state, principal, RESOURCE, id, params).await
}
