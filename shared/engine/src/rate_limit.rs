//! Rate limits per tenant and per API key: token buckets kept as GCRA (a bucket is one
//! "theoretical arrival time"). A bucket holds a minute's worth of requests
//! (`CRM_RATE_LIMIT_TENANT`, `CRM_RATE_LIMIT_API_KEY`; 0 turns one off) and refills
//! evenly over the minute, so a steady load under the limit is never refused, and an
//! overload is let through at exactly the limit. Every signed-in request takes a token
//! from its API key's bucket (for keys) and from its tenant's; answers carry
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (of the tighter
//! bucket), and a refusal is 429 with `Retry-After`.
//!
//! The buckets live in the table, so however many Lambda instances (or servers) serve a
//! company, together they let its limit through, no more. A process leases tokens from
//! a bucket a few at a time (a twentieth of the limit while the bucket is full, fewer as
//! it empties, one at a time when it is nearly empty) with one conditional write, and
//! counts them out in memory; one lease per bucket is in flight per process, so
//! concurrent requests wait for it rather than contend for the item. Unused leased
//! tokens lapse after a minute (the bucket has refilled them by then).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use serde_json::json;

use crate::principal::{Caller, Principal};
use crate::table::{Condition, Key, Table, TableError, version_of};

/// A bucket size: requests per minute (and the burst a full bucket allows); 0 is no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
}

impl Rate {
    /// Microseconds between two requests at the steady rate.
    fn interval(self) -> i64 {
        60_000_000 / i64::from(self.per_minute.max(1))
    }

    /// How far ahead of now a bucket's arrival time may run: a full minute's burst.
    fn tolerance(self) -> i64 {
        self.interval() * i64::from(self.per_minute.max(1))
    }
}

/// What a bucket said to a request it let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowed {
    pub limit: u32,
    /// Requests the bucket would still let through now.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
}

/// The tokens of one bucket this process has leased and not used yet.
#[derive(Clone, Copy, Debug)]
struct Lease {
    left: u64,
    /// The bucket's free tokens (all processes) right after this lease was taken.
    free: u64,
    /// The bucket's arrival time then, for `RateLimit-Reset`.
    tat: i64,
    /// When the lease was taken; unused tokens lapse a minute later.
    at: i64,
}

/// Leases kept before lapsed ones are swept out.
const SWEEP_AT: usize = 10_000;
/// How long leased tokens stay usable.
const LEASE_LIFE: i64 = 60_000_000;

