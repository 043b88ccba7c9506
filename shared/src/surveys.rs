//! Satisfaction surveys as records: their kinds and questions, how one is stored, linked
//! and signed, and how one is issued and mailed. The service area sends one when a ticket
//! is resolved; `crate::feedback` (above it) hands them out, takes the answers and
//! analyses them. Both build on this module, so neither imports the other.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppState;
use crate::audit::Entry;
use crate::clock::{millis_key_of, rfc3339};
use crate::error::Error;
use crate::i18n::Lang;
use crate::ids::{TenantId, new_id};
use crate::mail::Mail;
use crate::table::{Condition, Item, Key, Write, to_item};
use crate::validation::Errors;

pub const PREFIX: &str = crate::ids::SurveyId::PREFIX;
/// Surveys are part of the service work: they are granted with tickets.
pub const RESOURCE: &str = "tickets";
/// How long a survey link can be answered.
pub const VALID_DAYS: i64 = 30;
/// Most custom questions in a survey.
pub const MAX_QUESTIONS: usize = 10;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyKind {
    /// Customer satisfaction, 1 (very unhappy) to 5 (very happy).
    #[default]
    Csat,
    /// Net promoter score: how likely to recommend us, 0 to 10.
    Nps,
}

impl SurveyKind {
    pub fn range(self) -> std::ops::RangeInclusive<u8> {
        match self {
            SurveyKind::Csat => 1..=5,
            SurveyKind::Nps => 0..=10,
        }
    }

