//! Custom objects: record types a tenant defines (`/v1/objects`), such as projects,
//! vehicles or properties. A definition has a key, labels in Chinese and English and its
//! fields (custom fields of the usual types, plus relations to contacts, companies, deals
//! or other custom objects). Its records live at `/v1/objects/{key}/records` (see
//! `crate::objects`), are granted in roles as `objects/<key>`, and change as events
//! `<key>.created` / `.updated` / `.deleted`.
//!
//! All definitions of a tenant are one item, so the limit on their number holds under
//! concurrent creation; beside it, a marker per live object that each record create
//! checks, so that deleting a definition with records is refused even in a race.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::service::{NewField, build};
use super::{Definitions, FieldDef, Kind, MAX_FIELDS, MAX_TEXT, service::definitions};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::ids::{TenantId, new_id};
use crate::policy::{Action, CUSTOM_PREFIX, Catalog};
use crate::principal::Principal;
use crate::table::{Condition, Key, Query, Table, TableError, Write, from_item, to_item};
use crate::validation::Errors;
use crate::versioned::{Precondition, write_on_version};

/// The prefix of a custom object's id, and of its records' ids.
pub const PREFIX: &str = crate::ids::ObjectId::PREFIX;
pub const RECORD_PREFIX: &str = crate::ids::RecordId::PREFIX;
/// Most custom objects per tenant.
pub const MAX_OBJECTS: usize = 50;
/// Changing definitions is a matter of company settings.
const SETTINGS: &str = "settings";

/// Keys a custom object cannot have: the product's own objects and routes, and those it
/// is planned to have, so that an event type or a role never means two things.
pub const RESERVED: &[&str] = &[
    "activity",
    "activities",
    "api_key",
    "api_keys",
    "approval",
    "approvals",
    "audit",
    "auth",
    "campaign",
    "campaigns",
    "company",
    "companies",
    "contact",
    "contacts",
    "contract",
    "contracts",
    "deal",
    "deals",
    "document",
    "documents",
    "event",
    "events",
    "export",
    "exports",
    "feedback",
    "field",
    "fields",
    "file",
    "files",
    "folder",
    "folders",
    "follow_up",
    "follow_ups",
    "import",
    "imports",
    "invoice",
    "invoices",
    "job",
    "jobs",
    "lead",
    "leads",
    "me",
    "note",
    "notes",
    "notification",
    "notifications",
    "object",
    "objects",
    "order",
    "orders",
    "payment",
    "payments",
    "pipeline",
    "pipelines",
    "pool",
    "pools",
    "product",
    "products",
    "quote",
    "quotes",
    "record",
    "records",
    "reminder",
    "reminders",
    "report",
    "reports",
    "role",
    "roles",
    "schema",
    "search",
    "setting",
    "settings",
    "share",
    "shares",
    "stage",
    "stages",
    "survey",
    "surveys",
    "task",
    "tasks",
    "team",
    "teams",
    "tenant",
    "tenants",
    "ticket",
    "tickets",
    "user",
    "users",
    "webhook",
    "webhooks",
];

/// A label in each language the product speaks; at least one is given, and a reader of
/// the other language sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
    #[serde(default, rename = "zh-CN", skip_serializing_if = "Option::is_none")]
    pub zh_cn: Option<String>,
}

impl Labels {
    fn check(&mut self, path: &str, errors: &mut Errors) {
        for (lang, label) in [("en", &mut self.en), ("zh-CN", &mut self.zh_cn)] {
            errors.trimmed(&format!("{path}.{lang}"), label, 100);
        }
        if self.en.is_none() && self.zh_cn.is_none() {
            errors.add(path, "needs a label in en or zh-CN");
        }
    }
}

/// A custom object's definition (its fields are kept with those of the built-in objects).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectDef {
    pub id: String,
    /// `^[a-z][a-z0-9_]{1,39}$`, fixed once created: it names the routes, the role
    /// resource and the event types.
    pub key: String,
    pub label: Labels,
    pub plural_label: Labels,
    pub description: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Every custom object of a tenant, as one item.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Objects {
    pub objects: Vec<ObjectDef>,
    #[serde(default)]
    pub version: u64,
}

impl Objects {
    pub fn get(&self, key: &str) -> Option<&ObjectDef> {
        self.objects.iter().find(|o| o.key == key)
    }
}

/// The role resource of custom object `key`.
pub fn resource_of(object: &str) -> String {
    if super::OBJECTS.contains(&object) {
        object.to_owned()
    } else {
        format!("{CUSTOM_PREFIX}{object}")
    }
}

fn key(tenant: &TenantId) -> Key {
    Key::new(tenant.pk("objects"), "all")
}

