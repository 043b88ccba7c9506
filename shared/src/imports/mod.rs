//! CSV imports of contacts and companies (`POST /v1/imports`): the file is checked and
//! stored, then a background job reads it row by row, as the person who uploaded it.
//!
//! Each row creates a record, or updates the one it duplicates (contacts: the same email
//! or phone; companies: the same name), or is skipped or fails with its reasons. A dry
//! run reports the same without writing. Re-running the same file creates nothing new:
//! rows matching records update them (usually to no change), and every created record
//! leaves a fingerprint of its row, written with it, which a repeat finds. The job
//! checkpoints after each batch, so an interrupted import resumes where it stopped.

pub mod file;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use self::file::Encoding;
use crate::AppState;
use crate::audit::Entry;
use crate::blobs::BlobKey;
use crate::companies::{self, Company, CompanyPatch, NewCompany};
use crate::contacts::{self, ContactPatch, NewContact};
use crate::error::Error;
use crate::fields;
use crate::ids::{TenantId, new_id};
use crate::jobs::{self, Job, Kind, Status, Step};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope};
use crate::principal::Principal;
use crate::records::{Writing, phone_region};
use crate::search::{self, Sort};
use crate::table::{Condition, Index, Key, Query, SortKey, Write, from_item, to_item};
use crate::terms;
use crate::validation::{Errors, FieldError, is_email, normalize_email, to_e164};
use crate::versioned::Precondition;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Params {
    object: String,
    blob: String,
    dry_run: bool,
    encoding: Encoding,
    delimiter: String,
    header: Vec<String>,
    /// Column index -> field.
    mapping: BTreeMap<usize, String>,
    rows: usize,
}

/// Where an import stands, and what it did so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: usize,
    pub failed: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Progress {
    next_row: usize,
    counts: Counts,
}

/// `POST /v1/imports` options (the file is the body; `map[<column>]=<field>` maps
/// columns).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportOptions {
    /// `contacts` (default) or `companies`.
    pub object: Option<String>,
    /// Check and report every row, write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// `,` or `;`; guessed from the header line when absent.
    pub delimiter: Option<String>,
    /// `utf-8` or `gbk`; guessed when absent.
    pub encoding: Option<Encoding>,
}

