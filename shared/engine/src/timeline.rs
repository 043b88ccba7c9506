//! The timeline of a contact or company: activities people log (notes, calls, meetings,
//! emails) and the record's own changes, newest first. Each entry is an item in the
//! record's timeline partition, written in the same transaction as the change it tells
//! of; deals, orders and tickets add theirs the same way as they arrive.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::AppState;
use crate::audit::{Actor, Entry};
use crate::clock::rfc3339;
use crate::error::Error;
use crate::ids::{TenantId, new_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::FieldRule;
use crate::principal::Principal;
use crate::table::{Condition, Key, Query, Write, from_item, to_item};
use crate::validation::Errors;

pub const ACTIVITY_PREFIX: &str = crate::ids::ActivityId::PREFIX;
const EVENT_PREFIX: &str = crate::ids::EventId::PREFIX;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Note,
    Call,
    Meeting,
    /// An email sent or received outside the product, logged by hand.
    Email,
    /// A change of the record itself.
    Change,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Connected,
    NoAnswer,
    Busy,
    Voicemail,
    WrongNumber,
}

/// One entry of a timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub id: String,
    pub kind: Kind,
    /// When it happened (for activities, as the author says).
    pub occurred_at: String,
    pub author: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<CallOutcome>,
    /// For changes: what happened (`contact.updated`) and to which fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// For changes of a related record (a deal of the contact): its kind and id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// For changes of a related record: its owner, for the reader's scope. Stored, never
    /// shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    pub created_at: String,
}

/// The body of `POST /v1/{contacts,companies}/{id}/activities`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewActivity {
    pub kind: Kind,
    pub subject: Option<String>,
    pub body: Option<String>,
    /// RFC 3339; now when absent.
    pub occurred_at: Option<String>,
    pub duration_minutes: Option<u32>,
    pub outcome: Option<CallOutcome>,
}

fn pk(tenant: &TenantId, record_id: &str) -> String {
    tenant.pk(&format!("timeline#{record_id}"))
}

/// Sort keys order by when things happened (milliseconds, zero-padded), then by id.
fn sk(at: OffsetDateTime, id: &str) -> String {
    format!("{}#{id}", crate::clock::millis_key(at))
}

fn write(
    tenant: &TenantId,
    record_id: &str,
    at: OffsetDateTime,
    entry: &TimelineEntry,
) -> Result<Write, Error> {
    Ok(Write::Put {
        item: to_item(&Key::new(pk(tenant, record_id), sk(at, &entry.id)), entry)?,
        condition: Condition::NotExists,
    })
}

/// The write that records `entry` (an audit entry of a change to `record_id`) on the
/// record's timeline, to go in the change's own transaction.
pub fn change(
    tenant: &TenantId,
    record_id: &str,
    at: OffsetDateTime,
    audit: &Entry,
) -> Result<Write, Error> {
    let entry = TimelineEntry {
        id: new_id(EVENT_PREFIX),
        kind: Kind::Change,
        occurred_at: rfc3339(at),
        author: audit.actor.clone(),
        subject: None,
        body: None,
        duration_minutes: None,
        outcome: None,
        action: Some(audit.action.clone()),
        fields: audit.changes.keys().cloned().collect(),
        resource: None,
        record_id: None,
        owner_id: None,
        created_at: rfc3339(at),
    };
    write(tenant, record_id, at, &entry)
}

/// The write that records `audit` (a change of a related record, such as a deal of the
/// contact, titled `subject`) on `record_id`'s timeline, in the change's transaction.
pub fn related(
    tenant: &TenantId,
    record_id: &str,
    at: OffsetDateTime,
    audit: &Entry,
    subject: &str,
) -> Result<Write, Error> {
    let entry = TimelineEntry {
        id: new_id(EVENT_PREFIX),
        kind: Kind::Change,
        occurred_at: rfc3339(at),
        author: audit.actor.clone(),
        subject: Some(subject.to_owned()),
        body: None,
        duration_minutes: None,
        outcome: None,
        action: Some(audit.action.clone()),
        fields: audit.changes.keys().cloned().collect(),
        resource: Some(audit.resource.clone()),
        record_id: audit.resource_id.clone(),
        owner_id: audit.owner_id.clone(),
        created_at: rfc3339(at),
    };
    write(tenant, record_id, at, &entry)
}

