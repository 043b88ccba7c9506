//! The embedded twin of the `Table` port: one SQLite file (WAL, full sync, group commit;
//! see docs/decisions.md) holding the same items, keys and sparse indexes as the
//! DynamoDB table.
//!
//! Strings compare by their UTF-8 bytes in SQLite's BINARY collation, as in DynamoDB, so
//! queries return items in the same order on both twins.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params_from_iter, types::Value as SqlValue};

use super::{
    Condition, Index, Item, Key, Page, Query, SortKey, Table, TableError, Write, check_item,
    check_transaction,
};

#[derive(Clone)]
pub struct SqliteTable {
    conn: Arc<Mutex<Connection>>,
    /// Connections that only read (a file table): in WAL mode they read the last commit
    /// while the writer works, so reads do not queue behind writes.
    readers: Arc<[Mutex<Connection>]>,
    next_reader: Arc<std::sync::atomic::AtomicUsize>,
    /// Writes waiting for the connection; whoever holds it next commits them all at once.
    waiting: Arc<Mutex<Vec<Pending>>>,
}

/// One write request (a transaction, or a single put or delete) waiting to be committed.
struct Pending {
    writes: Vec<Write>,
    /// A lone put or delete: its failed condition has no index in a transaction.
    single: bool,
    done: std::sync::mpsc::SyncSender<Result<(), TableError>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk     TEXT NOT NULL,
    sk     TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    gsi2pk TEXT,
    gsi2sk TEXT,
    gsi3pk TEXT,
    gsi3sk TEXT,
    gsi4pk TEXT,
    gsi4sk TEXT,
    body   TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL AND gsi1sk IS NOT NULL;
CREATE INDEX IF NOT EXISTS gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL AND gsi2sk IS NOT NULL;
CREATE INDEX IF NOT EXISTS gsi3 ON items (gsi3pk, gsi3sk, pk, sk) WHERE gsi3pk IS NOT NULL AND gsi3sk IS NOT NULL;
CREATE INDEX IF NOT EXISTS gsi4 ON items (gsi4pk, gsi4sk, pk, sk) WHERE gsi4pk IS NOT NULL AND gsi4sk IS NOT NULL;
CREATE INDEX IF NOT EXISTS ttl ON items (json_extract(body, '$.ttl')) WHERE json_extract(body, '$.ttl') IS NOT NULL;
";

/// Reader connections of a file table.
const READERS: usize = 2;
/// Page cache per connection, in KiB (negative, as SQLite takes it): the hot part of the
/// indexes stays in memory.
const CACHE_SIZE: i64 = -32768;

fn unavailable(e: impl std::fmt::Display) -> TableError {
    TableError::Unavailable(e.to_string())
}

impl SqliteTable {
    /// Opens (creating if needed) the table file at `path`.
    pub fn open(path: &Path) -> Result<Self, TableError> {
        // Owner-only from the first byte; SQLite gives its journals the file's mode.
        crate::private_files::touch(path).map_err(|e| TableError::Unavailable(e.to_string()))?;
        let conn = Connection::open(path).map_err(unavailable)?;
        let mut table = Self::init(conn)?;
        let readers = (0..READERS)
            .map(|_| {
                let conn = Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(unavailable)?;
                conn.busy_timeout(std::time::Duration::from_secs(5))
                    .map_err(unavailable)?;
                conn.pragma_update(None, "cache_size", CACHE_SIZE)
                    .map_err(unavailable)?;
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>, TableError>>()?;
        table.readers = readers.into();
        Ok(table)
    }

    /// A private in-memory table, for tests of code above the port.
    pub fn in_memory() -> Result<Self, TableError> {
        Self::init(Connection::open_in_memory().map_err(unavailable)?)
    }

    fn init(conn: Connection) -> Result<Self, TableError> {
        // WAL lets readers proceed during a write; FULL sync makes every committed
        // transaction survive a power cut, not just a process crash.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(unavailable)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(unavailable)?;
        conn.pragma_update(None, "cache_size", CACHE_SIZE)
            .map_err(unavailable)?;
        // A page rewritten by many commits is copied into the database file once per
        // checkpoint; a longer log (about 40 MB) copies hot pages less often.
        conn.pragma_update(None, "wal_autocheckpoint", 10000)
            .map_err(unavailable)?;
        migrate(&conn)?;
        conn.execute_batch(SCHEMA).map_err(unavailable)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            readers: Arc::new([]),
            next_reader: Arc::default(),
            waiting: Arc::default(),
        })
    }

