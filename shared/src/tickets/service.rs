//! Ticket operations: permission first, then tenant and record scope (the assignee owns
//! a ticket; while unassigned, its creator). Every write carries, in one transaction: the
//! ticket, its number (on create), the round-robin turn it took, its history of status,
//! assignee, team and priority changes, its service level markers, its links to contact
//! and company and their timelines, the new assignee's notification, the survey it sends
//! when resolved, and the audit entry.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::settings::ServiceSettings;
use super::{
    Channel, NewTicket, PREFIX, RESOURCE, Ticket, TicketPatch, TicketStatus, check_transition,
    history_pk, key, linked_pk, normalize_and_check, sla, status_pk, team_pk,
};
use crate::AppState;
use crate::audit::{Actor, Entry};
use crate::clock::{millis_key, millis_key_of, rfc3339};
use crate::error::Error;
use crate::fields::{self, Definitions, service::definitions};
use crate::ids::{TenantId, is_id, new_id};
use crate::notifications::{self, NotificationKind};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope, View};
use crate::principal::Caller;
use crate::principal::Principal;
use crate::records::{index_by_owner, list_query, owner_pk};
use crate::table::{Condition, Index, Item, Key, Query, Write, from_item, to_item};
use crate::tasks::Priority;
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::versioned::write_on_version;
use crate::{companies, contacts, surveys, timeline};

fn not_found() -> Error {
    Error::NotFound("No ticket with this id.".into())
}

fn created_sk(ticket: &Ticket) -> String {
    let at = millis_key_of(&ticket.created_at).unwrap_or_default();
    format!("{at}#{}", ticket.id)
}

/// The stored item: the ticket in its owner's index, its status queue and its team's.
pub fn to_stored(tenant: &TenantId, ticket: &Ticket) -> Result<Item, Error> {
    let mut item = to_item(&key(tenant, &ticket.id), ticket)?;
    index_by_owner(&mut item, tenant, RESOURCE, ticket.owner(), &ticket.id);
    // What scoped lists filter on.
    item.insert("owner_id".into(), ticket.owner().into());
    item.insert("gsi2pk".into(), status_pk(tenant, ticket.status).into());
    item.insert("gsi2sk".into(), created_sk(ticket).into());
    if let Some(team) = &ticket.team_id {
        item.insert("gsi3pk".into(), team_pk(tenant, team).into());
        item.insert("gsi3sk".into(), created_sk(ticket).into());
    }
    Ok(item)
}

fn links(ticket: &Ticket) -> Vec<(&'static str, &str)> {
    [
        (contacts::service::RESOURCE, ticket.contact_id.as_deref()),
        (companies::RESOURCE, ticket.company_id.as_deref()),
    ]
    .into_iter()
    .filter_map(|(r, id)| id.map(|id| (r, id)))
    .collect()
}

fn link_writes(
    tenant: &TenantId,
    before: Option<&Ticket>,
    after: Option<&Ticket>,
) -> Result<Vec<Write>, Error> {
    let id = after.or(before).map_or("", |t| t.id.as_str());
    crate::records::link_writes(
        |resource, record| linked_pk(tenant, resource, record),
        ("ticket_id", id),
        &before.map(links).unwrap_or_default(),
        &after.map(links).unwrap_or_default(),
    )
}

/// One recorded change of a ticket's status, assignee, team or priority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketChange {
    pub id: String,
    pub ticket_id: String,
    /// `status`, `assignee_id`, `team_id` or `priority`.
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Actor,
    pub at: String,
}

fn text_of<T: Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value).ok()? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
}

