//! Task operations, on the record engine: permission first, then tenant and record scope
//! (the assignee is the owner; a task out of scope, or of another tenant, is not found).
//! What is a task's own is its [`Kind`]: a task's write carries its reminder marker, its
//! links and the merge holds on its contact, and its lists are its own (the "my tasks"
//! views by due time, the tasks of a record).

use serde::Deserialize;
use time::{OffsetDateTime, UtcOffset};

use super::reminders;
use super::{
    NewTask, PREFIX, RESOURCE, Task, TaskPatch, TaskStatus, key, linked_pk, normalize_and_check,
    open_pk,
};
use crate::AppState;
use crate::audit::Entry;
use crate::engine::{self, Context, Fresh, Kind};
use crate::error::Error;
use crate::fields::Definitions;
use crate::ids::TenantId;
use crate::notifications::{self, NotificationKind};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope, View};
use crate::principal::Principal;
use crate::records::{list_query, owner_pk};
use crate::table::{Condition, Index, Item, Key, Query, SortKey, Write, from_item};
use crate::validation::Errors;
use crate::{companies, contacts};

/// Tasks, as the record engine handles them: no custom fields, no search, no timeline of
/// their own (a task shows on its records' timelines as an activity).
#[derive(Default)]
pub struct Tasks;

crm_engine::indexed!(Task, RESOURCE, title);

crm_engine::versioned_record!(Task);

impl Kind for Tasks {
    type Record = Task;
    type Id = crate::ids::TaskId;
    type New = NewTask;
    type Patch = TaskPatch;
    const SEARCHED: bool = false;
    const TIMELINE: bool = false;
    const CUSTOM_FIELDS: bool = false;

    fn resource(&self) -> &str {
        RESOURCE
    }

    fn noun(&self) -> &str {
        "task"
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

    fn sent_new(&self, input: &NewTask) -> Vec<String> {
        input.fields_sent().into_iter().map(str::to_owned).collect()
    }

    fn sent_patch(&self, patch: &TaskPatch) -> Vec<String> {
        patch.fields_sent().into_iter().map(str::to_owned).collect()
    }

    async fn build(
        &self,
        _: &AppState,
        _: &Principal,
        input: NewTask,
        fresh: Fresh,
        _: &Context,
        _: &mut Errors,
    ) -> Result<Task, Error> {
        Ok(Task {
            id: fresh.id,
            title: input.title,
            kind: input.kind.unwrap_or_default(),
            due_at: input.due_at,
            remind_at: input.remind_at,
            remind_by_email: input.remind_by_email,
            reminded_at: None,
            owner_id: input.owner_id.unwrap_or_else(|| fresh.user_id.clone()),
            priority: input.priority.unwrap_or_default(),
            status: input.status.unwrap_or_default(),
            notes: input.notes,
            contact_id: input.contact_id,
            company_id: input.company_id,
            deal_id: input.deal_id,
            ticket_id: input.ticket_id,
            completed_at: None,
            created_by: fresh.user_id,
            created_at: fresh.now.clone(),
            updated_at: fresh.now,
            version: 1,
        })
    }

    async fn apply(
        &self,
        _: &AppState,
        _: &Principal,
        patch: TaskPatch,
        task: &mut Task,
        _: &Context,
        errors: &mut Errors,
    ) -> Result<Vec<Write>, Error> {
        patch.apply(task, errors);
        Ok(Vec::new())
    }

    fn check(&self, before: Option<&Task>, task: &mut Task, cx: &Context, errors: &mut Errors) {
        normalize_and_check(task, errors);
        settle_status(before, task, &cx.now);
    }

    fn updated(&self, before: &Task, after: &Task) -> &'static str {
        if before.status != TaskStatus::Done && after.status == TaskStatus::Done {
            "completed"
        } else {
            "updated"
        }
    }

    async fn check_links(
        &self,
        state: &AppState,
        principal: &Principal,
        _: &Definitions,
        before: Option<&Task>,
        after: &Task,
        errors: &mut Errors,
    ) -> Result<(), Error> {
        check_links(state, principal, before, after, errors).await
    }

    /// While open, the task is in its assignee's index of open tasks by due time.
    fn index(&self, tenant: &TenantId, task: &Task, item: &mut Item) {
        if task.status.is_open() {
            item.insert("gsi2pk".into(), open_pk(tenant, &task.owner_id).into());
            item.insert("gsi2sk".into(), due_sk(task).into());
        }
    }

    /// Its reminder marker, its link items and the merge holds on its contact.
    async fn writes(
        &self,
        _: &AppState,
        principal: &Principal,
        change: &engine::Change<'_, Task>,
    ) -> Result<Vec<Write>, Error> {
        let (tenant, before, after) = (&principal.tenant, change.before, change.after);
        let mut writes = reminders::queue_writes(tenant, before, after)?;
        writes.extend(link_writes(tenant, before, after)?);
        if after.is_some() {
            writes.extend(crate::contacts::merge::link_holds(
                tenant,
                before.and_then(|t| t.contact_id.as_deref()),
                after.and_then(|t| t.contact_id.as_deref()),
            ));
        }
        Ok(writes)
    }
}

