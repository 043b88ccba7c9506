//! The `Table` port: a single key-value table with DynamoDB's semantics.
//!
//! Items are JSON objects with string keys `pk` and `sk`, optional generic index keys
//! (`gsi1pk`/`gsi1sk` ... `gsi4pk`/`gsi4sk`) and a numeric `version`. Both twins
//! ([`dynamo::DynamoTable`], [`sqlite::SqliteTable`]) must behave alike for everything
//! here; `tests/table_conformance.rs` holds them to it.

pub mod dynamo;
pub mod metered;
pub mod sqlite;

use async_trait::async_trait;
use serde_json::{Map, Value};

/// One stored item: a JSON object that carries its own keys.
pub type Item = Map<String, Value>;

/// DynamoDB's item size limit; the embedded twin enforces the same bound.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// DynamoDB's limit on the operations in one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// The primary key of an item.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key of an item, if it has string `pk` and `sk` attributes.
    pub fn of(item: &Item) -> Result<Self, TableError> {
        let get = |name: &str| {
            item.get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| TableError::Invalid(format!("item has no string `{name}`")))
        };
        Ok(Self {
            pk: get("pk")?,
            sk: get("sk")?,
        })
    }
}

/// A precondition on the item currently stored under a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// No precondition.
    None,
    /// No item is stored under the key (create, uniqueness markers).
    NotExists,
    /// Some item is stored under the key.
    Exists,
    /// The stored item exists and its `version` equals this (optimistic concurrency).
    VersionIs(u64),
}

impl Condition {
    /// The item is still as read at `version`, where 0 means none was stored (a
    /// counter or totals item written for the first time).
    pub fn at_version(version: u64) -> Self {
        if version == 0 {
            Condition::NotExists
        } else {
            Condition::VersionIs(version)
        }
    }

    /// Whether the condition holds for the item currently stored (if any).
    pub fn holds(&self, current: Option<&Item>) -> bool {
        match self {
            Condition::None => true,
            Condition::NotExists => current.is_none(),
            Condition::Exists => current.is_some(),
            Condition::VersionIs(v) => current.and_then(version_of) == Some(*v),
        }
    }
}

/// The `version` attribute of an item, if it has one.
pub fn version_of(item: &Item) -> Option<u64> {
    item.get("version").and_then(Value::as_u64)
}

/// Which index a query reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    Primary,
    Gsi1,
    Gsi2,
    Gsi3,
    Gsi4,
}

impl Index {
    /// The secondary indexes, in order.
    pub const SECONDARY: [Index; 4] = [Index::Gsi1, Index::Gsi2, Index::Gsi3, Index::Gsi4];

    /// The partition and sort key attribute names of the index.
    pub fn key_names(self) -> (&'static str, &'static str) {
        match self {
            Index::Primary => ("pk", "sk"),
            Index::Gsi1 => ("gsi1pk", "gsi1sk"),
            Index::Gsi2 => ("gsi2pk", "gsi2sk"),
            Index::Gsi3 => ("gsi3pk", "gsi3sk"),
            Index::Gsi4 => ("gsi4pk", "gsi4sk"),
        }
    }

    /// The DynamoDB index name (`None` for the base table).
    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Primary => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
            Index::Gsi3 => Some("gsi3"),
            Index::Gsi4 => Some("gsi4"),
        }
    }
}

/// A condition on the sort key of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortKey {
    Any,
    BeginsWith(String),
    /// Inclusive on both ends, like DynamoDB's `BETWEEN`.
    Between(String, String),
}

impl SortKey {
    pub fn matches(&self, sk: &str) -> bool {
        match self {
            SortKey::Any => true,
            SortKey::BeginsWith(p) => sk.starts_with(p.as_str()),
            SortKey::Between(a, b) => a.as_str() <= sk && sk <= b.as_str(),
        }
    }
}

/// Where a page starts: the key attributes of the last item of the previous page.
///
/// For the base table these are `pk`/`sk`; for an index, also the index's keys. It is an
/// internal value: the HTTP edge wraps it in a signed, opaque cursor.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StartKey(pub std::collections::BTreeMap<String, String>);