/// The history writes for `before` becoming `after` (on create: every tracked field set).
pub(super) fn history_writes(
    tenant: &TenantId,
    principal: &Principal,
    before: Option<&Ticket>,
    after: &Ticket,
    at: OffsetDateTime,
) -> Result<Vec<Write>, Error> {
    let tracked = |t: &Ticket| {
        [
            ("status", text_of(&t.status)),
            ("assignee_id", t.assignee_id.clone()),
            ("team_id", t.team_id.clone()),
            ("priority", text_of(&t.priority)),
        ]
    };
    let old = before.map(tracked);
    let mut writes = Vec::new();
    for (i, (field, to)) in tracked(after).into_iter().enumerate() {
        let from = old.as_ref().and_then(|o| o[i].1.clone());
        if before.is_some() && from == to || before.is_none() && to.is_none() {
            continue;
        }
        let change = TicketChange {
            id: new_id(crate::ids::TicketChangeId::PREFIX),
            ticket_id: after.id.clone(),
            field: field.to_owned(),
            from,
            to,
            by: Actor::of(principal),
            at: rfc3339(at),
        };
        writes.push(Write::Put {
            item: to_item(
                &Key::new(
                    history_pk(tenant, &after.id),
                    format!("{}#{}", millis_key(at), change.id),
                ),
                &change,
            )?,
            condition: Condition::NotExists,
        });
    }
    Ok(writes)
}

/// Each newly linked contact or company must be one the caller can see; a new assignee
/// must be an active user (someone else needs `assign`); a new team must exist.
async fn check_people(
    state: &AppState,
    principal: &Principal,
    before: Option<&Ticket>,
    ticket: &Ticket,
    errors: &mut Errors,
) -> Result<(), Error> {
    if let Some(id) = &ticket.contact_id
        && before.and_then(|b| b.contact_id.as_ref()) != Some(id)
        && contacts::service::get(state, principal, id, false)
            .await
            .is_err()
    {
        errors.add("contact_id", "is not a contact you can see");
    }
    if let Some(id) = &ticket.company_id
        && before.and_then(|b| b.company_id.as_ref()) != Some(id)
        && companies::service::get(state, principal, id).await.is_err()
    {
        errors.add("company_id", "is not a company you can see");
    }
    if let Some(id) = &ticket.assignee_id
        && before.and_then(|b| b.assignee_id.as_ref()) != Some(id)
    {
        if *id != principal.user_id {
            principal.require(RESOURCE, Action::Assign)?;
        }
        let active = is_id(crate::ids::UserId::PREFIX, id)
            && crate::directory::get_user(state.table.as_ref(), &principal.tenant, id)
                .await?
                .is_some_and(|u| u.status == crate::directory::Status::Active);
        if !active {
            errors.add("assignee_id", "is not an active user of this company");
        }
    }
    if let Some(id) = &ticket.team_id
        && before.and_then(|b| b.team_id.as_ref()) != Some(id)
    {
        let exists = is_id(crate::directory::TEAM_PREFIX, id)
            && state
                .table
                .get(&crate::directory::team_key(&principal.tenant, id))
                .await?
                .is_some();
        if !exists {
            errors.add("team_id", "is not a team of this company");
        }
    }
    Ok(())
}

/// A ticket the caller sends to a team goes to its next member: giving it to someone
/// else is assigning, as if they had named them.
fn check_handing_over(principal: &Principal, member: &str) -> Result<(), Error> {
    if member != principal.user_id {
        principal.require(RESOURCE, Action::Assign)?;
        principal.check_writable(RESOURCE, &["assignee_id"])?;
    }
    Ok(())
}

/// Stamps resolution and closing (cleared when a ticket is reopened).
fn settle_status(before: Option<&Ticket>, ticket: &mut Ticket) {
    let was = before.map(|b| b.status);
    let now = ticket.updated_at.clone();
    match ticket.status {
        TicketStatus::Resolved if was != Some(TicketStatus::Resolved) => {
            ticket.resolved_at = Some(now);
        }
        TicketStatus::Closed if was != Some(TicketStatus::Closed) => {
            ticket.closed_at = Some(now.clone());
            ticket.resolved_at.get_or_insert(now);
        }
        s if s.is_active() => {
            ticket.resolved_at = None;
            ticket.closed_at = None;
        }
        _ => {}
    }
}