/// The resources of the deals and tickets a task may belong to.
const DEALS: &str = "deals";
const TICKETS: &str = "tickets";

fn not_found() -> Error {
    Error::NotFound("No task with this id.".into())
}

/// Sort key of an open task in its assignee's index: by due time, undated ones last.
fn due_sk(task: &Task) -> String {
    let due = task
        .due_at
        .as_deref()
        .and_then(crate::clock::millis_key_of)
        .unwrap_or_else(|| "9".repeat(15));
    format!("{due}#{}", task.id)
}

/// The stored item: the task, in its assignee's index, and while open in their index
/// of open tasks by due time.
pub fn to_stored(tenant: &TenantId, task: &Task) -> Result<Item, Error> {
    engine::to_stored(tenant, &Tasks, task, None)
}

fn links(task: &Task) -> Vec<(&'static str, &str)> {
    [
        (contacts::service::RESOURCE, task.contact_id.as_deref()),
        (companies::RESOURCE, task.company_id.as_deref()),
        (DEALS, task.deal_id.as_deref()),
        (TICKETS, task.ticket_id.as_deref()),
    ]
    .into_iter()
    .filter_map(|(r, id)| id.map(|id| (r, id)))
    .collect()
}

pub(crate) fn link_writes(
    tenant: &TenantId,
    before: Option<&Task>,
    after: Option<&Task>,
) -> Result<Vec<Write>, Error> {
    let id = after.or(before).map_or("", |t| t.id.as_str());
    crate::records::link_writes(
        |resource, record| linked_pk(tenant, resource, record),
        ("task_id", id),
        &before.map(links).unwrap_or_default(),
        &after.map(links).unwrap_or_default(),
    )
}

/// Each newly linked record must be one the caller can see.
async fn check_links(
    state: &AppState,
    principal: &Principal,
    before: Option<&Task>,
    task: &Task,
    errors: &mut Errors,
) -> Result<(), Error> {
    let old = before.map(links).unwrap_or_default();
    for (resource, id) in links(task) {
        if old.contains(&(resource, id)) {
            continue;
        }
        // The deals and tickets areas build on tasks (follow-ups), so they are asked
        // through the state's hooks rather than imported.
        if !state.hooks.can_read(state, principal, resource, id).await? {
            let field = match resource {
                "contacts" => "contact_id",
                "companies" => "company_id",
                "deals" => "deal_id",
                _ => "ticket_id",
            };
            errors.add(field, format!("is not one of the {resource} you can see"));
        }
    }
    Ok(())
}

/// Settles completion: `completed_at` is set (to `now`) when a task is done and cleared
/// when it is reopened.
fn settle_status(before: Option<&Task>, task: &mut Task, now: &str) {
    let was_done = before.is_some_and(|b| b.status == TaskStatus::Done);
    match task.status {
        TaskStatus::Done if !was_done => task.completed_at = Some(now.to_owned()),
        TaskStatus::Done => {}
        _ => task.completed_at = None,
    }
}

fn show(principal: &Principal, task: &Task) -> Result<View, Error> {
    principal.view(RESOURCE, task, false)
}

async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Task, Error> {
    engine::load(state, principal, &Tasks, scope, id).await
}

/// The "my tasks" views: open tasks by due time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskView {
    /// Due before now.
    Overdue,
    /// Due today (in `utc_offset`).
    Today,
    /// Due after today, then those without a due time.
    Upcoming,
}

/// `GET /v1/tasks` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Open tasks of the assignee (the caller unless `owner_id`) by due time.
    pub view: Option<TaskView>,
    /// The caller's UTC offset for `today` (`+08:00`); UTC when absent.
    pub utc_offset: Option<String>,
    pub owner_id: Option<String>,
    pub status: Option<TaskStatus>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub deal_id: Option<String>,
    pub ticket_id: Option<String>,
}

/// The start of the day containing `now` and of the next one, in `offset`, as time keys.
fn day_bounds(now: OffsetDateTime, offset: UtcOffset) -> (String, String) {
    let local = now.to_offset(offset);
    let start = local.replace_time(time::Time::MIDNIGHT);
    let end = start + time::Duration::days(1);
    (
        crate::clock::millis_key(start),
        crate::clock::millis_key(end),
    )
}

