//! Partners' own ids for contacts, companies and custom records, and bulk upserts by them.
//!
//! A partner system (`erp`, `shop`, ...) names its records by its own ids. A marker per
//! (object, system, external id) points at the record it made
//! (`T#<t>#external#<object>#<system>`, sort key the external id), written in the
//! creating transaction on condition that it does not exist yet, so two concurrent
//! upserts of one external id make one record: the loser finds the marker and updates.
//! Upserting sets the fields sent and keeps the others, as a merge patch would.
//!
//! A marker whose record was deleted (or merged away) is stale: the next upsert makes a
//! new record and points the marker at it.

use std::collections::{BTreeMap, HashMap};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::AppState;
use crate::companies::{self, CompanyPatch, NewCompany};
use crate::contacts::{self, ContactPatch, NewContact};
use crate::error::Error;
use crate::ids::{TenantId, new_id};
use crate::policy::{Action, View};
use crate::principal::Principal;
use crate::records::Writing;
use crate::table::{Condition, Key, Write, from_item, to_item};
use crate::versioned::Precondition;

/// Records one bulk call takes.
pub const MAX_BULK: usize = 100;
const MAX_EXTERNAL_ID: usize = 128;
const MAX_SYSTEM: usize = 32;

/// `POST /v1/contacts/bulk` and `POST /v1/companies/bulk`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkUpsert {
    /// The partner system whose ids these are: 1 to 32 of `a-z 0-9 _ -`.
    pub system: String,
    /// Each a record's fields and its `external_id`.
    pub items: Vec<Map<String, Value>>,
}

/// One item of a bulk call: its place, its external id (or why it is not one) and its
/// other fields.
type Item = (usize, Result<String, Error>, Map<String, Value>);

/// What became of one item.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub index: usize,
    /// 201 made, 200 updated, or the problem's status.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<View>,
    /// The RFC 9457 problem when it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Value>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    id: String,
    /// Replacing a stale marker is conditioned on it, so two upserts that both find the
    /// record gone make one new record.
    version: u64,
}

/// The objects that take external ids.
#[derive(Clone, Debug)]
pub enum Object {
    Contacts,
    Companies,
    /// A tenant's custom object, by its key.
    Custom(String),
}

impl Object {
    /// The resource roles grant (`contacts`, `objects/<key>`).
    fn name(&self) -> String {
        match self {
            Object::Contacts => contacts::service::RESOURCE.to_owned(),
            Object::Companies => companies::RESOURCE.to_owned(),
            Object::Custom(key) => crate::fields::objects::resource_of(key),
        }
    }

    fn prefix(&self) -> &'static str {
        match self {
            Object::Contacts => contacts::PREFIX,
            Object::Companies => companies::PREFIX,
            Object::Custom(_) => crate::ids::RecordId::PREFIX,
        }
    }

    fn record_key(&self, tenant: &TenantId, id: &str) -> Key {
        match self {
            Object::Contacts => contacts::key(tenant, id),
            Object::Companies => companies::key(tenant, id),
            Object::Custom(key) => crate::objects::key(tenant, key, id),
        }
    }

    async fn create(
        &self,
        state: &AppState,
        principal: &Principal,
        fields: &Map<String, Value>,
        writing: Writing,
    ) -> Result<View, Error> {
        match self {
            Object::Contacts => {
                let input: NewContact = parse(fields)?;
                contacts::service::create_with(state, principal, input, writing).await
            }
            Object::Companies => {
                let input: NewCompany = parse(fields)?;
                companies::service::create_with(state, principal, input, writing).await
            }
            Object::Custom(key) => {
                let input: crate::objects::NewRecord = parse(fields)?;
                crate::objects::create_with(state, principal, key, input, writing).await
            }
        }
    }

    async fn update(
        &self,
        state: &AppState,
        principal: &Principal,
        id: &str,
        fields: &Map<String, Value>,
    ) -> Result<View, Error> {
        match self {
            Object::Contacts => {
                let patch: ContactPatch = parse(fields)?;
                contacts::service::update(state, principal, id, Precondition::Any, patch).await
            }
            Object::Companies => {
                let patch: CompanyPatch = parse(fields)?;
                companies::service::update(state, principal, id, Precondition::Any, patch).await
            }
            Object::Custom(key) => {
                let patch: crate::objects::RecordPatch = parse(fields)?;
                crate::objects::update(state, principal, key, id, Precondition::Any, patch).await
            }
        }
    }
}

