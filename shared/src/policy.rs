//! Access policy: what a principal may do, decided in this one module and nowhere else.
//!
//! A role grants, per resource, a set of actions and a record scope. A user's permissions
//! ([`Effective`]) are the union of their roles' grants, action by action. Services ask
//! [`Effective::require`] before acting and filter records by the returned [`Scope`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::http::ApiError;

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
    "roles",
    "settings",
    "audit",
    "api_keys",
    "webhooks",
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub actions: BTreeSet<Action>,
    pub scope: Scope,
}

/// Grants per resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Permissions(pub BTreeMap<String, Grant>);

/// What a user may do, after combining their roles: per resource, per action, the widest
/// scope any role grants for that action. (Scopes combine per action, so a role that reads
/// everything and one that edits only its own records never add up to editing everything.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Effective(pub BTreeMap<String, BTreeMap<Action, Scope>>);

impl Effective {
    /// The union of several roles' permissions.
    pub fn union<'a>(roles: impl IntoIterator<Item = &'a Permissions>) -> Self {
        let mut out: BTreeMap<String, BTreeMap<Action, Scope>> = BTreeMap::new();
        for role in roles {
            for (resource, grant) in &role.0 {
                let actions = out.entry(resource.clone()).or_default();
                for action in &grant.actions {
                    let scope = actions.entry(*action).or_insert(grant.scope);
                    *scope = (*scope).max(grant.scope);
                }
            }
        }
        Self(out)
    }

    /// The scope within which `action` is allowed on `resource`, if it is at all.
    pub fn allows(&self, resource: &str, action: Action) -> Option<Scope> {
        self.0.get(resource)?.get(&action).copied()
    }

    /// Like [`allows`](Self::allows), but a refusal is the 403 the caller returns.
    pub fn require(&self, resource: &str, action: Action) -> Result<Scope, ApiError> {
        self.allows(resource, action).ok_or_else(|| {
            ApiError::Forbidden(format!(
                "Your role does not allow `{}` on {resource}.",
                action.as_str()
            ))
        })
    }
}

/// A built-in role template created for every tenant at sign-up.
pub struct Template {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub permissions: Permissions,
}

const BUSINESS: &[&str] = &[
    "contacts",
    "companies",
    "deals",
    "tasks",
    "orders",
    "tickets",
    "campaigns",
    "reports",
    "documents",
];

fn grant(actions: &[Action], scope: Scope) -> Grant {
    Grant {
        actions: actions.iter().copied().collect(),
        scope,
    }
}

fn perms(entries: &[(&str, Grant)]) -> Permissions {
    Permissions(
        entries
            .iter()
            .map(|(r, g)| ((*r).to_owned(), g.clone()))
            .collect(),
    )
}

/// The built-in roles: admin, manager, sales, support, finance and read-only.
pub fn templates() -> Vec<Template> {
    use Action::*;
    let all_actions = Action::ALL;
    let work = [Read, Create, Update, Delete, Assign];
    let admin = Permissions(
        RESOURCES
            .iter()
            .map(|r| ((*r).to_owned(), grant(&all_actions, Scope::All)))
            .collect(),
    );
    let mut manager: Vec<(&str, Grant)> = BUSINESS
        .iter()
        .map(|r| {
            (
                *r,
                grant(
                    &[Read, Create, Update, Delete, Export, Import, Assign],
                    Scope::Team,
                ),
            )
        })
        .collect();
    manager.push(("users", grant(&[Read], Scope::All)));
    manager.push(("roles", grant(&[Read], Scope::All)));
    let read_only: Vec<(&str, Grant)> = BUSINESS
        .iter()
        .map(|r| (*r, grant(&[Read], Scope::All)))
        .collect();
    vec![
        Template {
            id: "admin",
            name: "Administrator",
            description: "Everything, including users, roles, settings and audit.",
            permissions: admin,
        },
        Template {
            id: "manager",
            name: "Manager",
            description: "All sales and service work of their teams, with export and import.",
            permissions: perms(&manager),
        },
        Template {
            id: "sales",
            name: "Sales",
            description: "Their own contacts, companies, deals, tasks and orders; no export.",
            permissions: perms(&[
                ("contacts", grant(&work, Scope::Own)),
                ("companies", grant(&work, Scope::Own)),
                ("deals", grant(&work, Scope::Own)),
                ("tasks", grant(&work, Scope::Own)),
                ("orders", grant(&[Read, Create, Update], Scope::Own)),
                ("documents", grant(&[Read, Create], Scope::Own)),
                ("reports", grant(&[Read], Scope::Own)),
            ]),
        },
        Template {
            id: "support",
            name: "Support",
            description: "All tickets; contact basics.",
            permissions: perms(&[
                ("contacts", grant(&[Read, Update], Scope::All)),
                ("companies", grant(&[Read], Scope::All)),
                ("tickets", grant(&work, Scope::All)),
                ("tasks", grant(&work, Scope::Own)),
                ("documents", grant(&[Read, Create], Scope::All)),
            ]),
        },
        Template {
            id: "finance",
            name: "Finance",
            description: "Orders and invoices; read-only contacts and companies.",
            permissions: perms(&[
                ("orders", grant(&[Read, Create, Update, Export], Scope::All)),
                ("contacts", grant(&[Read], Scope::All)),
                ("companies", grant(&[Read], Scope::All)),
                ("reports", grant(&[Read, Export], Scope::All)),
                ("documents", grant(&[Read], Scope::All)),
            ]),
        },
        Template {
            id: "read_only",
            name: "Read-only",
            description: "Reads all business records; changes nothing.",
            permissions: perms(&read_only),
        },
    ]
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
}
