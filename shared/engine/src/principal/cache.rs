//! Who a token's caller is, without reading it all again on every request.
//!
//! Authenticating a user reads their user record, their company, their session, the
//! company's roles and its teams; any of those can change at any moment (a deactivation,
//! a role edited, a session ended), and the next request must see it. So the principal is
//! kept per session, with a stamp of the company's directory as it was read, and is used
//! only while the stamp still holds:
//! - Every write passes through [`Watched`], the table as the state sees it. A write to one
//!   of the partitions that decide a principal ([`WATCHED`]) moves the company's stamp.
//! - Where this process is the table's only writer (the embedded twin; the data directory
//!   is locked to one server), its own writes are all the changes there are: the stamp is
//!   a number in memory, and checking it reads nothing.
//! - Where other processes write too (DynamoDB, many Lambda instances), a changing write
//!   also puts a fresh stamp item in the same transaction, and each request reads that one
//!   item (strongly consistent, one read unit): a change made anywhere is seen by the next
//!   request everywhere.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::Value;

use crate::ids::TenantId;
use crate::principal::Principal;
use crate::table::{
    Condition, Item, Key, MAX_TRANSACTION_ITEMS, Page, Query, Table, TableError, Write,
};

/// The partitions a user's or an API key's principal is read from (`T#<tenant>#<name>`).
/// Custom field definitions are watched too, for what is kept per company
/// ([`Watched::value`]).
pub const WATCHED: [&str; 7] = [
    "tenant",
    "users",
    "roles",
    "teams",
    "sessions",
    "api-keys",
    "custom-fields",
];
/// The partition of the company's stamp item (not itself watched).
const STAMP_PARTITION: &str = "directory-stamp";
/// Most principals kept before the cache starts over.
const MAX_ENTRIES: usize = 10_000;

/// The table, watched for changes to who callers are, and the principals read from it.
pub struct Watched {
    inner: Arc<dyn Table>,
    /// Whether this process writes the table alone.
    alone: bool,
    /// Per company, how many watched writes this process has committed (shared by the
    /// states of one process on one table, as the local server's second instance in tests).
    counts: Arc<Mutex<HashMap<String, u64>>>,
    /// Per session: the stamp the principal was read at, and the principal.
    entries: Mutex<HashMap<SessionKey, (Stamp, Principal)>>,
    /// Per API key (company and key id): the stamp it was read at, and what was read.
    keys: Mutex<HashMap<(String, String), (Stamp, KeptKey)>>,
    /// Per company and name: a value read from watched partitions (custom field
    /// definitions), with the stamp it was read at.
    values: Mutex<HashMap<(String, String), (Stamp, Kept)>>,
}

/// An API key's principal, with what each use must check again.
#[derive(Clone)]
pub struct KeptKey {
    pub principal: Principal,
    /// The hash the presented secret must match.
    pub secret_hash: String,
    /// When the key must be read again: it expires, or its last use is due to be
    /// recorded again.
    pub until: time::OffsetDateTime,
}

/// A value kept per company, of whatever type its reader keeps.
type Kept = Arc<dyn Any + Send + Sync>;

/// A session: its company, user and id.
type SessionKey = (String, String, String);

/// A company's directory as of one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    count: u64,
    /// The stamp item's value, where other processes write too.
    shared: Option<String>,
}

impl Watched {
    /// `inner`, watched. A table that is already watched is watched once: its writes are
    /// counted where the other state counts them, and its stamps are put once.
    pub fn new(inner: Arc<dyn Table>) -> Self {
        let (inner, counts) = match inner.as_any().and_then(|any| any.downcast_ref::<Watched>()) {
            Some(watched) => (watched.inner.clone(), watched.counts.clone()),
            None => (inner, Arc::default()),
        };
        Self {
            alone: inner.sole_writer(),
            inner,
            counts,
            entries: Mutex::default(),
            keys: Mutex::default(),
            values: Mutex::default(),
        }
    }

