//! Roles as tenant admins configure them: list, read, create (from scratch or as a copy
//! of another role), change and delete. The `admin` role is locked, so the tenant can
//! never lose the ability to manage roles and users; no one can create or change a role
//! to allow more than they hold themselves.

use serde::Deserialize;

use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::directory::{Role, list_roles, list_users, role_key};
use crate::error::Error;
use crate::ids::{is_id, new_id};
use crate::paging::ListPage;
use crate::policy::{ADMIN_ROLE, Action, Permissions, templates};
use crate::principal::Principal;
use crate::table::{Condition, TableError, Write, from_item, to_item};
use crate::validation::Errors;
use crate::versioned::Precondition;

pub const PREFIX: &str = crate::ids::RoleId::PREFIX;
/// Most roles a tenant may define (built-in ones included).
pub const MAX_ROLES: usize = 100;
const RESOURCE: &str = "roles";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    pub name: String,
    pub description: Option<String>,
    /// The grants; taken from `copy_from` when absent.
    pub permissions: Option<Permissions>,
    /// The id of a role whose permissions to start from.
    pub copy_from: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<Permissions>,
}

fn not_found() -> Error {
    Error::NotFound("No role with this id.".into())
}

fn locked() -> Error {
    Error::conflict(
        "role-locked",
        "The administrator role cannot be changed or deleted, so that someone can always \
         manage users and roles. Copy it to make a variant.",
    )
}

/// Whether `id` can name a role: a built-in id or a generated one.
fn is_role_id(id: &str) -> bool {
    is_id(PREFIX, id) || templates().iter().any(|t| t.id == id)
}

pub async fn list(state: &AppState, principal: &Principal) -> Result<ListPage<Role>, Error> {
    principal.require(RESOURCE, Action::Read)?;
    let mut data = list_roles(state.table.as_ref(), &principal.tenant).await?;
    // Built-in roles first, in template order; then the tenant's own, oldest first.
    let order: Vec<&str> = templates().iter().map(|t| t.id).collect();
    data.sort_by_key(|r| {
        (
            order.iter().position(|t| *t == r.id).unwrap_or(order.len()),
            r.id.clone(),
        )
    });
    Ok(ListPage {
        data,
        next_cursor: None,
    })
}

