//! The record engine: what every kind of business record does alike, written once.
//!
//! A [`Kind`] (contacts, companies, each custom object of a tenant) says only what is its
//! own: how a record is built from a request and patched, its checks, how it is stored,
//! and what else a change of it writes. The engine does the rest, the same way for all:
//! the caller's permission and record scope, the field rules on what is written and on
//! what is shown, custom fields with their unique values, versions and `If-Match`, the
//! audit entry (with its event and outbox marker), the search terms and sort keys, and
//! the timeline entry, all in the one transaction of the change.

use std::collections::BTreeMap;
use std::future::Future;

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::fields::{self, Definitions};
use crate::ids::{TenantId, is_id, new_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope, View};
use crate::principal::Principal;
use crate::records::{Writing, check_owner, index_by_owner, phone_region};
use crate::search::{self, Filter, Indexed, ListRequest};
use crate::table::{Condition, Item, Key, TableError, Write, from_item, to_item};
use crate::timeline::{self, NewActivity, TimelineEntry};
use crate::validation::Errors;
use crate::versioned::{Precondition, WRITE_ATTEMPTS, write_on_version};

/// The tenant's data key, which seals sensitive values.
pub type DataKey = Zeroizing<[u8; 32]>;

/// A business record as the engine handles it: owned, named, with a version, and (for
/// kinds with [`Kind::CUSTOM_FIELDS`]) custom values.
pub trait Record: Indexed + Clone + PartialEq + Send + Sync {
    /// The version it was read at.
    fn version(&self) -> u64;
    /// Marks it changed: `version`, changed at `at`.
    fn touch(&mut self, version: u64, at: String);
    /// Its custom values (`None` for a kind without custom fields).
    fn custom(&self) -> Option<&Map<String, Value>> {
        None
    }
    fn custom_mut(&mut self) -> Option<&mut Map<String, Value>> {
        None
    }
}

/// What a new record starts from: its id, its maker (also its owner unless the request
/// names one) and the time.
pub struct Fresh {
    pub id: String,
    pub user_id: String,
    pub now: String,
}

/// What checks may need beside the record.
pub struct Context {
    /// The region the company reads phone numbers in (read only for kinds with
    /// [`Kind::PHONES`]).
    pub region: String,
    pub today: time::Date,
    pub now: String,
}

/// One kind of business record: what is its own. Everything else is the engine's.
pub trait Kind: Send + Sync {
    type Record: Record;
    /// Its records' ids (a [`crate::ids::DealId`]): what a path names, refused before
    /// anything is read when malformed.
    type Id: serde::de::DeserializeOwned + AsRef<str> + Send + 'static;
    /// The body of a create request.
    type New: Send;
    /// The body of a merge patch.
    type Patch: Clone + Send + Sync;

    /// Whether its checks read phone numbers (and so need the company's region).
    const PHONES: bool = false;
    /// Whether it is found by search and listed in name and last-change order (its
    /// search terms and sort keys are kept).
    const SEARCHED: bool = true;
    /// Whether each change is put on its own timeline.
    const TIMELINE: bool = true;
    /// Whether the tenant can give it custom fields.
    const CUSTOM_FIELDS: bool = true;
    /// Whether its records have owners (record scope, the owner index, `assign`); the
    /// catalogue's products have none.
    const OWNED: bool = true;
    /// Whether the engine checks a new owner (an active user; `assign` for someone
    /// else). A ticket, owned by its assignee, checks its assignee itself.
    const OWNER_CHECKED: bool = true;

    /// The caller's scope for `action` (403 when their role does not allow it): the
    /// role's grant on [`Kind::resource`], unless the kind's access is another's (the
    /// catalogue follows orders and deals).
    fn access(&self, principal: &Principal, action: Action) -> Result<Scope, Error> {
        principal.require(self.resource(), action)
    }

    /// The resource roles grant and the audit log names (`contacts`, `objects/project`).
    fn resource(&self) -> &str;
    /// The noun of its audit actions and events (`contact`, a custom object's key).
    fn noun(&self) -> &str;
    /// Its ids' prefix.
    fn prefix(&self) -> &'static str;
    /// Where its custom field definitions are kept (`contacts`, a custom object's key).
    fn fields_of(&self) -> &str;
    fn key(&self, tenant: &TenantId, id: &str) -> Key;
    fn not_found(&self) -> Error;

