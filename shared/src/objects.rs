//! Records of the tenant's custom objects (`/v1/objects/{key}/records`). A record has a
//! name, an owner and the values of its object's fields (in `custom`, checked like custom
//! fields of built-in objects, relations included). Everything else is what every owned
//! business record does: scope and field rules from the role's grant on `objects/<key>`,
//! versions and `If-Match`, the audit entry with its event and outbox marker, search terms
//! (Chinese substrings too), sorted lists with filters, and timeline entries on the record
//! and on the contacts, companies, deals and records it relates to.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::fields::objects::{self as definitions, RECORD_PREFIX, live_check, resource_of};
use crate::fields::{self, Definitions, Kind};
use crate::ids::{TenantId, is_id, new_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope, View, owner_of};
use crate::principal::Principal;
use crate::records::Writing;
use crate::records::{check_owner, index_by_owner};
use crate::search::{self, Filter, ListRequest, Terms};
use crate::table::{Condition, Item, Key, Write, from_item, to_item};
use crate::timeline::{self, NewActivity, TimelineEntry};
use crate::validation::Errors;
use crate::versioned::{Precondition, write_on_version};
use crate::wire::present;

/// A record of a custom object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// The key of its custom object.
    pub object: String,
    pub name: String,
    pub owner_id: String,
    /// The values of its object's fields, by key.
    #[serde(default)]
    pub custom: Map<String, Value>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl search::Indexed for Record {
    fn resource(&self) -> std::borrow::Cow<'_, str> {
        resource_of(&self.object).into()
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn owner_id(&self) -> &str {
        &self.owner_id
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }

    fn terms(&self) -> Terms {
        let mut terms = Terms::new();
        terms.text("name", &self.name);
        terms.custom(&self.custom);
        terms
    }
}

/// The body of `POST /v1/objects/{key}/records`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRecord {
    pub name: String,
    /// The caller when left out; someone else needs `assign`.
    pub owner_id: Option<String>,
    pub custom: Option<Map<String, Value>>,
}

/// The body of `PATCH /v1/objects/{key}/records/{id}` (a JSON merge patch: a custom value
/// set to `null` clears it).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordPatch {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub owner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub custom: Option<Option<Map<String, Value>>>,
}

/// The fields a write sets, as role rules name them: each custom value on its own.
fn fields_sent(name: bool, owner: bool, custom: Option<&Map<String, Value>>) -> Vec<String> {
    let mut sent = Vec::new();
    if name {
        sent.push("name".to_owned());
    }
    if owner {
        sent.push("owner_id".to_owned());
    }
    if let Some(custom) = custom {
        sent.push("custom".to_owned());
        sent.extend(custom.keys().map(|k| format!("custom.{k}")));
    }
    sent
}

fn check_writable(principal: &Principal, resource: &str, sent: &[String]) -> Result<(), Error> {
    let sent: Vec<&str> = sent.iter().map(String::as_str).collect();
    principal.check_writable(resource, &sent)
}

fn not_found() -> Error {
    Error::NotFound("No record of this object with this id.".into())
}

pub fn key(tenant: &TenantId, object: &str, id: &str) -> Key {
    Key::new(tenant.pk(&resource_of(object)), id)
}

fn to_stored(tenant: &TenantId, record: &Record) -> Result<Item, Error> {
    let mut item = to_item(&key(tenant, &record.object, &record.id), record)?;
    let resource = resource_of(&record.object);
    index_by_owner(&mut item, tenant, &resource, &record.owner_id, &record.id);
    search::index_for_lists(&mut item, tenant, record);
    Ok(item)
}

/// The caller's scope for `action` on the records of custom object `key` (403 when their
/// role does not allow it, before anything about the object is looked up, so another
/// company's object and one of the caller's own look alike), with the object's field
/// definitions (404 when the tenant has no such object).
async fn open(
    state: &AppState,
    principal: &Principal,
    key: &str,
    action: Action,
) -> Result<(String, Scope, Definitions), Error> {
    let resource = resource_of(key);
    let scope = principal.require(&resource, action)?;
    definitions::find(state, &principal.tenant, key).await?;
    let defs = fields::service::definitions(state.table.as_ref(), &principal.tenant, key).await?;
    Ok((resource, scope, defs))
}

impl crate::records::Owned for Record {
    fn owner_id(&self) -> &str {
        &self.owner_id
    }
}

