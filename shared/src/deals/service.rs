//! Deal operations as the API offers them, on the record engine: permission first, then
//! tenant and record scope (a deal out of scope, or of another tenant, is not found).
//! What is a deal's own is its [`Kind`]: its place in a pipeline (settled from the
//! pipeline's stages), and what every write carries beside the deal: its stages' totals,
//! its stage history, its links to contact and company, their timelines. Its lists are its
//! own (by stage, by owner, the board).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Deal, DealPatch, NewDeal, PREFIX, RESOURCE, history_pk, key, linked_pk, normalize_and_check,
    stage_owner_pk, stage_pk, stats,
};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::deals::pipelines::{self, Pipeline, StageKind};
use crate::engine::{self, Change, Context, Fresh, Kind};
use crate::error::Error;
use crate::fields::{Definitions, service::definitions};
use crate::ids::{TenantId, new_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope, View};
use crate::principal::Principal;
use crate::records::{list_query, owner_pk, reaches_item};
use crate::table::{Condition, Index, Item, Key, Query, Write, from_item, to_item};
use crate::timeline;
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::{companies, contacts};

/// Deals, as the record engine handles them: with custom fields, without search or a
/// timeline of their own (their creation, stage changes and deletion go on the linked
/// contact's and company's timelines).
#[derive(Default)]
pub struct Deals;

crm_engine::indexed!(Deal, RESOURCE, title, custom);

impl engine::Record for Deal {
    fn version(&self) -> u64 {
        self.version
    }

    /// A change is also the deal's latest activity.
    fn touch(&mut self, version: u64, at: String) {
        self.version = version;
        self.last_activity_at = Some(at.clone());
        self.updated_at = at;
    }

    fn custom(&self) -> Option<&serde_json::Map<String, Value>> {
        Some(&self.custom)
    }

    fn custom_mut(&mut self) -> Option<&mut serde_json::Map<String, Value>> {
        Some(&mut self.custom)
    }
}

impl Kind for Deals {
    type Record = Deal;
    type Id = crate::ids::DealId;
    type New = NewDeal;
    type Patch = DealPatch;
    const SEARCHED: bool = false;
    const TIMELINE: bool = false;

    fn resource(&self) -> &str {
        RESOURCE
    }

    fn noun(&self) -> &str {
        "deal"
    }