    /// What must hold before anything else is looked at, once the caller's permission
    /// is known (a custom object must exist).
    fn open(
        &self,
        _state: &AppState,
        _principal: &Principal,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }

    /// The fields a create request sets, as role rules name them.
    fn sent_new(&self, input: &Self::New) -> Vec<String>;
    /// The fields a patch sets, as role rules name them.
    fn sent_patch(&self, patch: &Self::Patch) -> Vec<String>;
    /// A new record from a create request (checked after, by [`Kind::check`]); it may
    /// read what it is made from (an order's products).
    fn build(
        &self,
        state: &AppState,
        principal: &Principal,
        input: Self::New,
        fresh: Fresh,
        cx: &Context,
        errors: &mut Errors,
    ) -> impl Future<Output = Result<Self::Record, Error>> + Send;
    /// Applies a merge patch to the record as it is (checked after, by [`Kind::check`]);
    /// it may read what the change needs (an order's new lines' products), and gives the
    /// writes the patch itself takes (a team's round-robin turn), which go in the
    /// change's transaction and, racing others, are written again.
    fn apply(
        &self,
        state: &AppState,
        principal: &Principal,
        patch: Self::Patch,
        record: &mut Self::Record,
        cx: &Context,
        errors: &mut Errors,
    ) -> impl Future<Output = Result<Vec<Write>, Error>> + Send;
    /// Normalizes a new or changed record (`before` is how it was, when it is changed)
    /// and reports what is wrong with it.
    fn check(
        &self,
        before: Option<&Self::Record>,
        record: &mut Self::Record,
        cx: &Context,
        errors: &mut Errors,
    );
    /// The audit action (after the noun) of a change from `before` to `after`:
    /// `updated` unless the kind names some changes apart (a task `completed`).
    fn updated(&self, _before: &Self::Record, _after: &Self::Record) -> &'static str {
        "updated"
    }
    /// Checks that read other records (a link must point at one the caller can read);
    /// `before` is the record as it was, when it is changed.
    fn check_links(
        &self,
        _state: &AppState,
        _principal: &Principal,
        _defs: &Definitions,
        _before: Option<&Self::Record>,
        _after: &Self::Record,
        _errors: &mut Errors,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }

    /// Whether the record holds values sealed with the tenant's data key.
    fn has_sensitive(&self, _record: &Self::Record) -> bool {
        false
    }
    /// Whether a stored item holds sealed values.
    fn is_sealed(&self, _item: &Item) -> bool {
        false
    }
    /// Opens the sealed values of a stored item.
    fn unseal(&self, _key: &DataKey, _tenant: &TenantId, _item: &mut Item) -> Result<(), Error> {
        Ok(())
    }
    /// Seals the sensitive values of an item about to be stored.
    fn seal(&self, _key: &DataKey, _tenant: &TenantId, _item: &mut Item) {}
    /// The record as its audit entry keeps it (sensitive values as fingerprints).
    fn audited(&self, record: &Self::Record, _key: Option<&DataKey>) -> Value {
        serde_json::to_value(record).unwrap_or(Value::Null)
    }
    /// Index attributes of its own on the stored item (beside the owner and sort keys).
    fn index(&self, _tenant: &TenantId, _record: &Self::Record, _item: &mut Item) {}

    /// Settles what follows from the record's other values and needs reads (a deal's
    /// stage and status from its pipeline), once it is checked; `before` is how it was.
    fn settle(
        &self,
        _state: &AppState,
        _principal: &Principal,
        _before: Option<&Self::Record>,
        _record: &mut Self::Record,
        _cx: &Context,
        _errors: &mut Errors,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }

    /// What else a change writes in its transaction (lookup markers, link items, entries
    /// on related records' timelines, a deal's stage totals). A write of these whose
    /// condition fails is a race: the change is read and written again.
    fn writes(
        &self,
        _state: &AppState,
        _principal: &Principal,
        _change: &Change<'_, Self::Record>,
    ) -> impl Future<Output = Result<Vec<Write>, Error>> + Send {
        async { Ok(Vec::new()) }
    }

    /// What the change sends once it is committed (a resolved ticket's survey mail),
    /// with the writes that record it; nothing is sent if it does not commit.
    fn sends(
        &self,
        _state: &AppState,
        _principal: &Principal,
        _change: &Change<'_, Self::Record>,
    ) -> impl Future<Output = Result<(Vec<Write>, Option<Sequel>), Error>> + Send {
        async { Ok((Vec::new(), None)) }
    }

    /// A write that must hold for `action` on the record to happen, and the error when
    /// it does not (a custom object deleted meanwhile; a contact held by a merge; a
    /// partner's order made meanwhile).
    fn guard(
        &self,
        _tenant: &TenantId,
        _record: &Self::Record,
        _action: Action,
    ) -> Option<(Write, Error)> {
        None
    }

    /// What a new record is given from the tenant's shared state as it is written: a
    /// number from a sequence (an order's `SO-000042`), a team member's turn. Sets it on
    /// the record and gives the writes that take it, which race other new records (the
    /// engine then gives and writes it again).
    fn allot(
        &self,
        _state: &AppState,
        _principal: &Principal,
        _record: &mut Self::Record,
    ) -> impl Future<Output = Result<Vec<Write>, Error>> + Send {
        async { Ok(Vec::new()) }
    }

    /// Whether the record may be deleted (a company with contacts may not).
    fn may_delete(
        &self,
        _state: &AppState,
        _principal: &Principal,
        _record: &Self::Record,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        async { Ok(()) }
    }
}

