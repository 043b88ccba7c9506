//! The one view of a caller's permissions that everything the server says about a record
//! passes through: a record read or listed, an event, a webhook delivery, an audit entry's
//! before and after, a timeline entry about a related record, a history entry, a total.
//! [`Principal::sees`] decides whether the caller may read the record at all (permission
//! on its kind, and its owner within their scope) and applies their field rules;
//! [`Principal::check_filters`] refuses list parameters that would be an oracle on a
//! field the caller cannot see (filtering, sorting or totalling by it).

use serde_json::{Map, Value};

use super::Principal;
use crate::error::Error;
use crate::policy::{Action, FieldRule, Scope, fields_of, is_governed, read_resource, title_field};
use crate::validation::FieldError;

impl Principal {
    /// `title`, a line naming a record of `resource` owned by `owner_id` (by its title,
    /// subject or number), as the caller may see it: `None` if they may not read the
    /// record, `Some(None)` if their role hides the field it shows, else the line
    /// (masked if their role masks that field).
    pub fn sees_title(
        &self,
        resource: &str,
        owner_id: Option<&str>,
        title: &str,
    ) -> Option<Option<String>> {
        let Some(field) = title_field(resource) else {
            return self
                .may_read(resource, owner_id)
                .then(|| Some(title.to_owned()));
        };
        let record = serde_json::json!({ field: title });
        let seen = self.sees(resource, owner_id, &record)?;
        Some(seen.get(field).and_then(Value::as_str).map(str::to_owned))
    }

    /// Whether the caller may read a record of `resource` owned by `owner_id` (`None`
    /// when the owner is not known: then only an `all` scope reaches it).
    pub fn may_read(&self, resource: &str, owner_id: Option<&str>) -> bool {
        if !is_governed(resource) {
            return true;
        }
        match self
            .permissions
            .allows(read_resource(resource), Action::Read)
        {
            None => false,
            Some(Scope::All) => true,
            Some(scope) => owner_id.is_some_and(|owner| self.reaches(scope, owner)),
        }
    }

    /// `record` (of `resource`, owned by `owner_id`) as the caller may see it, or `None`
    /// when they may not read it. Field rules apply as on a read; sensitive values are
    /// masked whole (outside a read they may be ciphertext, whose tail means nothing).
    pub fn sees(
        &self,
        resource: &str,
        owner_id: Option<&str>,
        record: &Value,
    ) -> Option<Map<String, Value>> {
        if !self.may_read(resource, owner_id) {
            return None;
        }
        let mut value = record.clone();
        let map = value.as_object_mut()?;
        for spec in fields_of(resource).iter().filter(|f| f.sensitive) {
            if let Some(v) = map.get_mut(spec.name)
                && !v.is_null()
            {
                *v = Value::String("****".into());
            }
        }
        self.permissions
            .view(resource, &value, false)
            .ok()
            .map(|view| view.body)
    }

    /// Whether the caller sees `field` of `resource` in clear (not hidden, not masked).
    pub fn sees_field(&self, resource: &str, field: &str) -> bool {
        !self
            .permissions
            .unsearchable_fields(resource)
            .contains(field)
    }

    /// Refuses (403 `hidden-field`, naming each parameter) list parameters that filter,
    /// sort or total by a field of `resource` the caller's role hides or masks: each
    /// triple is a parameter, the field it reads, and whether the request sent it.
    pub fn check_filters(
        &self,
        resource: &str,
        params: &[(&str, &str, bool)],
    ) -> Result<(), Error> {
        let unseen = self.permissions.unsearchable_fields(resource);
        // A custom field is unseen with `custom` as a whole too.
        let unseen_field = |field: &str| {
            unseen.contains(field) || (field.starts_with("custom.") && unseen.contains("custom"))
        };
        let refused: Vec<FieldError> = params
            .iter()
            .filter(|(_, field, sent)| *sent && unseen_field(field))
            .map(|(param, field, _)| FieldError {
                field: (*param).to_owned(),
                message: format!(
                    "reads {field}, which your role {}",
                    match self
                        .permissions
                        .field_rule(resource, field)
                        .or_else(|| self.permissions.field_rule(resource, "custom"))
                    {
                        Some(FieldRule::Hidden) => "hides",
                        _ => "masks",
                    }
                ),
            })
            .collect();
        if refused.is_empty() {
            Ok(())
        } else {
            Err(Error::HiddenFields(refused))
        }
    }
}
