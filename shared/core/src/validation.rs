//! Field-level validation: rules collect every problem of a request at once, each with the
//! path of the offending field, and become one 422 problem at the HTTP edge.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Path of the field, e.g. `emails[0].address`.
    pub field: String,
    pub message: String,
}

/// Collects field errors; `finish` turns them into `Err` if there are any.
#[derive(Clone, Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many errors were reported so far.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }

    /// Text of `min..=max` characters (after trimming), no control characters.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let len = value.trim().chars().count();
        if len < min {
            if min == 1 {
                self.add(field, "must not be empty");
            } else {
                self.add(field, format!("must be at least {min} characters"));
            }
        } else if len > max {
            self.add(field, format!("must be at most {max} characters"));
        } else if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            self.add(field, "must not contain control characters");
        } else if min > 0 && !has_visible(value) {
            self.add(
                field,
                "must contain a visible character, not only spaces or invisible ones",
            );
        }
    }

    /// An optional text: checked only when present.
    pub fn opt_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value {
            self.text(field, v, 1, max);
        }
    }

    /// An optional text of at most `max` characters, judged as sent, then trimmed.
    pub fn trimmed(&mut self, field: &str, value: &mut Option<String>, max: usize) {
        self.opt_text(field, value.as_deref(), max);
        if let Some(v) = value {
            *v = v.trim().to_owned();
        }
    }

    /// An ISO 4217 code of a currency in use (the `iso_currency` crate's list), upper case.
    pub fn currency(&mut self, field: &str, code: &str) {
        if !is_currency(code) {
            self.add(
                field,
                "must be the ISO 4217 code of a currency in use, like CNY or USD",
            );
        }
    }

    /// An optional ISO 3166-1 alpha-2 country code, stored upper case.
    pub fn country(&mut self, field: &str, value: &mut Option<String>) {
        if let Some(country) = value {
            *country = country.to_ascii_uppercase();
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                self.add(field, "must be an ISO 3166-1 alpha-2 code, like CN");
            }
        }
    }

    /// Tags: at most `max` (an over-long list is one error, its items not judged), each
    /// 1 to 50 characters, trimmed, none twice (compared case-insensitively).
    pub fn tags(&mut self, field: &str, tags: &mut Vec<String>, max: usize) {
        if tags.len() > max {
            self.add(field, format!("at most {max} tags"));
            tags.clear();
        }
        let mut seen = std::collections::HashSet::new();
        for (i, tag) in tags.iter_mut().enumerate() {
            self.text(&format!("{field}[{i}]"), tag, 1, 50);
            *tag = tag.trim().to_owned();
            if !seen.insert(tag.to_lowercase()) {
                self.add(format!("{field}[{i}]"), "appears twice");
            }
        }
    }

    /// A phone number as [`phone`](Self::phone) accepts it, then rewritten in E.164 (read
    /// in `region` unless it starts with `+` and a country code). A number libphonenumber's
    /// metadata does not know but whose country code and length are plausible is kept
    /// (the metadata lags behind real numbering plans): the answer is `true` then, for the
    /// caller to flag it unverified. Anything else is an error saying what is wrong.
    pub fn phone_e164(&mut self, field: &str, number: &mut String, region: &str) -> bool {
        let before = self.len();
        self.phone(field, number);
        if self.len() > before {
            return false;
        }
        match check_phone(number, region) {
            PhoneCheck::Valid(e164) => {
                *number = e164;
                false
            }
            PhoneCheck::Possible(e164) => {
                *number = e164;
                true
            }
            PhoneCheck::Invalid(why) => {
                self.add(field, why);
                false
            }
        }
    }

    /// An email address: `local@domain.tld`, the local part of letters, digits and
    /// `._%+-` (at most 64), the domain of dot-separated labels of letters, digits and `-`,
    /// at most 254 characters in all. Deliberately the practical subset every mail system
    /// delivers to; it is the `Email` pattern of `openapi.yaml`.
    pub fn email(&mut self, field: &str, value: &str) {
        if !is_email(value) {
            self.add(
                field,
                "must be a valid email address, like name@example.com",
            );
        }
    }

    /// An optional calendar date, `YYYY-MM-DD`.
    pub fn date(&mut self, field: &str, value: Option<&str>) {
        if value.is_some_and(|d| !is_date(d)) {
            self.add(field, "must be a date, YYYY-MM-DD");
        }
    }

    /// A phone number: 5 to 20 digits (E.164 allows 15; extensions take a few more), an
    /// optional leading `+`, and spaces, dashes, dots and parentheses; at most 32
    /// characters. It is the `Phone` pattern of `openapi.yaml`.
    pub fn phone(&mut self, field: &str, value: &str) {
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let allowed = value
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || " -().".contains(c) || (c == '+' && i == 0));
        if !allowed || !(5..=20).contains(&digits) || value.len() > 32 {
            self.add(
                field,
                "must be a phone number of 5 to 20 digits, like +86 21 5555 0100",
            );
        }
    }
}

