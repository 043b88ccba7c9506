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
use crate::engine::{self, Common, Context, Fresh, Listing};
use crate::error::Error;
use crate::fields::objects::{self as definitions, RECORD_PREFIX, live_check, resource_of};
use crate::fields::{self, Definitions};
use crate::ids::{TenantId, is_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, View};
use crate::principal::Principal;
use crate::records::Writing;
use crate::search::{self, Terms};
use crate::table::{Condition, Key, Write, from_item};
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

/// The records of one custom object, as the record engine handles them.
pub struct Custom {
    key: String,
    resource: String,
}

impl Custom {
    pub fn new(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            resource: resource_of(key),
        }
    }
}

pub fn key(tenant: &TenantId, object: &str, id: &str) -> Key {
    Key::new(tenant.pk(&resource_of(object)), id)
}

crm_engine::versioned_record!(Record, custom);

impl engine::Kind for Custom {
    type Record = Record;
    type Id = crate::ids::RecordId;
    type New = NewRecord;
    type Patch = RecordPatch;

    fn resource(&self) -> &str {
        &self.resource
    }

    fn noun(&self) -> &str {
        &self.key
    }

    fn prefix(&self) -> &'static str {
        RECORD_PREFIX
    }

    fn fields_of(&self) -> &str {
        &self.key
    }

    fn key(&self, tenant: &TenantId, id: &str) -> Key {
        key(tenant, &self.key, id)
    }

    fn not_found(&self) -> Error {
        Error::NotFound("No record of this object with this id.".into())
    }

    /// 404 when the tenant has no such object (asked after the caller's permission, so
    /// another company's object and one of the caller's own look alike).
    async fn open(&self, state: &AppState, principal: &Principal) -> Result<(), Error> {
        definitions::find(state, &principal.tenant, &self.key).await?;
        Ok(())
    }

    fn sent_new(&self, input: &NewRecord) -> Vec<String> {
        fields_sent(true, input.owner_id.is_some(), input.custom.as_ref())
    }

    fn sent_patch(&self, patch: &RecordPatch) -> Vec<String> {
        let custom = patch.custom.as_ref().map(|c| c.clone().unwrap_or_default());
        fields_sent(
            patch.name.is_some(),
            patch.owner_id.is_some(),
            custom.as_ref(),
        )
    }

    async fn build(
        &self,
        _: &AppState,
        _: &Principal,
        input: NewRecord,
        fresh: Fresh,
        _: &Context,
        _: &mut Errors,
    ) -> Result<Record, Error> {
        Ok(Record {
            id: fresh.id,
            object: self.key.clone(),
            name: input.name,
            owner_id: input.owner_id.unwrap_or_else(|| fresh.user_id.clone()),
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
        patch: RecordPatch,
        record: &mut Record,
        _: &Context,
        errors: &mut Errors,
    ) -> Result<Vec<Write>, Error> {
        match patch.name {
            Some(Some(name)) => record.name = name,
            Some(None) => errors.add("name", "cannot be removed"),
            None => {}
        }
        match patch.owner_id {
            Some(Some(owner)) => record.owner_id = owner,
            Some(None) => errors.add("owner_id", "cannot be removed"),
            None => {}
        }
        if let Some(custom) = patch.custom {
            fields::merge(&mut record.custom, custom);
        }
        Ok(Vec::new())
    }

    fn check(&self, _: Option<&Record>, record: &mut Record, _: &Context, errors: &mut Errors) {
        errors.text("name", &record.name, 1, 200);
        record.name = record.name.trim().to_owned();
    }

    async fn check_links(
        &self,
        state: &AppState,
        principal: &Principal,
        defs: &Definitions,
        before: Option<&Record>,
        after: &Record,
        errors: &mut Errors,
    ) -> Result<(), Error> {
        check_relations(
            state,
            principal,
            defs,
            before.map(|r| &r.custom),
            &after.custom,
            errors,
        )
        .await
    }

    /// The link items of its relations, and the entries on related records' timelines.
    async fn writes(
        &self,
        _: &AppState,
        principal: &Principal,
        change: &engine::Change<'_, Record>,
    ) -> Result<Vec<Write>, Error> {
        let (tenant, defs) = (&principal.tenant, change.defs);
        let (before, after) = (change.before, change.after);
        let mut writes = link_writes(tenant, defs, before, after)?;
        writes.extend(related_writes(
            defs,
            tenant,
            before,
            after,
            change.entry,
            change.at,
        )?);
        Ok(writes)
    }

    /// A record is made only while its object exists (deleting an object with records
    /// is refused, and this keeps a record from slipping in meanwhile).
    fn guard(&self, tenant: &TenantId, _: &Record, action: Action) -> Option<(Write, Error)> {
        (action == Action::Create).then(|| {
            (
                live_check(tenant, &self.key),
                Error::NotFound("No custom object with this key.".into()),
            )
        })
    }
}

/// The relations of `custom` (per the definitions): field key, target object, record id.
fn relations<'a>(
    defs: &'a Definitions,
    custom: &'a Map<String, Value>,
) -> Vec<(&'a str, &'a str, &'a str)> {
    defs.fields
        .iter()
        .filter(|f| f.kind == fields::Kind::Relation && !f.removed)
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
        // One rule for every target, built-in or custom: the reader its area offers.
        let resource = resource_of(target);
        if !state
            .hooks
            .can_read(state, principal, &resource, id)
            .await?
        {
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
            let kind = Custom::new(object);
            let defs = fields::service::definitions(state.table.as_ref(), tenant, object).await?;
            write_on_version(&Precondition::Any, "record", || async {
                let Some(item) = state.table.get(&key(tenant, object, id)).await? else {
                    return Ok(state.table.delete(&stale, Condition::None).await);
                };
                let current: Record = from_item(item)?;
                let mut next = current.clone();
                for field in defs.fields.iter().filter(|f| {
                    f.kind == fields::Kind::Relation
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
                let change = (Some(&current), Some(&next));
                let entry = engine::entry(principal, &kind, None, now, "updated", change);
                let mut writes = vec![Write::Put {
                    item: engine::to_stored(tenant, &kind, &next, None)?,
                    condition: Condition::VersionIs(current.version),
                }];
                let change = engine::Change {
                    before: Some(&current),
                    after: Some(&next),
                    entry: &entry,
                    at: now,
                    defs: &defs,
                    key: None,
                };
                let (more, _, _) = engine::change_writes(state, principal, &kind, &change).await?;
                writes.extend(more);
                Ok(state.table.transact(writes).await)
            })
            .await
        }
    })
    .await
}

