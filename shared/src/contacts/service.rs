//! Contact operations as the API offers them, on the record engine. Each one checks the
//! caller's permission first and confines itself to the caller's tenant and record
//! scope: a contact out of scope, or of another tenant, is simply not found. What is a
//! contact's own is its [`Kind`]: its fields and checks, sealed sensitive values, the
//! lookup by national id, the link to its company, and that a merge holds it.

use serde_json::Value;

use std::collections::{BTreeMap, BTreeSet};

use zeroize::Zeroizing;

use super::preferences::apply_consent;
use super::{
    Contact, ContactPatch, NewContact, PREFIX, company_pk, key, normalize_and_check, sensitive,
};
use crate::AppState;
use crate::engine::{self, Common, Context, DataKey, Fresh, Kind, Listing};
use crate::error::Error;
use crate::fields::{Definitions, service::definitions};
use crate::ids::TenantId;
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, FieldRule, Scope, View};
use crate::principal::Principal;
use crate::records::{self, Writing, phone_region};
use crate::search::{self, Filter};
use crate::table::{Condition, Index, Item, Key, Query, SortKey, Write, to_item};
use crate::terms;
use crate::validation::{Errors, is_email, normalize_email, to_e164};
use crate::versioned::Precondition;

pub const RESOURCE: &str = "contacts";

/// Contacts, as the record engine handles them.
#[derive(Default)]
pub struct Contacts;

crm_engine::versioned_record!(Contact, custom);

impl Kind for Contacts {
    type Record = Contact;
    type Id = crate::ids::ContactId;
    type New = NewContact;
    type Patch = ContactPatch;
    const PHONES: bool = true;

    fn resource(&self) -> &str {
        RESOURCE
    }

    fn noun(&self) -> &str {
        "contact"
    }

    fn prefix(&self) -> &'static str {
        PREFIX
    }

    fn fields_of(&self) -> &str {
        RESOURCE
    }

    fn key(&self, tenant: &TenantId, id: &str) -> Key {
        key(tenant, id)
    }

    fn not_found(&self) -> Error {
        not_found()
    }

    fn sent_new(&self, input: &NewContact) -> Vec<String> {
        input.fields_sent().into_iter().map(str::to_owned).collect()
    }

    fn sent_patch(&self, patch: &ContactPatch) -> Vec<String> {
        patch.fields_sent().into_iter().map(str::to_owned).collect()
    }

    async fn build(
        &self,
        _: &AppState,
        _: &Principal,
        input: NewContact,
        fresh: Fresh,
        _: &Context,
        errors: &mut Errors,
    ) -> Result<Contact, Error> {
        let mut contact = Contact {
            id: fresh.id,
            name: input.name,
            emails: input.emails,
            phones: input.phones,
            company_name: input.company_name,
            company_id: input.company_id,
            title: input.title,
            address: input.address,
            tags: input.tags,
            owner_id: input.owner_id.unwrap_or_else(|| fresh.user_id.clone()),
            lifecycle_stage: input.lifecycle_stage.unwrap_or_default(),
            source: input.source,
            notes: input.notes,
            national_id: input.national_id,
            card_number: input.card_number,
            bank_account: input.bank_account,
            date_of_birth: input.date_of_birth,
            preferences: input.preferences.unwrap_or_default(),
            consent: Default::default(),
            custom: input.custom.unwrap_or_default(),
            created_by: fresh.user_id,
            created_at: fresh.now.clone(),
            updated_at: fresh.now,
            version: 1,
        };
        if let Some(consent) = input.consent {
            let changes = consent.into_iter().map(|(c, v)| (c, Some(v))).collect();
            apply_consent(&mut contact.consent, changes, &contact.created_at, errors);
        }
        Ok(contact)
    }

    async fn apply(
        &self,
        _: &AppState,
        _: &Principal,
        patch: ContactPatch,
        contact: &mut Contact,
        cx: &Context,
        errors: &mut Errors,
    ) -> Result<Vec<Write>, Error> {
        patch.apply(contact, &cx.now, errors);
        Ok(Vec::new())
    }

    fn check(&self, _: Option<&Contact>, contact: &mut Contact, cx: &Context, errors: &mut Errors) {
        normalize_and_check(contact, cx.today, &cx.region, errors);
    }

    async fn check_links(
        &self,
        state: &AppState,
        principal: &Principal,
        _: &Definitions,
        before: Option<&Contact>,
        after: &Contact,
        errors: &mut Errors,
    ) -> Result<(), Error> {
        check_company(state, principal, before, after, errors).await
    }

    fn has_sensitive(&self, contact: &Contact) -> bool {
        contact.has_sensitive()
    }

    fn is_sealed(&self, item: &Item) -> bool {
        sensitive::present(item)
    }

    fn unseal(&self, key: &DataKey, tenant: &TenantId, item: &mut Item) -> Result<(), Error> {
        sensitive::open_item(key, tenant, item)
    }

    fn seal(&self, key: &DataKey, tenant: &TenantId, item: &mut Item) {
        sensitive::seal_item(key, tenant, item);
    }

    fn audited(&self, contact: &Contact, key: Option<&DataKey>) -> Value {
        audited(key, contact)
    }

    /// The company's contact list reads the contacts by their company.
    fn index(&self, tenant: &TenantId, contact: &Contact, item: &mut Item) {
        if let Some(company) = &contact.company_id {
            item.insert("gsi2pk".into(), Value::String(company_pk(tenant, company)));
            item.insert("gsi2sk".into(), Value::String(contact.id.clone()));
        }
    }

    async fn writes(
        &self,
        _: &AppState,
        principal: &Principal,
        change: &engine::Change<'_, Contact>,
    ) -> Result<Vec<Write>, Error> {
        marker_writes(&principal.tenant, change.key, change.before, change.after)
    }

    /// Not deleted while a merge holds it: its moves would point at a deleted contact.
    fn guard(
        &self,
        tenant: &TenantId,
        contact: &Contact,
        action: Action,
    ) -> Option<(Write, Error)> {
        (action == Action::Delete).then(|| {
            (
                super::merge::not_merging(tenant, &contact.id),
                super::merge::held(),
            )
        })
    }
}

