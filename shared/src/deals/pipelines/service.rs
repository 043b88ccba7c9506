//! Pipeline operations. Reading pipelines needs `read` on deals (or on settings);
//! changing them needs `update` on settings: they shape every seller's board.

use serde::{Deserialize, Serialize};

use super::{
    MAX_PIPELINES, MAX_STAGES, NewPipeline, PREFIX, Pipeline, PipelinePatch, build_stages,
    check_name, default_name, default_stages, is_pipeline_id, key, pk,
};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::deals::{self, stats};
use crate::error::Error;
use crate::ids::{TenantId, new_id};
use crate::paging::ListPage;
use crate::policy::Action;
use crate::principal::Principal;
use crate::table::{Condition, Query, Table, Write, from_item, to_item};
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::versioned::write_on_version;

const SETTINGS: &str = "settings";

fn not_found() -> Error {
    Error::NotFound("No pipeline with this id.".into())
}

fn require_read(principal: &Principal) -> Result<(), Error> {
    if principal.require(deals::RESOURCE, Action::Read).is_ok() {
        return Ok(());
    }
    principal.require(SETTINGS, Action::Read).map(|_| ())
}

/// The write creating a tenant's first pipeline (part of sign-up's transaction).
pub fn default_pipeline_write(tenant: &TenantId, locale: &str, now: &str) -> Result<Write, Error> {
    let mut errors = Errors::new();
    let pipeline = Pipeline {
        id: new_id(PREFIX),
        name: default_name(locale).to_owned(),
        stages: build_stages(&[], default_stages(locale), &mut errors),
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
        version: 1,
    };
    errors.finish().map_err(Error::Validation)?;
    Ok(Write::Put {
        item: to_item(&key(tenant, &pipeline.id), &pipeline)?,
        condition: Condition::NotExists,
    })
}

/// Pipeline `id` of `tenant`, for services that check a deal's stage.
pub async fn find(
    table: &dyn Table,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<Pipeline>, Error> {
    if !is_pipeline_id(id) {
        return Ok(None);
    }
    Ok(table
        .get(&key(tenant, id))
        .await?
        .map(from_item)
        .transpose()?)
}

/// Every pipeline of `tenant`, oldest first.
pub async fn all(table: &dyn Table, tenant: &TenantId) -> Result<Vec<Pipeline>, Error> {
    let page = table
        .query(&Query::partition(pk(tenant)).limit(MAX_PIPELINES + 1))
        .await?;
    Ok(page
        .items
        .into_iter()
        .map(from_item)
        .collect::<Result<_, _>>()?)
}

pub async fn list(state: &AppState, principal: &Principal) -> Result<ListPage<Pipeline>, Error> {
    require_read(principal)?;
    Ok(ListPage {
        data: all(state.table.as_ref(), &principal.tenant).await?,
        next_cursor: None,
    })
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<Pipeline, Error> {
    require_read(principal)?;
    find(state.table.as_ref(), &principal.tenant, id)
        .await?
        .ok_or_else(not_found)
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewPipeline,
) -> Result<Pipeline, Error> {
    principal.require(SETTINGS, Action::Update)?;
    let mut errors = Errors::new();
    check_name(&input.name, &mut errors);
    let locale = crate::directory::get_tenant(state.table.as_ref(), &principal.tenant)
        .await?
        .map_or_else(|| "en".to_owned(), |t| t.locale);
    let stages = build_stages(
        &[],
        input.stages.unwrap_or_else(|| default_stages(&locale)),
        &mut errors,
    );
    errors.finish().map_err(Error::Validation)?;
    if all(state.table.as_ref(), &principal.tenant).await?.len() >= MAX_PIPELINES {
        return Err(Error::conflict(
            "too-many-pipelines",
            format!("An account has at most {MAX_PIPELINES} pipelines."),
        ));
    }
    let now = rfc3339(state.clock.now());
    let pipeline = Pipeline {
        id: new_id(PREFIX),
        name: input.name.trim().to_owned(),
        stages,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
    };
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "pipeline.created",
        "pipelines",
        Some(&pipeline.id),
    )
    .with_changes(None, Some(&pipeline));
    state
        .table
        .transact(
            [
                vec![Write::Put {
                    item: to_item(&key(&principal.tenant, &pipeline.id), &pipeline)?,
                    condition: Condition::NotExists,
                }],
                entry.writes(&principal.tenant)?,
            ]
            .concat(),
        )
        .await?;
    Ok(pipeline)
}

/// The stats of `stage_ids`, each checked empty (409 `stage-not-empty` otherwise), and
/// the writes that mark them removed (so no deal that read them before can enter).
async fn retire_stages(
    table: &dyn Table,
    tenant: &TenantId,
    pipeline: &Pipeline,
    stage_ids: &[String],
) -> Result<Vec<Write>, Error> {
    let mut writes = Vec::new();
    for stage_id in stage_ids {
        let mut stats = stats::read(table, tenant, &pipeline.id, stage_id).await?;
        if stats.all.count > 0 {
            let name = pipeline.stage(stage_id).map_or("", |s| s.name.as_str());
            return Err(Error::conflict(
                "stage-not-empty",
                format!(
                    "The stage \"{name}\" ({stage_id}) still holds {} deals; move them to \
                     another stage first (POST /v1/pipelines/{}/stages/{stage_id}/move-deals).",
                    stats.all.count, pipeline.id
                ),
            ));
        }
        stats.removed = true;
        writes.push(stats.write(tenant, &pipeline.id)?);
    }
    Ok(writes)
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: PipelinePatch,
) -> Result<Pipeline, Error> {
    principal.require(SETTINGS, Action::Update)?;
    let table = state.table.as_ref();
    let tenant = &principal.tenant;
    write_on_version(&precondition, "pipeline", || async {
        let current = find(table, tenant, id).await?.ok_or_else(not_found)?;
        let mut next = current.clone();
        let mut errors = Errors::new();
        match &patch.name {
            Some(Some(name)) => {
                check_name(name, &mut errors);
                next.name = name.trim().to_owned();
            }
            Some(None) => errors.add("name", "cannot be removed"),
            None => {}
        }
        match patch.stages.clone() {
            Some(Some(stages)) => next.stages = build_stages(&current.stages, stages, &mut errors),
            Some(None) => errors.add("stages", "cannot be removed"),
            None => {}
        }
        errors.finish().map_err(Error::Validation)?;
        precondition.check(current.version)?;
        if next == current {
            return Ok(Ok(current));
        }
        let removed: Vec<String> = current
            .stages
            .iter()
            .filter(|s| next.stage(&s.id).is_none())
            .map(|s| s.id.clone())
            .collect();
        let now = state.clock.now();
        next.version = current.version + 1;
        next.updated_at = rfc3339(now);
        let entry = Entry::by(principal, now, "pipeline.updated", "pipelines", Some(id))
            .with_changes(Some(&current), Some(&next));
        let mut writes = vec![Write::Put {
            item: to_item(&key(tenant, id), &next)?,
            condition: Condition::VersionIs(current.version),
        }];
        writes.extend(retire_stages(table, tenant, &current, &removed).await?);
        writes.extend(entry.writes(tenant)?);
        Ok(table.transact(writes).await.map(|()| next))
    })
    .await
}

/// Deletes a pipeline whose stages hold no deal; a tenant keeps at least one.
pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
) -> Result<(), Error> {
    principal.require(SETTINGS, Action::Update)?;
    let table = state.table.as_ref();
    let tenant = &principal.tenant;
    write_on_version(&precondition, "pipeline", || async {
        let current = find(table, tenant, id).await?.ok_or_else(not_found)?;
        precondition.check(current.version)?;
        if all(table, tenant).await?.len() <= 1 {
            return Err(Error::conflict(
                "last-pipeline",
                "An account keeps at least one pipeline.",
            ));
        }
        let stage_ids: Vec<String> = current.stages.iter().map(|s| s.id.clone()).collect();
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "pipeline.deleted",
            "pipelines",
            Some(id),
        )
        .with_changes(Some(&current), None);
        let mut writes = vec![Write::Delete {
            key: key(tenant, id),
            condition: Condition::VersionIs(current.version),
        }];
        writes.extend(retire_stages(table, tenant, &current, &stage_ids).await?);
        writes.extend(entry.writes(tenant)?);
        Ok(table.transact(writes).await)
    })
    .await
}