    fn prefix(&self) -> &'static str {
        PREFIX
    }

    fn fields_of(&self) -> &str {
        RESOURCE
    }

    fn key(&self, tenant: &TenantId, id: &str) -> Key {
        key(tenant, id)
    }

    fn not_found(&self) -> Error {
        not_found()
    }

    fn sent_new(&self, input: &NewDeal) -> Vec<String> {
        input.fields_sent().into_iter().map(str::to_owned).collect()
    }

    fn sent_patch(&self, patch: &DealPatch) -> Vec<String> {
        patch.fields_sent().into_iter().map(str::to_owned).collect()
    }

    /// Without a pipeline or stage, [`Kind::settle`] gives the first pipeline and its
    /// first open stage.
    async fn build(
        &self,
        _: &AppState,
        _: &Principal,
        input: NewDeal,
        fresh: Fresh,
        _: &Context,
        _: &mut Errors,
    ) -> Result<Deal, Error> {
        Ok(Deal {
            id: fresh.id,
            title: input.title,
            contact_id: input.contact_id,
            company_id: input.company_id,
            pipeline_id: input.pipeline_id.unwrap_or_default(),
            stage_id: input.stage_id.unwrap_or_default(),
            status: StageKind::Open,
            amount: input.amount,
            expected_close_date: input.expected_close_date,
            owner_id: input.owner_id.unwrap_or_else(|| fresh.user_id.clone()),
            source: input.source,
            lost_reason: input.lost_reason,
            custom: input.custom.unwrap_or_default(),
            stage_entered_at: fresh.now.clone(),
            closed_at: None,
            last_activity_at: Some(fresh.now.clone()),
            created_by: fresh.user_id,
            created_at: fresh.now.clone(),
            updated_at: fresh.now,
            version: 1,
        })
    }

    /// To another pipeline without a stage: [`Kind::settle`] gives its first open stage.
    async fn apply(
        &self,
        _: &AppState,
        _: &Principal,
        patch: DealPatch,
        deal: &mut Deal,
        _: &Context,
        errors: &mut Errors,
    ) -> Result<Vec<Write>, Error> {
        let pipeline_changed = patch
            .pipeline_id
            .as_ref()
            .is_some_and(|p| p.as_ref() != Some(&deal.pipeline_id));
        let stage_given = patch.stage_id.is_some();
        patch.apply(deal, errors);
        if pipeline_changed && !stage_given {
            deal.stage_id = String::new();
        }
        Ok(Vec::new())
    }

    fn check(&self, _: Option<&Deal>, deal: &mut Deal, _: &Context, errors: &mut Errors) {
        normalize_and_check(deal, errors);
    }

    async fn settle(
        &self,
        state: &AppState,
        principal: &Principal,
        before: Option<&Deal>,
        deal: &mut Deal,
        cx: &Context,
        errors: &mut Errors,
    ) -> Result<(), Error> {
        let table = state.table.as_ref();
        let tenant = &principal.tenant;
        if deal.pipeline_id.is_empty() {
            deal.pipeline_id = pipelines::service::all(table, tenant)
                .await?
                .first()
                .map(|p| p.id.clone())
                .unwrap_or_default();
        }
        if deal.stage_id.is_empty() {
            deal.stage_id = pipelines::service::find(table, tenant, &deal.pipeline_id)
                .await?
                .and_then(|p| p.first_open().map(|s| s.id.clone()))
                .unwrap_or_default();
        }
        settle_stage(state, tenant, before, deal, &cx.now, errors).await
    }

    fn updated(&self, before: &Deal, after: &Deal) -> &'static str {
        if before.stage_id != after.stage_id {
            "stage_changed"
        } else {
            "updated"
        }
    }

    async fn check_links(
        &self,
        state: &AppState,
        principal: &Principal,
        _: &Definitions,
        before: Option<&Deal>,
        after: &Deal,
        errors: &mut Errors,
    ) -> Result<(), Error> {
        check_links(state, principal, before, after, errors).await
    }

    /// Its places on the board: by stage, by stage and owner, and while open by idle
    /// time.
    fn index(&self, tenant: &TenantId, deal: &Deal, item: &mut Item) {
        let sk = stage_sk(deal);
        for (name, value) in [
            ("gsi2pk", stage_pk(tenant, &deal.stage_id)),
            ("gsi2sk", sk.clone()),
            (
                "gsi3pk",
                stage_owner_pk(tenant, &deal.stage_id, &deal.owner_id),
            ),
            ("gsi3sk", sk),
        ] {
            item.insert(name.into(), value.into());
        }
        if deal.status == StageKind::Open {
            let at = deal.last_activity_at.as_deref().unwrap_or(&deal.updated_at);
            let key = crate::clock::millis_key_of(at).unwrap_or_default();
            item.insert("gsi4pk".into(), super::idle_pk(tenant).into());
            item.insert("gsi4sk".into(), format!("{key}#{}", deal.id).into());
        }
    }

    /// Its stages' totals (which race other deals entering the same stage: the engine
    /// writes again), its stage history and its contact's and company's timelines when it
    /// is made, moved or deleted, its link items and the merge holds on its contact.
    async fn writes(
        &self,
        state: &AppState,
        principal: &Principal,
        change: &Change<'_, Deal>,
    ) -> Result<Vec<Write>, Error> {
        let tenant = &principal.tenant;
        let (before, after) = (change.before, change.after);
        let mut writes = stats::writes(state.table.as_ref(), tenant, before, after).await?;
        let moved = match (before, after) {
            (Some(b), Some(a)) => b.stage_id != a.stage_id,
            _ => true,
        };
        if let Some(after) = after
            && moved
        {
            writes.push(history_write(tenant, principal, before, after, change.at)?);
        }
        writes.extend(link_writes(tenant, before, after)?);
        if after.is_some() {
            writes.extend(crate::contacts::merge::link_holds(
                tenant,
                before.and_then(|d| d.contact_id.as_deref()),
                after.and_then(|d| d.contact_id.as_deref()),
            ));
        }
        if moved {
            writes.extend(timeline_writes(
                tenant,
                change.record(),
                change.at,
                change.entry,
            )?);
        }
        Ok(writes)
    }
}

