//! Contact operations as the API offers them. Each one checks the caller's permission
//! first and confines itself to the caller's tenant and record scope: a contact out of
//! scope, or of another tenant, is simply not found.

use serde_json::Value;

use std::collections::{BTreeMap, BTreeSet};

use zeroize::Zeroizing;

use super::preferences::apply_consent;
use super::{
    Contact, ContactPatch, NewContact, PREFIX, company_pk, key, normalize_and_check, sensitive,
};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::fields::{self, Definitions, service::definitions};
use crate::ids::{is_id, new_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, FieldRule, Scope, View};
use crate::principal::Principal;
use crate::records::{self, Writing, check_owner, phone_region};
use crate::search::{self, Filter, ListRequest};
use crate::table::{Condition, Index, Item, Key, Query, SortKey, Write, from_item, to_item};
use crate::terms;
use crate::timeline::{self, NewActivity, TimelineEntry};
use crate::validation::{Errors, is_email, normalize_email, to_e164};
use crate::versioned::Precondition;
use crate::versioned::write_on_version;

pub const RESOURCE: &str = "contacts";

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
    if contacts.iter().any(|c| c.has_sensitive()) {
        Ok(Some(state.data_key(&principal.tenant).await?))
    } else {
        Ok(None)
    }
}

/// A stored item back as a contact, its sealed values opened.
pub(super) async fn from_stored(
    state: &AppState,
    principal: &Principal,
    mut item: Item,
) -> Result<Contact, Error> {
    if sensitive::present(&item) {
        let key = state.data_key(&principal.tenant).await?;
        sensitive::open_item(&key, &principal.tenant, &mut item)?;
    }
    Ok(from_item(item)?)
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
fn lookup_key(principal: &Principal, partition: &str, value: &str, id: &str) -> Key {
    Key::new(principal.tenant.pk(partition), format!("{value}#{id}"))
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
    let old = before.map(|c| lookups(c, data_key)).unwrap_or_default();
    let new = after.map(|c| lookups(c, data_key)).unwrap_or_default();
    let id = before.or(after).map(|c| c.id.as_str()).unwrap_or_default();
    for (partition, value) in old.difference(&new) {
        writes.push(Write::Delete {
            key: lookup_key(principal, partition, value, id),
            condition: Condition::None,
        });
    }
    for (partition, value) in new.difference(&old) {
        writes.push(Write::Put {
            item: to_item(
                &lookup_key(principal, partition, value, id),
                &serde_json::json!({ "contact_id": id }),
            )?,
            condition: Condition::None,
        });
    }
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
    let mut item = to_item(&key(&principal.tenant, &contact.id), contact)?;
    if let Some(data_key) = data_key {
        sensitive::seal_item(data_key, &principal.tenant, &mut item);
    }
    records::index_by_owner(
        &mut item,
        &principal.tenant,
        RESOURCE,
        &contact.owner_id,
        &contact.id,
    );
    search::index_for_lists(&mut item, &principal.tenant, contact);
    if let Some(company) = &contact.company_id {
        item.insert(
            "gsi2pk".into(),
            Value::String(company_pk(&principal.tenant, company)),
        );
        item.insert("gsi2sk".into(), Value::String(contact.id.clone()));
    }
    Ok(item)
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
    principal.require(RESOURCE, Action::Create)?;
    principal.check_writable(RESOURCE, &input.fields_sent())?;
    let now = rfc3339(state.clock.now());
    let mut contact = Contact {
        id: writing.id.clone().unwrap_or_else(|| new_id(PREFIX)),
        name: input.name,
        emails: input.emails,
        phones: input.phones,
        company_name: input.company_name,
        company_id: input.company_id,
        title: input.title,
        address: input.address,
        tags: input.tags,
        owner_id: input.owner_id.unwrap_or_else(|| principal.user_id.clone()),
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
        created_by: principal.user_id.clone(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let mut errors = Errors::new();
    if let Some(consent) = input.consent {
        let changes = consent.into_iter().map(|(c, v)| (c, Some(v))).collect();
        apply_consent(
            &mut contact.consent,
            changes,
            &contact.created_at,
            &mut errors,
        );
    }
    let region = match writing.region.clone() {
        Some(region) => region,
        None => phone_region(state, principal).await?,
    };
    normalize_and_check(&mut contact, state.clock.now().date(), &region, &mut errors);
    if contact.owner_id != principal.user_id {
        check_owner(state, principal, RESOURCE, &contact.owner_id, &mut errors).await?;
    }
    check_company(state, principal, None, &contact, &mut errors).await?;
    let tenant = &principal.tenant;
    let defs = fields::prepare_with(
        state,
        tenant,
        RESOURCE,
        writing.definitions.as_deref(),
        &[&contact.id],
        principal.new_record_fields(),
        &mut contact.custom,
        &mut errors,
    )
    .await?;
    errors.finish().map_err(Error::Validation)?;
    let data_key = key_for(state, principal, &[&contact]).await?;
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "contact.created",
        RESOURCE,
        Some(&contact.id),
    )
    .with_changes(None, Some(&audited(data_key.as_ref(), &contact)));
    let mut writes = vec![Write::Put {
        item: to_stored(principal, &contact, data_key.as_ref())?,
        condition: Condition::NotExists,
    }];
    writes.extend(lookup_writes(
        principal,
        data_key.as_ref(),
        None,
        Some(&contact),
    )?);
    writes.extend(fields::unique_writes(
        tenant,
        RESOURCE,
        &defs,
        &contact.id,
        None,
        Some(&contact.custom),
        None,
    )?);
    writes.push(timeline::change(
        tenant,
        &contact.id,
        state.clock.now(),
        &entry,
    )?);
    writes.extend(entry.writes(tenant)?);
    if writing.dry_run {
        return show(principal, &defs, contact, false);
    }
    writes.extend(writing.extra);
    state.table.transact(writes).await?;
    show(principal, &defs, contact, false)
}

/// The contact `id` if it exists in the caller's tenant and `scope`.
pub(super) async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Contact, Error> {
    if !is_id(PREFIX, id) {
        return Err(not_found());
    }
    let item = state
        .table
        .get(&key(&principal.tenant, id))
        .await?
        .ok_or_else(not_found)?;
    let contact = from_stored(state, principal, item).await?;
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
) -> Result<View, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    if reveal {
        principal.require(RESOURCE, Action::Reveal)?;
    }
    let contact = load(state, principal, scope, id).await?;
    let masked = principal.permissions.masked_fields(RESOURCE);
    let fields: Vec<&str> = masked
        .iter()
        .map(String::as_str)
        .filter(|f| contact_has(&contact, f))
        .collect();
    if reveal && !fields.is_empty() {
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
            .transact(entry.writes(&principal.tenant)?)
            .await?;
    }
    let defs = definitions(state.table.as_ref(), &principal.tenant, RESOURCE).await?;
    show(principal, &defs, contact, reveal)
}

/// `contact` as the caller sees it: removed custom fields left out, field rules applied.
pub(super) fn show(
    principal: &Principal,
    defs: &Definitions,
    mut contact: Contact,
    reveal: bool,
) -> Result<View, Error> {
    contact.custom = defs.visible(&contact.custom);
    principal.view(RESOURCE, &contact, reveal)
}

/// Whether `field` of `contact` holds a value (only those are revealed).
fn contact_has(contact: &Contact, field: &str) -> bool {
    serde_json::to_value(contact)
        .ok()
        .and_then(|v| v.get(field).cloned())
        .is_some_and(|v| !(v.is_null() || v == Value::Array(vec![])))
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
    fn filter(
        &mut self,
        custom: BTreeMap<String, String>,
        defs: &Definitions,
    ) -> Result<Filter, Error> {
        let mut errors = Errors::new();
        let mut filter = Filter::new();
        if let Some(stage) = &self.lifecycle_stage
            && serde_json::from_value::<super::LifecycleStage>(Value::String(stage.clone()))
                .is_err()
        {
            errors.add("lifecycle_stage", "is not a lifecycle stage");
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
            (
                "company_id",
                "company_id",
                &["company_id"],
                self.company_id.take(),
            ),
            (
                "country",
                "address",
                &["address", "country"],
                self.country.take(),
            ),
            (
                "province",
                "address",
                &["address", "region"],
                self.province.take(),
            ),
            ("city", "address", &["address", "city"], self.city.take()),
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

/// A page of contacts: a search (with `q`, best match first unless sorted), a filtered
/// and sorted list, or an exact lookup.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    mut query: ContactQuery,
    custom: BTreeMap<String, String>,
) -> Result<ListPage<View>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    let params = ListParams {
        limit: query.limit,
        cursor: query.cursor.take(),
    };
    let limit = params.limit()?;
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
            return Err(Error::validation(
                "email",
                "look up by one of `email`, `phone` or `national_id` at a time",
            ));
        }
    };
    let defs = definitions(state.table.as_ref(), &principal.tenant, RESOURCE).await?;
    if let Some((field, value)) = lookup {
        return find_by(state, principal, &defs, scope, field, &value, limit).await;
    }
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
        |id| async move { in_reach(state, principal, scope, &id).await },
        |item| from_stored(state, principal, item),
    )
    .await?;
    let data = found
        .into_iter()
        .map(|c| show(principal, &defs, c, false))
        .collect::<Result<_, _>>()?;
    Ok(ListPage { data, next_cursor })
}