fn live_key(tenant: &TenantId, object: &str) -> Key {
    Key::new(tenant.pk("objects-live"), object)
}

/// The write a record's creation carries: it fails unless object `key` still exists.
pub fn live_check(tenant: &TenantId, object: &str) -> Write {
    Write::Check {
        key: live_key(tenant, object),
        condition: Condition::Exists,
    }
}

/// The tenant's custom objects.
pub async fn all(table: &dyn Table, tenant: &TenantId) -> Result<Objects, Error> {
    Ok(match table.get(&key(tenant)).await? {
        Some(item) => from_item(item)?,
        None => Objects::default(),
    })
}

/// What the tenant defined, for checking roles and API keys that name it: its custom
/// objects and their fields (text-like ones can be masked).
pub async fn catalog(table: &dyn Table, tenant: &TenantId) -> Result<Catalog, Error> {
    let mut catalog = Catalog::default();
    for object in all(table, tenant).await?.objects {
        let fields = definitions(table, tenant, &object.key)
            .await?
            .fields
            .into_iter()
            .filter(|f| !f.removed)
            .map(|f| {
                let maskable =
                    matches!(f.kind, Kind::Text | Kind::SingleSelect | Kind::MultiSelect);
                (format!("custom.{}", f.key), maskable)
            })
            .collect();
        catalog.objects.insert(resource_of(&object.key), fields);
    }
    Ok(catalog)
}

/// A definition with its fields, as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectView {
    #[serde(flatten)]
    pub object: ObjectDef,
    /// Its role resource (`objects/<key>`).
    pub resource: String,
    pub fields: Vec<FieldDef>,
}

fn not_found() -> Error {
    Error::NotFound("No custom object with this key.".into())
}

/// Whether the caller may read definitions: company settings, or the object itself.
fn may_read(principal: &Principal, object: &str) -> bool {
    principal
        .permissions
        .allows(SETTINGS, Action::Read)
        .is_some()
        || principal
            .permissions
            .allows(&resource_of(object), Action::Read)
            .is_some()
}

async fn view(state: &AppState, tenant: &TenantId, object: ObjectDef) -> Result<ObjectView, Error> {
    let fields = definitions(state.table.as_ref(), tenant, &object.key)
        .await?
        .fields;
    Ok(ObjectView {
        resource: resource_of(&object.key),
        object,
        fields,
    })
}

/// The custom objects the caller may read (or all, for those who read settings).
pub async fn list(state: &AppState, principal: &Principal) -> Result<Vec<ObjectView>, Error> {
    let mut out = Vec::new();
    for object in all(state.table.as_ref(), &principal.tenant).await?.objects {
        if may_read(principal, &object.key) {
            out.push(view(state, &principal.tenant, object).await?);
        }
    }
    Ok(out)
}

/// Custom object `key`: 403 unless the caller may read it (or settings), then 404 if the
/// tenant has none (so another company's object and the caller's own look alike).
pub async fn get(state: &AppState, principal: &Principal, key: &str) -> Result<ObjectView, Error> {
    if !may_read(principal, key) {
        let resource = resource_of(key);
        return Err(Error::Forbidden(format!(
            "Your role does not allow `{}` on {resource}.",
            Action::Read.as_str()
        )));
    }
    let object = find(state, &principal.tenant, key).await?;
    view(state, &principal.tenant, object).await
}

/// Custom object `key` of `tenant` (not found if there is none).
pub async fn find(state: &AppState, tenant: &TenantId, key: &str) -> Result<ObjectDef, Error> {
    all(state.table.as_ref(), tenant)
        .await?
        .get(key)
        .cloned()
        .ok_or_else(not_found)
}

/// The body of `POST /v1/objects`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewObject {
    pub key: String,
    pub label: Labels,
    /// The label of a list of records (the singular label when left out).
    pub plural_label: Option<Labels>,
    pub description: Option<String>,
    /// Fields to define with it (more can be added later through `/v1/settings/fields`).
    #[serde(default)]
    pub fields: Vec<ObjectField>,
}

/// A field defined with its object: a custom field without `object`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectField {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    pub target: Option<String>,
}

/// The body of `PATCH /v1/objects/{key}` (the key is fixed; fields change through
/// `/v1/settings/fields`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectPatch {
    pub label: Option<Labels>,
    pub plural_label: Option<Labels>,
    #[serde(default, deserialize_with = "crate::wire::present")]
    pub description: Option<Option<String>>,
}

fn check(object: &mut ObjectDef, errors: &mut Errors) {
    object.label.check("label", errors);
    if object.plural_label != object.label {
        object.plural_label.check("plural_label", errors);
    }
    errors.trimmed("description", &mut object.description, 1_000);
}