    /// Commits `writes` atomically, together with whatever other writes are waiting
    /// (group commit). Each request still succeeds or fails on its own, as if committed
    /// alone in the order they arrived, but a busy table writes its shared pages and
    /// syncs its log once per group instead of once per request: that is what makes a
    /// large import fast without weakening durability (nothing is answered before the
    /// group's commit is on disk).
    async fn write(&self, writes: Vec<Write>, single: bool) -> Result<(), TableError> {
        let (done, result) = std::sync::mpsc::sync_channel(1);
        lock(&self.waiting).push(Pending {
            writes,
            single,
            done,
        });
        let (conn, waiting) = (self.conn.clone(), self.waiting.clone());
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&conn);
            let group = std::mem::take(&mut *lock(&waiting));
            // Empty when an earlier holder of the connection committed this request
            // with its own group; its result was sent before the connection was freed.
            if !group.is_empty() {
                commit_group(&mut conn, group);
            }
        })
        .await
        .map_err(unavailable)?;
        result
            .try_recv()
            .unwrap_or_else(|_| Err(unavailable("the write was abandoned")))
    }

    /// Runs the read `f` off the async runtime, on a reader connection if there are any.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, TableError> + Send + 'static,
    ) -> Result<T, TableError> {
        let (conn, readers) = (self.conn.clone(), self.readers.clone());
        let n = self
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::task::spawn_blocking(move || match readers.get(n % readers.len().max(1)) {
            Some(reader) => f(&lock(reader)),
            None => f(&lock(&conn)),
        })
        .await
        .map_err(unavailable)?
    }
}

/// A panic while holding a lock cannot leave a half-applied transaction (SQLite rolls it
/// back; a request's result is sent only after its commit), so a poisoned lock is safe
/// to reuse.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Commits `group` in one SQLite transaction, each request in its own savepoint so one
/// whose condition fails leaves no trace while the others stand; then answers each.
fn commit_group(conn: &mut Connection, group: Vec<Pending>) {
    let outcome = (|| {
        let mut tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        let mut results = Vec::with_capacity(group.len());
        for pending in &group {
            let savepoint = tx.savepoint().map_err(unavailable)?;
            let result = apply(&savepoint, &pending.writes, pending.single);
            if result.is_ok() {
                savepoint.commit().map_err(unavailable)?;
            } // else dropping the savepoint rolls back to it
            results.push(result);
        }
        tx.commit().map_err(unavailable)?;
        Ok::<_, TableError>(results)
    })();
    match outcome {
        Ok(results) => {
            for (pending, result) in group.into_iter().zip(results) {
                let _ = pending.done.send(result);
            }
        }
        // Nothing of the group was committed, so every request fails.
        Err(e) => {
            let detail = match e {
                TableError::Unavailable(detail) => detail,
                other => other.to_string(),
            };
            for pending in group {
                let _ = pending
                    .done
                    .send(Err(TableError::Unavailable(detail.clone())));
            }
        }
    }
}

/// Applies one request's writes, checking every condition before writing anything, as
/// DynamoDB does.
fn apply(conn: &Connection, writes: &[Write], single: bool) -> Result<(), TableError> {
    for (i, write) in writes.iter().enumerate() {
        let (key, condition) = match write {
            Write::Put { item, condition } => (Key::of(item)?, condition),
            Write::Delete { key, condition } | Write::Check { key, condition } => {
                (key.clone(), condition)
            }
        };
        check(conn, &key, condition, (!single).then_some(i))?;
    }
    for write in writes {
        match write {
            Write::Put { item, .. } => write_item(conn, item)?,
            Write::Delete { key, .. } => remove(conn, key)?,
            Write::Check { .. } => {}
        }
    }
    Ok(())
}

fn read(conn: &Connection, key: &Key) -> Result<Option<Item>, TableError> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM items WHERE pk = ?1 AND sk = ?2",
            [&key.pk, &key.sk],
            |row| row.get(0),
        )
        .optional()
        .map_err(unavailable)?;
    body.map(|b| parse(&b)).transpose()
}

fn parse(body: &str) -> Result<Item, TableError> {
    serde_json::from_str(body).map_err(|e| TableError::Unavailable(format!("corrupt item: {e}")))
}

fn index_value(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_str()).map(str::to_owned)
}

