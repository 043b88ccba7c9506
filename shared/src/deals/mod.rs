//! Deals: a possible sale to a contact and/or company, moving through the stages of a
//! pipeline. Every stage change is kept (from, to, who, when, time spent), and each
//! stage keeps a running count and amount total, so a board needs no scan of its deals.
//! This module holds the record, its rules and where deals live in the table.

pub mod follow_ups;
pub mod pipelines;
pub mod service;
pub mod stats;

use serde::{Deserialize, Serialize};

use crate::companies::{MAX_AMOUNT_MINOR, Money};
use crate::deals::pipelines::StageKind;
use crate::ids::TenantId;
use crate::policy::FieldSpec;
use crate::table::Key;
use crate::validation::Errors;
use crate::wire::present;

pub const PREFIX: &str = crate::ids::DealId::PREFIX;
pub const RESOURCE: &str = "deals";

/// The fields role rules can restrict.
pub const FIELDS: &[FieldSpec] = crate::policy::fields::DEALS;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deal {
    pub id: String,
    pub title: String,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub pipeline_id: String,
    pub stage_id: String,
    /// Open, won or lost: the kind of its stage.
    pub status: StageKind,
    pub amount: Option<Money>,
    /// `YYYY-MM-DD`.
    pub expected_close_date: Option<String>,
    pub owner_id: String,
    pub source: Option<String>,
    pub lost_reason: Option<String>,
    #[serde(default)]
    pub custom: serde_json::Map<String, serde_json::Value>,
    /// When it entered its current stage.
    pub stage_entered_at: String,
    /// When it was won or lost (cleared if reopened).
    pub closed_at: Option<String>,
    /// Its last change, or the last follow-up task made for it.
    #[serde(default)]
    pub last_activity_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl crate::records::Relinked for Deal {
    const NOUN: &'static str = "deal";
    const RESOURCE: &'static str = RESOURCE;

    fn key(tenant: &TenantId, id: &str) -> Key {
        key(tenant, id)
    }

    fn link_mut(&mut self, resource: &str) -> Option<&mut Option<String>> {
        match resource {
            "contacts" => Some(&mut self.contact_id),
            "companies" => Some(&mut self.company_id),
            _ => None,
        }
    }

    fn bump(&mut self, now: String) {
        self.version += 1;
        self.updated_at = now;
    }

    fn version(&self) -> u64 {
        self.version
    }
}

impl crate::records::Owned for Deal {
    fn owner_id(&self) -> &str {
        &self.owner_id
    }
}

/// The body of `POST /v1/deals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDeal {
    pub title: String,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    /// The tenant's first pipeline when absent.
    pub pipeline_id: Option<String>,
    /// The pipeline's first open stage when absent.
    pub stage_id: Option<String>,
    pub amount: Option<Money>,
    pub expected_close_date: Option<String>,
    pub owner_id: Option<String>,
    pub source: Option<String>,
    pub lost_reason: Option<String>,
    pub custom: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The body of `PATCH /v1/deals/{id}` (JSON merge patch). Moving a deal on the board is
/// a patch of `stage_id` (and `pipeline_id` to move it to another pipeline).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealPatch {
    #[serde(default, deserialize_with = "present")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub contact_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub company_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub pipeline_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub stage_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub amount: Option<Option<Money>>,
    #[serde(default, deserialize_with = "present")]
    pub expected_close_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub owner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub source: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub lost_reason: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub custom: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

fn sent(flags: [bool; FIELDS.len()]) -> Vec<&'static str> {
    FIELDS
        .iter()
        .zip(flags)
        .filter(|(_, set)| *set)
        .map(|(f, _)| f.name)
        .collect()
}

impl NewDeal {
    pub fn fields_sent(&self) -> Vec<&'static str> {
        sent([
            true,
            self.contact_id.is_some(),
            self.company_id.is_some(),
            self.pipeline_id.is_some(),
            self.stage_id.is_some(),
            self.amount.is_some(),
            self.expected_close_date.is_some(),
            self.owner_id.is_some(),
            self.source.is_some(),
            self.lost_reason.is_some(),
            self.custom.is_some(),
        ])
    }
}

impl DealPatch {
    pub fn fields_sent(&self) -> Vec<&'static str> {
        sent([
            self.title.is_some(),
            self.contact_id.is_some(),
            self.company_id.is_some(),
            self.pipeline_id.is_some(),
            self.stage_id.is_some(),
            self.amount.is_some(),
            self.expected_close_date.is_some(),
            self.owner_id.is_some(),
            self.source.is_some(),
            self.lost_reason.is_some(),
            self.custom.is_some(),
        ])
    }

    /// Applies the patch; fields that cannot be cleared report an error. The stage is
    /// checked against the pipeline by the service.
    pub fn apply(self, deal: &mut Deal, errors: &mut Errors) {
        if let Some(custom) = self.custom {
            crate::fields::merge(&mut deal.custom, custom);
        }
        for (field, value, target) in [
            ("title", self.title, &mut deal.title),
            ("pipeline_id", self.pipeline_id, &mut deal.pipeline_id),
            ("stage_id", self.stage_id, &mut deal.stage_id),
            ("owner_id", self.owner_id, &mut deal.owner_id),
        ] {
            match value {
                Some(Some(v)) => *target = v,
                Some(None) => errors.add(field, "cannot be removed"),
                None => {}
            }
        }
        macro_rules! replace {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field {
                    deal.$field = v;
                }
            )*};
        }
        replace!(
            contact_id,
            company_id,
            amount,
            expected_close_date,
            source,
            lost_reason
        );
    }
}

/// Normalizes what can be and reports every rule the deal breaks (links and stage are
/// checked by the service, which reads them).
pub fn normalize_and_check(deal: &mut Deal, errors: &mut Errors) {
    errors.text("title", &deal.title, 1, 200);
    deal.title = deal.title.trim().to_owned();
    errors.trimmed("source", &mut deal.source, 100);
    errors.trimmed("lost_reason", &mut deal.lost_reason, 500);
    if let Some(money) = &deal.amount {
        if !(0..=MAX_AMOUNT_MINOR).contains(&money.amount_minor) {
            errors.add(
                "amount.amount_minor",
                format!("must be 0 to {MAX_AMOUNT_MINOR}"),
            );
        }
        errors.currency("amount.currency", &money.currency);
    }
    errors.date("expected_close_date", deal.expected_close_date.as_deref());
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk(RESOURCE), id)
}

/// Index-2 partition of a stage's deals (the board, for callers who see every deal).
pub fn stage_pk(tenant: &TenantId, stage_id: &str) -> String {
    tenant.pk(&format!("deals#stage#{stage_id}"))
}

/// Index-3 partition of one owner's deals in a stage (the board, for own scope).
pub fn stage_owner_pk(tenant: &TenantId, stage_id: &str, owner_id: &str) -> String {
    tenant.pk(&format!("deals#stage#{stage_id}#owner#{owner_id}"))
}

/// The partition of the deal links of a contact or company (`contacts`/`companies`).
pub fn linked_pk(tenant: &TenantId, resource: &str, record_id: &str) -> String {
    tenant.pk(&format!("deals#{resource}#{record_id}"))
}

/// Index-4 partition of the open deals by last activity (for follow-up rules).
pub fn idle_pk(tenant: &TenantId) -> String {
    tenant.pk("deals#open-by-activity")
}

/// The partition of a deal's stage changes.
pub fn history_pk(tenant: &TenantId, deal_id: &str) -> String {
    tenant.pk(&format!("deal-stages#{deal_id}"))
}