    /// The scores that open a follow-up task: CSAT 1–2, NPS detractors (0–6).
    pub fn is_low(self, score: u8) -> bool {
        match self {
            SurveyKind::Csat => score <= 2,
            SurveyKind::Nps => score <= 6,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// Free text, up to 2,000 characters.
    #[default]
    Text,
    /// 1 to 5.
    Scale,
    YesNo,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The key of its answer: 1 to 40 lower-case letters, digits and `_`.
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub kind: QuestionKind,
}

/// Checks custom questions (reported under `survey.questions`).
pub fn check_questions(questions: &mut [Question], errors: &mut Errors) {
    if questions.len() > MAX_QUESTIONS {
        errors.add(
            "survey.questions",
            format!("at most {MAX_QUESTIONS} questions"),
        );
        return;
    }
    for (i, q) in questions.iter_mut().enumerate() {
        let at = format!("survey.questions[{i}]");
        let valid_id = (1..=40).contains(&q.id.len())
            && q.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid_id {
            errors.add(
                format!("{at}.id"),
                "must be 1 to 40 lower-case letters, digits and _",
            );
        }
        errors.text(&format!("{at}.text"), &q.text, 1, 300);
        q.text = q.text.trim().to_owned();
    }
    for (i, q) in questions.iter().enumerate() {
        if questions[..i].iter().any(|o| o.id == q.id) {
            errors.add(format!("survey.questions[{i}].id"), "appears twice");
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Survey {
    pub id: String,
    pub kind: SurveyKind,
    pub questions: Vec<Question>,
    pub ticket_id: Option<String>,
    pub contact_id: Option<String>,
    /// The ticket's assignee, team and category when it was sent (for the analysis).
    pub agent_id: Option<String>,
    pub team_id: Option<String>,
    pub category: Option<String>,
    pub sent_at: String,
    pub expires_at: String,
    pub responded_at: Option<String>,
    pub score: Option<u8>,
    pub comment: Option<String>,
    #[serde(default)]
    pub answers: Map<String, Value>,
    /// The task a low score opened.
    pub follow_up_task_id: Option<String>,
    pub created_by: String,
    pub version: u64,
}

impl Survey {
    /// Who it counts for in record scope: the agent, or whoever sent it.
    pub fn owner(&self) -> &str {
        self.agent_id.as_deref().unwrap_or(&self.created_by)
    }
}

impl crate::records::Owned for Survey {
    fn owner_id(&self) -> &str {
        self.owner()
    }
}

impl crate::records::Relinked for Survey {
    const NOUN: &'static str = "survey";
    const RESOURCE: &'static str = RESOURCE;

    fn key(tenant: &TenantId, id: &str) -> Key {
        key(tenant, id)
    }

    fn link_mut(&mut self, resource: &str) -> Option<&mut Option<String>> {
        (resource == "contacts").then_some(&mut self.contact_id)
    }

    fn bump(&mut self, _now: String) {
        self.version += 1;
    }

    fn version(&self) -> u64 {
        self.version
    }
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk("surveys"), id)
}

/// Index-2 partition of the surveys by the time they were sent (the analysis reads it).
pub fn sent_pk(tenant: &TenantId) -> String {
    tenant.pk("surveys#sent")
}

/// The partition of the survey links of a ticket or contact.
pub fn linked_pk(tenant: &TenantId, resource: &str, record_id: &str) -> String {
    tenant.pk(&format!("surveys#{resource}#{record_id}"))
}

pub fn to_stored(tenant: &TenantId, survey: &Survey) -> Result<Item, Error> {
    let mut item = to_item(&key(tenant, &survey.id), survey)?;
    let sent = millis_key_of(&survey.sent_at).unwrap_or_default();
    item.insert("gsi2pk".into(), sent_pk(tenant).into());
    item.insert("gsi2sk".into(), format!("{sent}#{}", survey.id).into());
    Ok(item)
}

fn links(survey: &Survey) -> Vec<(&'static str, &str)> {
    [
        (RESOURCE, survey.ticket_id.as_deref()),
        (
            crate::contacts::service::RESOURCE,
            survey.contact_id.as_deref(),
        ),
    ]
    .into_iter()
    .filter_map(|(r, id)| id.map(|id| (r, id)))
    .collect()
}

pub fn link_writes(
    tenant: &TenantId,
    before: Option<&Survey>,
    after: Option<&Survey>,
) -> Result<Vec<Write>, Error> {
    let id = after.or(before).map_or("", |s| s.id.as_str());
    crate::records::link_writes(
        |resource, record| linked_pk(tenant, resource, record),
        ("survey_id", id),
        &before.map(links).unwrap_or_default(),
        &after.map(links).unwrap_or_default(),
    )
}

/// The satisfaction survey tickets get.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyTemplate {
    pub kind: SurveyKind,
    /// Asked after the score.
    #[serde(default)]
    pub questions: Vec<Question>,
}

impl Default for SurveyTemplate {
    fn default() -> Self {
        Self {
            kind: SurveyKind::Csat,
            questions: Vec::new(),
        }
    }
}

/// What a survey about a ticket records of it when it is sent (for the analysis).
#[derive(Clone, Debug, Default)]
pub struct About {
    pub ticket_id: String,
    pub contact_id: Option<String>,
    pub agent_id: Option<String>,
    pub team_id: Option<String>,
    pub category: Option<String>,
}

/// The token of the link that answers `survey`: `svy.<tenant>.<survey id>.<tag>`, the
/// tag an HMAC of the rest under the deployment's link key. Nothing secret is stored;
/// the survey's own version makes it single-use.
pub fn token(state: &AppState, tenant: &TenantId, survey_id: &str) -> String {
    let text = format!("{TOKEN_KIND}.{tenant}.{survey_id}");
    let tag = state.link_signer.tag("survey", &text);
    format!("{text}.{tag}")
}

pub const TOKEN_KIND: &str = "svy";

/// A survey made and not yet stored: its writes go in the transaction of what sent it.
#[derive(Clone, Debug)]
pub struct Issued {
    pub survey: Survey,
    /// The answer link (shown once; only its signature proves it).
    pub url: String,
    /// Where it is mailed, if anywhere.
    pub mail_to: Option<String>,
}

impl Issued {
    /// The survey, its links and its audit entry.
    pub fn writes(&self, tenant: &TenantId) -> Result<Vec<Write>, Error> {
        let survey = &self.survey;
        let at =
            OffsetDateTime::parse(&survey.sent_at, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let entry = Entry::system(at, "survey.sent", RESOURCE, Some(&survey.id))
            .with_changes(None, Some(survey));
        let mut writes = vec![Write::Put {
            item: to_stored(tenant, survey)?,
            condition: Condition::NotExists,
        }];
        writes.extend(link_writes(tenant, None, Some(survey))?);
        writes.extend(entry.writes(tenant)?);
        Ok(writes)
    }
}

pub fn new_survey(
    template: &SurveyTemplate,
    kind: Option<SurveyKind>,
    ticket: Option<&About>,
    contact_id: Option<String>,
    created_by: &str,
    now: OffsetDateTime,
) -> Survey {
    Survey {
        id: new_id(PREFIX),
        kind: kind.unwrap_or(template.kind),
        questions: template.questions.clone(),
        ticket_id: ticket.map(|t| t.ticket_id.clone()),
        contact_id: contact_id.or_else(|| ticket.and_then(|t| t.contact_id.clone())),
        agent_id: ticket.and_then(|t| t.agent_id.clone()),
        team_id: ticket.and_then(|t| t.team_id.clone()),
        category: ticket.and_then(|t| t.category.clone()),
        sent_at: rfc3339(now),
        expires_at: rfc3339(now + time::Duration::days(VALID_DAYS)),
        responded_at: None,
        score: None,
        comment: None,
        answers: Map::new(),
        follow_up_task_id: None,
        created_by: created_by.to_owned(),
        version: 1,
    }
}

pub fn link_url(state: &AppState, tenant: &TenantId, survey_id: &str) -> String {
    format!(
        "{}/v1/public/surveys/{}",
        state.config.public_url,
        token(state, tenant, survey_id)
    )
}

/// Mails an issued survey's link (after its transaction committed); a failure is logged.
pub async fn mail(state: &AppState, tenant: &TenantId, issued: &Issued) {
    let Some(to) = &issued.mail_to else {
        return;
    };
    let tenant = crate::directory::get_tenant(state.table.as_ref(), tenant)
        .await
        .ok()
        .flatten();
    // The customer has no account: the mail speaks the company's language.
    let lang = Lang::of_locale(tenant.as_ref().map_or("en", |t| t.locale.as_str()));
    let company = tenant.map(|t| t.company_name).unwrap_or_default();
    let question = match (issued.survey.kind, lang) {
        (SurveyKind::Csat, Lang::En) => "How satisfied are you with our help (1 to 5)?",
        (SurveyKind::Csat, Lang::Zh) => "您对我们的服务满意吗（1 到 5 分）？",
        (SurveyKind::Nps, Lang::En) => "How likely are you to recommend us to a friend (0 to 10)?",
        (SurveyKind::Nps, Lang::Zh) => "您有多大可能向朋友推荐我们（0 到 10 分）？",
    };
    let mail = Mail {
        to: to.clone(),
        subject: match lang {
            Lang::En => format!("{company}: how did we do?"),
            Lang::Zh => format!("{company}：请评价我们的服务"),
        },
        text: format!(
            "{question}\n\n{}{}\n",
            lang.pick("Answer here: ", "在此作答："),
            issued.url
        ),
    };
    if let Err(e) = state.mailer.send(&mail).await {
        tracing::warn!(error = %e, survey_id = %issued.survey.id, "survey not mailed");
    }
}