/// What a change does once it is committed (see [`Kind::sends`]).
pub type Sequel = std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// One change of a record, as a kind's own writes see it.
pub struct Change<'a, R> {
    /// The record as it was (`None` when it is made).
    pub before: Option<&'a R>,
    /// The record as it will be (`None` when it is deleted).
    pub after: Option<&'a R>,
    /// Its audit entry.
    pub entry: &'a Entry,
    pub at: time::OffsetDateTime,
    pub defs: &'a Definitions,
    /// The tenant's data key, when the record holds sensitive values.
    pub key: Option<&'a DataKey>,
}

impl<R> Change<'_, R> {
    /// The record (as it will be, or as it was when deleted).
    pub fn record(&self) -> &R {
        self.after
            .or(self.before)
            .expect("a change has a record before or after")
    }
}

/// The caller's scope for `action` on `kind` (403 when their role does not allow it,
/// before anything about the records is looked up).
pub async fn open<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    action: Action,
) -> Result<Scope, Error> {
    let scope = kind.access(principal, action)?;
    kind.open(state, principal).await?;
    Ok(scope)
}

fn check_writable<K: Kind>(principal: &Principal, kind: &K, sent: &[String]) -> Result<(), Error> {
    let sent: Vec<&str> = sent.iter().map(String::as_str).collect();
    principal.check_writable(kind.resource(), &sent)
}

/// The tenant's data key when one of `records` holds sensitive values; no key-service
/// call otherwise.
pub async fn data_key<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    records: &[&K::Record],
) -> Result<Option<DataKey>, Error> {
    if records.iter().any(|r| kind.has_sensitive(r)) {
        Ok(Some(state.data_key(&principal.tenant).await?))
    } else {
        Ok(None)
    }
}

/// A stored item back as a record, its sealed values opened.
pub async fn from_stored<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    mut item: Item,
) -> Result<K::Record, Error> {
    if kind.is_sealed(&item) {
        let key = state.data_key(&principal.tenant).await?;
        kind.unseal(&key, &principal.tenant, &mut item)?;
    }
    Ok(from_item(item)?)
}

/// The item that stores `record`: its sensitive values sealed, with its owner index,
/// its sort keys and the kind's own index attributes.
pub fn to_stored<K: Kind>(
    tenant: &TenantId,
    kind: &K,
    record: &K::Record,
    key: Option<&DataKey>,
) -> Result<Item, Error> {
    let mut item = to_item(&kind.key(tenant, record.id()), record)?;
    if let Some(key) = key {
        kind.seal(key, tenant, &mut item);
    }
    if K::OWNED {
        index_by_owner(
            &mut item,
            tenant,
            kind.resource(),
            record.owner_id(),
            record.id(),
        );
    }
    if K::SEARCHED {
        search::index_for_lists(&mut item, tenant, record);
    }
    kind.index(tenant, record, &mut item);
    Ok(item)
}

