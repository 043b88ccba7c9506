//! The audit log: who did what, when, from where, to which record, with the before and
//! after of each changed field. An entry is written in the same transaction as the change
//! it records, so there is no change without its entry. No route changes or deletes
//! entries.
//!
//! Entries never hold secrets: password hashes, token hashes and key material are left
//! out of every diff (see [`SECRET_FIELDS`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::AppState;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::ids::{TenantId, is_id, new_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::Action;
use crate::principal::Principal;
use crate::principal::{Caller, RequestMeta};
use crate::table::{
    Condition, Index, Key, Query, SortKey, Table, TableError, Write, query_filtered, to_item,
};

pub const PREFIX: &str = crate::ids::AuditEntryId::PREFIX;

/// Fields whose values never enter the log.
pub const SECRET_FIELDS: &[&str] = &[
    "password_hash",
    "secret_hash",
    "previous_hashes",
    "data_key",
    "mfa",
];
/// Bookkeeping fields that change with every write and say nothing by themselves.
const NOISE_FIELDS: &[&str] = &[
    "version",
    "updated_at",
    "pk",
    "sk",
    "gsi1pk",
    "gsi1sk",
    "gsi2pk",
    "gsi2sk",
    "gsi3pk",
    "gsi3sk",
    "gsi4pk",
    "gsi4sk",
];

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `user`, `api_key`, `anonymous`, or `system` (the reminder worker).
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
}

impl Actor {
    pub fn user(id: &str) -> Self {
        Self {
            kind: "user".into(),
            id: Some(id.to_owned()),
        }
    }

    /// The user or API key behind `principal`.
    pub fn of(principal: &Principal) -> Self {
        let kind = match principal.caller {
            Caller::User => "user",
            Caller::ApiKey => "api_key",
            Caller::System => "system",
        };
        Self {
            kind: kind.into(),
            id: Some(principal.user_id.clone()),
        }
    }
}

/// A field's value before and after a change (`null` where it did not exist).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub before: Value,
    pub after: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub at: String,
    pub actor: Actor,
    /// What happened, e.g. `contact.created`, `auth.login_failed`.
    pub action: String,
    /// The kind of record, e.g. `contacts`.
    pub resource: String,
    pub resource_id: Option<String>,
    pub changes: BTreeMap<String, Change>,
    /// Fields an action concerned without changing them (e.g. those a reveal showed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// The server's id of the request.
    pub request_id: Option<String>,
    /// The `X-Request-Id` the client sent, sanitised; for correlation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    pub ip: String,
    pub user_agent: Option<String>,
    /// The owner of the changed record, for readers' scopes. Stored, never shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    /// The whole record after the change (before it, for a deletion): what the change's
    /// event carries. Not part of the entry itself.
    #[serde(skip)]
    pub snapshot: Option<Value>,
    /// Whether the change turned one version of a record into another (not a creation
    /// or deletion).
    #[serde(skip)]
    pub is_update: bool,
}

impl Entry {
    pub fn new(
        at: OffsetDateTime,
        actor: Actor,
        action: &str,
        resource: &str,
        resource_id: Option<&str>,
        request: &RequestMeta,
    ) -> Self {
        Self {
            id: new_id(PREFIX),
            at: rfc3339(at),
            actor,
            action: action.to_owned(),
            resource: resource.to_owned(),
            resource_id: resource_id.map(str::to_owned),
            changes: BTreeMap::new(),
            fields: Vec::new(),
            request_id: request.request_id.clone(),
            client_request_id: request.client_request_id.clone(),
            ip: request.ip.clone(),
            user_agent: request.user_agent.clone(),
            owner_id: None,
            snapshot: None,
            is_update: false,
        }
    }

    /// An entry for an action the product takes by itself (the reminder worker), with
    /// no request behind it.
    pub fn system(
        at: OffsetDateTime,
        action: &str,
        resource: &str,
        resource_id: Option<&str>,
    ) -> Self {
        let actor = Actor {
            kind: "system".into(),
            id: None,
        };
        let request = RequestMeta::default();
        Self::new(at, actor, action, resource, resource_id, &request)
    }

    /// An entry for an action of a signed-in user.
    pub fn by(
        principal: &Principal,
        at: OffsetDateTime,
        action: &str,
        resource: &str,
        resource_id: Option<&str>,
    ) -> Self {
        Self::new(
            at,
            Actor::of(principal),
            action,
            resource,
            resource_id,
            &principal.request,
        )
    }

    /// Records the fields that differ between two versions of a record.
    pub fn with_changes<T: Serialize>(mut self, before: Option<&T>, after: Option<&T>) -> Self {
        self.changes = diff(before, after);
        self.is_update = before.is_some() && after.is_some();
        self.snapshot = after
            .or(before)
            .and_then(|record| serde_json::to_value(record).ok());
        self.owner_id = self.snapshot.as_ref().and_then(crate::policy::owner_of);
        self
    }