    /// The company `tenant`'s stamp now. Read it before reading what it guards: a change
    /// committed after the read moves it, so what was read is never kept under a stamp
    /// that outlived it.
    pub async fn stamp(&self, tenant: &TenantId) -> Result<Stamp, TableError> {
        let count = lock(&self.counts)
            .get(tenant.as_str())
            .copied()
            .unwrap_or(0);
        let shared = if self.alone {
            None
        } else {
            let item = self.inner.get(&stamp_key(tenant.as_str())).await?;
            Some(
                item.and_then(|i| i.get("stamp").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_default(),
            )
        };
        Ok(Stamp { count, shared })
    }

    /// The principal kept for `(tenant, user, session)`, if it was read at `stamp`.
    pub fn principal(
        &self,
        tenant: &TenantId,
        user_id: &str,
        session_id: &str,
        stamp: &Stamp,
    ) -> Option<Principal> {
        let entries = lock(&self.entries);
        let (at, principal) = entries.get(&entry_key(tenant, user_id, session_id))?;
        (at == stamp).then(|| principal.clone())
    }

    /// Keeps `principal`, read at `stamp`.
    pub fn keep(&self, stamp: Stamp, principal: &Principal) {
        let Some(session) = principal.session_id.as_deref() else {
            return;
        };
        let mut entries = lock(&self.entries);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            entry_key(&principal.tenant, &principal.user_id, session),
            (stamp, principal.clone()),
        );
    }

    /// What was kept of API key `id` of `tenant`, if it was read at `stamp`.
    pub fn key(&self, tenant: &TenantId, id: &str, stamp: &Stamp) -> Option<KeptKey> {
        let keys = lock(&self.keys);
        let (at, kept) = keys.get(&(tenant.as_str().to_owned(), id.to_owned()))?;
        (at == stamp).then(|| kept.clone())
    }

    /// Keeps what was read of API key `id` of `tenant` at `stamp`.
    pub fn keep_key(&self, stamp: Stamp, tenant: &TenantId, id: &str, kept: KeptKey) {
        let mut keys = lock(&self.keys);
        if keys.len() >= MAX_ENTRIES {
            keys.clear();
        }
        keys.insert((tenant.as_str().to_owned(), id.to_owned()), (stamp, kept));
    }