/// Timeline entries on the linked contact and company: creation, resolution, closing
/// and deletion (other edits are in the audit log).
fn timeline_writes(
    tenant: &TenantId,
    ticket: &Ticket,
    at: OffsetDateTime,
    entry: &Entry,
) -> Result<Vec<Write>, Error> {
    let subject = format!("{} {}", ticket.number, ticket.subject);
    links(ticket)
        .into_iter()
        .map(|(_, id)| timeline::related(tenant, id, at, entry, &subject))
        .collect()
}

/// The new assignee's notification (not when they gave it to themselves).
fn assigned_writes(
    tenant: &TenantId,
    principal: &Principal,
    before: Option<&Ticket>,
    ticket: &Ticket,
    at: OffsetDateTime,
) -> Result<Vec<Write>, Error> {
    match &ticket.assignee_id {
        Some(user)
            if *user != principal.user_id
                && before.and_then(|b| b.assignee_id.as_ref()) != Some(user) =>
        {
            Ok(vec![notifications::write(
                tenant,
                user,
                NotificationKind::TicketAssigned,
                &format!("{} {}", ticket.number, ticket.subject),
                (RESOURCE, &ticket.id),
                at,
            )?])
        }
        _ => Ok(Vec::new()),
    }
}

/// The survey a ticket resolved (or closed) just now sends, when the tenant asks for one.
async fn survey_on_resolve(
    state: &AppState,
    principal: &Principal,
    settings: &ServiceSettings,
    before: Option<&Ticket>,
    ticket: &Ticket,
) -> Result<Option<surveys::Issued>, Error> {
    // Resolved (or closed) just now; a reopened ticket is resolved again without a
    // second survey (one per ticket).
    let resolved_now = !ticket.status.is_active() && before.is_none_or(|b| b.status.is_active());
    if !resolved_now || !settings.survey_after_resolve {
        return Ok(None);
    }
    issue_for_ticket(state, &settings.survey, ticket, principal).await
}

/// The survey a resolved ticket sends its contact (by email): none when the ticket has
/// no contact with an email, or already sent one.
async fn issue_for_ticket(
    state: &AppState,
    template: &crate::surveys::SurveyTemplate,
    ticket: &Ticket,
    by: &Principal,
) -> Result<Option<surveys::Issued>, Error> {
    let tenant = &by.tenant;
    let already = state
        .table
        .query(
            &crate::table::Query::partition(surveys::linked_pk(tenant, RESOURCE, &ticket.id))
                .limit(1),
        )
        .await?;
    if !already.items.is_empty() {
        return Ok(None);
    }
    let Some(mail_to) =
        super::comments::contact_email(state, by, ticket.contact_id.as_deref()).await
    else {
        return Ok(None);
    };
    let survey = surveys::new_survey(
        template,
        None,
        Some(&ticket.about()),
        None,
        &by.user_id,
        state.clock.now(),
    );
    let url = surveys::link_url(state, tenant, &survey.id);
    Ok(Some(surveys::Issued {
        survey,
        url,
        mail_to: Some(mail_to),
    }))
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewTicket,
) -> Result<View, Error> {
    let (ticket, defs) = create_ticket(state, principal, input).await?;
    show(principal, &defs, ticket)
}

