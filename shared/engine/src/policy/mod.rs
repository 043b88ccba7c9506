//! Access policy: what a principal may do, decided in this one module and nowhere else.
//!
//! A role grants, per resource, a set of actions, a record scope and rules on single
//! fields. A caller's permissions ([`Effective`]) are the union of their roles' grants.
//! Services ask [`Effective::require`] before acting, keep to the returned [`Scope`]
//! (records outside it are "not found"), refuse writes to restricted fields with
//! [`Effective::check_writable`], and return records through [`Effective::view`].
//! Whatever else leaves the server about a record (events, audit entries, timelines,
//! histories, totals) passes through `Principal::sees` and `Principal::check_filters`
//! (in `reader`), built on the same view.

pub mod fields;
mod reader;
mod templates;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use fields::{FieldRule, FieldSpec, fields_of, mask};
pub use reader::{is_governed, owner_of, read_resource, title_field};
pub use templates::{ADMIN_ROLE, Template, templates};

use crate::error::Error;
use crate::validation::{Errors, FieldError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    Export,
    Import,
    Assign,
    Reveal,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Read,
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::Export,
        Action::Import,
        Action::Assign,
        Action::Reveal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Export => "export",
            Action::Import => "import",
            Action::Assign => "assign",
            Action::Reveal => "reveal",
        }
    }
}

/// Which records a grant reaches. Ordered from narrowest to widest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Records the user owns.
    Own,
    /// Records owned by members of the user's teams (until teams exist: as `Own`).
    Team,
    /// Every record of the tenant.
    All,
}

/// The resources access is granted on.
pub const RESOURCES: &[&str] = &[
    "contacts",
    "companies",
    "deals",
    "tasks",
    "orders",
    "tickets",
    "campaigns",
    "reports",
    "documents",
    "users",
    "teams",
    "roles",
    "settings",
    "audit",
    "api_keys",
    "webhooks",
];

/// Custom objects are granted as `objects/<key>`.
pub const CUSTOM_PREFIX: &str = "objects/";
/// A grant on every custom object of the tenant, present and future.
pub const ALL_CUSTOM: &str = "objects/*";

/// Whether `resource` names a custom object (`objects/<key>`) or all of them.
pub fn is_custom(resource: &str) -> bool {
    resource
        .strip_prefix(CUSTOM_PREFIX)
        .is_some_and(|key| !key.is_empty())
}

/// What a tenant defined beyond the product's own resources: its custom objects and
/// their fields, for checking permissions that name them.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// Per custom object (`objects/<key>`), its fields: `custom.<key>` and whether a
    /// mask can stand in for its values.
    pub objects: BTreeMap<String, BTreeMap<String, bool>>,
}

impl Catalog {
    /// The fields rules can name on custom object `resource` (`None`: no such object).
    fn custom_fields(&self, resource: &str) -> Option<Vec<(String, bool)>> {
        let fields = self.objects.get(resource)?;
        let mut all = vec![
            ("name".to_owned(), true),
            ("owner_id".to_owned(), false),
            ("custom".to_owned(), false),
        ];
        all.extend(fields.iter().map(|(k, m)| (k.clone(), *m)));
        Some(all)
    }
}

/// What a role allows on one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub actions: BTreeSet<Action>,
    pub scope: Scope,
    /// Restrictions on single fields; a field not named here is unrestricted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, FieldRule>,
}

/// Grants per resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Permissions(pub BTreeMap<String, Grant>);

