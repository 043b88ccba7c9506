//! Background jobs: work too long for one request (imports, exports), run by a worker
//! with the same code everywhere: in the local server a task polls every second; in AWS a
//! scheduled function does. A job checkpoints as it goes and holds a lease while it runs,
//! so a worker that dies mid-job is replaced by the next one, which resumes from the last
//! checkpoint; jobs are written to be safe to repeat from there.
//!
//! A job is a tenant item (`T#<t>#jobs` / `job_…`); while it is pending, a queue marker
//! (`G#jobs` / `job_…`, holding only the tenant id) lets workers find it without scanning
//! tenants. Both are written in one transaction, and removed together when it ends.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::AppState;
use crate::audit::Actor;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::ids::{TenantId, new_id};
use crate::principal::Principal;
use crate::principal::RequestMeta;
use crate::table::{Condition, Key, Query, TableError, Write, from_item, to_item};

pub const PREFIX: &str = crate::ids::JobId::PREFIX;
const QUEUE_PK: &str = "G#jobs";
/// How long a worker may hold a job without checkpointing before another may take it.
const LEASE: Duration = Duration::from_secs(120);
/// Tries before a job that keeps failing for want of the backend is given up.
const MAX_ATTEMPTS: u32 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Import,
    Export,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Running,
    Succeeded,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub kind: Kind,
    pub status: Status,
    /// Who asked for it; the job acts as them, with their permissions as they are when
    /// it runs.
    pub actor: Actor,
    pub request: RequestMeta,
    /// What to do (kind-specific).
    pub params: Value,
    /// How far it got and what it found (kind-specific); the checkpoint it resumes from.
    pub progress: Value,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub lease_until: Option<String>,
    #[serde(default)]
    pub attempts: u32,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
    pub version: u64,
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk("jobs"), id)
}

fn queue_key(id: &str) -> Key {
    Key::new(QUEUE_PK, id)
}

/// A new queued job of `kind` for `principal`, with the writes that store it and queue
/// it (for the caller to commit with whatever else belongs in the same transaction).
pub fn new(
    state: &AppState,
    principal: &Principal,
    kind: Kind,
    params: Value,
    progress: Value,
) -> Result<(Job, Vec<Write>), Error> {
    let now = rfc3339(state.clock.now());
    let job = Job {
        id: new_id(PREFIX),
        kind,
        status: Status::Queued,
        actor: Actor::of(principal),
        request: principal.request.clone(),
        params,
        progress,
        error: None,
        lease_until: None,
        attempts: 0,
        created_at: now.clone(),
        updated_at: now,
        finished_at: None,
        version: 1,
    };
    let writes = vec![
        Write::Put {
            item: to_item(&key(&principal.tenant, &job.id), &job)?,
            condition: Condition::NotExists,
        },
        Write::Put {
            item: to_item(
                &queue_key(&job.id),
                &serde_json::json!({ "tenant": principal.tenant }),
            )?,
            condition: Condition::NotExists,
        },
    ];
    Ok((job, writes))
}

/// Job `id` of `tenant`, if it exists.
pub async fn get(state: &AppState, tenant: &TenantId, id: &str) -> Result<Option<Job>, Error> {
    Ok(state
        .table
        .get(&key(tenant, id))
        .await?
        .map(from_item)
        .transpose()?)
}

/// Job `id` of the caller's tenant if `visible` lets the caller see it; else a 404
/// saying `missing`.
pub async fn find(
    state: &AppState,
    principal: &Principal,
    id: &str,
    visible: impl Fn(&Job) -> bool,
    missing: &str,
) -> Result<Job, Error> {
    let not_found = || Error::NotFound(missing.to_owned());
    if !crate::ids::is_id(PREFIX, id) {
        return Err(not_found());
    }
    get(state, &principal.tenant, id)
        .await?
        .filter(|j| visible(j))
        .ok_or_else(not_found)
}

/// One page of the caller's tenant's jobs that `visible` lets them see, newest first,
/// with the cursor of the next page (bound to `list_id`).
pub async fn list(
    state: &AppState,
    principal: &Principal,
    params: &crate::paging::ListParams,
    list_id: &str,
    visible: impl Fn(&Job) -> bool,
) -> Result<(Vec<Job>, Option<String>), Error> {
    let limit = params.limit()?;
    let start = params
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(list_id, c))
        .transpose()?;
    let query = Query::partition(principal.tenant.pk("jobs"))
        .descending()
        .limit(limit)
        .start(start);
    let (jobs, next) =
        crate::table::query_filtered(state.table.as_ref(), query, limit, 10, visible).await?;
    Ok((jobs, next.map(|n| state.cursors.encode(list_id, &n))))
}

/// What one step of a job did.
pub enum Step {
    /// More to do: store this progress and go on.
    More,
    /// Finished: store this progress and end the job.
    Done,
}

/// Runs one step of a job (a bounded amount of work, after which its `progress` is
/// stored). `principal` is the job's owner acting again.
pub type Stepper = for<'a> fn(
    &'a AppState,
    &'a Principal,
    &'a mut Job,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Step, Error>> + Send + 'a>,
>;

/// The step function of each kind of job. The areas that run jobs (imports, exports)
/// build on this module, so the composition root hands their steps in
/// ([`crate::wiring::job_steps`]).
pub type Steps = fn(Kind) -> Stepper;

