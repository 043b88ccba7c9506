//! Sending one message to a receiver: the request, its answer, what it came to.

use super::*;

/// What one send came to.
pub(super) struct Sent {
    pub(super) attempt: Attempt,
    pub(super) retry_after: Option<Duration>,
    /// Not sent, and no later attempt could be (the webhook is disabled, the event
    /// expired, its owner may no longer read it): the delivery fails now.
    pub(super) last: bool,
}

/// Sends one signed message to `webhook`: SSRF-checked, to the address checked, no
/// redirects, 15 s at most, the answer read up to [`EXCERPT_BYTES`].
pub(super) async fn send(
    state: &AppState,
    tenant: &TenantId,
    webhook: &Webhook,
    id: &str,
    body: &[u8],
) -> Sent {
    let now = state.clock.now();
    let started = Instant::now();
    let failed = |error: String| Sent {
        attempt: Attempt {
            at: rfc3339(now),
            status: None,
            latency_ms: started.elapsed().as_millis() as u64,
            response: None,
            error: Some(error),
        },
        retry_after: None,
        last: false,
    };
    let allow = state.config.webhooks_allow_loopback;
    let target = match target::parse(&webhook.url, allow) {
        Ok(t) => t,
        Err(refusal) => return failed(format!("refused: the URL {refusal}")),
    };
    let address = match target::resolve(&target, allow).await {
        Ok(a) => a,
        Err(refusal) => return failed(format!("refused: the URL {refusal}")),
    };
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .no_proxy()
        .resolve(&target.host, address)
        .user_agent("crm-webhooks/1")
        .build()
    {
        Ok(c) => c,
        Err(e) => return failed(format!("no HTTP client: {e}")),
    };
    let timestamp = now.unix_timestamp();
    let signature = sign(&webhook.signing_keys(state, tenant), id, timestamp, body);
    let response = client
        .post(target.url.clone())
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_vec())
        .send()
        .await;
    let mut response = match response {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return failed(format!("no answer within {} s", TIMEOUT.as_secs()));
        }
        Err(e) if e.is_connect() => return failed("could not connect".into()),
        Err(_) => return failed("the request failed".into()),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
    let mut excerpt = Vec::new();
    while excerpt.len() < EXCERPT_BYTES {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(started + TIMEOUT),
            response.chunk(),
        )
        .await
        {
            Ok(Ok(Some(chunk))) => excerpt.extend_from_slice(&chunk),
            _ => break,
        }
    }
    excerpt.truncate(EXCERPT_BYTES);
    Sent {
        attempt: Attempt {
            at: rfc3339(now),
            status: Some(status),
            latency_ms: started.elapsed().as_millis() as u64,
            response: (!excerpt.is_empty()).then(|| String::from_utf8_lossy(&excerpt).into_owned()),
            error: None,
        },
        retry_after,
        last: false,
    }
}

pub(super) fn refusal(now: OffsetDateTime, why: &str) -> Sent {
    Sent {
        attempt: Attempt {
            at: rfc3339(now),
            status: None,
            latency_ms: 0,
            response: None,
            error: Some(why.to_owned()),
        },
        retry_after: None,
        last: true,
    }
}

pub(super) fn is_success(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}
