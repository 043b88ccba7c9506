//! The tenant's service settings (`/v1/settings/service`): assignment rules, service
//! level targets per priority with optional business hours, the satisfaction survey
//! sent when a ticket is resolved, and the public web form's address. One item, changed
//! on its version; the web form's address is a global marker (so the public endpoint
//! finds the tenant), claimed in the same transaction.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

use crate::AppState;
use crate::audit::Entry;
use crate::error::Error;
use crate::ids::TenantId;
use crate::policy::Action;
use crate::principal::Principal;
use crate::surveys::SurveyTemplate;
use crate::table::{Condition, Key, TableError, Write, from_item, to_item};
use crate::tasks::Priority;
use crate::validation::Errors;
use crate::wire::present;

const RESOURCE: &str = "settings";
/// Most assignment rules.
pub const MAX_RULES: usize = 50;
/// Longest service level target: 90 days.
const MAX_MINUTES: u32 = 90 * 24 * 60;

/// Tickets matching `category` and `region` (each ignored when absent) go to `team_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRule {
    pub category: Option<String>,
    pub region: Option<String>,
    pub team_id: String,
}

/// The targets of one priority, in minutes (business minutes with business hours).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub first_response_minutes: Option<u32>,
    pub resolution_minutes: Option<u32>,
}

/// The hours service level targets count in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// The team's UTC offset, like `+08:00`.
    pub utc_offset: String,
    /// ISO weekdays worked: 1 Monday … 7 Sunday.
    pub days: Vec<u8>,
    /// `HH:MM`, local.
    pub start: String,
    pub end: String,
}

/// A parsed [`BusinessHours`].
#[derive(Clone, Copy, Debug)]
pub struct Hours {
    pub offset: UtcOffset,
    pub days: [bool; 7],
    pub start: time::Time,
    pub end: time::Time,
}

