//! The event outbox: every change of a business record (contacts, companies, deals,
//! tasks, orders, products, tickets and their surveys) is also an event item, written by
//! [`crate::audit::Entry::writes`] in the change's own transaction, so there is no change
//! without its event and no event without its change.
//!
//! Beside the event (`T#<tenant>#events`, sort key its time-ordered id, removed by the
//! table's TTL after [`RETENTION_DAYS`]) the transaction writes a marker in one global,
//! time-ordered outbox (`G#outbox`). The webhook dispatcher turns each marker into the
//! deliveries of the subscriptions that want the event and only then removes it: in AWS
//! when the table's stream shows the marker, and on a schedule for any the stream missed;
//! locally the server's worker drains the outbox with the same code. A marker left by a
//! crash is picked up again, so delivery is at least once.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::AppState;
use crate::audit::{Actor, Entry};
use crate::clock::millis_key;
use crate::error::Error;
use crate::ids::{TenantId, new_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::Action;
use crate::principal::Principal;
use crate::table::{Condition, Key, Query, SortKey, TableError, Write, query_filtered, to_item};

pub const PREFIX: &str = crate::ids::EventId::PREFIX;
/// How long events stay listable and replayable.
pub const RETENTION_DAYS: i64 = 30;
/// The global outbox of events not yet handed to the webhook dispatcher.
pub const OUTBOX: &str = "G#outbox";

/// The audit resources whose changes are events (who may read them:
/// [`crate::policy::read_resource`]).
const SOURCES: &[&str] = &[
    "contacts",
    "companies",
    "deals",
    "tasks",
    "orders",
    "products",
    "tickets",
];

/// Every event type the product sends, listed once. A subscription naming another (or a
/// pattern no type matches) is refused, and an event of an unlisted type is a bug that
/// the tests catch (`of_entry` asserts it).
pub const TYPES: &[&str] = &[
    "activity.logged",
    "company.created",
    "company.deleted",
    "company.updated",
    "contact.created",
    "contact.deleted",
    "contact.merged",
    "contact.updated",
    "deal.created",
    "deal.deleted",
    "deal.stage_changed",
    "deal.updated",
    "order.created",
    "order.deleted",
    "order.status_changed",
    "order.updated",
    "product.created",
    "product.deleted",
    "product.updated",
    "survey.answered",
    "survey.sent",
    "task.completed",
    "task.created",
    "task.deleted",
    "task.reminded",
    "task.updated",
    "ticket.closed",
    "ticket.commented",
    "ticket.created",
    "ticket.deleted",
    "ticket.first_response",
    "ticket.reopened",
    "ticket.resolved",
    "ticket.sla_breached",
    "ticket.status_changed",
    "ticket.updated",
    "webhook.ping",
];

/// What happens to the records of a custom object `<key>`: `<key>.created`, ...
pub const CUSTOM_CHANGES: &[&str] = &["created", "deleted", "updated"];

/// Whether `pattern` names event types that exist, in a tenant with the custom objects
/// `custom` (keys): `*`, a listed type or one of a custom object, or `<prefix>.*` where
/// some such type starts with `<prefix>.`.
pub fn is_known_pattern(pattern: &str, custom: &[String]) -> bool {
    let custom_types = custom
        .iter()
        .flat_map(|key| CUSTOM_CHANGES.iter().map(move |c| format!("{key}.{c}")));
    let mut types = TYPES.iter().map(|t| (*t).to_owned()).chain(custom_types);
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => prefix.ends_with('.') && types.any(|t| t.starts_with(prefix)),
        None => types.any(|t| t == pattern),
    }
}

/// Audit actions that record a look, not a change.
fn is_change(action: &str) -> bool {
    !action.ends_with(".revealed")
}

/// One change of a business record, as stored: `data` is the whole record (sensitive
/// values as keyed fingerprints, as in the audit log); [`Event::view`] cuts it down to
/// what a reader may see.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    /// What happened: `contact.created`, `deal.stage_changed`, `ticket.resolved`, ...
    #[serde(rename = "type")]
    pub kind: String,
    pub tenant_id: String,
    pub occurred_at: String,
    /// The kind of record: `contacts`, `deals`, ...
    pub resource: String,
    pub resource_id: String,
    pub actor: Actor,
    /// Who owns the record (its owner, else its assignee, else its creator), for the
    /// readers whose scope is their own or their team's records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    pub data: Value,
    /// For an update: the changed fields' values before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Map<String, Value>>,
}

/// Where the outbox marker of an event points.
#[derive(Debug, Serialize, Deserialize)]
pub struct OutboxMarker {
    pub tenant: String,
    pub event_id: String,
}

pub fn partition(tenant: &TenantId) -> String {
    tenant.pk("events")
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(partition(tenant), id)
}

