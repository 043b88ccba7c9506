//! The retry queue: claiming a due attempt, making it, recording its outcome, the next attempt, and the endpoint's health.

use super::*;

/// Makes the attempts due by now, until none is left or `budget` is spent. Returns how
/// many were made.
pub async fn run_due(state: &AppState, budget: Duration) -> Result<usize, Error> {
    crate::queue::run_queue(state, QUEUE, budget, |key, item| attempt(state, key, item)).await
}

/// Makes the attempt of one due queue marker; false when it was stale or another worker
/// claimed it first.
pub(super) async fn attempt(state: &AppState, key: Key, item: Item) -> Result<bool, Error> {
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
    let webhook = match crate::webhooks::load(state, &tenant, &marker.webhook_id).await {
        Ok(w) => Some(w),
        Err(Error::NotFound(_)) => None,
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
                        .map_err(|e| Error::Internal(format!("serializing an event: {e}")))?;
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

/// Writes an attempt's outcome (on the claimed version), queues the next attempt if one
/// is due, and updates the endpoint's health.
pub(super) async fn record(
    state: &AppState,
    tenant: &TenantId,
    claimed: Delivery,
    lease: String,
    sent: Sent,
    webhook: Option<&Webhook>,
) -> Result<(), Error> {
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
pub(super) async fn health(
    state: &AppState,
    tenant: &TenantId,
    webhook: &Webhook,
    succeeded: bool,
    gone: bool,
) -> Result<(), Error> {
    for _ in 0..3 {
        let current = crate::webhooks::load(state, tenant, &webhook.id).await?;
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
            item: to_item(&crate::webhooks::key(tenant, &next.id), &next)?,
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
