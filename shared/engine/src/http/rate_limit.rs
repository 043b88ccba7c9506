//! The rate-limit middleware: spends tokens of [`crate::rate_limit`]'s buckets for each
//! signed-in request and answers with the `RateLimit-*` headers, or 429.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, Principal};
use crate::AppState;
use crate::error::Error;
use crate::rate_limit::Allowed;

fn headers(response: &mut Response, bucket: &Allowed) {
    let h = response.headers_mut();
    h.insert("ratelimit-limit", HeaderValue::from(bucket.limit));
    h.insert("ratelimit-remaining", HeaderValue::from(bucket.remaining));
    h.insert("ratelimit-reset", HeaderValue::from(bucket.reset_secs));
}

/// The middleware: signed-in requests spend tokens; others pass (their routes limit
/// themselves, and a bad token is answered by the route).
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &state.rate_limits;
    // With both limits off (a local server's default) there is nothing to spend, so the
    // caller is not authenticated twice.
    let off = limits.tenant.per_minute == 0 && limits.api_key.per_minute == 0;
    if off
        || !request
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
    let mut tightest = None::<Allowed>;
    for (bucket, rate) in limits.buckets(&principal) {
        match limits.take(state.table.as_ref(), &bucket, rate, now).await {
            Ok(allowed) => {
                if tightest.is_none_or(|t| allowed.remaining < t.remaining) {
                    tightest = Some(allowed);
                }
            }
            Err(retry_after) => return refusal(rate.per_minute, retry_after),
        }
    }
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(allowed) = &tightest {
        headers(&mut response, allowed);
    }
    response
}

/// The 429 of an empty bucket, with its headers.
fn refusal(limit: u32, retry_after: u64) -> Response {
    let mut response = ApiError(Error::TooManyRequests {
        retry_after,
        detail: "Too many requests for your company or API key; slow down.".into(),
    })
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