/// Everything a change writes beside the record itself: search terms, unique markers,
/// the kind's own writes (their place in the list is the range returned) and what it
/// sends (with the sequel to run once committed), the timeline entry and the audit entry
/// with its event.
pub async fn change_writes<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    change: &Change<'_, K::Record>,
) -> Result<(Vec<Write>, std::ops::Range<usize>, Option<Sequel>), Error> {
    let tenant = &principal.tenant;
    let (before, after) = (change.before, change.after);
    let record = change.record();
    let mut writes = Vec::new();
    if K::SEARCHED {
        writes.extend(search::index_writes(tenant, before, after)?);
    }
    writes.extend(fields::unique_writes(
        tenant,
        kind.fields_of(),
        change.defs,
        record.id(),
        before.and_then(Record::custom),
        after.and_then(Record::custom),
        None,
    )?);
    let start = writes.len();
    writes.extend(kind.writes(state, principal, change).await?);
    let (sent, sequel) = kind.sends(state, principal, change).await?;
    writes.extend(sent);
    let own = start..writes.len();
    if K::TIMELINE && after.is_some() {
        writes.push(timeline::change(
            tenant,
            record.id(),
            change.at,
            change.entry,
        )?);
    }
    writes.extend(change.entry.writes(tenant)?);
    Ok((writes, own, sequel))
}

/// The audit entry of `action` (`created`, `updated`, `deleted`) on a record going from
/// `before` to `after`.
pub fn entry<K: Kind>(
    principal: &Principal,
    kind: &K,
    key: Option<&DataKey>,
    at: time::OffsetDateTime,
    action: &str,
    (before, after): (Option<&K::Record>, Option<&K::Record>),
) -> Entry {
    let id = after.or(before).map(|r| r.id());
    Entry::by(
        principal,
        at,
        &format!("{}.{action}", kind.noun()),
        kind.resource(),
        id,
    )
    .with_changes(
        before.map(|r| kind.audited(r, key)).as_ref(),
        after.map(|r| kind.audited(r, key)).as_ref(),
    )
}

/// The company's phone region, for kinds that read phone numbers.
async fn region<K: Kind>(
    state: &AppState,
    principal: &Principal,
    known: Option<String>,
) -> Result<String, Error> {
    Ok(match known {
        Some(region) => region,
        None if K::PHONES => phone_region(state, principal).await?,
        None => String::new(),
    })
}

fn context(region: String, now: time::OffsetDateTime) -> Context {
    Context {
        region,
        today: now.date(),
        now: rfc3339(now),
    }
}

/// Checks `record`'s custom values against the kind's definitions (read unless
/// `known`), which it returns; no definitions for a kind without custom fields.
#[allow(clippy::too_many_arguments)]
async fn prepare<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    known: Option<&Definitions>,
    before: Option<&K::Record>,
    record: &mut K::Record,
    new_record: bool,
    errors: &mut Errors,
) -> Result<Definitions, Error> {
    if !K::CUSTOM_FIELDS {
        return Ok(Definitions::default());
    }
    let id = record.id().to_owned();
    let before = match (before, new_record) {
        (Some(before), _) => before.custom(),
        (None, true) => principal.new_record_fields(),
        (None, false) => None,
    };
    let Some(custom) = record.custom_mut() else {
        return Ok(Definitions::default());
    };
    let kept;
    let known = match known {
        Some(known) => known,
        None => {
            kept = definitions(state, principal, kind).await?;
            &kept
        }
    };
    fields::prepare_with(
        state,
        &principal.tenant,
        kind.fields_of(),
        Some(known),
        &[&id],
        before,
        custom,
        errors,
    )
    .await
}

/// `record` as the caller sees it: removed custom fields left out, field rules applied
/// (with `reveal`, masked fields in clear).
pub fn show<K: Kind>(
    principal: &Principal,
    kind: &K,
    defs: &Definitions,
    mut record: K::Record,
    reveal: bool,
) -> Result<View, Error> {
    if let Some(custom) = record.custom_mut() {
        *custom = defs.visible(custom);
    }
    principal.view(kind.resource(), &record, reveal)
}