    /// Names the fields the action concerned (their values are never logged).
    pub fn with_fields(mut self, fields: &[&str]) -> Self {
        self.fields = fields.iter().map(|f| (*f).to_owned()).collect();
        self
    }

    /// Stores `change` and this entry in one transaction: no change without its entry.
    pub async fn commit(
        &self,
        table: &dyn Table,
        tenant: &TenantId,
        change: Write,
    ) -> Result<(), TableError> {
        let mut writes = vec![change];
        writes.extend(self.writes(tenant)?);
        table.transact(writes).await
    }

    /// The write that stores the entry in `tenant`'s log.
    pub fn log_write(&self, tenant: &TenantId) -> Result<Write, TableError> {
        let mut item = to_item(&Key::new(log_pk(tenant), &self.id), self)?;
        if let Some(actor) = &self.actor.id {
            item.insert("gsi1pk".into(), actor_pk(tenant, actor).into());
            item.insert("gsi1sk".into(), self.id.clone().into());
        }
        item.insert("gsi2pk".into(), resource_pk(tenant, &self.resource).into());
        item.insert("gsi2sk".into(), self.id.clone().into());
        Ok(Write::Put {
            item,
            condition: Condition::NotExists,
        })
    }
}

fn log_pk(tenant: &TenantId) -> String {
    tenant.pk("audit")
}

fn actor_pk(tenant: &TenantId, actor: &str) -> String {
    tenant.pk(&format!("audit#actor#{actor}"))
}

fn resource_pk(tenant: &TenantId, resource: &str) -> String {
    tenant.pk(&format!("audit#resource#{resource}"))
}

/// The top-level fields that differ between `before` and `after`, secrets left out.
pub fn diff<T: Serialize>(before: Option<&T>, after: Option<&T>) -> BTreeMap<String, Change> {
    let object = |v: Option<&T>| match v.map(serde_json::to_value) {
        Some(Ok(Value::Object(map))) => map,
        _ => Map::new(),
    };
    let (before, after) = (object(before), object(after));
    let mut changes = BTreeMap::new();
    for name in before.keys().chain(after.keys()) {
        let ignored =
            SECRET_FIELDS.contains(&name.as_str()) || NOISE_FIELDS.contains(&name.as_str());
        let b = before.get(name).cloned().unwrap_or(Value::Null);
        let a = after.get(name).cloned().unwrap_or(Value::Null);
        if !ignored && b != a {
            changes.insert(
                name.clone(),
                Change {
                    before: b,
                    after: a,
                },
            );
        }
    }
    changes
}

/// `GET /v1/audit` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub actor_id: Option<String>,
    pub resource: Option<String>,
    pub action: Option<String>,
    /// RFC 3339; entries at or after.
    pub from: Option<String>,
    /// RFC 3339; entries at or before.
    pub to: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The smallest and largest entry id of a millisecond, for time-range queries.
fn id_bound(t: OffsetDateTime, upper: bool) -> String {
    let ms = (t.unix_timestamp_nanos() / 1_000_000).clamp(0, (1i128 << 48) - 1) as u64;
    let random = if upper { (1u128 << 80) - 1 } else { 0 };
    let id = ulid::Ulid::from_parts(ms, random);
    format!("{PREFIX}_{}", id.to_string().to_ascii_lowercase())
}

fn parse_time(field: &str, value: &Option<String>) -> Result<Option<OffsetDateTime>, Error> {
    value
        .as_deref()
        .map(|v| {
            OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339).map_err(|_| {
                Error::validation(field, "must be an RFC 3339 time, like 2026-11-23T09:00:00Z")
            })
        })
        .transpose()
}

/// Reads of the log stop after this many table pages, even if filters left the page
/// short (the cursor then resumes where reading stopped).
const MAX_READS: usize = 10;

