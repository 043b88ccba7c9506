//! Companies: the organisations a business deals with. Contacts link to at most one
//! company, and a company lists its contacts. This module holds the record, its rules
//! and where companies live in the table; `service` applies permissions and scope.

pub mod service;

use serde::{Deserialize, Serialize};

use crate::contacts::LifecycleStage;
use crate::ids::TenantId;
use crate::policy::FieldSpec;
use crate::table::Key;
use crate::validation::Errors;
use crate::wire::present;

pub const PREFIX: &str = crate::ids::CompanyId::PREFIX;
pub const RESOURCE: &str = "companies";
pub const MAX_TAGS: usize = 50;
pub use crate::money::{MAX_AMOUNT_MINOR, Money};

/// The fields role rules can restrict.
pub const FIELDS: &[FieldSpec] = crate::policy::fields::COMPANIES;

/// Head-count bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SizeBand {
    #[serde(rename = "1-9")]
    Micro,
    #[serde(rename = "10-49")]
    Small,
    #[serde(rename = "50-249")]
    Medium,
    #[serde(rename = "250-999")]
    Large,
    #[serde(rename = "1000+")]
    Enterprise,
}

/// Where a company is, at any level of detail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Region {
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Province or state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
}

crate::object_only!(Region);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    pub id: String,
    pub name: String,
    pub legal_name: Option<String>,
    pub industry: Option<String>,
    pub size_band: Option<SizeBand>,
    pub region: Option<Region>,
    /// Street address.
    pub address: Option<String>,
    pub website: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub tags: Vec<String>,
    pub owner_id: String,
    pub lifecycle_stage: LifecycleStage,
    pub annual_revenue: Option<Money>,
    pub notes: Option<String>,
    /// Values of the tenant's custom fields, by key.
    #[serde(default)]
    pub custom: serde_json::Map<String, serde_json::Value>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl crate::search::Indexed for Company {
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

    fn terms(&self) -> crate::search::Terms {
        let mut terms = crate::search::Terms::new();
        if let Some(phone) = &self.phone {
            terms.exact("phone", &crate::terms::phone_term(phone));
        }
        terms.text("name", &self.name);
        if let Some(legal) = &self.legal_name {
            terms.text("legal_name", legal);
        }
        if let Some(phone) = &self.phone {
            terms.phone("phone", phone);
        }
        if let Some(site) = &self.website {
            let host = site
                .split("://")
                .last()
                .unwrap_or(site)
                .split('/')
                .next()
                .unwrap_or_default();
            terms.text("website", host.trim_start_matches("www."));
        }
        terms.custom(&self.custom);
        terms
    }
}

/// The body of `POST /v1/companies`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCompany {
    pub name: String,
    pub legal_name: Option<String>,
    pub industry: Option<String>,
    pub size_band: Option<SizeBand>,
    pub region: Option<Region>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub owner_id: Option<String>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub annual_revenue: Option<Money>,
    pub notes: Option<String>,
    pub custom: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The body of `PATCH /v1/companies/{id}` (JSON merge patch).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyPatch {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub legal_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub size_band: Option<Option<SizeBand>>,
    #[serde(default, deserialize_with = "present")]
    pub region: Option<Option<Region>>,
    #[serde(default, deserialize_with = "present")]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    pub owner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub lifecycle_stage: Option<Option<LifecycleStage>>,
    #[serde(default, deserialize_with = "present")]
    pub annual_revenue: Option<Option<Money>>,
    #[serde(default, deserialize_with = "present")]
    pub notes: Option<Option<String>>,
    /// Changes custom values key by key (`null` for a key clears it; `null` for the
    /// whole clears every one).
    #[serde(default, deserialize_with = "present")]
    pub custom: Option<Option<serde_json::Map<String, serde_json::Value>>>,
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

impl NewCompany {
    /// The fields this body sets (for role field rules).
    pub fn fields_sent(&self) -> Vec<&'static str> {
        sent([
            true,
            self.legal_name.is_some(),
            self.industry.is_some(),
            self.size_band.is_some(),
            self.region.is_some(),
            self.address.is_some(),
            self.website.is_some(),
            self.phone.is_some(),
            !self.tags.is_empty(),
            self.owner_id.is_some(),
            self.lifecycle_stage.is_some(),
            self.annual_revenue.is_some(),
            self.notes.is_some(),
            self.custom.is_some(),
        ])
    }
}

