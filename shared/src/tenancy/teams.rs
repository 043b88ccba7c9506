//! Teams: named groups of users. A user may be in several. A role with `team` scope
//! reaches the records owned by anyone who shares a team with the caller.
//!
//! Membership is a grant, so every change of it (a team made with members, a member added
//! or removed, a lead named, a team deleted) is judged by the policy module
//! (`Effective::may_change_team`): it may never let anyone, the caller included, reach a
//! record the caller could not already reach.

use std::collections::HashMap;

use serde::Deserialize;

use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::directory::{Status, get_user};
use crate::error::Error;
use crate::ids::{TenantId, is_id, new_id};
use crate::paging::ListPage;
use crate::policy::{Action, Permissions};
use crate::principal::Principal;
use crate::table::{Condition, TableError, Write, from_item, to_item};
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::versioned::write_on_version;

pub use crate::directory::{TEAM_PREFIX as PREFIX, Team, team_key as key, teammates, teams as all};
/// Most teams a tenant may have.
pub const MAX_TEAMS: usize = 100;
/// Most members one team may have.
pub const MAX_MEMBERS: usize = 500;
const RESOURCE: &str = "teams";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    pub name: String,
    #[serde(default)]
    pub member_ids: Vec<String>,
    /// One of `member_ids`.
    pub lead_id: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    pub name: Option<String>,
    /// A member, or `null` for no lead.
    #[serde(default, deserialize_with = "crate::wire::present")]
    pub lead_id: Option<Option<String>>,
}

fn not_found() -> Error {
    Error::NotFound("No team with this id.".into())
}

/// Per user of the tenant, the permission sets of their roles: what a membership change
/// is judged on.
struct Grants(HashMap<String, Vec<Permissions>>);

impl Grants {
    async fn load(state: &AppState, tenant: &TenantId) -> Result<Self, Error> {
        let table = state.table.as_ref();
        let (users, roles) = tokio::try_join!(
            crate::directory::list_users(table, tenant),
            crate::directory::list_roles(table, tenant)
        )?;
        Ok(Self(
            users
                .into_iter()
                .map(|u| {
                    let held = roles
                        .iter()
                        .filter(|r| u.role_ids.contains(&r.id))
                        .map(|r| r.permissions.clone())
                        .collect();
                    (u.id, held)
                })
                .collect(),
        ))
    }

    /// The permission sets of the roles of `user_ids`.
    fn of<'a>(&'a self, user_ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a Permissions> {
        user_ids
            .into_iter()
            .filter_map(|id| self.0.get(id))
            .flatten()
            .collect()
    }

    /// Refuses (403) a membership change of `changed` that leaves the team with
    /// `members`; see `Effective::may_change_team`.
    fn check<'a>(
        &'a self,
        principal: &Principal,
        changed: impl IntoIterator<Item = &'a str>,
        members: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Error> {
        principal
            .permissions
            .may_change_team(self.of(changed), self.of(members))
    }
}

pub async fn list(state: &AppState, principal: &Principal) -> Result<ListPage<Team>, Error> {
    principal.require(RESOURCE, Action::Read)?;
    Ok(ListPage {
        data: all(state.table.as_ref(), &principal.tenant).await?,
        next_cursor: None,
    })
}

