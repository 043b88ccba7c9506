//! `/v1/settings/fields`: reading needs read access to the object (or to settings);
//! changing needs `update` on settings. Every change is audited.

use serde::Deserialize;

use super::{
    Definitions, FieldDef, Kind, MAX_FIELDS, MAX_OBJECT_FIELDS, MAX_OPTIONS, MAX_UNIQUE, OBJECTS,
    RELATION_TARGETS, is_key, key, objects,
};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::ids::{TenantId, is_id, new_id};
use crate::policy::Action;
use crate::principal::Principal;
use crate::table::{Condition, Table, Write, from_item, to_item};
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::versioned::write_on_version;

const RESOURCE: &str = "settings";
const PREFIX: &str = crate::ids::FieldId::PREFIX;

/// The custom field definitions of `object` in `tenant` (none yet: empty).
pub async fn definitions(
    table: &dyn Table,
    tenant: &TenantId,
    object: &str,
) -> Result<Definitions, Error> {
    Ok(match table.get(&key(tenant, object)).await? {
        Some(item) => from_item(item)?,
        None => Definitions::default(),
    })
}

/// `GET /v1/settings/fields` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldQuery {
    pub object: Option<String>,
}

/// The fields of each object the caller may read (removed ones included, flagged).
pub async fn list(
    state: &AppState,
    principal: &Principal,
    query: FieldQuery,
) -> Result<Vec<FieldDef>, Error> {
    let custom = objects::all(state.table.as_ref(), &principal.tenant).await?;
    let known = known_objects(&custom);
    let objects: Vec<&str> = match query.object.as_deref() {
        None => known.iter().map(String::as_str).collect(),
        Some(o) if known.iter().any(|k| k == o) => vec![o],
        Some(_) => return Err(unknown_object(&known)),
    };
    let settings = principal
        .permissions
        .allows(RESOURCE, Action::Read)
        .is_some();
    let readable: Vec<&str> = objects
        .into_iter()
        .filter(|o| {
            settings
                || principal
                    .permissions
                    .allows(&objects::resource_of(o), Action::Read)
                    .is_some()
        })
        .collect();
    if readable.is_empty() {
        return Err(Error::Forbidden(
            "Your role cannot read the records these fields belong to.".into(),
        ));
    }
    let mut out = Vec::new();
    for object in readable {
        out.extend(
            definitions(state.table.as_ref(), &principal.tenant, object)
                .await?
                .fields,
        );
    }
    Ok(out)
}

/// The objects that carry custom fields: the built-in ones, then the tenant's own.
fn known_objects(custom: &objects::Objects) -> Vec<String> {
    OBJECTS
        .iter()
        .map(|o| (*o).to_owned())
        .chain(custom.objects.iter().map(|o| o.key.clone()))
        .collect()
}

fn unknown_object_message(known: &[String]) -> String {
    format!(
        "must be one of {} (or the key of a custom object)",
        known.join(", ")
    )
}

fn unknown_object(known: &[String]) -> Error {
    Error::validation("object", unknown_object_message(known))
}

/// The body of `POST /v1/settings/fields`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewField {
    /// A built-in object (`contacts`) or the key of a custom object.
    pub object: String,
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
    /// For a relation: `contacts`, `companies`, `deals` or the key of a custom object.
    pub target: Option<String>,
}

/// The body of `PATCH /v1/settings/fields/{id}`. Key, type and the unique flag are fixed
/// once a field exists (records hold values in their shape); `removed: false` restores
/// a removed field.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldPatch {
    pub label: Option<String>,
    pub options: Option<Vec<String>>,
    pub required: Option<bool>,
    pub removed: Option<bool>,
}

fn check_label_and_options(def: &mut FieldDef, errors: &mut Errors) {
    errors.text("label", &def.label, 1, 100);
    def.label = def.label.trim().to_owned();
    if def.kind.has_options() {
        if def.options.is_empty() || def.options.len() > MAX_OPTIONS {
            errors.add(
                "options",
                format!("a select field has 1 to {MAX_OPTIONS} options"),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, option) in def.options.iter().enumerate() {
            errors.text(&format!("options[{i}]"), option, 1, 100);
            if option.trim() != option {
                errors.add(format!("options[{i}]"), "has leading or trailing spaces");
            }
            if !seen.insert(option.clone()) {
                errors.add(format!("options[{i}]"), "appears twice");
            }
        }
    } else if !def.options.is_empty() {
        errors.add("options", "only select fields have options");
    }
}

/// Stores `defs` (of `object`) if they are still at `version`, with the audit entry.
async fn store(
    state: &AppState,
    principal: &Principal,
    object: &str,
    defs: &Definitions,
    entry: Entry,
) -> Result<Result<(), crate::table::TableError>, Error> {
    let condition = match defs.version {
        1 => Condition::NotExists,
        v => Condition::VersionIs(v - 1),
    };
    let write = Write::Put {
        item: to_item(&key(&principal.tenant, object), defs)?,
        condition,
    };
    Ok(entry
        .commit(state.table.as_ref(), &principal.tenant, write)
        .await)
}

/// Field `input` as it would be defined (on `object`, in a tenant whose custom objects
/// are `custom`), with what is wrong with it reported under `path`.
pub fn build(
    input: NewField,
    custom: &objects::Objects,
    now: &str,
    path: &str,
    errors: &mut Errors,
) -> FieldDef {
    let at = |field: &str| {
        if path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        }
    };
    let known = known_objects(custom);
    if !known.contains(&input.object) {
        errors.add(at("object"), unknown_object_message(&known));
    }
    if !is_key(&input.key) {
        errors.add(
            at("key"),
            "must be 1 to 40 of a-z, 0-9 and _, starting with a letter",
        );
    }
    if input.unique && !input.kind.can_be_unique() {
        errors.add(
            at("unique"),
            "only text, number and date fields can be unique",
        );
    }
    match (&input.kind, input.target.as_deref()) {
        (Kind::Relation, Some(target))
            if RELATION_TARGETS.iter().any(|(t, _)| *t == target)
                || custom.objects.iter().any(|o| o.key == target) => {}
        (Kind::Relation, _) => errors.add(
            at("target"),
            "a relation needs a target: contacts, companies, deals or the key of a custom object",
        ),
        (_, Some(_)) => errors.add(at("target"), "only relation fields have a target"),
        (_, None) => {}
    }
    let mut def = FieldDef {
        id: new_id(PREFIX),
        object: input.object,
        key: input.key,
        label: input.label,
        kind: input.kind,
        options: input.options,
        required: input.required,
        unique: input.unique,
        removed: false,
        target: input.target,
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
    };
    let mut own = Errors::new();
    check_label_and_options(&mut def, &mut own);
    if let Err(found) = own.finish() {
        for e in found {
            errors.add(at(&e.field), e.message);
        }
    }
    def
}