async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    object: &str,
    id: &str,
) -> Result<Record, Error> {
    crate::records::load_owned(
        state,
        principal,
        scope,
        (RECORD_PREFIX, id),
        key(&principal.tenant, object, id),
        not_found,
    )
    .await
}

/// `record` as the caller sees it: removed fields left out, field rules applied.
fn show(principal: &Principal, defs: &Definitions, mut record: Record) -> Result<View, Error> {
    record.custom = defs.visible(&record.custom);
    principal.view(&resource_of(&record.object), &record, false)
}

fn check(record: &mut Record, errors: &mut Errors) {
    errors.text("name", &record.name, 1, 200);
    record.name = record.name.trim().to_owned();
}

/// The relations of `custom` (per the definitions): field key, target object, record id.
fn relations<'a>(
    defs: &'a Definitions,
    custom: &'a Map<String, Value>,
) -> Vec<(&'a str, &'a str, &'a str)> {
    defs.fields
        .iter()
        .filter(|f| f.kind == Kind::Relation && !f.removed)
        .filter_map(|f| {
            let id = custom.get(&f.key)?.as_str()?;
            Some((f.key.as_str(), f.target.as_deref()?, id))
        })
        .collect()
}

/// Reports each relation of `after` that changed from `before` and points at no record
/// the caller can read (another tenant's, a deleted one, or one out of their scope look
/// alike).
async fn check_relations(
    state: &AppState,
    principal: &Principal,
    defs: &Definitions,
    before: Option<&Map<String, Value>>,
    after: &Map<String, Value>,
    errors: &mut Errors,
) -> Result<(), Error> {
    let old: BTreeSet<_> = before
        .map(|b| relations(defs, b))
        .unwrap_or_default()
        .into_iter()
        .collect();
    for (field, target, id) in relations(defs, after) {
        // A malformed id was reported with the field's type.
        if old.contains(&(field, target, id)) || !is_id(fields::relation_prefix(Some(target)), id) {
            continue;
        }
        let resource = resource_of(target);
        let item = state
            .table
            .get(&Key::new(principal.tenant.pk(&resource), id))
            .await?;
        let readable = item.is_some_and(|item| {
            let owner = owner_of(&Value::Object(item.into_iter().collect()));
            principal.may_read(&resource, owner.as_deref())
        });
        if !readable {
            errors.add(format!("custom.{field}"), "is not a record you can see");
        }
    }
    Ok(())
}

/// The partition of the links from custom records to record `id` of `resource`, so that a
/// merge finds what names the merged record.
fn links_pk(tenant: &TenantId, resource: &str, id: &str) -> String {
    tenant.pk(&format!("object-links#{resource}#{id}"))
}

/// The link items that change when `record`'s relations go from `before` to `after`; a
/// link names the record as `<object>/<id>`.
fn link_writes(
    tenant: &TenantId,
    defs: &Definitions,
    before: Option<&Record>,
    after: Option<&Record>,
) -> Result<Vec<Write>, Error> {
    let Some(record) = after.or(before) else {
        return Ok(Vec::new());
    };
    let named = format!("{}/{}", record.object, record.id);
    let targets = |r: Option<&Record>| -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = r
            .map(|r| relations(defs, &r.custom))
            .unwrap_or_default()
            .into_iter()
            .map(|(_, target, id)| (resource_of(target), id.to_owned()))
            .collect();
        all.sort();
        all.dedup();
        all
    };
    let (old, new) = (targets(before), targets(after));
    let old: Vec<(&str, &str)> = old.iter().map(|(r, i)| (r.as_str(), i.as_str())).collect();
    let new: Vec<(&str, &str)> = new.iter().map(|(r, i)| (r.as_str(), i.as_str())).collect();
    crate::records::link_writes(
        |resource, id| links_pk(tenant, resource, id),
        ("record", &named),
        &old,
        &new,
    )
}

