//! Exports of a filtered list of contacts, companies or records of a custom object to CSV
//! or JSON (`POST /v1/exports`). Needs `export` on the object. The export runs as a background job acting
//! as the person who asked, so it holds exactly what their list would show them: their
//! record scope, hidden fields left out, masked fields masked. The file is stored and
//! offered through a signed link that expires.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::AppState;
use crate::audit::Entry;
use crate::blobs::BlobKey;
use crate::companies::service::{self as companies, CompanyQuery};
use crate::contacts::service::{self as contacts, ContactQuery};
use crate::error::Error;
use crate::fields::objects::resource_of;
use crate::jobs::{self, Job, Kind, Status, Step};
use crate::objects::RecordQuery;
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Permissions, View};
use crate::principal::Principal;
use crate::spreadsheet::neutralise;

/// Records read per step (and per part file).
const PAGE: u32 = 200;
/// Most records one export holds.
pub const MAX_RECORDS: usize = 100_000;
/// How long a download link works: long enough to follow at once, short because a
/// link (an S3 presigned URL) cannot be taken back when the asker's rights shrink.
const LINK_TTL: Duration = Duration::from_secs(600);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Json,
}

/// The body of `POST /v1/exports`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewExport {
    /// `contacts`, `companies` or the key of a custom object.
    pub object: String,
    pub format: Format,
    /// The list's filters, as `GET /v1/contacts` (or companies) takes them, without
    /// `limit` and `cursor`; custom-field conditions under `cf`.
    #[serde(default)]
    pub filters: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Params {
    object: String,
    format: Format,
    filters: Map<String, Value>,
    custom: BTreeMap<String, String>,
    /// The asker's `read` and `export` rights on the object when the export was made:
    /// the file is handed out only while they still hold at least these.
    #[serde(default)]
    access: Option<Permissions>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Progress {
    cursor: Option<String>,
    parts: usize,
    records: usize,
    file: Option<String>,
}

/// An export as the API shows it.
#[derive(Debug, Serialize)]
pub struct ExportView {
    pub id: String,
    pub object: String,
    pub format: Format,
    pub status: Status,
    pub records: usize,
    /// A link to the file, valid for ten minutes from this answer, once it is ready and
    /// while the asker may still read and export all it holds.
    pub download_url: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

fn blob(key: &str) -> Result<BlobKey, Error> {
    BlobKey::new(key).map_err(|e| Error::Internal(e.to_string()))
}

/// Why the asker may no longer have the file (their rights narrowed since), if so.
fn refusal(principal: &Principal, params: &Params) -> Option<String> {
    let narrowed = || {
        format!(
            "Your access to {} has narrowed since this export was made, so its file is no \
             longer yours to download; make a new export.",
            params.object
        )
    };
    let resource = resource_of(&params.object);
    if principal.require(&resource, Action::Export).is_err()
        || principal.require(&resource, Action::Read).is_err()
    {
        return Some(narrowed());
    }
    match &params.access {
        Some(access) if principal.permissions.covers(access).is_err() => Some(narrowed()),
        _ => None,
    }
}

async fn view(state: &AppState, principal: &Principal, job: &Job) -> Result<ExportView, Error> {
    let params: Params = serde_json::from_value(job.params.clone())
        .map_err(|e| Error::Internal(format!("export params: {e}")))?;
    let progress: Progress = serde_json::from_value(job.progress.clone()).unwrap_or_default();
    let download_url = match (&progress.file, job.status) {
        (Some(file), Status::Succeeded) if refusal(principal, &params).is_none() => {
            Some(state.blobs.signed_url(&blob(file)?, LINK_TTL).await?)
        }
        _ => None,
    };
    Ok(ExportView {
        id: job.id.clone(),
        object: params.object,
        format: params.format,
        status: job.status,
        records: progress.records,
        download_url,
        error: job.error.clone(),
        created_at: job.created_at.clone(),
        finished_at: job.finished_at.clone(),
    })
}

/// The filters as the object's list query, with the page asked for.
fn list_query<T: serde::de::DeserializeOwned>(
    filters: &Map<String, Value>,
    cursor: Option<String>,
) -> Result<T, Error> {
    let mut query = Map::new();
    for (name, value) in filters {
        if matches!(name.as_str(), "limit" | "cursor" | "cf") {
            return Err(Error::validation(
                format!("filters.{name}"),
                "is not a filter",
            ));
        }
        let Value::String(_) = value else {
            return Err(Error::validation(
                format!("filters.{name}"),
                "must be text, as in the list's query string",
            ));
        };
        query.insert(name.clone(), value.clone());
    }
    query.insert("limit".into(), Value::from(PAGE));
    if let Some(cursor) = cursor {
        query.insert("cursor".into(), Value::String(cursor));
    }
    serde_json::from_value(Value::Object(query)).map_err(|e| {
        let text = e.to_string();
        let field = text
            .split('`')
            .nth(1)
            .map_or("filters".to_owned(), |f| format!("filters.{f}"));
        Error::validation(field, text)
    })
}

/// One page of the list the export is of, as its owner sees it.
async fn page(
    state: &AppState,
    principal: &Principal,
    params: &Params,
    cursor: Option<String>,
) -> Result<ListPage<View>, Error> {
    let custom = params.custom.clone();
    match params.object.as_str() {
        "contacts" => {
            let query: ContactQuery = list_query(&params.filters, cursor)?;
            contacts::list(state, principal, query, custom).await
        }
        "companies" => {
            let query: CompanyQuery = list_query(&params.filters, cursor)?;
            companies::list(state, principal, query, custom).await
        }
        key => {
            let query: RecordQuery = list_query(&params.filters, cursor)?;
            crate::objects::list(state, principal, key, query, custom).await
        }
    }
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewExport,
) -> Result<ExportView, Error> {
    let resource = resource_of(&input.object);
    let custom_object = !matches!(input.object.as_str(), "contacts" | "companies");
    if custom_object
        && crate::fields::objects::all(state.table.as_ref(), &principal.tenant)
            .await?
            .get(&input.object)
            .is_none()
    {
        return Err(Error::validation(
            "object",
            "must be contacts, companies or the key of a custom object",
        ));
    }
    principal.require(&resource, Action::Export)?;
    let mut filters = input.filters;
    let custom: BTreeMap<String, String> = match filters.remove("cf") {
        None => BTreeMap::new(),
        Some(cf) => serde_json::from_value(cf).map_err(|_| {
            Error::validation("filters.cf", "must map custom field keys to conditions")
        })?,
    };
    let access = principal
        .permissions
        .snapshot(&resource, &[Action::Read, Action::Export]);
    let params = Params {
        object: input.object,
        format: input.format,
        filters,
        custom,
        access,
    };
    // The filters are judged now, so a bad one is a 422 here rather than a failed job.
    page(state, principal, &params, None).await?;
    let params_json = serde_json::to_value(&params)
        .map_err(|e| Error::Internal(format!("export params: {e}")))?;
    let progress = serde_json::to_value(Progress::default()).unwrap_or_default();
    let (job, mut writes) = jobs::new(state, principal, Kind::Export, params_json, progress)?;
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "export.created",
        "exports",
        Some(&job.id),
    )
    .with_changes(
        None,
        Some(&serde_json::json!({"object": params.object, "filters": params.filters})),
    );
    writes.extend(entry.writes(&principal.tenant)?);
    state.table.transact(writes).await?;
    view(state, principal, &job).await
}

/// Whether `job` is an export `principal` asked for: exports hold what that person may
/// see, so they are seen by them only.
fn theirs(principal: &Principal, job: &Job) -> bool {
    job.kind == Kind::Export && job.actor.id.as_deref() == Some(&principal.user_id)
}

async fn load(state: &AppState, principal: &Principal, id: &str) -> Result<Job, Error> {
    let visible = |job: &Job| theirs(principal, job);
    jobs::find(state, principal, id, visible, "No export with this id.").await
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<ExportView, Error> {
    let job = load(state, principal, id).await?;
    if job.status == Status::Succeeded
        && let Ok(params) = serde_json::from_value::<Params>(job.params.clone())
        && let Some(why) = refusal(principal, &params)
    {
        return Err(Error::Forbidden(why));
    }
    view(state, principal, &job).await
}

/// The caller's exports, newest first.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    params: ListParams,
) -> Result<ListPage<ExportView>, Error> {
    let list_id = format!("{}/exports/{}", principal.tenant, principal.user_id);
    let visible = |job: &Job| theirs(principal, job);
    let (jobs, next_cursor) = jobs::list(state, principal, &params, &list_id, visible).await?;
    let mut data = Vec::with_capacity(jobs.len());
    for job in &jobs {
        data.push(view(state, principal, job).await?);
    }
    Ok(ListPage { data, next_cursor })
}

fn part_key(tenant: &str, job: &str, n: usize) -> String {
    format!("{tenant}/exports/{job}/part-{n:05}")
}

/// A cell of a CSV line: lists joined with `; `, objects as `key: value` pairs.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Object(m) => m
                    .get("address")
                    .or_else(|| m.get("number"))
                    .map_or_else(|| i.to_string(), cell),
                other => cell(other),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}: {}", cell(v)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// The columns of a CSV export: the fields of the first record seen, custom fields as