pub async fn list(
    state: &AppState,
    principal: &Principal,
    query: TaskQuery,
) -> Result<ListPage<View>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    principal.check_filters(
        RESOURCE,
        &[
            // The views pick and order tasks by their due time.
            ("view", "due_at", query.view.is_some()),
            ("owner_id", "owner_id", query.owner_id.is_some()),
            ("status", "status", query.status.is_some()),
            ("contact_id", "contact_id", query.contact_id.is_some()),
            ("company_id", "company_id", query.company_id.is_some()),
            ("deal_id", "deal_id", query.deal_id.is_some()),
            ("ticket_id", "ticket_id", query.ticket_id.is_some()),
        ],
    )?;
    let tenant = &principal.tenant;
    let params = ListParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let linked = [
        (contacts::service::RESOURCE, &query.contact_id),
        (companies::RESOURCE, &query.company_id),
        (DEALS, &query.deal_id),
        (TICKETS, &query.ticket_id),
    ]
    .into_iter()
    .filter_map(|(r, id)| id.as_deref().map(|id| (r, id)))
    .collect::<Vec<_>>();
    if linked.len() > 1 || (!linked.is_empty() && query.view.is_some()) {
        return Err(Error::validation(
            "view",
            "give one of view, contact_id, company_id, deal_id and ticket_id",
        ));
    }
    let offset = match query.utc_offset.as_deref() {
        None => UtcOffset::UTC,
        Some(text) => UtcOffset::parse(
            text,
            time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]"),
        )
        .map_err(|_| Error::validation("utc_offset", "must be like +08:00 or -05:00"))?,
    };
    let keep = |task: &Task| {
        principal.reaches(scope, &task.owner_id)
            && query.status.is_none_or(|s| s == task.status)
            && query.owner_id.as_ref().is_none_or(|o| *o == task.owner_id)
    };
    let tasks: Vec<Task>;
    let next_cursor;
    if let Some((resource, record)) = linked.first() {
        (tasks, next_cursor) = crate::records::linked_page(
            state,
            (linked_pk(tenant, resource, record), "task_id"),
            &format!("{tenant}/tasks/{resource}/{record}"),
            &params,
            |id| async move { load(state, principal, scope, &id).await },
            keep,
        )
        .await?;
    } else if let Some(view) = query.view {
        let owner = query.owner_id.as_deref().unwrap_or(&principal.user_id);
        let (start, end) = day_bounds(state.clock.now(), offset);
        let now = crate::clock::millis_key(state.clock.now());
        let (low, high) = match view {
            TaskView::Overdue => ("0".to_owned(), now),
            TaskView::Today => (start, end),
            TaskView::Upcoming => (end, "9".repeat(15) + "~"),
        };
        let table_query = Query::partition(open_pk(tenant, owner))
            .on(Index::Gsi2)
            .sort_key(SortKey::Between(low, high));
        let list_id = format!("{tenant}/tasks/open/{owner}/{view:?}");
        let (items, next) = crate::records::page(state, table_query, &list_id, &params).await?;
        let found: Vec<Task> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        (tasks, next_cursor) = (found.into_iter().filter(|t| keep(t)).collect(), next);
    } else {
        let (table_query, list_id) = match (&query.owner_id, scope) {
            (Some(owner), _) => (
                Query::partition(owner_pk(tenant, RESOURCE, owner)).on(Index::Gsi1),
                format!("{tenant}/tasks/owner/{owner}"),
            ),
            (None, Scope::Own) => (
                Query::partition(owner_pk(tenant, RESOURCE, &principal.user_id)).on(Index::Gsi1),
                format!("{tenant}/tasks/owner/{}", principal.user_id),
            ),
            (None, _) => (
                Query::partition(tenant.pk(RESOURCE)),
                format!("{tenant}/tasks"),
            ),
        };
        let (items, next) =
            list_query(state, principal, table_query, &list_id, scope, &params).await?;
        let found: Vec<Task> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        (tasks, next_cursor) = (found.into_iter().filter(|t| keep(t)).collect(), next);
    }
    let data = tasks
        .iter()
        .map(|t| show(principal, t))
        .collect::<Result<_, _>>()?;
    Ok(ListPage { data, next_cursor })
}

/// The writes of a follow-up task the product made (see [`Task::follow_up`]): the task,
/// its links, its owner's notification and the audit entry, to go in the transaction of
/// what caused it.
pub fn follow_up_writes(
    tenant: &TenantId,
    task: &Task,
    now: OffsetDateTime,
) -> Result<Vec<Write>, Error> {
    let entry =
        Entry::system(now, "task.created", RESOURCE, Some(&task.id)).with_changes(None, Some(task));
    let mut writes = vec![Write::Put {
        item: to_stored(tenant, task)?,
        condition: Condition::NotExists,
    }];
    writes.extend(link_writes(tenant, None, Some(task))?);
    writes.push(notifications::write(
        tenant,
        &task.owner_id,
        NotificationKind::FollowUpTask,
        &task.title,
        (RESOURCE, &task.id),
        now,
    )?);
    writes.extend(entry.writes(tenant)?);
    Ok(writes)
}

/// Moves every task linked to contact (or company) `from` over to `to` (a merge).
pub async fn relink(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    from: &str,
    to: &str,
) -> Result<usize, Error> {
    let tenant = &principal.tenant;
    let partition = linked_pk(tenant, resource, from);
    crate::records::relink_plain(
        state,
        principal,
        (partition, "task_id"),
        (resource, from, to),
        (to_stored, link_writes),
    )
    .await
}
