//! What every owned business record (contacts, companies, and what follows) does alike:
//! the owner index that own-scope lists read, scoped lists with signed cursors, and the
//! optimistic write loop that never loses a concurrent change.

use std::future::Future;

use serde_json::Value;

use crate::AppState;
use crate::error::Error;
use crate::ids::TenantId;
use crate::paging::ListParams;
use crate::policy::Scope;
use crate::principal::Principal;
use crate::table::{Item, Query, query_filtered};
use crate::versioned::{Precondition, write_on_version};

/// Most table pages one list request reads while filtering by team.
const MAX_LIST_READS: usize = 10;

/// The index-1 partition of one owner's records of `resource`.
pub fn owner_pk(tenant: &TenantId, resource: &str, owner_id: &str) -> String {
    tenant.pk(&format!("{resource}#owner#{owner_id}"))
}

/// Puts `item` (a record of `resource` with `id`) in its owner's index partition.
pub fn index_by_owner(
    item: &mut Item,
    tenant: &TenantId,
    resource: &str,
    owner_id: &str,
    id: &str,
) {
    item.insert(
        "gsi1pk".into(),
        Value::String(owner_pk(tenant, resource, owner_id)),
    );
    item.insert("gsi1sk".into(), Value::String(id.to_owned()));
}

/// One page of `query` (newest first), keeping the records `scope` reaches; `list_id`
/// binds the cursors to this list.
pub async fn list_query(
    state: &AppState,
    principal: &Principal,
    query: Query,
    list_id: &str,
    scope: Scope,
    params: &ListParams,
) -> Result<(Vec<Item>, Option<String>), Error> {
    list_query_where(state, principal, query, list_id, scope, params, &|_| true).await
}

/// Whether the caller's `scope` reaches a stored record, by its `owner_id`.
pub fn reaches_item(principal: &Principal, scope: Scope, item: &Item) -> bool {
    let owner = item.get("owner_id").and_then(Value::as_str);
    owner.is_some_and(|o| principal.reaches(scope, o))
}

/// [`list_query`] of the items `keep` keeps too (a filter no index answers).
pub async fn list_query_where(
    state: &AppState,
    principal: &Principal,
    query: Query,
    list_id: &str,
    scope: Scope,
    params: &ListParams,
    keep: &(dyn Fn(&Item) -> bool + Sync),
) -> Result<(Vec<Item>, Option<String>), Error> {
    let limit = params.limit()?;
    let start = params
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(list_id, c))
        .transpose()?;
    let query = query.descending().limit(limit).start(start);
    let (items, next) = query_filtered(
        state.table.as_ref(),
        query,
        limit,
        MAX_LIST_READS,
        |item: &Item| reaches_item(principal, scope, item) && keep(item),
    )
    .await?;
    Ok((items, next.map(|n| state.cursors.encode(list_id, &n))))
}

/// One page of `query` as the client asked for it (`limit`, `cursor`): the items and the
/// cursor of the next page, bound to `list_id`.
pub async fn page(
    state: &AppState,
    query: Query,
    list_id: &str,
    params: &ListParams,
) -> Result<(Vec<Item>, Option<String>), Error> {
    let limit = params.limit()?;
    let start = params
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(list_id, c))
        .transpose()?;
    let page = state.table.query(&query.limit(limit).start(start)).await?;
    Ok((
        page.items,
        page.next.map(|n| state.cursors.encode(list_id, &n)),
    ))
}

/// How a service write is carried out: for imports, extra writes to commit in the same
/// transaction, or a dry run that checks everything and writes nothing.
#[derive(Debug, Default)]
pub struct Writing {
    /// The new record's id (so that `extra` can refer to it); a fresh one when `None`.
    pub id: Option<String>,
    pub extra: Vec<crate::table::Write>,
    pub dry_run: bool,
    /// What the caller already read for many writes alike (an import step): the
    /// tenant's phone region and the object's field definitions.
    pub region: Option<String>,
    pub definitions: Option<std::sync::Arc<crate::fields::Definitions>>,
}

/// Giving a record of `resource` an owner (other than the caller) needs `assign`, and the
/// owner must be an active user of the caller's tenant.
pub async fn check_owner(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    owner_id: &str,
    errors: &mut crate::validation::Errors,
) -> Result<(), Error> {
    principal.require(resource, crate::policy::Action::Assign)?;
    if owner_id == principal.user_id {
        return Ok(());
    }
    let active = crate::ids::is_id(crate::ids::UserId::PREFIX, owner_id)
        && crate::directory::get_user(state.table.as_ref(), &principal.tenant, owner_id)
            .await?
            .is_some_and(|u| u.status == crate::directory::Status::Active);
    if !active {
        errors.add("owner_id", "is not an active user of this company");
    }
    Ok(())
}