/// An import as the API shows it.
#[derive(Debug, Serialize)]
pub struct ImportView {
    pub id: String,
    pub object: String,
    pub status: Status,
    pub dry_run: bool,
    pub encoding: Encoding,
    pub delimiter: String,
    pub columns: Vec<Column>,
    pub rows: usize,
    pub processed_rows: usize,
    pub counts: Counts,
    pub error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Column {
    pub name: String,
    /// The field it fills; `null` when the column is ignored.
    pub field: Option<String>,
}

fn view(job: &Job) -> Result<ImportView, Error> {
    let params: Params = serde_json::from_value(job.params.clone())
        .map_err(|e| Error::Internal(format!("import params: {e}")))?;
    let progress: Progress = serde_json::from_value(job.progress.clone()).unwrap_or_default();
    Ok(ImportView {
        id: job.id.clone(),
        object: params.object,
        status: job.status,
        dry_run: params.dry_run,
        encoding: params.encoding,
        delimiter: params.delimiter,
        columns: params
            .header
            .iter()
            .enumerate()
            .map(|(i, name)| Column {
                name: name.clone(),
                field: params.mapping.get(&i).cloned(),
            })
            .collect(),
        rows: params.rows,
        processed_rows: progress.next_row.min(params.rows),
        counts: progress.counts,
        error: job.error.clone(),
        created_at: job.created_at.clone(),
        finished_at: job.finished_at.clone(),
    })
}

/// Whether `object` names a tenant's custom object (not contacts or companies).
fn is_custom(object: &str) -> bool {
    !matches!(object, "contacts" | "companies")
}

/// The resource roles grant for records of `object`.
fn resource(object: &str) -> String {
    if is_custom(object) {
        crate::fields::objects::resource_of(object)
    } else {
        object.to_owned()
    }
}

/// The object the import fills: contacts (the default), companies or a custom object of
/// the caller's company (404 when it has none by that key, after the permission check).
async fn object_of(
    state: &AppState,
    principal: &Principal,
    options: &ImportOptions,
) -> Result<String, Error> {
    let object = options.object.as_deref().unwrap_or("contacts");
    // Built-in names other than contacts and companies (deals, tasks, ...) are never a
    // custom object's key.
    if is_custom(object)
        && (!crate::fields::is_key(object) || crate::fields::objects::RESERVED.contains(&object))
    {
        return Err(Error::validation(
            "object",
            "must be contacts, companies or the key of a custom object",
        ));
    }
    principal.require(&resource(object), Action::Create)?;
    if is_custom(object) {
        crate::fields::objects::find(state, &principal.tenant, object).await?;
    }
    Ok(object.to_owned())
}

/// Checks the file and its mapping, stores it and queues the import (202).
pub async fn create(
    state: &AppState,
    principal: &Principal,
    options: ImportOptions,
    asked: BTreeMap<String, String>,
    body: &[u8],
) -> Result<ImportView, Error> {
    let object = object_of(state, principal, &options).await?;
    let object = object.as_str();
    let (text, encoding) =
        file::decode(body, options.encoding).map_err(|e| Error::validation("body", e))?;
    let delimiter = match options.delimiter.as_deref() {
        None => file::sniff_delimiter(&text),
        Some(",") => b',',
        Some(";") => b';',
        Some(_) => return Err(Error::validation("delimiter", "must be , or ;")),
    };
    let (header, rows) = file::parse(&text, delimiter).map_err(|e| Error::validation("body", e))?;
    let defs =
        fields::service::definitions(state.table.as_ref(), &principal.tenant, object).await?;
    let mut errors = Errors::new();
    let mapping = file::mapping(object, &header, &asked, &defs, &mut errors);
    errors.finish().map_err(Error::Validation)?;
    let blob_id = new_id(crate::ids::ImportFileId::PREFIX);
    let blob = format!("{}/imports/{blob_id}.csv", principal.tenant);
    let params = Params {
        object: object.to_owned(),
        blob: blob.clone(),
        dry_run: options.dry_run,
        encoding,
        delimiter: (delimiter as char).to_string(),
        header,
        mapping,
        rows: rows.len(),
    };
    let params = serde_json::to_value(&params)
        .map_err(|e| Error::Internal(format!("import params: {e}")))?;
    let progress = serde_json::to_value(Progress::default()).unwrap_or_default();
    let (job, mut writes) = jobs::new(state, principal, Kind::Import, params, progress)?;
    state
        .blobs
        .put(&blob_key(&blob)?, body.to_vec(), "text/csv")
        .await?;
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "import.created",
        "imports",
        Some(&job.id),
    );
    writes.extend(entry.writes(&principal.tenant)?);
    state.table.transact(writes).await?;
    view(&job)
}

fn blob_key(key: &str) -> Result<BlobKey, Error> {
    BlobKey::new(key).map_err(|e| Error::Internal(e.to_string()))
}

/// Whether the caller may see import `job`: they started it, or may create records of
/// its object for everyone.
fn visible(principal: &Principal, job: &Job) -> bool {
    if job.kind != Kind::Import {
        return false;
    }
    let object = job
        .params
        .get("object")
        .and_then(Value::as_str)
        .unwrap_or("");
    job.actor.id.as_deref() == Some(principal.user_id.as_str())
        || principal
            .permissions
            .allows(&resource(object), Action::Create)
            == Some(Scope::All)
}

async fn load(state: &AppState, principal: &Principal, id: &str) -> Result<Job, Error> {
    let visible = |job: &Job| visible(principal, job);
    jobs::find(state, principal, id, visible, "No import with this id.").await
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<ImportView, Error> {
    view(&load(state, principal, id).await?)
}

/// The imports the caller may see, newest first.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    params: ListParams,
) -> Result<ListPage<ImportView>, Error> {
    let list_id = format!("{}/imports", principal.tenant);
    let visible = |job: &Job| visible(principal, job);
    let (jobs, next_cursor) = jobs::list(state, principal, &params, &list_id, visible).await?;
    Ok(ListPage {
        data: jobs.iter().map(view).collect::<Result<_, _>>()?,
        next_cursor,
    })
}

/// What happened to one row (kept for rows that were skipped or failed).
#[derive(Debug, Serialize, Deserialize)]
pub struct RowReport {
    /// The row's line in the file (the header is line 1).
    pub line: usize,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Skipped,
    Failed,
}

fn rows_pk(tenant: &TenantId, job: &str) -> String {
    tenant.pk(&format!("import-rows#{job}"))
}