pub(super) fn not_found() -> Error {
    Error::NotFound("No contact with this id.".into())
}

/// The tenant's data key when `contact` holds sensitive values; no key-service call
/// otherwise.
pub(super) async fn key_for(
    state: &AppState,
    principal: &Principal,
    contacts: &[&Contact],
) -> Result<Option<Zeroizing<[u8; 32]>>, Error> {
    engine::data_key(state, principal, &Contacts, contacts).await
}

/// A stored item back as a contact, its sealed values opened.
pub(super) async fn from_stored(
    state: &AppState,
    principal: &Principal,
    item: Item,
) -> Result<Contact, Error> {
    engine::from_stored(state, principal, &Contacts, item).await
}

/// A contact as the audit log keeps it: sensitive values as keyed fingerprints.
pub(super) fn audited(key: Option<&Zeroizing<[u8; 32]>>, contact: &Contact) -> Value {
    let value = serde_json::to_value(contact).unwrap_or(Value::Null);
    sensitive::redact(key.map(|k| &**k), value)
}

/// Where the exact lookup by national id finds a contact: the keyed hash of its national
/// id, as `(partition, value)`. (Emails and phones are found through the search index.)
fn lookups(
    contact: &Contact,
    data_key: Option<&Zeroizing<[u8; 32]>>,
) -> BTreeSet<(&'static str, String)> {
    let mut out = BTreeSet::new();
    if let (Some(id), Some(key)) = (&contact.national_id, data_key) {
        out.insert((BY_NATIONAL_ID, sensitive::lookup_token(key, id)));
    }
    out
}

const BY_NATIONAL_ID: &str = "contact-national-ids";

/// The marker under which `value` finds contact `id`.
fn lookup_key(tenant: &TenantId, partition: &str, value: &str, id: &str) -> Key {
    Key::new(tenant.pk(partition), format!("{value}#{id}"))
}

/// The lookup markers to drop and add when `before` becomes `after`.
fn marker_writes(
    tenant: &TenantId,
    data_key: Option<&Zeroizing<[u8; 32]>>,
    before: Option<&Contact>,
    after: Option<&Contact>,
) -> Result<Vec<Write>, Error> {
    let mut writes = Vec::new();
    let old = before.map(|c| lookups(c, data_key)).unwrap_or_default();
    let new = after.map(|c| lookups(c, data_key)).unwrap_or_default();
    let id = before.or(after).map(|c| c.id.as_str()).unwrap_or_default();
    for (partition, value) in old.difference(&new) {
        writes.push(Write::Delete {
            key: lookup_key(tenant, partition, value, id),
            condition: Condition::None,
        });
    }
    for (partition, value) in new.difference(&old) {
        writes.push(Write::Put {
            item: to_item(
                &lookup_key(tenant, partition, value, id),
                &serde_json::json!({ "contact_id": id }),
            )?,
            condition: Condition::None,
        });
    }
    Ok(writes)
}

/// The lookup markers and search index entries to drop and add when `before` becomes
/// `after`, so both change in the same transaction as the contact.
pub(super) fn lookup_writes(
    principal: &Principal,
    data_key: Option<&Zeroizing<[u8; 32]>>,
    before: Option<&Contact>,
    after: Option<&Contact>,
) -> Result<Vec<Write>, Error> {
    let mut writes = search::index_writes(&principal.tenant, before, after)?;
    writes.extend(marker_writes(&principal.tenant, data_key, before, after)?);
    Ok(writes)
}

