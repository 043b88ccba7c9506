//! The embedded twin of the `Table` port: one SQLite file (WAL, full sync, group commit;
//! see docs/decisions.md) holding the same items, keys and sparse indexes as the
//! DynamoDB table.
//!
//! Strings compare by their UTF-8 bytes in SQLite's BINARY collation, as in DynamoDB, so
//! queries return items in the same order on both twins.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value as SqlValue};
use serde_json::Value;

use super::{
    Condition, Index, Item, Key, MAX_ITEM_BYTES, Page, Query, SortKey, Table, TableError, Write,
    check_item, check_transaction,
};

#[derive(Clone)]
pub struct SqliteTable {
    db: Arc<Mutex<Db>>,
    /// Connections that only read (a file table): in WAL mode they read the last commit
    /// while the writer works, so reads do not queue behind writes.
    readers: Arc<[Mutex<Db>]>,
    next_reader: Arc<std::sync::atomic::AtomicUsize>,
    /// Writes waiting for the connection; the committer takes them all at once.
    waiting: Arc<Mutex<Vec<Pending>>>,
    /// Whether a committer is at work (on a blocking thread), taking groups from
    /// `waiting` until it finds it empty.
    committing: Arc<std::sync::atomic::AtomicBool>,
    /// The lock that keeps a second server off the file while this one has it open.
    _held: Option<Arc<std::fs::File>>,
}

/// One write request (a transaction, or a single put or delete) waiting to be committed.
struct Pending {
    writes: Vec<Write>,
    /// A lone put or delete: its failed condition has no index in a transaction.
    single: bool,
    done: tokio::sync::oneshot::Sender<Result<(), TableError>>,
}

/// A connection, with what it has learnt of the partition names and a compression
/// context of its own (making one costs more than compressing an item).
struct Db {
    conn: Connection,
    parts: Parts,
    zip: Option<zstd::bulk::Compressor<'static>>,
    /// For bodies of format 1 (zstd without a dictionary), written before format 2.
    unzip: Option<zstd::bulk::Decompressor<'static>>,
    unzip_dict: Option<zstd::bulk::Decompressor<'static>>,
}

/// Partition names by number and numbers by name. A number, once given to a name, is
/// never given to another, so what a connection learnt stays true; only the writer's
/// names given in a transaction that has not committed yet are `pending`.
#[derive(Default)]
struct Parts {
    by_name: HashMap<Arc<str>, i64>,
    by_id: HashMap<i64, Arc<str>>,
    pending: Vec<(Arc<str>, i64)>,
}

/// Names a connection remembers before it starts over (a record's own partitions, such
/// as its timeline, are many and mostly read once).
const MAX_REMEMBERED_PARTS: usize = 100_000;

impl Parts {
    fn remember(&mut self, name: Arc<str>, id: i64) {
        if self.by_name.len() >= MAX_REMEMBERED_PARTS {
            self.by_name.clear();
            self.by_id.clear();
        }
        self.by_id.insert(id, name.clone());
        self.by_name.insert(name, id);
    }
}