/// `fields` as the body `T` of a single create or update, with the same field-named
/// errors.
fn parse<T: DeserializeOwned>(fields: &Map<String, Value>) -> Result<T, Error> {
    let bytes = serde_json::to_vec(fields).map_err(|e| Error::Internal(e.to_string()))?;
    crate::wire::parse_json(&bytes)
}

fn marker_key(tenant: &TenantId, object: &Object, system: &str, external_id: &str) -> Key {
    Key::new(
        tenant.pk(&format!("external#{}#{system}", object.name())),
        external_id,
    )
}

fn is_system(system: &str) -> bool {
    !system.is_empty()
        && system.len() <= MAX_SYSTEM
        && system
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn check_external_id(value: Option<&Value>) -> Result<String, Error> {
    match value.and_then(Value::as_str) {
        Some(id)
            if !id.is_empty()
                && id.chars().count() <= MAX_EXTERNAL_ID
                && id.chars().all(|c| !c.is_control() && !c.is_whitespace()) =>
        {
            Ok(id.to_owned())
        }
        _ => Err(Error::validation(
            "external_id",
            format!("must be the partner's id: 1 to {MAX_EXTERNAL_ID} characters without spaces"),
        )),
    }
}

/// Upserts up to [`MAX_BULK`] records of `object` by their external ids in `system`, one
/// by one (each in its own transaction), and reports each.
pub async fn bulk_upsert(
    state: &AppState,
    principal: &Principal,
    object: Object,
    input: BulkUpsert,
) -> Result<Vec<Outcome>, Error> {
    principal.require(&object.name(), Action::Create)?;
    if let Object::Custom(key) = &object {
        // An unknown object is a 404 for the whole call, not one per item.
        crate::fields::objects::find(state, &principal.tenant, key).await?;
    }
    let mut errors = crate::validation::Errors::new();
    if !is_system(&input.system) {
        errors.add("system", "must be 1 to 32 of a-z, 0-9, `_` and `-`");
    }
    if input.items.is_empty() || input.items.len() > MAX_BULK {
        errors.add("items", format!("give 1 to {MAX_BULK} items"));
    }
    errors.finish().map_err(Error::Validation)?;
    let items: Vec<Item> = input
        .items
        .into_iter()
        .enumerate()
        .map(|(index, mut fields)| {
            let external_id = check_external_id(fields.remove("external_id").as_ref());
            (index, external_id, fields)
        })
        .collect();
    // Items run at once, so that their transactions are committed together, except that
    // items which could touch the same record (the same external id, or an equal custom
    // value, which may be unique) run one after another in their order, as if the call
    // ran every item in turn.
    let mut running = tokio::task::JoinSet::new();
    let chains = chains(&items);
    let count = items.len();
    let mut items: Vec<_> = items.into_iter().map(Some).collect();
    for chain in chains {
        let (state, principal, object, system) = (
            state.clone(),
            principal.clone(),
            object.clone(),
            input.system.clone(),
        );
        let chain: Vec<_> = chain.into_iter().filter_map(|n| items[n].take()).collect();
        running.spawn(async move {
            let mut done = Vec::with_capacity(chain.len());
            for (index, external_id, fields) in chain {
                done.push(match external_id {
                    Ok(id) => {
                        let result =
                            upsert(&state, &principal, &object, &system, &id, &fields).await;
                        (index, Some(id), result)
                    }
                    Err(e) => (index, None, Err(e)),
                });
            }
            done
        });
    }
    let mut done = Vec::with_capacity(count);
    while let Some(chain) = running.join_next().await {
        done.extend(chain.map_err(|e| Error::Internal(format!("bulk upsert: {e}")))?);
    }
    done.sort_by_key(|(index, ..)| *index);
    Ok(done
        .into_iter()
        .map(|(index, external_id, result)| match result {
            Ok((made, record)) => Outcome {
                index,
                status: if made { 201 } else { 200 },
                external_id,
                record: Some(record),
                problem: None,
            },
            Err(e) => Outcome {
                index,
                status: e.status().as_u16(),
                external_id,
                record: None,
                problem: Some(e.body()),
            },
        })
        .collect())
}

/// The items of a bulk call grouped into chains, each in the items' order: two items that
/// share an external id or a custom value are in the same chain.
fn chains(items: &[Item]) -> Vec<Vec<usize>> {
    fn root(parent: &mut [usize], mut n: usize) -> usize {
        while parent[n] != n {
            parent[n] = parent[parent[n]];
            n = parent[n];
        }
        n
    }
    let mut parent: Vec<usize> = (0..items.len()).collect();
    let mut first: HashMap<String, usize> = HashMap::new();
    for (n, (_, external_id, fields)) in items.iter().enumerate() {
        let custom = fields.get("custom").and_then(Value::as_object);
        let keys = external_id.iter().map(|id| format!("id:{id}")).chain(
            custom
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("c:{k}:{}", crate::fields::unique_form(v))),
        );
        for key in keys {
            let other = *first.entry(key).or_insert(n);
            let (a, b) = (root(&mut parent, other), root(&mut parent, n));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut chains: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for n in 0..items.len() {
        let r = root(&mut parent, n);
        chains.entry(r).or_default().push(n);
    }
    chains.into_values().collect()
}

/// Upserts one record; true when it was made.
async fn upsert(
    state: &AppState,
    principal: &Principal,
    object: &Object,
    system: &str,
    external_id: &str,
    fields: &Map<String, Value>,
) -> Result<(bool, View), Error> {
    let tenant = &principal.tenant;
    let marker = marker_key(tenant, object, system, external_id);
    for _ in 0..2 {
        let found = match state.table.get(&marker).await? {
            Some(item) => Some(from_item::<Marker>(item)?),
            None => None,
        };
        let version = found.as_ref().map_or(0, |m| m.version);
        let pointed = found.map(|m| m.id);
        let live = match &pointed {
            Some(id) => state
                .table
                .get(&object.record_key(tenant, id))
                .await?
                .is_some(),
            None => false,
        };
        if let (Some(id), true) = (&pointed, live) {
            // It exists: the caller's scope and field rules decide as for any update.
            return object
                .update(state, principal, id, fields)
                .await
                .map(|v| (false, v));
        }
        let id = new_id(object.prefix());
        let writing = Writing {
            id: Some(id.clone()),
            extra: vec![Write::Put {
                item: to_item(
                    &marker,
                    &Marker {
                        id,
                        version: version + 1,
                    },
                )?,
                // New, or replacing the stale marker as read: another upsert racing this
                // one fails here and updates what this one made.
                condition: Condition::at_version(version),
            }],
            ..Writing::default()
        };
        match object.create(state, principal, fields, writing).await {
            Ok(view) => return Ok((true, view)),
            // Another upsert of this id won the race: update what it made.
            Err(Error::Conflict {
                kind: "concurrent-modification",
                ..
            }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::conflict(
        "concurrent-modification",
        "The record was changed at the same time by another request; please retry.",
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn items_that_could_touch_one_record_share_a_chain_in_their_order() {
        let item = |id: Option<&str>, custom: Value| {
            let mut fields = Map::new();
            fields.insert("custom".into(), custom);
            let id = id
                .map(str::to_owned)
                .ok_or_else(|| Error::validation("external_id", "x"));
            (0, id, fields)
        };
        let items = [
            item(Some("A"), json!({})),
            item(Some("B"), json!({"code": "x1"})),
            item(Some("A"), json!({})),
            item(None, json!({"code": "x1"})),
            item(Some("C"), json!({"code": "x2"})),
            item(None, json!({})),
            item(Some("D"), json!({"code": "x2", "other": 1})),
            item(Some("B"), json!({})),
            item(Some("E"), json!({"code": "AB-1"})),
            item(Some("F"), json!({"code": "ab-1"})),
        ];
        assert_eq!(
            chains(&items),
            [vec![0, 2], vec![1, 3, 7], vec![4, 6], vec![5], vec![8, 9]]
        );
    }
}
