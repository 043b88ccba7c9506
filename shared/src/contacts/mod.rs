//! Contacts: the people a business deals with. This module holds the record, the rules a
//! write must satisfy, where contacts live in the table, and the service the HTTP
//! function calls (permission and scope checks included).

pub mod duplicates;
pub mod merge;
pub mod preferences;
pub mod sensitive;
pub mod service;

pub use preferences::{Channel, Consent, ConsentInput, Preferences};
use preferences::{apply_consent, check_preferences};

use serde::{Deserialize, Serialize};

use crate::wire::present;
use std::collections::BTreeMap;

use crate::ids::TenantId;
use crate::policy::FieldSpec;
use crate::table::Key;
use crate::validation::{Errors, normalize_email};

pub const PREFIX: &str = crate::ids::ContactId::PREFIX;
pub const RESOURCE: &str = "contacts";
pub const MAX_EMAILS: usize = 10;
pub const MAX_PHONES: usize = 10;
pub const MAX_TAGS: usize = 50;

/// The fields role rules can restrict (identity and bookkeeping fields cannot be).
pub const FIELDS: &[FieldSpec] = crate::policy::fields::CONTACTS;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Email {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Phone {
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Set by the server (what a client sends is replaced): the number has a country code
    /// in use and a plausible length, but libphonenumber's metadata does not know it (it
    /// lags behind numbering plans). Kept as given, in E.164, rather than refused.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unverified: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

crate::object_only!(Email, Phone, Address);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStage {
    Subscriber,
    #[default]
    Lead,
    MarketingQualified,
    SalesQualified,
    Opportunity,
    Customer,
    Evangelist,
    Other,
}

/// A contact as stored and as returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub emails: Vec<Email>,
    pub phones: Vec<Phone>,
    pub company_name: Option<String>,
    /// The company the contact belongs to, if any.
    #[serde(default)]
    pub company_id: Option<String>,
    pub title: Option<String>,
    pub address: Option<Address>,
    pub tags: Vec<String>,
    pub owner_id: String,
    pub lifecycle_stage: LifecycleStage,
    pub source: Option<String>,
    pub notes: Option<String>,
    /// Sensitive (stored sealed, shown masked): see [`sensitive`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_account: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    #[serde(default)]
    pub preferences: Preferences,
    /// Marketing consent per channel.
    #[serde(default)]
    pub consent: BTreeMap<Channel, Consent>,
    /// Values of the tenant's custom fields, by key.
    #[serde(default)]
    pub custom: serde_json::Map<String, serde_json::Value>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// The names of the [`FIELDS`] flagged in `flags` (given in the order of `FIELDS`).
fn sent(flags: [bool; FIELDS.len()]) -> Vec<&'static str> {
    FIELDS
        .iter()
        .zip(flags)
        .filter(|(_, set)| *set)
        .map(|(f, _)| f.name)
        .collect()
}

impl Contact {
    /// Whether the contact holds any sensitive value (which needs the data key).
    pub fn has_sensitive(&self) -> bool {
        self.national_id.is_some()
            || self.card_number.is_some()
            || self.bank_account.is_some()
            || self.date_of_birth.is_some()
    }
}

impl crate::search::Indexed for Contact {
    fn resource(&self) -> std::borrow::Cow<'_, str> {
        RESOURCE.into()
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn owner_id(&self) -> &str {
        &self.owner_id
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }

    /// Whole emails and numbers first (exact lookups rely on them), then names, then the
    /// parts of emails and numbers.
    fn terms(&self) -> crate::search::Terms {
        let mut terms = crate::search::Terms::new();
        for email in &self.emails {
            terms.exact("emails", &email.address);
        }
        for phone in &self.phones {
            terms.exact("phones", &crate::terms::phone_term(&phone.number));
        }
        terms.text("name", &self.name);
        if let Some(company) = &self.company_name {
            terms.text("company_name", company);
        }
        for email in &self.emails {
            terms.email("emails", &email.address);
        }
        for phone in &self.phones {
            terms.phone("phones", &phone.number);
        }
        terms.custom(&self.custom);
        terms
    }
}

/// The body of `POST /v1/contacts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    pub name: String,
    #[serde(default)]
    pub emails: Vec<Email>,
    #[serde(default)]
    pub phones: Vec<Phone>,
    pub company_name: Option<String>,
    pub title: Option<String>,
    pub address: Option<Address>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub owner_id: Option<String>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub source: Option<String>,
    pub notes: Option<String>,
    pub national_id: Option<String>,
    pub card_number: Option<String>,
    pub bank_account: Option<String>,
    pub date_of_birth: Option<String>,
    pub preferences: Option<Preferences>,
    pub consent: Option<BTreeMap<Channel, ConsentInput>>,
    pub company_id: Option<String>,
    pub custom: Option<serde_json::Map<String, serde_json::Value>>,
}