    /// The value `read` reads from watched partitions of `tenant`, kept as `name` while
    /// `stamp` (the request's, read before) holds. Without a stamp (work that runs later,
    /// not a request) it is read every time.
    pub async fn value<T, E, Fut>(
        &self,
        tenant: &TenantId,
        name: &str,
        stamp: Option<&Stamp>,
        read: impl FnOnce() -> Fut,
    ) -> Result<T, E>
    where
        T: Clone + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let Some(stamp) = stamp else {
            return read().await;
        };
        let key = (tenant.as_str().to_owned(), name.to_owned());
        let kept = lock(&self.values)
            .get(&key)
            .filter(|(at, _)| at == stamp)
            .and_then(|(_, value)| value.downcast_ref::<T>().cloned());
        if let Some(value) = kept {
            return Ok(value);
        }
        let value = read().await?;
        let mut values = lock(&self.values);
        if values.len() >= MAX_ENTRIES {
            values.clear();
        }
        values.insert(key, (stamp.clone(), Arc::new(value.clone())));
        Ok(value)
    }

    /// The companies whose watched partitions `writes` touch.
    fn touched(writes: &[Write]) -> Vec<String> {
        let mut tenants: Vec<String> = Vec::new();
        for write in writes {
            let pk = match write {
                Write::Put { item, .. } => item.get("pk").and_then(Value::as_str),
                Write::Delete { key, .. } => Some(key.pk.as_str()),
                Write::Check { .. } => None,
            };
            if let Some(tenant) = pk.and_then(watched_tenant)
                && !tenants.iter().any(|t| t == tenant)
            {
                tenants.push(tenant.to_owned());
            }
        }
        tenants
    }

    /// Counts a committed change of `tenants`' directories.
    fn moved(&self, tenants: &[String]) {
        let mut counts = lock(&self.counts);
        for tenant in tenants {
            *counts.entry(tenant.clone()).or_default() += 1;
        }
    }

    /// Commits `writes`, with fresh stamp items for the companies whose directories they
    /// change where other processes read them. `single` marks a lone put or delete, whose
    /// failed condition names no write.
    async fn commit(&self, mut writes: Vec<Write>, single: bool) -> Result<(), TableError> {
        let tenants = Self::touched(&writes);
        if tenants.is_empty() {
            return self.pass(writes, single).await;
        }
        let result = if self.alone {
            self.pass(writes, single).await
        } else {
            let stamps: Vec<Write> = tenants.iter().map(|t| fresh_stamp(t)).collect();
            if writes.len() + stamps.len() <= MAX_TRANSACTION_ITEMS {
                let own = writes.len();
                writes.extend(stamps);
                match self.inner.transact(writes).await {
                    Err(TableError::ConditionFailed { index: Some(i) }) if single && i < own => {
                        Err(TableError::ConditionFailed { index: None })
                    }
                    other => other,
                }
            } else {
                // No room in the transaction: the stamps follow it at once (a reader may
                // see the change a moment before the stamp moves, and then sees both).
                self.inner.transact(writes).await?;
                for stamp in stamps {
                    self.inner.transact(vec![stamp]).await?;
                }
                Ok(())
            }
        };
        // Moved whatever the outcome: a write that failed to answer may still have
        // committed, and reading again is always safe.
        self.moved(&tenants);
        result
    }

    async fn pass(&self, mut writes: Vec<Write>, single: bool) -> Result<(), TableError> {
        if single && writes.len() == 1 {
            match writes.remove(0) {
                Write::Put { item, condition } => self.inner.put(item, condition).await,
                Write::Delete { key, condition } => self.inner.delete(&key, condition).await,
                check @ Write::Check { .. } => self.inner.transact(vec![check]).await,
            }
        } else {
            self.inner.transact(writes).await
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn entry_key(tenant: &TenantId, user_id: &str, session_id: &str) -> SessionKey {
    (
        tenant.as_str().to_owned(),
        user_id.to_owned(),
        session_id.to_owned(),
    )
}

/// The tenant of partition `pk` when it is one of [`WATCHED`].
fn watched_tenant(pk: &str) -> Option<&str> {
    let rest = pk.strip_prefix("T#")?;
    let (tenant, name) = rest.split_once('#')?;
    WATCHED.contains(&name).then_some(tenant)
}

fn stamp_key(tenant: &str) -> Key {
    Key::new(format!("T#{tenant}#{STAMP_PARTITION}"), "stamp")
}

fn fresh_stamp(tenant: &str) -> Write {
    let key = stamp_key(tenant);
    let mut item = Item::new();
    item.insert("pk".into(), Value::String(key.pk));
    item.insert("sk".into(), Value::String(key.sk));
    item.insert("stamp".into(), Value::String(ulid::Ulid::new().to_string()));
    Write::Put {
        item,
        condition: Condition::None,
    }
}

#[async_trait]
impl Table for Watched {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        self.inner.get(key).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        self.commit(vec![Write::Put { item, condition }], true)
            .await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        let key = key.clone();
        self.commit(vec![Write::Delete { key, condition }], true)
            .await
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        self.inner.query(query).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        self.commit(writes, false).await
    }

    async fn expire(&self, now: i64) -> Result<usize, TableError> {
        let removed = self.inner.expire(now).await?;
        if removed > 0 {
            // An expired session may be among them.
            lock(&self.entries).clear();
        }
        Ok(removed)
    }

    fn sole_writer(&self) -> bool {
        self.alone
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_partitions_a_principal_is_read_from_are_watched() {
        assert_eq!(watched_tenant("T#ten_1#users"), Some("ten_1"));
        assert_eq!(watched_tenant("T#ten_1#sessions"), Some("ten_1"));
        assert_eq!(watched_tenant("T#ten_1#contacts"), None);
        assert_eq!(watched_tenant("T#ten_1#user-sessions#usr_1"), None);
        assert_eq!(watched_tenant("T#ten_1#directory-stamp"), None);
        assert_eq!(watched_tenant("G#outbox"), None);
    }
}
