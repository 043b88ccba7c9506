//! Delivering events to webhooks.
//!
//! **Fan-out.** Each outbox marker (see [`crate::events`]) becomes one delivery per
//! enabled subscription that wants the event and whose owner may read the record. A
//! delivery's id is its event's id, so fanning out twice (a retried marker) makes no
//! second delivery, and the `webhook-id` header is the same on every attempt and replay:
//! receivers drop duplicates by it.
//!
//! **Attempts.** Every pending delivery has a marker in a global time-ordered queue
//! (`G#webhook-attempts`). A worker first *claims* a due marker: in one transaction it
//! removes it and puts a lease marker a minute ahead, on the delivery's version. Only then
//! does it send; the result is written with the next attempt's marker. A worker that dies
//! mid-send leaves the lease, which comes due and is tried again: no pending delivery is
//! lost, and one worker at a time sends a delivery.
//!
//! **Retries.** After a failure (an error, a timeout, or any status but 2xx) the next
//! attempt waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, then 24 h, or longer when
//! the receiver's `Retry-After` asks; after the tenth attempt the delivery has failed. A
//! 410 Gone disables the endpoint at once; an endpoint whose deliveries have all failed
//! for five days is disabled too, and the company's admins are notified.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;

use super::{Webhook, target};
use crate::AppState;
use crate::clock::{millis_key, rfc3339};
use crate::events::{self, Event, OutboxMarker};
use crate::http::cursor::{ListPage, ListParams};
use crate::http::principal::RequestMeta;
use crate::http::{ApiError, Principal};
use crate::ids::{TenantId, is_id, new_id};
use crate::notifications::{self, NotificationKind};
use crate::policy::Action;
use crate::table::{Condition, Item, Key, Query, SortKey, TableError, Write, from_item, to_item};

/// The queue of delivery attempts.
pub const QUEUE: &str = "G#webhook-attempts";
/// The waits before the 2nd, 3rd, ... 10th attempt.
pub const SCHEDULE: [Duration; 9] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(20 * 3600),
    Duration::from_secs(24 * 3600),
];
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How much of a receiver's answer the log keeps.
pub const EXCERPT_BYTES: usize = 1024;
/// How long a claimed attempt may take before another worker tries again.
const LEASE: Duration = Duration::from_secs(60);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// After this long with nothing but failures an endpoint is disabled.
const FAILING_LIMIT: time::Duration = time::Duration::days(5);
/// Attempts kept in a delivery's log (the first and the latest ones).
const MAX_LOGGED_ATTEMPTS: usize = 12;
/// Events one replay request looks at, at most.
pub const MAX_REPLAY: usize = 200;
/// How long a stream invocation spends on attempts after handing its events on.
const STREAM_ATTEMPTS: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Delivered,
    Failed,
}

/// One try at delivering.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: String,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// The start of the receiver's answer (at most 1 KiB).
    pub response: Option<String>,
    /// Why there was no answer, or why it was refused before sending.
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The event's id: the `webhook-id` header, the same on every attempt.
    pub id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub status: Status,
    pub attempts: Vec<Attempt>,
    /// How many attempts were made (the log keeps the first and latest).
    pub attempt_count: u32,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
    /// The sort key of its queue marker while one is pending (stored, never shown).
    #[serde(default, skip_serializing)]
    queued: Option<String>,
    /// Attempts since it was (re)queued: what the retry schedule counts (stored, never
    /// shown), so a replayed delivery gets the whole schedule again.
    #[serde(default, skip_serializing)]
    tries: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct QueueMarker {
    tenant: String,
    webhook_id: String,
    delivery_id: String,
}

fn deliveries_pk(tenant: &TenantId, webhook_id: &str) -> String {
    tenant.pk(&format!("webhook-deliveries#{webhook_id}"))
}

fn delivery_key(tenant: &TenantId, webhook_id: &str, id: &str) -> Key {
    Key::new(deliveries_pk(tenant, webhook_id), id)
}