/// Moves every relation of a custom record to record `from` of `resource` (a merged
/// contact) over to `to`: each record is rewritten on its version with its audit entry,
/// its links and timeline entries; a stale link is dropped. Repeatable.
pub async fn relink(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    from: &str,
    to: &str,
) -> Result<usize, Error> {
    let tenant = &principal.tenant;
    let partition = links_pk(tenant, resource, from);
    crate::records::drain_links(state, partition.clone(), "record", |named| {
        let partition = partition.clone();
        async move {
            let stale = Key::new(partition, &named);
            let Some((object, id)) = named.split_once('/') else {
                return Ok(state.table.delete(&stale, Condition::None).await?);
            };
            let defs = fields::service::definitions(state.table.as_ref(), tenant, object).await?;
            write_on_version(&Precondition::Any, "record", || async {
                let Some(item) = state.table.get(&key(tenant, object, id)).await? else {
                    return Ok(state.table.delete(&stale, Condition::None).await);
                };
                let current: Record = from_item(item)?;
                let mut next = current.clone();
                for field in defs.fields.iter().filter(|f| {
                    f.kind == Kind::Relation
                        && f.target.as_deref().map(resource_of).as_deref() == Some(resource)
                }) {
                    if let Some(value) = next.custom.get_mut(&field.key)
                        && value.as_str() == Some(from)
                    {
                        *value = Value::String(to.to_owned());
                    }
                }
                if next == current {
                    return Ok(state.table.delete(&stale, Condition::None).await);
                }
                let now = state.clock.now();
                next.version = current.version + 1;
                next.updated_at = rfc3339(now);
                let entry = Entry::by(
                    principal,
                    now,
                    &format!("{object}.updated"),
                    &resource_of(object),
                    Some(id),
                )
                .with_changes(Some(&current), Some(&next));
                let mut writes = vec![Write::Put {
                    item: to_stored(tenant, &next)?,
                    condition: Condition::VersionIs(current.version),
                }];
                writes.extend(search::index_writes(tenant, Some(&current), Some(&next))?);
                writes.extend(link_writes(tenant, &defs, Some(&current), Some(&next))?);
                writes.extend(timeline_writes(
                    tenant,
                    &defs,
                    Some(&current),
                    Some(&next),
                    &entry,
                    now,
                )?);
                writes.extend(entry.writes(tenant)?);
                Ok(state.table.transact(writes).await)
            })
            .await
        }
    })
    .await
}

/// The writes that put a change of `record` (audited by `entry`) on its own timeline and
/// on those of the records it relates to, before or after.
fn timeline_writes(
    tenant: &TenantId,
    defs: &Definitions,
    before: Option<&Record>,
    after: Option<&Record>,
    entry: &Entry,
    at: time::OffsetDateTime,
) -> Result<Vec<Write>, Error> {
    let Some(record) = after.or(before) else {
        return Ok(Vec::new());
    };
    let mut writes = Vec::new();
    if after.is_some() {
        writes.push(timeline::change(tenant, &record.id, at, entry)?);
    }
    let related: BTreeSet<&str> = [before, after]
        .into_iter()
        .flatten()
        .flat_map(|r| relations(defs, &r.custom))
        .map(|(_, _, id)| id)
        .filter(|id| *id != record.id)
        .collect();
    for id in related {
        writes.push(timeline::related(tenant, id, at, entry, &record.name)?);
    }
    Ok(writes)
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    input: NewRecord,
) -> Result<View, Error> {
    create_with(state, principal, object_key, input, Writing::default()).await
}