/// A contact may only be linked to a company the caller can read (in their scope): one
/// they cannot see is answered as one that does not exist.
pub(super) async fn check_company(
    state: &AppState,
    principal: &Principal,
    before: Option<&Contact>,
    after: &Contact,
    errors: &mut Errors,
) -> Result<(), Error> {
    let Some(company) = &after.company_id else {
        return Ok(());
    };
    if before.and_then(|c| c.company_id.as_ref()) == Some(company) {
        return Ok(());
    }
    // Companies build on contacts (their contact lists), so they are asked through the
    // state's hooks rather than imported.
    if !state
        .hooks
        .can_read(state, principal, "companies", company)
        .await?
    {
        errors.add("company_id", "is not a company you can see");
    }
    Ok(())
}

pub(super) fn to_stored(
    principal: &Principal,
    contact: &Contact,
    data_key: Option<&Zeroizing<[u8; 32]>>,
) -> Result<Item, Error> {
    engine::to_stored(&principal.tenant, &Contacts, contact, data_key)
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewContact,
) -> Result<View, Error> {
    create_with(state, principal, input, Writing::default()).await
}

/// [`create`], with extra writes in its transaction, or as a dry run.
pub async fn create_with(
    state: &AppState,
    principal: &Principal,
    input: NewContact,
    writing: Writing,
) -> Result<View, Error> {
    engine::create(state, principal, &Contacts, input, writing).await
}

/// The contact `id` if it exists in the caller's tenant and `scope`.
pub(super) async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Contact, Error> {
    engine::load(state, principal, &Contacts, scope, id).await
}

/// The contact `id`; with `reveal`, masked fields in clear (needs `reveal`, audited).
pub async fn get(
    state: &AppState,
    principal: &Principal,
    id: &str,
    reveal: bool,
) -> Result<View, Error> {
    engine::get(state, principal, &Contacts, id, reveal).await
}

/// `contact` as the caller sees it: removed custom fields left out, field rules applied.
pub(super) fn show(
    principal: &Principal,
    defs: &Definitions,
    contact: Contact,
    reveal: bool,
) -> Result<View, Error> {
    engine::show(principal, &Contacts, defs, contact, reveal)
}

/// `GET /v1/contacts` parameters: a page of a filtered, sorted list (or of a search with
/// `q`), or an exact lookup by email, phone or national id.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Words each matching the start of a word of the name, emails, phones or company
    /// name (CJK text: any part of it).
    pub q: Option<String>,
    /// `name`, `created`, `updated`, `-` first for descending; newest first by default.
    pub sort: Option<String>,
    pub owner_id: Option<String>,
    pub lifecycle_stage: Option<String>,
    /// Comma-separated; a contact must have all of them.
    pub tags: Option<String>,
    pub company_id: Option<String>,
    pub country: Option<String>,
    /// The address's province or state.
    pub province: Option<String>,
    pub city: Option<String>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub updated_after: Option<String>,
    pub updated_before: Option<String>,
    /// Finds the contacts with this email (compared in lower case).
    pub email: Option<String>,
    /// Finds the contacts with this phone number (compared in E.164).
    pub phone: Option<String>,
    /// Finds the contacts with this national id (through its keyed hash).
    pub national_id: Option<String>,
}