/// Creates a record from `input` (with the id and extra writes `writing` gives, or as a
/// dry run that checks everything and writes nothing). An extra write whose condition
/// fails is a concurrent change (409 `concurrent-modification`).
pub async fn create<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    input: K::New,
    writing: Writing,
) -> Result<View, Error> {
    open(state, principal, kind, Action::Create).await?;
    check_writable(principal, kind, &kind.sent_new(&input))?;
    let cx = context(
        region::<K>(state, principal, writing.region.clone()).await?,
        state.clock.now(),
    );
    let fresh = Fresh {
        id: writing.id.unwrap_or_else(|| new_id(kind.prefix())),
        user_id: principal.user_id.clone(),
        now: cx.now.clone(),
    };
    let mut errors = Errors::new();
    let mut record = kind
        .build(state, principal, input, fresh, &cx, &mut errors)
        .await?;
    kind.check(None, &mut record, &cx, &mut errors);
    kind.settle(state, principal, None, &mut record, &cx, &mut errors)
        .await?;
    if K::OWNED && K::OWNER_CHECKED && record.owner_id() != principal.user_id {
        let owner = record.owner_id().to_owned();
        check_owner(state, principal, kind.resource(), &owner, &mut errors).await?;
    }
    let tenant = &principal.tenant;
    let known = writing.definitions.as_deref();
    let defs = prepare(
        state,
        principal,
        kind,
        known,
        None,
        &mut record,
        true,
        &mut errors,
    )
    .await?;
    kind.check_links(state, principal, &defs, None, &record, &mut errors)
        .await?;
    errors.finish().map_err(Error::Validation)?;
    if writing.dry_run {
        return show(principal, kind, &defs, record, false);
    }
    let now = state.clock.now();
    let key = data_key(state, principal, kind, &[&record]).await?;
    // Only the kind's own writes can race (a sequence's counter, a stage's totals): the
    // record is numbered and its writes read and written again.
    for _ in 0..WRITE_ATTEMPTS {
        let mut record = record.clone();
        let numbered = kind.allot(state, principal, &mut record).await?;
        let entry = entry(
            principal,
            kind,
            key.as_ref(),
            now,
            "created",
            (None, Some(&record)),
        );
        let guard = kind.guard(tenant, &record, Action::Create);
        let mut writes = vec![Write::Put {
            item: to_stored(tenant, kind, &record, key.as_ref())?,
            condition: Condition::NotExists,
        }];
        // The guard and the caller's extra writes come right after, so a failed
        // condition names them.
        let guard_at = guard.as_ref().map(|(write, _)| {
            writes.push(write.clone());
            writes.len() - 1
        });
        let extra = writes.len()..writes.len() + writing.extra.len();
        writes.extend(writing.extra.iter().cloned());
        let numbers = writes.len()..writes.len() + numbered.len();
        writes.extend(numbered);
        let change = Change {
            before: None,
            after: Some(&record),
            entry: &entry,
            at: now,
            defs: &defs,
            key: key.as_ref(),
        };
        let (more, own, sequel) = change_writes(state, principal, kind, &change).await?;
        let own = own.start + writes.len()..own.end + writes.len();
        writes.extend(more);
        let failed = match state.table.transact(writes).await {
            Ok(()) => {
                if let Some(sequel) = sequel {
                    sequel.await;
                }
                return show(principal, kind, &defs, record, false);
            }
            Err(TableError::ConditionFailed { index: Some(i) }) => i,
            Err(e) => return Err(e.into()),
        };
        return Err(match guard {
            Some((_, error)) if guard_at == Some(failed) => error,
            _ if own.contains(&failed) || numbers.contains(&failed) => continue,
            _ if extra.contains(&failed) => Error::conflict(
                "concurrent-modification",
                "The record was made at the same time by another request; retry.",
            ),
            _ if defs.fields.iter().any(|f| f.unique) => Error::conflict(
                "unique-value-taken",
                "Another record took one of this record's unique values at the same time; retry.",
            ),
            _ => TableError::ConditionFailed {
                index: Some(failed),
            }
            .into(),
        });
    }
    let noun = kind.noun();
    Err(Error::conflict(
        "concurrent-modification",
        format!("The {noun} is being changed by many requests at once; please retry."),
    ))
}

