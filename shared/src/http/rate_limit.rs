//! Rate limits per tenant and per API key: token buckets, kept as GCRA (each bucket is
//! one "theoretical arrival time", so a check is one compare and one store). A bucket
//! holds a minute's worth of requests (`CRM_RATE_LIMIT_TENANT`,
//! `CRM_RATE_LIMIT_API_KEY`) and refills evenly over the minute. Every signed-in
//! request takes a token from its API key's bucket (for keys) and from its tenant's;
//! answers carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (of the
//! tighter bucket), and a refusal is 429 with `Retry-After`.
//!
//! The buckets live in the process: exact for the local server (one process serves the
//! company), per instance in Lambda. Public routes keep their own table-backed limits
//! (`auth::throttle`), which hold across instances.

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
}

/// Buckets kept before full ones are swept out.
const SWEEP_AT: usize = 10_000;

impl RateLimits {
    pub fn new(tenant: Rate, api_key: Rate) -> Self {
        Self {
            tenant,
            api_key,
            buckets: Mutex::new(HashMap::new()),
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

    /// Takes a token from each bucket the caller spends (API key, then tenant): the
    /// tighter answer, or the refusing bucket's limit and seconds to wait.
    fn check(&self, principal: &Principal, now: i64) -> Result<Allowed, (u32, u64)> {
        let refused = |rate: Rate| move |wait| (rate.per_minute, wait);
        let mut tightest = None::<Allowed>;
        if principal.caller == Caller::ApiKey {
            let key = format!("{}/key/{}", principal.tenant, principal.user_id);
            tightest = Some(
                self.take(&key, self.api_key, now)
                    .map_err(refused(self.api_key))?,
            );
        }
        let tenant = self
            .take(&format!("{}/tenant", principal.tenant), self.tenant, now)
            .map_err(refused(self.tenant))?;
        Ok(match tightest {
            Some(key) if key.remaining <= tenant.remaining => key,
            _ => tenant,
        })
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
    match limits.check(&principal, now) {
        Ok(allowed) => {
            let mut response = next.run(Request::from_parts(parts, body)).await;
            headers(&mut response, &allowed);
            response
        }
        Err((limit, retry_after)) => {
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
    }
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