impl BusinessHours {
    pub fn parse(&self) -> Result<Hours, Vec<(&'static str, &'static str)>> {
        let mut problems = Vec::new();
        let offset = UtcOffset::parse(
            &self.utc_offset,
            time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]"),
        )
        .map_err(|_| problems.push(("utc_offset", "must be like +08:00 or -05:00")))
        .unwrap_or(UtcOffset::UTC);
        let hm = time::macros::format_description!("[hour]:[minute]");
        let start = time::Time::parse(&self.start, hm)
            .map_err(|_| problems.push(("start", "must be a time HH:MM")))
            .unwrap_or(time::Time::MIDNIGHT);
        let end = time::Time::parse(&self.end, hm)
            .map_err(|_| problems.push(("end", "must be a time HH:MM")))
            .unwrap_or(time::Time::MIDNIGHT);
        if problems.is_empty() && start >= end {
            problems.push(("end", "must be after start"));
        }
        let mut days = [false; 7];
        if self.days.is_empty() || self.days.len() > 7 {
            problems.push(("days", "must name 1 to 7 weekdays"));
        }
        for d in &self.days {
            match d {
                1..=7 => days[usize::from(*d) - 1] = true,
                _ => problems.push(("days", "weekdays are 1 (Monday) to 7 (Sunday)")),
            }
        }
        if problems.is_empty() {
            Ok(Hours {
                offset,
                days,
                start,
                end,
            })
        } else {
            Err(problems)
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSettings {
    #[serde(default)]
    pub assignment_rules: Vec<AssignmentRule>,
    /// Targets per priority; a priority without one has no targets.
    #[serde(default)]
    pub sla_policies: BTreeMap<Priority, Targets>,
    /// Targets count only these hours; around the clock when absent.
    pub business_hours: Option<BusinessHours>,
    /// Mail the survey to the ticket's contact when it is resolved.
    #[serde(default)]
    pub survey_after_resolve: bool,
    #[serde(default)]
    pub survey: SurveyTemplate,
    /// The public web form's address: `POST /v1/public/{slug}/tickets`; off when absent.
    pub web_form_slug: Option<String>,
    #[serde(default)]
    pub version: u64,
}

/// The body of `PATCH /v1/settings/service`: each member given replaces the setting.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettingsPatch {
    #[serde(default, deserialize_with = "not_null")]
    pub assignment_rules: Option<Vec<AssignmentRule>>,
    #[serde(default, deserialize_with = "not_null")]
    pub sla_policies: Option<BTreeMap<Priority, Targets>>,
    #[serde(default, deserialize_with = "present")]
    pub business_hours: Option<Option<BusinessHours>>,
    #[serde(default, deserialize_with = "not_null")]
    pub survey_after_resolve: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    pub survey: Option<SurveyTemplate>,
    #[serde(default, deserialize_with = "present")]
    pub web_form_slug: Option<Option<String>>,
}

/// A member that may be left out but, when sent, must not be `null`.
fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

fn key(tenant: &TenantId) -> Key {
    Key::new(tenant.pk("settings"), "service")
}

/// The global marker of a web form address.
pub fn slug_key(slug: &str) -> Key {
    Key::new("G#web-forms", slug)
}

/// The tenant's service settings (defaults until first changed).
pub async fn load(state: &AppState, tenant: &TenantId) -> Result<ServiceSettings, Error> {
    Ok(state
        .table
        .get(&key(tenant))
        .await?
        .map(from_item)
        .transpose()?
        .unwrap_or_default())
}

pub async fn get(state: &AppState, principal: &Principal) -> Result<ServiceSettings, Error> {
    principal.require(RESOURCE, Action::Read)?;
    load(state, &principal.tenant).await
}

fn valid_slug(slug: &str) -> bool {
    (3..=50).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        // The survey links live beside the forms.
        && slug != "surveys"
}

async fn check(
    state: &AppState,
    principal: &Principal,
    patch: &mut ServiceSettingsPatch,
) -> Result<(), Error> {
    let mut errors = Errors::new();
    if let Some(rules) = &mut patch.assignment_rules {
        if rules.len() > MAX_RULES {
            errors.add("assignment_rules", format!("at most {MAX_RULES} rules"));
            rules.clear();
        }
        let teams = crate::directory::teams(state.table.as_ref(), &principal.tenant).await?;
        for (i, rule) in rules.iter_mut().enumerate() {
            let at = format!("assignment_rules[{i}]");
            errors.trimmed(&format!("{at}.category"), &mut rule.category, 100);
            errors.country(&format!("{at}.region"), &mut rule.region);
            if !teams.iter().any(|t| t.id == rule.team_id) {
                errors.add(format!("{at}.team_id"), "is not a team of this company");
            }
        }
    }
    if let Some(policies) = &patch.sla_policies {
        for (priority, targets) in policies {
            let name = serde_json::to_value(priority)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            for (field, minutes) in [
                ("first_response_minutes", targets.first_response_minutes),
                ("resolution_minutes", targets.resolution_minutes),
            ] {
                if minutes.is_some_and(|m| !(1..=MAX_MINUTES).contains(&m)) {
                    errors.add(
                        format!("sla_policies.{name}.{field}"),
                        format!("must be 1 to {MAX_MINUTES} minutes"),
                    );
                }
            }
        }
    }
    if let Some(Some(hours)) = &patch.business_hours
        && let Err(problems) = hours.parse()
    {
        for (field, message) in problems {
            errors.add(format!("business_hours.{field}"), message);
        }
    }
    if let Some(survey) = &mut patch.survey {
        crate::surveys::check_questions(&mut survey.questions, &mut errors);
    }
    if let Some(Some(slug)) = &patch.web_form_slug
        && !valid_slug(slug)
    {
        errors.add(
            "web_form_slug",
            "must be 3 to 50 lower-case letters, digits and inner hyphens",
        );
    }
    errors.finish().map_err(Error::Validation)
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    mut patch: ServiceSettingsPatch,
) -> Result<ServiceSettings, Error> {
    principal.require(RESOURCE, Action::Update)?;
    check(state, principal, &mut patch).await?;
    let tenant = &principal.tenant;
    for _ in 0..5 {
        let current = load(state, tenant).await?;
        let mut next = current.clone();
        if let Some(v) = &patch.assignment_rules {
            next.assignment_rules = v.clone();
        }
        if let Some(v) = &patch.sla_policies {
            next.sla_policies = v.clone();
        }
        if let Some(v) = &patch.business_hours {
            next.business_hours = v.clone();
        }
        if let Some(v) = patch.survey_after_resolve {
            next.survey_after_resolve = v;
        }
        if let Some(v) = &patch.survey {
            next.survey = v.clone();
        }
        if let Some(v) = &patch.web_form_slug {
            next.web_form_slug = v.clone();
        }
        if next == current {
            return Ok(current);
        }
        next.version = current.version + 1;
        let now = state.clock.now();
        let entry = Entry::by(
            principal,
            now,
            "settings.service_updated",
            RESOURCE,
            Some(tenant.as_str()),
        )
        .with_changes(Some(&current), Some(&next));
        let mut writes = vec![Write::Put {
            item: to_item(&key(tenant), &next)?,
            condition: Condition::at_version(current.version),
        }];
        let slug_changed = next.web_form_slug != current.web_form_slug;
        if slug_changed && let Some(slug) = &next.web_form_slug {
            writes.push(Write::Put {
                item: to_item(
                    &slug_key(slug),
                    &serde_json::json!({ "tenant": tenant.as_str() }),
                )?,
                condition: Condition::NotExists,
            });
        }
        if slug_changed && let Some(old) = &current.web_form_slug {
            writes.push(Write::Delete {
                key: slug_key(old),
                condition: Condition::None,
            });
        }
        writes.extend(entry.writes(tenant)?);
        match state.table.transact(writes).await {
            Ok(()) => return Ok(next),
            Err(TableError::ConditionFailed { index: Some(1) }) if slug_changed => {
                return Err(Error::conflict(
                    "web-form-slug-taken",
                    "Another company's web form has this address; choose another.",
                ));
            }
            Err(TableError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(
        "concurrent-modification",
        "The settings are being changed by other requests; please retry.",
    ))
}

/// The moment `minutes` of counted time after `from`: plain minutes, or business
/// minutes within `hours`.
pub fn due_after(from: OffsetDateTime, minutes: u32, hours: Option<&Hours>) -> OffsetDateTime {
    let Some(hours) = hours else {
        return from + time::Duration::minutes(i64::from(minutes));
    };
    let mut left = time::Duration::minutes(i64::from(minutes));
    let mut at = from.to_offset(hours.offset);
    // Any 7 days from any moment hold the same business time: skip whole weeks, then
    // walk the days (at most a week and a day of passes).
    let daily = hours.end - hours.start;
    let weekly = daily * hours.days.iter().filter(|d| **d).count() as i32;
    if weekly > time::Duration::ZERO && left > weekly {
        let weeks =
            ((left - time::Duration::MINUTE).whole_minutes() / weekly.whole_minutes()) as i32;
        at += time::Duration::weeks(i64::from(weeks));
        left -= weekly * weeks;
    }
    for _ in 0..16 {
        let weekday = usize::from(at.weekday().number_from_monday()) - 1;
        if hours.days[weekday] && at.time() < hours.end {
            if at.time() < hours.start {
                at = at.replace_time(hours.start);
            }
            let open = at.replace_time(hours.end) - at;
            if left <= open {
                return (at + left).to_offset(time::UtcOffset::UTC);
            }
            left -= open;
        }
        at = (at.replace_time(time::Time::MIDNIGHT) + time::Duration::days(1))
            .replace_time(hours.start);
    }
    at.to_offset(time::UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn hours() -> Hours {
        BusinessHours {
            utc_offset: "+08:00".into(),
            days: vec![1, 2, 3, 4, 5],
            start: "09:00".into(),
            end: "18:00".into(),
        }
        .parse()
        .expect("valid hours")
    }

    #[test]
    fn plain_minutes_without_business_hours() {
        let from = datetime!(2026-11-27 17:00 UTC);
        assert_eq!(due_after(from, 90, None), datetime!(2026-11-27 18:30 UTC));
    }

    #[test]
    fn business_minutes_skip_nights_and_weekends() {
        // Friday 17:00 in +08:00; two business hours: one on Friday, one on Monday.
        let from = datetime!(2026-11-27 17:00 +08:00);
        assert_eq!(
            due_after(from, 120, Some(&hours())),
            datetime!(2026-11-30 10:00 +08:00)
        );
        // Saturday night starts Monday at nine.
        let from = datetime!(2026-11-28 23:00 +08:00);
        assert_eq!(
            due_after(from, 30, Some(&hours())),
            datetime!(2026-11-30 09:30 +08:00)
        );
        // Early morning on a workday waits for the start.
        let from = datetime!(2026-11-24 06:00 +08:00);
        assert_eq!(
            due_after(from, 60, Some(&hours())),
            datetime!(2026-11-24 10:00 +08:00)
        );
    }

    #[test]
    fn long_targets_in_short_hours_are_counted_in_full() {
        // One hour on Mondays: 2,160 hours of targets are 2,160 Mondays away.
        let hours = BusinessHours {
            utc_offset: "+00:00".into(),
            days: vec![1],
            start: "09:00".into(),
            end: "10:00".into(),
        }
        .parse()
        .expect("valid hours");
        let monday = datetime!(2026-11-23 09:00 UTC);
        let due = due_after(monday, MAX_MINUTES, Some(&hours));
        assert_eq!(
            due,
            monday + time::Duration::weeks(2159) + time::Duration::hours(1)
        );
        // The walk agrees with the skip for every length around a week boundary.
        for minutes in [59, 60, 61, 119, 120, 121] {
            let due = due_after(monday, minutes, Some(&hours));
            let weeks = (minutes - 1) / 60;
            let rest = minutes - 60 * weeks;
            assert_eq!(
                due,
                monday
                    + time::Duration::weeks(i64::from(weeks))
                    + time::Duration::minutes(i64::from(rest)),
                "{minutes} minutes"
            );
        }
    }

    #[test]
    fn bad_hours_name_each_problem() {
        let bad = BusinessHours {
            utc_offset: "8".into(),
            days: vec![0, 8],
            start: "18:00".into(),
            end: "9am".into(),
        };
        let problems = bad.parse().expect_err("invalid");
        let fields: Vec<_> = problems.iter().map(|p| p.0).collect();
        assert!(fields.contains(&"utc_offset"));
        assert!(fields.contains(&"end"));
        assert!(fields.contains(&"days"));
    }
}