impl ContactQuery {
    /// The filter these parameters ask for.
    fn filter(self, filter: &mut Filter, errors: &mut Errors) {
        if let Some(stage) = &self.lifecycle_stage
            && serde_json::from_value::<super::LifecycleStage>(Value::String(stage.clone()))
                .is_err()
        {
            errors.add("lifecycle_stage", "is not a lifecycle stage");
        }
        for (param, field, path, value) in [
            (
                "lifecycle_stage",
                "lifecycle_stage",
                &["lifecycle_stage"][..],
                self.lifecycle_stage,
            ),
            ("company_id", "company_id", &["company_id"], self.company_id),
            ("country", "address", &["address", "country"], self.country),
            ("province", "address", &["address", "region"], self.province),
            ("city", "address", &["address", "city"], self.city),
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

/// A page of contacts: a search (with `q`, best match first unless sorted), a filtered
/// and sorted list, or an exact lookup.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    mut query: ContactQuery,
    custom: BTreeMap<String, String>,
) -> Result<ListPage<View>, Error> {
    let lookup = match (
        query.email.take(),
        query.phone.take(),
        query.national_id.take(),
    ) {
        (None, None, None) => None,
        (Some(email), None, None) => Some(("emails", email)),
        (None, Some(phone), None) => Some(("phones", phone)),
        (None, None, Some(id)) => Some(("national_id", id)),
        _ => {
            principal.require(RESOURCE, Action::Read)?;
            return Err(Error::validation(
                "email",
                "look up by one of `email`, `phone` or `national_id` at a time",
            ));
        }
    };
    if let Some((field, value)) = lookup {
        let scope = principal.require(RESOURCE, Action::Read)?;
        let limit = ListParams {
            limit: query.limit,
            cursor: None,
        }
        .limit()?;
        let defs = definitions(state.table.as_ref(), &principal.tenant, RESOURCE).await?;
        return find_by(state, principal, &defs, scope, field, &value, limit).await;
    }
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
        &Contacts,
        listing,
        custom,
        |filter, errors| query.filter(filter, errors),
    )
    .await
}

/// Contact `id` if it is in the caller's scope; `None` if it is not (or is gone).
pub(super) async fn in_reach(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Option<Contact>, Error> {
    engine::in_reach(state, principal, &Contacts, scope, id).await
}

/// Stored items as the caller may see them, with the cursor of the next page.
async fn views(
    state: &AppState,
    principal: &Principal,
    items: Vec<Item>,
    next_cursor: Option<String>,
) -> Result<ListPage<View>, Error> {
    let defs = definitions(state.table.as_ref(), &principal.tenant, RESOURCE).await?;
    let mut data = Vec::with_capacity(items.len());
    for item in items {
        let contact = from_stored(state, principal, item).await?;
        data.push(show(principal, &defs, contact, false)?);
    }
    Ok(ListPage { data, next_cursor })
}

/// The contacts of company `company_id` the caller may see, newest first.
pub async fn of_company(
    state: &AppState,
    principal: &Principal,
    company_id: &str,
    params: ListParams,
) -> Result<ListPage<View>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    let query = Query::partition(company_pk(&principal.tenant, company_id)).on(Index::Gsi2);
    let list_id = format!("{}/contacts/company/{company_id}", principal.tenant);
    let (items, next_cursor) =
        records::list_query(state, principal, query, &list_id, scope, &params).await?;
    views(state, principal, items, next_cursor).await
}

/// The contacts (in the caller's scope) whose `field` is exactly `raw`.
async fn find_by(
    state: &AppState,
    principal: &Principal,
    defs: &Definitions,
    scope: Scope,
    field: &str,
    raw: &str,
    limit: usize,
) -> Result<ListPage<View>, Error> {
    // A field the caller's role hides or masks is not theirs to look up by either (a
    // match would confirm a guess). Sensitive fields, masked for everyone, stay open to
    // exact lookup unless a role restricts them.
    if let Some(FieldRule::Hidden | FieldRule::Masked) =
        principal.permissions.field_rule(RESOURCE, field)
    {
        let param = match field {
            "emails" => "email",
            "phones" => "phone",
            other => other,
        };
        principal.check_filters(RESOURCE, &[(param, field, true)])?;
    }
    let ids = match field {
        "emails" => {
            if !is_email(raw) {
                return Err(Error::validation("email", "is not an email address"));
            }
            let term = terms::exact_term(&normalize_email(raw));
            search::exact(state, &principal.tenant, RESOURCE, &term, limit).await?
        }
        "phones" => {
            let region = phone_region(state, principal).await?;
            let e164 = to_e164(raw, &region)
                .ok_or_else(|| Error::validation("phone", "is not a valid phone number"))?;
            let term = terms::phone_term(&e164);
            search::exact(state, &principal.tenant, RESOURCE, &term, limit).await?
        }
        _ => {
            let national_id = raw.to_ascii_uppercase();
            if !sensitive::national_id_ok(&national_id) {
                return Err(Error::validation(
                    "national_id",
                    "is not a valid national id",
                ));
            }
            let data_key = state.data_key(&principal.tenant).await?;
            let token = sensitive::lookup_token(&data_key, &national_id);
            let markers = state
                .table
                .query(
                    &Query::partition(principal.tenant.pk(BY_NATIONAL_ID))
                        .sort_key(SortKey::BeginsWith(format!("{token}#")))
                        .limit(limit),
                )
                .await?;
            markers
                .items
                .iter()
                .filter_map(|m| m.get("contact_id").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        }
    };
    let mut data = Vec::new();
    for id in ids {
        if let Some(contact) = in_reach(state, principal, scope, &id).await? {
            data.push(show(principal, defs, contact, false)?);
        }
    }
    Ok(ListPage {
        data,
        next_cursor: None,
    })
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: ContactPatch,
) -> Result<View, Error> {
    update_with(state, principal, id, precondition, patch, false).await
}

/// [`update`], or with `dry_run` everything but the write (the answer shows the record
/// as it would be). The patch is applied to a fresh read on every attempt, so a
/// concurrent change is never overwritten: either both apply, or the client is told (412).
pub async fn update_with(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: ContactPatch,
    dry_run: bool,
) -> Result<View, Error> {
    engine::update(
        state,
        principal,
        &Contacts,
        id,
        precondition,
        patch,
        dry_run,
    )
    .await
}