/// The writes of the event recording `entry`'s change (none when it is not a change of
/// a business record): the event and its outbox marker.
pub fn writes_for(tenant: &TenantId, entry: &Entry) -> Result<Vec<Write>, TableError> {
    let Some(event) = of_entry(tenant, entry) else {
        return Ok(Vec::new());
    };
    let at = OffsetDateTime::parse(
        &event.occurred_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|e| TableError::Invalid(format!("an event time: {e}")))?;
    let mut item = to_item(&key(tenant, &event.id), &event)?;
    // DynamoDB's TTL removes the event after the retention period.
    let expires = at + time::Duration::days(RETENTION_DAYS);
    item.insert("ttl".into(), expires.unix_timestamp().into());
    let marker = to_item(
        &Key::new(OUTBOX, format!("{}#{tenant}#{}", millis_key(at), event.id)),
        &OutboxMarker {
            tenant: tenant.to_string(),
            event_id: event.id.clone(),
        },
    )?;
    Ok(vec![
        Write::Put {
            item,
            condition: Condition::NotExists,
        },
        Write::Put {
            item: marker,
            condition: Condition::NotExists,
        },
    ])
}

fn of_entry(tenant: &TenantId, entry: &Entry) -> Option<Event> {
    let custom = crate::policy::is_custom(&entry.resource);
    if !(SOURCES.contains(&entry.resource.as_str()) || custom) || !is_change(&entry.action) {
        return None;
    }
    debug_assert!(
        TYPES.contains(&entry.action.as_str())
            || (custom
                && CUSTOM_CHANGES
                    .iter()
                    .any(|c| entry.action.ends_with(&format!(".{c}")))),
        "event type {} is not in events::TYPES",
        entry.action
    );
    let resource_id = entry.resource_id.clone()?;
    let previous = entry.is_update.then(|| {
        entry
            .changes
            .iter()
            .map(|(field, change)| (field.clone(), change.before.clone()))
            .collect()
    });
    let owner_id = entry.owner_id.clone();
    Some(Event {
        id: new_id(PREFIX),
        owner_id,
        kind: entry.action.clone(),
        tenant_id: tenant.to_string(),
        occurred_at: entry.at.clone(),
        resource: entry.resource.clone(),
        resource_id,
        actor: entry.actor.clone(),
        data: entry
            .snapshot
            .clone()
            .unwrap_or_else(|| Value::Object(Map::new())),
        previous,
    })
}

impl Event {
    /// The event as `reader` may see it: `None` when they may not read the record (no
    /// `read` on its kind, or it is outside their scope), else with their field rules
    /// applied to `data` and `previous` (see [`Principal::sees`]).
    pub fn view(&self, reader: &Principal) -> Option<Event> {
        let owner = self.owner_id.as_deref();
        let mut event = self.clone();
        event.data = match &self.data {
            Value::Object(_) => Value::Object(reader.sees(&self.resource, owner, &self.data)?),
            _ if reader.may_read(&self.resource, owner) => self.data.clone(),
            _ => return None,
        };
        if let Some(previous) = &self.previous {
            event.previous = reader.sees(&self.resource, owner, &Value::Object(previous.clone()));
        }
        Some(event)
    }
}

/// Whether event type `kind` matches `pattern`: `*`, a prefix wildcard like `deal.*`, or
/// an exact type.
pub fn matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => pattern == kind,
    }
}

/// Whether `pattern` is a well-formed event type pattern.
pub fn is_pattern(pattern: &str) -> bool {
    let body = pattern.strip_suffix(".*").unwrap_or(pattern);
    pattern == "*"
        || (!body.is_empty()
            && body.len() <= 64
            && body.split('.').all(|part| {
                part.starts_with(|c: char| c.is_ascii_lowercase())
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            }))
}

/// `GET /v1/events` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// An event type or pattern (`deal.*`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub resource_id: Option<String>,
    /// RFC 3339; events at or after.
    pub from: Option<String>,
    /// RFC 3339; events at or before.
    pub to: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The smallest and largest event id of a millisecond, for time-range queries.
pub fn id_bound(t: OffsetDateTime, upper: bool) -> String {
    let ms = (t.unix_timestamp_nanos() / 1_000_000).clamp(0, (1i128 << 48) - 1) as u64;
    let random = if upper { (1u128 << 80) - 1 } else { 0 };
    let id = ulid::Ulid::from_parts(ms, random);
    format!("{PREFIX}_{}", id.to_string().to_ascii_lowercase())
}

pub fn parse_time(field: &str, value: Option<&str>) -> Result<Option<OffsetDateTime>, Error> {
    value
        .map(|v| {
            OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).map_err(|_| {
                Error::validation(field, "must be an RFC 3339 time, like 2026-11-23T09:00:00Z")
            })
        })
        .transpose()
}