fn not_found() -> Error {
    Error::NotFound("No deal with this id.".into())
}

/// Index sort key: newest arrival in the stage first (descending), then id.
fn stage_sk(deal: &Deal) -> String {
    let entered = crate::clock::millis_key_of(&deal.stage_entered_at)
        .unwrap_or_else(|| crate::clock::millis_key(time::OffsetDateTime::UNIX_EPOCH));
    format!("{entered}#{}", deal.id)
}

pub(super) fn to_stored(tenant: &TenantId, deal: &Deal) -> Result<Item, Error> {
    engine::to_stored(tenant, &Deals, deal, None)
}

/// The links of a deal to its contact and company: items in their partitions, so each
/// lists its deals.
fn links(deal: &Deal) -> Vec<(&'static str, &str)> {
    let mut found = Vec::new();
    if let Some(id) = &deal.contact_id {
        found.push((contacts::service::RESOURCE, id.as_str()));
    }
    if let Some(id) = &deal.company_id {
        found.push((companies::RESOURCE, id.as_str()));
    }
    found
}

fn link_writes(
    tenant: &TenantId,
    before: Option<&Deal>,
    after: Option<&Deal>,
) -> Result<Vec<Write>, Error> {
    let id = after.or(before).map_or("", |d| d.id.as_str());
    crate::records::link_writes(
        |resource, record| linked_pk(tenant, resource, record),
        ("deal_id", id),
        &before.map(links).unwrap_or_default(),
        &after.map(links).unwrap_or_default(),
    )
}

/// One stage change of a deal (its first entry is where it was created).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageChange {
    pub id: String,
    pub deal_id: String,
    pub from_pipeline_id: Option<String>,
    pub from_stage_id: Option<String>,
    /// `None` (as the other ids) only in a view for a role that hides them.
    pub to_pipeline_id: Option<String>,
    pub to_stage_id: Option<String>,
    /// The user (or API key) who moved it.
    pub by: String,
    pub at: String,
    /// How long the deal was in the stage it left.
    pub seconds_in_from_stage: Option<i64>,
}