/// Creates a ticket (for the API and the web form), applying the assignment rules and
/// the service level policy.
pub async fn create_ticket(
    state: &AppState,
    principal: &Principal,
    input: NewTicket,
) -> Result<(Ticket, Definitions), Error> {
    principal.require(RESOURCE, Action::Create)?;
    principal.check_writable(RESOURCE, &input.fields_sent())?;
    let tenant = &principal.tenant;
    let now = state.clock.now();
    let settings = super::settings::load(state, tenant).await?;
    let input_team = input.team_id.clone();
    let channel = input.channel.unwrap_or(match principal.caller {
        Caller::ApiKey => Channel::PartnerApi,
        Caller::System => Channel::WebForm,
        Caller::User => Channel::Phone,
    });
    let mut ticket = Ticket {
        id: new_id(PREFIX),
        number: String::new(),
        subject: input.subject,
        description: input.description,
        contact_id: input.contact_id,
        company_id: input.company_id,
        channel,
        category: input.category,
        region: input.region,
        priority: input.priority.unwrap_or_default(),
        status: input.status.unwrap_or_default(),
        assignee_id: input.assignee_id,
        team_id: input.team_id,
        tags: input.tags,
        custom: input.custom.unwrap_or_default(),
        first_response_due_at: None,
        resolution_due_at: None,
        first_responded_at: None,
        resolved_at: None,
        closed_at: None,
        first_response_breached: false,
        resolution_breached: false,
        created_by: principal.user_id.clone(),
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
        version: 1,
    };
    let mut errors = Errors::new();
    normalize_and_check(&mut ticket, &mut errors);
    if ticket.status == TicketStatus::Closed {
        errors.add("status", "a new ticket cannot be closed");
    }
    settle_status(None, &mut ticket);
    check_people(state, principal, None, &ticket, &mut errors).await?;
    let defs = fields::prepare(
        state,
        tenant,
        RESOURCE,
        &[&ticket.id],
        principal.new_record_fields(),
        &mut ticket.custom,
        &mut errors,
    )
    .await?;
    errors.finish().map_err(Error::Validation)?;
    if ticket.assignee_id.is_none() && ticket.team_id.is_none() {
        // A rule naming a team deleted since is passed over.
        for team in super::assign::teams_for(&settings.assignment_rules, &ticket) {
            let key = crate::directory::team_key(tenant, &team);
            if state.table.get(&key).await?.is_some() {
                ticket.team_id = Some(team);
                break;
            }
        }
    }
    sla::set_targets(&mut ticket, &settings);
    let named_team = input_team.is_some();
    let made = write_on_version(&Precondition::Any, "ticket counter", || async {
        let mut ticket = ticket.clone();
        let (number, counter) = crate::records::next_number(state, tenant, "tickets").await?;
        ticket.number = format!("TK-{number:06}");
        let mut writes = vec![
            Write::Put {
                item: to_stored(tenant, &ticket)?,
                condition: Condition::NotExists,
            },
            counter,
        ];
        if ticket.assignee_id.is_none()
            && let Some(team) = &ticket.team_id
            && let Some((member, turn)) = super::assign::next_member(state, tenant, team).await?
        {
            if named_team {
                check_handing_over(principal, &member)?;
            }
            ticket.assignee_id = Some(member);
            writes[0] = Write::Put {
                item: to_stored(tenant, &ticket)?,
                condition: Condition::NotExists,
            };
            writes.push(turn);
        }
        // Made once the assignee is known: it is credited to them.
        let survey = survey_on_resolve(state, principal, &settings, None, &ticket).await?;
        let entry = Entry::by(principal, now, "ticket.created", RESOURCE, Some(&ticket.id))
            .with_changes(None, Some(&ticket));
        writes.extend(history_writes(tenant, principal, None, &ticket, now)?);
        writes.extend(sla::queue_writes(tenant, None, Some(&ticket))?);
        writes.extend(link_writes(tenant, None, Some(&ticket))?);
        writes.extend(crate::contacts::merge::link_holds(
            tenant,
            None,
            ticket.contact_id.as_deref(),
        ));
        writes.extend(fields::unique_writes(
            tenant,
            RESOURCE,
            &defs,
            &ticket.id,
            None,
            Some(&ticket.custom),
            None,
        )?);
        writes.extend(timeline_writes(tenant, &ticket, now, &entry)?);
        writes.extend(assigned_writes(tenant, principal, None, &ticket, now)?);
        if let Some(issued) = &survey {
            writes.extend(issued.writes(tenant)?);
        }
        writes.extend(entry.writes(tenant)?);
        Ok(state
            .table
            .transact(writes)
            .await
            .map(|()| (ticket, survey)))
    })
    .await?;
    let (made, survey) = made;
    if let Some(issued) = &survey {
        surveys::mail(state, tenant, issued).await;
    }
    Ok((made, defs))
}