/// The oldest event time still kept at `now`.
pub fn retained_since(now: OffsetDateTime) -> OffsetDateTime {
    now - time::Duration::days(RETENTION_DAYS)
}

/// Events of the last 30 days, newest first, as the caller may see them; needs `read` on
/// webhooks.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    filter: EventQuery,
) -> Result<ListPage<Event>, Error> {
    principal.require("webhooks", Action::Read)?;
    let limit = ListParams {
        limit: filter.limit,
        cursor: None,
    }
    .limit()?;
    if let Some(kind) = &filter.kind
        && !is_pattern(kind)
    {
        return Err(Error::validation(
            "type",
            "must be an event type like `deal.created`, a pattern like `deal.*`, or `*`",
        ));
    }
    if let Some(id) = &filter.resource_id
        && (id.is_empty() || id.len() > 64)
    {
        return Err(Error::validation(
            "resource_id",
            "must be 1 to 64 characters",
        ));
    }
    let now = state.clock.now();
    let from = parse_time("from", filter.from.as_deref())?
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .max(retained_since(now));
    let to = parse_time("to", filter.to.as_deref())?;
    if to.is_some_and(|to| to < from) {
        // Nothing is kept from before then.
        return Ok(ListPage {
            data: Vec::new(),
            next_cursor: None,
        });
    }
    let sort_key = SortKey::Between(
        id_bound(from, false),
        to.map_or(format!("{PREFIX}_~"), |t| id_bound(t, true)),
    );
    let tenant = &principal.tenant;
    let list_id = format!(
        "{tenant}/events/{:?}/{:?}/{:?}",
        filter.kind, filter.resource_id, filter.to
    );
    let start = filter
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(&list_id, c))
        .transpose()?;
    let query = Query::partition(partition(tenant))
        .sort_key(sort_key)
        .descending()
        .limit(limit)
        .start(start);
    let (events, next) = query_filtered(state.table.as_ref(), query, limit, 10, |e: &Event| {
        filter.kind.as_deref().is_none_or(|k| matches(k, &e.kind))
            && filter
                .resource_id
                .as_deref()
                .is_none_or(|id| e.resource_id == id)
            && e.view(principal).is_some()
    })
    .await?;
    Ok(ListPage {
        data: events.iter().filter_map(|e| e.view(principal)).collect(),
        next_cursor: next.map(|n| state.cursors.encode(&list_id, &n)),
    })
}

// The write set of an audit entry is defined here, beside the event it carries, so that
// the audit log need not know about events.
impl Entry {
    /// The writes that store the entry in `tenant`'s log and, when it records a change of
    /// a business record, the change's event (see this module). They go into the
    /// change's own transaction: no change without its entry and event, and no entry or
    /// event without its change.
    pub fn writes(&self, tenant: &TenantId) -> Result<Vec<Write>, TableError> {
        let mut writes = vec![self.log_write(tenant)?];
        writes.extend(writes_for(tenant, self)?);
        Ok(writes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_exact_types_and_prefixes() {
        assert!(matches("*", "deal.created"));
        assert!(matches("deal.*", "deal.stage_changed"));
        assert!(!matches("deal.*", "dealer.created"));
        assert!(matches("contact.updated", "contact.updated"));
        assert!(!matches("contact.updated", "contact.updated2"));
        for ok in ["*", "deal.*", "contact.created", "ticket.first_response"] {
            assert!(is_pattern(ok), "{ok}");
        }
        for bad in [
            "",
            ".*",
            "deal.",
            "Deal.created",
            "deal..x",
            "de*al",
            "deal.*.x",
        ] {
            assert!(!is_pattern(bad), "{bad}");
        }
    }

    #[test]
    fn only_patterns_some_listed_type_matches_are_known() {
        for known in ["*", "deal.*", "ticket.first_response", "webhook.ping"] {
            assert!(is_known_pattern(known, &[]), "{known}");
        }
        // A custom object's changes are types of the tenant that has it.
        let custom = ["project2".to_owned()];
        for known in ["project2.created", "project2.*", "project2.deleted"] {
            assert!(is_known_pattern(known, &custom), "{known}");
            assert!(!is_known_pattern(known, &[]), "{known}");
        }
        assert!(!is_known_pattern("project2.merged", &custom));
        for unknown in [
            "deal.craeted",
            "invoice.*",
            "deal.stage.*",
            "dea*",
            "contact.revealed",
        ] {
            assert!(!is_known_pattern(unknown, &[]), "{unknown}");
        }
        let mut sorted = TYPES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, TYPES, "listed once, in order");
        assert!(TYPES.iter().all(|t| is_pattern(t)));
    }
}