/// A delivery as stored: DynamoDB's TTL removes it 30 days after its last change, as
/// its event goes.
fn stored(tenant: &TenantId, delivery: &Delivery, now: OffsetDateTime) -> Result<Item, TableError> {
    let mut item = to_item(
        &delivery_key(tenant, &delivery.webhook_id, &delivery.id),
        delivery,
    )?;
    if let Some(queued) = &delivery.queued {
        item.insert("queued".into(), queued.clone().into());
    }
    item.insert("tries".into(), delivery.tries.into());
    let expires = now + time::Duration::days(events::RETENTION_DAYS);
    item.insert("ttl".into(), expires.unix_timestamp().into());
    Ok(item)
}

fn queue_sk(at: OffsetDateTime, tenant: &TenantId, webhook_id: &str, id: &str) -> String {
    format!("{}#{tenant}#{webhook_id}#{id}", millis_key(at))
}

fn queue_write(tenant: &TenantId, delivery: &Delivery) -> Result<Option<Write>, TableError> {
    let Some(sk) = &delivery.queued else {
        return Ok(None);
    };
    Ok(Some(Write::Put {
        item: to_item(
            &Key::new(QUEUE, sk),
            &QueueMarker {
                tenant: tenant.to_string(),
                webhook_id: delivery.webhook_id.clone(),
                delivery_id: delivery.id.clone(),
            },
        )?,
        condition: Condition::None,
    }))
}

