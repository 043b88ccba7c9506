//! Feedback: satisfaction surveys (CSAT 1–5 or NPS 0–10, an optional comment, and the
//! tenant's own questions), sent when a ticket is resolved (a service setting) or handed
//! out as a link. Each survey is answered once, through a signed link that needs no
//! login; the answer attaches to the survey's contact (their timeline) and ticket, and
//! the lowest scores open a follow-up task. `summary` analyses them.

pub mod summary;

pub use crate::surveys::{
    About, Issued, MAX_QUESTIONS, PREFIX, Question, QuestionKind, Survey, SurveyKind, key,
    linked_pk, sent_pk, to_stored,
};
use crate::surveys::{RESOURCE, TOKEN_KIND, link_url, link_writes, new_survey};

/// Requests to the public survey endpoints per address (genuine respondents make two).
pub const PER_ADDRESS: Limit = Limit {
    max: 60,
    window_secs: 600,
};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppState;
use crate::audit::Entry;
use crate::auth::throttle::{self, Limit};
use crate::clock::rfc3339;
use crate::error::Error;
use crate::ids::{TenantId, is_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope};
use crate::principal::Principal;
use crate::principal::RequestMeta;
use crate::table::{Condition, Write, from_item};
use crate::tickets::{self, Ticket};
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::versioned::write_on_version;
use crate::{contacts, tasks, timeline};

/// The body of `POST /v1/surveys`: a survey about a ticket or for a contact, answered
/// through the link the response gives.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSurvey {
    pub ticket_id: Option<String>,
    pub contact_id: Option<String>,
    /// The tenant's survey kind when absent.
    pub kind: Option<SurveyKind>,
    /// Also mail the link to the contact.
    #[serde(default)]
    pub send_email: bool,
}

/// A new survey and its link.
#[derive(Debug, Serialize)]
pub struct SurveyLink {
    #[serde(flatten)]
    pub survey: Survey,
    pub url: String,
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewSurvey,
) -> Result<SurveyLink, Error> {
    principal.require(RESOURCE, Action::Update)?;
    let mut errors = Errors::new();
    let ticket = match &input.ticket_id {
        Some(id) => {
            let scope = principal.require(RESOURCE, Action::Read)?;
            match tickets::service::load(state, principal, scope, id).await {
                Ok(t) => Some(t),
                Err(Error::NotFound(_)) => {
                    errors.add("ticket_id", "is not a ticket you can see");
                    None
                }
                Err(e) => return Err(e),
            }
        }
        None => None,
    };
    if let Some(id) = &input.contact_id
        && contacts::service::get(state, principal, id, false)
            .await
            .is_err()
    {
        errors.add("contact_id", "is not a contact you can see");
    }
    if input.ticket_id.is_none() && input.contact_id.is_none() {
        errors.add("ticket_id", "give a ticket_id or a contact_id");
    }
    errors.finish().map_err(Error::Validation)?;
    let tenant = &principal.tenant;
    let settings = tickets::settings::load(state, tenant).await?;
    let now = state.clock.now();
    let survey = new_survey(
        &settings.survey,
        input.kind,
        ticket.as_ref().map(Ticket::about).as_ref(),
        input.contact_id,
        &principal.user_id,
        now,
    );
    let mail_to = match input.send_email {
        false => None,
        true => {
            tickets::comments::contact_email(state, principal, survey.contact_id.as_deref()).await
        }
    };
    if input.send_email && mail_to.is_none() {
        return Err(Error::validation(
            "send_email",
            "the contact has no email address",
        ));
    }
    let issued = Issued {
        url: link_url(state, tenant, &survey.id),
        survey,
        mail_to,
    };
    let mut writes = issued.writes(tenant)?;
    if let Some(t) = &ticket {
        // Not on a ticket deleted meanwhile.
        writes.push(Write::Check {
            key: tickets::key(tenant, &t.id),
            condition: Condition::Exists,
        });
    }
    state.table.transact(writes).await?;
    crate::surveys::mail(state, tenant, &issued).await;
    Ok(SurveyLink {
        survey: issued.survey,
        url: issued.url,
    })
}

fn not_found() -> Error {
    Error::NotFound("No survey with this id.".into())
}

async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Survey, Error> {
    let key = key(&principal.tenant, id);
    crate::records::load_owned(state, principal, scope, (PREFIX, id), key, not_found).await
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<Survey, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    load(state, principal, scope, id).await
}

/// `GET /v1/surveys` parameters: the surveys of one ticket or one contact.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub ticket_id: Option<String>,
    pub contact_id: Option<String>,
}