/// `custom.<key>`.
fn columns(records: &[Map<String, Value>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for record in records {
        for (k, v) in record {
            if k == "custom" {
                for key in v.as_object().into_iter().flat_map(|m| m.keys()) {
                    let name = format!("custom.{key}");
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
            } else if !out.contains(k) {
                out.push(k.clone());
            }
        }
    }
    out
}

/// One step of an export job: the next page, stored as a part; at the end, the parts
/// joined into the file.
pub async fn step(state: &AppState, principal: &Principal, job: &mut Job) -> Result<Step, Error> {
    let params: Params = serde_json::from_value(job.params.clone())
        .map_err(|e| Error::Internal(format!("export params: {e}")))?;
    let mut progress: Progress = serde_json::from_value(job.progress.clone()).unwrap_or_default();
    let tenant = principal.tenant.to_string();
    let listed = page(state, principal, &params, progress.cursor.clone()).await?;
    let records: Vec<Map<String, Value>> = listed.data.into_iter().map(|v| v.body).collect();
    progress.records += records.len();
    if progress.records > MAX_RECORDS {
        return Err(Error::validation(
            "filters",
            format!("an export holds at most {MAX_RECORDS} records; narrow the filters"),
        ));
    }
    let bytes =
        serde_json::to_vec(&records).map_err(|e| Error::Internal(format!("export part: {e}")))?;
    state
        .blobs
        .put(
            &blob(&part_key(&tenant, &job.id, progress.parts))?,
            bytes,
            "application/json",
        )
        .await?;
    progress.parts += 1;
    progress.cursor = listed.next_cursor;
    if progress.cursor.is_some() {
        job.progress = serde_json::to_value(&progress).unwrap_or_default();
        return Ok(Step::More);
    }
    // Join the parts into the file.
    let mut all: Vec<Map<String, Value>> = Vec::with_capacity(progress.records);
    for n in 0..progress.parts {
        let part = state
            .blobs
            .get(&blob(&part_key(&tenant, &job.id, n))?)
            .await?
            .ok_or_else(|| Error::Unavailable("an export part is missing".into()))?;
        let records: Vec<Map<String, Value>> = serde_json::from_slice(&part.bytes)
            .map_err(|e| Error::Internal(format!("export part: {e}")))?;
        all.extend(records);
    }
    let (bytes, ext, content_type) = match params.format {
        Format::Json => (
            serde_json::to_vec_pretty(&all).map_err(|e| Error::Internal(e.to_string()))?,
            "json",
            "application/json",
        ),
        Format::Csv => {
            let columns = columns(&all);
            let mut writer = csv::Writer::from_writer(Vec::new());
            // A BOM, so spreadsheet programs read the UTF-8 (Chinese names) right.
            let mut out = b"\xEF\xBB\xBF".to_vec();
            writer
                .write_record(columns.iter().map(|c| neutralise(c.clone())))
                .map_err(|e| Error::Internal(e.to_string()))?;
            for record in &all {
                let row: Vec<String> = columns
                    .iter()
                    .map(|c| match c.strip_prefix("custom.") {
                        Some(key) => record.get("custom").and_then(|m| m.get(key)),
                        None => record.get(c),
                    })
                    .map(|value| match value {
                        None => String::new(),
                        // A number is never read as a formula (`-5` is minus five).
                        Some(n @ Value::Number(_)) => n.to_string(),
                        Some(other) => neutralise(cell(other)),
                    })
                    .collect();
                writer
                    .write_record(&row)
                    .map_err(|e| Error::Internal(e.to_string()))?;
            }
            out.extend(
                writer
                    .into_inner()
                    .map_err(|e| Error::Internal(e.to_string()))?,
            );
            (out, "csv", "text/csv; charset=utf-8")
        }
    };
    let file = format!("{tenant}/exports/{}.{ext}", job.id);
    state.blobs.put(&blob(&file)?, bytes, content_type).await?;
    for n in 0..progress.parts {
        state
            .blobs
            .delete(&blob(&part_key(&tenant, &job.id, n))?)
            .await?;
    }
    progress.file = Some(file);
    job.progress = serde_json::to_value(&progress).unwrap_or_default();
    Ok(Step::Done)
}