pub(crate) async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Ticket, Error> {
    let key = key(&principal.tenant, id);
    crate::records::load_owned(state, principal, scope, (PREFIX, id), key, not_found).await
}

/// `ticket` as the caller sees it: removed custom fields left out, field rules applied.
fn show(principal: &Principal, defs: &Definitions, mut ticket: Ticket) -> Result<View, Error> {
    ticket.custom = defs.visible(&ticket.custom);
    principal.view(RESOURCE, &ticket, false)
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<View, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    let ticket = load(state, principal, scope, id).await?;
    let defs = definitions(state.table.as_ref(), &principal.tenant, RESOURCE).await?;
    show(principal, &defs, ticket)
}

/// `GET /v1/tickets` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub status: Option<TicketStatus>,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    pub priority: Option<Priority>,
    pub channel: Option<Channel>,
    pub category: Option<String>,
    pub tag: Option<String>,
    /// Only tickets that missed a service level target (`true`) or none (`false`).
    pub breached: Option<bool>,
    /// The tickets of one contact (or company); newest first.
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
}

/// A page of the tickets the caller may see, newest first, filtered as asked.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    query: TicketQuery,
) -> Result<ListPage<View>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    principal.check_filters(
        RESOURCE,
        &[
            ("status", "status", query.status.is_some()),
            ("assignee_id", "assignee_id", query.assignee_id.is_some()),
            ("team_id", "team_id", query.team_id.is_some()),
            ("priority", "priority", query.priority.is_some()),
            ("channel", "channel", query.channel.is_some()),
            ("category", "category", query.category.is_some()),
            ("tag", "tags", query.tag.is_some()),
            ("contact_id", "contact_id", query.contact_id.is_some()),
            ("company_id", "company_id", query.company_id.is_some()),
        ],
    )?;
    let tenant = &principal.tenant;
    let params = ListParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    if query.contact_id.is_some() && query.company_id.is_some() {
        return Err(Error::validation(
            "company_id",
            "cannot be combined with contact_id",
        ));
    }
    for (field, value, max) in [("category", &query.category, 100), ("tag", &query.tag, 50)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(Error::validation(
                field,
                format!("must be at most {max} characters"),
            ));
        }
    }
    let linked = query
        .contact_id
        .as_deref()
        .map(|id| (contacts::service::RESOURCE, id))
        .or(query
            .company_id
            .as_deref()
            .map(|id| (companies::RESOURCE, id)));
    let defs = definitions(state.table.as_ref(), tenant, RESOURCE).await?;
    let keep = |t: &Ticket| {
        principal.reaches(scope, t.owner())
            && query.status.is_none_or(|s| s == t.status)
            && query
                .assignee_id
                .as_ref()
                .is_none_or(|a| Some(a) == t.assignee_id.as_ref())
            && query
                .team_id
                .as_ref()
                .is_none_or(|a| Some(a) == t.team_id.as_ref())
            && query.priority.is_none_or(|p| p == t.priority)
            && query.channel.is_none_or(|c| c == t.channel)
            && query.category.as_ref().is_none_or(|c| {
                t.category
                    .as_ref()
                    .is_some_and(|have| have.eq_ignore_ascii_case(c))
            })
            && query
                .tag
                .as_ref()
                .is_none_or(|tag| t.tags.iter().any(|have| have.eq_ignore_ascii_case(tag)))
            && query
                .breached
                .is_none_or(|b| b == (t.first_response_breached || t.resolution_breached))
    };
    let (tickets, next_cursor) = if let Some((resource, record)) = linked {
        crate::records::linked_page(
            state,
            (linked_pk(tenant, resource, record), "ticket_id"),
            &format!("{tenant}/tickets/{resource}/{record}"),
            &params,
            |id| async move { load(state, principal, scope, &id).await },
            keep,
        )
        .await?
    } else {
        let (table_query, list_id) = match (&query.assignee_id, &query.team_id, query.status) {
            (Some(a), _, _) => (
                Query::partition(owner_pk(tenant, RESOURCE, a)).on(Index::Gsi1),
                format!("{tenant}/tickets/owner/{a}"),
            ),
            (None, Some(team), _) => (
                Query::partition(team_pk(tenant, team)).on(Index::Gsi3),
                format!("{tenant}/tickets/team/{team}"),
            ),
            (None, None, Some(status)) => (
                Query::partition(status_pk(tenant, status)).on(Index::Gsi2),
                format!("{tenant}/tickets/status/{}", status.as_str()),
            ),
            (None, None, None) if scope == Scope::Own => (
                Query::partition(owner_pk(tenant, RESOURCE, &principal.user_id)).on(Index::Gsi1),
                format!("{tenant}/tickets/owner/{}", principal.user_id),
            ),
            (None, None, None) => (
                Query::partition(tenant.pk(RESOURCE)),
                format!("{tenant}/tickets"),
            ),
        };
        let (items, next) =
            list_query(state, principal, table_query, &list_id, scope, &params).await?;
        let found: Vec<Ticket> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        (found.into_iter().filter(|t| keep(t)).collect(), next)
    };
    let data = tickets
        .into_iter()
        .map(|t| show(principal, &defs, t))
        .collect::<Result<_, _>>()?;
    Ok(ListPage { data, next_cursor })
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: TicketPatch,
) -> Result<View, Error> {
    let scope = principal.require(RESOURCE, Action::Update)?;
    principal.check_writable(RESOURCE, &patch.fields_sent())?;
    let tenant = &principal.tenant;
    // The service settings matter only to a new priority (its targets) and a new status
    // (the survey a resolution sends).
    let settings = match patch.priority.is_some() || patch.status.is_some() {
        true => Some(super::settings::load(state, tenant).await?),
        false => None,
    };
    let (ticket, defs, survey) = write_on_version(&precondition, "ticket", || async {
        let current = load(state, principal, scope, id).await?;
        let mut next = current.clone();
        let mut errors = Errors::new();
        patch.clone().apply(&mut next, &mut errors);
        normalize_and_check(&mut next, &mut errors);
        check_transition(current.status, next.status, &mut errors);
        let now = state.clock.now();
        next.updated_at = rfc3339(now);
        settle_status(Some(&current), &mut next);
        check_people(state, principal, Some(&current), &next, &mut errors).await?;
        let defs = fields::prepare(
            state,
            tenant,
            RESOURCE,
            &[id],
            Some(&current.custom),
            &mut next.custom,
            &mut errors,
        )
        .await?;
        errors.finish().map_err(Error::Validation)?;
        precondition.check(current.version)?;
        if next.priority != current.priority
            && let Some(settings) = &settings
        {
            sla::retarget(&mut next, settings);
        }
        sla::flag_late(&mut next);
        let mut same = next.clone();
        same.updated_at = current.updated_at.clone();
        if same == current {
            return Ok(Ok((current, defs, None)));
        }
        let mut writes = Vec::new();
        // A new team without a named assignee: its members take it in turn.
        let team_changed = next.team_id != current.team_id;
        if team_changed
            && patch.assignee_id.is_none()
            && let Some(team) = &next.team_id
        {
            match super::assign::next_member(state, tenant, team).await? {
                Some((member, turn)) => {
                    check_handing_over(principal, &member)?;
                    next.assignee_id = Some(member);
                    writes.push(turn);
                }
                // Nobody in the team can take it: it waits in the team's queue.
                None => next.assignee_id = None,
            }
        }
        next.version = current.version + 1;
        let action = match (current.status, next.status) {
            (a, b) if a == b => "ticket.updated",
            (_, TicketStatus::Resolved) => "ticket.resolved",
            (_, TicketStatus::Closed) => "ticket.closed",
            (TicketStatus::Resolved | TicketStatus::Closed, _) => "ticket.reopened",
            _ => "ticket.status_changed",
        };
        let entry = Entry::by(principal, now, action, RESOURCE, Some(id))
            .with_changes(Some(&current), Some(&next));
        let survey = match &settings {
            Some(settings) => {
                survey_on_resolve(state, principal, settings, Some(&current), &next).await?
            }
            None => None,
        };
        writes.insert(
            0,
            Write::Put {
                item: to_stored(tenant, &next)?,
                condition: Condition::VersionIs(current.version),
            },
        );
        writes.extend(history_writes(
            tenant,
            principal,
            Some(&current),
            &next,
            now,
        )?);
        writes.extend(sla::queue_writes(tenant, Some(&current), Some(&next))?);
        writes.extend(link_writes(tenant, Some(&current), Some(&next))?);
        writes.extend(crate::contacts::merge::link_holds(
            tenant,
            current.contact_id.as_deref(),
            next.contact_id.as_deref(),
        ));
        writes.extend(fields::unique_writes(
            tenant,
            RESOURCE,
            &defs,
            id,
            Some(&current.custom),
            Some(&next.custom),
            None,
        )?);
        if next.status != current.status && !next.status.is_active() {
            writes.extend(timeline_writes(tenant, &next, now, &entry)?);
        }
        writes.extend(assigned_writes(
            tenant,
            principal,
            Some(&current),
            &next,
            now,
        )?);
        if let Some(issued) = &survey {
            writes.extend(issued.writes(tenant)?);
        }
        writes.extend(entry.writes(tenant)?);
        Ok(state
            .table
            .transact(writes)
            .await
            .map(|()| (next, defs, survey)))
    })
    .await?;
    if let Some(issued) = &survey {
        surveys::mail(state, tenant, issued).await;
    }
    show(principal, &defs, ticket)
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
) -> Result<(), Error> {
    let scope = principal.require(RESOURCE, Action::Delete)?;
    let tenant = &principal.tenant;
    write_on_version(&precondition, "ticket", || async {
        let current = load(state, principal, scope, id).await?;
        precondition.check(current.version)?;
        let now = state.clock.now();
        let entry = Entry::by(principal, now, "ticket.deleted", RESOURCE, Some(id))
            .with_changes(Some(&current), None);
        let defs = definitions(state.table.as_ref(), tenant, RESOURCE).await?;
        let mut writes = vec![Write::Delete {
            key: key(tenant, id),
            condition: Condition::VersionIs(current.version),
        }];
        writes.extend(sla::queue_writes(tenant, Some(&current), None)?);
        writes.extend(link_writes(tenant, Some(&current), None)?);
        writes.extend(fields::unique_writes(
            tenant,
            RESOURCE,
            &defs,
            id,
            Some(&current.custom),
            None,
            None,
        )?);
        writes.extend(timeline_writes(tenant, &current, now, &entry)?);
        writes.extend(entry.writes(tenant)?);
        Ok(state.table.transact(writes).await)
    })
    .await
}

/// The recorded changes of ticket `id`, oldest first.
pub async fn history(
    state: &AppState,
    principal: &Principal,
    id: &str,
    params: ListParams,
) -> Result<ListPage<TicketChange>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    load(state, principal, scope, id).await?;
    let list_id = format!("{}/ticket-history/{id}", principal.tenant);
    let query = Query::partition(history_pk(&principal.tenant, id));
    let (items, next_cursor) = crate::records::page(state, query, &list_id, &params).await?;
    let changes: Vec<TicketChange> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
    // Changes of a field the caller's role hides (or masks) are left out.
    let data = changes
        .into_iter()
        .filter(|c| principal.sees_field(RESOURCE, &c.field))
        .collect();
    Ok(ListPage { data, next_cursor })
}

/// Moves every ticket linked to contact (or company) `from` over to `to` (a merge).
pub async fn relink(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    from: &str,
    to: &str,
) -> Result<usize, Error> {
    let tenant = &principal.tenant;
    let partition = linked_pk(tenant, resource, from);
    crate::records::relink_plain(
        state,
        principal,
        (partition, "ticket_id"),
        (resource, from, to),
        (to_stored, link_writes),
    )
    .await
}