pub async fn list(
    state: &AppState,
    principal: &Principal,
    query: SurveyQuery,
) -> Result<ListPage<Survey>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    let tenant = &principal.tenant;
    let (resource, record) = match (&query.ticket_id, &query.contact_id) {
        (Some(t), None) => (tickets::RESOURCE, t),
        (None, Some(c)) => (contacts::service::RESOURCE, c),
        _ => {
            return Err(Error::validation(
                "ticket_id",
                "give one of ticket_id and contact_id",
            ));
        }
    };
    let params = ListParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let (data, next_cursor) = crate::records::linked_page(
        state,
        (linked_pk(tenant, resource, record), "survey_id"),
        &format!("{tenant}/surveys/{resource}/{record}"),
        &params,
        |id| async move { load(state, principal, scope, &id).await },
        |_| true,
    )
    .await?;
    Ok(ListPage { data, next_cursor })
}

/// What the public sees of a survey before answering.
#[derive(Debug, Serialize)]
pub struct PublicSurvey {
    pub company_name: String,
    pub kind: SurveyKind,
    /// The score's range.
    pub min_score: u8,
    pub max_score: u8,
    pub questions: Vec<Question>,
    pub ticket_number: Option<String>,
}

/// The body of `POST /v1/public/surveys/{token}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyResponse {
    pub score: u8,
    pub comment: Option<String>,
    #[serde(default)]
    pub answers: Map<String, Value>,
}

fn bad_link() -> Error {
    Error::NotFound("This survey link is not valid.".into())
}

/// The survey a link names, if its signature holds; every public request counts
/// against the address's limit first, so guessing links is slow.
async fn open(
    state: &AppState,
    token: &str,
    request: &RequestMeta,
) -> Result<(TenantId, Survey), Error> {
    throttle::attempt(
        state.table.as_ref(),
        &format!("survey-ip:{}", request.ip),
        PER_ADDRESS,
        state.clock.now().unix_timestamp(),
        "Too many survey requests from your address; try again later.",
    )
    .await?;
    if token.len() > 200 {
        return Err(bad_link());
    }
    let mut parts = token.rsplitn(2, '.');
    let (Some(tag), Some(text)) = (parts.next(), parts.next()) else {
        return Err(bad_link());
    };
    if !state.link_signer.check_tag("survey", text, tag) {
        return Err(bad_link());
    }
    let mut fields = text.split('.');
    let (Some(TOKEN_KIND), Some(tenant), Some(id), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(bad_link());
    };
    let tenant = TenantId::parse(tenant).ok_or_else(bad_link)?;
    if !is_id(PREFIX, id) {
        return Err(bad_link());
    }
    let survey: Survey = state
        .table
        .get(&key(&tenant, id))
        .await?
        .map(from_item)
        .transpose()?
        .ok_or_else(bad_link)?;
    // A suspended (or deleted) company takes no answers.
    let active = crate::directory::get_tenant(state.table.as_ref(), &tenant)
        .await?
        .is_some_and(|t| t.status == crate::directory::Status::Active);
    if !active {
        return Err(bad_link());
    }
    Ok((tenant, survey))
}

fn check_open(state: &AppState, survey: &Survey) -> Result<(), Error> {
    if survey.responded_at.is_some() {
        return Err(Error::conflict(
            "survey-answered",
            "This survey has been answered already; thank you.",
        ));
    }
    let expired =
        OffsetDateTime::parse(&survey.expires_at, &Rfc3339).is_ok_and(|at| state.clock.now() > at);
    if expired {
        return Err(Error::conflict(
            "survey-expired",
            "This survey link has expired.",
        ));
    }
    Ok(())
}

pub async fn show_public(
    state: &AppState,
    token: &str,
    request: RequestMeta,
) -> Result<PublicSurvey, Error> {
    let (tenant, survey) = open(state, token, &request).await?;
    check_open(state, &survey)?;
    let company_name = crate::directory::get_tenant(state.table.as_ref(), &tenant)
        .await?
        .map(|t| t.company_name)
        .unwrap_or_default();
    let ticket_number = match &survey.ticket_id {
        Some(id) => state
            .table
            .get(&tickets::key(&tenant, id))
            .await?
            .map(from_item::<Ticket>)
            .transpose()?
            .map(|t| t.number),
        None => None,
    };
    Ok(PublicSurvey {
        company_name,
        kind: survey.kind,
        min_score: *survey.kind.range().start(),
        max_score: *survey.kind.range().end(),
        questions: survey.questions,
        ticket_number,
    })
}

