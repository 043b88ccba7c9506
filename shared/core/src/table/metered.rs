//! What a table's calls would cost in DynamoDB capacity units, on either twin.
//!
//! [`Metered`] wraps a table and adds up, per call, the read and write units DynamoDB
//! charges for it, computed from the items' sizes by DynamoDB's published rules (on-demand
//! and provisioned alike):
//! - an item's size is the sum of its attribute names and values (a string's UTF-8 bytes, a
//!   number's about one byte per two digits plus one, a map or list 3 bytes plus 1 per
//!   element) — [`item_size`];
//! - a strongly consistent read is 1 unit per 4 KB started, an eventually consistent one
//!   (a query of a secondary index) half that; a query is charged on the sum of the items it
//!   returns, at least one unit; a get of nothing is 1 unit;
//! - a write is 1 unit per 1 KB started of the larger of the old and new item; every
//!   secondary index the old or new item is in (all four project all attributes) costs the
//!   same again for its new image, and once more for a removed or moved old entry;
//! - in a transaction, base-table writes and condition checks cost twice; index upkeep does
//!   not.
//!
//! It exists for the capacity table in `docs/capacity.md`, which a test keeps true, and so
//! that a change that makes an operation dearer in AWS shows on a laptop. It answers as
//! the table it wraps, reads old items only to size what a write replaces, and says it is
//! not the sole writer, so decorators above it behave as they do over DynamoDB.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::Value;

use super::{Condition, Index, Item, Key, Page, Query, Table, TableError, Write};

/// Capacity units, counted in halves (an eventually consistent read of 4 KB is half a unit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Units {
    pub read_halves: u64,
    pub write: u64,
}

impl Units {
    pub fn read(&self) -> f64 {
        self.read_halves as f64 / 2.0
    }
}

impl std::ops::AddAssign for Units {
    fn add_assign(&mut self, other: Self) {
        self.read_halves += other.read_halves;
        self.write += other.write;
    }
}

/// What was consumed since the meter was last taken: in all, and by kind of item (the
/// partition's name after its company, `contacts`, `search#contacts`, `audit`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reading {
    pub total: Units,
    pub items_written: u64,
    pub by_kind: BTreeMap<String, Units>,
}

impl Reading {
    fn add(&mut self, kind: String, units: Units, items_written: u64) {
        self.total += units;
        self.items_written += items_written;
        *self.by_kind.entry(kind).or_default() += units;
    }
}

pub struct Metered {
    inner: Arc<dyn Table>,
    reading: Mutex<Reading>,
}

impl Metered {
    pub fn new(inner: Arc<dyn Table>) -> Self {
        Self {
            inner,
            reading: Mutex::default(),
        }
    }