impl Permissions {
    /// Reports, under `path`, every resource or field these permissions name that does
    /// not exist (the tenant's custom objects are in `catalog`), and masks on fields that
    /// cannot be masked.
    pub fn check(&self, path: &str, catalog: &Catalog, errors: &mut Errors) {
        for (resource, grant) in &self.0 {
            let at = format!("{path}.{resource}");
            let known: Vec<(String, bool)> = if RESOURCES.contains(&resource.as_str()) {
                fields_of(resource)
                    .iter()
                    .map(|f| (f.name.to_owned(), f.maskable))
                    .collect()
            } else if resource == ALL_CUSTOM {
                Vec::new()
            } else if let Some(fields) = catalog.custom_fields(resource) {
                fields
            } else {
                errors.add(at, "is not a resource");
                continue;
            };
            if grant.actions.is_empty() {
                errors.add(format!("{at}.actions"), "must name at least one action");
            }
            for (field, rule) in &grant.fields {
                let at = format!("{at}.fields.{field}");
                match known.iter().find(|(name, _)| name == field) {
                    None => errors.add(at, format!("is not a field of {resource}")),
                    Some((_, maskable)) if *rule == FieldRule::Masked && !maskable => {
                        errors.add(at, "cannot be masked; hide it or make it read-only")
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

/// What a caller may do on one resource, after combining their roles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Access {
    /// Per action, the widest scope any role grants for it.
    actions: BTreeMap<Action, Scope>,
    /// Per restricted field, the least restrictive rule among the roles.
    fields: BTreeMap<String, FieldRule>,
}

/// What a caller may do, after combining their roles: per resource, per action, the widest
/// scope any role grants for that action. (Scopes combine per action, so a role that reads
/// everything and one that edits only its own records never add up to editing everything.)
/// A field stays restricted only if every role that grants the resource restricts it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effective(BTreeMap<String, Access>);

/// A record as one caller may see it: hidden fields removed, masked ones masked.
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct View {
    pub body: Map<String, Value>,
    /// The record's version, for its `ETag`.
    #[serde(skip)]
    pub version: u64,
}

impl View {
    /// The record's `id` (empty if it has none).
    pub fn id(&self) -> &str {
        self.body
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

impl Effective {
    /// The union of several roles' permissions.
    pub fn union<'a>(roles: impl IntoIterator<Item = &'a Permissions>) -> Self {
        let mut grants: BTreeMap<&str, Vec<&Grant>> = BTreeMap::new();
        for role in roles {
            for (resource, grant) in &role.0 {
                grants.entry(resource).or_default().push(grant);
            }
        }
        // A grant on every custom object also counts for each one named on its own.
        if let Some(every) = grants.get(ALL_CUSTOM).cloned() {
            for (resource, named) in grants.iter_mut() {
                if *resource != ALL_CUSTOM && is_custom(resource) {
                    named.extend(every.iter().copied());
                }
            }
        }
        let mut out = BTreeMap::new();
        for (resource, grants) in grants {
            let mut access = Access::default();
            for grant in &grants {
                for action in &grant.actions {
                    let scope = access.actions.entry(*action).or_insert(grant.scope);
                    *scope = (*scope).max(grant.scope);
                }
            }
            // A role silent on a field leaves it unrestricted, so only fields every role
            // restricts stay restricted, by the loosest of their rules.
            if let Some((first, rest)) = grants.split_first() {
                for (field, rule) in &first.fields {
                    let loosest = rest
                        .iter()
                        .map(|g| g.fields.get(field).copied())
                        .try_fold(*rule, |acc, r| r.map(|r| acc.min(r)));
                    if let Some(rule) = loosest {
                        access.fields.insert(field.clone(), rule);
                    }
                }
            }
            out.insert(resource.to_owned(), access);
        }
        Self(out)
    }

    /// What the caller may do on `resource`: a custom object not named on its own is
    /// covered by a grant on every custom object.
    fn access(&self, resource: &str) -> Option<&Access> {
        self.0.get(resource).or_else(|| {
            is_custom(resource)
                .then(|| self.0.get(ALL_CUSTOM))
                .flatten()
        })
    }

    /// The scope within which `action` is allowed on `resource`, if it is at all.
    pub fn allows(&self, resource: &str, action: Action) -> Option<Scope> {
        self.access(resource)?.actions.get(&action).copied()
    }

    /// Like [`allows`](Self::allows), but a refusal is the 403 the caller returns.
    pub fn require(&self, resource: &str, action: Action) -> Result<Scope, Error> {
        self.allows(resource, action).ok_or_else(|| {
            Error::Forbidden(format!(
                "Your role does not allow `{}` on {resource}.",
                action.as_str()
            ))
        })
    }

    /// The rule on `field` of `resource`, if it is restricted.
    pub fn field_rule(&self, resource: &str, field: &str) -> Option<FieldRule> {
        self.access(resource)?.fields.get(field).copied()
    }

    /// Per resource, per action, the widest scope (as `/v1/me` shows it).
    pub fn actions(&self) -> BTreeMap<&str, &BTreeMap<Action, Scope>> {
        self.0
            .iter()
            .map(|(r, a)| (r.as_str(), &a.actions))
            .collect()
    }

    /// Per resource, the restricted fields and their rules (as `/v1/me` shows them).
    pub fn field_rules(&self) -> BTreeMap<&str, &BTreeMap<String, FieldRule>> {
        self.0
            .iter()
            .filter(|(_, a)| !a.fields.is_empty())
            .map(|(r, a)| (r.as_str(), &a.fields))
            .collect()
    }

    /// Refuses a write that sets any of `fields` the caller may not change: a 403 naming
    /// each of them.
    pub fn check_writable(&self, resource: &str, fields: &[&str]) -> Result<(), Error> {
        let refused: Vec<FieldError> = fields
            .iter()
            .filter(|f| self.field_rule(resource, f).is_some())
            .map(|f| FieldError {
                field: (*f).to_owned(),
                message: "may not be changed by your role".into(),
            })
            .collect();
        if refused.is_empty() {
            Ok(())
        } else {
            Err(Error::ReadOnlyFields(refused))
        }
    }

    /// `record` as the caller may see it. Masked fields are shown in clear only when
    /// `reveal` is asked for, which needs the `reveal` action (and is audited by the
    /// caller of this function).
    pub fn view<T: Serialize>(
        &self,
        resource: &str,
        record: &T,
        reveal: bool,
    ) -> Result<View, Error> {
        let Value::Object(mut body) = serde_json::to_value(record)
            .map_err(|e| Error::Internal(format!("serializing a record: {e}")))?
        else {
            return Err(Error::Internal("a record is not an object".into()));
        };
        let version = body.get("version").and_then(Value::as_u64).unwrap_or(0);
        // Each record of a list passes here: the rules are walked where they are, not
        // gathered into a map of their own per record.
        let own = self.access(resource).map(|a| &a.fields);
        let sensitive = || fields_of(resource).iter().filter(|f| f.sensitive);
        let rules = own
            .into_iter()
            .flatten()
            .map(|(field, rule)| {
                let floor = if sensitive().any(|f| f.name == field.as_str()) {
                    FieldRule::Masked
                } else {
                    *rule
                };
                (field.as_str(), (*rule).max(floor))
            })
            .chain(
                sensitive()
                    .filter(|f| !own.is_some_and(|o| o.contains_key(f.name)))
                    .map(|f| (f.name, FieldRule::Masked)),
            );
        for (field, rule) in rules {
            // A rule on one custom field (`custom.<key>`) applies inside `custom`.
            let (holder, name) = match field.strip_prefix("custom.") {
                Some(key) => match body.get_mut("custom").and_then(Value::as_object_mut) {
                    Some(custom) => (custom, key),
                    None => continue,
                },
                None => (&mut body, field),
            };
            match rule {
                FieldRule::Hidden => {
                    holder.remove(name);
                }
                FieldRule::Masked if !reveal => {
                    if let Some(value) = holder.get_mut(name) {
                        *value = mask(value);
                    }
                }
                FieldRule::Masked | FieldRule::ReadOnly => {}
            }
        }
        Ok(View { body, version })
    }

    /// How each field of `resource` is shown: the role's rules, with sensitive fields
    /// masked at least.
    fn display_rules(&self, resource: &str) -> BTreeMap<String, FieldRule> {
        let mut rules = self
            .access(resource)
            .map(|a| a.fields.clone())
            .unwrap_or_default();
        for spec in fields_of(resource).iter().filter(|f| f.sensitive) {
            let rule = rules
                .entry(spec.name.to_owned())
                .or_insert(FieldRule::Masked);
            *rule = (*rule).max(FieldRule::Masked);
        }
        rules
    }

    /// The fields of `resource` the caller may not search or filter by: hidden ones, and
    /// masked ones (a prefix search would spell a masked value out, one character at a
    /// time).
    pub fn unsearchable_fields(&self, resource: &str) -> std::collections::BTreeSet<String> {
        self.display_rules(resource)
            .into_iter()
            .filter(|(_, r)| matches!(r, FieldRule::Hidden | FieldRule::Masked))
            .map(|(f, _)| f)
            .collect()
    }

    /// The masked fields of `resource` a reveal would show.
    pub fn masked_fields(&self, resource: &str) -> Vec<String> {
        self.display_rules(resource)
            .into_iter()
            .filter(|(_, r)| *r == FieldRule::Masked)
            .map(|(f, _)| f)
            .collect()
    }

    /// Refuses (403, naming the excess) permissions wider than the caller's own, so no one
    /// hands out, in a role or an API key, more than they hold.
    pub fn covers(&self, permissions: &Permissions) -> Result<(), Error> {
        for (resource, grant) in &permissions.0 {
            for action in &grant.actions {
                if self
                    .allows(resource, *action)
                    .is_none_or(|s| s < grant.scope)
                {
                    return Err(Error::Forbidden(format!(
                        "You cannot grant `{}` on {resource} with `{}` scope: your own \
                         role does not allow it.",
                        action.as_str(),
                        scope_name(grant.scope)
                    )));
                }
            }
            if let Some(access) = self.access(resource) {
                for (field, mine) in &access.fields {
                    if grant.fields.get(field).is_none_or(|r| r < mine) {
                        return Err(Error::Forbidden(format!(
                            "You cannot grant more access to {resource}.{field} than your \
                             own role has."
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

impl Effective {
    /// What the caller holds of `actions` on `resource` now, as permissions: for
    /// something made under these rights (an export) to be handed out later only while
    /// [`covers`](Self::covers) still holds. `None` if any action is not allowed.
    pub fn snapshot(&self, resource: &str, actions: &[Action]) -> Option<Permissions> {
        let access = self.access(resource)?;
        let scope = actions
            .iter()
            .map(|a| access.actions.get(a).copied())
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .min()?;
        let grant = Grant {
            actions: actions.iter().copied().collect(),
            scope,
            fields: access.fields.clone(),
        };
        Some(Permissions(BTreeMap::from([(resource.to_owned(), grant)])))
    }

    /// Refuses (403) unless the caller holds everything each of `roles` allows: what
    /// changing the sign-in, roles, status or team of a user with those roles needs.
    pub fn covers_user<'a>(
        &self,
        roles: impl IntoIterator<Item = &'a Permissions>,
    ) -> Result<(), Error> {
        for role in roles {
            if self.covers(role).is_err() {
                return Err(Error::Forbidden(
                    "This user's roles allow things yours do not; only someone who holds \
                     everything they may do can change their sign-in, roles, status or teams."
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// What both `self` and `other` allow: per action the narrower scope, per field the
    /// stricter rule. An API key acts with its own permissions met with its maker's.
    pub fn intersect(&self, other: &Effective) -> Effective {
        let mut out = BTreeMap::new();
        let resources: BTreeSet<&String> = self.0.keys().chain(other.0.keys()).collect();
        for resource in resources {
            let (Some(mine), Some(theirs)) = (self.access(resource), other.access(resource)) else {
                continue;
            };
            let actions: BTreeMap<Action, Scope> = mine
                .actions
                .iter()
                .filter_map(|(a, s)| theirs.actions.get(a).map(|t| (*a, (*s).min(*t))))
                .collect();
            if actions.is_empty() {
                continue;
            }
            let mut fields = mine.fields.clone();
            for (field, rule) in &theirs.fields {
                let stricter = fields.entry(field.clone()).or_insert(*rule);
                *stricter = (*stricter).max(*rule);
            }
            out.insert(resource.clone(), Access { actions, fields });
        }
        Self(out)
    }

    /// Whether the caller may change a team's membership (create it with members, add or
    /// remove one, name its lead, delete it). Team membership is a grant: it widens what
    /// `team` scope reaches for every member. So the caller must
    ///
    /// 1. cover every role of every user whose membership (or lead) changes
    ///    (`changed_roles`), as for changing their roles; and
    /// 2. already reach, with `all` scope, every record a member of the team reaches
    ///    through `team` scope afterwards: for each resource and action that any member's
    ///    role (`member_roles`, the caller's own included if they are a member) grants
    ///    with `team` scope, the caller must hold that action with `all` scope.
    ///
    /// Together these mean a membership change never lets anyone, the caller included,
    /// reach a record the caller could not already reach.
    pub fn may_change_team<'a>(
        &self,
        changed_roles: impl IntoIterator<Item = &'a Permissions>,
        member_roles: impl IntoIterator<Item = &'a Permissions>,
    ) -> Result<(), Error> {
        self.covers_user(changed_roles)?;
        for role in member_roles {
            for (resource, grant) in &role.0 {
                if grant.scope != Scope::Team {
                    continue;
                }
                for action in &grant.actions {
                    if self.allows(resource, *action) != Some(Scope::All) {
                        return Err(Error::Forbidden(format!(
                            "Members of this team would reach, through `team` scope, {resource} \
                             you cannot `{}` yourself; only someone who may `{}` every record \
                             of {resource} can change this team's members.",
                            action.as_str(),
                            action.as_str()
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Own => "own",
        Scope::Team => "team",
        Scope::All => "all",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(id: &str) -> Effective {
        Effective::union([&templates()
            .into_iter()
            .find(|t| t.id == id)
            .unwrap()
            .permissions])
    }

    fn templates_named(ids: &[&str]) -> Vec<Permissions> {
        templates()
            .into_iter()
            .filter(|t| ids.contains(&t.id))
            .map(|t| t.permissions)
            .collect()
    }

    #[test]
    fn sales_see_their_own_contacts_and_cannot_export() {
        let sales = template("sales");
        assert_eq!(sales.allows("contacts", Action::Read), Some(Scope::Own));
        assert_eq!(sales.allows("contacts", Action::Export), None);
        assert!(sales.require("users", Action::Read).is_err());
    }

    #[test]
    fn scopes_combine_per_action_so_roles_never_escalate() {
        let roles = templates_named(&["sales", "read_only"]);
        let both = Effective::union(&roles);
        assert_eq!(both.allows("contacts", Action::Read), Some(Scope::All));
        assert_eq!(both.allows("contacts", Action::Create), Some(Scope::Own));
    }

    #[test]
    fn the_admin_may_do_everything_everywhere() {
        let admin = template("admin");
        for r in RESOURCES {
            for a in Action::ALL {
                assert_eq!(admin.allows(r, a), Some(Scope::All), "{r} {a:?}");
            }
        }
    }

    #[test]
    fn a_field_stays_restricted_only_if_every_role_restricts_it() {
        let roles = templates_named(&["support", "read_only"]);
        let both = Effective::union(&roles);
        assert_eq!(both.field_rule("contacts", "notes"), None);
        let support = template("support");
        assert_eq!(
            support.field_rule("contacts", "notes"),
            Some(FieldRule::Hidden)
        );
        let mut masked = templates_named(&["support"]);
        masked[0]
            .0
            .get_mut("contacts")
            .unwrap()
            .fields
            .insert("notes".into(), FieldRule::Masked);
        masked.extend(templates_named(&["support"]));
        assert_eq!(
            Effective::union(&masked).field_rule("contacts", "notes"),
            Some(FieldRule::Masked)
        );
    }

    #[test]
    fn views_drop_hidden_fields_and_mask_masked_ones_unless_revealed() {
        let mut perms = templates_named(&["support"]).remove(0);
        let contacts = perms.0.get_mut("contacts").unwrap();
        contacts.fields.insert("phones".into(), FieldRule::Masked);
        let effective = Effective::union([&perms]);
        let record = serde_json::json!({
            "id": "con_1", "notes": "secret", "phones": [{"number": "+8613800138000"}],
            "version": 3,
        });
        let view = effective.view("contacts", &record, false).unwrap();
        assert_eq!(view.version, 3);
        assert!(!view.body.contains_key("notes"));
        assert_eq!(
            view.body["phones"],
            serde_json::json!([{"number": "****8000"}])
        );
        let revealed = effective.view("contacts", &record, true).unwrap();
        assert_eq!(revealed.body["phones"][0]["number"], "+8613800138000");
        assert!(!revealed.body.contains_key("notes"));
    }

    #[test]
    fn restricted_fields_cannot_be_written_and_each_is_named() {
        let support = template("support");
        assert!(
            support
                .check_writable("contacts", &["name", "phones"])
                .is_ok()
        );
        match support.check_writable("contacts", &["name", "owner_id", "notes"]) {
            Err(Error::ReadOnlyFields(fields)) => {
                let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(names, ["owner_id", "notes"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_one_grants_more_than_they_hold() {
        let admin = template("admin");
        for t in templates() {
            admin.covers(&t.permissions).unwrap();
        }
        let manager = template("manager");
        let sales = templates_named(&["sales"]).remove(0);
        manager.covers(&sales).unwrap();
        let admin_perms = templates_named(&["admin"]).remove(0);
        assert!(manager.covers(&admin_perms).is_err());
        // Support may not grant a role that sees the notes support cannot see.
        let support = template("support");
        let mut wider = templates_named(&["support"]).remove(0);
        wider.0.get_mut("contacts").unwrap().fields.remove("notes");
        assert!(support.covers(&wider).is_err());
        let mut narrower = templates_named(&["support"]).remove(0);
        narrower
            .0
            .get_mut("contacts")
            .unwrap()
            .fields
            .insert("name".into(), FieldRule::ReadOnly);
        support.covers(&narrower).unwrap();
    }

    #[test]
    fn a_key_meets_its_makers_permissions() {
        let admin = template("admin");
        let sales = template("sales");
        let both = admin.intersect(&sales);
        assert_eq!(both, sales.intersect(&admin));
        assert_eq!(both.allows("contacts", Action::Read), Some(Scope::Own));
        assert_eq!(both.allows("users", Action::Read), None);
        let support = template("support");
        let met = admin.intersect(&support);
        assert_eq!(met.field_rule("contacts", "notes"), Some(FieldRule::Hidden));
        assert_eq!(Effective::default().intersect(&admin), Effective::default());
    }

    #[test]
    fn team_changes_need_all_scope_wherever_members_get_team_scope() {
        let admin = template("admin");
        let roles = templates_named(&["admin", "manager", "sales"]);
        admin.may_change_team(&roles, &roles).unwrap();
        // Someone who cannot cover the admin cannot put them in a team.
        let sales = template("sales");
        let admin_role = templates_named(&["admin"]);
        assert!(sales.may_change_team(&admin_role, &admin_role).is_err());
        // Nor widen `team` scope they do not reach with `all`.
        let mut team_scoped = templates_named(&["read_only"]).remove(0);
        team_scoped.0.get_mut("contacts").unwrap().scope = Scope::Team;
        let mut team_contacts = templates_named(&["admin"]).remove(0);
        team_contacts.0.get_mut("contacts").unwrap().scope = Scope::Team;
        let narrow = Effective::union([&team_contacts]);
        narrow.covers_user([&team_scoped]).unwrap();
        assert!(
            narrow
                .may_change_team([&team_scoped], [&team_scoped])
                .is_err()
        );
    }

    #[test]
    fn permissions_naming_unknown_things_are_reported() {
        let perms: Permissions = serde_json::from_value(serde_json::json!({
            "contacts": {"actions": ["read"], "scope": "all",
                         "fields": {"shoe_size": "hidden", "owner_id": "masked"}},
            "spaceships": {"actions": ["read"], "scope": "all"},
            "deals": {"actions": [], "scope": "own"},
        }))
        .unwrap();
        let mut errors = Errors::new();
        perms.check("permissions", &Catalog::default(), &mut errors);
        let fields: Vec<_> = errors
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "permissions.contacts.fields.owner_id",
                "permissions.contacts.fields.shoe_size",
                "permissions.deals.actions",
                "permissions.spaceships",
            ]
        );
    }
}