/// [`create`], with the id and extra writes `writing` gives (a bulk upsert's external-id
/// marker). An extra write whose condition fails is a concurrent change (409
/// `concurrent-modification`).
pub async fn create_with(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    input: NewRecord,
    writing: Writing,
) -> Result<View, Error> {
    let dry_run = writing.dry_run;
    let (resource, _, _) = open(state, principal, object_key, Action::Create).await?;
    check_writable(
        principal,
        &resource,
        &fields_sent(true, input.owner_id.is_some(), input.custom.as_ref()),
    )?;
    let now = state.clock.now();
    let mut record = Record {
        id: writing.id.unwrap_or_else(|| new_id(RECORD_PREFIX)),
        object: object_key.to_owned(),
        name: input.name,
        owner_id: input.owner_id.unwrap_or_else(|| principal.user_id.clone()),
        custom: input.custom.unwrap_or_default(),
        created_by: principal.user_id.clone(),
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
        version: 1,
    };
    let tenant = &principal.tenant;
    let mut errors = Errors::new();
    check(&mut record, &mut errors);
    if record.owner_id != principal.user_id {
        check_owner(state, principal, &resource, &record.owner_id, &mut errors).await?;
    }
    let defs = fields::prepare(
        state,
        tenant,
        object_key,
        &[&record.id],
        principal.new_record_fields(),
        &mut record.custom,
        &mut errors,
    )
    .await?;
    check_relations(state, principal, &defs, None, &record.custom, &mut errors).await?;
    errors.finish().map_err(Error::Validation)?;
    if dry_run {
        // Checked as if made; nothing is written (an import's dry run).
        return show(principal, &defs, record);
    }
    let entry = Entry::by(
        principal,
        now,
        &format!("{object_key}.created"),
        &resource,
        Some(&record.id),
    )
    .with_changes(None, Some(&record));
    let mut writes = vec![
        Write::Put {
            item: to_stored(tenant, &record)?,
            condition: Condition::NotExists,
        },
        live_check(tenant, object_key),
    ];
    // The caller's extra writes come right after, so a failed condition names them.
    let extra = 2..2 + writing.extra.len();
    writes.extend(writing.extra);
    writes.extend(search::index_writes(tenant, None, Some(&record))?);
    writes.extend(fields::unique_writes(
        tenant,
        object_key,
        &defs,
        &record.id,
        None,
        Some(&record.custom),
        None,
    )?);
    writes.extend(link_writes(tenant, &defs, None, Some(&record))?);
    writes.extend(timeline_writes(
        tenant,
        &defs,
        None,
        Some(&record),
        &entry,
        now,
    )?);
    writes.extend(entry.writes(tenant)?);
    match state.table.transact(writes).await {
        Ok(()) => show(principal, &defs, record),
        // The object was deleted meanwhile (its marker is the second write).
        Err(crate::table::TableError::ConditionFailed { index: Some(1) }) => {
            Err(Error::NotFound("No custom object with this key.".into()))
        }
        Err(crate::table::TableError::ConditionFailed { index: Some(i) }) if extra.contains(&i) => {
            Err(Error::conflict(
                "concurrent-modification",
                "The record was made at the same time by another request; retry.",
            ))
        }
        Err(crate::table::TableError::ConditionFailed { .. }) => Err(Error::conflict(
            "unique-value-taken",
            "Another record took one of this record's unique values at the same time; retry.",
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    id: &str,
) -> Result<View, Error> {
    let (_, scope, defs) = open(state, principal, object_key, Action::Read).await?;
    let record = load(state, principal, scope, object_key, id).await?;
    show(principal, &defs, record)
}

/// `GET /v1/objects/{key}/records` parameters (and `cf[<field>]` filters beside them).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Words each matching the start of a word of the name or a text field (CJK text: any
    /// part of it).
    pub q: Option<String>,
    /// `name`, `created`, `updated`, `-` first for descending; newest first by default.
    pub sort: Option<String>,
    pub owner_id: Option<String>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub updated_after: Option<String>,
    pub updated_before: Option<String>,
}

/// A page of records: a search (with `q`, best match first unless sorted) or a filtered,
/// sorted list (newest first by default). `custom` holds the `cf[<field>]` filters: a
/// value, or a range for number, money and date fields; a relation's value is the id of
/// the related record, which makes the related list of a contact, company or deal.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    mut query: RecordQuery,
    custom: BTreeMap<String, String>,
) -> Result<ListPage<View>, Error> {
    let (resource, scope, defs) = open(state, principal, object_key, Action::Read).await?;
    let params = ListParams {
        limit: query.limit,
        cursor: query.cursor.take(),
    };
    let mut errors = Errors::new();
    let mut filter = Filter::new();
    filter.text(
        "owner_id",
        "owner_id",
        &["owner_id"],
        query.owner_id.take(),
        &mut errors,
    );
    filter.created(
        query.created_after.take(),
        query.created_before.take(),
        &mut errors,
    );
    filter.updated(
        query.updated_after.take(),
        query.updated_before.take(),
        &mut errors,
    );
    filter.custom(custom, &defs, &mut errors);
    errors.finish().map_err(Error::Validation)?;
    let request = ListRequest::new(
        principal,
        &resource,
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
        RECORD_PREFIX,
        &params,
        |id| async move {
            match load(state, principal, scope, object_key, &id).await {
                Ok(record) => Ok(Some(record)),
                Err(Error::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        },
        |item| async move { Ok(from_item::<Record>(item)?) },
    )
    .await?;
    let data = found
        .into_iter()
        .map(|r| show(principal, &defs, r))
        .collect::<Result<_, _>>()?;
    Ok(ListPage { data, next_cursor })
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    id: &str,
    precondition: Precondition,
    patch: RecordPatch,
) -> Result<View, Error> {
    let (resource, scope, _) = open(state, principal, object_key, Action::Update).await?;
    let custom_sent = patch.custom.as_ref().map(|c| c.clone().unwrap_or_default());
    check_writable(
        principal,
        &resource,
        &fields_sent(
            patch.name.is_some(),
            patch.owner_id.is_some(),
            custom_sent.as_ref(),
        ),
    )?;
    let tenant = &principal.tenant;
    let (record, defs) = write_on_version(&precondition, "record", || async {
        let current = load(state, principal, scope, object_key, id).await?;
        let mut next = current.clone();
        let mut errors = Errors::new();
        let patch = patch.clone();
        match patch.name {
            Some(Some(name)) => next.name = name,
            Some(None) => errors.add("name", "cannot be removed"),
            None => {}
        }
        match patch.owner_id {
            Some(Some(owner)) => next.owner_id = owner,
            Some(None) => errors.add("owner_id", "cannot be removed"),
            None => {}
        }
        if let Some(custom) = patch.custom {
            fields::merge(&mut next.custom, custom);
        }
        check(&mut next, &mut errors);
        if next.owner_id != current.owner_id {
            check_owner(state, principal, &resource, &next.owner_id, &mut errors).await?;
        }
        let defs = fields::prepare(
            state,
            tenant,
            object_key,
            &[id],
            Some(&current.custom),
            &mut next.custom,
            &mut errors,
        )
        .await?;
        check_relations(
            state,
            principal,
            &defs,
            Some(&current.custom),
            &next.custom,
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
        let entry = Entry::by(
            principal,
            now,
            &format!("{object_key}.updated"),
            &resource,
            Some(id),
        )
        .with_changes(Some(&current), Some(&next));
        let mut writes = vec![Write::Put {
            item: to_stored(tenant, &next)?,
            condition: Condition::VersionIs(current.version),
        }];
        writes.extend(search::index_writes(tenant, Some(&current), Some(&next))?);
        writes.extend(fields::unique_writes(
            tenant,
            object_key,
            &defs,
            id,
            Some(&current.custom),
            Some(&next.custom),
            None,
        )?);
        writes.extend(link_writes(tenant, &defs, Some(&current), Some(&next))?);
        writes.extend(timeline_writes(
            tenant,
            &defs,
            Some(&current),
            Some(&next),
            &entry,
            now,
        )?);
        writes.extend(entry.writes(tenant)?);
        Ok(state.table.transact(writes).await.map(|()| (next, defs)))
    })
    .await?;
    show(principal, &defs, record)
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    id: &str,
    precondition: Precondition,
) -> Result<(), Error> {
    let (resource, scope, defs) = open(state, principal, object_key, Action::Delete).await?;
    let tenant = &principal.tenant;
    write_on_version(&precondition, "record", || async {
        let current = load(state, principal, scope, object_key, id).await?;
        precondition.check(current.version)?;
        let now = state.clock.now();
        let entry = Entry::by(
            principal,
            now,
            &format!("{object_key}.deleted"),
            &resource,
            Some(id),
        )
        .with_changes(Some(&current), None);
        let mut writes = vec![Write::Delete {
            key: key(tenant, object_key, id),
            condition: Condition::VersionIs(current.version),
        }];
        writes.extend(search::index_writes(tenant, Some(&current), None)?);
        writes.extend(fields::unique_writes(
            tenant,
            object_key,
            &defs,
            id,
            Some(&current.custom),
            None,
            None,
        )?);
        writes.extend(link_writes(tenant, &defs, Some(&current), None)?);
        writes.extend(timeline_writes(
            tenant,
            &defs,
            Some(&current),
            None,
            &entry,
            now,
        )?);
        writes.extend(entry.writes(tenant)?);
        Ok(state.table.transact(writes).await)
    })
    .await
}

/// Logs an activity (note, call, meeting, email) on record `id`; needs `update` on it.
pub async fn log_activity(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    id: &str,
    input: NewActivity,
) -> Result<TimelineEntry, Error> {
    let (resource, scope, _) = open(state, principal, object_key, Action::Update).await?;
    load(state, principal, scope, object_key, id).await?;
    timeline::log(state, principal, &resource, id, input).await
}

/// The timeline of record `id`, newest first.
pub async fn timeline(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    id: &str,
    params: ListParams,
) -> Result<ListPage<TimelineEntry>, Error> {
    let (resource, scope, _) = open(state, principal, object_key, Action::Read).await?;
    load(state, principal, scope, object_key, id).await?;
    timeline::list(state, principal, &resource, id, params).await
}