fn history_write(
    tenant: &TenantId,
    principal: &Principal,
    before: Option<&Deal>,
    after: &Deal,
    at: time::OffsetDateTime,
) -> Result<Write, Error> {
    let seconds = before.and_then(|b| {
        time::OffsetDateTime::parse(
            &b.stage_entered_at,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
        .map(|entered| (at - entered).whole_seconds())
    });
    let change = StageChange {
        id: new_id(crate::ids::StageChangeId::PREFIX),
        deal_id: after.id.clone(),
        from_pipeline_id: before.map(|b| b.pipeline_id.clone()),
        from_stage_id: before.map(|b| b.stage_id.clone()),
        to_pipeline_id: Some(after.pipeline_id.clone()),
        to_stage_id: Some(after.stage_id.clone()),
        by: principal.user_id.clone(),
        at: rfc3339(at),
        seconds_in_from_stage: seconds,
    };
    Ok(Write::Put {
        item: to_item(
            &Key::new(
                history_pk(tenant, &after.id),
                format!("{}#{}", crate::clock::millis_key(at), change.id),
            ),
            &change,
        )?,
        condition: Condition::NotExists,
    })
}

/// Checks and settles the deal's place: its pipeline exists and holds its stage; its
/// status follows the stage's kind, and entering a new stage (at `now`) is timed.
async fn settle_stage(
    state: &AppState,
    tenant: &TenantId,
    before: Option<&Deal>,
    deal: &mut Deal,
    now: &str,
    errors: &mut Errors,
) -> Result<(), Error> {
    let pipeline: Option<Pipeline> =
        pipelines::service::find(state.table.as_ref(), tenant, &deal.pipeline_id).await?;
    let Some(pipeline) = pipeline else {
        errors.add("pipeline_id", "is not a pipeline of this account");
        return Ok(());
    };
    let Some(stage) = pipeline.stage(&deal.stage_id) else {
        errors.add("stage_id", "is not a stage of the pipeline");
        return Ok(());
    };
    deal.status = stage.kind;
    let moved = before.is_none_or(|b| b.stage_id != deal.stage_id);
    if moved {
        deal.stage_entered_at = now.to_owned();
    }
    let was_closed = before.is_some_and(|b| b.status != StageKind::Open);
    match deal.status {
        StageKind::Open => deal.closed_at = None,
        _ if moved && !(was_closed && deal.closed_at.is_some()) => {
            deal.closed_at = Some(now.to_owned());
        }
        _ => {}
    }
    Ok(())
}

/// Checks the links to a contact and a company (each must exist in the tenant, and be
/// one the caller can see).
async fn check_links(
    state: &AppState,
    principal: &Principal,
    before: Option<&Deal>,
    deal: &Deal,
    errors: &mut Errors,
) -> Result<(), Error> {
    if let Some(id) = &deal.contact_id
        && before.and_then(|b| b.contact_id.as_ref()) != Some(id)
        && contacts::service::get(state, principal, id, false)
            .await
            .is_err()
    {
        errors.add("contact_id", "is not a contact you can see");
    }
    if let Some(id) = &deal.company_id
        && before.and_then(|b| b.company_id.as_ref()) != Some(id)
        && companies::service::get(state, principal, id).await.is_err()
    {
        errors.add("company_id", "is not a company you can see");
    }
    Ok(())
}

/// Timeline entries on the linked contact and company (creation, stage changes and
/// deletion; other edits are in the audit log).
fn timeline_writes(
    tenant: &TenantId,
    deal: &Deal,
    at: time::OffsetDateTime,
    entry: &Entry,
) -> Result<Vec<Write>, Error> {
    links(deal)
        .into_iter()
        .map(|(_, id)| timeline::related(tenant, id, at, entry, &deal.title))
        .collect()
}

/// Where a deal goes: a stage, and the pipeline that holds it.
#[derive(Clone, Debug)]
pub struct StageMove {
    pub pipeline_id: String,
    pub stage_id: String,
}

/// A deal's stage change, the central business event of a pipeline. The deal moves to
/// `to` as a change by the caller (their scope and field rules apply, `If-Match` is
/// honoured); its status follows the stage's kind, entering the stage is timed, and the
/// move is recorded in its stage history, on its contact's and company's timelines, in the
/// audit log and as a `deal.stage_changed` event, in one transaction with the stages'
/// totals. A PATCH that changes `stage_id` (the board's drag) is the same change (the
/// deal's [`Kind::writes`]); a stage being emptied moves its deals through here.
pub async fn change_stage(
    state: &AppState,
    principal: &Principal,
    id: &str,
    to: StageMove,
    precondition: Precondition,
) -> Result<View, Error> {
    let patch = DealPatch {
        pipeline_id: Some(Some(to.pipeline_id)),
        stage_id: Some(Some(to.stage_id)),
        ..Default::default()
    };
    engine::update(state, principal, &Deals, id, precondition, patch, false).await
}

async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Deal, Error> {
    engine::load(state, principal, &Deals, scope, id).await
}

/// `deal` as the caller sees it: removed custom fields left out, field rules applied.
fn show(principal: &Principal, defs: &Definitions, deal: Deal) -> Result<View, Error> {
    engine::show(principal, &Deals, defs, deal, false)
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<View, Error> {
    engine::get(state, principal, &Deals, id, false).await
}

/// `GET /v1/deals` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub pipeline_id: Option<String>,
    pub stage_id: Option<String>,
    pub status: Option<StageKind>,
    pub owner_id: Option<String>,
    /// The deals of one contact (or company); newest first.
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
}

/// A page of deals the caller may see, newest first (newest in the stage, with
/// `stage_id`), filtered as asked.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    query: DealQuery,
) -> Result<ListPage<View>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    principal.check_filters(
        RESOURCE,
        &[
            ("pipeline_id", "pipeline_id", query.pipeline_id.is_some()),
            ("stage_id", "stage_id", query.stage_id.is_some()),
            ("owner_id", "owner_id", query.owner_id.is_some()),
            ("contact_id", "contact_id", query.contact_id.is_some()),
            ("company_id", "company_id", query.company_id.is_some()),
        ],
    )?;
    let tenant = &principal.tenant;
    let params = ListParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    if query.contact_id.is_some() && query.company_id.is_some() {
        return Err(Error::validation(
            "company_id",
            "cannot be combined with contact_id",
        ));
    }
    let linked = query
        .contact_id
        .as_deref()
        .map(|id| (contacts::service::RESOURCE, id))
        .or(query
            .company_id
            .as_deref()
            .map(|id| (companies::RESOURCE, id)));
    let defs = definitions(state.table.as_ref(), tenant, RESOURCE).await?;
    let keep = |deal: &Deal| {
        principal.reaches(scope, &deal.owner_id)
            && query
                .pipeline_id
                .as_ref()
                .is_none_or(|p| *p == deal.pipeline_id)
            && query.stage_id.as_ref().is_none_or(|s| *s == deal.stage_id)
            && query.status.is_none_or(|s| s == deal.status)
            && query.owner_id.as_ref().is_none_or(|o| *o == deal.owner_id)
    };
    let (deals, next_cursor) = if let Some((resource, record)) = linked {
        crate::records::linked_page(
            state,
            (linked_pk(tenant, resource, record), "deal_id"),
            &format!("{tenant}/deals/{resource}/{record}"),
            &params,
            |id| async move { load(state, principal, scope, &id).await },
            keep,
        )
        .await?
    } else {
        let (query, list_id) = match (&query.stage_id, &query.owner_id, scope) {
            (Some(stage), Some(owner), _) => (
                Query::partition(stage_owner_pk(tenant, stage, owner)).on(Index::Gsi3),
                format!("{tenant}/deals/stage/{stage}/owner/{owner}"),
            ),
            (Some(stage), None, Scope::Own) => (
                Query::partition(stage_owner_pk(tenant, stage, &principal.user_id)).on(Index::Gsi3),
                format!("{tenant}/deals/stage/{stage}/owner/{}", principal.user_id),
            ),
            (Some(stage), _, _) => (
                Query::partition(stage_pk(tenant, stage)).on(Index::Gsi2),
                format!("{tenant}/deals/stage/{stage}"),
            ),
            (None, Some(owner), _) => (
                Query::partition(owner_pk(tenant, RESOURCE, owner)).on(Index::Gsi1),
                format!("{tenant}/deals/owner/{owner}"),
            ),
            (None, None, Scope::Own) => (
                Query::partition(owner_pk(tenant, RESOURCE, &principal.user_id)).on(Index::Gsi1),
                format!("{tenant}/deals/owner/{}", principal.user_id),
            ),
            (None, None, _) => (
                Query::partition(tenant.pk(RESOURCE)),
                format!("{tenant}/deals"),
            ),
        };
        let (items, next) = list_query(state, principal, query, &list_id, scope, &params).await?;
        let deals: Vec<Deal> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        (deals.into_iter().filter(|d| keep(d)).collect(), next)
    };
    let data = deals
        .into_iter()
        .map(|d| show(principal, &defs, d))
        .collect::<Result<_, _>>()?;
    Ok(ListPage { data, next_cursor })
}

