//! What reading a record depends on besides the caller: which permission governs a kind of
//! record, who owns a stored record, and which field names it in a line of text. The
//! reading itself is `crate::principal::reader`.

use serde_json::Value;

/// Kinds of records whose reading another resource's `read` permission governs.
const READ_AS: &[(&str, &str)] = &[("products", "orders")];

/// The resource whose `read` permission shows records of `resource`.
pub fn read_resource(resource: &str) -> &str {
    READ_AS
        .iter()
        .find(|(r, _)| *r == resource)
        .map_or(resource, |(_, read)| read)
}

/// Whether `resource` names records a role grants access to (so that reading about them
/// needs `read` on it); other audit resources (`auth`, `tenant`) are the company's own.
pub fn is_governed(resource: &str) -> bool {
    let resource = read_resource(resource);
    super::RESOURCES.contains(&resource) || super::is_custom(resource)
}

/// The owner of a stored record, as scopes judge it: its owner, else its assignee, else
/// its maker.
pub fn owner_of(record: &Value) -> Option<String> {
    ["owner_id", "assignee_id", "created_by"]
        .iter()
        .find_map(|field| record.get(*field).and_then(Value::as_str))
        .map(str::to_owned)
}

/// The field of `resource` that names one of its records in a line of text (a timeline
/// entry, a notification).
pub fn title_field(resource: &str) -> Option<&'static str> {
    match resource {
        "deals" | "tasks" => Some("title"),
        "tickets" => Some("subject"),
        "orders" => Some("number"),
        custom if super::is_custom(custom) => Some("name"),
        _ => None,
    }
}
