//! Fan-out: each outbox marker becomes one delivery per subscription that wants the event and whose owner may read the record.

use super::*;

/// The principal a webhook acts as (its owner, as they are now); `None` when they can
/// no longer act.
pub(super) async fn owner_of(
    state: &AppState,
    tenant: &TenantId,
    webhook: &Webhook,
) -> Result<Option<Principal>, Error> {
    let request = RequestMeta::default();
    crate::auth::service::principal_for(state, tenant, &webhook.owner, request).await
}

// --- Fan-out ---------------------------------------------------------------------------

/// Turns the outbox's due markers into deliveries, until none is left or `budget` is
/// spent. Returns how many events were handed on.
pub async fn run_outbox(state: &AppState, budget: Duration) -> Result<usize, Error> {
    // The markers handed on are removed a page at a time.
    crate::queue::run_queue_removing(state, events::OUTBOX, budget, |_, item| async move {
        hand_on(state, item).await.map(|()| true)
    })
    .await
}

/// Fans out the event of one outbox marker, then removes the marker.
pub async fn fan_out_marker(state: &AppState, key: Key, item: Item) -> Result<bool, Error> {
    hand_on(state, item).await?;
    state.table.delete(&key, Condition::None).await?;
    Ok(true)
}

/// Fans out the event of an outbox marker (to no one when its company has no webhooks).
async fn hand_on(state: &AppState, item: Item) -> Result<(), Error> {
    if let Ok(marker) = from_item::<OutboxMarker>(item)
        && let Some(tenant) = TenantId::parse(&marker.tenant)
        // Most companies have no webhooks: their events need not even be read.
        && !crate::webhooks::all(state, &tenant).await?.is_empty()
        && let Some(event) = state
            .table
            .get(&events::key(&tenant, &marker.event_id))
            .await?
    {
        let event: Event = from_item(event)?;
        fan_out(state, &tenant, &event, None).await?;
    }
    Ok(())
}

/// Makes (or, with `requeue`, puts back in the queue) the deliveries of `event` to the
/// subscriptions that want it: all of the tenant's, or only `only`. Returns how many
/// were queued.
pub(super) async fn fan_out(
    state: &AppState,
    tenant: &TenantId,
    event: &Event,
    only: Option<(&Webhook, &Principal)>,
) -> Result<usize, Error> {
    if let Some((webhook, owner)) = only {
        let visible = webhook.enabled && webhook.wants(&event.kind) && event.view(owner).is_some();
        return Ok(usize::from(
            visible && queue(state, tenant, webhook, event, true).await?,
        ));
    }
    let mut queued = 0;
    for webhook in crate::webhooks::all(state, tenant)
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
pub(super) async fn queue(
    state: &AppState,
    tenant: &TenantId,
    webhook: &Webhook,
    event: &Event,
    again: bool,
) -> Result<bool, Error> {
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
    Err(Error::conflict(
        "delivery-busy",
        "The delivery changed while it was queued again; try again.",
    ))
}

// --- Attempts --------------------------------------------------------------------------
