//! The built-in roles every tenant starts with. They are ordinary role records once
//! created: an admin copies and edits them (all but `admin`, which stays whole so that
//! someone can always manage roles and users).

use super::{ALL_CUSTOM, Action, FieldRule, Grant, Permissions, RESOURCES, Scope};

/// A built-in role template created for every tenant at sign-up.
pub struct Template {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub permissions: Permissions,
}

/// The id of the administrator role, which no one can edit or delete.
pub const ADMIN_ROLE: &str = "admin";

/// Business records: the work of sales and service (custom objects included).
const BUSINESS: &[&str] = &[
    ALL_CUSTOM,
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
        fields: Default::default(),
    }
}

fn with_fields(mut grant: Grant, rules: &[(&str, FieldRule)]) -> Grant {
    grant.fields = rules.iter().map(|(f, r)| ((*f).to_owned(), *r)).collect();
    grant
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
    let work = [Read, Create, Update, Delete, Assign];
    let admin = Permissions(
        RESOURCES
            .iter()
            .chain([&ALL_CUSTOM])
            .map(|r| ((*r).to_owned(), grant(&Action::ALL, Scope::All)))
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
    manager.push(("teams", grant(&[Read], Scope::All)));
    manager.push(("roles", grant(&[Read], Scope::All)));
    let read_only: Vec<(&str, Grant)> = BUSINESS
        .iter()
        .map(|r| (*r, grant(&[Read], Scope::All)))
        .collect();
    // Support staff work with a contact's name and ways to reach them, not with the
    // sales side of the record.
    let contact_basics = with_fields(
        grant(&[Read, Update], Scope::All),
        &[
            ("address", FieldRule::Hidden),
            ("notes", FieldRule::Hidden),
            ("source", FieldRule::Hidden),
            ("owner_id", FieldRule::ReadOnly),
            ("lifecycle_stage", FieldRule::ReadOnly),
        ],
    );
    vec![
        Template {
            id: ADMIN_ROLE,
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
                (ALL_CUSTOM, grant(&work, Scope::Own)),
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
                ("contacts", contact_basics),
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
