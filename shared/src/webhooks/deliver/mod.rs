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
//!
//! By concern: `sign` (signatures), `send` (one request and what it came to), `fanout`,
//! `attempts` (the retry queue and endpoint health), `worker` and `stream` (what runs the
//! two), `api` (the delivery log, replays, pings). This file holds the records they share
//! and the imports they all use.

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
use crate::error::Error;
use crate::events::{self, Event, OutboxMarker};
use crate::ids::{TenantId, is_id, new_id};
use crate::notifications::{self, NotificationKind};
use crate::paging::{ListPage, ListParams};
use crate::policy::Action;
use crate::principal::Principal;
use crate::principal::RequestMeta;
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

mod api;
mod attempts;
mod fanout;
mod send;
mod sign;
mod stream;
mod worker;

pub use api::*;
pub use attempts::*;
pub use fanout::*;
use send::*;
pub use sign::*;
pub use stream::*;
pub use worker::*;

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
