//! How a contact wants to be reached: preferred channel, language and contact times, and
//! their marketing consent per channel (each change stamped with when and from where).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::i18n::valid_locale;
use crate::validation::Errors;

/// The ways a business reaches a contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Phone,
    Wechat,
    Mail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// Days and a time range (`HH:MM`, the company's local time) a contact likes to be
/// reached in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct ContactTime {
    pub days: Vec<Weekday>,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Preferences {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// BCP 47, like `zh-CN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact_times: Vec<ContactTime>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    Granted,
    Denied,
    Unknown,
}

/// Consent for one channel as sent: the server stamps when it changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct ConsentInput {
    pub status: ConsentStatus,
    /// Where the consent was given or withdrawn (`web form`, `phone call`, ...).
    #[serde(default)]
    pub source: Option<String>,
}

/// Consent for one channel as kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub status: ConsentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// When the status (or source) last changed.
    pub updated_at: String,
}

crate::object_only!(ContactTime, Preferences, ConsentInput);

/// Most contact-time windows a contact may have.
pub const MAX_CONTACT_TIMES: usize = 7;

fn is_clock_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit)
        && text[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && text[3..].parse::<u8>().is_ok_and(|m| m < 60)
}

/// Reports every rule `preferences` breaks.
pub fn check_preferences(preferences: &Preferences, errors: &mut Errors) {
    if let Some(language) = &preferences.language
        && !valid_locale(language)
    {
        errors.add(
            "preferences.language",
            "must be a language tag like `en` or `zh-CN`",
        );
    }
    if preferences.contact_times.len() > MAX_CONTACT_TIMES {
        errors.add(
            "preferences.contact_times",
            format!("at most {MAX_CONTACT_TIMES} windows"),
        );
        return;
    }
    for (i, window) in preferences.contact_times.iter().enumerate() {
        let at = format!("preferences.contact_times[{i}]");
        if window.days.is_empty() || window.days.len() > 7 {
            errors.add(format!("{at}.days"), "must name 1 to 7 days");
        }
        for (field, value) in [("from", &window.from), ("to", &window.to)] {
            if !is_clock_time(value) {
                errors.add(format!("{at}.{field}"), "must be a time like 09:30");
            }
        }
        if is_clock_time(&window.from) && is_clock_time(&window.to) && window.from >= window.to {
            errors.add(format!("{at}.to"), "must be later than `from`");
        }
    }
}

/// Applies consent changes (`None` for a channel forgets it), stamping each channel whose
/// status or source changes with `now`.
pub fn apply_consent(
    consent: &mut BTreeMap<Channel, Consent>,
    changes: BTreeMap<Channel, Option<ConsentInput>>,
    now: &str,
    errors: &mut Errors,
) {
    for (channel, change) in changes {
        let Some(input) = change else {
            consent.remove(&channel);
            continue;
        };
        let field = format!(
            "consent.{}",
            serde_json::to_value(channel)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        );
        errors.opt_text(&format!("{field}.source"), input.source.as_deref(), 100);
        let source = input.source.map(|s| s.trim().to_owned());
        let unchanged = consent
            .get(&channel)
            .is_some_and(|c| c.status == input.status && c.source == source);
        if !unchanged {
            consent.insert(
                channel,
                Consent {
                    status: input.status,
                    source,
                    updated_at: now.to_owned(),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_times_need_real_clock_times_in_order() {
        let prefs: Preferences = serde_json::from_value(serde_json::json!({
            "language": "zh-CN",
            "contact_times": [
                {"days": ["mon", "tue"], "from": "09:00", "to": "18:00"},
                {"days": [], "from": "25:00", "to": "08:00"},
            ]
        }))
        .unwrap();
        let mut errors = Errors::new();
        check_preferences(&prefs, &mut errors);
        let fields: Vec<_> = errors
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "preferences.contact_times[1].days",
                "preferences.contact_times[1].from",
            ]
        );
    }

    #[test]
    fn consent_is_stamped_only_when_it_changes() {
        let mut consent = BTreeMap::new();
        let grant = |source: &str| {
            BTreeMap::from([(
                Channel::Email,
                Some(ConsentInput {
                    status: ConsentStatus::Granted,
                    source: Some(source.into()),
                }),
            )])
        };
        let mut errors = Errors::new();
        apply_consent(&mut consent, grant("web form"), "t1", &mut errors);
        apply_consent(&mut consent, grant("web form"), "t2", &mut errors);
        assert_eq!(consent[&Channel::Email].updated_at, "t1");
        apply_consent(&mut consent, grant("phone call"), "t3", &mut errors);
        assert_eq!(consent[&Channel::Email].updated_at, "t3");
        apply_consent(
            &mut consent,
            BTreeMap::from([(Channel::Email, None)]),
            "t4",
            &mut errors,
        );
        assert!(consent.is_empty() && errors.is_empty());
    }
}