impl StartKey {
    /// The start key that resumes a query on `index` after `item`.
    pub fn after(index: Index, item: &Item) -> Result<Self, TableError> {
        let mut keys = std::collections::BTreeMap::new();
        let (ipk, isk) = index.key_names();
        for name in ["pk", "sk", ipk, isk] {
            let value = item
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| TableError::Invalid(format!("item has no string `{name}`")))?;
            keys.insert(name.to_owned(), value.to_owned());
        }
        Ok(Self(keys))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// A query of one partition of the table or of an index.
#[derive(Clone, Debug)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: SortKey,
    /// Newest (highest sort key) first when true.
    pub descending: bool,
    /// At most this many items per page (1..=1000).
    pub limit: usize,
    pub start: Option<StartKey>,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Self {
            index: Index::Primary,
            pk: pk.into(),
            sk: SortKey::Any,
            descending: false,
            limit: 100,
            start: None,
        }
    }

    pub fn on(mut self, index: Index) -> Self {
        self.index = index;
        self
    }

    pub fn sort_key(mut self, sk: SortKey) -> Self {
        self.sk = sk;
        self
    }

    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    pub fn start(mut self, start: Option<StartKey>) -> Self {
        self.start = start;
        self
    }

    /// Rejects a start key that does not belong to this query's partition: a cursor is
    /// only ever valid for the list it came from.
    pub fn check(&self) -> Result<(), TableError> {
        if self.limit == 0 || self.limit > 1000 {
            return Err(TableError::Invalid("query limit must be 1..=1000".into()));
        }
        if let Some(start) = &self.start {
            let (ipk, isk) = self.index.key_names();
            let ok = start.get(ipk) == Some(self.pk.as_str())
                && start.get("pk").is_some()
                && start.get("sk").is_some()
                && start.get(isk).is_some();
            if !ok {
                return Err(TableError::Invalid(
                    "start key does not belong to this query".into(),
                ));
            }
        }
        Ok(())
    }
}

/// One page of a query. `next` is set only when more items may follow.
#[derive(Clone, Debug, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<StartKey>,
}

