//! Custom fields: per tenant and per object (contacts, companies), fields the admin adds
//! (`/v1/settings/fields`) with a type, options, and required/unique flags. Records keep
//! their values in `custom` (`{key: value}`); a write is checked against the definitions,
//! and removing a field hides its values without deleting them (restoring it shows them
//! again).

pub mod objects;
pub mod service;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::TenantId;
use crate::table::{Condition, Key, Write, to_item};
use crate::validation::Errors;

/// The built-in objects that carry custom fields (a tenant's custom objects carry them too).
pub const OBJECTS: &[&str] = &["contacts", "companies", "deals", "tickets"];
/// Most fields per built-in object (removed ones included: their data is kept).
pub const MAX_FIELDS: usize = 50;
/// Most fields per custom object (removed ones included), for which they are everything.
pub const MAX_OBJECT_FIELDS: usize = 200;
/// The built-in objects a relation field can point at, with the prefix of their ids (a
/// custom object's records have ids with [`objects::RECORD_PREFIX`]).
pub const RELATION_TARGETS: &[(&str, &str)] =
    &[("contacts", "con"), ("companies", "com"), ("deals", "dea")];
/// Most fields per object flagged unique (each value is a marker written with the record).
pub const MAX_UNIQUE: usize = 5;
pub const MAX_OPTIONS: usize = 100;
pub const MAX_TEXT: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    Number,
    /// `{amount_minor, currency}`.
    Money,
    /// `YYYY-MM-DD`.
    Date,
    Boolean,
    SingleSelect,
    MultiSelect,
    /// The id of a record of the field's `target` (a contact, company, deal, or a record
    /// of a custom object).
    Relation,
}

impl Kind {
    fn has_options(self) -> bool {
        matches!(self, Kind::SingleSelect | Kind::MultiSelect)
    }

    /// Whether values can be compared by range in filters.
    pub fn ordered(self) -> bool {
        matches!(self, Kind::Number | Kind::Money | Kind::Date)
    }

    fn can_be_unique(self) -> bool {
        matches!(self, Kind::Text | Kind::Number | Kind::Date)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub id: String,
    pub object: String,
    /// The key under `custom` in records: `^[a-z][a-z0-9_]{0,39}$`, fixed once created.
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    #[serde(default)]
    pub options: Vec<String>,
    pub required: bool,
    pub unique: bool,
    /// A removed field is hidden and not accepted on writes; its values are kept.
    pub removed: bool,
    /// What a relation field points at: `contacts`, `companies`, `deals` or the key of a
    /// custom object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// All the field definitions of one object, stored as one item (so a write of a record
/// reads them in one go, and changes to them are versioned together).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Definitions {
    pub fields: Vec<FieldDef>,
    #[serde(default)]
    pub version: u64,
}

impl Definitions {
    pub fn active(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key && !f.removed)
    }

    /// The keys of removed fields (their values are kept but neither shown nor searched).
    pub fn removed_keys(&self) -> Vec<String> {
        self.fields
            .iter()
            .filter(|f| f.removed)
            .map(|f| f.key.clone())
            .collect()
    }

    /// `custom` without the values of removed (or unknown) fields, as readers see it.
    pub fn visible(&self, custom: &Map<String, Value>) -> Map<String, Value> {
        custom
            .iter()
            .filter(|(k, _)| self.active(k).is_some())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The text of the active text and select values, for the search index.
    pub fn searchable<'a>(&self, custom: &'a Map<String, Value>) -> Vec<&'a str> {
        custom
            .iter()
            .filter(|(k, _)| {
                self.active(k).is_some_and(|f| {
                    matches!(f.kind, Kind::Text | Kind::SingleSelect | Kind::MultiSelect)
                })
            })
            .flat_map(|(_, v)| match v {
                Value::String(s) => vec![s.as_str()],
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            })
            .collect()
    }
}

pub fn key(tenant: &TenantId, object: &str) -> Key {
    Key::new(tenant.pk("custom-fields"), object)
}

/// Whether `key` can name a field.
pub fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && key.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks and normalizes the custom values of a record being written. Only values that
/// change are judged (a value kept from before a field's options changed stays); a
/// required field must be set on create and cannot be cleared later.
pub fn check(
    defs: &Definitions,
    before: Option<&Map<String, Value>>,
    after: &mut Map<String, Value>,
    errors: &mut Errors,
) {
    if after.len() > MAX_OBJECT_FIELDS {
        errors.add("custom", format!("at most {MAX_OBJECT_FIELDS} fields"));
        return;
    }
    let keys: Vec<String> = after.keys().cloned().collect();
    for key in keys {
        let path = format!("custom.{key}");
        let unchanged = before.and_then(|b| b.get(&key)) == after.get(&key);
        if unchanged {
            continue;
        }
        let Some(def) = defs.active(&key) else {
            errors.add(path, "is not a custom field of this object");
            continue;
        };
        let value = after.get_mut(&key).expect("key listed above");
        if value.is_null() {
            after.remove(&key);
            continue;
        }
        check_value(def, &path, value, errors);
    }
    for def in defs.fields.iter().filter(|f| f.required && !f.removed) {
        let had = before.is_none_or(|b| b.contains_key(&def.key));
        if had && !after.contains_key(&def.key) {
            errors.add(format!("custom.{}", def.key), "is required");
        }
    }
}

