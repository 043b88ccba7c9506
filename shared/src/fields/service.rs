//! `/v1/settings/fields`: reading needs read access to the object (or to settings);
//! changing needs `update` on settings. Every change is audited.

use serde::Deserialize;

use super::{
    Definitions, FieldDef, Kind, MAX_FIELDS, MAX_OPTIONS, MAX_UNIQUE, OBJECTS, is_key, key,
};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::ids::{TenantId, is_id, new_id};
use crate::policy::Action;
use crate::principal::Principal;
use crate::records::Precondition;
use crate::records::write_on_version;
use crate::table::{Condition, Table, Write, from_item, to_item};
use crate::validation::Errors;

const RESOURCE: &str = "settings";
const PREFIX: &str = "fld";

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
    let objects: Vec<&str> = match query.object.as_deref() {
        None => OBJECTS.to_vec(),
        Some(o) if OBJECTS.contains(&o) => vec![o],
        Some(_) => {
            return Err(Error::validation(
                "object",
                format!("must be one of {}", OBJECTS.join(", ")),
            ));
        }
    };
    let settings = principal
        .permissions
        .allows(RESOURCE, Action::Read)
        .is_some();
    let readable: Vec<&str> = objects
        .into_iter()
        .filter(|o| settings || principal.permissions.allows(o, Action::Read).is_some())
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

/// The body of `POST /v1/settings/fields`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewField {
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

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewField,
) -> Result<FieldDef, Error> {
    principal.require(RESOURCE, Action::Update)?;
    let mut errors = Errors::new();
    if !OBJECTS.contains(&input.object.as_str()) {
        errors.add("object", format!("must be one of {}", OBJECTS.join(", ")));
    }
    if !is_key(&input.key) {
        errors.add(
            "key",
            "must be 1 to 40 of a-z, 0-9 and _, starting with a letter",
        );
    }
    if input.unique && !input.kind.can_be_unique() {
        errors.add("unique", "only text, number and date fields can be unique");
    }
    let now = rfc3339(state.clock.now());
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
        created_at: now.clone(),
        updated_at: now,
    };
    check_label_and_options(&mut def, &mut errors);
    errors.finish().map_err(Error::Validation)?;
    let object = def.object.clone();
    write_on_version(&Precondition::Any, "field list", || async {
        let mut defs = definitions(state.table.as_ref(), &principal.tenant, &object).await?;
        if defs.fields.iter().any(|f| f.key == def.key) {
            return Err(Error::conflict(
                "field-key-taken",
                "A field (perhaps a removed one, which can be restored) already has this key.",
            ));
        }
        if defs.fields.len() >= MAX_FIELDS {
            return Err(Error::validation(
                "key",
                format!("an object has at most {MAX_FIELDS} custom fields, removed ones included"),
            ));
        }
        if def.unique && defs.fields.iter().filter(|f| f.unique).count() >= MAX_UNIQUE {
            return Err(Error::validation(
                "unique",
                format!("an object has at most {MAX_UNIQUE} unique fields"),
            ));
        }
        defs.fields.push(def.clone());
        defs.version += 1;
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
    write_on_version(&Precondition::Any, "field list", || async {
        for object in OBJECTS {
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