impl NewContact {
    /// The fields this body sets (for role field rules).
    pub fn fields_sent(&self) -> Vec<&'static str> {
        sent([
            true,
            !self.emails.is_empty(),
            !self.phones.is_empty(),
            self.company_name.is_some(),
            self.title.is_some(),
            self.address.is_some(),
            !self.tags.is_empty(),
            self.owner_id.is_some(),
            self.lifecycle_stage.is_some(),
            self.source.is_some(),
            self.notes.is_some(),
            self.national_id.is_some(),
            self.card_number.is_some(),
            self.bank_account.is_some(),
            self.date_of_birth.is_some(),
            self.preferences.is_some(),
            self.consent.is_some(),
            self.company_id.is_some(),
            self.custom.is_some(),
        ])
    }
}

/// The body of `PATCH /v1/contacts/{id}` (JSON merge patch): an absent field is left
/// alone, `null` clears an optional field or empties a list, a value replaces.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub emails: Option<Option<Vec<Email>>>,
    #[serde(default, deserialize_with = "present")]
    pub phones: Option<Option<Vec<Phone>>>,
    #[serde(default, deserialize_with = "present")]
    pub company_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub address: Option<Option<Address>>,
    #[serde(default, deserialize_with = "present")]
    pub tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    pub owner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub lifecycle_stage: Option<Option<LifecycleStage>>,
    #[serde(default, deserialize_with = "present")]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub national_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub card_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub bank_account: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub date_of_birth: Option<Option<String>>,
    /// Replaces the preferences (`null` clears them).
    #[serde(default, deserialize_with = "present")]
    pub preferences: Option<Option<Preferences>>,
    /// Changes consent channel by channel (`null` for a channel forgets it; `null` for
    /// the whole clears every channel).
    #[serde(default, deserialize_with = "present")]
    pub consent: Option<Option<BTreeMap<Channel, Option<ConsentInput>>>>,
    /// Links the contact to a company (`null` unlinks it).
    #[serde(default, deserialize_with = "present")]
    pub company_id: Option<Option<String>>,
    /// Changes custom values key by key (`null` for a key clears it; `null` for the
    /// whole clears every one).
    #[serde(default, deserialize_with = "present")]
    pub custom: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