/// Record `id` if it exists in the caller's tenant and `scope` reaches it; otherwise
/// not found (another tenant's id, a malformed one and one out of scope look alike).
pub async fn load<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    scope: Scope,
    id: &str,
) -> Result<K::Record, Error> {
    if !is_id(kind.prefix(), id) {
        return Err(kind.not_found());
    }
    let item = state
        .table
        .get(&kind.key(&principal.tenant, id))
        .await?
        .ok_or_else(|| kind.not_found())?;
    let record = from_stored(state, principal, kind, item).await?;
    if K::OWNED && !principal.reaches(scope, record.owner_id()) {
        return Err(kind.not_found());
    }
    Ok(record)
}

/// [`load`], with `None` for a record out of reach (or gone).
pub async fn in_reach<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    scope: Scope,
    id: &str,
) -> Result<Option<K::Record>, Error> {
    match load(state, principal, kind, scope, id).await {
        Ok(record) => Ok(Some(record)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The caller's tenant's custom field definitions of `kind`.
pub async fn definitions<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
) -> Result<Definitions, Error> {
    if !K::CUSTOM_FIELDS {
        return Ok(Definitions::default());
    }
    let (tenant, object) = (&principal.tenant, kind.fields_of());
    // Kept per company while its directory stamp (which custom field changes move)
    // holds: most requests read no definitions at all.
    state
        .directory
        .value(
            tenant,
            &format!("custom-fields#{object}"),
            principal.stamp.as_ref(),
            || fields::service::definitions(state.table.as_ref(), tenant, object),
        )
        .await
}

/// Record `id`; with `reveal`, its masked fields in clear (needs `reveal`; audited as
/// `<noun>.revealed` with the fields shown, when any of them holds a value).
pub async fn get<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    id: &str,
    reveal: bool,
) -> Result<View, Error> {
    let scope = open(state, principal, kind, Action::Read).await?;
    if reveal {
        kind.access(principal, Action::Reveal)?;
    }
    let record = load(state, principal, kind, scope, id).await?;
    if reveal {
        let value = serde_json::to_value(&record).unwrap_or(Value::Null);
        let masked = principal.permissions.masked_fields(kind.resource());
        let fields: Vec<&str> = masked
            .iter()
            .map(String::as_str)
            .filter(|f| {
                value
                    .get(*f)
                    .is_some_and(|v| !(v.is_null() || *v == Value::Array(vec![])))
            })
            .collect();
        if !fields.is_empty() {
            let entry = Entry::by(
                principal,
                state.clock.now(),
                &format!("{}.revealed", kind.noun()),
                kind.resource(),
                Some(id),
            )
            .with_fields(&fields);
            state
                .table
                .transact(entry.writes(&principal.tenant)?)
                .await?;
        }
    }
    let defs = definitions(state, principal, kind).await?;
    show(principal, kind, &defs, record, reveal)
}

/// What every list of records takes: the page, the search words and the order.
#[derive(Debug, Default)]
pub struct Listing {
    pub params: ListParams,
    pub q: Option<String>,
    pub sort: Option<String>,
}

/// The filters every kind's list has: owner, and created and updated ranges.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Common {
    pub owner_id: Option<String>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub updated_after: Option<String>,
    pub updated_before: Option<String>,
}

impl Common {
    /// Adds these filters to `filter`.
    pub fn add(self, filter: &mut Filter, errors: &mut Errors) {
        filter.text("owner_id", "owner_id", &["owner_id"], self.owner_id, errors);
        filter.created(self.created_after, self.created_before, errors);
        filter.updated(self.updated_after, self.updated_before, errors);
    }
}

