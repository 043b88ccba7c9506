//! Service level targets: a ticket's first-response and resolution times come from its
//! priority's policy (counted in business hours when the tenant has them). Each target
//! still running is a marker in a global queue ordered by its time (`G#sla`), kept in the
//! ticket's own transactions just like task reminders, and fired by the same worker: when
//! a target passes unmet, one transaction flags the ticket (on its version), removes the
//! marker and notifies the assignee and the team's lead. A target met late is flagged
//! by the change that met it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::settings::{ServiceSettings, due_after};
use super::{RESOURCE, Ticket, key};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::{millis_key_of, rfc3339};
use crate::error::Error;
use crate::ids::TenantId;
use crate::notifications::{self, NotificationKind};
use crate::table::{Condition, Item, Key, TableError, Write, from_item, to_item};

const QUEUE: &str = "G#sla";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Target {
    FirstResponse,
    Resolution,
}

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    tenant: String,
    ticket_id: String,
    target: Target,
}

fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Sets the ticket's due times from its priority's policy, counted from its creation.
pub fn set_targets(ticket: &mut Ticket, settings: &ServiceSettings) {
    let targets = settings
        .sla_policies
        .get(&ticket.priority)
        .copied()
        .unwrap_or_default();
    let hours = settings
        .business_hours
        .as_ref()
        .and_then(|h| h.parse().ok());
    let Some(created) = parse(&ticket.created_at) else {
        return;
    };
    let due =
        |minutes: Option<u32>| minutes.map(|m| rfc3339(due_after(created, m, hours.as_ref())));
    ticket.first_response_due_at = due(targets.first_response_minutes);
    ticket.resolution_due_at = due(targets.resolution_minutes);
}

/// A new priority's targets (counted from creation) for the targets still running: a
/// met target keeps its time and verdict; a running one is judged anew (the worker flags
/// it if its new time has passed).
pub fn retarget(ticket: &mut Ticket, settings: &ServiceSettings) {
    let mut fresh = ticket.clone();
    set_targets(&mut fresh, settings);
    let active = ticket.status.is_active();
    if active && ticket.first_responded_at.is_none() {
        ticket.first_response_due_at = fresh.first_response_due_at;
        ticket.first_response_breached = false;
    }
    if active && ticket.resolved_at.is_none() {
        ticket.resolution_due_at = fresh.resolution_due_at;
        ticket.resolution_breached = false;
    }
}

/// Flags the targets a change met late (a first reply or a resolution after its time).
pub fn flag_late(ticket: &mut Ticket) {
    let late = |done: &Option<String>, due: &Option<String>| match (done, due) {
        (Some(done), Some(due)) => parse(done)
            .zip(parse(due))
            .is_some_and(|(done, due)| done > due),
        _ => false,
    };
    if late(&ticket.first_responded_at, &ticket.first_response_due_at) {
        ticket.first_response_breached = true;
    }
    if late(&ticket.resolved_at, &ticket.resolution_due_at) {
        ticket.resolution_breached = true;
    }
}

/// The targets of `ticket` still running, with their times.
fn running(ticket: &Ticket) -> Vec<(Target, &str)> {
    if !ticket.status.is_active() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(due) = &ticket.first_response_due_at
        && ticket.first_responded_at.is_none()
        && !ticket.first_response_breached
    {
        out.push((Target::FirstResponse, due.as_str()));
    }
    if let Some(due) = &ticket.resolution_due_at
        && ticket.resolved_at.is_none()
        && !ticket.resolution_breached
    {
        out.push((Target::Resolution, due.as_str()));
    }
    out
}

fn marker_key(tenant: &TenantId, ticket: &Ticket, target: Target, due: &str) -> Option<Key> {
    let at = millis_key_of(due)?;
    let name = match target {
        Target::FirstResponse => "first_response",
        Target::Resolution => "resolution",
    };
    Some(Key::new(
        QUEUE,
        format!("{at}#{tenant}#{}#{name}", ticket.id),
    ))
}

fn markers(tenant: &TenantId, ticket: Option<&Ticket>) -> Vec<(Key, Target)> {
    let Some(ticket) = ticket else {
        return Vec::new();
    };
    running(ticket)
        .into_iter()
        .filter_map(|(target, due)| marker_key(tenant, ticket, target, due).map(|k| (k, target)))
        .collect()
}