impl ContactPatch {
    /// The fields this patch touches (for role field rules).
    pub fn fields_sent(&self) -> Vec<&'static str> {
        sent([
            self.name.is_some(),
            self.emails.is_some(),
            self.phones.is_some(),
            self.company_name.is_some(),
            self.title.is_some(),
            self.address.is_some(),
            self.tags.is_some(),
            self.owner_id.is_some(),
            self.lifecycle_stage.is_some(),
            self.source.is_some(),
            self.notes.is_some(),
            self.national_id.is_some(),
            self.card_number.is_some(),
            self.bank_account.is_some(),
            self.date_of_birth.is_some(),
            self.preferences.is_some(),
            self.consent.is_some(),
            self.company_id.is_some(),
            self.custom.is_some(),
        ])
    }

    /// Applies the patch to `contact` (consent changes stamped `now`); fields that cannot
    /// be cleared report an error.
    pub fn apply(self, contact: &mut Contact, now: &str, errors: &mut Errors) {
        if let Some(name) = self.name {
            match name {
                Some(name) => contact.name = name,
                None => errors.add("name", "cannot be removed"),
            }
        }
        if let Some(v) = self.emails {
            contact.emails = v.unwrap_or_default();
        }
        if let Some(v) = self.phones {
            contact.phones = v.unwrap_or_default();
        }
        if let Some(v) = self.company_name {
            contact.company_name = v;
        }
        if let Some(v) = self.title {
            contact.title = v;
        }
        if let Some(v) = self.address {
            contact.address = v;
        }
        if let Some(v) = self.tags {
            contact.tags = v.unwrap_or_default();
        }
        if let Some(owner) = self.owner_id {
            match owner {
                Some(owner) => contact.owner_id = owner,
                None => errors.add("owner_id", "cannot be removed"),
            }
        }
        if let Some(stage) = self.lifecycle_stage {
            contact.lifecycle_stage = stage.unwrap_or_default();
        }
        if let Some(v) = self.source {
            contact.source = v;
        }
        if let Some(v) = self.notes {
            contact.notes = v;
        }
        if let Some(v) = self.national_id {
            contact.national_id = v;
        }
        if let Some(v) = self.card_number {
            contact.card_number = v;
        }
        if let Some(v) = self.bank_account {
            contact.bank_account = v;
        }
        if let Some(v) = self.date_of_birth {
            contact.date_of_birth = v;
        }
        if let Some(v) = self.preferences {
            contact.preferences = v.unwrap_or_default();
        }
        if let Some(v) = self.company_id {
            contact.company_id = v;
        }
        if let Some(custom) = self.custom {
            crate::fields::merge(&mut contact.custom, custom);
        }
        match self.consent {
            None => {}
            Some(None) => contact.consent.clear(),
            Some(Some(changes)) => apply_consent(&mut contact.consent, changes, now, errors),
        }
    }
}

/// Normalizes what can be (trimmed text, lowercased emails, upper-case country) and
/// reports every rule the contact breaks.
///
/// Rules look at the text as sent; trimming comes after, so a value is judged exactly as
/// `openapi.yaml` describes it.
pub fn normalize_and_check(
    contact: &mut Contact,
    today: time::Date,
    region: &str,
    errors: &mut Errors,
) {
    errors.text("name", &contact.name, 1, 200);
    contact.name = contact.name.trim().to_owned();

    // An over-long list is one error; its items are not judged one by one (a body full of
    // bad items would otherwise make an answer many times its size).
    if contact.emails.len() > MAX_EMAILS {
        errors.add("emails", format!("at most {MAX_EMAILS} addresses"));
        contact.emails.clear();
    }
    let mut seen = std::collections::HashSet::new();
    for (i, email) in contact.emails.iter_mut().enumerate() {
        errors.email(&format!("emails[{i}].address"), &email.address);
        email.address = normalize_email(&email.address);
        errors.opt_text(&format!("emails[{i}].label"), email.label.as_deref(), 40);
        if !seen.insert(email.address.clone()) {
            errors.add(format!("emails[{i}].address"), "appears twice");
        }
    }

    if contact.phones.len() > MAX_PHONES {
        errors.add("phones", format!("at most {MAX_PHONES} numbers"));
        contact.phones.clear();
    }
    for (i, phone) in contact.phones.iter_mut().enumerate() {
        phone.unverified =
            errors.phone_e164(&format!("phones[{i}].number"), &mut phone.number, region);
        errors.opt_text(&format!("phones[{i}].label"), phone.label.as_deref(), 40);
    }

    errors.trimmed("company_name", &mut contact.company_name, 200);
    errors.trimmed("title", &mut contact.title, 100);
    errors.trimmed("source", &mut contact.source, 100);
    errors.opt_text("notes", contact.notes.as_deref(), 10_000);

    if let Some(address) = &mut contact.address {
        for (field, value, max) in [
            ("street", &mut address.street, 200),
            ("city", &mut address.city, 100),
            ("region", &mut address.region, 100),
            ("postal_code", &mut address.postal_code, 20),
        ] {
            errors.trimmed(&format!("address.{field}"), value, max);
        }
        errors.country("address.country", &mut address.country);
        if *address == Address::default() {
            contact.address = None;
        }
    }

    errors.tags("tags", &mut contact.tags, MAX_TAGS);
    check_preferences(&contact.preferences, errors);
    sensitive::check(
        &mut contact.national_id,
        &mut contact.card_number,
        &mut contact.bank_account,
        &contact.date_of_birth,
        today,
        errors,
    );
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk("contacts"), id)
}

