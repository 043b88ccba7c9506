//! Rate limits per tenant and per API key: token buckets, kept as GCRA (each bucket is
//! one "theoretical arrival time", so a check is one compare and one store). A bucket
//! holds a minute's worth of requests (`CRM_RATE_LIMIT_TENANT`,
//! `CRM_RATE_LIMIT_API_KEY`) and refills evenly over the minute. Every signed-in
//! request takes a token from its API key's bucket (for keys) and from its tenant's;
//! answers carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (of the
//! tighter bucket), and a refusal is 429 with `Retry-After`.
//!
//! The buckets live in the process, and every process also leases its tokens from a
//! per-minute counter in the table (`auth::throttle::lease`), a twentieth of the limit at
//! a time: so however many Lambda instances serve a company, together they let at most
//! the limit through in a clock minute, at the cost of one table write per lease. (A
//! single process is held by its own bucket as before; the shared window adds the cap
//! across instances.)

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::principal::Caller;
use super::{ApiError, Principal};
use crate::AppState;

/// A bucket size: requests per minute (and the burst a full bucket allows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
}

impl Rate {
    /// Microseconds between two requests at the steady rate.
    fn interval(self) -> i64 {
        60_000_000 / i64::from(self.per_minute.max(1))
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

/// Buckets kept in memory, keyed by tenant and API key. Buckets that are full again are
/// dropped when the map grows, so it holds only the recently busy ones.
#[derive(Debug)]
pub struct RateLimits {
    pub tenant: Rate,
    pub api_key: Rate,
    /// Theoretical arrival time per bucket, microseconds since the epoch.
    buckets: Mutex<HashMap<String, i64>>,
    leases: Mutex<HashMap<String, Lease>>,
}

/// Buckets kept before full ones are swept out.
const SWEEP_AT: usize = 10_000;

/// The tokens of a bucket's shared minute that this process holds.
#[derive(Clone, Copy, Debug)]
struct Lease {
    window: i64,
    left: u64,
    /// The window's count (all processes) when this lease was taken.
    count: u64,
}

impl RateLimits {
    pub fn new(tenant: Rate, api_key: Rate) -> Self {
        Self {
            tenant,
            api_key,
            buckets: Mutex::new(HashMap::new()),
            leases: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token from bucket `key` of `rate` at `now` (microseconds), or says in how
    /// many seconds one will be there.
    pub fn take(&self, key: &str, rate: Rate, now: i64) -> Result<Allowed, u64> {
        let interval = rate.interval();
        // A full bucket lets `per_minute` requests through at once.
        let tolerance = interval * i64::from(rate.per_minute.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= SWEEP_AT {
            buckets.retain(|_, tat| *tat > now);
        }
        let tat = buckets.get(key).copied().unwrap_or(now).max(now);
        let next = tat + interval;
        if next - now > tolerance {
            let wait = next - now - tolerance;
            return Err((wait as u64).div_ceil(1_000_000).max(1));
        }
        buckets.insert(key.to_owned(), next);
        Ok(Allowed {
            limit: rate.per_minute,
            remaining: ((tolerance - (next - now)) / interval) as u32,
            reset_secs: ((next - now) as u64).div_ceil(1_000_000),
        })
    }

    /// The buckets a caller spends from: its API key's (for keys), then its tenant's.
    fn buckets(&self, principal: &Principal) -> Vec<(String, Rate)> {
        let mut buckets = Vec::with_capacity(2);
        if principal.caller == Caller::ApiKey {
            buckets.push((
                format!("{}/key/{}", principal.tenant, principal.user_id),
                self.api_key,
            ));
        }
        buckets.push((format!("{}/tenant", principal.tenant), self.tenant));
        buckets
    }

    /// Takes a token from each bucket the caller spends (API key, then tenant): the
    /// tighter answer, or the refusing bucket's limit and seconds to wait.
    fn check(&self, principal: &Principal, now: i64) -> Result<Allowed, (u32, u64)> {
        let mut tightest = None::<Allowed>;
        for (bucket, rate) in self.buckets(principal) {
            let allowed = self
                .take(&bucket, rate, now)
                .map_err(|wait| (rate.per_minute, wait))?;
            if tightest.is_none_or(|t| allowed.remaining < t.remaining) {
                tightest = Some(allowed);
            }
        }
        Ok(tightest.expect("a caller spends from at least its tenant's bucket"))
    }

    /// Spends one token of `bucket`'s shared minute: from this process's lease, or from
    /// a new lease. Returns the tokens the window still has (an estimate between leases),
    /// or the seconds until the next window when it has none.
    async fn spend_shared(
        &self,
        table: &dyn crate::table::Table,
        bucket: &str,
        rate: Rate,
        now_secs: i64,
    ) -> Result<u64, u64> {
        let per_minute = u64::from(rate.per_minute.max(1));
        let window = now_secs.div_euclid(60);
        {
            let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(lease) = leases.get_mut(bucket)
                && lease.window == window
                && lease.left > 0
            {
                lease.left -= 1;
                return Ok(per_minute.saturating_sub(lease.count) + lease.left);
            }
        }
        let limit = crate::auth::throttle::Limit {
            max: per_minute,
            window_secs: 60,
        };
        let wanted = (per_minute / 20).max(1);
        match crate::auth::throttle::lease(
            table,
            &format!("rate:{bucket}"),
            limit,
            wanted,
            now_secs,
        )
        .await
        {
            Ok((got, count)) => {
                let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
                if leases.len() >= SWEEP_AT {
                    leases.retain(|_, l| l.window == window);
                }
                // Requests that leased at once each add theirs: none is lost.
                let lease = leases.entry(bucket.to_owned()).or_insert(Lease {
                    window,
                    left: 0,
                    count: 0,
                });
                if lease.window != window {
                    *lease = Lease {
                        window,
                        left: 0,
                        count: 0,
                    };
                }
                lease.left += got.saturating_sub(1);
                lease.count = lease.count.max(count);
                Ok(per_minute.saturating_sub(lease.count) + lease.left)
            }
            Err(ApiError::TooManyRequests { retry_after, .. }) => Err(retry_after),
            // The table is unavailable: the request will meet that itself; the process's
            // own bucket still holds.
            Err(e) => {
                tracing::warn!(error = %e, "rate limit lease unavailable");
                Ok(u64::MAX)
            }
        }
    }
}

fn headers(response: &mut Response, bucket: &Allowed) {
    let h = response.headers_mut();
    h.insert("ratelimit-limit", HeaderValue::from(bucket.limit));
    h.insert("ratelimit-remaining", HeaderValue::from(bucket.remaining));
    h.insert("ratelimit-reset", HeaderValue::from(bucket.reset_secs));
}

/// The middleware: signed-in requests spend tokens; others pass (their routes limit
/// themselves, and a bad token is answered by the route).
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !request
        .headers()
        .contains_key(axum::http::header::AUTHORIZATION)
    {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let Ok(principal) = Principal::from_request_parts(&mut parts, &state).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let now = (state.clock.now().unix_timestamp_nanos() / 1000) as i64;
    let limits = &state.rate_limits;
    let mut allowed = match limits.check(&principal, now) {
        Ok(allowed) => allowed,
        Err((limit, retry_after)) => return refusal(limit, retry_after),
    };
    for (bucket, rate) in limits.buckets(&principal) {
        match limits
            .spend_shared(
                state.table.as_ref(),
                &bucket,
                rate,
                now.div_euclid(1_000_000),
            )
            .await
        {
            Ok(left) => {
                allowed.remaining = allowed.remaining.min(left.min(u64::from(u32::MAX)) as u32)
            }
            Err(retry_after) => return refusal(rate.per_minute, retry_after),
        }
    }
    let mut response = next.run(Request::from_parts(parts, body)).await;
    headers(&mut response, &allowed);
    response
}

/// The 429 of an empty bucket, with its headers.
fn refusal(limit: u32, retry_after: u64) -> Response {
    let mut response = ApiError::TooManyRequests {
        retry_after,
        detail: "Too many requests for your company or API key; slow down.".into(),
    }
    .into_response();
    // The empty bucket: full again once its wait is over, one token at a time.
    let empty = Allowed {
        limit,
        remaining: 0,
        reset_secs: retry_after,
    };
    headers(&mut response, &empty);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000;

    #[test]
    fn a_full_bucket_lets_a_minute_through_then_refills_evenly() {
        let limits = RateLimits::new(Rate { per_minute: 60 }, Rate { per_minute: 6 });
        let rate = Rate { per_minute: 6 };
        let t0 = 1_000 * SECOND;
        for left in (0..6).rev() {
            let allowed = limits.take("k", rate, t0).expect("within the burst");
            assert_eq!(allowed.remaining, left);
            assert_eq!(allowed.limit, 6);
        }
        // Empty: one token comes back every 10 seconds.
        assert_eq!(limits.take("k", rate, t0), Err(10));
        assert_eq!(limits.take("k", rate, t0 + 4 * SECOND), Err(6));
        let again = limits.take("k", rate, t0 + 10 * SECOND).expect("refilled");
        assert_eq!(again.remaining, 0);
        assert_eq!(again.reset_secs, 60);
        // Other buckets are their own.
        assert!(limits.take("other", rate, t0).is_ok());
        // A minute idle fills it again.
        let later = t0 + 200 * SECOND;
        assert_eq!(limits.take("k", rate, later).unwrap().remaining, 5);
    }

    #[test]
    fn full_buckets_are_swept_when_the_map_grows() {
        let limits = RateLimits::new(Rate { per_minute: 60 }, Rate { per_minute: 60 });
        let rate = Rate { per_minute: 60 };
        for n in 0..SWEEP_AT {
            limits.take(&format!("k{n}"), rate, 0).unwrap();
        }
        limits.take("late", rate, 3_600 * SECOND).unwrap();
        assert_eq!(limits.buckets.lock().unwrap().len(), 1);
    }
}