/// Adds `def` to `defs`, within the limits of its object.
pub fn add(defs: &mut Definitions, def: FieldDef) -> Result<(), Error> {
    if defs.fields.iter().any(|f| f.key == def.key) {
        return Err(Error::conflict(
            "field-key-taken",
            "A field (perhaps a removed one, which can be restored) already has this key.",
        ));
    }
    let max = if OBJECTS.contains(&def.object.as_str()) {
        MAX_FIELDS
    } else {
        MAX_OBJECT_FIELDS
    };
    if defs.fields.len() >= max {
        return Err(Error::validation(
            "key",
            format!("an object has at most {max} custom fields, removed ones included"),
        ));
    }
    if def.unique && defs.fields.iter().filter(|f| f.unique).count() >= MAX_UNIQUE {
        return Err(Error::validation(
            "unique",
            format!("an object has at most {MAX_UNIQUE} unique fields"),
        ));
    }
    defs.fields.push(def);
    defs.version += 1;
    Ok(())
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewField,
) -> Result<FieldDef, Error> {
    principal.require(RESOURCE, Action::Update)?;
    let custom = objects::all(state.table.as_ref(), &principal.tenant).await?;
    let mut errors = Errors::new();
    let now = rfc3339(state.clock.now());
    let def = build(input, &custom, &now, "", &mut errors);
    errors.finish().map_err(Error::Validation)?;
    let object = def.object.clone();
    write_on_version(&Precondition::Any, "field list", || async {
        let mut defs = definitions(state.table.as_ref(), &principal.tenant, &object).await?;
        add(&mut defs, def.clone())?;
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "field.created",
            RESOURCE,
            Some(&def.id),
        )
        .with_changes(None, Some(&def));
        store(state, principal, &object, &defs, entry).await
    })
    .await?;
    Ok(def)
}

/// Applies `change` to field `id` (wherever it is), audited as `action`.
async fn change(
    state: &AppState,
    principal: &Principal,
    id: &str,
    action: &str,
    change: impl Fn(&mut FieldDef, &mut Errors),
) -> Result<FieldDef, Error> {
    principal.require(RESOURCE, Action::Update)?;
    let not_found = || Error::NotFound("No custom field with this id.".into());
    if !is_id(PREFIX, id) {
        return Err(not_found());
    }
    let custom = objects::all(state.table.as_ref(), &principal.tenant).await?;
    let known = known_objects(&custom);
    write_on_version(&Precondition::Any, "field list", || async {
        for object in &known {
            let mut defs = definitions(state.table.as_ref(), &principal.tenant, object).await?;
            let Some(at) = defs.fields.iter().position(|f| f.id == id) else {
                continue;
            };
            let before = defs.fields[at].clone();
            let mut errors = Errors::new();
            let mut after = before.clone();
            change(&mut after, &mut errors);
            check_label_and_options(&mut after, &mut errors);
            errors.finish().map_err(Error::Validation)?;
            if after == before {
                return Ok(Ok(after));
            }
            after.updated_at = rfc3339(state.clock.now());
            defs.fields[at] = after.clone();
            defs.version += 1;
            let entry = Entry::by(principal, state.clock.now(), action, RESOURCE, Some(id))
                .with_changes(Some(&before), Some(&after));
            return Ok(store(state, principal, object, &defs, entry)
                .await?
                .map(|()| after));
        }
        Err(not_found())
    })
    .await
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    patch: FieldPatch,
) -> Result<FieldDef, Error> {
    change(state, principal, id, "field.updated", |def, _| {
        let patch = patch.clone();
        if let Some(label) = patch.label {
            def.label = label;
        }
        if let Some(options) = patch.options {
            def.options = options;
        }
        if let Some(required) = patch.required {
            def.required = required;
        }
        if let Some(removed) = patch.removed {
            def.removed = removed;
        }
    })
    .await
}

/// Removes field `id`: hidden from records and refused on writes, its values kept.
pub async fn remove(state: &AppState, principal: &Principal, id: &str) -> Result<(), Error> {
    change(state, principal, id, "field.removed", |def, _| {
        def.removed = true
    })
    .await?;
    Ok(())
}
