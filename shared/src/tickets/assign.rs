//! Automatic assignment: the first assignment rule matching a ticket's category and
//! region names its team, and the team's active members take its tickets in turn. The
//! turn is a counter per team, advanced on its version in the ticket's own transaction,
//! so concurrent tickets never go to the same member twice in a row by accident.

use super::Ticket;
use super::settings::AssignmentRule;
use crate::AppState;
use crate::directory::Status;
use crate::directory::{Team, team_key};
use crate::error::Error;
use crate::ids::TenantId;
use crate::table::{Write, from_item};

/// The teams of the rules `ticket` matches, in the rules' order (the first one that
/// still exists takes it).
pub fn teams_for(rules: &[AssignmentRule], ticket: &Ticket) -> Vec<String> {
    let same = |want: &Option<String>, have: &Option<String>| match (want, have) {
        (None, _) => true,
        (Some(w), Some(h)) => w.eq_ignore_ascii_case(h),
        (Some(_), None) => false,
    };
    rules
        .iter()
        .filter(|r| same(&r.category, &ticket.category) && same(&r.region, &ticket.region))
        .map(|r| r.team_id.clone())
        .collect()
}

/// The next member of `team_id` to take a ticket, with the write that advances the turn
/// (to go in the ticket's transaction); `None` when the team has no active member.
pub async fn next_member(
    state: &AppState,
    tenant: &TenantId,
    team_id: &str,
) -> Result<Option<(String, Write)>, Error> {
    let Some(team) = state
        .table
        .get(&team_key(tenant, team_id))
        .await?
        .map(from_item::<Team>)
        .transpose()?
    else {
        return Ok(None);
    };
    let users = crate::directory::list_users(state.table.as_ref(), tenant).await?;
    let active: Vec<&String> = team
        .member_ids
        .iter()
        .filter(|m| {
            users
                .iter()
                .any(|u| &u.id == *m && u.status == Status::Active)
        })
        .collect();
    if active.is_empty() {
        return Ok(None);
    }
    // The team's turn is a sequence like the ticket numbers: the n-th ticket goes to
    // member n - 1 (modulo the active members).
    let (n, write) =
        crate::records::next_number(state, tenant, &format!("round-robin#{team_id}")).await?;
    let member = active[((n - 1) % active.len() as u64) as usize].clone();
    Ok(Some((member, write)))
}
