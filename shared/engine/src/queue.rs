//! Time-ordered global queues (`G#<name>`, sort keys starting with a time key) and the
//! loop that drains their due markers: what task reminders and ticket service-level checks
//! share.

use std::time::Duration;

use crate::AppState;
use crate::error::Error;
use crate::table::{Condition, Key, Query, SortKey, TableError};

/// Markers handled per query of a queue.
const BATCH: usize = 50;

/// Drains the due markers of a time-ordered global queue (`partition`, sort keys
/// starting with a time key): `fire` handles each (and removes it, or leaves it to a
/// later run) and says whether it fired. Returns how many fired.
pub async fn run_queue<F, Fut>(
    state: &AppState,
    partition: &str,
    budget: Duration,
    fire: F,
) -> Result<usize, Error>
where
    F: Fn(Key, crate::table::Item) -> Fut,
    Fut: std::future::Future<Output = Result<bool, Error>>,
{
    drain(state, partition, budget, fire, false).await
}

/// [`run_queue`] for markers that `fire` does not remove: those it fired are removed a
/// page at a time, in one transaction (one commit for up to [`BATCH`] markers instead of
/// one each, which is what a queue filled by an import needs).
pub async fn run_queue_removing<F, Fut>(
    state: &AppState,
    partition: &str,
    budget: Duration,
    fire: F,
) -> Result<usize, Error>
where
    F: Fn(Key, crate::table::Item) -> Fut,
    Fut: std::future::Future<Output = Result<bool, Error>>,
{
    drain(state, partition, budget, fire, true).await
}

async fn drain<F, Fut>(
    state: &AppState,
    partition: &str,
    budget: Duration,
    fire: F,
    remove_fired: bool,
) -> Result<usize, Error>
where
    F: Fn(Key, crate::table::Item) -> Fut,
    Fut: std::future::Future<Output = Result<bool, Error>>,
{
    let started = std::time::Instant::now();
    let mut fired = 0;
    // Each page starts after the last marker seen, so markers that keep failing at the
    // head of the queue do not hide the ones behind them.
    let mut after = None;
    while started.elapsed() < budget {
        let now = state.clock.now();
        let upper = format!("{}~", crate::clock::millis_key(now));
        let page = state
            .table
            .query(
                &Query::partition(partition)
                    .sort_key(SortKey::Between("0".into(), upper))
                    .limit(BATCH)
                    .start(after.take()),
            )
            .await?;
        let Some(last) = page.items.last() else {
            break;
        };
        let next = crate::table::StartKey::after(crate::table::Index::Primary, last)?;
        let count = page.items.len();
        let mut done_keys = Vec::new();
        // A marker that fails (a record it cannot read, a race another worker won) is
        // logged and left for a later run: it must not hold up the others.
        for item in page.items {
            if started.elapsed() >= budget {
                break;
            }
            let Ok(key) = Key::of(&item) else { continue };
            match fire(key.clone(), item).await {
                Ok(done) => {
                    fired += usize::from(done);
                    if done {
                        done_keys.push(key);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, queue = partition, marker = %key.sk, "queue marker failed")
                }
            }
        }
        if remove_fired && !done_keys.is_empty() {
            let writes = done_keys
                .into_iter()
                .map(|key| crate::table::Write::Delete {
                    key,
                    condition: Condition::None,
                })
                .collect();
            state.table.transact(writes).await?;
        }
        if started.elapsed() >= budget {
            return Ok(fired);
        }
        if count < BATCH {
            break;
        }
        after = Some(next);
    }
    Ok(fired)
}

/// Removes a marker; one already gone (another worker's, a stale one) is fine.
pub async fn remove(state: &AppState, key: &Key) -> Result<(), Error> {
    match state.table.delete(key, Condition::Exists).await {
        Ok(()) | Err(TableError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