async fn load(state: &AppState, principal: &Principal, id: &str) -> Result<Team, Error> {
    if !is_id(PREFIX, id) {
        return Err(not_found());
    }
    let item = state
        .table
        .get(&key(&principal.tenant, id))
        .await?
        .ok_or_else(not_found)?;
    Ok(from_item(item)?)
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<Team, Error> {
    principal.require(RESOURCE, Action::Read)?;
    load(state, principal, id).await
}

/// Whether `user_id` is a (not deactivated) user of the caller's tenant.
async fn is_member_candidate(
    state: &AppState,
    principal: &Principal,
    user_id: &str,
) -> Result<bool, Error> {
    Ok(is_id(super::users::PREFIX, user_id)
        && get_user(state.table.as_ref(), &principal.tenant, user_id)
            .await?
            .is_some_and(|u| u.status != Status::Deactivated))
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewTeam,
) -> Result<Team, Error> {
    principal.require(RESOURCE, Action::Create)?;
    let mut errors = Errors::new();
    errors.text("name", &input.name, 1, 100);
    if input.member_ids.len() > MAX_MEMBERS {
        errors.add("member_ids", format!("at most {MAX_MEMBERS} members"));
    } else {
        for (i, id) in input.member_ids.iter().enumerate() {
            if input.member_ids[..i].contains(id) {
                errors.add(format!("member_ids[{i}]"), "appears twice");
            } else if !is_member_candidate(state, principal, id).await? {
                errors.add(
                    format!("member_ids[{i}]"),
                    "is not an active user of this company",
                );
            }
        }
    }
    if let Some(lead) = &input.lead_id
        && !input.member_ids.contains(lead)
    {
        errors.add("lead_id", "must be one of member_ids");
    }
    errors.finish().map_err(Error::Validation)?;
    let members = input.member_ids.iter().map(String::as_str);
    Grants::load(state, &principal.tenant)
        .await?
        .check(principal, members.clone(), members)?;
    if all(state.table.as_ref(), &principal.tenant).await?.len() >= MAX_TEAMS {
        return Err(Error::conflict(
            "too-many-teams",
            format!("A company can have at most {MAX_TEAMS} teams."),
        ));
    }
    let now = rfc3339(state.clock.now());
    let team = Team {
        id: new_id(PREFIX),
        name: input.name.trim().to_owned(),
        member_ids: input.member_ids,
        lead_id: input.lead_id,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "team.created",
        RESOURCE,
        Some(&team.id),
    )
    .with_changes(None, Some(&team));
    entry
        .commit(
            state.table.as_ref(),
            &principal.tenant,
            Write::Put {
                item: to_item(&key(&principal.tenant, &team.id), &team)?,
                condition: Condition::NotExists,
            },
        )
        .await?;
    Ok(team)
}

/// Applies `change` to a fresh read of the team until it is stored on the version it
/// was read at (or `precondition` fails); `None` from `change` means nothing to do.
async fn change(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    action: &str,
    change: impl Fn(&Team) -> Result<Option<Team>, Error>,
) -> Result<Team, Error> {
    principal.require(RESOURCE, Action::Update)?;
    write_on_version(&precondition, "team", || async {
        let current = load(state, principal, id).await?;
        let Some(mut next) = change(&current)? else {
            precondition.check(current.version)?;
            return Ok(Ok(current));
        };
        precondition.check(current.version)?;
        let now = state.clock.now();
        next.version = current.version + 1;
        next.updated_at = rfc3339(now);
        let entry = Entry::by(principal, now, action, RESOURCE, Some(id))
            .with_changes(Some(&current), Some(&next));
        let write = Write::Put {
            item: to_item(&key(&principal.tenant, id), &next)?,
            condition: Condition::VersionIs(current.version),
        };
        Ok(entry
            .commit(state.table.as_ref(), &principal.tenant, write)
            .await
            .map(|()| next))
    })
    .await
}

pub async fn rename(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: TeamPatch,
) -> Result<Team, Error> {
    if let Some(name) = &patch.name {
        let mut errors = Errors::new();
        errors.text("name", name, 1, 100);
        errors.finish().map_err(Error::Validation)?;
    }
    let grants = match patch.lead_id {
        Some(_) => Some(Grants::load(state, &principal.tenant).await?),
        None => None,
    };
    change(state, principal, id, precondition, "team.updated", |t| {
        let mut next = t.clone();
        if let Some(name) = &patch.name {
            next.name = name.trim().to_owned();
        }
        if let Some(lead) = &patch.lead_id {
            if lead.as_ref().is_some_and(|l| !t.member_ids.contains(l)) {
                return Err(Error::validation("lead_id", "must be a member of the team"));
            }
            next.lead_id = lead.clone();
            // The lead is told of the team's breached tickets: naming one is a grant.
            if next.lead_id != t.lead_id
                && let Some(grants) = &grants
            {
                let leads = [&t.lead_id, &next.lead_id];
                grants.check(
                    principal,
                    leads.into_iter().flatten().map(String::as_str),
                    [],
                )?;
            }
        }
        Ok((next != *t).then_some(next))
    })
    .await
}

/// Adds `user_id` to the team (a no-op if they are in it).
pub async fn add_member(
    state: &AppState,
    principal: &Principal,
    id: &str,
    user_id: &str,
) -> Result<Team, Error> {
    principal.require(RESOURCE, Action::Update)?;
    load(state, principal, id).await?;
    if !is_member_candidate(state, principal, user_id).await? {
        return Err(Error::NotFound(
            "No active user with this id in your company.".into(),
        ));
    }
    let grants = Grants::load(state, &principal.tenant).await?;
    change(
        state,
        principal,
        id,
        Precondition::Any,
        "team.member_added",
        |t| {
            if t.member_ids.iter().any(|m| m == user_id) {
                return Ok(None);
            }
            if t.member_ids.len() >= MAX_MEMBERS {
                return Err(Error::conflict(
                    "team-full",
                    format!("A team can have at most {MAX_MEMBERS} members."),
                ));
            }
            let mut next = t.clone();
            next.member_ids.push(user_id.to_owned());
            grants.check(
                principal,
                [user_id],
                next.member_ids.iter().map(String::as_str),
            )?;
            Ok(Some(next))
        },
    )
    .await
}

/// Removes `user_id` from the team (a no-op if they are not in it).
pub async fn remove_member(
    state: &AppState,
    principal: &Principal,
    id: &str,
    user_id: &str,
) -> Result<Team, Error> {
    principal.require(RESOURCE, Action::Update)?;
    let grants = Grants::load(state, &principal.tenant).await?;
    change(
        state,
        principal,
        id,
        Precondition::Any,
        "team.member_removed",
        |t| {
            if !t.member_ids.iter().any(|m| m == user_id) {
                return Ok(None);
            }
            // Leaving narrows what everyone reaches; only the one who leaves is judged.
            grants.check(principal, [user_id], [])?;
            let mut next = t.clone();
            next.member_ids.retain(|m| m != user_id);
            if next.lead_id.as_deref() == Some(user_id) {
                next.lead_id = None;
            }
            Ok(Some(next))
        },
    )
    .await
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
) -> Result<(), Error> {
    principal.require(RESOURCE, Action::Delete)?;
    let current = load(state, principal, id).await?;
    precondition.check(current.version)?;
    // Every member leaves at once.
    Grants::load(state, &principal.tenant).await?.check(
        principal,
        current.member_ids.iter().map(String::as_str),
        [],
    )?;
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "team.deleted",
        RESOURCE,
        Some(id),
    )
    .with_changes(Some(&current), None);
    match entry
        .commit(
            state.table.as_ref(),
            &principal.tenant,
            Write::Delete {
                key: key(&principal.tenant, id),
                condition: Condition::VersionIs(current.version),
            },
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(TableError::ConditionFailed { .. }) => Err(Error::PreconditionFailed(
            "The team changed meanwhile; fetch it again.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}
