//! Search and lists of business records (contacts, companies, and what follows).
//!
//! - The search index: one item per term and record (`T#<t>#search#<resource>` /
//!   `<term>#<id>`), written in the record's own transaction, so a record is found by the
//!   very next request and a deleted one is not. A prefix search reads the terms that start
//!   with the query's longest word, in term order; every other condition is checked on the
//!   record itself.
//! - Sorted lists: records carry sort keys in secondary indexes (`gsi3` by name, `gsi4` by
//!   last change; creation order is the id order of the base partition), and filters are
//!   checked on each record read.
//!
//! Both keep to the caller's record scope and never match on a field the caller may not
//! see.

pub mod filter;

use std::collections::BTreeSet;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::terms;
pub use crate::terms::{Terms, query_words};
pub use filter::{Filter, ListOrder, Sort};

use crate::AppState;
use crate::error::Error;
use crate::ids::TenantId;
use crate::paging::ListParams;
use crate::principal::Principal;
use crate::table::{Condition, Index, Item, Key, Query, SortKey, StartKey, Write, to_item};

/// Most index entries one search request examines before answering with what it found
/// and a cursor to go on from, so a rare match cannot make a request read everything.
const MAX_EXAMINED: usize = 400;

/// A record kept in the search index and in the sorted lists.
pub trait Indexed: Serialize + DeserializeOwned {
    /// The resource name (`contacts`, `objects/project`), which also names its partitions.
    fn resource(&self) -> std::borrow::Cow<'_, str>;
    fn id(&self) -> &str;
    fn owner_id(&self) -> &str;
    fn name(&self) -> &str;
    fn updated_at(&self) -> &str;
    /// The terms the record is found by, most important first.
    fn terms(&self) -> Terms;
}

/// The partition of `resource`'s search index.
pub fn index_pk(tenant: &TenantId, resource: &str) -> String {
    tenant.pk(&format!("search#{resource}"))
}

fn entry_key(tenant: &TenantId, resource: &str, term: &str, id: &str) -> Key {
    Key::new(index_pk(tenant, resource), format!("{term}#{id}"))
}

/// The index writes that take a record from `before` to `after` (`None` when it is being
/// created or deleted): only the terms that changed are touched.
pub fn index_writes<T: Indexed>(
    tenant: &TenantId,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<Vec<Write>, Error> {
    let old = before.map(|r| r.terms().all()).unwrap_or_default();
    let new = after.map(|r| r.terms().all()).unwrap_or_default();
    let Some(record) = before.or(after) else {
        return Ok(Vec::new());
    };
    let (id, resource) = (record.id(), record.resource());
    let mut writes = Vec::new();
    for term in old.difference(&new) {
        writes.push(Write::Delete {
            key: entry_key(tenant, &resource, term, id),
            condition: Condition::None,
        });
    }
    // An entry is its key alone: the record's id ends its sort key.
    for term in new.difference(&old) {
        writes.push(Write::Put {
            item: to_item(
                &entry_key(tenant, &resource, term, id),
                &serde_json::json!({}),
            )?,
            condition: Condition::None,
        });
    }
    Ok(writes)
}

/// The sort keys of a stored record: `gsi3` orders by name, `gsi4` by last change.
pub fn index_for_lists<T: Indexed>(item: &mut Item, tenant: &TenantId, record: &T) {
    let name: String = terms::fold(record.name()).chars().take(64).collect();
    let resource = record.resource();
    item.insert(
        "gsi3pk".into(),
        Value::String(filter::sorted_pk(tenant, &resource, Sort::Name)),
    );
    item.insert(
        "gsi3sk".into(),
        Value::String(format!("{name}#{}", record.id())),
    );
    item.insert(
        "gsi4pk".into(),
        Value::String(filter::sorted_pk(tenant, &resource, Sort::Updated)),
    );
    item.insert(
        "gsi4sk".into(),
        Value::String(format!(
            "{}#{}",
            filter::time_key(record.updated_at()),
            record.id()
        )),
    );
}

/// The ids of the records of `resource` with the exact term `term` (an email address, a
/// phone number's digits), at most `limit`.
pub async fn exact(
    state: &AppState,
    tenant: &TenantId,
    resource: &str,
    term: &str,
    limit: usize,
) -> Result<Vec<String>, Error> {
    let page = state
        .table
        .query(
            &Query::partition(index_pk(tenant, resource))
                .sort_key(SortKey::BeginsWith(format!("{term}#")))
                .limit(limit),
        )
        .await?;
    Ok(page
        .items
        .iter()
        .filter_map(|i| {
            let sk = i.get("sk").and_then(Value::as_str)?;
            sk.rsplit_once('#').map(|(_, id)| id.to_owned())
        })
        .collect())
}

/// One page of the records of `T` that every word of the request's `words` finds (by prefix of a term
/// the caller may see), that `load` returns (it applies scope) and `keep` accepts, in
/// order of the matching term. A record found by several terms is returned once, at the
/// first of them. `load` gets an id and answers `None` for a record out of reach.
pub async fn search<T, L, Fut>(
    state: &AppState,
    principal: &Principal,
    request: &ListRequest,
    params: &ListParams,
    load: L,
    keep: impl Fn(&T) -> bool,
) -> Result<(Vec<T>, Option<String>), Error>
where
    T: Indexed,
    L: Fn(String) -> Fut,
    Fut: Future<Output = Result<Option<T>, Error>>,
{
    let (resource, hidden, words) = (&request.resource, &request.hidden, &request.words);
    let limit = params.limit()?;
    let Some(driver) = words.iter().max_by_key(|w| w.chars().count()) else {
        return Ok((Vec::new(), None));
    };
    let list_id = format!("{}/{resource}/search/{driver}", principal.tenant);
    let mut start = params
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(&list_id, c))
        .transpose()?;
    let mut kept = Vec::new();
    let mut examined = 0;
    loop {
        let query = Query::partition(index_pk(&principal.tenant, resource))
            .sort_key(SortKey::BeginsWith(driver.clone()))
            .limit(100)
            .start(start.take());
        let page = state.table.query(&query).await?;
        let count = page.items.len();
        for (i, entry) in page.items.iter().enumerate() {
            examined += 1;
            let at_end = i + 1 == count && page.next.is_none();
            let next = || -> Result<Option<StartKey>, Error> {
                if at_end {
                    Ok(None)
                } else {
                    Ok(Some(StartKey::after(Index::Primary, entry)?))
                }
            };
            if let Some(record) = found(entry, driver, words, hidden, &load).await?
                && keep(&record)
            {
                kept.push(record);
                if kept.len() == limit {
                    return Ok((kept, encode(state, &list_id, next()?)));
                }
            }
            if examined >= MAX_EXAMINED {
                return Ok((kept, encode(state, &list_id, next()?)));
            }
        }
        match page.next {
            Some(next) => start = Some(next),
            None => return Ok((kept, None)),
        }
    }
}