/// Stores `job` if it is still at `version - 1`; `false` when another worker changed it.
async fn save(state: &AppState, tenant: &TenantId, job: &Job) -> Result<bool, Error> {
    let item = to_item(&key(tenant, &job.id), job)?;
    match state
        .table
        .put(item, Condition::VersionIs(job.version - 1))
        .await
    {
        Ok(()) => Ok(true),
        Err(TableError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Ends `job` as `status`: stores it and takes it off the queue, in one transaction.
async fn finish(
    state: &AppState,
    tenant: &TenantId,
    job: &mut Job,
    status: Status,
    error: Option<String>,
) -> Result<(), Error> {
    let now = rfc3339(state.clock.now());
    job.status = status;
    job.error = error;
    job.lease_until = None;
    job.finished_at = Some(now.clone());
    job.updated_at = now;
    job.version += 1;
    state
        .table
        .transact(vec![
            Write::Put {
                item: to_item(&key(tenant, &job.id), job)?,
                condition: Condition::VersionIs(job.version - 1),
            },
            Write::Delete {
                key: queue_key(&job.id),
                condition: Condition::None,
            },
        ])
        .await?;
    Ok(())
}

fn lease_held(job: &Job, now: OffsetDateTime) -> bool {
    job.status == Status::Running
        && job.lease_until.as_deref().is_some_and(|until| {
            OffsetDateTime::parse(until, &time::format_description::well_known::Rfc3339)
                .is_ok_and(|until| until > now)
        })
}

/// Works through the queue until it is empty or `budget` has passed; returns how many
/// jobs ended. Safe to run in several workers at once: each job is leased to one.
pub async fn run_pending(state: &AppState, budget: Duration, steps: Steps) -> Result<usize, Error> {
    run_until(state, budget, &|| false, steps).await
}

/// [`run_pending`], also letting go (at the next checkpoint) once `stop` says so.
pub async fn run_until(
    state: &AppState,
    budget: Duration,
    stop: &(dyn Fn() -> bool + Sync),
    steps: Steps,
) -> Result<usize, Error> {
    let started = tokio::time::Instant::now();
    let mut ended = 0;
    let queue = state
        .table
        .query(&Query::partition(QUEUE_PK).limit(20))
        .await?;
    for marker in queue.items {
        if started.elapsed() >= budget || stop() {
            break;
        }
        let (Some(id), Some(tenant)) = (
            marker.get("sk").and_then(Value::as_str),
            marker
                .get("tenant")
                .and_then(Value::as_str)
                .and_then(TenantId::parse),
        ) else {
            continue;
        };
        match run_one(state, &tenant, id, started, budget, stop, steps).await {
            Ok(true) => ended += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(job = id, error = %e, "job step failed; it will be retried"),
        }
    }
    Ok(ended)
}

/// Leases and runs job `id`; `true` when it ended.
async fn run_one(
    state: &AppState,
    tenant: &TenantId,
    id: &str,
    started: tokio::time::Instant,
    budget: Duration,
    stop: &(dyn Fn() -> bool + Sync),
    steps: Steps,
) -> Result<bool, Error> {
    let Some(mut job) = get(state, tenant, id).await? else {
        // The tenant's data is gone (deleted): nothing left to do.
        state.table.delete(&queue_key(id), Condition::None).await?;
        return Ok(false);
    };
    let now = state.clock.now();
    if matches!(job.status, Status::Succeeded | Status::Failed) {
        state.table.delete(&queue_key(id), Condition::None).await?;
        return Ok(false);
    }
    if lease_held(&job, now) {
        return Ok(false);
    }
    if job.attempts >= MAX_ATTEMPTS {
        let error = "The job kept failing and was given up.".to_owned();
        finish(state, tenant, &mut job, Status::Failed, Some(error)).await?;
        return Ok(true);
    }
    job.status = Status::Running;
    job.attempts += 1;
    job.lease_until = Some(rfc3339(now + LEASE));
    job.updated_at = rfc3339(now);
    job.version += 1;
    if !save(state, tenant, &job).await? {
        return Ok(false); // another worker took it
    }
    let Some(principal) =
        crate::auth::service::principal_for(state, tenant, &job.actor, job.request.clone()).await?
    else {
        let error = "Whoever started the job can no longer act.".to_owned();
        finish(state, tenant, &mut job, Status::Failed, Some(error)).await?;
        return Ok(true);
    };
    let step = steps(job.kind);
    loop {
        match step(state, &principal, &mut job).await {
            Ok(Step::Done) => {
                finish(state, tenant, &mut job, Status::Succeeded, None).await?;
                return Ok(true);
            }
            Ok(Step::More) => {
                let now = state.clock.now();
                job.lease_until = Some(rfc3339(now + LEASE));
                job.updated_at = rfc3339(now);
                job.version += 1;
                if !save(state, tenant, &job).await? {
                    return Ok(false); // lost the lease; the holder goes on
                }
                if started.elapsed() >= budget || stop() {
                    // Let go, so the next run (or another worker) resumes at once.
                    job.lease_until = None;
                    job.version += 1;
                    save(state, tenant, &job).await?;
                    return Ok(false);
                }
            }
            Err(e @ (Error::Unavailable(_) | Error::Internal(_))) => return Err(e),
            Err(e) => {
                let error = e.to_string();
                finish(state, tenant, &mut job, Status::Failed, Some(error)).await?;
                return Ok(true);
            }
        }
    }
}

/// The worker of the local server: runs the queue every `interval` until `stop` fires.
pub async fn worker(
    state: AppState,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    steps: Steps,
) {
    loop {
        let stopping = stop.clone();
        let should_stop = move || *stopping.borrow();
        if let Err(e) = run_until(&state, Duration::from_secs(30), &should_stop, steps).await {
            tracing::warn!(error = %e, "job queue unavailable");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}