/// The limits, and the tokens this process holds of each busy bucket.
#[derive(Debug)]
pub struct RateLimits {
    pub tenant: Rate,
    pub api_key: Rate,
    leases: Mutex<HashMap<String, Lease>>,
    /// One lease in flight per bucket: the others wait for it.
    leasing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl RateLimits {
    pub fn new(tenant: Rate, api_key: Rate) -> Self {
        Self {
            tenant,
            api_key,
            leases: Mutex::new(HashMap::new()),
            leasing: Mutex::new(HashMap::new()),
        }
    }

    /// The buckets a caller spends from: its API key's (for keys), then its tenant's;
    /// buckets whose limit is off are left out.
    pub fn buckets(&self, principal: &Principal) -> Vec<(String, Rate)> {
        let mut buckets = Vec::with_capacity(2);
        if principal.caller == Caller::ApiKey {
            buckets.push((
                format!("{}/key/{}", principal.tenant, principal.user_id),
                self.api_key,
            ));
        }
        buckets.push((format!("{}/tenant", principal.tenant), self.tenant));
        buckets.retain(|(_, rate)| rate.per_minute > 0);
        buckets
    }

    /// Takes one token from this process's lease on `bucket`, if it has one.
    fn take_leased(&self, bucket: &str, rate: Rate, now: i64) -> Option<Allowed> {
        let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        let lease = leases.get_mut(bucket)?;
        if lease.left == 0 || now - lease.at > LEASE_LIFE {
            return None;
        }
        lease.left -= 1;
        Some(allowed(rate, lease, now))
    }

    /// Takes a token of `bucket` at `now` (microseconds): from this process's lease, or
    /// from a new one. Refused: the seconds until a token comes back.
    pub async fn take(
        &self,
        table: &dyn Table,
        bucket: &str,
        rate: Rate,
        now: i64,
    ) -> Result<Allowed, u64> {
        if let Some(allowed) = self.take_leased(bucket, rate, now) {
            return Ok(allowed);
        }
        let gate = {
            let mut leasing = self.leasing.lock().unwrap_or_else(|e| e.into_inner());
            if leasing.len() >= SWEEP_AT {
                leasing.retain(|_, g| Arc::strong_count(g) > 1);
            }
            leasing.entry(bucket.to_owned()).or_default().clone()
        };
        let _turn = gate.lock().await;
        // Another request may have leased while this one waited.
        if let Some(allowed) = self.take_leased(bucket, rate, now) {
            return Ok(allowed);
        }
        match lease(table, bucket, rate, now).await {
            Ok(mut lease) => {
                lease.left -= 1;
                let allowed = allowed(rate, &lease, now);
                let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
                if leases.len() >= SWEEP_AT {
                    leases.retain(|_, l| l.left > 0 && now - l.at <= LEASE_LIFE);
                }
                leases.insert(bucket.to_owned(), lease);
                Ok(allowed)
            }
            Err(Refused::Wait(secs)) => Err(secs),
            // The table is unavailable or the bucket's item too contended to answer: the
            // request will meet an unavailable table itself; don't refuse on a guess.
            Err(Refused::Unknown(why)) => {
                tracing::warn!(error = %why, "rate limit bucket unavailable");
                Ok(Allowed {
                    limit: rate.per_minute,
                    remaining: rate.per_minute,
                    reset_secs: 0,
                })
            }
        }
    }
}

/// What the caller is told of a bucket after taking a token from `lease`.
fn allowed(rate: Rate, lease: &Lease, now: i64) -> Allowed {
    let remaining = lease.free.saturating_add(lease.left);
    Allowed {
        limit: rate.per_minute,
        remaining: remaining.min(u64::from(rate.per_minute)) as u32,
        reset_secs: ((lease.tat - now).max(0) as u64).div_ceil(1_000_000),
    }
}

enum Refused {
    /// Empty: a token comes back in this many seconds.
    Wait(u64),
    /// Could not tell.
    Unknown(String),
}

/// The item of a bucket: keyed by a hash of the bucket's name, under the `G#` prefix of
/// counters that are not records (see `docs/data-model.md`).
fn bucket_key(bucket: &str) -> Key {
    let digest: String = Sha256::digest(bucket.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Key::new(format!("G#rate#{digest}"), "GCRA")
}

/// Leases tokens of `bucket` at `now`: as many as it can spare (see the module doc), at
/// least one, with a version-conditional write of its arrival time.
async fn lease(table: &dyn Table, bucket: &str, rate: Rate, now: i64) -> Result<Lease, Refused> {
    let key = bucket_key(bucket);
    let interval = rate.interval();
    let tolerance = rate.tolerance();
    for _ in 0..16 {
        let current = table
            .get(&key)
            .await
            .map_err(|e| Refused::Unknown(e.to_string()))?;
        let tat = current
            .as_ref()
            .and_then(|item| item.get("tat").and_then(|t| t.as_i64()))
            .unwrap_or(now)
            .max(now);
        // Tokens the bucket holds now.
        let free = (tolerance - (tat - now)).max(0) / interval;
        if free == 0 {
            let wait = tat + interval - tolerance - now;
            return Err(Refused::Wait((wait.max(1) as u64).div_ceil(1_000_000)));
        }
        let wanted = (i64::from(rate.per_minute) / 20).max(1);
        let take = wanted.min(free / 20).max(1);
        let next = tat + take * interval;
        // Version 0: none stored yet.
        let read = current.as_ref().and_then(version_of).unwrap_or(0);
        let (condition, version) = (Condition::at_version(read), read + 1);
        let item = json!({
            "pk": key.pk, "sk": key.sk, "tat": next, "version": version,
            // DynamoDB's TTL removes buckets idle long enough to be full again.
            "ttl": next / 1_000_000 + 3600,
        });
        let item = item.as_object().cloned().expect("an object");
        match table.put(item, condition).await {
            Ok(()) => {
                return Ok(Lease {
                    left: take as u64,
                    free: (free - take) as u64,
                    tat: next,
                    at: now,
                });
            }
            Err(TableError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(Refused::Unknown(e.to_string())),
        }
    }
    Err(Refused::Unknown("the bucket is contended".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::sqlite::SqliteTable;

    const SECOND: i64 = 1_000_000;

    /// Requests at `per_second` from `start` for `secs`: how many passed.
    async fn steady(
        limits: &RateLimits,
        table: &SqliteTable,
        rate: Rate,
        start: i64,
        per_second: i64,
        secs: i64,
    ) -> (usize, usize) {
        let (mut passed, mut refused) = (0, 0);
        for n in 0..per_second * secs {
            let now = start + n * SECOND / per_second;
            match limits.take(table, "k", rate, now).await {
                Ok(_) => passed += 1,
                Err(_) => refused += 1,
            }
        }
        (passed, refused)
    }

    #[tokio::test]
    async fn a_full_bucket_lets_a_minute_through_then_refills_evenly() {
        let table = SqliteTable::in_memory().unwrap();
        let limits = RateLimits::new(Rate { per_minute: 60 }, Rate { per_minute: 6 });
        let rate = Rate { per_minute: 6 };
        let t0 = 1_000 * SECOND;
        for left in (0..6).rev() {
            let allowed = limits.take(&table, "k", rate, t0).await.expect("burst");
            assert_eq!(allowed.remaining, left);
            assert_eq!(allowed.limit, 6);
        }
        // Empty: one token comes back every 10 seconds.
        assert_eq!(limits.take(&table, "k", rate, t0).await, Err(10));
        assert_eq!(
            limits.take(&table, "k", rate, t0 + 4 * SECOND).await,
            Err(6)
        );
        let again = limits.take(&table, "k", rate, t0 + 10 * SECOND).await;
        assert_eq!(again.unwrap().remaining, 0);
        // Other buckets are their own.
        assert!(limits.take(&table, "other", rate, t0).await.is_ok());
        // A minute idle fills it again.
        let later = t0 + 200 * SECOND;
        assert_eq!(
            limits
                .take(&table, "k", rate, later)
                .await
                .unwrap()
                .remaining,
            5
        );
    }

    #[tokio::test]
    async fn a_steady_load_under_the_limit_is_never_refused_even_after_a_burst() {
        let table = SqliteTable::in_memory().unwrap();
        let rate = Rate { per_minute: 6000 };
        let limits = RateLimits::new(rate, rate);
        let t0 = 1_000_000 * SECOND;
        // A burst empties the bucket: a minute's worth passes, then it refuses.
        let mut burst = 0;
        while limits.take(&table, "k", rate, t0).await.is_ok() {
            burst += 1;
        }
        assert_eq!(burst, 6000);
        // Then 95 a second for five minutes (the limit is 100): every one passes.
        let start = t0 + SECOND / 10;
        assert_eq!(
            steady(&limits, &table, rate, start, 95, 300).await,
            (95 * 300, 0)
        );
    }

    #[tokio::test]
    async fn an_overload_passes_exactly_the_limit() {
        let table = SqliteTable::in_memory().unwrap();
        let rate = Rate { per_minute: 600 };
        let limits = RateLimits::new(rate, rate);
        let t0 = 1_000_000 * SECOND;
        // 50 a second against a limit of 10 a second, for two minutes: the minute's
        // burst, then 10 a second.
        let (passed, refused) = steady(&limits, &table, rate, t0, 50, 120).await;
        assert!((600 + 1190..=600 + 1200).contains(&passed), "{passed}");
        assert_eq!(passed + refused, 6000);
    }

    #[tokio::test]
    async fn processes_on_one_table_share_each_bucket() {
        let table = SqliteTable::in_memory().unwrap();
        let rate = Rate { per_minute: 600 };
        let (a, b) = (RateLimits::new(rate, rate), RateLimits::new(rate, rate));
        let t0 = 1_000_000 * SECOND;
        let mut passed = 0;
        for n in 0..2000 {
            let limits = if n % 2 == 0 { &a } else { &b };
            if limits.take(&table, "k", rate, t0).await.is_ok() {
                passed += 1;
            }
        }
        assert_eq!(passed, 600);
    }
}