fn is_object_key(key: &str) -> bool {
    super::is_key(key) && key.len() >= 2
}

/// Stores `objects` if still at the version read, with `also` in the same transaction.
async fn store(
    table: &dyn Table,
    tenant: &TenantId,
    objects: &Objects,
    also: Vec<Write>,
) -> Result<Result<(), TableError>, Error> {
    let mut writes = vec![Write::Put {
        item: to_item(&key(tenant), objects)?,
        condition: Condition::at_version(objects.version - 1),
    }];
    writes.extend(also);
    Ok(table.transact(writes).await)
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewObject,
) -> Result<ObjectView, Error> {
    principal.require(SETTINGS, Action::Update)?;
    let tenant = &principal.tenant;
    let now = rfc3339(state.clock.now());
    let mut errors = Errors::new();
    if !is_object_key(&input.key) {
        errors.add(
            "key",
            "must be 2 to 40 of a-z, 0-9 and _, starting with a letter",
        );
    } else if RESERVED.contains(&input.key.as_str()) {
        errors.add(
            "key",
            "is a name the product uses for its own objects; choose another",
        );
    }
    let mut object = ObjectDef {
        id: new_id(PREFIX),
        key: input.key,
        plural_label: input.plural_label.unwrap_or_else(|| input.label.clone()),
        label: input.label,
        description: input.description,
        created_at: now.clone(),
        updated_at: now.clone(),
    };
    check(&mut object, &mut errors);
    if input.fields.len() > MAX_FIELDS {
        errors.add(
            "fields",
            format!("at most {MAX_FIELDS} fields at creation; add more later"),
        );
    }
    write_on_version(&Precondition::Any, "object list", || async {
        let mut objects = all(state.table.as_ref(), tenant).await?;
        // The object may relate to itself (a parent project), so it counts as known.
        let mut known = objects.clone();
        known.objects.push(object.clone());
        let mut errors = errors.clone();
        let mut fields = Definitions::default();
        for (i, field) in input.fields.iter().cloned().enumerate() {
            let def = build(
                NewField {
                    object: object.key.clone(),
                    key: field.key,
                    label: field.label,
                    kind: field.kind,
                    options: field.options,
                    required: field.required,
                    unique: field.unique,
                    target: field.target,
                },
                &known,
                &now,
                &format!("fields[{i}]"),
                &mut errors,
            );
            if let Err(e) = super::service::add(&mut fields, def) {
                match e {
                    Error::Validation(found) => {
                        for f in found {
                            errors.add(format!("fields[{i}].{}", f.field), f.message);
                        }
                    }
                    Error::Conflict { .. } => {
                        errors.add(format!("fields[{i}].key"), "appears twice");
                    }
                    other => return Err(other),
                }
            }
        }
        errors.finish().map_err(Error::Validation)?;
        if objects.get(&object.key).is_some() {
            return Err(Error::conflict(
                "object-key-taken",
                "A custom object already has this key.",
            ));
        }
        if objects.objects.len() >= MAX_OBJECTS {
            return Err(Error::validation(
                "key",
                format!("a company has at most {MAX_OBJECTS} custom objects"),
            ));
        }
        objects.objects.push(object.clone());
        objects.version += 1;
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "object.created",
            SETTINGS,
            Some(&object.id),
        )
        .with_changes(None, Some(&object));
        let mut also = vec![Write::Put {
            item: to_item(&live_key(tenant, &object.key), &json!({ "id": object.id }))?,
            condition: Condition::None,
        }];
        if !fields.fields.is_empty() {
            // Fields left by an object of the same key deleted before go with it.
            also.push(Write::Put {
                item: to_item(&super::key(tenant, &object.key), &fields)?,
                condition: Condition::None,
            });
        } else {
            also.push(Write::Delete {
                key: super::key(tenant, &object.key),
                condition: Condition::None,
            });
        }
        also.extend(entry.writes(tenant)?);
        store(state.table.as_ref(), tenant, &objects, also).await
    })
    .await?;
    view(state, tenant, object).await
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    key: &str,
    patch: ObjectPatch,
) -> Result<ObjectView, Error> {
    principal.require(SETTINGS, Action::Update)?;
    let tenant = &principal.tenant;
    let object = write_on_version(&Precondition::Any, "object list", || async {
        let mut objects = all(state.table.as_ref(), tenant).await?;
        let at = objects
            .objects
            .iter()
            .position(|o| o.key == key)
            .ok_or_else(not_found)?;
        let before = objects.objects[at].clone();
        let mut after = before.clone();
        let patch = patch.clone();
        if let Some(label) = patch.label {
            after.label = label;
        }
        if let Some(plural) = patch.plural_label {
            after.plural_label = plural;
        }
        if let Some(description) = patch.description {
            after.description = description;
        }
        let mut errors = Errors::new();
        check(&mut after, &mut errors);
        errors.finish().map_err(Error::Validation)?;
        if after == before {
            return Ok(Ok(after));
        }
        after.updated_at = rfc3339(state.clock.now());
        objects.objects[at] = after.clone();
        objects.version += 1;
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "object.updated",
            SETTINGS,
            Some(&after.id),
        )
        .with_changes(Some(&before), Some(&after));
        Ok(store(
            state.table.as_ref(),
            tenant,
            &objects,
            entry.writes(tenant)?,
        )
        .await?
        .map(|()| after))
    })
    .await?;
    view(state, tenant, object).await
}

