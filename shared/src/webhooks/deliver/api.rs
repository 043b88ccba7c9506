//! The API side: the delivery log, replays and pings.

use super::*;

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
) -> Result<ListPage<Delivery>, Error> {
    let webhook = crate::webhooks::get(state, principal, webhook_id).await?;
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

pub(super) fn no_delivery() -> Error {
    Error::NotFound("No such delivery.".into())
}

/// Sends one delivery again (its `webhook-id` unchanged), whatever became of it.
pub async fn replay_one(
    state: &AppState,
    principal: &Principal,
    webhook_id: &str,
    delivery_id: &str,
) -> Result<Delivery, Error> {
    principal.require("webhooks", Action::Update)?;
    let webhook = crate::webhooks::load(state, &principal.tenant, webhook_id).await?;
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
            return Err(Error::conflict(
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

pub(super) fn require_enabled(webhook: &Webhook) -> Result<(), Error> {
    if webhook.enabled {
        Ok(())
    } else {
        Err(Error::conflict(
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
) -> Result<Replayed, Error> {
    principal.require("webhooks", Action::Update)?;
    let since =
        events::parse_time("since", Some(&replay.since))?.unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let tenant = &principal.tenant;
    let webhook = crate::webhooks::load(state, tenant, webhook_id).await?;
    require_enabled(&webhook)?;
    let owner = owner_of(state, tenant, &webhook).await?.ok_or_else(|| {
        Error::conflict(
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
) -> Result<Delivery, Error> {
    principal.require("webhooks", Action::Update)?;
    let tenant = &principal.tenant;
    let webhook = crate::webhooks::load(state, tenant, webhook_id).await?;
    let now = state.clock.now();
    let id = new_id(events::PREFIX);
    let body = serde_json::json!({
        "id": id,
        "type": "webhook.ping",
        "tenant_id": tenant.to_string(),
        "occurred_at": rfc3339(now),
        "data": { "webhook_id": webhook.id },
    });
    let body = serde_json::to_vec(&body).map_err(|e| Error::Internal(e.to_string()))?;
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