impl CompanyPatch {
    /// The fields this patch touches (for role field rules).
    pub fn fields_sent(&self) -> Vec<&'static str> {
        sent([
            self.name.is_some(),
            self.legal_name.is_some(),
            self.industry.is_some(),
            self.size_band.is_some(),
            self.region.is_some(),
            self.address.is_some(),
            self.website.is_some(),
            self.phone.is_some(),
            self.tags.is_some(),
            self.owner_id.is_some(),
            self.lifecycle_stage.is_some(),
            self.annual_revenue.is_some(),
            self.notes.is_some(),
            self.custom.is_some(),
        ])
    }

    /// Applies the patch; fields that cannot be cleared report an error.
    pub fn apply(self, company: &mut Company, errors: &mut Errors) {
        if let Some(custom) = self.custom {
            crate::fields::merge(&mut company.custom, custom);
        }
        match self.name {
            Some(Some(name)) => company.name = name,
            Some(None) => errors.add("name", "cannot be removed"),
            None => {}
        }
        match self.owner_id {
            Some(Some(owner)) => company.owner_id = owner,
            Some(None) => errors.add("owner_id", "cannot be removed"),
            None => {}
        }
        macro_rules! replace {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field {
                    company.$field = v;
                }
            )*};
        }
        replace!(
            legal_name,
            industry,
            size_band,
            region,
            address,
            website,
            phone,
            annual_revenue,
            notes
        );
        if let Some(tags) = self.tags {
            company.tags = tags.unwrap_or_default();
        }
        if let Some(stage) = self.lifecycle_stage {
            company.lifecycle_stage = stage.unwrap_or_default();
        }
    }
}

/// Normalizes what can be and reports every rule the company breaks (judged on the
/// values as sent, like contacts).
pub fn normalize_and_check(company: &mut Company, region: &str, errors: &mut Errors) {
    errors.text("name", &company.name, 1, 200);
    company.name = company.name.trim().to_owned();
    for (field, value, max) in [
        ("legal_name", &mut company.legal_name, 200),
        ("industry", &mut company.industry, 100),
        ("address", &mut company.address, 200),
        ("notes", &mut company.notes, 10_000),
    ] {
        errors.trimmed(field, value, max);
    }
    if let Some(place) = &mut company.region {
        for (field, value) in [
            ("province", &mut place.province),
            ("city", &mut place.city),
            ("district", &mut place.district),
        ] {
            errors.trimmed(&format!("region.{field}"), value, 100);
        }
        errors.country("region.country", &mut place.country);
        if *place == Region::default() {
            company.region = None;
        }
    }
    if let Some(site) = &company.website {
        let ok = (site.starts_with("https://") || site.starts_with("http://"))
            && site.len() <= 200
            && site.len() > "https://".len()
            && !site.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            errors.add(
                "website",
                "must be an http(s) URL of at most 200 characters",
            );
        }
    }
    if let Some(phone) = &mut company.phone {
        errors.phone_e164("phone", phone, region);
    }
    if let Some(money) = &company.annual_revenue {
        if !(0..=MAX_AMOUNT_MINOR).contains(&money.amount_minor) {
            errors.add(
                "annual_revenue.amount_minor",
                format!("must be 0 to {MAX_AMOUNT_MINOR}"),
            );
        }
        errors.currency("annual_revenue.currency", &money.currency);
    }
    errors.tags("tags", &mut company.tags, MAX_TAGS);
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk(RESOURCE), id)
}