/// A page of records: a search (with `q`, best match first unless sorted) or a filtered,
/// sorted list (newest first by default). `filters` adds the kind's own filters to the
/// `cf[<field>]` ones in `custom` (a value, or a range for number, money and date
/// fields; a relation's value is the related record's id).
pub async fn list<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    listing: Listing,
    custom: BTreeMap<String, String>,
    filters: impl FnOnce(&mut Filter, &mut Errors),
) -> Result<ListPage<View>, Error> {
    let scope = open(state, principal, kind, Action::Read).await?;
    let defs = definitions(state, principal, kind).await?;
    let mut errors = Errors::new();
    let mut filter = Filter::new();
    filters(&mut filter, &mut errors);
    filter.custom(custom, &defs, &mut errors);
    errors.finish().map_err(Error::Validation)?;
    let request = ListRequest::new(
        principal,
        kind.resource(),
        listing.q.as_deref(),
        listing.sort.as_deref(),
        filter,
        defs.removed_keys(),
    )?;
    let (found, next_cursor) = search::page(
        state,
        principal,
        scope,
        &request,
        kind.prefix(),
        &listing.params,
        |id| async move { in_reach(state, principal, kind, scope, &id).await },
        |item| from_stored(state, principal, kind, item),
    )
    .await?;
    let data = found
        .into_iter()
        .map(|r| show(principal, kind, &defs, r, false))
        .collect::<Result<_, _>>()?;
    Ok(ListPage { data, next_cursor })
}

/// Applies a merge patch to record `id`, on the version `precondition` names (any when
/// it names none: a concurrent change is then re-read and both apply). With `dry_run`,
/// everything but the write (the answer shows the record as it would be).
pub async fn update<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    id: &str,
    precondition: Precondition,
    patch: K::Patch,
    dry_run: bool,
) -> Result<View, Error> {
    let scope = open(state, principal, kind, Action::Update).await?;
    check_writable(principal, kind, &kind.sent_patch(&patch))?;
    let region = region::<K>(state, principal, None).await?;
    let tenant = &principal.tenant;
    let (record, defs, sequel) = write_on_version(&precondition, kind.noun(), || async {
        let current = load(state, principal, kind, scope, id).await?;
        let now = state.clock.now();
        let cx = context(region.clone(), now);
        let mut next = current.clone();
        let mut errors = Errors::new();
        let taken = kind
            .apply(state, principal, patch.clone(), &mut next, &cx, &mut errors)
            .await?;
        kind.check(Some(&current), &mut next, &cx, &mut errors);
        kind.settle(
            state,
            principal,
            Some(&current),
            &mut next,
            &cx,
            &mut errors,
        )
        .await?;
        if K::OWNED && K::OWNER_CHECKED && next.owner_id() != current.owner_id() {
            let owner = next.owner_id().to_owned();
            check_owner(state, principal, kind.resource(), &owner, &mut errors).await?;
        }
        let defs = prepare(
            state,
            principal,
            kind,
            None,
            Some(&current),
            &mut next,
            false,
            &mut errors,
        )
        .await?;
        kind.check_links(state, principal, &defs, Some(&current), &next, &mut errors)
            .await?;
        // An invalid change is reported as such whatever the version; a valid one is
        // applied only to the version the client saw.
        errors.finish().map_err(Error::Validation)?;
        precondition.check(current.version())?;
        if next == current {
            return Ok(Ok((current, defs, None)));
        }
        next.touch(current.version() + 1, cx.now.clone());
        if dry_run {
            return Ok(Ok((next, defs, None)));
        }
        let key = data_key(state, principal, kind, &[&current, &next]).await?;
        let entry = entry(
            principal,
            kind,
            key.as_ref(),
            now,
            kind.updated(&current, &next),
            (Some(&current), Some(&next)),
        );
        let mut writes = vec![Write::Put {
            item: to_stored(tenant, kind, &next, key.as_ref())?,
            condition: Condition::VersionIs(current.version()),
        }];
        writes.extend(taken);
        let change = Change {
            before: Some(&current),
            after: Some(&next),
            entry: &entry,
            at: now,
            defs: &defs,
            key: key.as_ref(),
        };
        let (more, _, sequel) = change_writes(state, principal, kind, &change).await?;
        writes.extend(more);
        guarded(state, kind, tenant, &next, Action::Update, writes)
            .await
            .map(|done| done.map(|()| (next, defs, sequel)))
    })
    .await?;
    if let Some(sequel) = sequel {
        sequel.await;
    }
    show(principal, kind, &defs, record, false)
}

