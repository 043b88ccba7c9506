//! Company operations as the API offers them, on the record engine: permission first,
//! then the caller's tenant and record scope (a company out of scope, or of another
//! tenant, is not found). What is a company's own is its [`Kind`]: its fields and checks,
//! and that a company with contacts is not deleted.

use std::collections::BTreeMap;

use super::{Company, CompanyPatch, NewCompany, PREFIX, RESOURCE, key, normalize_and_check};
use crate::AppState;
use crate::contacts;
use crate::engine::{self, Common, Context, Fresh, Kind, Listing};
use crate::error::Error;
use crate::ids::TenantId;
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, View};
use crate::principal::Principal;
use crate::records::Writing;
use crate::search::Filter;
use crate::table::{Index, Query};
use crate::validation::Errors;
use crate::versioned::Precondition;

/// Companies, as the record engine handles them.
#[derive(Default)]
pub struct Companies;

crm_engine::versioned_record!(Company, custom);

impl Kind for Companies {
    type Record = Company;
    type Id = crate::ids::CompanyId;
    type New = NewCompany;
    type Patch = CompanyPatch;
    const PHONES: bool = true;

    fn resource(&self) -> &str {
        RESOURCE
    }

    fn noun(&self) -> &str {
        "company"
    }

    fn prefix(&self) -> &'static str {
        PREFIX
    }

    fn fields_of(&self) -> &str {
        RESOURCE
    }

    fn key(&self, tenant: &TenantId, id: &str) -> crate::table::Key {
        key(tenant, id)
    }

    fn not_found(&self) -> Error {
        Error::NotFound("No company with this id.".into())
    }

    fn sent_new(&self, input: &NewCompany) -> Vec<String> {
        input.fields_sent().into_iter().map(str::to_owned).collect()
    }

    fn sent_patch(&self, patch: &CompanyPatch) -> Vec<String> {
        patch.fields_sent().into_iter().map(str::to_owned).collect()
    }

    async fn build(
        &self,
        _: &AppState,
        _: &Principal,
        input: NewCompany,
        fresh: Fresh,
        _: &Context,
        _: &mut Errors,
    ) -> Result<Company, Error> {
        Ok(Company {
            id: fresh.id,
            name: input.name,
            legal_name: input.legal_name,
            industry: input.industry,
            size_band: input.size_band,
            region: input.region,
            address: input.address,
            website: input.website,
            phone: input.phone,
            tags: input.tags,
            owner_id: input.owner_id.unwrap_or_else(|| fresh.user_id.clone()),
            lifecycle_stage: input.lifecycle_stage.unwrap_or_default(),
            annual_revenue: input.annual_revenue,
            notes: input.notes,
            custom: input.custom.unwrap_or_default(),
            created_by: fresh.user_id,
            created_at: fresh.now.clone(),
            updated_at: fresh.now,
            version: 1,
        })
    }

    async fn apply(
        &self,
        _: &AppState,
        _: &Principal,
        patch: CompanyPatch,
        company: &mut Company,
        _: &Context,
        errors: &mut Errors,
    ) -> Result<Vec<crate::table::Write>, Error> {
        patch.apply(company, errors);
        Ok(Vec::new())
    }

    fn check(&self, _: Option<&Company>, company: &mut Company, cx: &Context, errors: &mut Errors) {
        normalize_and_check(company, &cx.region, errors);
    }

    /// Not while contacts link to it (409 `company-has-contacts`).
    async fn may_delete(
        &self,
        state: &AppState,
        principal: &Principal,
        company: &Company,
    ) -> Result<(), Error> {
        let linked = state
            .table
            .query(
                &Query::partition(contacts::company_pk(&principal.tenant, &company.id))
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
        Ok(())
    }
}

/// [`create`], with extra writes in its transaction, or as a dry run.
pub async fn create_with(
    state: &AppState,
    principal: &Principal,
    input: NewCompany,
    writing: Writing,
) -> Result<View, Error> {
    engine::create(state, principal, &Companies, input, writing).await
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<View, Error> {
    engine::get(state, principal, &Companies, id, false).await
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
    /// The filters these parameters ask for.
    fn filter(self, filter: &mut Filter, errors: &mut Errors) {
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
                "lifecycle_stage",
                "lifecycle_stage",
                &["lifecycle_stage"][..],
                self.lifecycle_stage,
            ),
            ("industry", "industry", &["industry"], self.industry),
            ("size_band", "size_band", &["size_band"], self.size_band),
            ("country", "region", &["region", "country"], self.country),
            ("province", "region", &["region", "province"], self.province),
            ("city", "region", &["region", "city"], self.city),
            ("district", "region", &["region", "district"], self.district),
        ] {
            filter.text(param, field, path, value, errors);
        }
        filter.tags(self.tags, errors);
        Common {
            owner_id: self.owner_id,
            created_after: self.created_after,
            created_before: self.created_before,
            updated_after: self.updated_after,
            updated_before: self.updated_before,
        }
        .add(filter, errors);
    }
}

/// A page of companies: a search (with `q`, best match first unless sorted) or a
/// filtered, sorted list (newest first by default).
pub async fn list(
    state: &AppState,
    principal: &Principal,
    query: CompanyQuery,
    custom: BTreeMap<String, String>,
) -> Result<ListPage<View>, Error> {
    let mut query = query;
    let listing = Listing {
        params: ListParams {
            limit: query.limit,
            cursor: query.cursor.take(),
        },
        q: query.q.take(),
        sort: query.sort.take(),
    };
    engine::list(
        state,
        principal,
        &Companies,
        listing,
        custom,
        |filter, errors| query.filter(filter, errors),
    )
    .await
}

/// The contacts linked to company `id` that the caller may see, newest first.
pub async fn contacts(
    state: &AppState,
    principal: &Principal,
    id: &str,
    params: ListParams,
) -> Result<ListPage<View>, Error> {
    let scope = engine::open(state, principal, &Companies, Action::Read).await?;
    engine::load(state, principal, &Companies, scope, id).await?;
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
    engine::update(
        state,
        principal,
        &Companies,
        id,
        precondition,
        patch,
        dry_run,
    )
    .await
}