fn check_response(survey: &Survey, input: &mut SurveyResponse, errors: &mut Errors) {
    let range = survey.kind.range();
    if !range.contains(&input.score) {
        errors.add(
            "score",
            format!("must be {} to {}", range.start(), range.end()),
        );
    }
    errors.trimmed("comment", &mut input.comment, 2_000);
    for (id, answer) in &input.answers {
        let at = format!("answers.{id}");
        let Some(q) = survey.questions.iter().find(|q| q.id == *id) else {
            errors.add(at, "is not a question of this survey");
            continue;
        };
        let ok = match q.kind {
            QuestionKind::Text => answer.as_str().is_some_and(|t| t.chars().count() <= 2_000),
            QuestionKind::Scale => answer.as_u64().is_some_and(|n| (1..=5).contains(&n)),
            QuestionKind::YesNo => answer.is_boolean(),
        };
        if !ok {
            let rule = match q.kind {
                QuestionKind::Text => "must be a text of at most 2000 characters",
                QuestionKind::Scale => "must be a whole number from 1 to 5",
                QuestionKind::YesNo => "must be true or false",
            };
            errors.add(at, rule);
        }
    }
}

/// Records the answer to the survey a link names: once. In one transaction, on the
/// survey's version: the answer, the contact's timeline entry and, for a low score, the
/// follow-up task with its owner's notification.
pub async fn respond(
    state: &AppState,
    token: &str,
    request: RequestMeta,
    mut input: SurveyResponse,
) -> Result<(), Error> {
    let (tenant, first) = open(state, token, &request).await?;
    check_open(state, &first)?;
    let mut errors = Errors::new();
    check_response(&first, &mut input, &mut errors);
    errors.finish().map_err(Error::Validation)?;
    let system = Principal::system(tenant.clone(), "survey", request);
    write_on_version(&Precondition::Any, "survey", || async {
        let current: Survey = state
            .table
            .get(&key(&tenant, &first.id))
            .await?
            .map(from_item)
            .transpose()?
            .ok_or_else(bad_link)?;
        check_open(state, &current)?;
        let now = state.clock.now();
        let mut next = current.clone();
        next.responded_at = Some(rfc3339(now));
        next.score = Some(input.score);
        next.comment = input.comment.clone();
        next.answers = input.answers.clone();
        next.version = current.version + 1;
        let mut writes = Vec::new();
        if current.kind.is_low(input.score)
            && let Some(task) = follow_up(state, &tenant, &current, input.score, now).await?
        {
            next.follow_up_task_id = Some(task.id.clone());
            writes.extend(tasks::service::follow_up_writes(&tenant, &task, now)?);
        }
        let entry = Entry::by(&system, now, "survey.answered", RESOURCE, Some(&current.id))
            .with_changes(Some(&current), Some(&next));
        writes.insert(
            0,
            Write::Put {
                item: to_stored(&tenant, &next)?,
                condition: Condition::VersionIs(current.version),
            },
        );
        if let Some(contact) = &next.contact_id {
            let (kind, max) = match next.kind {
                SurveyKind::Csat => ("CSAT", 5),
                SurveyKind::Nps => ("NPS", 10),
            };
            let subject = format!("Feedback: {kind} {}/{max}", input.score);
            writes.push(timeline::related(&tenant, contact, now, &entry, &subject)?);
        }
        writes.extend(entry.writes(&tenant)?);
        Ok(state.table.transact(writes).await)
    })
    .await
}

/// The follow-up task of a low score, for the ticket's agent (or whoever sent the
/// survey), linked to the ticket and contact; none when neither is a user.
async fn follow_up(
    state: &AppState,
    tenant: &TenantId,
    survey: &Survey,
    score: u8,
    now: OffsetDateTime,
) -> Result<Option<tasks::Task>, Error> {
    let owner = [survey.agent_id.as_deref(), Some(survey.created_by.as_str())]
        .into_iter()
        .flatten()
        .find(|id| is_id(crate::ids::UserId::PREFIX, id));
    let Some(owner) = owner else {
        return Ok(None);
    };
    let ticket: Option<Ticket> = match &survey.ticket_id {
        Some(id) => state
            .table
            .get(&tickets::key(tenant, id))
            .await?
            .map(from_item)
            .transpose()?,
        None => None,
    };
    let about = ticket
        .as_ref()
        .map(|t| format!(" on {} {}", t.number, t.subject))
        .unwrap_or_default();
    let kind = match survey.kind {
        SurveyKind::Csat => "CSAT",
        SurveyKind::Nps => "NPS",
    };
    let mut task = tasks::Task::follow_up(
        owner,
        format!("Follow up: low feedback{about}"),
        format!("The customer answered the survey with {kind} {score}."),
        now,
    );
    task.ticket_id = ticket.map(|t| t.id);
    task.contact_id = survey.contact_id.clone();
    Ok(Some(task))
}

/// Moves every survey of contact `from` over to `to` (a merge).
pub async fn relink(
    state: &AppState,
    principal: &Principal,
    from: &str,
    to: &str,
) -> Result<usize, Error> {
    let tenant = &principal.tenant;
    let resource = contacts::service::RESOURCE;
    crate::records::relink_plain(
        state,
        principal,
        (linked_pk(tenant, resource, from), "survey_id"),
        (resource, from, to),
        (to_stored, link_writes),
    )
    .await
}
