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
#[derive(Debug, Default)]
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
    /// in `region` unless it starts with `+` and a country code); an invalid number is an
    /// error.
    pub fn phone_e164(&mut self, field: &str, number: &mut String, region: &str) {
        let before = self.len();
        self.phone(field, number);
        if self.len() > before {
            return;
        }
        match to_e164(number, region) {
            Some(e164) => *number = e164,
            None => self.add(
                field,
                format!(
                    "is not a valid phone number in {region}; for another country, start with \
                     + and its code"
                ),
            ),
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

/// See [`Errors::email`].
/// `number` in E.164 (`+8613800138000`), read as a number of `region` (ISO 3166-1
/// alpha-2) unless it starts with `+` and a country code; `None` if it is not a valid
/// number (by libphonenumber's metadata).
pub fn to_e164(number: &str, region: &str) -> Option<String> {
    let country = region.parse::<phonenumber::country::Id>().ok();
    let parsed = phonenumber::parse(country, number).ok()?;
    phonenumber::is_valid(&parsed)
        .then(|| parsed.format().mode(phonenumber::Mode::E164).to_string())
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
        assert!(is_region("CN") && is_region("GB"));
        assert!(!is_region("cn") && !is_region("XX") && !is_region("CHN"));
    }
}
