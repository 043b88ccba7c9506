//! Field rules: which fields of a record a role hides, may not change, or sees masked;
//! the registry of fields each resource has; and masking itself.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A restriction on one field. Ordered from least to most restrictive: a masked field is
/// also read-only (no one edits what they cannot see), a hidden one is also both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldRule {
    /// Shown, but a write that changes it is refused (403 naming the field).
    ReadOnly,
    /// Shown as a mask (e.g. `****1234`) unless the caller reveals it with `reveal`.
    Masked,
    /// Absent from responses, exports and search; may not be written.
    Hidden,
}

/// A field rules can name.
pub struct FieldSpec {
    pub name: &'static str,
    /// Whether the field is text (or a list or object of texts) a mask can stand in for.
    pub maskable: bool,
    /// Sensitive fields are masked for everyone (unless revealed), whatever the role says;
    /// a role may still hide them or make them read-only.
    pub sensitive: bool,
}

impl FieldSpec {
    /// A text field (or a list or object of texts): it can be masked.
    pub const fn text(name: &'static str) -> Self {
        Self {
            name,
            maskable: true,
            sensitive: false,
        }
    }

    /// A field a mask cannot stand in for (ids, enums, tags): hide it or make it read-only.
    pub const fn other(name: &'static str) -> Self {
        Self {
            name,
            maskable: false,
            sensitive: false,
        }
    }

    /// A sensitive text field: stored encrypted, masked for everyone unless revealed.
    pub const fn sensitive(name: &'static str) -> Self {
        Self {
            name,
            maskable: true,
            sensitive: true,
        }
    }
}

// The built-in objects' fields live here, below the areas, so that the policy (which
// every area uses) need not import them.

/// The fields of contacts rules can name.
pub const CONTACTS: &[FieldSpec] = &[
    FieldSpec::text("name"),
    FieldSpec::text("emails"),
    FieldSpec::text("phones"),
    FieldSpec::text("company_name"),
    FieldSpec::text("title"),
    FieldSpec::text("address"),
    FieldSpec::other("tags"),
    FieldSpec::other("owner_id"),
    FieldSpec::other("lifecycle_stage"),
    FieldSpec::text("source"),
    FieldSpec::text("notes"),
    FieldSpec::sensitive("national_id"),
    FieldSpec::sensitive("card_number"),
    FieldSpec::sensitive("bank_account"),
    FieldSpec::sensitive("date_of_birth"),
    FieldSpec::other("preferences"),
    FieldSpec::other("consent"),
    FieldSpec::other("company_id"),
    FieldSpec::other("custom"),
];

/// The fields of companies rules can name.
pub const COMPANIES: &[FieldSpec] = &[
    FieldSpec::text("name"),
    FieldSpec::text("legal_name"),
    FieldSpec::other("industry"),
    FieldSpec::other("size_band"),
    FieldSpec::text("region"),
    FieldSpec::text("address"),
    FieldSpec::text("website"),
    FieldSpec::text("phone"),
    FieldSpec::other("tags"),
    FieldSpec::other("owner_id"),
    FieldSpec::other("lifecycle_stage"),
    FieldSpec::other("annual_revenue"),
    FieldSpec::text("notes"),
    FieldSpec::other("custom"),
];

/// The fields of deals rules can name.
pub const DEALS: &[FieldSpec] = &[
    FieldSpec::text("title"),
    FieldSpec::other("contact_id"),
    FieldSpec::other("company_id"),
    FieldSpec::other("pipeline_id"),
    FieldSpec::other("stage_id"),
    FieldSpec::other("amount"),
    FieldSpec::other("expected_close_date"),
    FieldSpec::other("owner_id"),
    FieldSpec::text("source"),
    FieldSpec::text("lost_reason"),
    FieldSpec::other("custom"),
];

/// The fields of tasks rules can name.
pub const TASKS: &[FieldSpec] = &[
    FieldSpec::text("title"),
    FieldSpec::other("kind"),
    FieldSpec::other("due_at"),
    FieldSpec::other("remind_at"),
    FieldSpec::other("remind_by_email"),
    FieldSpec::other("owner_id"),
    FieldSpec::other("priority"),
    FieldSpec::other("status"),
    FieldSpec::text("notes"),
    FieldSpec::other("contact_id"),
    FieldSpec::other("company_id"),
    FieldSpec::other("deal_id"),
    FieldSpec::other("ticket_id"),
];

/// The fields of orders rules can name.
pub const ORDERS: &[FieldSpec] = &[
    FieldSpec::other("number"),
    FieldSpec::other("contact_id"),
    FieldSpec::other("company_id"),
    FieldSpec::other("deal_id"),
    FieldSpec::other("owner_id"),
    FieldSpec::other("currency"),
    FieldSpec::other("lines"),
    FieldSpec::other("status"),
    FieldSpec::text("notes"),
    FieldSpec::other("source"),
    FieldSpec::other("external_id"),
];

/// The fields of tickets rules can name.
pub const TICKETS: &[FieldSpec] = &[
    FieldSpec::text("subject"),
    FieldSpec::text("description"),
    FieldSpec::other("contact_id"),
    FieldSpec::other("company_id"),
    FieldSpec::other("channel"),
    FieldSpec::text("category"),
    FieldSpec::other("region"),
    FieldSpec::other("priority"),
    FieldSpec::other("status"),
    FieldSpec::other("assignee_id"),
    FieldSpec::other("team_id"),
    FieldSpec::other("tags"),
    FieldSpec::other("custom"),
];

/// The fields of `resource` that rules can name; empty for resources without any yet.
pub fn fields_of(resource: &str) -> &'static [FieldSpec] {
    match resource {
        "contacts" => CONTACTS,
        "companies" => COMPANIES,
        "deals" => DEALS,
        "tasks" => TASKS,
        "orders" => ORDERS,
        "tickets" => TICKETS,
        _ => &[],
    }
}

/// How many trailing characters a mask keeps.
const KEPT: usize = 4;

/// `value` with every text in it masked, keeping its last characters (`****1234`).
/// Short texts are masked entirely, so the mask never shows a whole value.
pub fn mask(value: &Value) -> Value {
    match value {
        Value::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            if chars.len() <= 2 * KEPT {
                Value::String("****".into())
            } else {
                let tail: String = chars[chars.len() - KEPT..].iter().collect();
                Value::String(format!("****{tail}"))
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(mask).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), mask(v))).collect())
        }
        Value::Null => Value::Null,
        // Maskable fields hold text only; anything else is withheld.
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_keep_the_last_four_characters_of_long_texts_only() {
        assert_eq!(mask(&json!("+8613800138000")), json!("****8000"));
        assert_eq!(mask(&json!("12345678")), json!("****"));
        assert_eq!(
            mask(&json!([{"address": "ada@example.com", "label": "work"}])),
            json!([{"address": "****.com", "label": "****"}])
        );
        assert_eq!(mask(&json!(null)), json!(null));
    }

    #[test]
    fn rules_order_from_least_to_most_restrictive() {
        assert!(FieldRule::ReadOnly < FieldRule::Masked);
        assert!(FieldRule::Masked < FieldRule::Hidden);
    }
}