// Items are stored in a layout of their own, not as their JSON (see docs/decisions.md):
// - partition keys (`pk`, and the indexes' `gsiNpk`) are numbered once in `parts`, so an
//   item's row holds a small integer where it held a 40-60 byte string, in the table and
//   in every index it is in;
// - the body holds the other attributes, as JSON compressed with zstd and the items'
//   dictionary when that makes it smaller (first byte 2; 0 for plain JSON; 1, zstd without
//   a dictionary, is still read), so most rows fit in their B-tree page instead of
//   spilling into an overflow page of their own, and a row is a few hundred bytes;
// - `ttl` has a column, so expiry reads an index instead of every body.
// Within a partition, rows sort by `sk` in BINARY order, as DynamoDB sorts; index rows
// sort by their sort key, then by the base key, whose partition number only breaks ties
// (DynamoDB does not define their order either).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS parts (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS rows (
    p    INTEGER NOT NULL,
    sk   TEXT NOT NULL,
    g1   INTEGER,
    g1s  TEXT,
    g2   INTEGER,
    g2s  TEXT,
    g3   INTEGER,
    g3s  TEXT,
    g4   INTEGER,
    g4s  TEXT,
    ttl  INTEGER,
    body BLOB NOT NULL,
    PRIMARY KEY (p, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gsi1 ON rows (g1, g1s, p, sk) WHERE g1 IS NOT NULL AND g1s IS NOT NULL;
CREATE INDEX IF NOT EXISTS gsi2 ON rows (g2, g2s, p, sk) WHERE g2 IS NOT NULL AND g2s IS NOT NULL;
CREATE INDEX IF NOT EXISTS gsi3 ON rows (g3, g3s, p, sk) WHERE g3 IS NOT NULL AND g3s IS NOT NULL;
CREATE INDEX IF NOT EXISTS gsi4 ON rows (g4, g4s, p, sk) WHERE g4 IS NOT NULL AND g4s IS NOT NULL;
CREATE INDEX IF NOT EXISTS ttl ON rows (ttl) WHERE ttl IS NOT NULL;
";

/// The index columns of each secondary index, in `Index::SECONDARY` order.
const INDEX_COLUMNS: [(&str, &str); 4] =
    [("g1", "g1s"), ("g2", "g2s"), ("g3", "g3s"), ("g4", "g4s")];

/// What a query or read selects of a row, decoded by [`decode`].
const ROW: &str = "p, sk, g1, g1s, g2, g2s, g3, g3s, g4, g4s, body";

/// Bodies shorter than this are stored as they are: compressing them saves nothing.
const COMPRESS_FROM: usize = 32;
/// zstd's level: its fastest levels already take most of what JSON gives up.
const ZSTD_LEVEL: i32 = 3;

/// The dictionary of body format 2. An item's JSON is mostly its attribute names and the
/// shapes of its values (ids, times, addresses), which repeat from item to item but not
/// within one small item, so zstd alone finds little to share; with a dictionary of them
/// a body shrinks to about half of what zstd alone makes of it. It was trained on items
/// whose every value was scrambled, so it holds structure and no one's data
/// (`infra/train-dictionary.py`). Stored bodies name it by their format byte: this file
/// never changes; a better dictionary would be format 3, beside it.
static DICTIONARY: &[u8] = include_bytes!("items-2.zdict");
static ENCODER: std::sync::LazyLock<zstd::dict::EncoderDictionary<'static>> =
    std::sync::LazyLock::new(|| zstd::dict::EncoderDictionary::copy(DICTIONARY, ZSTD_LEVEL));
static DECODER: std::sync::LazyLock<zstd::dict::DecoderDictionary<'static>> =
    std::sync::LazyLock::new(|| zstd::dict::DecoderDictionary::copy(DICTIONARY));

/// Prepared statements kept per connection.
const STATEMENTS: usize = 128;
/// Cache per connection, in KiB (negative, as SQLite takes it): the hot part of the
/// indexes stays in memory.
const CACHE_SIZE: i64 = -32768;

fn unavailable(e: impl std::fmt::Display) -> TableError {
    TableError::Unavailable(e.to_string())
}

impl Db {
    fn new(conn: Connection) -> Self {
        Self {
            conn,
            parts: Parts::default(),
            zip: None,
            unzip: None,
            unzip_dict: None,
        }
    }

    /// The number of partition `name`, if it has one.
    fn part_id(&mut self, name: &str) -> Result<Option<i64>, TableError> {
        if let Some(id) = self.parts.by_name.get(name) {
            return Ok(Some(*id));
        }
        if let Some((_, id)) = self.parts.pending.iter().find(|(n, _)| &**n == name) {
            return Ok(Some(*id));
        }
        let id: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM parts WHERE name = ?1")
            .and_then(|mut stmt| stmt.query_row([name], |row| row.get(0)).optional())
            .map_err(unavailable)?;
        if let Some(id) = id {
            self.parts.remember(name.into(), id);
        }
        Ok(id)
    }

    /// The name of partition number `id`.
    fn part_name(&mut self, id: i64) -> Result<Arc<str>, TableError> {
        if let Some(name) = self.parts.by_id.get(&id) {
            return Ok(name.clone());
        }
        if let Some((name, _)) = self.parts.pending.iter().find(|(_, n)| *n == id) {
            return Ok(name.clone());
        }
        let name: String = self
            .conn
            .prepare_cached("SELECT name FROM parts WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([id], |row| row.get(0)))
            .map_err(unavailable)?;
        let name: Arc<str> = name.into();
        self.parts.remember(name.clone(), id);
        Ok(name)
    }

    /// The number of partition `name`, numbering it if it is new. Only the writer calls
    /// this, in its transaction: the number stays `pending` until the transaction commits,
    /// so a group that fails leaves no name remembered with a number it never stored.
    fn number_part(&mut self, name: &str) -> Result<i64, TableError> {
        if let Some(id) = self.part_id(name)? {
            return Ok(id);
        }
        let id = self
            .conn
            .prepare_cached("INSERT INTO parts (name) VALUES (?1)")
            .and_then(|mut stmt| stmt.insert([name]))
            .map_err(unavailable)?;
        self.parts.pending.push((name.into(), id));
        Ok(id)
    }

    /// Numbers every partition `writes` put items in.
    fn number_parts(&mut self, writes: &[Write]) -> Result<(), TableError> {
        for write in writes {
            if let Write::Put { item, .. } = write {
                for (name, _) in std::iter::once(Index::Primary.key_names())
                    .chain(Index::SECONDARY.map(Index::key_names))
                {
                    if let Some(part) = item.get(name).and_then(Value::as_str) {
                        self.number_part(part)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// After the writer's transaction: its new numbers stand if it committed.
    fn settle_parts(&mut self, committed: bool) {
        for (name, id) in std::mem::take(&mut self.parts.pending) {
            if committed {
                self.parts.remember(name, id);
            }
        }
    }

    fn encode_body(&mut self, body: &Item) -> Result<Vec<u8>, TableError> {
        let json = serde_json::to_vec(body).map_err(|e| TableError::Invalid(e.to_string()))?;
        if json.len() >= COMPRESS_FROM {
            if self.zip.is_none() {
                let mut zip = zstd::bulk::Compressor::with_prepared_dictionary(&ENCODER)
                    .map_err(unavailable)?;
                // The format byte names the dictionary; the frame need not repeat its id.
                zip.set_parameter(zstd::zstd_safe::CParameter::DictIdFlag(false))
                    .map_err(unavailable)?;
                self.zip = Some(zip);
            }
            if let Some(zip) = self.zip.as_mut() {
                let mut out = Vec::with_capacity(json.len() / 2 + 16);
                out.push(2);
                let packed = zip.compress(&json).map_err(unavailable)?;
                if packed.len() + 1 < json.len() {
                    out.extend_from_slice(&packed);
                    return Ok(out);
                }
            }
        }
        let mut out = Vec::with_capacity(json.len() + 1);
        out.push(0);
        out.extend_from_slice(&json);
        Ok(out)
    }

    fn decode_body(&mut self, body: &[u8]) -> Result<Item, TableError> {
        let corrupt =
            |e: &dyn std::fmt::Display| TableError::Unavailable(format!("corrupt item: {e}"));
        let (format, packed) = body.split_first().ok_or_else(|| corrupt(&"empty body"))?;
        let unzip = match format {
            0 => return serde_json::from_slice(packed).map_err(|e| corrupt(&e)),
            1 => &mut self.unzip,
            2 => &mut self.unzip_dict,
            _ => return Err(corrupt(&"unknown body format")),
        };
        let size = zstd::zstd_safe::get_frame_content_size(packed)
            .ok()
            .flatten()
            .filter(|n| *n <= (MAX_ITEM_BYTES * 4) as u64)
            .ok_or_else(|| corrupt(&"no content size"))?;
        if unzip.is_none() {
            *unzip = Some(if *format == 2 {
                zstd::bulk::Decompressor::with_prepared_dictionary(&DECODER).map_err(unavailable)?
            } else {
                zstd::bulk::Decompressor::new().map_err(unavailable)?
            });
        }
        let unzip = unzip.as_mut().ok_or_else(|| corrupt(&"no decompressor"))?;
        let json = unzip
            .decompress(packed, size as usize)
            .map_err(|e| corrupt(&e))?;
        serde_json::from_slice(&json).map_err(|e| corrupt(&e))
    }
}

/// Locks the table file for this process (an advisory lock beside SQLite's own), so a
/// second server started on the same data directory stops with a clear error: the
/// servers' caches rely on seeing every write (see `sole_writer`).
fn hold(path: &Path) -> Result<std::fs::File, TableError> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path).map_err(unavailable)?;
    // SAFETY: flock on a descriptor this function owns; it touches no memory.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if locked {
        Ok(file)
    } else {
        Err(TableError::Unavailable(format!(
            "{} is in use by another server; stop it first, or give this one its own CRM_DATA_DIR",
            path.display()
        )))
    }
}

/// What every connection is given, the writer's and the readers'.
fn configure(conn: &Connection) -> Result<(), TableError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(unavailable)?;
    // Queries differ in shape (index, bounds, order, start), more than the default 16.
    conn.set_prepared_statement_cache_capacity(STATEMENTS);
    // Plans that do not depend on the values bound: otherwise SQLite (built with STAT4)
    // marks a cached statement whose `?` it compared with a partial index's `IS NOT NULL`
    // as expired on every bind and parses it again on every run (4% of a list page, perf).
    // An equality with `?` implies `IS NOT NULL` by itself, so the indexes still serve.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(unavailable)?;
    conn.pragma_update(None, "cache_size", CACHE_SIZE)
        .map_err(unavailable)
}

impl SqliteTable {
    /// Opens (creating if needed) the table file at `path`.
    pub fn open(path: &Path) -> Result<Self, TableError> {
        // Owner-only from the first byte; SQLite gives its journals the file's mode.
        crate::private_files::touch(path).map_err(|e| TableError::Unavailable(e.to_string()))?;
        let held = hold(path)?;
        let mut table = Self::init(Connection::open(path).map_err(unavailable)?)?;
        table._held = Some(Arc::new(held));
        // Reads run on the threads that serve requests (a read of pages in memory takes
        // microseconds, less than handing it to another thread would), so there is a
        // reader for each of them and a few more. They do not map the file into memory:
        // a reader drops its map whenever another connection has committed, and each
        // unmap stops every core for a TLB flush (a seventh of a read's time, measured
        // with the outbox being drained beside it).
        let count = std::thread::available_parallelism().map_or(2, |n| n.get()) + 2;
        let readers = (0..count)
            .map(|_| {
                let conn = Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(unavailable)?;
                configure(&conn)?;
                Ok(Mutex::new(Db::new(conn)))
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
        configure(&conn)?;
        // A page rewritten by many commits is copied into the database file once per
        // checkpoint; a longer log (about 40 MB) copies hot pages less often.
        conn.pragma_update(None, "wal_autocheckpoint", 10000)
            .map_err(unavailable)?;
        conn.execute_batch(SCHEMA).map_err(unavailable)?;
        let mut db = Db::new(conn);
        migrate(&mut db)?;
        Ok(Self {
            db: Arc::new(Mutex::new(db)),
            readers: Arc::new([]),
            next_reader: Arc::default(),
            waiting: Arc::default(),
            committing: Arc::default(),
            _held: None,
        })
    }

    /// Commits `writes` atomically, together with whatever other writes are waiting
    /// (group commit). Each request still succeeds or fails on its own, as if committed
    /// alone in the order they arrived, but a busy table writes its shared pages and
    /// syncs its log once per group instead of once per request: that is what makes a
    /// large import fast without weakening durability (nothing is answered before the
    /// group's commit is on disk).
    async fn write(&self, writes: Vec<Write>, single: bool) -> Result<(), TableError> {
        let (done, result) = tokio::sync::oneshot::channel();
        lock(&self.waiting).push(Pending {
            writes,
            single,
            done,
        });
        // One committer at a time, on one blocking thread; a request that finds it at
        // work only waits for its answer. (A blocking thread per request, each waiting
        // for the connection, was hundreds of threads after a few bulk calls, and a
        // thread switch per commit for each.)
        if !self.committing.swap(true, SeqCst) {
            // Made before the task, so that a task that never runs (the runtime shutting
            // down) still lets the next request start a committer.
            let mut committer = Committer {
                db: self.db.clone(),
                waiting: self.waiting.clone(),
                committing: self.committing.clone(),
                done: false,
            };
            tokio::task::spawn_blocking(move || committer.run());
        }
        result
            .await
            .unwrap_or_else(|_| Err(unavailable("the write was abandoned")))
    }

    /// Runs the read `f` on a reader connection (the writer's for an in-memory table),
    /// on the calling thread: a free reader is taken if there is one.
    fn read<T>(&self, f: impl FnOnce(&mut Db) -> Result<T, TableError>) -> Result<T, TableError> {
        if self.readers.is_empty() {
            return f(&mut lock(&self.db));
        }
        let start = self
            .next_reader
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let count = self.readers.len();
        for n in 0..count {
            if let Ok(mut db) = self.readers[(start + n) % count].try_lock() {
                return f(&mut db);
            }
        }
        f(&mut lock(&self.readers[start % count]))
    }
}

/// The one committer at work: it commits the waiting requests, group after group, until
/// it finds none.
struct Committer {
    db: Arc<Mutex<Db>>,
    waiting: Arc<Mutex<Vec<Pending>>>,
    committing: Arc<std::sync::atomic::AtomicBool>,
    /// Set when it stopped as it should; otherwise (a panic, or never run) its drop
    /// cleans up.
    done: bool,
}

impl Committer {
    fn run(&mut self) {
        loop {
            let group = std::mem::take(&mut *lock(&self.waiting));
            if !group.is_empty() {
                commit_group(&mut lock(&self.db), group);
                continue;
            }
            self.committing.store(false, SeqCst);
            // A request queued after the take saw a committer at work and started none:
            // go on for it unless one has started since.
            if lock(&self.waiting).is_empty() || self.committing.swap(true, SeqCst) {
                self.done = true;
                return;
            }
        }
    }
}

impl Drop for Committer {
    /// After a panic mid-group: the open transaction is rolled back (a `BEGIN` would
    /// fail on it forever after), the requests still queued are answered as abandoned,
    /// and the next request starts a committer. The flag is cleared under the queue's
    /// lock, so a request queued meanwhile cannot find it still set.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        {
            let mut db = lock(&self.db);
            if !db.conn.is_autocommit() {
                let _ = db.conn.execute_batch("ROLLBACK");
            }
            db.settle_parts(false);
        }
        let mut waiting = lock(&self.waiting);
        waiting.clear();
        self.committing.store(false, SeqCst);
    }
}

/// A panic while holding a lock cannot leave a half-applied transaction (SQLite rolls it
/// back; a request's result is sent only after its commit), so a poisoned lock is safe
/// to reuse.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Commits `group` in one SQLite transaction, then answers each request. A request whose
/// condition fails has written nothing (see [`apply`]) while the others stand; a storage
/// error fails the whole group, none of which is committed. (Each request had a savepoint
/// of its own; journaling every page it touched was an eighth of a create's time.)
fn commit_group(db: &mut Db, group: Vec<Pending>) {
    let outcome = (|| {
        db.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(unavailable)?;
        let mut results = Vec::with_capacity(group.len());
        for pending in &group {
            let result = db
                .number_parts(&pending.writes)
                .and_then(|()| apply(db, &pending.writes, pending.single));
            if let Err(TableError::Unavailable(e)) = result {
                return Err(TableError::Unavailable(e));
            }
            results.push(result);
        }
        db.conn.execute_batch("COMMIT").map_err(unavailable)?;
        Ok::<_, TableError>(results)
    })();
    db.settle_parts(outcome.is_ok());
    match outcome {
        Ok(results) => {
            for (pending, result) in group.into_iter().zip(results) {
                let _ = pending.done.send(result);
            }
        }
        // Nothing of the group was committed, so every request fails.
        Err(e) => {
            if !db.conn.is_autocommit() {
                let _ = db.conn.execute_batch("ROLLBACK");
            }
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

/// Applies one request's writes, checking every condition and encoding every item before
/// writing anything, as DynamoDB does: what can still fail after the first write is the
/// storage itself, which fails the whole group.
fn apply(db: &mut Db, writes: &[Write], single: bool) -> Result<(), TableError> {
    for (i, write) in writes.iter().enumerate() {
        let (key, condition) = match write {
            Write::Put { item, condition } => (Key::of(item)?, condition),
            Write::Delete { key, condition } | Write::Check { key, condition } => {
                (key.clone(), condition)
            }
        };
        check(db, &key, condition, (!single).then_some(i))?;
    }
    let mut rows = Vec::with_capacity(writes.len());
    for write in writes {
        if let Write::Put { item, .. } = write {
            rows.push(row_of(db, item)?);
        }
    }
    let mut rows = rows.into_iter();
    for write in writes {
        match write {
            Write::Put { .. } => {
                if let Some(row) = rows.next() {
                    insert(db, row)?;
                }
            }
            Write::Delete { key, .. } => remove(db, key)?,
            Write::Check { .. } => {}
        }
    }
    Ok(())
}

fn read(db: &mut Db, key: &Key) -> Result<Option<Item>, TableError> {
    let Some(p) = db.part_id(&key.pk)? else {
        return Ok(None);
    };
    let row = db
        .conn
        .prepare_cached(&format!("SELECT {ROW} FROM rows WHERE p = ?1 AND sk = ?2"))
        .and_then(|mut stmt| stmt.query_row(params![p, key.sk], Stored::of).optional())
        .map_err(unavailable)?;
    row.map(|row| decode(db, row)).transpose()
}

/// A row as read, before its partition numbers are named and its body opened.
struct Stored {
    p: i64,
    sk: String,
    indexes: [(Option<i64>, Option<String>); 4],
    body: Vec<u8>,
}

impl Stored {
    /// The columns of [`ROW`].
    fn of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            p: row.get(0)?,
            sk: row.get(1)?,
            indexes: [
                (row.get(2)?, row.get(3)?),
                (row.get(4)?, row.get(5)?),
                (row.get(6)?, row.get(7)?),
                (row.get(8)?, row.get(9)?),
            ],
            body: row.get(10)?,
        })
    }
}

/// The item a row stores: its body, with its keys and index keys put back.
fn decode(db: &mut Db, row: Stored) -> Result<Item, TableError> {
    let mut item = db.decode_body(&row.body)?;
    item.insert("pk".into(), Value::String(db.part_name(row.p)?.to_string()));
    item.insert("sk".into(), Value::String(row.sk));
    for ((ipk, isk), (part, sort)) in Index::SECONDARY
        .map(Index::key_names)
        .into_iter()
        .zip(row.indexes)
    {
        if let Some(part) = part {
            item.insert(ipk.into(), Value::String(db.part_name(part)?.to_string()));
        }
        if let Some(sort) = sort {
            item.insert(isk.into(), Value::String(sort));
        }
    }
    Ok(item)
}

fn write_item(db: &mut Db, item: &Item) -> Result<(), TableError> {
    let row = row_of(db, item)?;
    insert(db, row)
}

/// The column values that store `item`.
fn row_of(db: &mut Db, item: &Item) -> Result<Vec<SqlValue>, TableError> {
    let key = Key::of(item)?;
    let mut body = item.clone();
    body.remove("pk");
    body.remove("sk");
    let mut values: Vec<SqlValue> = Vec::with_capacity(12);
    values.push(SqlValue::Integer(db.number_part(&key.pk)?));
    values.push(SqlValue::Text(key.sk));
    for (ipk, isk) in Index::SECONDARY.map(Index::key_names) {
        match body.remove(ipk) {
            Some(Value::String(part)) => values.push(SqlValue::Integer(db.number_part(&part)?)),
            Some(other) => {
                body.insert(ipk.into(), other);
                values.push(SqlValue::Null);
            }
            None => values.push(SqlValue::Null),
        }
        match body.remove(isk) {
            Some(Value::String(sort)) => values.push(SqlValue::Text(sort)),
            Some(other) => {
                body.insert(isk.into(), other);
                values.push(SqlValue::Null);
            }
            None => values.push(SqlValue::Null),
        }
    }
    // DynamoDB's TTL takes whole seconds; a fraction is cut off as it would be.
    values.push(
        match body
            .get("ttl")
            .and_then(|t| t.as_i64().or_else(|| t.as_f64().map(|f| f as i64)))
        {
            Some(ttl) => SqlValue::Integer(ttl),
            None => SqlValue::Null,
        },
    );
    values.push(SqlValue::Blob(db.encode_body(&body)?));
    Ok(values)
}

fn insert(db: &mut Db, values: Vec<SqlValue>) -> Result<(), TableError> {
    db.conn
        .prepare_cached(
            "INSERT OR REPLACE INTO rows (p, sk, g1, g1s, g2, g2s, g3, g3s, g4, g4s, ttl, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .and_then(|mut stmt| stmt.execute(params_from_iter(values)))
        .map_err(unavailable)?;
    Ok(())
}

/// Brings a table file of the first layout (`items`: keys as text, bodies as JSON) into
/// this one, in one transaction, and drops the old table: every item, with every index
/// key, was in its body.
fn migrate(db: &mut Db) -> Result<(), TableError> {
    let old: i64 = db
        .conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'items'",
            [],
            |row| row.get(0),
        )
        .map_err(unavailable)?;
    if old == 0 {
        return Ok(());
    }
    tracing::info!("moving the table file's items into the compact layout");
    let moved = (|| {
        db.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(unavailable)?;
        let mut last: Option<(String, String)> = None;
        loop {
            // In batches, so the old bodies are never all in memory at once.
            let batch: Vec<(String, String, String)> = {
                let mut stmt = db
                    .conn
                    .prepare(
                        "SELECT pk, sk, body FROM items WHERE ?1 IS NULL OR (pk, sk) > (?1, ?2)
                         ORDER BY pk, sk LIMIT 1000",
                    )
                    .map_err(unavailable)?;
                let (pk, sk) = last.clone().unzip();
                stmt.query_map(params![pk, sk], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(unavailable)?
            };
            let Some((pk, sk, _)) = batch.last() else {
                break;
            };
            last = Some((pk.clone(), sk.clone()));
            for (_, _, body) in &batch {
                let item: Item = serde_json::from_str(body)
                    .map_err(|e| TableError::Unavailable(format!("corrupt item: {e}")))?;
                write_item(db, &item)?;
            }
        }
        db.conn
            .execute_batch("DROP TABLE items; COMMIT;")
            .map_err(unavailable)
    })();
    db.settle_parts(moved.is_ok());
    if moved.is_err() && !db.conn.is_autocommit() {
        let _ = db.conn.execute_batch("ROLLBACK");
    }
    moved
}

fn remove(db: &mut Db, key: &Key) -> Result<(), TableError> {
    let Some(p) = db.part_id(&key.pk)? else {
        return Ok(());
    };
    db.conn
        .prepare_cached("DELETE FROM rows WHERE p = ?1 AND sk = ?2")
        .and_then(|mut stmt| stmt.execute(params![p, key.sk]))
        .map_err(unavailable)?;
    Ok(())
}

fn check(
    db: &mut Db,
    key: &Key,
    condition: &Condition,
    index: Option<usize>,
) -> Result<(), TableError> {
    if *condition == Condition::None {
        return Ok(());
    }
    if condition.holds(read(db, key)?.as_ref()) {
        Ok(())
    } else {
        Err(TableError::ConditionFailed { index })
    }
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        self.read(|db| read(db, key))
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
        self.read(|db| run_query(db, query))
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        check_transaction(&writes)?;
        self.write(writes, false).await
    }

    async fn expire(&self, now: i64) -> Result<usize, TableError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            lock(&db)
                .conn
                .execute("DELETE FROM rows WHERE ttl < ?1", [now])
                .map_err(unavailable)
        })
        .await
        .map_err(unavailable)?
    }

    fn sole_writer(&self) -> bool {
        true
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

fn run_query(db: &mut Db, query: &Query) -> Result<Page, TableError> {
    let (ipk, isk) = match query.index {
        Index::Primary => ("p", "sk"),
        Index::Gsi1 => INDEX_COLUMNS[0],
        Index::Gsi2 => INDEX_COLUMNS[1],
        Index::Gsi3 => INDEX_COLUMNS[2],
        Index::Gsi4 => INDEX_COLUMNS[3],
    };
    // A partition never written to has no number, and no items.
    let Some(part) = db.part_id(&query.pk)? else {
        return Ok(Page::default());
    };
    let mut sql = format!("SELECT {ROW} FROM rows WHERE {ipk} = ?");
    let mut args: Vec<SqlValue> = vec![SqlValue::Integer(part)];
    if query.index != Index::Primary {
        sql.push_str(&format!(" AND {ipk} IS NOT NULL AND {isk} IS NOT NULL"));
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
        vec![isk, "p", "sk"]
    };
    let mut after = None;
    if let Some(start) = &query.start {
        let mut values = Vec::new();
        for col in &order_cols {
            let attribute = match *col {
                "p" => "pk",
                "sk" => "sk",
                _ => query.index.key_names().1,
            };
            let value = start
                .get(attribute)
                .ok_or_else(|| TableError::Invalid(format!("start key lacks `{attribute}`")))?;
            values.push(if *col == "p" {
                let part = db
                    .part_id(value)?
                    .ok_or_else(|| TableError::Invalid("start key of no stored item".into()))?;
                SqlValue::Integer(part)
            } else {
                SqlValue::Text(value.to_owned())
            });
        }
        let text = |v: &SqlValue| match v {
            SqlValue::Text(t) => t.clone(),
            _ => String::new(),
        };
        // On the sort key alone the start is an inclusive bound (ties are settled by the
        // row value below), exclusive when the sort key is the whole order.
        let exclusive = order_cols.len() == 1;
        if query.descending {
            tighten(&mut upper, text(&values[0]), !exclusive, false);
        } else {
            tighten(&mut lower, text(&values[0]), !exclusive, true);
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
        args.extend(values);
    }
    let dir = if query.descending { "DESC" } else { "ASC" };
    let order: Vec<String> = order_cols.iter().map(|c| format!("{c} {dir}")).collect();
    sql.push_str(&format!(" ORDER BY {} LIMIT ?", order.join(", ")));
    args.push(SqlValue::Integer(query.limit as i64 + 1));

    let rows = db
        .conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_map(params_from_iter(args), Stored::of)?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(unavailable)?;
    let items = rows
        .into_iter()
        .map(|row| decode(db, row))
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

    fn contact_body() -> Item {
        json!({
            "id": "c_01JF8Z3N4Q5R6S7T8V9W0XYZAB", "name": "Zhou Mei", "title": "Buyer",
            "owner_id": "u_01JF8Z3N4Q5R6S7T8V9W0XYZAC", "version": 3,
            "emails": [{"address": "mei.zhou@example.cn", "label": "work"}],
            "phones": [{"number": "+86 21 5555 0199", "label": "mobile"}],
            "tags": ["vip"], "custom": {}, "company_id": null,
            "created_at": "2026-12-07T10:11:12.345Z", "updated_at": "2026-12-07T10:11:12.345Z",
        })
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn bodies_of_every_format_read_back_and_the_dictionary_makes_them_smaller() {
        let mut db = Db::new(Connection::open_in_memory().unwrap());
        let body = contact_body();
        let json = serde_json::to_vec(&body).unwrap();
        let stored = db.encode_body(&body).unwrap();
        assert_eq!(stored[0], 2, "written with the dictionary");
        assert_eq!(db.decode_body(&stored).unwrap(), body);
        // Bodies an earlier version wrote: plain JSON, and zstd without a dictionary.
        let plain = [&[0u8][..], &json].concat();
        assert_eq!(db.decode_body(&plain).unwrap(), body);
        let zstd_alone = zstd::bulk::compress(&json, ZSTD_LEVEL).unwrap();
        let format_1 = [&[1u8][..], &zstd_alone].concat();
        assert_eq!(db.decode_body(&format_1).unwrap(), body);
        assert!(
            stored.len() * 10 < zstd_alone.len() * 7,
            "{} bytes with the dictionary, {} without, {} as JSON",
            stored.len(),
            zstd_alone.len(),
            json.len()
        );
        assert!(db.decode_body(&[9, 1, 2]).is_err());
        assert!(db.decode_body(&[2, 1, 2]).is_err());
    }

    #[test]
    fn queries_are_planned_on_their_index_whatever_the_values_bound() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        configure(&conn).unwrap();
        let plan = |sql: &str| -> String {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = stmt
                .query_map(params![1, "a", "b"], |r| r.get::<_, String>(3))
                .unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
        };
        let on_index = plan(&format!(
            "SELECT {ROW} FROM rows WHERE g1 = ?1 AND g1 IS NOT NULL AND g1s IS NOT NULL \
             AND g1s >= ?2 AND g1s < ?3 ORDER BY g1s, p, sk"
        ));
        assert!(on_index.contains("USING INDEX gsi1"), "{on_index}");
        assert!(!on_index.contains("TEMP B-TREE"), "{on_index}");
        let on_table = plan(&format!(
            "SELECT {ROW} FROM rows WHERE p = ?1 AND sk >= ?2 AND sk < ?3 ORDER BY sk DESC"
        ));
        assert!(on_table.contains("USING PRIMARY KEY"), "{on_table}");
        assert!(!on_table.contains("TEMP B-TREE"), "{on_table}");
    }
}