/// The report of the rows that were skipped or failed, in file order.
pub async fn rows(
    state: &AppState,
    principal: &Principal,
    id: &str,
    params: ListParams,
) -> Result<ListPage<RowReport>, Error> {
    load(state, principal, id).await?;
    let list_id = format!("{}/imports/{id}/rows", principal.tenant);
    let (items, next_cursor) = crate::records::page(
        state,
        Query::partition(rows_pk(&principal.tenant, id)),
        &list_id,
        &params,
    )
    .await?;
    Ok(ListPage {
        data: items.into_iter().map(from_item).collect::<Result<_, _>>()?,
        next_cursor,
    })
}

/// The last file read, by blob key: a job reads its file once, not once per step.
type Parsed = Arc<Vec<Vec<String>>>;
static FILE_CACHE: Mutex<Option<(String, Parsed)>> = Mutex::new(None);

async fn read_rows(state: &AppState, params: &Params) -> Result<Parsed, Error> {
    if let Some((key, rows)) = FILE_CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        && *key == params.blob
    {
        return Ok(rows.clone());
    }
    let blob = state
        .blobs
        .get(&blob_key(&params.blob)?)
        .await?
        .ok_or_else(|| Error::validation("body", "the uploaded file is gone"))?;
    let (text, _) = file::decode(&blob.bytes, Some(params.encoding))
        .map_err(|e| Error::validation("body", e))?;
    let delimiter = params.delimiter.bytes().next().unwrap_or(b',');
    let (_, rows) = file::parse(&text, delimiter).map_err(|e| Error::validation("body", e))?;
    let rows = Arc::new(rows);
    *FILE_CACHE.lock().unwrap_or_else(|p| p.into_inner()) =
        Some((params.blob.clone(), rows.clone()));
    Ok(rows)
}