/// The region the caller's company reads phone numbers in.
pub async fn phone_region(state: &AppState, principal: &Principal) -> Result<String, Error> {
    // The company's profile is watched: kept while the request's stamp holds.
    let tenant = &principal.tenant;
    state
        .directory
        .value(
            tenant,
            "default-region",
            principal.stamp.as_ref(),
            || async {
                Ok(crate::directory::get_tenant(state.table.as_ref(), tenant)
                    .await?
                    .map_or_else(crate::directory::default_region, |t| t.default_region))
            },
        )
        .await
}

/// A record of a tenant with an owner (for record scope).
pub trait Owned: serde::de::DeserializeOwned {
    fn owner_id(&self) -> &str;
}

/// Record `id` (with `prefix`) at `key`, if it exists and `scope` reaches its owner;
/// otherwise `not_found` (another tenant's id, a malformed one and one out of scope all
/// look alike).
pub async fn load_owned<T: Owned>(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    (prefix, id): (&str, &str),
    key: crate::table::Key,
    not_found: fn() -> Error,
) -> Result<T, Error> {
    if !crate::ids::is_id(prefix, id) {
        return Err(not_found());
    }
    let item = state.table.get(&key).await?.ok_or_else(not_found)?;
    let record: T = crate::table::from_item(item)?;
    if !principal.reaches(scope, record.owner_id()) {
        return Err(not_found());
    }
    Ok(record)
}

/// The link items of record `id` (named `field` in them) that change when its links go
/// from `old` to `new`: each link `(resource, record)` is an item `id` in the partition
/// `partition(resource, record)`, so the linked record lists what links to it.
pub fn link_writes(
    partition: impl Fn(&str, &str) -> String,
    (field, id): (&str, &str),
    old: &[(&str, &str)],
    new: &[(&str, &str)],
) -> Result<Vec<crate::table::Write>, Error> {
    use crate::table::{Condition, Key, Write, to_item};
    let mut writes = Vec::new();
    for link in old.iter().filter(|l| !new.contains(l)) {
        writes.push(Write::Delete {
            key: Key::new(partition(link.0, link.1), id),
            condition: Condition::None,
        });
    }
    for link in new.iter().filter(|l| !old.contains(l)) {
        writes.push(Write::Put {
            item: to_item(
                &Key::new(partition(link.0, link.1), id),
                &serde_json::json!({ field: id }),
            )?,
            condition: Condition::None,
        });
    }
    Ok(writes)
}

/// Calls `move_one` with the id (named `field`) of every link item in `partition` until
/// none is left: each call must remove its link (by moving the record elsewhere, or
/// dropping a stale link). Used when records merge. Returns how many moved.
pub async fn drain_links<F, Fut>(
    state: &AppState,
    partition: String,
    field: &str,
    mut move_one: F,
) -> Result<usize, Error>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    let mut seen = std::collections::HashSet::new();
    loop {
        let page = state
            .table
            .query(&Query::partition(partition.clone()).limit(50))
            .await?;
        if page.items.is_empty() {
            return Ok(seen.len());
        }
        for link in page.items {
            let id = link
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if !seen.insert(id.clone()) {
                return Err(Error::Internal(format!(
                    "the link to {id} in {partition} was not moved"
                )));
            }
            move_one(id).await?;
        }
    }
}

/// A record that names a contact and a company (deals, orders, tasks), as a merge of
/// contacts or companies moves it from one to the other.
pub trait Relinked: Owned + Clone + PartialEq + serde::Serialize {
    /// `deal`, `order`, `task`: the noun of errors and of the audit action.
    const NOUN: &'static str;
    /// The resource the record is audited under.
    const RESOURCE: &'static str;
    fn key(tenant: &TenantId, id: &str) -> crate::table::Key;
    /// Its link to a record of `resource` (`contacts`, `companies`).
    fn link_mut(&mut self, resource: &str) -> Option<&mut Option<String>>;
    /// Marks it changed: its next version, changed at `now`.
    fn bump(&mut self, now: String);
    /// The version it was read at.
    fn version(&self) -> u64;
}

