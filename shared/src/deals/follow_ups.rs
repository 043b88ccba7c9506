//! Follow-up rules: when a company sets `deal_follow_up_days`, every open deal without
//! activity (a change of the deal) for that long gets a follow-up task for its owner,
//! with a notification. Making the task counts as activity, so a still-idle deal gets
//! its next one after another such period, not at every run.
//!
//! Companies with the rule are found through a global marker (`G#follow-ups`, tenant ids
//! only) written with the setting; their idle deals through an index of open deals by
//! last activity. The same code runs in the reminders function and the local worker.

use std::time::Duration;

use super::{Deal, idle_pk};
use crate::AppState;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::ids::TenantId;
use crate::table::{Condition, Index, Key, Query, SortKey, TableError, Write, from_item, to_item};
use crate::tasks::{self, Task};

const MARKERS: &str = "G#follow-ups";
/// Deals handled per query of a company's idle deals.
const BATCH: usize = 50;

/// The write that records whether `tenant` has a follow-up rule.
pub fn marker_write(tenant: &TenantId, on: bool) -> Result<Write, Error> {
    let key = Key::new(MARKERS, tenant.to_string());
    Ok(if on {
        Write::Put {
            item: to_item(&key, &serde_json::json!({ "tenant": tenant.to_string() }))?,
            condition: Condition::None,
        }
    } else {
        Write::Delete {
            key,
            condition: Condition::None,
        }
    })
}

/// Makes the follow-up tasks that are due in every company with the rule, within
/// `budget`. Returns how many were made.
pub async fn run_due(state: &AppState, budget: Duration) -> Result<usize, Error> {
    let started = std::time::Instant::now();
    let mut made = 0;
    let mut start = None;
    loop {
        let page = state
            .table
            .query(&Query::partition(MARKERS).limit(100).start(start))
            .await?;
        for marker in page.items {
            if started.elapsed() >= budget {
                return Ok(made);
            }
            let Some(tenant) = marker
                .get("tenant")
                .and_then(|t| t.as_str())
                .and_then(TenantId::parse)
            else {
                continue;
            };
            made += run_tenant(state, &tenant, started, budget).await?;
        }
        match page.next {
            Some(next) => start = Some(next),
            None => return Ok(made),
        }
    }
}

async fn run_tenant(
    state: &AppState,
    tenant: &TenantId,
    started: std::time::Instant,
    budget: Duration,
) -> Result<usize, Error> {
    let Some(days) = crate::directory::get_tenant(state.table.as_ref(), tenant)
        .await?
        .and_then(|t| t.deal_follow_up_days)
    else {
        return Ok(0);
    };
    let now = state.clock.now();
    let cutoff = now - time::Duration::days(days.into());
    let cutoff_key = crate::clock::millis_key(cutoff);
    let mut made = 0;
    while started.elapsed() < budget {
        let page = state
            .table
            .query(
                &Query::partition(idle_pk(tenant))
                    .on(Index::Gsi4)
                    .sort_key(SortKey::Between("0".into(), cutoff_key.clone()))
                    .limit(BATCH),
            )
            .await?;
        if page.items.is_empty() {
            break;
        }
        let count = page.items.len();
        for item in page.items {
            let deal: Deal = from_item(item)?;
            if follow_up(state, tenant, deal, days).await? {
                made += 1;
            }
        }
        if count < BATCH {
            break;
        }
    }
    Ok(made)
}

/// Makes one deal's follow-up task; false when the deal changed meanwhile (its new
/// activity means no follow-up is due).
async fn follow_up(
    state: &AppState,
    tenant: &TenantId,
    deal: Deal,
    days: u32,
) -> Result<bool, Error> {
    let now = state.clock.now();
    let at = rfc3339(now);
    let mut next = deal.clone();
    next.last_activity_at = Some(at.clone());
    next.version = deal.version + 1;
    let mut task = Task::follow_up(
        &deal.owner_id,
        format!("Follow up: {}", deal.title),
        format!("No activity on this deal for {days} days."),
        now,
    );
    task.contact_id = deal.contact_id.clone();
    task.company_id = deal.company_id.clone();
    task.deal_id = Some(deal.id.clone());
    let mut writes = vec![Write::Put {
        item: super::service::to_stored(tenant, &next)?,
        condition: Condition::VersionIs(deal.version),
    }];
    writes.extend(tasks::service::follow_up_writes(tenant, &task, now)?);
    // The deal changed (its activity time): logged, and an event like any change.
    let entry = crate::audit::Entry::system(now, "deal.updated", super::RESOURCE, Some(&deal.id))
        .with_changes(Some(&deal), Some(&next));
    writes.extend(entry.writes(tenant)?);
    match state.table.transact(writes).await {
        Ok(()) => Ok(true),
        Err(TableError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