/// One step of an import job: the next batch of rows.
pub async fn step(state: &AppState, principal: &Principal, job: &mut Job) -> Result<Step, Error> {
    let params: Params = serde_json::from_value(job.params.clone())
        .map_err(|e| Error::Internal(format!("import params: {e}")))?;
    let mut progress: Progress = serde_json::from_value(job.progress.clone()).unwrap_or_default();
    let rows = read_rows(state, &params).await?;
    let defs = Arc::new(
        fields::service::definitions(state.table.as_ref(), &principal.tenant, &params.object)
            .await?,
    );
    let region = phone_region(state, principal).await?;
    let end = (progress.next_row + state.config.import_batch_rows).min(rows.len());
    let mut reports = Vec::new();
    // Rows run many at a time (their work overlaps on the cores, and the embedded table
    // commits their transactions in large groups), but a row that could find one still
    // running (the same email, phone, name or fingerprint) waits for it, so a file's own
    // duplicates are still updated, not created twice.
    let mut running = tokio::task::JoinSet::new();
    let mut taken: HashSet<String> = HashSet::new();
    let mut waiting: Option<(usize, Map<String, Value>, Vec<String>)> = None;
    let mut outcomes = Vec::new();
    let mut index = progress.next_row;
    loop {
        while running.len() < PARALLEL_ROWS {
            let (i, input, keys) = match waiting.take() {
                Some(next) => next,
                None if index < end => {
                    let i = index;
                    index += 1;
                    if rows[i].is_empty() {
                        continue;
                    }
                    let input = file::row_input(&params.object, &rows[i], &params.mapping, &defs);
                    let keys = row_keys(&params.object, &region, &input);
                    (i, input, keys)
                }
                None => break,
            };
            if keys.iter().any(|k| taken.contains(k)) {
                waiting = Some((i, input, keys));
                break;
            }
            taken.extend(keys.iter().cloned());
            let (state, principal, params, region, job_id, defs) = (
                state.clone(),
                principal.clone(),
                params.clone(),
                region.clone(),
                job.id.clone(),
                defs.clone(),
            );
            running.spawn(async move {
                let known = Known {
                    region: &region,
                    defs,
                };
                let done = import_row(&state, &principal, &params, known, &job_id, input).await;
                (i, keys, done)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (i, keys, done) = joined.map_err(|e| Error::Internal(format!("import row: {e}")))?;
        for key in &keys {
            taken.remove(key);
        }
        outcomes.push((i, done?));
    }
    outcomes.sort_by_key(|(i, _)| *i);
    for (index, done) in outcomes {
        let (outcome, record_id, reason, errors) = match done {
            Done::Record(outcome, id) => (outcome, Some(id), None, Vec::new()),
            Done::Skipped(reason) => (Outcome::Skipped, None, Some(reason), Vec::new()),
            Done::Failed(errors) => (Outcome::Failed, None, None, errors),
        };
        let counts = &mut progress.counts;
        match outcome {
            Outcome::Created => counts.created += 1,
            Outcome::Updated => counts.updated += 1,
            Outcome::Unchanged => counts.unchanged += 1,
            Outcome::Skipped => counts.skipped += 1,
            Outcome::Failed => counts.failed += 1,
        }
        if matches!(outcome, Outcome::Skipped | Outcome::Failed) {
            reports.push(RowReport {
                line: index + 2,
                outcome,
                record_id,
                reason,
                errors,
            });
        }
    }
    for chunk in reports.chunks(50) {
        let writes = chunk
            .iter()
            .map(|r| {
                Ok(Write::Put {
                    item: to_item(
                        &Key::new(
                            rows_pk(&principal.tenant, &job.id),
                            format!("{:08}", r.line),
                        ),
                        r,
                    )?,
                    condition: Condition::None,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        state.table.transact(writes).await?;
    }
    progress.next_row = end;
    job.progress = serde_json::to_value(&progress).unwrap_or_default();
    if end < rows.len() {
        return Ok(Step::More);
    }
    // The file has served its purpose; it holds personal data, so it does not linger.
    state.blobs.delete(&blob_key(&params.blob)?).await?;
    Ok(Step::Done)
}

/// Rows imported at once: enough that the embedded table commits their transactions in
/// large groups (docs/decisions.md), few enough to bound the work in flight and how long
/// a group holds the writer from other requests.
const PARALLEL_ROWS: usize = 128;

/// What a row could be found by (so rows that could find each other do not run at once):
/// its emails and phones for contacts, its name for companies, and its fingerprint.
fn row_keys(object: &str, region: &str, input: &Map<String, Value>) -> Vec<String> {
    let mut keys = vec![format!("fp:{}", fingerprint_hex(object, input))];
    let list = |name: &str, field: &str| -> Vec<String> {
        input
            .get(name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get(field).and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    if object == "contacts" {
        keys.extend(
            list("emails", "address")
                .iter()
                .map(|e| format!("e:{}", normalize_email(e))),
        );
        keys.extend(
            list("phones", "number")
                .iter()
                .map(|p| format!("p:{}", to_e164(p, region).unwrap_or_else(|| p.clone()))),
        );
    } else if object == "companies"
        && let Some(name) = input.get("name").and_then(Value::as_str)
    {
        keys.push(format!("n:{}", terms::fold(name.trim())));
    }
    keys
}

#[derive(Debug)]
enum Done {
    Record(Outcome, String),
    Skipped(String),
    Failed(Vec<FieldError>),
}

/// What a service error means for a row: invalid data fails it, a refusal skips it.
fn row_error(e: Error) -> Result<Done, Error> {
    match e {
        Error::Validation(errors) | Error::ReadOnlyFields(errors) => Ok(Done::Failed(errors)),
        Error::Forbidden(detail) => Ok(Done::Skipped(detail)),
        Error::NotFound(_) => Ok(Done::Skipped(
            "It matches a record you may not change.".into(),
        )),
        Error::Conflict { detail, .. } | Error::PreconditionFailed(detail) => {
            Ok(Done::Skipped(detail))
        }
        other => Err(other),
    }
}

fn body_error(e: serde_json::Error) -> Done {
    Done::Failed(vec![FieldError {
        field: "row".into(),
        message: e.to_string(),
    }])
}

/// The fingerprint marker of a row: the same row (same object, same mapped values)
/// always has the same one.
fn fingerprint(tenant: &TenantId, object: &str, input: &Map<String, Value>) -> Key {
    Key::new(
        tenant.pk(&format!("import-fingerprints#{object}")),
        fingerprint_hex(object, input),
    )
}

fn fingerprint_hex(object: &str, input: &Map<String, Value>) -> String {
    let canonical = serde_json::to_vec(&Value::Object(input.clone())).unwrap_or_default();
    let digest = Sha256::new_with_prefix(object.as_bytes())
        .chain_update(&canonical)
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a step read once for all its rows.
struct Known<'a> {
    region: &'a str,
    defs: Arc<fields::Definitions>,
}

/// Imports one row.
async fn import_row(
    state: &AppState,
    principal: &Principal,
    params: &Params,
    known: Known<'_>,
    job_id: &str,
    input: Map<String, Value>,
) -> Result<Done, Error> {
    let region = known.region;
    let marker = fingerprint(&principal.tenant, &params.object, &input);
    if let Some(found) = state.table.get(&marker).await?
        && let Some(id) = found.get("id").and_then(Value::as_str)
        && readable(state, principal, &params.object, id).await?
    {
        // Made by this import before it was interrupted, or by an earlier run.
        let by_us = found.get("job").and_then(Value::as_str) == Some(job_id);
        let outcome = if by_us {
            Outcome::Created
        } else {
            Outcome::Unchanged
        };
        return Ok(Done::Record(outcome, id.to_owned()));
    }
    // A custom object's records have no natural key to match on: each row makes one
    // (the fingerprint above keeps a repeated import from making it twice).
    let found = match params.object.as_str() {
        "contacts" => contact_matches(state, principal, region, &input).await?,
        "companies" => company_matches(state, principal, &input).await?,
        _ => Vec::new(),
    };
    // Only records the caller may read count as duplicates: a report naming (or an
    // update of) one outside their scope would tell them it exists.
    let mut matches = Vec::with_capacity(found.len());
    for id in found {
        if readable(state, principal, &params.object, &id).await? {
            matches.push(id);
        }
    }
    match matches.as_slice() {
        [] => {}
        [id] => return update_row(state, principal, params, region, id, input).await,
        several => {
            return Ok(Done::Skipped(format!(
                "It matches several records ({}); merge them first.",
                several.join(", ")
            )));
        }
    }
    let id = new_id(match params.object.as_str() {
        "contacts" => contacts::PREFIX,
        "companies" => companies::PREFIX,
        _ => crate::ids::RecordId::PREFIX,
    });
    let writing = Writing {
        id: Some(id.clone()),
        extra: vec![Write::Put {
            item: to_item(&marker, &json!({ "id": id, "job": job_id }))?,
            condition: Condition::None,
        }],
        dry_run: params.dry_run,
        region: Some(region.to_owned()),
        definitions: Some(known.defs),
    };
    let created = match params.object.as_str() {
        "contacts" => {
            let input: NewContact = match serde_json::from_value(Value::Object(input)) {
                Ok(input) => input,
                Err(e) => return Ok(body_error(e)),
            };
            contacts::service::create_with(state, principal, input, writing).await
        }
        "companies" => {
            let input: NewCompany = match serde_json::from_value(Value::Object(input)) {
                Ok(input) => input,
                Err(e) => return Ok(body_error(e)),
            };
            companies::service::create_with(state, principal, input, writing).await
        }
        key => {
            let input: crate::objects::NewRecord =
                match serde_json::from_value(Value::Object(input)) {
                    Ok(input) => input,
                    Err(e) => return Ok(body_error(e)),
                };
            crate::objects::create_with(state, principal, key, input, writing).await
        }
    };
    match created {
        Ok(_) => Ok(Done::Record(Outcome::Created, id)),
        Err(e) => row_error(e),
    }
}

/// Whether record `id` exists and the caller may read it (in their scope, with the read
/// permission).
async fn readable(
    state: &AppState,
    principal: &Principal,
    object: &str,
    id: &str,
) -> Result<bool, Error> {
    let resource = crate::fields::objects::resource_of(object);
    state.hooks.can_read(state, principal, &resource, id).await
}

/// The contacts that share an email or a phone number with the row, by the fields the
/// caller may search (matching on a hidden or masked field would spell it out).
async fn contact_matches(
    state: &AppState,
    principal: &Principal,
    region: &str,
    input: &Map<String, Value>,
) -> Result<Vec<String>, Error> {
    let unsearchable = principal.permissions.unsearchable_fields("contacts");
    let list = |name: &str, field: &str| -> Vec<String> {
        if unsearchable.contains(name) {
            return Vec::new();
        }
        input
            .get(name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get(field).and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    let mut found = std::collections::BTreeSet::new();
    for email in list("emails", "address").iter().filter(|e| is_email(e)) {
        let term = terms::exact_term(&normalize_email(email));
        found.extend(search::exact(state, &principal.tenant, "contacts", &term, 10).await?);
    }
    for phone in list("phones", "number") {
        if let Some(e164) = to_e164(&phone, region) {
            let term = terms::phone_term(&e164);
            found.extend(search::exact(state, &principal.tenant, "contacts", &term, 10).await?);
        }
    }
    Ok(found.into_iter().collect())
}

/// The companies with the row's name (ignoring case and width).
async fn company_matches(
    state: &AppState,
    principal: &Principal,
    input: &Map<String, Value>,
) -> Result<Vec<String>, Error> {
    let Some(name) = input.get("name").and_then(Value::as_str) else {
        return Ok(Vec::new());
    };
    let folded = terms::fold(name.trim());
    let prefix: String = folded.chars().take(64).collect();
    let page = state
        .table
        .query(
            &Query::partition(search::filter::sorted_pk(
                &principal.tenant,
                companies::RESOURCE,
                Sort::Name,
            ))
            .on(Index::Gsi3)
            .sort_key(SortKey::BeginsWith(format!("{prefix}#")))
            .limit(10),
        )
        .await?;
    Ok(page
        .items
        .into_iter()
        .filter_map(|i| from_item::<Company>(i).ok())
        .filter(|c| terms::fold(c.name.trim()) == folded)
        .map(|c| c.id)
        .collect())
}

/// Adds `extra` to the list `name` of `current`, keeping `current`'s items first and
/// dropping repeats (compared by `same`).
fn union(current: &Value, extra: Option<&Value>, same: impl Fn(&Value, &Value) -> bool) -> Value {
    let mut items: Vec<Value> = current.as_array().cloned().unwrap_or_default();
    for item in extra.and_then(Value::as_array).into_iter().flatten() {
        if !items.iter().any(|i| same(i, item)) {
            items.push(item.clone());
        }
    }
    Value::Array(items)
}

/// Updates record `id`, which the row duplicates, with the row's values; lists (emails,
/// phones, tags) gain the row's items rather than being replaced.
async fn update_row(
    state: &AppState,
    principal: &Principal,
    params: &Params,
    region: &str,
    id: &str,
    mut input: Map<String, Value>,
) -> Result<Done, Error> {
    let current = if params.object == "contacts" {
        contacts::service::get(state, principal, id, false).await
    } else {
        companies::service::get(state, principal, id).await
    };
    let current = match current {
        Ok(view) => Value::Object(view.body),
        Err(e) => return row_error(e),
    };
    let text_same =
        |a: &Value, b: &Value| a.as_str().map(terms::fold) == b.as_str().map(terms::fold);
    if let Some(tags) = input.get("tags").cloned() {
        input.insert(
            "tags".into(),
            union(&current["tags"], Some(&tags), text_same),
        );
    }
    if params.object == "contacts" {
        if let Some(emails) = input.get("emails").cloned() {
            let same = |a: &Value, b: &Value| {
                a["address"].as_str().map(normalize_email)
                    == b["address"].as_str().map(normalize_email)
            };
            input.insert(
                "emails".into(),
                union(&current["emails"], Some(&emails), same),
            );
        }
        if let Some(phones) = input.get("phones").cloned() {
            let e164 = |v: &Value| v["number"].as_str().and_then(|n| to_e164(n, region));
            let same = |a: &Value, b: &Value| e164(a).is_some() && e164(a) == e164(b);
            input.insert(
                "phones".into(),
                union(&current["phones"], Some(&phones), same),
            );
        }
    }
    let before = current.get("version").and_then(Value::as_u64);
    let updated = if params.object == "contacts" {
        let patch: ContactPatch = match serde_json::from_value(Value::Object(input)) {
            Ok(p) => p,
            Err(e) => return Ok(body_error(e)),
        };
        contacts::service::update_with(
            state,
            principal,
            id,
            Precondition::Any,
            patch,
            params.dry_run,
        )
        .await
    } else {
        let patch: CompanyPatch = match serde_json::from_value(Value::Object(input)) {
            Ok(p) => p,
            Err(e) => return Ok(body_error(e)),
        };
        companies::service::update_with(
            state,
            principal,
            id,
            Precondition::Any,
            patch,
            params.dry_run,
        )
        .await
    };
    match updated {
        Ok(view) if Some(view.version) == before => {
            Ok(Done::Record(Outcome::Unchanged, id.to_owned()))
        }
        Ok(_) => Ok(Done::Record(Outcome::Updated, id.to_owned())),
        Err(e) => row_error(e),
    }
}