/// Contact `id` if it is in the caller's scope; `None` if it is not (or is gone).
pub(super) async fn in_reach(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Option<Contact>, Error> {
    match load(state, principal, scope, id).await {
        Ok(contact) => Ok(Some(contact)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
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
/// as it would be).
pub async fn update_with(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: ContactPatch,
    dry_run: bool,
) -> Result<View, Error> {
    let scope = principal.require(RESOURCE, Action::Update)?;
    principal.check_writable(RESOURCE, &patch.fields_sent())?;
    let region = phone_region(state, principal).await?;
    // The patch is applied to a fresh read on every attempt, so a concurrent change is
    // never overwritten: either both apply, or the client is told (412).
    let contact = write_on_version(&precondition, "contact", || async {
        let current = load(state, principal, scope, id).await?;
        let mut next = current.clone();
        let mut errors = Errors::new();
        patch
            .clone()
            .apply(&mut next, &rfc3339(state.clock.now()), &mut errors);
        normalize_and_check(&mut next, state.clock.now().date(), &region, &mut errors);
        if next.owner_id != current.owner_id {
            check_owner(state, principal, RESOURCE, &next.owner_id, &mut errors).await?;
        }
        check_company(state, principal, Some(&current), &next, &mut errors).await?;
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
        // An invalid change is reported as such whatever the version; a valid one is
        // applied only to the version the client saw.
        errors.finish().map_err(Error::Validation)?;
        precondition.check(current.version)?;
        if next == current {
            return Ok(Ok((current, defs)));
        }
        let now = state.clock.now();
        next.version = current.version + 1;
        next.updated_at = rfc3339(now);
        let data_key = key_for(state, principal, &[&current, &next]).await?;
        let entry = Entry::by(principal, now, "contact.updated", RESOURCE, Some(id)).with_changes(
            Some(&audited(data_key.as_ref(), &current)),
            Some(&audited(data_key.as_ref(), &next)),
        );
        let mut writes = vec![Write::Put {
            item: to_stored(principal, &next, data_key.as_ref())?,
            condition: Condition::VersionIs(current.version),
        }];
        writes.extend(lookup_writes(
            principal,
            data_key.as_ref(),
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
    show(principal, &contact.1, contact.0, false)
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
) -> Result<(), Error> {
    let scope = principal.require(RESOURCE, Action::Delete)?;
    // Changed (or deleted) meanwhile: look again; the next read tells which.
    write_on_version(&precondition, "contact", || async {
        let current = load(state, principal, scope, id).await?;
        precondition.check(current.version)?;
        let data_key = key_for(state, principal, &[&current]).await?;
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "contact.deleted",
            RESOURCE,
            Some(id),
        )
        .with_changes(Some(&audited(data_key.as_ref(), &current)), None);
        let mut writes = vec![Write::Delete {
            key: key(&principal.tenant, id),
            condition: Condition::VersionIs(current.version),
        }];
        writes.extend(lookup_writes(
            principal,
            data_key.as_ref(),
            Some(&current),
            None,
        )?);
        let defs = definitions(state.table.as_ref(), &principal.tenant, RESOURCE).await?;
        writes.extend(fields::unique_writes(
            &principal.tenant,
            RESOURCE,
            &defs,
            id,
            Some(&current.custom),
            None,
            None,
        )?);
        writes.extend(entry.writes(&principal.tenant)?);
        // Not while a merge holds it: its moves would point at a deleted contact.
        let check = writes.len();
        writes.push(super::merge::not_merging(&principal.tenant, id));
        match state.table.transact(writes).await {
            Err(crate::table::TableError::ConditionFailed { index }) if index == Some(check) => {
                Err(super::merge::held())
            }
            done => Ok(done),
        }
    })
    .await
}

/// Logs an activity (note, call, meeting, email) on contact `id`; needs `update` on it.
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

/// The timeline of contact `id`, newest first.
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