/// Characters that show nothing although they are neither white space nor control
/// characters: soft hyphen, combining grapheme joiner, Arabic letter mark, Hangul fillers,
/// Khmer inherent vowels, Mongolian selectors and vowel separator, zero-width spaces and
/// joiners, direction marks and embeddings, word joiner and invisible operators,
/// Braille blank, variation selectors, the BOM, interlinear annotation marks, and (outside
/// the BMP) tag characters and variation selectors supplement. The BMP part is the list in
/// `openapi.yaml`'s `TextN` patterns; keep both alike.
pub const INVISIBLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{2800}', '\u{2800}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{E0000}', '\u{E007F}'),
    ('\u{E0100}', '\u{E01EF}'),
];

/// Whether `c` shows something: not white space (of any kind), not a control character,
/// not [`INVISIBLE`].
pub fn is_visible(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !INVISIBLE.iter().any(|&(a, b)| (a..=b).contains(&c))
}

/// Whether `text` has a character that shows: a name of zero-width spaces is no name.
pub fn has_visible(text: &str) -> bool {
    text.chars().any(is_visible)
}

/// How a phone number reads.
#[derive(Debug, PartialEq, Eq)]
pub enum PhoneCheck {
    /// A number of the plan libphonenumber's metadata describes, in E.164.
    Valid(String),
    /// A number the metadata does not know (yet), with a country code in use and a length
    /// numbers of that country have, in E.164.
    Possible(String),
    /// Not a phone number: what is wrong with it.
    Invalid(String),
}

