//! Ticket operations, on the record engine: permission first, then tenant and record
//! scope (the assignee owns a ticket; while unassigned, its creator). What is a ticket's
//! own is its [`Kind`]: its status workflow, its service level targets, and what every
//! write carries beside it, in one transaction: its number (on create), the round-robin
//! turn it took, its history of status, assignee, team and priority changes, its service
//! level markers, its links to contact and company and their timelines, the new assignee's
//! notification, and the survey it sends when resolved (mailed once committed).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    Channel, NewTicket, PREFIX, RESOURCE, Ticket, TicketPatch, TicketStatus, check_transition,
    history_pk, key, linked_pk, normalize_and_check, sla, status_pk, team_pk,
};
use crate::AppState;
use crate::audit::{Actor, Entry};
use crate::clock::{millis_key, millis_key_of, rfc3339};
use crate::engine::{self, Change, Context, Fresh, Kind, Sequel};
use crate::error::Error;
use crate::fields::{Definitions, service::definitions};
use crate::ids::{TenantId, is_id, new_id};
use crate::notifications::{self, NotificationKind};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope, View};
use crate::principal::Caller;
use crate::principal::Principal;
use crate::records::{list_query, owner_pk};
use crate::table::{Condition, Index, Item, Key, Query, Write, from_item, to_item};
use crate::tasks::Priority;
use crate::validation::Errors;
use crate::{companies, contacts, surveys, timeline};

/// Tickets, as the record engine handles them: with custom fields, without search or a
/// timeline of their own (their creation, resolution, closing and deletion go on the
/// contact's and company's).
#[derive(Default)]
pub struct Tickets;

impl crate::search::Indexed for Ticket {
    fn resource(&self) -> std::borrow::Cow<'_, str> {
        RESOURCE.into()
    }

    fn id(&self) -> &str {
        &self.id
    }

    /// The assignee; while unassigned, the creator.
    fn owner_id(&self) -> &str {
        self.owner()
    }

    fn name(&self) -> &str {
        &self.subject
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }

    fn terms(&self) -> crate::search::Terms {
        let mut terms = crate::search::Terms::new();
        terms.text("subject", &self.subject);
        terms.custom(&self.custom);
        terms
    }
}

crm_engine::versioned_record!(Ticket, custom);

impl Kind for Tickets {
    type Record = Ticket;
    type Id = crate::ids::TicketId;
    type New = NewTicket;
    type Patch = TicketPatch;
    const SEARCHED: bool = false;
    const TIMELINE: bool = false;
    const OWNER_CHECKED: bool = false;

    fn resource(&self) -> &str {
        RESOURCE
    }

    fn noun(&self) -> &str {
        "ticket"
    }

