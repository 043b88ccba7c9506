//! Running totals per stage: how many deals a stage holds and their amounts per
//! currency, overall and per owner (so a caller who sees only some deals is shown only
//! their totals). One item per stage, rewritten on its version in every transaction that
//! moves a deal in or out or changes its amount or owner; a board reads them all with one
//! query.
//!
//! The item also guards stage removal: removing a stage rewrites its item as `removed`,
//! so a deal write that read the stage before it went fails its condition and, on its
//! retry, finds the stage gone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Deal;
use crate::error::Error;
use crate::ids::TenantId;
use crate::money::Sum;
use crate::policy::Scope;
use crate::table::{Condition, Key, Query, Table, Write, from_item, to_item};

/// A count and amount totals (minor units by currency).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub count: u64,
    #[serde(default)]
    pub amounts: BTreeMap<String, Sum>,
}

impl Tally {
    pub(crate) fn add(&mut self, deal: &Deal, sign: i64) -> Result<(), Error> {
        self.count = self.count.saturating_add_signed(sign);
        if let Some(money) = &deal.amount {
            let total = self.amounts.entry(money.currency.clone()).or_default();
            total.add(sign, money.amount_minor, "amount.amount_minor")?;
            if total.is_zero() {
                self.amounts.remove(&money.currency);
            }
        }
        Ok(())
    }

    fn merge(&mut self, other: &Tally) {
        self.count = self.count.saturating_add(other.count);
        for (currency, amount) in &other.amounts {
            let total = self.amounts.entry(currency.clone()).or_default();
            *total = total.plus(*amount);
        }
    }
}

/// The totals of one stage.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageStats {
    pub stage_id: String,
    pub all: Tally,
    #[serde(default)]
    pub owners: BTreeMap<String, Tally>,
    /// The stage was removed from its pipeline; no deal may enter it.
    #[serde(default)]
    pub removed: bool,
    /// 0 when no item is stored yet.
    #[serde(default)]
    pub version: u64,
}

impl StageStats {
    fn change(&mut self, deal: &Deal, sign: i64) -> Result<(), Error> {
        self.all.add(deal, sign)?;
        let owner = self.owners.entry(deal.owner_id.clone()).or_default();
        owner.add(deal, sign)?;
        if owner.count == 0 && owner.amounts.is_empty() {
            self.owners.remove(&deal.owner_id);
        }
        Ok(())
    }

    /// The totals over the deals `scope` lets the caller (`user_id`, `team`) see.
    pub fn visible(&self, scope: Scope, user_id: &str, team: &[String]) -> Tally {
        match scope {
            Scope::All => self.all.clone(),
            Scope::Own => self.owners.get(user_id).cloned().unwrap_or_default(),
            Scope::Team => {
                let mut total = Tally::default();
                for member in team {
                    if let Some(tally) = self.owners.get(member) {
                        total.merge(tally);
                    }
                }
                total
            }
        }
    }

    /// The write storing these stats, conditioned on the version read.
    pub fn write(&self, tenant: &TenantId, pipeline_id: &str) -> Result<Write, Error> {
        let mut next = self.clone();
        next.version = self.version + 1;
        Ok(Write::Put {
            item: to_item(&key(tenant, pipeline_id, &self.stage_id), &next)?,
            condition: Condition::at_version(self.version),
        })
    }

    /// A write that only asserts these stats are still as read.
    pub fn check(&self, tenant: &TenantId, pipeline_id: &str) -> Write {
        Write::Check {
            key: key(tenant, pipeline_id, &self.stage_id),
            condition: Condition::at_version(self.version),
        }
    }
}

fn pk(tenant: &TenantId, pipeline_id: &str) -> String {
    tenant.pk(&format!("deal-stats#{pipeline_id}"))
}

fn key(tenant: &TenantId, pipeline_id: &str, stage_id: &str) -> Key {
    Key::new(pk(tenant, pipeline_id), stage_id)
}

/// The stats of one stage (empty, version 0, when none are stored).
pub async fn read(
    table: &dyn Table,
    tenant: &TenantId,
    pipeline_id: &str,
    stage_id: &str,
) -> Result<StageStats, Error> {
    Ok(
        match table.get(&key(tenant, pipeline_id, stage_id)).await? {
            Some(item) => from_item(item)?,
            None => StageStats {
                stage_id: stage_id.to_owned(),
                ..Default::default()
            },
        },
    )
}

/// Every stored stats item of a pipeline, by stage id.
pub async fn read_all(
    table: &dyn Table,
    tenant: &TenantId,
    pipeline_id: &str,
) -> Result<BTreeMap<String, StageStats>, Error> {
    let mut found = BTreeMap::new();
    let mut start = None;
    loop {
        let page = table
            .query(
                &Query::partition(pk(tenant, pipeline_id))
                    .limit(100)
                    .start(start),
            )
            .await?;
        for item in page.items {
            let stats: StageStats = from_item(item)?;
            found.insert(stats.stage_id.clone(), stats);
        }
        match page.next {
            Some(next) => start = Some(next),
            None => return Ok(found),
        }
    }
}

/// The stats writes for a deal going from `before` to `after` (either absent for a
/// create or delete): read, adjusted and conditioned on what was read. Fails with
/// `stage-removed` when the deal would enter a removed stage.
pub async fn writes(
    table: &dyn Table,
    tenant: &TenantId,
    before: Option<&Deal>,
    after: Option<&Deal>,
) -> Result<Vec<Write>, Error> {
    let place = |d: &Deal| (d.pipeline_id.clone(), d.stage_id.clone());
    let mut touched: BTreeMap<(String, String), StageStats> = BTreeMap::new();
    for (deal, sign) in [(before, -1), (after, 1)] {
        let Some(deal) = deal else { continue };
        let at = place(deal);
        if !touched.contains_key(&at) {
            let stats = read(table, tenant, &at.0, &at.1).await?;
            touched.insert(at.clone(), stats);
        }
        let stats = touched.get_mut(&at).expect("inserted above");
        if sign > 0 && stats.removed {
            return Err(stage_removed());
        }
        stats.change(deal, sign)?;
    }
    let unchanged = before.zip(after).is_some_and(|(b, a)| {
        place(b) == place(a) && b.amount == a.amount && b.owner_id == a.owner_id
    });
    if unchanged {
        return Ok(Vec::new());
    }
    touched
        .iter()
        .map(|((pipeline, _), stats)| stats.write(tenant, pipeline))
        .collect()
}

pub fn stage_removed() -> Error {
    Error::Validation(vec![crate::validation::FieldError {
        field: "stage_id".into(),
        message: "is not a stage of the pipeline".into(),
    }])
}