fn write_item(conn: &Connection, item: &Item) -> Result<(), TableError> {
    let key = Key::of(item)?;
    let body = serde_json::to_string(item).map_err(|e| TableError::Invalid(e.to_string()))?;
    let mut values = vec![SqlValue::Text(key.pk), SqlValue::Text(key.sk)];
    for (ipk, isk) in Index::SECONDARY.map(Index::key_names) {
        for name in [ipk, isk] {
            values.push(index_value(item, name).map_or(SqlValue::Null, SqlValue::Text));
        }
    }
    values.push(SqlValue::Text(body));
    conn.prepare_cached(
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, gsi3pk, gsi3sk,
         gsi4pk, gsi4sk, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .and_then(|mut stmt| stmt.execute(params_from_iter(values)))
    .map_err(unavailable)?;
    Ok(())
}

/// Brings a table file written by an earlier version up to the current schema: index
/// columns added later are filled from the items' bodies, so no item drops out of an index.
fn migrate(conn: &Connection) -> Result<(), TableError> {
    let exists: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'items'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .map_err(unavailable)?
        > 0;
    if !exists {
        return Ok(());
    }
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('items')")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()
        })
        .map_err(unavailable)?;
    for (ipk, isk) in Index::SECONDARY.map(Index::key_names) {
        if columns.iter().any(|c| c == ipk) {
            continue;
        }
        conn.execute_batch(&format!(
            "ALTER TABLE items ADD COLUMN {ipk} TEXT;
             ALTER TABLE items ADD COLUMN {isk} TEXT;
             UPDATE items SET {ipk} = json_extract(body, '$.{ipk}'),
                              {isk} = json_extract(body, '$.{isk}');"
        ))
        .map_err(unavailable)?;
    }
    Ok(())
}

fn remove(conn: &Connection, key: &Key) -> Result<(), TableError> {
    conn.execute(
        "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
        [&key.pk, &key.sk],
    )
    .map_err(unavailable)?;
    Ok(())
}

fn check(
    conn: &Connection,
    key: &Key,
    condition: &Condition,
    index: Option<usize>,
) -> Result<(), TableError> {
    if *condition == Condition::None {
        return Ok(());
    }
    if condition.holds(read(conn, key)?.as_ref()) {
        Ok(())
    } else {
        Err(TableError::ConditionFailed { index })
    }
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        let key = key.clone();
        self.read(move |conn| read(conn, &key)).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        check_item(&item)?;
        self.write(vec![Write::Put { item, condition }], true).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        let key = key.clone();
        self.write(vec![Write::Delete { key, condition }], true)
            .await
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        query.check()?;
        let query = query.clone();
        self.read(move |conn| run_query(conn, &query)).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        check_transaction(&writes)?;
        self.write(writes, false).await
    }

    async fn expire(&self, now: i64) -> Result<usize, TableError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            lock(&conn)
                .execute(
                    "DELETE FROM items WHERE json_extract(body, '$.ttl') < ?1",
                    [now],
                )
                .map_err(unavailable)
        })
        .await
        .map_err(unavailable)?
    }
}