    fn prefix(&self) -> &'static str {
        PREFIX
    }

    fn fields_of(&self) -> &str {
        RESOURCE
    }

    fn key(&self, tenant: &TenantId, id: &str) -> Key {
        key(tenant, id)
    }

    fn not_found(&self) -> Error {
        not_found()
    }

    fn sent_new(&self, input: &NewTicket) -> Vec<String> {
        input.fields_sent().into_iter().map(str::to_owned).collect()
    }

    fn sent_patch(&self, patch: &TicketPatch) -> Vec<String> {
        patch.fields_sent().into_iter().map(str::to_owned).collect()
    }

    /// Its channel, unless given, is how the caller came: the partner API, the web form,
    /// or a person (the phone).
    async fn build(
        &self,
        _: &AppState,
        principal: &Principal,
        input: NewTicket,
        fresh: Fresh,
        _: &Context,
        _: &mut Errors,
    ) -> Result<Ticket, Error> {
        let channel = input.channel.unwrap_or(match principal.caller {
            Caller::ApiKey => Channel::PartnerApi,
            Caller::System => Channel::WebForm,
            Caller::User => Channel::Phone,
        });
        Ok(Ticket {
            id: fresh.id,
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
            created_by: fresh.user_id,
            created_at: fresh.now.clone(),
            updated_at: fresh.now,
            version: 1,
        })
    }

    /// A new team without a named assignee: its members take it in turn (nobody able to
    /// take it: it waits in the team's queue).
    async fn apply(
        &self,
        state: &AppState,
        principal: &Principal,
        patch: TicketPatch,
        ticket: &mut Ticket,
        _: &Context,
        errors: &mut Errors,
    ) -> Result<Vec<Write>, Error> {
        let team_before = ticket.team_id.clone();
        let assignee_named = patch.assignee_id.is_some();
        patch.apply(ticket, errors);
        if ticket.team_id == team_before || assignee_named {
            return Ok(Vec::new());
        }
        let Some(team) = &ticket.team_id else {
            return Ok(Vec::new());
        };
        match super::assign::next_member(state, &principal.tenant, team).await? {
            Some((member, turn)) => {
                check_handing_over(principal, &member)?;
                ticket.assignee_id = Some(member);
                Ok(vec![turn])
            }
            None => {
                ticket.assignee_id = None;
                Ok(Vec::new())
            }
        }
    }

    fn check(
        &self,
        before: Option<&Ticket>,
        ticket: &mut Ticket,
        cx: &Context,
        errors: &mut Errors,
    ) {
        normalize_and_check(ticket, errors);
        match before {
            None if ticket.status == TicketStatus::Closed => {
                errors.add("status", "a new ticket cannot be closed");
            }
            None => {}
            Some(before) => check_transition(before.status, ticket.status, errors),
        }
        settle_status(before, ticket, &cx.now);
    }

    /// A changed priority changes the service level targets; a target passed is flagged.
    async fn settle(
        &self,
        state: &AppState,
        principal: &Principal,
        before: Option<&Ticket>,
        ticket: &mut Ticket,
        _: &Context,
        _: &mut Errors,
    ) -> Result<(), Error> {
        let Some(before) = before else {
            return Ok(());
        };
        if ticket.priority != before.priority {
            let settings = super::settings::load(state, &principal.tenant).await?;
            sla::retarget(ticket, &settings);
        }
        sla::flag_late(ticket);
        Ok(())
    }

    fn updated(&self, before: &Ticket, after: &Ticket) -> &'static str {
        match (before.status, after.status) {
            (a, b) if a == b => "updated",
            (_, TicketStatus::Resolved) => "resolved",
            (_, TicketStatus::Closed) => "closed",
            (TicketStatus::Resolved | TicketStatus::Closed, _) => "reopened",
            _ => "status_changed",
        }
    }

    async fn check_links(
        &self,
        state: &AppState,
        principal: &Principal,
        _: &Definitions,
        before: Option<&Ticket>,
        after: &Ticket,
        errors: &mut Errors,
    ) -> Result<(), Error> {
        check_people(state, principal, before, after, errors).await
    }

    /// What scoped lists filter on, its status queue and its team's.
    fn index(&self, tenant: &TenantId, ticket: &Ticket, item: &mut Item) {
        item.insert("owner_id".into(), ticket.owner().into());
        item.insert("gsi2pk".into(), status_pk(tenant, ticket.status).into());
        item.insert("gsi2sk".into(), created_sk(ticket).into());
        if let Some(team) = &ticket.team_id {
            item.insert("gsi3pk".into(), team_pk(tenant, team).into());
            item.insert("gsi3sk".into(), created_sk(ticket).into());
        }
    }

    /// A new ticket's number, its team by the assignment rules (when it names neither an
    /// assignee nor a team), its service level targets, and the team member whose turn it
    /// is (a team the caller named is handed over as if they had named the member).
    async fn allot(
        &self,
        state: &AppState,
        principal: &Principal,
        ticket: &mut Ticket,
    ) -> Result<Vec<Write>, Error> {
        let tenant = &principal.tenant;
        let settings = super::settings::load(state, tenant).await?;
        let named_team = ticket.team_id.is_some();
        if ticket.assignee_id.is_none() && ticket.team_id.is_none() {
            // A rule naming a team deleted since is passed over.
            for team in super::assign::teams_for(&settings.assignment_rules, ticket) {
                let key = crate::directory::team_key(tenant, &team);
                if state.table.get(&key).await?.is_some() {
                    ticket.team_id = Some(team);
                    break;
                }
            }
        }
        sla::set_targets(ticket, &settings);
        let (number, counter) = crate::records::next_number(state, tenant, "tickets").await?;
        ticket.number = format!("TK-{number:06}");
        let mut writes = vec![counter];
        if ticket.assignee_id.is_none()
            && let Some(team) = &ticket.team_id
            && let Some((member, turn)) = super::assign::next_member(state, tenant, team).await?
        {
            if named_team {
                check_handing_over(principal, &member)?;
            }
            ticket.assignee_id = Some(member);
            writes.push(turn);
        }
        Ok(writes)
    }

    /// Its history, service level markers, links, the merge holds on its contact, the new
    /// assignee's notification, and its contact's and company's timelines when it is
    /// made, resolved, closed or deleted.
    async fn writes(
        &self,
        _: &AppState,
        principal: &Principal,
        change: &Change<'_, Ticket>,
    ) -> Result<Vec<Write>, Error> {
        let tenant = &principal.tenant;
        let (before, after, at) = (change.before, change.after, change.at);
        let mut writes = Vec::new();
        if let Some(after) = after {
            writes.extend(history_writes(tenant, principal, before, after, at)?);
        }
        writes.extend(sla::queue_writes(tenant, before, after)?);
        writes.extend(link_writes(tenant, before, after)?);
        if let Some(after) = after {
            writes.extend(crate::contacts::merge::link_holds(
                tenant,
                before.and_then(|t| t.contact_id.as_deref()),
                after.contact_id.as_deref(),
            ));
        }
        let on_timeline = match (before, after) {
            (Some(b), Some(a)) => a.status != b.status && !a.status.is_active(),
            _ => true,
        };
        if on_timeline {
            writes.extend(timeline_writes(tenant, change.record(), at, change.entry)?);
        }
        if let Some(after) = after {
            writes.extend(assigned_writes(tenant, principal, before, after, at)?);
        }
        Ok(writes)
    }

    /// The survey a ticket resolved (or closed) just now sends, when the company asks for
    /// one: stored with the change, mailed once it is committed.
    async fn sends(
        &self,
        state: &AppState,
        principal: &Principal,
        change: &Change<'_, Ticket>,
    ) -> Result<(Vec<Write>, Option<Sequel>), Error> {
        let Some(ticket) = change.after else {
            return Ok((Vec::new(), None));
        };
        // Resolved (or closed) just now; a reopened ticket is resolved again without a
        // second survey (one per ticket).
        let resolved_now =
            !ticket.status.is_active() && change.before.is_none_or(|b| b.status.is_active());
        if !resolved_now {
            return Ok((Vec::new(), None));
        }
        let settings = super::settings::load(state, &principal.tenant).await?;
        if !settings.survey_after_resolve {
            return Ok((Vec::new(), None));
        }
        let Some(issued) = issue_for_ticket(state, &settings.survey, ticket, principal).await?
        else {
            return Ok((Vec::new(), None));
        };
        let writes = issued.writes(&principal.tenant)?;
        let (state, tenant) = (state.clone(), principal.tenant.clone());
        let mail: Sequel = Box::pin(async move { surveys::mail(&state, &tenant, &issued).await });
        Ok((writes, Some(mail)))
    }
}

fn not_found() -> Error {
    Error::NotFound("No ticket with this id.".into())
}

fn created_sk(ticket: &Ticket) -> String {
    let at = millis_key_of(&ticket.created_at).unwrap_or_default();
    format!("{at}#{}", ticket.id)
}

/// The stored item: the ticket in its owner's index, its status queue and its team's.
pub fn to_stored(tenant: &TenantId, ticket: &Ticket) -> Result<Item, Error> {
    engine::to_stored(tenant, &Tickets, ticket, None)
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

/// Stamps resolution and closing at `now` (cleared when a ticket is reopened).
fn settle_status(before: Option<&Ticket>, ticket: &mut Ticket, now: &str) {
    let was = before.map(|b| b.status);
    let now = now.to_owned();
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

pub(crate) async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Ticket, Error> {
    engine::load(state, principal, &Tickets, scope, id).await
}

/// `ticket` as the caller sees it: removed custom fields left out, field rules applied.
fn show(principal: &Principal, defs: &Definitions, ticket: Ticket) -> Result<View, Error> {
    engine::show(principal, &Tickets, defs, ticket, false)
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<View, Error> {
    engine::get(state, principal, &Tickets, id, false).await
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