/// Deletes custom object `key` if it has no records (409 `object-has-records`), with
/// its fields.
pub async fn delete(state: &AppState, principal: &Principal, key: &str) -> Result<(), Error> {
    principal.require(SETTINGS, Action::Update)?;
    let tenant = &principal.tenant;
    let table = state.table.as_ref();
    find(state, tenant, key).await?;
    // First no new record can be created; then none must be left.
    let live = table.get(&live_key(tenant, key)).await?;
    table
        .delete(&live_key(tenant, key), Condition::None)
        .await?;
    let records = table
        .query(&Query::partition(tenant.pk(&resource_of(key))).limit(1))
        .await?;
    if !records.items.is_empty() {
        if let Some(live) = live {
            table.put(live, Condition::None).await?;
        }
        return Err(Error::conflict(
            "object-has-records",
            "This object still has records; delete them first.",
        ));
    }
    write_on_version(&Precondition::Any, "object list", || async {
        let mut objects = all(table, tenant).await?;
        let Some(at) = objects.objects.iter().position(|o| o.key == key) else {
            return Ok(Ok(()));
        };
        let before = objects.objects.remove(at);
        objects.version += 1;
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "object.deleted",
            SETTINGS,
            Some(&before.id),
        )
        .with_changes(Some(&before), None);
        let mut also = vec![Write::Delete {
            key: super::key(tenant, key),
            condition: Condition::None,
        }];
        also.extend(entry.writes(tenant)?);
        store(table, tenant, &objects, also).await
    })
    .await
}

/// `GET /v1/objects/{key}/schema`: the JSON Schema (draft 2020-12) of a record of
/// custom object `key` as the caller may write it, for partners.
pub async fn schema(state: &AppState, principal: &Principal, key: &str) -> Result<Value, Error> {
    let object = get(state, principal, key).await?;
    let label = |l: &Labels| l.en.clone().or_else(|| l.zh_cn.clone()).unwrap_or_default();
    let mut properties = Map::new();
    for field in object.fields.iter().filter(|f| !f.removed) {
        let mut schema = match field.kind {
            Kind::Text => json!({"type": "string", "minLength": 1, "maxLength": MAX_TEXT}),
            Kind::Number => json!({"type": "number"}),
            Kind::Money => json!({
                "type": "object",
                "properties": {
                    "amount_minor": {"type": "integer"},
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                },
                "required": ["amount_minor", "currency"],
                "additionalProperties": false,
            }),
            Kind::Date => json!({"type": "string", "format": "date"}),
            Kind::Boolean => json!({"type": "boolean"}),
            Kind::SingleSelect => json!({"type": "string", "enum": field.options}),
            Kind::MultiSelect => json!({
                "type": "array",
                "items": {"type": "string", "enum": field.options},
                "uniqueItems": true,
            }),
            Kind::Relation => json!({
                "type": "string",
                "pattern": format!(
                    "^{}_[0-9a-z]{{26}}$",
                    super::relation_prefix(field.target.as_deref())
                ),
                "x-crm-target": field.target,
            }),
        };
        schema["title"] = json!(field.label);
        properties.insert(field.key.clone(), schema);
    }
    let custom_required: Vec<&str> = object
        .fields
        .iter()
        .filter(|f| f.required && !f.removed)
        .map(|f| f.key.as_str())
        .collect();
    let mut required = vec!["name"];
    if !custom_required.is_empty() {
        required.push("custom");
    }
    Ok(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{}/v1/objects/{key}/schema", state.config.public_url),
        "title": label(&object.object.label),
        "description": object.object.description,
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "owner_id": {"type": "string", "pattern": "^usr_[0-9a-z]{26}$"},
            "custom": {
                "type": "object",
                "properties": properties,
                "required": custom_required,
                "additionalProperties": false,
            },
        },
        "required": required,
        "additionalProperties": false,
    }))
}