/// Moves every record of type `T` linked (through link items in `partition`, naming
/// the record in `field`) to `resource` record `from` over to `to`: each is rewritten
/// on its version with its audit entry; a stale link is dropped. `writes(current,
/// next)` gives the record's own writes (the record, its links, what it keeps current).
/// Repeatable, so an interrupted merge can run again. Returns how many moved.
pub async fn relink<T, F, Fut>(
    state: &AppState,
    principal: &Principal,
    (partition, field): (String, &str),
    (resource, from, to): (&str, &str, &str),
    writes: F,
) -> Result<usize, Error>
where
    T: Relinked,
    F: Fn(T, T) -> Fut,
    Fut: Future<Output = Result<Vec<crate::table::Write>, Error>>,
{
    use crate::table::{Condition, Key, from_item};
    let tenant = &principal.tenant;
    let writes = &writes;
    drain_links(state, partition.clone(), field, |id| {
        let stale = Key::new(partition.clone(), &id);
        async move {
            write_on_version(&Precondition::Any, T::NOUN, || async {
                let Some(item) = state.table.get(&T::key(tenant, &id)).await? else {
                    // A link left by a record deleted meanwhile goes.
                    return Ok(state.table.delete(&stale, Condition::None).await);
                };
                let current: T = from_item(item)?;
                let mut next = current.clone();
                if let Some(link) = next.link_mut(resource)
                    && link.as_deref() == Some(from)
                {
                    *link = Some(to.to_owned());
                }
                if next == current {
                    return Ok(state.table.delete(&stale, Condition::None).await);
                }
                let now = state.clock.now();
                next.bump(crate::clock::rfc3339(now));
                let action = format!("{}.updated", T::NOUN);
                let entry =
                    crate::audit::Entry::by(principal, now, &action, T::RESOURCE, Some(&id))
                        .with_changes(Some(&current), Some(&next));
                let mut all = writes(current, next).await?;
                all.extend(entry.writes(tenant)?);
                Ok(state.table.transact(all).await)
            })
            .await
        }
    })
    .await
}

/// How a record is stored, and its link items, for [`relink_plain`].
pub type Stored<T> = fn(&TenantId, &T) -> Result<Item, Error>;
pub type LinkWrites<T> =
    fn(&TenantId, Option<&T>, Option<&T>) -> Result<Vec<crate::table::Write>, Error>;

/// [`relink`] for records whose move rewrites only themselves (on their version) and
/// their link items (tasks, tickets, surveys).
pub async fn relink_plain<T: Relinked>(
    state: &AppState,
    principal: &Principal,
    at: (String, &str),
    change: (&str, &str, &str),
    (stored, links): (Stored<T>, LinkWrites<T>),
) -> Result<usize, Error> {
    use crate::table::{Condition, Write};
    let tenant = &principal.tenant;
    relink(
        state,
        principal,
        at,
        change,
        |current: T, next: T| async move {
            let mut writes = vec![Write::Put {
                item: stored(tenant, &next)?,
                condition: Condition::VersionIs(current.version()),
            }];
            writes.extend(links(tenant, Some(&current), Some(&next))?);
            Ok(writes)
        },
    )
    .await
}

/// One page of the records that link items in `partition` name (in `field`), newest
/// link first: each is read with `load` (out of scope or gone: left out) and kept if
/// `keep` accepts it. A record's linked deals, orders or tasks are few, so reading each
/// is cheap.
pub async fn linked_page<T, L, Fut>(
    state: &AppState,
    (partition, field): (String, &str),
    list_id: &str,
    params: &ListParams,
    load: L,
    keep: impl Fn(&T) -> bool,
) -> Result<(Vec<T>, Option<String>), Error>
where
    L: Fn(String) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let query = Query::partition(partition).descending();
    let (links, next) = page(state, query, list_id, params).await?;
    let mut found = Vec::new();
    for link in links {
        let Some(id) = link.get(field).and_then(Value::as_str) else {
            continue;
        };
        if let Ok(record) = load(id.to_owned()).await
            && keep(&record)
        {
            found.push(record);
        }
    }
    Ok((found, next))
}

/// A tenant's sequence (order numbers, ticket numbers): the last number given.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Counter {
    last: u64,
    #[serde(default)]
    version: u64,
}

/// The next number of the tenant's sequence `name`, with the write that takes it (on
/// the counter's version, so it goes in the new record's transaction and a race is
/// retried by `write_on_version`).
pub async fn next_number(
    state: &AppState,
    tenant: &TenantId,
    name: &str,
) -> Result<(u64, crate::table::Write), Error> {
    use crate::table::{Condition, Key, Write, from_item, to_item};
    let key = Key::new(tenant.pk("counters"), name);
    let counter: Counter = match state.table.get(&key).await? {
        Some(item) => from_item(item)?,
        None => Counter::default(),
    };
    let write = Write::Put {
        item: to_item(
            &key,
            &Counter {
                last: counter.last + 1,
                version: counter.version + 1,
            },
        )?,
        condition: Condition::at_version(counter.version),
    };
    Ok((counter.last + 1, write))
}