/// The writes that put a change of `record` (audited by `entry`) on the timelines of the
/// records it relates to, before or after.
fn related_writes(
    defs: &Definitions,
    tenant: &TenantId,
    before: Option<&Record>,
    after: Option<&Record>,
    entry: &Entry,
    at: time::OffsetDateTime,
) -> Result<Vec<Write>, Error> {
    let Some(record) = after.or(before) else {
        return Ok(Vec::new());
    };
    let related: BTreeSet<&str> = [before, after]
        .into_iter()
        .flatten()
        .flat_map(|r| relations(defs, &r.custom))
        .map(|(_, _, id)| id)
        .filter(|id| *id != record.id)
        .collect();
    related
        .into_iter()
        .map(|id| timeline::related(tenant, id, at, entry, &record.name))
        .collect()
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
    engine::create(state, principal, &Custom::new(object_key), input, writing).await
}

pub async fn get(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    id: &str,
) -> Result<View, Error> {
    engine::get(state, principal, &Custom::new(object_key), id, false).await
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
    query: RecordQuery,
    custom: BTreeMap<String, String>,
) -> Result<ListPage<View>, Error> {
    let listing = Listing {
        params: ListParams {
            limit: query.limit,
            cursor: query.cursor,
        },
        q: query.q,
        sort: query.sort,
    };
    let common = Common {
        owner_id: query.owner_id,
        created_after: query.created_after,
        created_before: query.created_before,
        updated_after: query.updated_after,
        updated_before: query.updated_before,
    };
    let kind = Custom::new(object_key);
    engine::list(
        state,
        principal,
        &kind,
        listing,
        custom,
        |filter, errors| common.add(filter, errors),
    )
    .await
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    id: &str,
    precondition: Precondition,
    patch: RecordPatch,
) -> Result<View, Error> {
    let kind = Custom::new(object_key);
    engine::update(state, principal, &kind, id, precondition, patch, false).await
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    id: &str,
    precondition: Precondition,
) -> Result<(), Error> {
    engine::delete(state, principal, &Custom::new(object_key), id, precondition).await
}

/// Logs an activity (note, call, meeting, email) on record `id`; needs `update` on it.
pub async fn log_activity(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    id: &str,
    input: NewActivity,
) -> Result<TimelineEntry, Error> {
    engine::log_activity(state, principal, &Custom::new(object_key), id, input).await
}

/// The timeline of record `id`, newest first.
pub async fn timeline(
    state: &AppState,
    principal: &Principal,
    object_key: &str,
    id: &str,
    params: ListParams,
) -> Result<ListPage<TimelineEntry>, Error> {
    engine::timeline(state, principal, &Custom::new(object_key), id, params).await
}