/// The stage changes of deal `id`, oldest first.
pub async fn history(
    state: &AppState,
    principal: &Principal,
    id: &str,
    params: ListParams,
) -> Result<ListPage<StageChange>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    load(state, principal, scope, id).await?;
    let list_id = format!("{}/deal-stages/{id}", principal.tenant);
    let query = Query::partition(history_pk(&principal.tenant, id));
    let (items, next_cursor) = crate::records::page(state, query, &list_id, &params).await?;
    let mut data: Vec<StageChange> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
    // A history shows the deal's stages and pipelines: not to a role that hides them.
    let (stages, pipelines) = (
        principal.sees_field(RESOURCE, "stage_id"),
        principal.sees_field(RESOURCE, "pipeline_id"),
    );
    for change in &mut data {
        if !stages {
            change.from_stage_id = None;
            change.to_stage_id = None;
        }
        if !pipelines {
            change.from_pipeline_id = None;
            change.to_pipeline_id = None;
        }
    }
    Ok(ListPage { data, next_cursor })
}

/// Moves up to `max` deals out of stage `from` into `to_stage` of `to_pipeline`, as the
/// caller's patches (deals the caller may not update are left). Returns how many moved.
pub async fn move_out(
    state: &AppState,
    principal: &Principal,
    from: &str,
    to_pipeline: &str,
    to_stage: &str,
    max: usize,
) -> Result<usize, Error> {
    let scope = principal.require(RESOURCE, Action::Update)?;
    let tenant = &principal.tenant;
    let page = state
        .table
        .query(
            &Query::partition(stage_pk(tenant, from))
                .on(Index::Gsi2)
                .limit(max),
        )
        .await?;
    let mut moved = 0;
    for item in page.items {
        let mut deal: Deal = from_item(item)?;
        // Each deal moves on the version seen in the emptied stage: one moved elsewhere
        // meanwhile (dragged to Won) stays where it was put; one only edited is read again.
        for _ in 0..crate::versioned::WRITE_ATTEMPTS {
            if deal.stage_id != from || !principal.reaches(scope, &deal.owner_id) {
                break;
            }
            let to = StageMove {
                pipeline_id: to_pipeline.to_owned(),
                stage_id: to_stage.to_owned(),
            };
            let seen = Precondition::OneOf(vec![deal.version]);
            match change_stage(state, principal, &deal.id, to, seen).await {
                Ok(_) => {
                    moved += 1;
                    break;
                }
                Err(Error::PreconditionFailed(_)) => {
                    match state.table.get(&key(tenant, &deal.id)).await? {
                        Some(item) => deal = from_item(item)?,
                        None => break,
                    }
                }
                // Deleted meanwhile.
                Err(Error::NotFound(_)) => break,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(moved)
}

/// `GET /v1/pipelines/{id}/board` parameters: the first page of every stage, or with
/// `stage_id` the next page (`cursor`) of one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    /// Deals per stage (default 20).
    pub limit: Option<u32>,
    pub stage_id: Option<String>,
    pub cursor: Option<String>,
    /// Only this owner's deals (and totals).
    pub owner_id: Option<String>,
    /// Only deals expected to close in this range (inclusive, `YYYY-MM-DD`); a deal
    /// without an expected close date is outside any range.
    pub close_from: Option<String>,
    pub close_to: Option<String>,
}

/// The most deals a board totals by reading them (a close-date filter); beyond, it asks
/// for a narrower filter rather than show totals it did not finish.
pub const MAX_BOARD_SCAN: usize = 10_000;

#[derive(Debug, Serialize)]
pub struct Amount {
    pub currency: String,
    /// A sum over many records: beyond 64 bits when it must be (JSON numbers have no
    /// bound of their own).
    pub amount_minor: i128,
}

#[derive(Debug, Serialize)]
pub struct BoardStage {
    pub id: String,
    pub name: String,
    pub probability: u8,
    pub kind: StageKind,
    /// Deals in the stage that the caller may see, and their amounts per currency.
    pub count: u64,
    pub amounts: Vec<Amount>,
    pub deals: Vec<View>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Board {
    pub pipeline_id: String,
    pub name: String,
    pub stages: Vec<BoardStage>,
}

/// Default deals per stage on a board.
const BOARD_LIMIT: u32 = 20;

/// The board of a pipeline: its stages in order, each with the totals of the deals the
/// caller may see and their first page (newest arrivals first).
pub async fn board(
    state: &AppState,
    principal: &Principal,
    pipeline_id: &str,
    query: BoardQuery,
) -> Result<Board, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    // A board places each deal in its stage's column: it would show a hidden stage.
    principal.check_filters(
        RESOURCE,
        &[
            ("stage_id", "stage_id", true),
            ("owner_id", "owner_id", query.owner_id.is_some()),
            (
                "close_from",
                "expected_close_date",
                query.close_from.is_some(),
            ),
            ("close_to", "expected_close_date", query.close_to.is_some()),
        ],
    )?;
    let tenant = &principal.tenant;
    let pipeline = pipelines::service::find(state.table.as_ref(), tenant, pipeline_id)
        .await?
        .ok_or_else(|| Error::NotFound("No pipeline with this id.".into()))?;
    if query.cursor.is_some() && query.stage_id.is_none() {
        return Err(Error::validation(
            "cursor",
            "pages one stage: send stage_id with it",
        ));
    }
    let stages: Vec<&pipelines::Stage> = match &query.stage_id {
        Some(id) => vec![
            pipeline
                .stage(id)
                .ok_or_else(|| Error::validation("stage_id", "is not a stage of the pipeline"))?,
        ],
        None => pipeline.stages.iter().collect(),
    };
    let closing = close_range(&query)?;
    let totals = stats::read_all(state.table.as_ref(), tenant, pipeline_id).await?;
    let defs = definitions(state.table.as_ref(), tenant, RESOURCE).await?;
    let team: Vec<String> = principal.team_members.iter().cloned().collect();
    let params = ListParams {
        limit: Some(query.limit.unwrap_or(BOARD_LIMIT)),
        cursor: query.cursor.clone(),
    };
    // Totals of an amount the caller may not see would tell it (one deal in a stage
    // gives its amount away): a role that hides amounts gets counts only.
    let amounts_shown = principal.sees_field(RESOURCE, "amount");
    // An owner the caller cannot reach has no deals on the caller's board.
    let owner = query.owner_id.as_deref();
    let owner_seen = owner.is_none_or(|o| principal.reaches(scope, o));
    let in_range = |item: &Item| {
        closing.as_ref().is_none_or(|(from, to)| {
            item.get("expected_close_date")
                .and_then(Value::as_str)
                .is_some_and(|d| {
                    from.as_deref().is_none_or(|f| d >= f) && to.as_deref().is_none_or(|t| d <= t)
                })
        })
    };
    let mut out = Vec::with_capacity(stages.len());
    for stage in stages {
        let owner_index = owner.or((scope == Scope::Own).then_some(principal.user_id.as_str()));
        let (index_query, list_id) = match owner_index {
            Some(owner) => (
                Query::partition(stage_owner_pk(tenant, &stage.id, owner)).on(Index::Gsi3),
                format!("{tenant}/board/{}/owner/{owner}", stage.id),
            ),
            None => (
                Query::partition(stage_pk(tenant, &stage.id)).on(Index::Gsi2),
                format!("{tenant}/board/{}", stage.id),
            ),
        };
        let tally = if !owner_seen {
            stats::Tally::default()
        } else if closing.is_some() {
            // Totals by close date are not kept: the stage's deals are read and summed.
            if query.cursor.is_some() {
                stats::Tally::default()
            } else {
                scan_tally(state, principal, scope, index_query.clone(), &in_range).await?
            }
        } else {
            let stats = totals.get(&stage.id);
            match owner {
                Some(owner) => stats.and_then(|s| s.owners.get(owner)).cloned(),
                None => stats.map(|s| s.visible(scope, &principal.user_id, &team)),
            }
            .unwrap_or_default()
        };
        let (items, next_cursor) = if owner_seen {
            crate::records::list_query_where(
                state,
                principal,
                index_query,
                &list_id,
                scope,
                &params,
                &in_range,
            )
            .await?
        } else {
            (Vec::new(), None)
        };
        let deals = items
            .into_iter()
            .map(|item| show(principal, &defs, from_item(item)?))
            .collect::<Result<_, Error>>()?;
        out.push(BoardStage {
            id: stage.id.clone(),
            name: stage.name.clone(),
            probability: stage.probability,
            kind: stage.kind,
            count: tally.count,
            amounts: tally
                .amounts
                .into_iter()
                .filter(|_| amounts_shown)
                .map(|(currency, amount)| Amount {
                    currency,
                    amount_minor: amount.0,
                })
                .collect(),
            deals,
            next_cursor,
        });
    }
    Ok(Board {
        pipeline_id: pipeline.id,
        name: pipeline.name,
        stages: out,
    })
}

/// The close-date range of a board query, checked: `None` without one.
type CloseRange = (Option<String>, Option<String>);

fn close_range(query: &BoardQuery) -> Result<Option<CloseRange>, Error> {
    let mut errors = Errors::new();
    errors.date("close_from", query.close_from.as_deref());
    errors.date("close_to", query.close_to.as_deref());
    if let (Some(from), Some(to)) = (&query.close_from, &query.close_to)
        && errors.is_empty()
        && from > to
    {
        errors.add("close_to", "must not be before close_from");
    }
    errors.finish().map_err(Error::Validation)?;
    Ok((query.close_from.is_some() || query.close_to.is_some())
        .then(|| (query.close_from.clone(), query.close_to.clone())))
}

/// The totals of the deals `index_query` holds that the caller reaches and `keep` keeps,
/// read one by one (at most [`MAX_BOARD_SCAN`]).
async fn scan_tally(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    index_query: Query,
    keep: &(dyn Fn(&Item) -> bool + Sync),
) -> Result<stats::Tally, Error> {
    let mut tally = stats::Tally::default();
    let mut start = None;
    let mut read = 0;
    loop {
        let page = state
            .table
            .query(&index_query.clone().limit(100).start(start))
            .await?;
        read += page.items.len();
        if read > MAX_BOARD_SCAN {
            return Err(Error::validation(
                "close_from",
                format!(
                    "a stage holds more than {MAX_BOARD_SCAN} deals to total by close date; \
                     narrow the filter with owner_id"
                ),
            ));
        }
        for item in page.items {
            if reaches_item(principal, scope, &item) && keep(&item) {
                tally.add(&from_item::<Deal>(item)?, 1)?;
            }
        }
        match page.next {
            Some(next) => start = Some(next),
            None => return Ok(tally),
        }
    }
}

/// Moves every deal linked to contact (or company) `from` over to `to` (a merge).
pub async fn relink(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    from: &str,
    to: &str,
) -> Result<usize, Error> {
    let tenant = &principal.tenant;
    let partition = linked_pk(tenant, resource, from);
    crate::records::relink(
        state,
        principal,
        (partition, "deal_id"),
        (resource, from, to),
        |current: Deal, next: Deal| async move {
            let mut writes = vec![Write::Put {
                item: to_stored(tenant, &next)?,
                condition: Condition::VersionIs(current.version),
            }];
            writes.extend(link_writes(tenant, Some(&current), Some(&next))?);
            Ok(writes)
        },
    )
    .await
}