/// The least string greater than every string that starts with `prefix` (UTF-8 byte
/// order is code point order, so it is the prefix with its last character stepped up);
/// `None` when there is none.
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn run_query(conn: &Connection, query: &Query) -> Result<Page, TableError> {
    let (ipk, isk) = query.index.key_names();
    let mut sql = format!("SELECT body FROM items WHERE {ipk} = ?");
    let mut args: Vec<SqlValue> = vec![SqlValue::Text(query.pk.clone())];
    if query.index != Index::Primary {
        sql.push_str(&format!(" AND {isk} IS NOT NULL"));
    }
    // The index is seeked by one lower and one upper bound on the sort key: the tightest
    // of those the sort-key condition and the start key set (SQLite uses only one of
    // several, and a loose one would read every item before the page).
    let mut lower: Option<(String, bool)> = None; // (value, inclusive)
    let mut upper: Option<(String, bool)> = None;
    let tighten =
        |bound: &mut Option<(String, bool)>, value: String, inclusive: bool, is_lower: bool| {
            let tighter = match bound {
                None => true,
                Some((current, current_inclusive)) => {
                    if value == *current {
                        *current_inclusive && !inclusive
                    } else {
                        (value > *current) == is_lower
                    }
                }
            };
            if tighter {
                *bound = Some((value, inclusive));
            }
        };
    let mut exact_prefix = None;
    match &query.sk {
        SortKey::Any => {}
        SortKey::BeginsWith(prefix) => {
            // Strings starting with the prefix sort between it and its successor; then
            // `substr` for exactness. Not LIKE: it is case-insensitive and treats % and _
            // as wildcards; begins_with does neither.
            tighten(&mut lower, prefix.clone(), true, true);
            if let Some(next) = successor(prefix) {
                tighten(&mut upper, next, false, false);
            }
            exact_prefix = Some(prefix.clone());
        }
        SortKey::Between(low, high) => {
            tighten(&mut lower, low.clone(), true, true);
            tighten(&mut upper, high.clone(), true, false);
        }
    }
    // Ties on an index sort key are broken by the base key, so pages never overlap.
    let order_cols: Vec<&str> = if query.index == Index::Primary {
        vec!["sk"]
    } else {
        vec![isk, "pk", "sk"]
    };
    let mut after = None;
    if let Some(start) = &query.start {
        let mut values = Vec::new();
        for col in &order_cols {
            let value = start
                .get(col)
                .ok_or_else(|| TableError::Invalid(format!("start key lacks `{col}`")))?;
            values.push(value.to_owned());
        }
        // On the sort key alone the start is an inclusive bound (ties are settled by the
        // row value below), exclusive when the sort key is the whole order.
        let exclusive = order_cols.len() == 1;
        if query.descending {
            tighten(&mut upper, values[0].clone(), !exclusive, false);
        } else {
            tighten(&mut lower, values[0].clone(), !exclusive, true);
        }
        if !exclusive {
            after = Some(values);
        }
    }
    if let Some((value, inclusive)) = lower {
        sql.push_str(&format!(
            " AND {isk} {} ?",
            if inclusive { ">=" } else { ">" }
        ));
        args.push(SqlValue::Text(value));
    }
    if let Some((value, inclusive)) = upper {
        sql.push_str(&format!(
            " AND {isk} {} ?",
            if inclusive { "<=" } else { "<" }
        ));
        args.push(SqlValue::Text(value));
    }
    if let Some(prefix) = exact_prefix {
        sql.push_str(&format!(" AND substr({isk}, 1, length(?)) = ?"));
        args.push(SqlValue::Text(prefix.clone()));
        args.push(SqlValue::Text(prefix));
    }
    if let Some(values) = after {
        let cmp = if query.descending { "<" } else { ">" };
        let placeholders = vec!["?"; values.len()];
        sql.push_str(&format!(
            " AND ({}) {cmp} ({})",
            order_cols.join(", "),
            placeholders.join(", ")
        ));
        args.extend(values.into_iter().map(SqlValue::Text));
    }
    let dir = if query.descending { "DESC" } else { "ASC" };
    let order: Vec<String> = order_cols.iter().map(|c| format!("{c} {dir}")).collect();
    sql.push_str(&format!(" ORDER BY {} LIMIT ?", order.join(", ")));
    args.push(SqlValue::Integer(query.limit as i64 + 1));

    let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
    let bodies = stmt
        .query_map(params_from_iter(args), |row| row.get::<_, String>(0))
        .map_err(unavailable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unavailable)?;
    let items = bodies
        .iter()
        .map(|b| parse(b))
        .collect::<Result<Vec<_>, _>>()?;
    Page::from_overfetch(items, query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_prefix_successor_bounds_exactly_the_strings_that_start_with_it() {
        assert_eq!(successor("abc").as_deref(), Some("abd"));
        assert_eq!(successor("T#a#王").as_deref(), Some("T#a#玌"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{10FFFF}"), None);
        assert_eq!(successor(""), None);
        let upper = successor("ab#").unwrap();
        for inside in ["ab#", "ab#zz", "ab#\u{10FFFF}"] {
            assert!(inside < upper.as_str());
        }
        assert!("ab$" >= upper.as_str());
    }

    #[tokio::test]
    async fn a_file_of_an_earlier_schema_gains_the_new_indexes_with_their_items() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE items (pk TEXT NOT NULL, sk TEXT NOT NULL, gsi1pk TEXT,
                 gsi1sk TEXT, gsi2pk TEXT, gsi2sk TEXT, body TEXT NOT NULL,
                 PRIMARY KEY (pk, sk)) WITHOUT ROWID;",
            )
            .unwrap();
            let body = json!({"pk": "T#a#x", "sk": "1", "gsi3pk": "T#a#by", "gsi3sk": "k"});
            conn.execute(
                "INSERT INTO items (pk, sk, body) VALUES ('T#a#x', '1', ?1)",
                [body.to_string()],
            )
            .unwrap();
        }
        let table = SqliteTable::open(&path).unwrap();
        let page = table
            .query(&Query::partition("T#a#by").on(Index::Gsi3))
            .await
            .unwrap();
        assert_eq!(
            page.items.len(),
            1,
            "the old item is found in the new index"
        );
        // Opening again finds nothing left to do.
        drop(table);
        SqliteTable::open(&path).unwrap();
    }

    #[tokio::test]
    async fn items_past_their_ttl_are_removed_as_dynamodb_would() {
        let table = SqliteTable::in_memory().unwrap();
        for (sk, ttl) in [("gone", Some(100)), ("kept", Some(300)), ("timeless", None)] {
            let mut item = Item::new();
            item.insert("pk".into(), "p".into());
            item.insert("sk".into(), sk.into());
            if let Some(ttl) = ttl {
                item.insert("ttl".into(), ttl.into());
            }
            table.put(item, Condition::None).await.unwrap();
        }
        assert_eq!(table.expire(200).await.unwrap(), 1);
        let left = table.query(&Query::partition("p")).await.unwrap();
        let keys: Vec<_> = left.items.iter().map(|i| i["sk"].clone()).collect();
        assert_eq!(keys, ["kept", "timeless"]);
    }
}