/// Commits `writes` with the kind's guard for `action`: its failure is the guard's
/// error; any other failed condition is left to the write loop (a race, retried).
async fn guarded<K: Kind>(
    state: &AppState,
    kind: &K,
    tenant: &TenantId,
    record: &K::Record,
    action: Action,
    mut writes: Vec<Write>,
) -> Result<Result<(), TableError>, Error> {
    let Some((guard, error)) = kind.guard(tenant, record, action) else {
        return Ok(state.table.transact(writes).await);
    };
    let at = writes.len();
    writes.push(guard);
    match state.table.transact(writes).await {
        Err(TableError::ConditionFailed { index }) if index == Some(at) => Err(error),
        done => Ok(done),
    }
}

/// Deletes record `id`, on the version `precondition` names.
pub async fn delete<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    id: &str,
    precondition: Precondition,
) -> Result<(), Error> {
    let scope = open(state, principal, kind, Action::Delete).await?;
    let tenant = &principal.tenant;
    // Changed (or deleted) meanwhile: look again; the next read tells which.
    write_on_version(&precondition, kind.noun(), || async {
        let current = load(state, principal, kind, scope, id).await?;
        precondition.check(current.version())?;
        kind.may_delete(state, principal, &current).await?;
        let defs = definitions(state, principal, kind).await?;
        let now = state.clock.now();
        let key = data_key(state, principal, kind, &[&current]).await?;
        let entry = entry(
            principal,
            kind,
            key.as_ref(),
            now,
            "deleted",
            (Some(&current), None),
        );
        let mut writes = vec![Write::Delete {
            key: kind.key(tenant, id),
            condition: Condition::VersionIs(current.version()),
        }];
        let change = Change {
            before: Some(&current),
            after: None,
            entry: &entry,
            at: now,
            defs: &defs,
            key: key.as_ref(),
        };
        writes.extend(change_writes(state, principal, kind, &change).await?.0);
        guarded(state, kind, tenant, &current, Action::Delete, writes).await
    })
    .await
}

/// Logs an activity (note, call, meeting, email) on record `id`; needs `update` on it.
pub async fn log_activity<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    id: &str,
    input: NewActivity,
) -> Result<TimelineEntry, Error> {
    let scope = open(state, principal, kind, Action::Update).await?;
    load(state, principal, kind, scope, id).await?;
    timeline::log(state, principal, kind.resource(), id, input).await
}

/// The timeline of record `id`, newest first.
pub async fn timeline<K: Kind>(
    state: &AppState,
    principal: &Principal,
    kind: &K,
    id: &str,
    params: ListParams,
) -> Result<ListPage<TimelineEntry>, Error> {
    let scope = open(state, principal, kind, Action::Read).await?;
    load(state, principal, kind, scope, id).await?;
    timeline::list(state, principal, kind.resource(), id, params).await
}

/// Implements [`Indexed`] for a record with the usual fields (`id`, `owner_id`,
/// `updated_at`), named by its field `$name` and found by that field's words (and by its
/// custom values, with `custom`).
#[macro_export]
macro_rules! indexed {
    ($record:ty, $resource:expr, $name:ident $(, $custom:ident)?) => {
        impl $crate::search::Indexed for $record {
            fn resource(&self) -> std::borrow::Cow<'_, str> {
                $resource.into()
            }

            fn id(&self) -> &str {
                &self.id
            }

            fn owner_id(&self) -> &str {
                &self.owner_id
            }

            fn name(&self) -> &str {
                &self.$name
            }

            fn updated_at(&self) -> &str {
                &self.updated_at
            }

            fn terms(&self) -> $crate::search::Terms {
                let mut terms = $crate::search::Terms::new();
                terms.text(stringify!($name), &self.$name);
                $(terms.custom(&self.$custom);)?
                terms
            }
        }
    };
}

/// Implements [`Record`] for a record with the usual fields (`version`, `updated_at`,
/// and `custom` when named).
#[macro_export]
macro_rules! versioned_record {
    ($record:ty $(, $custom:ident)?) => {
        impl $crate::engine::Record for $record {
            fn version(&self) -> u64 {
                self.version
            }

            fn touch(&mut self, version: u64, at: String) {
                self.version = version;
                self.updated_at = at;
            }

            $(
                fn custom(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
                    Some(&self.$custom)
                }

                fn custom_mut(
                    &mut self,
                ) -> Option<&mut serde_json::Map<String, serde_json::Value>> {
                    Some(&mut self.$custom)
                }
            )?
        }
    };
}
