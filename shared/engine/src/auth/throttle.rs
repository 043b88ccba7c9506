//! Attempt throttling: fixed-window counters kept in the table, so every Lambda instance
//! (and the local server) sees the same counts. An attempt is counted *before* the work it
//! guards (a password check), with a conditional write, so concurrent attempts cannot slip
//! past the limit together; a successful login gives its attempt back.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::table::{Condition, Key, Table, TableError, version_of};

/// A limit: at most `max` counted attempts per `window_secs`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: u64,
    pub window_secs: u64,
}

/// Failed logins allowed per account (email) before it is locked for the rest of the window.
pub const PER_ACCOUNT: Limit = Limit {
    max: 5,
    window_secs: 15 * 60,
};
/// Failed logins allowed per client address.
pub const PER_ADDRESS: Limit = Limit {
    max: 30,
    window_secs: 15 * 60,
};
/// Password-reset emails per account (email) and hour.
pub const RESETS_PER_ACCOUNT: Limit = Limit {
    max: 5,
    window_secs: 3600,
};
/// Sign-ups allowed per client address.
pub const SIGN_UPS_PER_ADDRESS: Limit = Limit {
    max: 20,
    window_secs: 3600,
};

/// The counter key for a subject (`email:...`, `ip:...`, `signup-ip:...`). Subjects are
/// hashed so no email or address is stored in a key. These counters are not tenant data
/// (a login names no tenant yet), so they live under the `G#` prefix; see
/// `docs/data-model.md`.
fn key(subject: &str, limit: Limit, now: i64) -> (Key, i64) {
    let window = now.div_euclid(limit.window_secs as i64);
    let digest: String = Sha256::digest(subject.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (
        Key::new(format!("G#throttle#{digest}"), format!("W#{window}")),
        (window + 1) * limit.window_secs as i64,
    )
}

/// Applies `change` to the counter (creating it at 0) with a version-conditional write,
/// retrying on contention. `change` returns the new count, or an error to stop.
async fn update(
    table: &dyn Table,
    key: &Key,
    window_end: i64,
    change: impl Fn(u64) -> Result<Option<u64>, Error>,
) -> Result<(), Error> {
    for _ in 0..16 {
        let current = table.get(key).await?;
        let count = current
            .as_ref()
            .and_then(|item| item.get("count").and_then(|c| c.as_u64()))
            .unwrap_or(0);
        let Some(next) = change(count)? else {
            return Ok(());
        };
        // Version 0: none stored yet.
        let read = current.as_ref().and_then(version_of).unwrap_or(0);
        let (condition, version) = (Condition::at_version(read), read + 1);
        let item = json!({
            "pk": key.pk, "sk": key.sk, "count": next, "version": version,
            // DynamoDB's TTL removes spent windows.
            "ttl": window_end + 3600,
        });
        let item = item.as_object().cloned().expect("an object");
        match table.put(item, condition).await {
            Ok(()) => return Ok(()),
            Err(TableError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::TooManyRequests {
        retry_after: 1,
        detail: "Too many attempts at once; try again in a moment.".into(),
    })
}

/// Counts one attempt for `subject`, or answers 429 if the window's attempts are used up.
pub async fn attempt(
    table: &dyn Table,
    subject: &str,
    limit: Limit,
    now: i64,
    detail: &str,
) -> Result<(), Error> {
    let (key, window_end) = key(subject, limit, now);
    update(table, &key, window_end, |count| {
        if count >= limit.max {
            Err(Error::TooManyRequests {
                retry_after: (window_end - now).max(1) as u64,
                detail: detail.to_owned(),
            })
        } else {
            Ok(Some(count + 1))
        }
    })
    .await
}

/// Gives back an attempt that turned out not to count (a successful login).
pub async fn forgive(
    table: &dyn Table,
    subject: &str,
    limit: Limit,
    now: i64,
) -> Result<(), Error> {
    let (key, window_end) = key(subject, limit, now);
    update(table, &key, window_end, |count| {
        Ok((count > 0).then(|| count - 1))
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::table::sqlite::SqliteTable;

    const LIMIT: Limit = Limit {
        max: 3,
        window_secs: 60,
    };

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_attempts_cannot_exceed_the_limit() {
        let table: Arc<dyn Table> = Arc::new(SqliteTable::in_memory().unwrap());
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let table = table.clone();
            tasks.push(tokio::spawn(async move {
                attempt(table.as_ref(), "ip:1", LIMIT, 1000, "slow down")
                    .await
                    .is_ok()
            }));
        }
        let mut allowed = 0;
        for t in tasks {
            allowed += t.await.unwrap() as usize;
        }
        assert_eq!(allowed, 3);
        // The next window starts afresh.
        assert!(
            attempt(table.as_ref(), "ip:1", LIMIT, 1060, "x")
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_forgiven_attempt_frees_its_place() {
        let table = SqliteTable::in_memory().unwrap();
        for _ in 0..3 {
            attempt(&table, "email:a", LIMIT, 0, "x").await.unwrap();
        }
        assert!(attempt(&table, "email:a", LIMIT, 0, "x").await.is_err());
        forgive(&table, "email:a", LIMIT, 0).await.unwrap();
        assert!(attempt(&table, "email:a", LIMIT, 0, "x").await.is_ok());
    }
}