fn check_value(def: &FieldDef, path: &str, value: &mut Value, errors: &mut Errors) {
    let ok = match (def.kind, &mut *value) {
        (Kind::Text, Value::String(s)) => {
            let trimmed = s.trim().to_owned();
            *s = trimmed;
            crate::validation::has_visible(s) && s.chars().count() <= MAX_TEXT
        }
        (Kind::Number, Value::Number(n)) => n.as_f64().is_some_and(|f| f.is_finite()),
        (Kind::Money, Value::Object(m)) => {
            let amount = m.get("amount_minor").and_then(Value::as_i64);
            let currency = m.get("currency").and_then(Value::as_str);
            m.len() == 2
                && amount.is_some_and(|a| {
                    a.unsigned_abs() <= crate::money::MAX_AMOUNT_MINOR.unsigned_abs()
                })
                && currency.is_some_and(crate::validation::is_currency)
        }
        (Kind::Date, Value::String(s)) => crate::validation::is_date(s),
        (Kind::Boolean, Value::Bool(_)) => true,
        (Kind::SingleSelect, Value::String(s)) => def.options.contains(s),
        (Kind::Relation, Value::String(s)) => {
            crate::ids::is_id(relation_prefix(def.target.as_deref()), s)
        }
        (Kind::MultiSelect, Value::Array(items)) => {
            let mut seen = std::collections::BTreeSet::new();
            items.len() <= MAX_OPTIONS
                && items.iter().all(|i| {
                    i.as_str()
                        .is_some_and(|s| def.options.iter().any(|o| o == s) && seen.insert(s))
                })
        }
        _ => false,
    };
    if !ok {
        errors.add(path, expected(def));
    }
}

/// What a value of `def` must be, for error messages.
fn expected(def: &FieldDef) -> String {
    match def.kind {
        Kind::Text => format!("must be text of 1 to {MAX_TEXT} characters"),
        Kind::Number => "must be a number".into(),
        Kind::Money => {
            "must be {amount_minor, currency} (the ISO 4217 code of a currency in use)".into()
        }
        Kind::Date => "must be a date, YYYY-MM-DD".into(),
        Kind::Boolean => "must be true or false".into(),
        Kind::SingleSelect => format!("must be one of: {}", def.options.join(", ")),
        Kind::MultiSelect => format!(
            "must be a list of distinct options of: {}",
            def.options.join(", ")
        ),
        Kind::Relation => format!(
            "must be the id of a record of {}",
            def.target.as_deref().unwrap_or_default()
        ),
    }
}

/// The prefix of the ids a relation to `target` holds.
pub fn relation_prefix(target: Option<&str>) -> &'static str {
    let target = target.unwrap_or_default();
    RELATION_TARGETS
        .iter()
        .find(|(t, _)| *t == target)
        .map_or(objects::RECORD_PREFIX, |(_, prefix)| prefix)
}

/// Applies a merge patch of custom values: a key set to `null` clears that field.
pub fn merge(custom: &mut Map<String, Value>, patch: Option<Map<String, Value>>) {
    match patch {
        None => custom.clear(),
        Some(patch) => {
            for (k, v) in patch {
                if v.is_null() {
                    custom.remove(&k);
                } else {
                    custom.insert(k, v);
                }
            }
        }
    }
}

/// The form a unique value is compared in.
pub fn unique_form(value: &Value) -> String {
    match value {
        Value::String(s) => crate::terms::fold(s),
        other => other.to_string(),
    }
}

fn unique_key(tenant: &TenantId, object: &str, field: &str, value: &Value) -> Key {
    Key::new(
        tenant.pk(&format!("unique#{object}#{field}")),
        unique_form(value),
    )
}

/// The uniqueness markers to drop and add when a record's values go from `before` to
/// `after`; a value another record holds fails the transaction (its condition), unless
/// that record's values are `taken_over` (a merge moves them to this record).
pub fn unique_writes(
    tenant: &TenantId,
    object: &str,
    defs: &Definitions,
    id: &str,
    before: Option<&Map<String, Value>>,
    after: Option<&Map<String, Value>>,
    taken_over: Option<&Map<String, Value>>,
) -> Result<Vec<Write>, crate::error::Error> {
    let mut writes = Vec::new();
    for def in defs.fields.iter().filter(|f| f.unique) {
        let old = before.and_then(|b| b.get(&def.key));
        let new = after.and_then(|a| a.get(&def.key));
        if old.map(unique_form) == new.map(unique_form) {
            continue;
        }
        if let Some(old) = old {
            writes.push(Write::Delete {
                key: unique_key(tenant, object, &def.key, old),
                condition: Condition::None,
            });
        }
        if let Some(new) = new {
            let theirs = taken_over
                .and_then(|t| t.get(&def.key))
                .is_some_and(|v| unique_form(v) == unique_form(new));
            writes.push(Write::Put {
                item: to_item(
                    &unique_key(tenant, object, &def.key, new),
                    &serde_json::json!({ "id": id }),
                )?,
                condition: if theirs {
                    Condition::None
                } else {
                    Condition::NotExists
                },
            });
        }
    }
    Ok(writes)
}