    /// What was consumed since the last call, and starts over.
    pub fn take(&self) -> Reading {
        std::mem::take(&mut *self.reading.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn record(&self, kind: String, units: Units, items_written: u64) {
        self.reading
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(kind, units, items_written);
    }

    /// The write units of replacing `old` by `new` (either may be absent), `factor` times
    /// the base table's share (2 in a transaction).
    fn write_units(old: Option<&Item>, new: Option<&Item>, factor: u64) -> u64 {
        let kb = |item: &Item| item_size(item).div_ceil(1024).max(1) as u64;
        let base = old.map_or(0, kb).max(new.map_or(0, kb)).max(1) * factor;
        let mut index = 0;
        for gsi in Index::SECONDARY {
            let (old_key, new_key) = (
                old.and_then(|i| index_key(i, gsi)),
                new.and_then(|i| index_key(i, gsi)),
            );
            if let Some(n) = new.filter(|_| new_key.is_some()) {
                index += kb(n);
            }
            if let Some(o) = old.filter(|_| old_key.is_some() && old_key != new_key) {
                index += kb(o);
            }
        }
        base + index
    }

    async fn current(&self, key: &Key) -> Result<Option<Item>, TableError> {
        self.inner.get(key).await
    }
}

/// The size DynamoDB counts for `item`.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 1,
        Value::String(s) => s.len(),
        // DynamoDB stores up to 38 significant digits, about two to a byte, plus one.
        Value::Number(n) => {
            let digits = n.to_string().chars().filter(char::is_ascii_digit).count();
            digits.div_ceil(2) + 1
        }
        Value::Array(values) => 3 + values.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        Value::Object(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
    }
}

fn index_key(item: &Item, index: Index) -> Option<(String, String)> {
    let (pk, sk) = index.key_names();
    Some((
        item.get(pk)?.as_str()?.to_owned(),
        item.get(sk)?.as_str()?.to_owned(),
    ))
}

/// The kind of item a partition key names: what follows `T#<company>#`, its own id cut
/// off (`T#t1#contacts` → `contacts`, `T#t1#timeline#c_1` → `timeline`).
pub fn kind_of(pk: &str) -> String {
    let rest = match pk.strip_prefix("T#") {
        Some(rest) => rest.split_once('#').map_or("", |(_, r)| r),
        None => pk,
    };
    let mut parts = rest.split('#');
    let first = parts.next().unwrap_or_default();
    match parts.next() {
        // `search#contacts`, `sorted#contacts`: the second part is a resource, kept.
        Some(second) if second.chars().all(|c| c.is_ascii_lowercase() || c == '/') => {
            format!("{first}#{second}")
        }
        _ => first.to_owned(),
    }
}

fn read_units(bytes: usize, consistent: bool) -> u64 {
    let units = bytes.div_ceil(4096).max(1) as u64;
    if consistent { units * 2 } else { units }
}

#[async_trait]
impl Table for Metered {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        let item = self.inner.get(key).await?;
        let units = Units {
            read_halves: read_units(item.as_ref().map_or(0, item_size), true),
            write: 0,
        };
        self.record(kind_of(&key.pk), units, 0);
        Ok(item)
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        let key = Key::of(&item)?;
        let old = self.current(&key).await?;
        let units = Units {
            read_halves: 0,
            write: Self::write_units(old.as_ref(), Some(&item), 1),
        };
        self.inner.put(item, condition).await?;
        self.record(kind_of(&key.pk), units, 1);
        Ok(())
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        let old = self.current(key).await?;
        let units = Units {
            read_halves: 0,
            write: Self::write_units(old.as_ref(), None, 1),
        };
        self.inner.delete(key, condition).await?;
        self.record(kind_of(&key.pk), units, 1);
        Ok(())
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        let page = self.inner.query(query).await?;
        let bytes = page.items.iter().map(item_size).sum();
        let units = Units {
            read_halves: read_units(bytes, query.index == Index::Primary),
            write: 0,
        };
        self.record(kind_of(&query.pk), units, 0);
        Ok(page)
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        let mut costs = Vec::with_capacity(writes.len());
        for write in &writes {
            let key = write.key()?;
            let old = self.current(&key).await?;
            let units = match write {
                Write::Put { item, .. } => Units {
                    read_halves: 0,
                    write: Self::write_units(old.as_ref(), Some(item), 2),
                },
                Write::Delete { .. } => Units {
                    read_halves: 0,
                    write: Self::write_units(old.as_ref(), None, 2),
                },
                // A transactional read: twice a strongly consistent one.
                Write::Check { .. } => Units {
                    read_halves: 2 * read_units(old.as_ref().map_or(0, item_size), true),
                    write: 0,
                },
            };
            let written = u64::from(!matches!(write, Write::Check { .. }));
            costs.push((kind_of(&key.pk), units, written));
        }
        self.inner.transact(writes).await?;
        for (kind, units, written) in costs {
            self.record(kind, units, written);
        }
        Ok(())
    }

    async fn expire(&self, now: i64) -> Result<usize, TableError> {
        self.inner.expire(now).await
    }

    fn sole_writer(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(v: Value) -> Item {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn sizes_follow_dynamodbs_rules() {
        // "pk" (2) + "T#a" (3) + "sk" (2) + "x" (1) + "n" (1) + 123 (2 digits' bytes + 1).
        assert_eq!(
            item_size(&item(json!({"pk": "T#a", "sk": "x", "n": 123}))),
            2 + 3 + 2 + 1 + 1 + 3
        );
        // A map: 3 bytes, then per element 1 + its name + its value.
        assert_eq!(
            item_size(&item(json!({"m": {"a": true}}))),
            1 + 3 + 1 + 1 + 1
        );
        assert_eq!(item_size(&item(json!({"l": ["ab", null]}))), 1 + 3 + 3 + 2);
    }

    #[test]
    fn writes_pay_per_kilobyte_and_per_index_and_twice_in_a_transaction() {
        let small = item(json!({"pk": "T#a#contacts", "sk": "c_1", "gsi3pk": "x", "gsi3sk": "y"}));
        assert_eq!(Metered::write_units(None, Some(&small), 1), 2);
        assert_eq!(Metered::write_units(None, Some(&small), 2), 3);
        let big = item(json!({"pk": "T#a#audit", "sk": "1", "body": "z".repeat(1500)}));
        assert_eq!(Metered::write_units(None, Some(&big), 2), 4);
        // Moving an index entry removes the old one and puts the new one.
        let moved = item(json!({"pk": "T#a#contacts", "sk": "c_1", "gsi3pk": "x", "gsi3sk": "z"}));
        assert_eq!(Metered::write_units(Some(&small), Some(&moved), 1), 3);
        assert_eq!(Metered::write_units(Some(&small), None, 1), 2);
    }

    #[test]
    fn kinds_are_named_by_their_partition() {
        assert_eq!(kind_of("T#01h#contacts"), "contacts");
        assert_eq!(kind_of("T#01h#search#contacts"), "search#contacts");
        assert_eq!(kind_of("T#01h#timeline#c_01H"), "timeline");
        assert_eq!(kind_of("T#01h#audit"), "audit");
        assert_eq!(kind_of("users-by-email"), "users-by-email");
    }
}
