//! Login throttling: fixed-window failure counters kept in the table, so every Lambda
//! instance (and the local server) sees the same counts. An account or an address that
//! fails too often is refused with 429 until its window ends.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::http::ApiError;
use crate::table::{Condition, Key, Table, TableError, version_of};

/// A limit: at most `max` failures per `window_secs`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: u64,
    pub window_secs: u64,
}

/// Failures allowed per account (email) before it is locked for the rest of the window.
pub const PER_ACCOUNT: Limit = Limit {
    max: 5,
    window_secs: 15 * 60,
};
/// Failures allowed per client address.
pub const PER_ADDRESS: Limit = Limit {
    max: 30,
    window_secs: 15 * 60,
};

/// The counter key for a subject (`email:...` or `ip:...`). Subjects are hashed so no
/// email or address is stored in a key. These counters are not tenant data (a login names
/// no tenant yet), so they live under the `G#` prefix; see `docs/data-model.md`.
fn key(subject: &str, limit: Limit, now: i64) -> (Key, i64) {
    let window = now.div_euclid(limit.window_secs as i64);
    let digest = hex(&Sha256::digest(subject.as_bytes()));
    (
        Key::new(format!("G#throttle#{digest}"), format!("W#{window}")),
        (window + 1) * limit.window_secs as i64,
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 429 if `subject` already used up `limit` in the current window.
pub async fn check(
    table: &dyn Table,
    subject: &str,
    limit: Limit,
    now: i64,
) -> Result<(), ApiError> {
    let (key, window_end) = key(subject, limit, now);
    let count = table
        .get(&key)
        .await?
        .and_then(|item| item.get("count").and_then(|c| c.as_u64()))
        .unwrap_or(0);
    if count >= limit.max {
        return Err(ApiError::TooManyRequests {
            retry_after: (window_end - now).max(1) as u64,
            detail: "Too many failed sign-in attempts; try again later.".into(),
        });
    }
    Ok(())
}

/// Counts one failure for `subject`.
pub async fn record_failure(
    table: &dyn Table,
    subject: &str,
    limit: Limit,
    now: i64,
) -> Result<(), ApiError> {
    let (key, window_end) = key(subject, limit, now);
    for _ in 0..8 {
        let current = table.get(&key).await?;
        let (count, condition) = match &current {
            Some(item) => (
                item.get("count").and_then(|c| c.as_u64()).unwrap_or(0),
                Condition::VersionIs(version_of(item).unwrap_or(0)),
            ),
            None => (0, Condition::NotExists),
        };
        let version = current.as_ref().and_then(version_of).unwrap_or(0) + 1;
        let item = json!({
            "pk": key.pk, "sk": key.sk, "count": count + 1, "version": version,
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
    // Under heavy contention some failures go uncounted; the limit still holds roughly.
    Ok(())
}