/// Standard Webhooks signatures of a message: `v1,<base64 HMAC-SHA256>` of
/// `id.timestamp.body` under each key, separated by spaces.
pub fn sign(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|key| {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What one send came to.
struct Sent {
    attempt: Attempt,
    retry_after: Option<Duration>,
    /// Not sent, and no later attempt could be (the webhook is disabled, the event
    /// expired, its owner may no longer read it): the delivery fails now.
    last: bool,
}

/// Sends one signed message to `webhook`: SSRF-checked, to the address checked, no
/// redirects, 15 s at most, the answer read up to [`EXCERPT_BYTES`].
async fn send(
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

/// The principal a webhook acts as (its owner, as they are now); `None` when they can
/// no longer act.
async fn owner_of(
    state: &AppState,
    tenant: &TenantId,
    webhook: &Webhook,
) -> Result<Option<Principal>, ApiError> {
    let request = RequestMeta::default();
    crate::auth::service::principal_for(state, tenant, &webhook.owner, request).await
}

// --- Fan-out ---------------------------------------------------------------------------

/// Turns the outbox's due markers into deliveries, until none is left or `budget` is
/// spent. Returns how many events were handed on.
pub async fn run_outbox(state: &AppState, budget: Duration) -> Result<usize, ApiError> {
    crate::reminders::run_queue(state, events::OUTBOX, budget, |key, item| {
        fan_out_marker(state, key, item)
    })
    .await
}

/// Fans out the event of one outbox marker, then removes the marker.
pub async fn fan_out_marker(state: &AppState, key: Key, item: Item) -> Result<bool, ApiError> {
    if let Ok(marker) = from_item::<OutboxMarker>(item)
        && let Some(tenant) = TenantId::parse(&marker.tenant)
        // Most companies have no webhooks: their events need not even be read.
        && !super::all(state, &tenant).await?.is_empty()
        && let Some(event) = state
            .table
            .get(&events::key(&tenant, &marker.event_id))
            .await?
    {
        let event: Event = from_item(event)?;
        fan_out(state, &tenant, &event, None).await?;
    }
    state.table.delete(&key, Condition::None).await?;
    Ok(true)
}

/// Makes (or, with `requeue`, puts back in the queue) the deliveries of `event` to the
/// subscriptions that want it: all of the tenant's, or only `only`. Returns how many
/// were queued.
async fn fan_out(
    state: &AppState,
    tenant: &TenantId,
    event: &Event,
    only: Option<(&Webhook, &Principal)>,
) -> Result<usize, ApiError> {
    if let Some((webhook, owner)) = only {
        let visible = webhook.enabled && webhook.wants(&event.kind) && event.view(owner).is_some();
        return Ok(usize::from(
            visible && queue(state, tenant, webhook, event, true).await?,
        ));
    }
    let mut queued = 0;
    for webhook in super::all(state, tenant)
        .await?
        .iter()
        .filter(|w| w.enabled && w.wants(&event.kind))
    {
        // An owner who can no longer act (or read the record) gets nothing sent.
        let Some(owner) = owner_of(state, tenant, webhook).await? else {
            continue;
        };
        if event.view(&owner).is_some() && queue(state, tenant, webhook, event, false).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Queues the delivery of `event` to `webhook` now: a new one, or with `again` an
/// existing one put back (a replay). Returns whether it was queued.
async fn queue(
    state: &AppState,
    tenant: &TenantId,
    webhook: &Webhook,
    event: &Event,
    again: bool,
) -> Result<bool, ApiError> {
    let key = delivery_key(tenant, &webhook.id, &event.id);
    for _ in 0..3 {
        let now = state.clock.now();
        let current: Option<Delivery> = match state.table.get(&key).await? {
            Some(item) => Some(from_item(item)?),
            None => None,
        };
        let sk = queue_sk(now, tenant, &webhook.id, &event.id);
        let (next, condition, stale) = match current {
            None => (
                Delivery {
                    id: event.id.clone(),
                    webhook_id: webhook.id.clone(),
                    event_type: event.kind.clone(),
                    status: Status::Pending,
                    attempts: Vec::new(),
                    attempt_count: 0,
                    next_attempt_at: Some(rfc3339(now)),
                    created_at: rfc3339(now),
                    updated_at: rfc3339(now),
                    version: 1,
                    queued: Some(sk),
                    tries: 0,
                },
                Condition::NotExists,
                None,
            ),
            Some(_) if !again => return Ok(false),
            Some(current) => {
                let mut next = current.clone();
                next.status = Status::Pending;
                next.next_attempt_at = Some(rfc3339(now));
                next.updated_at = rfc3339(now);
                next.version += 1;
                next.queued = Some(sk);
                next.tries = 0;
                (next, Condition::VersionIs(current.version), current.queued)
            }
        };
        let mut writes = vec![Write::Put {
            item: stored(tenant, &next, now)?,
            condition,
        }];
        writes.extend(queue_write(tenant, &next)?);
        if let Some(old) = stale {
            writes.push(Write::Delete {
                key: Key::new(QUEUE, old),
                condition: Condition::None,
            });
        }
        match state.table.transact(writes).await {
            Ok(()) => return Ok(true),
            Err(TableError::ConditionFailed { .. }) if !again => return Ok(false),
            Err(TableError::ConditionFailed { .. } | TableError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        "delivery-busy",
        "The delivery changed while it was queued again; try again.",
    ))
}

// --- Attempts --------------------------------------------------------------------------

/// Makes the attempts due by now, until none is left or `budget` is spent. Returns how
/// many were made.
pub async fn run_due(state: &AppState, budget: Duration) -> Result<usize, ApiError> {
    crate::reminders::run_queue(state, QUEUE, budget, |key, item| attempt(state, key, item)).await
}

/// Hands on the outbox and makes the attempts due: what the local worker and the
/// dispatcher function run.
pub async fn run(state: &AppState, budget: Duration) -> Result<(usize, usize), ApiError> {
    let events = run_outbox(state, budget / 2).await?;
    let attempts = run_due(state, budget / 2).await?;
    Ok((events, attempts))
}

/// The local server's dispatcher: hands on new events and makes due attempts, until
/// `stop`. (In AWS the `dispatcher` function runs the same code, woken by the table's
/// stream and by a schedule.)
pub async fn worker(
    state: AppState,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // Webhooks need no faster turn than a quarter second, however eager the job worker.
    let interval = interval.max(Duration::from_millis(250));
    let mut expired_at = None::<std::time::Instant>;
    loop {
        if let Err(e) = run(&state, Duration::from_secs(30)).await {
            tracing::warn!(error = %e, "webhook dispatch unavailable");
        }
        // The embedded table has no TTL of its own: events and deliveries past their 30
        // days (and spent counters) go hourly. (DynamoDB removes them itself.)
        if expired_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
            expired_at = Some(std::time::Instant::now());
            let now = state.clock.now().unix_timestamp();
            if let Err(e) = state.table.expire(now).await {
                tracing::warn!(error = %e, "expiring items failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The keys of the items a DynamoDB stream batch (as Lambda delivers it) inserted.
pub fn stream_keys(batch: &serde_json::Value) -> Vec<Key> {
    let Some(records) = batch.get("Records").and_then(serde_json::Value::as_array) else {
        return Vec::new();
    };
    records
        .iter()
        .filter(|r| r.get("eventName").and_then(serde_json::Value::as_str) == Some("INSERT"))
        .filter_map(|r| {
            let keys = r.get("dynamodb")?.get("Keys")?;
            let text = |name: &str| keys.get(name)?.get("S")?.as_str().map(str::to_owned);
            Some(Key::new(text("pk")?, text("sk")?))
        })
        .collect()
}

/// Hands on the events of the outbox markers a stream batch shows (their keys), then
/// makes the attempts due. Markers already handled (gone from the table) are skipped.
pub async fn on_stream(
    state: &AppState,
    keys: Vec<Key>,
    budget: Duration,
) -> Result<(usize, usize), ApiError> {
    let mut events = 0;
    for key in keys.into_iter().filter(|k| k.pk == events::OUTBOX) {
        if let Some(item) = state.table.get(&key).await? {
            fan_out_marker(state, key, item).await?;
            events += 1;
        }
    }
    // Only what is due now, briefly: the stream's next batch must not wait behind a slow
    // receiver (the schedule works through the rest).
    let attempts = run_due(state, budget.min(STREAM_ATTEMPTS)).await?;
    Ok((events, attempts))
}

/// Makes the attempt of one due queue marker; false when it was stale or another worker
/// claimed it first.
async fn attempt(state: &AppState, key: Key, item: Item) -> Result<bool, ApiError> {
    let marker = from_item::<QueueMarker>(item).ok();
    let tenant = marker.as_ref().and_then(|m| TenantId::parse(&m.tenant));
    let (Some(marker), Some(tenant)) = (marker, tenant) else {
        state.table.delete(&key, Condition::None).await?;
        return Ok(false);
    };
    let dkey = delivery_key(&tenant, &marker.webhook_id, &marker.delivery_id);
    let current: Option<Delivery> = match state.table.get(&dkey).await? {
        Some(item) => Some(from_item(item)?),
        None => None,
    };
    let Some(current) = current
        .filter(|d| d.status == Status::Pending && d.queued.as_deref() == Some(key.sk.as_str()))
    else {
        // Stale, or claimed by another worker meanwhile (then already gone).
        state.table.delete(&key, Condition::None).await?;
        return Ok(false);
    };
    // Claim it: the due marker gives way to a lease, on the delivery's version.
    let now = state.clock.now();
    let lease = queue_sk(
        now + LEASE,
        &tenant,
        &marker.webhook_id,
        &marker.delivery_id,
    );
    let mut claimed = current.clone();
    claimed.version += 1;
    claimed.queued = Some(lease.clone());
    let mut writes = vec![
        Write::Delete {
            key: key.clone(),
            condition: Condition::Exists,
        },
        Write::Put {
            item: stored(&tenant, &claimed, now)?,
            condition: Condition::VersionIs(current.version),
        },
    ];
    writes.extend(queue_write(&tenant, &claimed)?);
    match state.table.transact(writes).await {
        Ok(()) => {}
        Err(TableError::ConditionFailed { .. } | TableError::Conflict) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    // Only a webhook that is gone ends its deliveries; a failed read is tried again (the
    // lease brings the attempt back).
    let webhook = match super::load(state, &tenant, &marker.webhook_id).await {
        Ok(w) => Some(w),
        Err(ApiError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let event = match state
        .table
        .get(&events::key(&tenant, &marker.delivery_id))
        .await?
    {
        Some(item) => Some(from_item::<Event>(item)?),
        None => None,
    };
    let sent = match (&webhook, &event) {
        (None, _) => None,
        (Some(w), _) if !w.enabled => Some(refusal(now, "the webhook is disabled")),
        (Some(_), None) => Some(refusal(now, "the event is past its 30 days")),
        (Some(w), Some(e)) => Some(match owner_of(state, &tenant, w).await? {
            None => refusal(now, "the webhook's owner can no longer act"),
            Some(owner) => match e.view(&owner) {
                None => refusal(now, "the webhook's owner may no longer read the record"),
                Some(view) => {
                    let body = serde_json::to_vec(&view)
                        .map_err(|e| ApiError::Internal(format!("serializing an event: {e}")))?;
                    send(state, &tenant, w, &view.id, &body).await
                }
            },
        }),
    };
    let Some(sent) = sent else {
        // The webhook is gone: so are its deliveries' attempts.
        state
            .table
            .transact(vec![
                Write::Delete {
                    key: Key::new(QUEUE, lease),
                    condition: Condition::None,
                },
                Write::Delete {
                    key: dkey,
                    condition: Condition::None,
                },
            ])
            .await?;
        return Ok(true);
    };
    record(state, &tenant, claimed, lease, sent, webhook.as_ref()).await?;
    Ok(true)
}

fn refusal(now: OffsetDateTime, why: &str) -> Sent {
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

fn is_success(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}

/// Writes an attempt's outcome (on the claimed version), queues the next attempt if one
/// is due, and updates the endpoint's health.
async fn record(
    state: &AppState,
    tenant: &TenantId,
    claimed: Delivery,
    lease: String,
    sent: Sent,
    webhook: Option<&Webhook>,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut next = claimed.clone();
    let status = sent.attempt.status;
    let last = sent.last;
    next.attempt_count += 1;
    next.tries += 1;
    next.attempts.push(sent.attempt);
    if next.attempts.len() > MAX_LOGGED_ATTEMPTS {
        next.attempts.remove(1);
    }
    next.version += 1;
    next.updated_at = rfc3339(now);
    next.queued = None;
    next.next_attempt_at = None;
    let gone = status == Some(410);
    if is_success(status) {
        next.status = Status::Delivered;
    } else if gone || last || next.tries as usize > SCHEDULE.len() {
        next.status = Status::Failed;
    } else {
        let wait = SCHEDULE[next.tries as usize - 1].max(sent.retry_after.unwrap_or_default());
        let at = now + wait;
        next.next_attempt_at = Some(rfc3339(at));
        next.queued = Some(queue_sk(at, tenant, &next.webhook_id, &next.id));
    }
    let mut writes = vec![
        Write::Put {
            item: stored(tenant, &next, now)?,
            condition: Condition::VersionIs(claimed.version),
        },
        Write::Delete {
            key: Key::new(QUEUE, lease),
            condition: Condition::None,
        },
    ];
    writes.extend(queue_write(tenant, &next)?);
    match state.table.transact(writes).await {
        Ok(()) => {}
        // Replayed meanwhile: the replay's attempt takes over.
        Err(TableError::ConditionFailed { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    if let Some(webhook) = webhook.filter(|w| w.enabled && !last) {
        health(state, tenant, webhook, is_success(status), gone).await?;
    }
    Ok(())
}

/// Keeps `failing_since` and disables an endpoint that answered 410 or has failed for
/// five days (notifying the admins).
async fn health(
    state: &AppState,
    tenant: &TenantId,
    webhook: &Webhook,
    succeeded: bool,
    gone: bool,
) -> Result<(), ApiError> {
    for _ in 0..3 {
        let current = super::load(state, tenant, &webhook.id).await?;
        let now = state.clock.now();
        let mut next = current.clone();
        if succeeded {
            next.failing_since = None;
        } else {
            let since = next
                .failing_since
                .get_or_insert_with(|| rfc3339(now))
                .clone();
            let since =
                OffsetDateTime::parse(&since, &time::format_description::well_known::Rfc3339)
                    .unwrap_or(now);
            if gone {
                next.enabled = false;
                next.disabled_reason = Some("gone".into());
            } else if now - since >= FAILING_LIMIT {
                next.enabled = false;
                next.disabled_reason = Some("failing".into());
            }
        }
        if next == current || !current.enabled {
            return Ok(());
        }
        next.version += 1;
        next.updated_at = rfc3339(now);
        let disabled = !next.enabled;
        let mut notices = None;
        let mut writes = vec![Write::Put {
            item: to_item(&super::key(tenant, &next.id), &next)?,
            condition: Condition::VersionIs(current.version),
        }];
        if disabled {
            let entry =
                crate::audit::Entry::system(now, "webhook.disabled", "webhooks", Some(&next.id))
                    .with_changes(Some(&current.shown()), Some(&next.shown()));
            writes.extend(entry.writes(tenant)?);
            let title = match next.disabled_reason.as_deref() {
                Some("gone") => format!(
                    "Webhook to {} disabled: the receiver answered 410 Gone",
                    next.url
                ),
                _ => format!(
                    "Webhook to {} disabled: every delivery failed for five days",
                    next.url
                ),
            };
            notices = Some(title);
        }
        match state.table.transact(writes).await {
            Ok(()) => {
                // Once disabled, each admin is told (in writes of their own: a company
                // may have more admins than a transaction takes).
                if let Some(title) = &notices {
                    for admin in crate::tenancy::users::admin_ids(state, tenant).await? {
                        let notice = notifications::write(
                            tenant,
                            &admin,
                            NotificationKind::WebhookDisabled,
                            title,
                            ("webhooks", &next.id),
                            now,
                        )?;
                        // One admin not told must not keep the others from it.
                        if let Err(e) = state.table.transact(vec![notice]).await {
                            tracing::warn!(error = %e, "webhook disabled notice not written");
                        }
                    }
                }
                return Ok(());
            }
            Err(TableError::ConditionFailed { .. } | TableError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

// --- The API: the log, replays, pings ----------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    pub status: Option<Status>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A webhook's deliveries, newest first.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    webhook_id: &str,
    filter: DeliveryQuery,
) -> Result<ListPage<Delivery>, ApiError> {
    let webhook = super::get(state, principal, webhook_id).await?;
    let limit = ListParams {
        limit: filter.limit,
        cursor: None,
    }
    .limit()?;
    let tenant = &principal.tenant;
    let list_id = format!(
        "{tenant}/webhook-deliveries/{}/{:?}",
        webhook.id, filter.status
    );
    let start = filter
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(&list_id, c))
        .transpose()?;
    let query = Query::partition(deliveries_pk(tenant, &webhook.id))
        .sort_key(SortKey::BeginsWith(format!("{}_", events::PREFIX)))
        .descending()
        .limit(limit)
        .start(start);
    let (data, next) =
        crate::table::query_filtered(state.table.as_ref(), query, limit, 10, |d: &Delivery| {
            filter.status.is_none_or(|s| d.status == s)
        })
        .await?;
    Ok(ListPage {
        data,
        next_cursor: next.map(|n| state.cursors.encode(&list_id, &n)),
    })
}

fn no_delivery() -> ApiError {
    ApiError::NotFound("No such delivery.".into())
}

/// Sends one delivery again (its `webhook-id` unchanged), whatever became of it.
pub async fn replay_one(
    state: &AppState,
    principal: &Principal,
    webhook_id: &str,
    delivery_id: &str,
) -> Result<Delivery, ApiError> {
    principal.require("webhooks", Action::Update)?;
    let webhook = super::load(state, &principal.tenant, webhook_id).await?;
    if !is_id(events::PREFIX, delivery_id) {
        return Err(no_delivery());
    }
    let tenant = &principal.tenant;
    let dkey = delivery_key(tenant, &webhook.id, delivery_id);
    if state.table.get(&dkey).await?.is_none() {
        return Err(no_delivery());
    }
    let event: Event = match state.table.get(&events::key(tenant, delivery_id)).await? {
        Some(item) => from_item(item)?,
        None => {
            return Err(ApiError::conflict(
                "event-expired",
                "The event is past its 30 days and can no longer be sent.",
            ));
        }
    };
    require_enabled(&webhook)?;
    queue(state, tenant, &webhook, &event, true).await?;
    Ok(from_item(
        state.table.get(&dkey).await?.ok_or_else(no_delivery)?,
    )?)
}

fn require_enabled(webhook: &Webhook) -> Result<(), ApiError> {
    if webhook.enabled {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "webhook-disabled",
            "The webhook is disabled; enable it first.",
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// RFC 3339: the events at or after this time that the webhook wants are sent again
    /// (at most 30 days back).
    pub since: String,
}

#[derive(Debug, Serialize)]
pub struct Replayed {
    /// How many deliveries were queued.
    pub queued: usize,
    /// False when more events remain: replay again from `next_since`.
    pub complete: bool,
    pub next_since: Option<String>,
}

/// Queues again every event since a time that the webhook wants (up to
/// [`MAX_REPLAY`] per call, oldest first).
pub async fn replay_since(
    state: &AppState,
    principal: &Principal,
    webhook_id: &str,
    replay: Replay,
) -> Result<Replayed, ApiError> {
    principal.require("webhooks", Action::Update)?;
    let since =
        events::parse_time("since", Some(&replay.since))?.unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let tenant = &principal.tenant;
    let webhook = super::load(state, tenant, webhook_id).await?;
    require_enabled(&webhook)?;
    let owner = owner_of(state, tenant, &webhook).await?.ok_or_else(|| {
        ApiError::conflict(
            "webhook-owner-gone",
            "The webhook's owner (who made it or last set its URL) can no longer act; set \
             its URL again to make it yours.",
        )
    })?;
    let from = since.max(events::retained_since(state.clock.now()));
    let mut query = Query::partition(events::partition(tenant))
        .sort_key(SortKey::Between(
            events::id_bound(from, false),
            format!("{}_~", events::PREFIX),
        ))
        .limit(100);
    let mut queued = 0;
    let mut seen = 0;
    loop {
        let page = state.table.query(&query).await?;
        for item in page.items {
            let event: Event = from_item(item)?;
            seen += 1;
            queued += fan_out(state, tenant, &event, Some((&webhook, &owner))).await?;
            if seen == MAX_REPLAY {
                return Ok(Replayed {
                    queued,
                    complete: false,
                    next_since: Some(event.occurred_at),
                });
            }
        }
        match page.next {
            Some(next) => query = query.start(Some(next)),
            None => break,
        }
    }
    Ok(Replayed {
        queued,
        complete: true,
        next_since: None,
    })
}

/// Sends a `webhook.ping` message now and reports the attempt (logged with the
/// deliveries, never retried).
pub async fn ping(
    state: &AppState,
    principal: &Principal,
    webhook_id: &str,
) -> Result<Delivery, ApiError> {
    principal.require("webhooks", Action::Update)?;
    let tenant = &principal.tenant;
    let webhook = super::load(state, tenant, webhook_id).await?;
    let now = state.clock.now();
    let id = new_id(events::PREFIX);
    let body = serde_json::json!({
        "id": id,
        "type": "webhook.ping",
        "tenant_id": tenant.to_string(),
        "occurred_at": rfc3339(now),
        "data": { "webhook_id": webhook.id },
    });
    let body = serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let sent = send(state, tenant, &webhook, &id, &body).await;
    let status = if is_success(sent.attempt.status) {
        Status::Delivered
    } else {
        Status::Failed
    };
    let delivery = Delivery {
        id: id.clone(),
        webhook_id: webhook.id.clone(),
        event_type: "webhook.ping".into(),
        status,
        attempts: vec![sent.attempt],
        attempt_count: 1,
        next_attempt_at: None,
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
        version: 1,
        queued: None,
        tries: 1,
    };
    state
        .table
        .put(stored(tenant, &delivery, now)?, Condition::NotExists)
        .await?;
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let key = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = sign(
            &[key],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_stream_batch_gives_the_keys_it_inserted() {
        let batch = serde_json::json!({"Records": [
            {"eventName": "INSERT", "dynamodb": {"Keys": {
                "pk": {"S": "G#outbox"}, "sk": {"S": "000001#ten_a#evt_1"}}}},
            {"eventName": "REMOVE", "dynamodb": {"Keys": {
                "pk": {"S": "G#outbox"}, "sk": {"S": "000002#ten_a#evt_2"}}}},
            {"eventName": "INSERT", "dynamodb": {}}
        ]});
        assert_eq!(
            stream_keys(&batch),
            [Key::new("G#outbox", "000001#ten_a#evt_1")]
        );
        assert!(stream_keys(&serde_json::json!({})).is_empty());
    }

    #[test]
    fn two_keys_give_two_signatures() {
        let signature = sign(&[vec![1; 32], vec![2; 32]], "evt_1", 1, b"{}");
        assert_eq!(signature.split(' ').count(), 2);
        assert!(signature.split(' ').all(|s| s.starts_with("v1,")));
    }
}