/// Reports (in `errors`) each unique value of `after` a record other than `holders`
/// already holds.
pub async fn check_unique(
    table: &dyn crate::table::Table,
    tenant: &TenantId,
    object: &str,
    defs: &Definitions,
    holders: &[&str],
    after: &Map<String, Value>,
    errors: &mut Errors,
) -> Result<(), crate::error::Error> {
    for def in defs.fields.iter().filter(|f| f.unique && !f.removed) {
        let Some(value) = after.get(&def.key) else {
            continue;
        };
        if let Some(holder) = table
            .get(&unique_key(tenant, object, &def.key, value))
            .await?
            && !holder
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(|h| holders.contains(&h))
        {
            errors.add(
                format!("custom.{}", def.key),
                "is already used by another record",
            );
        }
    }
    Ok(())
}

/// Checks the custom values of a record of `object` being written (from `before` to
/// `after`), uniqueness included (values `holders` hold are its own); returns the definitions, which the write also needs
/// (for [`unique_writes`]) and the answer too (for [`Definitions::visible`]).
pub async fn prepare(
    state: &crate::AppState,
    tenant: &TenantId,
    object: &str,
    holders: &[&str],
    before: Option<&Map<String, Value>>,
    after: &mut Map<String, Value>,
    errors: &mut Errors,
) -> Result<Definitions, crate::error::Error> {
    prepare_with(state, tenant, object, None, holders, before, after, errors).await
}

/// [`prepare`] with the definitions already read (`None` reads them).
#[allow(clippy::too_many_arguments)]
pub async fn prepare_with(
    state: &crate::AppState,
    tenant: &TenantId,
    object: &str,
    known: Option<&Definitions>,
    holders: &[&str],
    before: Option<&Map<String, Value>>,
    after: &mut Map<String, Value>,
    errors: &mut Errors,
) -> Result<Definitions, crate::error::Error> {
    let defs = match known {
        Some(defs) => defs.clone(),
        None => service::definitions(state.table.as_ref(), tenant, object).await?,
    };
    check(&defs, before, after, errors);
    check_unique(
        state.table.as_ref(),
        tenant,
        object,
        &defs,
        holders,
        after,
        errors,
    )
    .await?;
    Ok(defs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(key: &str, kind: Kind) -> FieldDef {
        FieldDef {
            id: format!("fld_{key}"),
            object: "contacts".into(),
            key: key.into(),
            label: key.into(),
            kind,
            options: vec!["red".into(), "green".into()],
            required: false,
            unique: false,
            removed: false,
            target: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn values_are_checked_against_their_type() {
        let defs = Definitions {
            fields: vec![
                def("t", Kind::Text),
                def("n", Kind::Number),
                def("m", Kind::Money),
                def("d", Kind::Date),
                def("b", Kind::Boolean),
                def("s", Kind::SingleSelect),
                def("ms", Kind::MultiSelect),
            ],
            version: 1,
        };
        let mut good = json!({"t": " x ", "n": 1.5, "m": {"amount_minor": 100, "currency": "CNY"},
            "d": "2026-02-28", "b": true, "s": "red", "ms": ["green", "red"]})
        .as_object()
        .cloned()
        .unwrap();
        let mut errors = Errors::new();
        check(&defs, None, &mut good, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(good["t"], "x");
        let mut bad = json!({"t": "", "n": "1", "m": {"amount_minor": 1}, "d": "2026-02-30",
            "b": "yes", "s": "blue", "ms": ["red", "red"], "zz": 1})
        .as_object()
        .cloned()
        .unwrap();
        let mut errors = Errors::new();
        check(&defs, None, &mut bad, &mut errors);
        let fields: Vec<_> = errors
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "custom.b",
                "custom.d",
                "custom.m",
                "custom.ms",
                "custom.n",
                "custom.s",
                "custom.t",
                "custom.zz"
            ]
        );
    }

    #[test]
    fn required_fields_bind_new_records_and_cannot_be_cleared() {
        let mut required = def("r", Kind::Text);
        required.required = true;
        let defs = Definitions {
            fields: vec![required],
            version: 1,
        };
        let mut errors = Errors::new();
        check(&defs, None, &mut Map::new(), &mut errors);
        assert_eq!(errors.len(), 1);
        // A record from before the field was required is not blocked by it.
        let mut errors = Errors::new();
        check(&defs, Some(&Map::new()), &mut Map::new(), &mut errors);
        assert!(errors.is_empty());
        let before = json!({"r": "x"}).as_object().cloned().unwrap();
        let mut errors = Errors::new();
        check(&defs, Some(&before), &mut Map::new(), &mut errors);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn keys_are_snake_case() {
        assert!(is_key("vip_level2"));
        assert!(!is_key("2x") && !is_key("A") && !is_key("") && !is_key(&"a".repeat(41)));
    }
}