fn encode(state: &AppState, list_id: &str, start: Option<StartKey>) -> Option<String> {
    start.map(|s| state.cursors.encode(list_id, &s))
}

/// The record an index entry points at, if the entry is where the search should return
/// it: the record is in reach, every word matches a term the caller may see, and the
/// entry's term is the first such term for the driving word.
async fn found<T, L, Fut>(
    entry: &Item,
    driver: &str,
    words: &[String],
    hidden: &BTreeSet<String>,
    load: &L,
) -> Result<Option<T>, Error>
where
    T: Indexed,
    L: Fn(String) -> Fut,
    Fut: Future<Output = Result<Option<T>, Error>>,
{
    let Some((term, id)) = entry
        .get("sk")
        .and_then(Value::as_str)
        .and_then(|sk| sk.rsplit_once('#'))
    else {
        return Ok(None);
    };
    let Some(record) = load(id.to_owned()).await? else {
        return Ok(None);
    };
    let visible = record.terms().visible(hidden);
    let first = visible
        .range(driver.to_owned()..)
        .next()
        .filter(|t| t.starts_with(driver));
    if first.map(String::as_str) != Some(term) || !terms::matches_all(words, &visible) {
        return Ok(None);
    }
    Ok(Some(record))
}

/// What a list request asks for: search words (`q`), an order (`sort`) and a filter.
pub struct ListRequest {
    /// The records' resource (`contacts`, `objects/project`).
    pub resource: String,
    pub words: Vec<String>,
    pub order: ListOrder,
    /// Whether the order was asked for: a search without one comes best match first.
    pub sorted: bool,
    pub filter: Filter,
    /// The fields the caller may not search: those their role hides or masks, and
    /// removed custom fields (`custom.<key>`).
    pub hidden: BTreeSet<String>,
}

impl ListRequest {
    /// The request of `q`, `sort` and `filter`; 422 for an empty or over-long `q` or an
    /// unknown sort, 403 for a filter on a field the caller may not see. `removed` are
    /// the keys of removed custom fields.
    pub fn new(
        principal: &Principal,
        resource: &str,
        q: Option<&str>,
        sort: Option<&str>,
        filter: Filter,
        removed: impl IntoIterator<Item = String>,
    ) -> Result<Self, Error> {
        let words = match q {
            None => Vec::new(),
            Some(q) => {
                let words = query_words(q);
                if words.is_empty() || q.chars().count() > 200 {
                    return Err(Error::validation(
                        "q",
                        "must hold a word (letters or digits), at most 200 characters",
                    ));
                }
                words
            }
        };
        let order = ListOrder::parse(sort)?;
        if order.sort == Sort::Name {
            // An order by a masked name would spell it out, one position at a time.
            principal.check_filters(resource, &[("sort", "name", true)])?;
        }
        filter.check_visible(principal, resource)?;
        let mut hidden = principal.permissions.unsearchable_fields(resource);
        hidden.extend(removed.into_iter().map(|k| format!("custom.{k}")));
        Ok(Self {
            resource: resource.to_owned(),
            words,
            order,
            sorted: sort.is_some(),
            filter,
            hidden,
        })
    }
}

/// One page of the records of `T` the request asks for, in the caller's `scope`: a
/// search through the index when there are words and no order, else a sorted list read.
/// `load` reads one record by id (`None` out of reach); `open` turns a stored item into
/// its record.
#[allow(clippy::too_many_arguments)]
pub async fn page<T, L, LFut, O, OFut>(
    state: &AppState,
    principal: &Principal,
    scope: crate::policy::Scope,
    request: &ListRequest,
    id_prefix: &str,
    params: &ListParams,
    load: L,
    open: O,
) -> Result<(Vec<T>, Option<String>), Error>
where
    T: Indexed,
    L: Fn(String) -> LFut,
    LFut: Future<Output = Result<Option<T>, Error>>,
    O: Fn(Item) -> OFut,
    OFut: Future<Output = Result<T, Error>>,
{
    if !request.words.is_empty() && !request.sorted {
        let tenant = &principal.tenant;
        return search(state, principal, request, params, load, |record: &T| {
            // A search without a filter keeps every record found, without encoding it.
            request.filter.is_empty()
                || to_item(&Key::new(tenant.pk(&request.resource), record.id()), record)
                    .is_ok_and(|item| request.filter.matches(&item))
        })
        .await;
    }
    let (items, next) =
        filter::list::<T>(state, principal, scope, request, id_prefix, params).await?;
    let mut records = Vec::with_capacity(items.len());
    for item in items {
        records.push(open(item).await?);
    }
    Ok((records, next))
}