impl Page {
    /// A page from `items` read with a limit of one more than `query.limit`: the extra
    /// item only tells that more follow, so `next` is never set on a last page.
    pub fn from_overfetch(mut items: Vec<Item>, query: &Query) -> Result<Self, TableError> {
        let next = if items.len() > query.limit {
            items.truncate(query.limit);
            items
                .last()
                .map(|last| StartKey::after(query.index, last))
                .transpose()?
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

/// One write of a transaction.
#[derive(Clone, Debug)]
pub enum Write {
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        key: Key,
        condition: Condition,
    },
    /// Writes nothing; fails the transaction unless the condition holds.
    Check {
        key: Key,
        condition: Condition,
    },
}

impl Write {
    pub fn key(&self) -> Result<Key, TableError> {
        match self {
            Write::Put { item, .. } => Key::of(item),
            Write::Delete { key, .. } | Write::Check { key, .. } => Ok(key.clone()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A condition did not hold. In a transaction, `index` names the failing write.
    #[error("condition failed (write {index:?})")]
    ConditionFailed { index: Option<usize> },
    /// Another transaction touched the same items at the same moment; safe to retry.
    #[error("transaction conflict")]
    Conflict,
    /// The request itself is invalid (missing keys, item too large, ...).
    #[error("invalid table request: {0}")]
    Invalid(String),
    /// The backend failed or could not be reached.
    #[error("table unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Table: Send + Sync {
    /// A strongly consistent read of one item.
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError>;
    /// Stores `item` (replacing any item with its key) if `condition` holds.
    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError>;
    /// Removes the item under `key` if `condition` holds; removing nothing is not an error.
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError>;
    /// One page of a partition, in sort-key order.
    async fn query(&self, query: &Query) -> Result<Page, TableError>;
    /// All writes or none: if any condition fails, nothing is written.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError>;
    /// Removes the items whose `ttl` (seconds since the epoch) is before `now`, as
    /// DynamoDB's TTL does by itself (so there this does nothing). Returns how many went.
    async fn expire(&self, now: i64) -> Result<usize, TableError> {
        let _ = now;
        Ok(0)
    }
    /// Whether every write to the table's storage goes through this value (and its
    /// clones) in this process: true for the embedded file, which one server holds
    /// locked; false for DynamoDB, which other processes write too.
    fn sole_writer(&self) -> bool {
        false
    }
    /// The table as a value of its own type, for a table that wraps another and must
    /// find out whether it would wrap itself twice.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// Checks what both twins reject before touching storage, so they reject it alike.
pub fn check_item(item: &Item) -> Result<Key, TableError> {
    let key = Key::of(item)?;
    for (pk, sk) in Index::SECONDARY.map(Index::key_names) {
        for name in [pk, sk] {
            if let Some(v) = item.get(name)
                && v.as_str().is_none_or(str::is_empty)
            {
                return Err(TableError::Invalid(format!(
                    "`{name}` must be a non-empty string"
                )));
            }
        }
    }
    let size = serde_json::to_vec(item)
        .map(|b| b.len())
        .unwrap_or(usize::MAX);
    if size > MAX_ITEM_BYTES {
        return Err(TableError::Invalid(format!(
            "item of {size} bytes exceeds the {MAX_ITEM_BYTES}-byte limit"
        )));
    }
    Ok(key)
}

/// Checks a transaction's shape: 1..=100 writes, each item valid, no key twice.
pub fn check_transaction(writes: &[Write]) -> Result<(), TableError> {
    if writes.is_empty() || writes.len() > MAX_TRANSACTION_ITEMS {
        return Err(TableError::Invalid(format!(
            "a transaction holds 1..={MAX_TRANSACTION_ITEMS} writes"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for write in writes {
        let key = match write {
            Write::Put { item, .. } => check_item(item)?,
            Write::Check {
                condition: Condition::None,
                ..
            } => return Err(TableError::Invalid("a check needs a condition".into())),
            other => other.key()?,
        };
        if !seen.insert(key) {
            return Err(TableError::Invalid(
                "a transaction may touch each item only once".into(),
            ));
        }
    }
    Ok(())
}

/// Reads `query` page after page and keeps the records `keep` accepts, until `limit` are
/// kept, the partition ends, or `max_reads` pages were read (so a filter that matches little
/// cannot make one request read a whole partition). Returns the kept records and where to
/// resume, `None` once the partition is exhausted.
pub async fn query_filtered<T: serde::de::DeserializeOwned>(
    table: &dyn Table,
    query: Query,
    limit: usize,
    max_reads: usize,
    keep: impl Fn(&T) -> bool,
) -> Result<(Vec<T>, Option<StartKey>), TableError> {
    let mut kept = Vec::new();
    let mut start = query.start.clone();
    for _ in 0..max_reads {
        let page = table.query(&query.clone().start(start.take())).await?;
        let count = page.items.len();
        for (i, item) in page.items.into_iter().enumerate() {
            let record: T = from_item(item.clone())?;
            if keep(&record) {
                kept.push(record);
                if kept.len() == limit {
                    let at_end = i + 1 == count && page.next.is_none();
                    let next = if at_end {
                        None
                    } else {
                        Some(StartKey::after(query.index, &item)?)
                    };
                    return Ok((kept, next));
                }
            }
        }
        match page.next {
            Some(next) => start = Some(next),
            None => return Ok((kept, None)),
        }
    }
    Ok((kept, start))
}

/// An item holding `record`'s fields under `key`.
pub fn to_item<T: serde::Serialize>(key: &Key, record: &T) -> Result<Item, TableError> {
    let mut item = match serde_json::to_value(record) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(TableError::Invalid("a record must be an object".into())),
        Err(e) => return Err(TableError::Invalid(e.to_string())),
    };
    item.insert("pk".into(), Value::String(key.pk.clone()));
    item.insert("sk".into(), Value::String(key.sk.clone()));
    Ok(item)
}

/// The record stored in `item` (key attributes and unknown attributes are ignored).
pub fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, TableError> {
    serde_json::from_value(Value::Object(item))
        .map_err(|e| TableError::Unavailable(format!("stored item has an unexpected shape: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Deserialize)]
    struct Row {
        n: u64,
    }

    #[tokio::test]
    async fn filtered_queries_fill_pages_and_end_without_an_empty_one() {
        let table = sqlite::SqliteTable::in_memory().unwrap();
        for n in 0..11u64 {
            let item = json!({"pk": "T#a#rows", "sk": format!("{n:02}"), "n": n});
            table
                .put(item.as_object().cloned().unwrap(), Condition::None)
                .await
                .unwrap();
        }
        let even = |r: &Row| r.n.is_multiple_of(2);
        let mut seen = Vec::new();
        let mut start = None;
        let mut pages = 0;
        loop {
            let query = Query::partition("T#a#rows").limit(2).start(start);
            let (rows, next) = query_filtered(&table, query, 2, 10, even).await.unwrap();
            pages += 1;
            seen.extend(rows.iter().map(|r| r.n));
            match next {
                Some(n) => start = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, [0, 2, 4, 6, 8, 10]);
        assert_eq!(
            pages, 3,
            "the page ending at the last item is the last page"
        );
        // A read budget stops a sparse filter early, with a cursor to go on from.
        let none = |_: &Row| false;
        let (rows, next) =
            query_filtered(&table, Query::partition("T#a#rows").limit(2), 2, 2, none)
                .await
                .unwrap();
        assert!(rows.is_empty());
        assert_eq!(next.unwrap().get("sk"), Some("03"));
    }
}