/// The body of `POST /v1/pipelines/{id}/stages/{stage_id}/move-deals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveDeals {
    /// Where the deals go: a stage of this pipeline, or of `to_pipeline_id`.
    pub to_stage_id: String,
    pub to_pipeline_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Moved {
    pub moved: usize,
    /// Deals still in the stage (call again while it is not 0; deals the caller may not
    /// change stay).
    pub remaining: u64,
}

/// Deals moved per call: each is its own versioned write, and a call must end well
/// within a gateway's time limit.
pub const MOVES_PER_CALL: usize = 100;

/// Moves up to [`MOVES_PER_CALL`] deals out of a stage (before removing it), each as a
/// patch of the deal by the caller: their permissions and scope apply, and each move is
/// recorded in the deal's stage history.
pub async fn move_deals(
    state: &AppState,
    principal: &Principal,
    id: &str,
    stage_id: &str,
    input: MoveDeals,
) -> Result<Moved, Error> {
    principal.require(deals::RESOURCE, Action::Update)?;
    let pipeline = get(state, principal, id).await?;
    if pipeline.stage(stage_id).is_none() {
        return Err(Error::NotFound("No stage with this id.".into()));
    }
    let to_pipeline = input
        .to_pipeline_id
        .clone()
        .unwrap_or_else(|| id.to_owned());
    if to_pipeline == id && input.to_stage_id == stage_id {
        return Err(Error::validation(
            "to_stage_id",
            "must be another stage than the one emptied",
        ));
    }
    let moved = deals::service::move_out(
        state,
        principal,
        stage_id,
        &to_pipeline,
        &input.to_stage_id,
        MOVES_PER_CALL,
    )
    .await?;
    let remaining = stats::read(state.table.as_ref(), &principal.tenant, id, stage_id)
        .await?
        .all
        .count;
    Ok(Moved { moved, remaining })
}

const _: () = assert!(MAX_STAGES + 2 <= crate::table::MAX_TRANSACTION_ITEMS);