async fn load(state: &AppState, principal: &Principal, id: &str) -> Result<Role, Error> {
    if !is_role_id(id) {
        return Err(not_found());
    }
    let item = state
        .table
        .get(&role_key(&principal.tenant, id))
        .await?
        .ok_or_else(not_found)?;
    Ok(from_item::<Role>(item)?.in_force())
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<Role, Error> {
    principal.require(RESOURCE, Action::Read)?;
    load(state, principal, id).await
}

fn check_texts(name: &str, description: Option<&str>, errors: &mut Errors) {
    errors.text("name", name, 1, 100);
    errors.opt_text("description", description, 500);
}

/// 409 if another role of the tenant already has `name` (case-insensitively).
fn check_name_free(roles: &[Role], name: &str, except: Option<&str>) -> Result<(), Error> {
    let wanted = name.trim().to_lowercase();
    if roles
        .iter()
        .any(|r| Some(r.id.as_str()) != except && r.name.to_lowercase() == wanted)
    {
        return Err(Error::conflict(
            "role-name-taken",
            format!("A role named `{}` already exists.", name.trim()),
        ));
    }
    Ok(())
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewRole,
) -> Result<Role, Error> {
    principal.require(RESOURCE, Action::Create)?;
    let roles = list_roles(state.table.as_ref(), &principal.tenant).await?;
    let mut errors = Errors::new();
    check_texts(&input.name, input.description.as_deref(), &mut errors);
    let source = match &input.copy_from {
        None => None,
        Some(id) => {
            let found = roles.iter().find(|r| &r.id == id);
            if found.is_none() {
                errors.add("copy_from", "is not a role of this company");
            }
            found
        }
    };
    let permissions = match (input.permissions, source) {
        (Some(p), _) => p,
        (None, Some(role)) => role.permissions.clone(),
        (None, None) => {
            if input.copy_from.is_none() {
                errors.add("permissions", "is required unless `copy_from` names a role");
            }
            Permissions::default()
        }
    };
    let catalog = crate::fields::objects::catalog(state.table.as_ref(), &principal.tenant).await?;
    permissions.check("permissions", &catalog, &mut errors);
    errors.finish().map_err(Error::Validation)?;
    principal.permissions.covers(&permissions)?;
    check_name_free(&roles, &input.name, None)?;
    if roles.len() >= MAX_ROLES {
        return Err(Error::conflict(
            "too-many-roles",
            format!("A company can have at most {MAX_ROLES} roles; delete unused ones first."),
        ));
    }
    let now = rfc3339(state.clock.now());
    let role = Role {
        id: new_id(PREFIX),
        name: input.name.trim().to_owned(),
        description: input.description.unwrap_or_default().trim().to_owned(),
        builtin: false,
        permissions,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "role.created",
        RESOURCE,
        Some(&role.id),
    )
    .with_changes(None, Some(&role));
    entry
        .commit(
            state.table.as_ref(),
            &principal.tenant,
            Write::Put {
                item: to_item(&role_key(&principal.tenant, &role.id), &role)?,
                condition: Condition::NotExists,
            },
        )
        .await?;
    Ok(role)
}

fn changed_meanwhile() -> Error {
    Error::PreconditionFailed("The role changed meanwhile; fetch it again.".into())
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: RolePatch,
) -> Result<Role, Error> {
    principal.require(RESOURCE, Action::Update)?;
    let current = load(state, principal, id).await?;
    if current.id == ADMIN_ROLE {
        return Err(locked());
    }
    let mut next = current.clone();
    let mut errors = Errors::new();
    if let Some(name) = &patch.name {
        next.name = name.trim().to_owned();
    }
    if let Some(description) = &patch.description {
        next.description = description.trim().to_owned();
    }
    if let Some(permissions) = patch.permissions.clone() {
        next.permissions = permissions;
    }
    check_texts(
        patch.name.as_deref().unwrap_or(&current.name),
        patch.description.as_deref(),
        &mut errors,
    );
    let catalog = crate::fields::objects::catalog(state.table.as_ref(), &principal.tenant).await?;
    next.permissions.check("permissions", &catalog, &mut errors);
    errors.finish().map_err(Error::Validation)?;
    // Changing a role changes what its holders may do: the caller must hold everything
    // the role allows, before and after.
    principal.permissions.covers(&current.permissions)?;
    principal.permissions.covers(&next.permissions)?;
    precondition.check(current.version)?;
    if next.name != current.name {
        let roles = list_roles(state.table.as_ref(), &principal.tenant).await?;
        check_name_free(&roles, &next.name, Some(id))?;
    }
    if next.name == current.name
        && next.description == current.description
        && next.permissions == current.permissions
    {
        return Ok(current);
    }
    let now = state.clock.now();
    next.version = current.version + 1;
    next.updated_at = rfc3339(now);
    let entry = Entry::by(principal, now, "role.updated", RESOURCE, Some(id))
        .with_changes(Some(&current), Some(&next));
    match entry
        .commit(
            state.table.as_ref(),
            &principal.tenant,
            Write::Put {
                item: to_item(&role_key(&principal.tenant, id), &next)?,
                condition: Condition::VersionIs(current.version),
            },
        )
        .await
    {
        Ok(()) => Ok(next),
        Err(TableError::ConditionFailed { .. }) => Err(changed_meanwhile()),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
) -> Result<(), Error> {
    principal.require(RESOURCE, Action::Delete)?;
    let current = load(state, principal, id).await?;
    if current.id == ADMIN_ROLE {
        return Err(locked());
    }
    principal.permissions.covers(&current.permissions)?;
    precondition.check(current.version)?;
    let holders = list_users(state.table.as_ref(), &principal.tenant)
        .await?
        .into_iter()
        .filter(|u| u.role_ids.iter().any(|r| r == id))
        .count();
    let keys = crate::auth::api_keys::holding_role(state, &principal.tenant, id).await?;
    if holders + keys > 0 {
        return Err(Error::conflict(
            "role-in-use",
            format!(
                "The role is held by {holders} user(s) and {keys} API key(s); give them \
                 another role first."
            ),
        ));
    }
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "role.deleted",
        RESOURCE,
        Some(id),
    )
    .with_changes(Some(&current), None);
    match entry
        .commit(
            state.table.as_ref(),
            &principal.tenant,
            Write::Delete {
                key: role_key(&principal.tenant, id),
                condition: Condition::VersionIs(current.version),
            },
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(TableError::ConditionFailed { .. }) => Err(changed_meanwhile()),
        Err(e) => Err(e.into()),
    }
}