/// Moves every entry of `from`'s timeline to `to`'s (when records merge), in batches;
/// each batch copies and removes its entries in one transaction, so an interrupted move
/// can simply be run again. Returns how many entries moved.
pub async fn move_all(
    table: &dyn crate::table::Table,
    tenant: &TenantId,
    from: &str,
    to: &str,
) -> Result<usize, Error> {
    let mut moved = 0;
    loop {
        let page = table
            .query(&Query::partition(pk(tenant, from)).limit(40))
            .await?;
        if page.items.is_empty() {
            return Ok(moved);
        }
        let mut writes = Vec::with_capacity(page.items.len() * 2);
        for mut item in page.items {
            let old = Key::of(&item)?;
            item.insert("pk".into(), pk(tenant, to).into());
            writes.push(Write::Put {
                item,
                condition: Condition::None,
            });
            writes.push(Write::Delete {
                key: old,
                condition: Condition::None,
            });
        }
        moved += writes.len() / 2;
        table.transact(writes).await?;
    }
}

/// Logs an activity on `record_id` (whose existence and scope the caller checked) for
/// `resource`, with its audit entry.
pub async fn log(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    record_id: &str,
    input: NewActivity,
) -> Result<TimelineEntry, Error> {
    let now = state.clock.now();
    let mut errors = Errors::new();
    if input.kind == Kind::Change {
        errors.add("kind", "must be note, call, meeting or email");
    }
    errors.opt_text("subject", input.subject.as_deref(), 200);
    errors.opt_text("body", input.body.as_deref(), 10_000);
    let occurred = match input.occurred_at.as_deref() {
        None => now,
        Some(text) => {
            match OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
                Ok(at) if (at - now).whole_days().abs() <= 3650 => at,
                _ => {
                    errors.add(
                        "occurred_at",
                        "must be an RFC 3339 time within ten years of now",
                    );
                    now
                }
            }
        }
    };
    if let Some(minutes) = input.duration_minutes {
        if !matches!(input.kind, Kind::Call | Kind::Meeting) {
            errors.add("duration_minutes", "is only for calls and meetings");
        } else if minutes > 24 * 60 {
            errors.add("duration_minutes", "must be at most 1440");
        }
    }
    if input.outcome.is_some() && input.kind != Kind::Call {
        errors.add("outcome", "is only for calls");
    }
    if input.subject.is_none() && input.body.is_none() {
        errors.add("body", "give a subject or a body");
    }
    errors.finish().map_err(Error::Validation)?;
    let entry = TimelineEntry {
        id: new_id(ACTIVITY_PREFIX),
        kind: input.kind,
        occurred_at: rfc3339(occurred),
        author: Actor::of(principal),
        subject: input.subject.map(|s| s.trim().to_owned()),
        body: input.body,
        duration_minutes: input.duration_minutes,
        outcome: input.outcome,
        action: None,
        fields: Vec::new(),
        resource: None,
        record_id: None,
        owner_id: None,
        created_at: rfc3339(now),
    };
    let audit = Entry::by(principal, now, "activity.logged", resource, Some(record_id))
        .with_changes(None, Some(&entry));
    audit
        .commit(
            state.table.as_ref(),
            &principal.tenant,
            write(&principal.tenant, record_id, occurred, &entry)?,
        )
        .await?;
    Ok(entry)
}

/// The timeline of `record_id` (whose existence and scope the caller checked), newest
/// first, as the caller may see it: fields their role hides are left out of change
/// entries, and an entry about a related record (a deal, a ticket, an order) passes
/// through their view of that record (left out if they may not read it; its title
/// hidden or masked as their role has it).
pub async fn list(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    record_id: &str,
    params: ListParams,
) -> Result<ListPage<TimelineEntry>, Error> {
    let list_id = format!("{}/timeline/{record_id}", principal.tenant);
    let query = Query::partition(pk(&principal.tenant, record_id)).descending();
    let (items, next_cursor) = crate::records::page(state, query, &list_id, &params).await?;
    let mut data = Vec::with_capacity(items.len());
    for item in items {
        let entry: TimelineEntry = from_item(item)?;
        if let Some(entry) = shown(principal, resource, entry) {
            data.push(entry);
        }
    }
    Ok(ListPage { data, next_cursor })
}

/// `entry` of a timeline of `resource` as `principal` may see it, if at all.
fn shown(principal: &Principal, resource: &str, mut entry: TimelineEntry) -> Option<TimelineEntry> {
    let owner = entry.owner_id.take();
    let about = entry
        .resource
        .clone()
        .unwrap_or_else(|| resource.to_owned());
    if entry.resource.is_some() {
        let title = entry.subject.take().unwrap_or_default();
        entry.subject = principal
            .sees_title(&about, owner.as_deref(), &title)?
            .filter(|t| !t.is_empty());
    }
    entry
        .fields
        .retain(|f| principal.permissions.field_rule(&about, f) != Some(FieldRule::Hidden));
    Some(entry)
}