/// The queue writes for a ticket going from `before` to `after` (either absent).
pub fn queue_writes(
    tenant: &TenantId,
    before: Option<&Ticket>,
    after: Option<&Ticket>,
) -> Result<Vec<Write>, Error> {
    let old = markers(tenant, before);
    let new = markers(tenant, after);
    let mut writes = Vec::new();
    for (key, _) in old.iter().filter(|m| !new.contains(m)) {
        writes.push(Write::Delete {
            key: key.clone(),
            condition: Condition::None,
        });
    }
    for (key, target) in new.iter().filter(|m| !old.contains(m)) {
        let ticket = after.expect("new markers come from a ticket");
        writes.push(Write::Put {
            item: to_item(
                key,
                &Marker {
                    tenant: tenant.to_string(),
                    ticket_id: ticket.id.clone(),
                    target: *target,
                },
            )?,
            condition: Condition::None,
        });
    }
    Ok(writes)
}

/// Flags the tickets whose targets passed by now. Returns how many were flagged.
pub async fn run_due(state: &AppState, budget: Duration) -> Result<usize, Error> {
    crate::queue::run_queue(state, QUEUE, budget, |key, item| fire(state, key, item)).await
}

async fn fire(state: &AppState, key: Key, item: Item) -> Result<bool, Error> {
    let Some((marker, tenant)) = from_item::<Marker>(item)
        .ok()
        .and_then(|m| TenantId::parse(&m.tenant).map(|t| (m, t)))
    else {
        state.table.delete(&key, Condition::None).await?;
        return Ok(false);
    };
    let ticket: Option<Ticket> = state
        .table
        .get(&key_of(&tenant, &marker))
        .await?
        .map(from_item)
        .transpose()?;
    let Some(ticket) =
        ticket.filter(|t| markers(&tenant, Some(t)).contains(&(key.clone(), marker.target)))
    else {
        // The ticket moved on (its own transaction handled its markers) or went.
        crate::queue::remove(state, &key).await?;
        return Ok(false);
    };
    let now = state.clock.now();
    let mut next = ticket.clone();
    let what = match marker.target {
        Target::FirstResponse => {
            next.first_response_breached = true;
            "first response"
        }
        Target::Resolution => {
            next.resolution_breached = true;
            "resolution"
        }
    };
    next.version = ticket.version + 1;
    next.updated_at = rfc3339(now);
    let entry = Entry::system(now, "ticket.sla_breached", RESOURCE, Some(&ticket.id))
        .with_changes(Some(&ticket), Some(&next));
    let mut writes = vec![
        Write::Delete {
            key: key.clone(),
            condition: Condition::Exists,
        },
        Write::Put {
            item: super::service::to_stored(&tenant, &next)?,
            condition: Condition::VersionIs(ticket.version),
        },
    ];
    // The other target's marker stays as it is.
    writes.extend(
        queue_writes(&tenant, Some(&ticket), Some(&next))?
            .into_iter()
            .filter(|w| !matches!(w, Write::Delete { key: k, .. } if *k == key)),
    );
    let title = format!(
        "{} {}: {} target missed",
        ticket.number, ticket.subject, what
    );
    for user in told(state, &tenant, &ticket).await? {
        writes.push(notifications::write(
            &tenant,
            &user,
            NotificationKind::SlaBreached,
            &title,
            (RESOURCE, &ticket.id),
            now,
        )?);
    }
    writes.extend(entry.writes(&tenant)?);
    match state.table.transact(writes).await {
        Ok(()) => Ok(true),
        Err(TableError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn key_of(tenant: &TenantId, marker: &Marker) -> Key {
    key(tenant, &marker.ticket_id)
}

/// Who hears of a breach: the assignee and the lead of the ticket's team.
async fn told(state: &AppState, tenant: &TenantId, ticket: &Ticket) -> Result<Vec<String>, Error> {
    let mut users: Vec<String> = ticket.assignee_id.iter().cloned().collect();
    if let Some(team_id) = &ticket.team_id
        && let Some(team) = state
            .table
            .get(&crate::directory::team_key(tenant, team_id))
            .await?
            .map(from_item::<crate::directory::Team>)
            .transpose()?
        && let Some(lead) = team.lead_id
        && !users.contains(&lead)
    {
        users.push(lead);
    }
    Ok(users)
}