/// The index-2 partition of one company's contacts.
pub fn company_pk(tenant: &TenantId, company_id: &str) -> String {
    tenant.pk(&format!("contacts#company#{company_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact() -> Contact {
        Contact {
            id: "con_1".into(),
            name: "  Ada  ".into(),
            emails: vec![Email {
                address: "Ada@Example.COM".into(),
                label: None,
            }],
            phones: vec![],
            company_name: None,
            company_id: None,
            title: None,
            address: Some(Address {
                country: Some("cn".into()),
                ..Address::default()
            }),
            tags: vec![],
            owner_id: "usr_1".into(),
            lifecycle_stage: LifecycleStage::Lead,
            source: None,
            notes: None,
            national_id: None,
            card_number: None,
            bank_account: None,
            date_of_birth: None,
            preferences: Preferences::default(),
            consent: BTreeMap::new(),
            custom: Default::default(),
            created_by: "usr_1".into(),
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    }

    #[test]
    fn normalizes_emails_names_and_countries() {
        let mut c = contact();
        let mut errors = Errors::new();
        normalize_and_check(
            &mut c,
            time::macros::date!(2026 - 11 - 23),
            "CN",
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(c.name, "Ada");
        assert_eq!(c.emails[0].address, "ada@example.com");
        assert_eq!(c.address.unwrap().country.as_deref(), Some("CN"));
    }

    #[test]
    fn duplicate_emails_and_tags_are_reported() {
        let mut c = contact();
        c.emails.push(Email {
            address: "ada@example.com".into(),
            label: None,
        });
        c.tags = vec!["VIP".into(), "vip".into()];
        let mut errors = Errors::new();
        normalize_and_check(
            &mut c,
            time::macros::date!(2026 - 11 - 23),
            "CN",
            &mut errors,
        );
        let fields: Vec<_> = errors
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["emails[1].address", "tags[1]"]);
    }

    #[test]
    fn nested_records_are_objects_never_arrays() {
        assert!(
            serde_json::from_str::<NewContact>(r#"{"name":"A","address":[null,null]}"#).is_err()
        );
        assert!(
            serde_json::from_str::<NewContact>(r#"{"name":"A","emails":[["a@b.co"]]}"#).is_err()
        );
        let ok: NewContact = serde_json::from_str(
            r#"{"name":"A","address":{"city":"X"},"emails":[{"address":"a@b.co"}]}"#,
        )
        .unwrap();
        assert_eq!(ok.address.unwrap().city.as_deref(), Some("X"));
        let round = serde_json::to_value(Email {
            address: "a@b.co".into(),
            label: None,
        })
        .unwrap();
        assert_eq!(round, serde_json::json!({"address": "a@b.co"}));
    }

    #[test]
    fn a_patch_tells_null_from_absent() {
        let mut c = contact();
        c.title = Some("CTO".into());
        c.company_name = Some("Acme".into());
        let patch: ContactPatch =
            serde_json::from_str(r#"{"title": null, "tags": ["a"]}"#).unwrap();
        let mut errors = Errors::new();
        patch.apply(&mut c, "now", &mut errors);
        assert!(errors.is_empty());
        assert_eq!(c.title, None);
        assert_eq!(c.company_name.as_deref(), Some("Acme"));
        assert_eq!(c.tags, ["a"]);
    }
}
