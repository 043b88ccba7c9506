//! `GET /v1/feedback/summary`: what customers said, over the surveys sent in a period
//! (so the response rate compares like with like): how many were sent and answered,
//! CSAT average, share of satisfied answers (4–5) and distribution, and NPS (promoters
//! minus detractors, in percent), overall and grouped by period, agent, team or
//! category. Callers see the surveys of the tickets their scope reaches.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, Time};

use super::{RESOURCE, Survey, SurveyKind, sent_pk};
use crate::AppState;
use crate::clock::millis_key;
use crate::error::Error;
use crate::policy::Action;
use crate::principal::Principal;
use crate::table::{Index, Query, SortKey, from_item};

/// Most surveys one summary reads; beyond it the answer says it is `truncated`.
pub const MAX_SURVEYS: usize = 50_000;
/// Longest period one summary covers.
const MAX_DAYS: i64 = 366;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    #[default]
    None,
    Period,
    Agent,
    Team,
    Category,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    #[default]
    Month,
}

/// `GET /v1/feedback/summary` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// First day (UTC, `YYYY-MM-DD`); 30 days before `to` when absent.
    pub from: Option<String>,
    /// Last day, included; today when absent.
    pub to: Option<String>,
    pub group_by: Option<GroupBy>,
    /// The buckets of `group_by=period`.
    pub period: Option<Period>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Csat {
    pub responses: u64,
    pub average: Option<f64>,
    /// Share of answers 4 or 5, in percent.
    pub satisfied_percent: Option<f64>,
    /// Answers per score, "1" to "5".
    pub distribution: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Nps {
    pub responses: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    /// Promoters minus detractors, in percent of responses (-100 to 100).
    pub score: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub sent: u64,
    pub responded: u64,
    /// Answered share of the surveys sent, in percent.
    pub response_rate_percent: Option<f64>,
    pub csat: Csat,
    pub nps: Nps,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    /// The period (`2026-11`, `2026-W48`, `2026-11-24`), user id, team id or category;
    /// `none` for surveys without one.
    pub key: String,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub overall: Stats,
    pub groups: Vec<Group>,
    /// More than [`MAX_SURVEYS`] surveys were sent in the period: only the first ones
    /// count.
    pub truncated: bool,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl Stats {
    fn add(&mut self, survey: &Survey) {
        self.sent += 1;
        let Some(score) = survey.score else {
            return;
        };
        self.responded += 1;
        match survey.kind {
            SurveyKind::Csat => {
                self.csat.responses += 1;
                *self.csat.distribution.entry(score.to_string()).or_default() += 1;
            }
            SurveyKind::Nps => {
                self.nps.responses += 1;
                match score {
                    9..=10 => self.nps.promoters += 1,
                    7..=8 => self.nps.passives += 1,
                    _ => self.nps.detractors += 1,
                }
            }
        }
    }

    fn finish(mut self) -> Self {
        if self.sent > 0 {
            self.response_rate_percent =
                Some(round1(100.0 * self.responded as f64 / self.sent as f64));
        }
        let n = self.csat.responses;
        if n > 0 {
            let total: u64 = self
                .csat
                .distribution
                .iter()
                .map(|(s, c)| s.parse::<u64>().unwrap_or(0) * c)
                .sum();
            let happy: u64 = ["4", "5"]
                .iter()
                .filter_map(|s| self.csat.distribution.get(*s))
                .sum();
            self.csat.average = Some((100.0 * total as f64 / n as f64).round() / 100.0);
            self.csat.satisfied_percent = Some(round1(100.0 * happy as f64 / n as f64));
        }
        for s in 1..=5 {
            self.csat.distribution.entry(s.to_string()).or_default();
        }
        let n = self.nps.responses;
        if n > 0 {
            let net = self.nps.promoters as f64 - self.nps.detractors as f64;
            self.nps.score = Some(round1(100.0 * net / n as f64));
        }
        self
    }
}

fn day(field: &str, text: &str) -> Result<Date, Error> {
    Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| Error::validation(field, "must be a date, YYYY-MM-DD"))
}

fn bucket(survey: &Survey, group_by: GroupBy, period: Period) -> String {
    let none = || "none".to_owned();
    match group_by {
        GroupBy::None => String::new(),
        GroupBy::Agent => survey.agent_id.clone().unwrap_or_else(none),
        GroupBy::Team => survey.team_id.clone().unwrap_or_else(none),
        GroupBy::Category => survey.category.clone().unwrap_or_else(none),
        GroupBy::Period => {
            let Ok(at) = OffsetDateTime::parse(
                &survey.sent_at,
                &time::format_description::well_known::Rfc3339,
            ) else {
                return none();
            };
            let d = at.date();
            match period {
                Period::Day => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
                Period::Week => {
                    let (year, week, _) = d.to_iso_week_date();
                    format!("{year:04}-W{week:02}")
                }
                Period::Month => format!("{:04}-{:02}", d.year(), u8::from(d.month())),
            }
        }
    }
}

pub async fn summary(
    state: &AppState,
    principal: &Principal,
    query: SummaryQuery,
) -> Result<Summary, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    let today = state.clock.now().date();
    let to = match &query.to {
        Some(t) => day("to", t)?,
        None => today,
    };
    let from = match &query.from {
        Some(f) => day("from", f)?,
        None => to
            .checked_sub(time::Duration::days(29))
            .ok_or_else(|| Error::validation("to", "is out of range"))?,
    };
    let after_to = to
        .checked_add(time::Duration::days(1))
        .ok_or_else(|| Error::validation("to", "is out of range"))?;
    if from > to {
        return Err(Error::validation("from", "must not be after to"));
    }
    if (to - from).whole_days() >= MAX_DAYS {
        return Err(Error::validation(
            "from",
            format!("a summary covers at most {MAX_DAYS} days"),
        ));
    }
    let group_by = query.group_by.unwrap_or_default();
    // Groups by a ticket's assignee, team or category tell them: not to a role that hides
    // (or masks) that field of tickets.
    principal.check_filters(
        RESOURCE,
        &[
            ("group_by", "assignee_id", group_by == GroupBy::Agent),
            ("group_by", "team_id", group_by == GroupBy::Team),
            ("group_by", "category", group_by == GroupBy::Category),
        ],
    )?;
    let period = query.period.unwrap_or_default();
    let low = millis_key(from.with_time(Time::MIDNIGHT).assume_utc());
    let high = millis_key(after_to.with_time(Time::MIDNIGHT).assume_utc());
    let mut overall = Stats::default();
    let mut groups: BTreeMap<String, Stats> = BTreeMap::new();
    let mut start = None;
    let mut read = 0;
    let mut truncated = false;
    loop {
        let page = state
            .table
            .query(
                &Query::partition(sent_pk(&principal.tenant))
                    .on(Index::Gsi2)
                    .sort_key(SortKey::Between(low.clone(), high.clone()))
                    .limit(500)
                    .start(start),
            )
            .await?;
        for item in page.items {
            read += 1;
            let survey: Survey = from_item(item)?;
            if !principal.reaches(scope, survey.owner()) {
                continue;
            }
            overall.add(&survey);
            if group_by != GroupBy::None {
                groups
                    .entry(bucket(&survey, group_by, period))
                    .or_default()
                    .add(&survey);
            }
        }
        start = page.next;
        if start.is_none() {
            break;
        }
        if read >= MAX_SURVEYS {
            truncated = true;
            break;
        }
    }
    Ok(Summary {
        from: from.to_string(),
        to: to.to_string(),
        overall: overall.finish(),
        groups: groups
            .into_iter()
            .map(|(key, stats)| Group {
                key,
                stats: stats.finish(),
            })
            .collect(),
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(kind: SurveyKind, score: Option<u8>) -> Survey {
        let mut s: Survey = serde_json::from_value(serde_json::json!({
            "id": "svy_1", "kind": "csat", "questions": [], "ticket_id": null,
            "contact_id": null, "agent_id": null, "team_id": null, "category": null,
            "sent_at": "2026-11-24T00:00:00Z", "expires_at": "2026-12-24T00:00:00Z",
            "responded_at": null, "score": null, "comment": null,
            "follow_up_task_id": null, "created_by": "usr_1", "version": 1
        }))
        .unwrap();
        s.kind = kind;
        s.score = score;
        s
    }

    #[test]
    fn nps_is_promoters_minus_detractors_and_csat_averages() {
        let mut stats = Stats::default();
        for score in [10, 9, 9, 8, 7, 6, 0] {
            stats.add(&answered(SurveyKind::Nps, Some(score)));
        }
        for score in [5, 4, 1] {
            stats.add(&answered(SurveyKind::Csat, Some(score)));
        }
        stats.add(&answered(SurveyKind::Csat, None));
        stats.add(&answered(SurveyKind::Csat, None));
        let stats = stats.finish();
        assert_eq!(stats.sent, 12);
        assert_eq!(stats.responded, 10);
        assert_eq!(stats.response_rate_percent, Some(83.3));
        // 3 promoters, 2 detractors of 7: (3 - 2) / 7 = 14.3 %.
        assert_eq!(stats.nps.score, Some(14.3));
        assert_eq!(
            (
                stats.nps.promoters,
                stats.nps.passives,
                stats.nps.detractors
            ),
            (3, 2, 2)
        );
        assert_eq!(stats.csat.average, Some(3.33));
        assert_eq!(stats.csat.satisfied_percent, Some(66.7));
        assert_eq!(stats.csat.distribution["2"], 0);
        assert_eq!(stats.csat.distribution["5"], 1);
    }
}