/// Reads `number` (see [`PhoneCheck`]) as a number of `region` (ISO 3166-1 alpha-2),
/// unless it starts with `+` and a country code.
pub fn check_phone(number: &str, region: &str) -> PhoneCheck {
    use phonenumber::metadata::DATABASE;
    let international = number.trim_start().starts_with('+');
    let country = region.parse::<phonenumber::country::Id>().ok();
    let elsewhere = if international {
        ""
    } else {
        "; for a number of another country, start with + and its country code"
    };
    let parsed = match phonenumber::parse(if international { None } else { country }, number) {
        Ok(parsed) => parsed,
        Err(phonenumber::ParseError::InvalidCountryCode) if international => {
            return PhoneCheck::Invalid(
                "does not start with a country calling code in use after the +".into(),
            );
        }
        Err(_) if international => {
            return PhoneCheck::Invalid("is not a phone number (+, country code, number)".into());
        }
        Err(_) => {
            return PhoneCheck::Invalid(format!("is not a phone number in {region}{elsewhere}"));
        }
    };
    let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
    if phonenumber::is_valid(&parsed) {
        return PhoneCheck::Valid(e164);
    }
    let code = parsed.code().value();
    let Some(plans) = DATABASE.by_code(&code) else {
        return PhoneCheck::Invalid(format!(
            "has the country calling code +{code}, which no country uses"
        ));
    };
    // The lengths of every kind of number (fixed line, mobile, ...) the plans describe.
    let mut lengths: Vec<u16> = plans
        .iter()
        .flat_map(|m| {
            let d = m.descriptors();
            [
                Some(d.general()),
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ]
        })
        .flatten()
        .flat_map(|d| d.possible_length().iter().copied())
        .collect();
    lengths.sort_unstable();
    lengths.dedup();
    let digits = parsed.national().to_string().len() as u16;
    let whose = if international {
        format!("+{code}")
    } else {
        region.to_owned()
    };
    match (lengths.first(), lengths.last()) {
        _ if lengths.contains(&digits) => PhoneCheck::Possible(e164),
        (Some(&min), _) if digits < min => PhoneCheck::Invalid(format!(
            "is too short for a number of {whose}: {digits} digits after the country code, \
             at least {min} expected{elsewhere}"
        )),
        (_, Some(&max)) if digits > max => PhoneCheck::Invalid(format!(
            "is too long for a number of {whose}: {digits} digits after the country code, \
             at most {max} expected{elsewhere}"
        )),
        _ => PhoneCheck::Invalid(format!(
            "has {digits} digits after the country code, a length no number of {whose} has \
             ({}){elsewhere}",
            lengths
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// `number` in E.164 (`+8613800138000`), read as a number of `region` (ISO 3166-1
/// alpha-2) unless it starts with `+` and a country code; `None` if it is not a phone
/// number (valid or possible, see [`check_phone`]).
pub fn to_e164(number: &str, region: &str) -> Option<String> {
    match check_phone(number, region) {
        PhoneCheck::Valid(e164) | PhoneCheck::Possible(e164) => Some(e164),
        PhoneCheck::Invalid(_) => None,
    }
}

/// Whether `code` is the ISO 4217 code of a currency (`CNY`, `USD`, ...): upper case, and in
/// the `iso_currency` crate's list, less the codes that name no money (`XXX` "no
/// currency", `XTS` reserved for tests).
/// Whether `value` is a calendar date, `YYYY-MM-DD`.
pub fn is_date(value: &str) -> bool {
    time::Date::parse(
        value,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .is_ok()
}

pub fn is_currency(code: &str) -> bool {
    code.len() == 3
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && !matches!(code, "XXX" | "XTS")
        && iso_currency::Currency::from_code(code).is_some()
}

/// Whether `code` is a region phone numbers can be read in (`CN`, `GB`, ...).
pub fn is_region(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && code.parse::<phonenumber::country::Id>().is_ok()
}

pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    value.len() <= 254
        && (1..=64).contains(&local.len())
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b))
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Lowercases an email for storage and comparison (emails are not trimmed: one with
/// spaces is invalid, not silently repaired).
pub fn normalize_email(email: &str) -> String {
    email.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_error_with_its_field() {
        let mut e = Errors::new();
        e.text("name", "", 1, 10);
        e.email("email", "not-an-email");
        e.phone("phone", "12");
        e.phone("ok", "+86 (21) 5555-0100");
        e.email("fine", "a@example.com");
        e.email("fine too", "a.b+tag@mail-1.example.co");
        let errors = e.finish().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "email", "phone"]);
    }

    #[test]
    fn emails_outside_the_practical_subset_are_refused() {
        for bad in [
            " a@b.co", "a@b", "a@@b.co", "a@.b.co", "ü@b.co", "a b@c.co", "@b.co", "a@b..co",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn text_of_only_invisible_characters_is_empty() {
        for blank in [
            "\u{200B}\u{200B}",
            "\u{FEFF}",
            " \u{3000}\u{00A0}\u{2007}",
            "\u{2060}\u{200D}\u{180E}",
            "\u{E0041}\u{E0042}",
            "\u{3164}",
        ] {
            let mut e = Errors::new();
            e.text("name", blank, 1, 100);
            assert!(!e.is_empty(), "{blank:?}");
        }
        let mut e = Errors::new();
        e.text("name", "\u{200B}Ada\u{200B}", 1, 100);
        e.text("name", "👩\u{200D}🔬", 1, 100);
        assert!(e.is_empty());
    }

    #[test]
    fn currencies_are_iso_4217_codes_in_use() {
        for code in ["CNY", "USD", "EUR", "JPY", "HKD", "SGD", "GBP", "CHF"] {
            assert!(is_currency(code), "{code}");
        }
        for code in ["ABC", "XXX", "XTS", "usd", "US", "USDT", ""] {
            assert!(!is_currency(code), "{code}");
        }
    }

    #[test]
    fn text_counts_characters_not_bytes() {
        let mut e = Errors::new();
        e.text("name", "张三丰", 1, 3);
        assert!(e.is_empty());
        e.text("name", "张三丰李", 1, 3);
        assert!(!e.is_empty());
    }

    #[test]
    fn phone_numbers_become_e164_in_the_default_region_unless_they_name_theirs() {
        assert_eq!(
            to_e164("138 0013 8000", "CN").as_deref(),
            Some("+8613800138000")
        );
        assert_eq!(
            to_e164("+86 138-0013-8000", "GB").as_deref(),
            Some("+8613800138000")
        );
        assert_eq!(
            to_e164("020 7946 0000", "GB").as_deref(),
            Some("+442079460000")
        );
        assert_eq!(to_e164("12345", "CN"), None);
        // A number with its country code is read as such whatever the region (the
        // crate, given CN, read this one as +117).
        assert_eq!(
            check_phone("+1 212 200 1017", "CN"),
            PhoneCheck::Valid("+12122001017".into())
        );
        // Numbers the metadata does not know: possible, kept in E.164.
        assert_eq!(
            check_phone("+44 7700 900123", "CN"),
            PhoneCheck::Possible("+447700900123".into())
        );
        let PhoneCheck::Invalid(why) = check_phone("+86 10 1", "CN") else {
            panic!("too short")
        };
        assert!(why.contains("too short") && why.contains("+86") && !why.contains("start with +"));
        let PhoneCheck::Invalid(why) = check_phone("1234", "CN") else {
            panic!("too short")
        };
        assert!(why.contains("start with +"), "{why}");
        assert!(is_region("CN") && is_region("GB"));
        assert!(!is_region("cn") && !is_region("XX") && !is_region("CHN"));
    }
}