/// Entries newest first, filtered.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    filter: Filter,
) -> Result<ListPage<Entry>, Error> {
    principal.require("audit", Action::Read)?;
    let limit = ListParams {
        limit: filter.limit,
        cursor: None,
    }
    .limit()?;
    let from = parse_time("from", &filter.from)?;
    let to = parse_time("to", &filter.to)?;
    if let Some(actor) = &filter.actor_id
        && !(is_id(crate::ids::UserId::PREFIX, actor) || is_id(crate::ids::ApiKeyId::PREFIX, actor))
    {
        return Err(Error::validation("actor_id", "is not a user or API key id"));
    }
    if let Some(resource) = &filter.resource
        && !crate::policy::RESOURCES.contains(&resource.as_str())
        && !crate::policy::is_custom(resource)
        && !["auth", "tenant"].contains(&resource.as_str())
    {
        return Err(Error::validation("resource", "is not a known resource"));
    }
    if let Some(action) = &filter.action
        && (action.is_empty() || action.len() > 64)
    {
        return Err(Error::validation("action", "must be 1 to 64 characters"));
    }
    let tenant = &principal.tenant;
    let (pk, index) = match (&filter.actor_id, &filter.resource) {
        (Some(actor), _) => (actor_pk(tenant, actor), Index::Gsi1),
        (None, Some(resource)) => (resource_pk(tenant, resource), Index::Gsi2),
        (None, None) => (log_pk(tenant), Index::Primary),
    };
    let sort_key = match (from, to) {
        (None, None) => SortKey::BeginsWith(format!("{PREFIX}_")),
        (from, to) => SortKey::Between(
            from.map_or(format!("{PREFIX}_"), |t| id_bound(t, false)),
            to.map_or(format!("{PREFIX}_~"), |t| id_bound(t, true)),
        ),
    };
    // The cursor is bound to the filters, so it cannot be replayed with others.
    let list_id = format!(
        "{tenant}/audit/{pk}/{:?}/{:?}/{:?}",
        filter.resource, filter.action, sort_key
    );
    let start = filter
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(&list_id, c))
        .transpose()?;
    let query = Query::partition(pk)
        .on(index)
        .sort_key(sort_key)
        .descending()
        .limit(limit)
        .start(start);
    let (data, next) = query_filtered(
        state.table.as_ref(),
        query,
        limit,
        MAX_READS,
        |e: &Entry| {
            filter.resource.as_ref().is_none_or(|r| &e.resource == r)
                && filter.action.as_ref().is_none_or(|a| &e.action == a)
        },
    )
    .await?;
    Ok(ListPage {
        data: data.into_iter().map(|e| e.view(principal)).collect(),
        next_cursor: next.map(|n| state.cursors.encode(&list_id, &n)),
    })
}

impl Entry {
    /// The entry as `reader` may see it: the before and after of a record's fields pass
    /// through their view of that record (hidden fields left out, masked ones masked);
    /// for a record they may not read (no permission, or outside their scope) only who
    /// did what, when, to which id remains.
    pub fn view(mut self, reader: &Principal) -> Entry {
        let owner = self.owner_id.take();
        if self.changes.is_empty() {
            return self;
        }
        let side = |pick: fn(&Change) -> &Value| -> Value {
            Value::Object(
                self.changes
                    .iter()
                    .map(|(field, change)| (field.clone(), pick(change).clone()))
                    .collect(),
            )
        };
        let before = reader.sees(&self.resource, owner.as_deref(), &side(|c| &c.before));
        let after = reader.sees(&self.resource, owner.as_deref(), &side(|c| &c.after));
        let (Some(mut before), Some(mut after)) = (before, after) else {
            self.changes.clear();
            return self;
        };
        // The log holds sensitive values as keyed fingerprints (a change shows, the value
        // does not): where the reader's view keeps such a field, the fingerprint stays.
        for spec in crate::policy::fields_of(&self.resource)
            .iter()
            .filter(|f| f.sensitive)
        {
            if let Some(change) = self.changes.get(spec.name) {
                for (side, value) in [(&mut before, &change.before), (&mut after, &change.after)] {
                    let print = value
                        .as_str()
                        .is_some_and(|v| v.starts_with("fingerprint:"));
                    if let Some(shown) = side.get_mut(spec.name)
                        && print
                    {
                        *shown = value.clone();
                    }
                }
            }
        }
        self.changes = self
            .changes
            .keys()
            .filter(|f| before.contains_key(*f) || after.contains_key(*f))
            .map(|f| {
                let value = |side: &Map<String, Value>| side.get(f).cloned().unwrap_or(Value::Null);
                (
                    f.clone(),
                    Change {
                        before: value(&before),
                        after: value(&after),
                    },
                )
            })
            .collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_diff_names_changed_fields_and_never_secrets() {
        let before = json!({"name": "A", "title": "CTO", "password_hash": "x", "version": 1});
        let after =
            json!({"name": "B", "title": "CTO", "password_hash": "y", "version": 2, "tags": ["v"]});
        let changes = diff(Some(&before), Some(&after));
        let names: Vec<_> = changes.keys().cloned().collect();
        assert_eq!(names, ["name", "tags"]);
        assert_eq!(changes["name"].before, json!("A"));
        assert_eq!(changes["tags"].before, Value::Null);
        let created = diff(None, Some(&after));
        assert!(created.contains_key("name") && !created.contains_key("password_hash"));
    }

    #[test]
    fn time_bounds_enclose_the_ids_of_their_millisecond() {
        let t = OffsetDateTime::now_utc();
        let id = format!(
            "{PREFIX}_{}",
            ulid::Ulid::from_parts((t.unix_timestamp_nanos() / 1_000_000) as u64, 12345)
                .to_string()
                .to_ascii_lowercase()
        );
        assert!(id_bound(t, false) <= id && id <= id_bound(t, true));
    }
}
