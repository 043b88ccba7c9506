//! Task reminders: each pending reminder is a marker in one global queue ordered by its
//! time (`G#reminders`, holding only tenant and task ids), written and removed in the
//! task's own transactions. A worker fires what is due: in one transaction it removes
//! the marker (on condition that it still exists), stamps the task as reminded (on its
//! version) and writes the assignee's notification, so a reminder fires once however
//! many workers run and however often they restart. The email (when the task asks for
//! one) is sent after that commit: at most once.
//!
//! In AWS an EventBridge schedule runs the `reminders` function every minute; locally
//! the server's worker (`crate::reminders`) runs [`run_due`] with the same code.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Task;
use crate::AppState;
use crate::audit::Entry;
use crate::clock::millis_key_of;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::ids::TenantId;
use crate::mail::Mail;
use crate::notifications::{self, NotificationKind};
use crate::queue::{remove, run_queue};
use crate::table::{Condition, Key, TableError, Write, from_item, to_item};

const QUEUE: &str = "G#reminders";

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    tenant: String,
    task_id: String,
}

fn marker_key(tenant: &TenantId, task: &Task) -> Option<Key> {
    let at = millis_key_of(task.remind_at.as_deref()?)?;
    Some(Key::new(QUEUE, format!("{at}#{tenant}#{}", task.id)))
}

/// Whether `task` has a reminder still to fire.
fn pending(task: &Task) -> bool {
    task.status.is_open() && task.remind_at.is_some() && task.reminded_at.is_none()
}

/// The queue writes for a task going from `before` to `after` (either absent): the old
/// marker removed and the new one added when they differ.
pub fn queue_writes(
    tenant: &TenantId,
    before: Option<&Task>,
    after: Option<&Task>,
) -> Result<Vec<Write>, Error> {
    let old = before
        .filter(|t| pending(t))
        .and_then(|t| marker_key(tenant, t));
    let new = after
        .filter(|t| pending(t))
        .and_then(|t| marker_key(tenant, t));
    let mut writes = Vec::new();
    if old == new {
        return Ok(writes);
    }
    if let Some(key) = old {
        writes.push(Write::Delete {
            key,
            condition: Condition::None,
        });
    }
    if let (Some(key), Some(task)) = (new, after) {
        writes.push(Write::Put {
            item: to_item(
                &key,
                &Marker {
                    tenant: tenant.to_string(),
                    task_id: task.id.clone(),
                },
            )?,
            condition: Condition::None,
        });
    }
    Ok(writes)
}

/// Fires the reminders due by now, until none is left or `budget` is spent. Returns how
/// many fired.
pub async fn run_due(state: &AppState, budget: Duration) -> Result<usize, Error> {
    run_queue(state, QUEUE, budget, |key, item| fire(state, key, item)).await
}

/// Fires one due marker; false when it was stale (the task changed or went) or another
/// worker fired it first.
async fn fire(state: &AppState, key: Key, item: crate::table::Item) -> Result<bool, Error> {
    let Ok(marker) = from_item::<Marker>(item) else {
        state.table.delete(&key, Condition::None).await?;
        return Ok(false);
    };
    let Some(tenant) = TenantId::parse(&marker.tenant) else {
        state.table.delete(&key, Condition::None).await?;
        return Ok(false);
    };
    let task_key = super::key(&tenant, &marker.task_id);
    let task: Option<Task> = state
        .table
        .get(&task_key)
        .await?
        .map(from_item)
        .transpose()?;
    let Some(task) = task.filter(|t| pending(t) && marker_key(&tenant, t).as_ref() == Some(&key))
    else {
        // The task was changed (its own transaction wrote the new marker) or deleted.
        remove(state, &key).await?;
        return Ok(false);
    };
    let now = state.clock.now();
    let mut next = task.clone();
    next.reminded_at = Some(rfc3339(now));
    next.version = task.version + 1;
    let entry = Entry::system(now, "task.reminded", super::RESOURCE, Some(&task.id))
        .with_changes(Some(&task), Some(&next));
    let writes = [
        vec![
            Write::Delete {
                key: key.clone(),
                condition: Condition::Exists,
            },
            Write::Put {
                item: super::service::to_stored(&tenant, &next)?,
                condition: Condition::VersionIs(task.version),
            },
            notifications::write(
                &tenant,
                &task.owner_id,
                NotificationKind::TaskReminder,
                &task.title,
                (super::RESOURCE, &task.id),
                now,
            )?,
        ],
        entry.writes(&tenant)?,
    ]
    .concat();
    match state.table.transact(writes).await {
        Ok(()) => {}
        // Fired by another worker, or the task changed meanwhile: its marker (if any)
        // is the task's own now.
        Err(TableError::ConditionFailed { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    if task.remind_by_email {
        mail_reminder(state, &tenant, &task).await;
    }
    Ok(true)
}

/// Mails the reminder to the assignee (an active user); a failure is logged, not
/// retried: the in-app notification stands.
async fn mail_reminder(state: &AppState, tenant: &TenantId, task: &Task) {
    let user = match crate::directory::get_user(state.table.as_ref(), tenant, &task.owner_id).await
    {
        Ok(Some(user)) if user.status == crate::directory::Status::Active => user,
        _ => return,
    };
    let lang = crate::i18n::Lang::of_locale(&user.locale);
    // The console's task list; the API link is for scripts.
    let link = format!("{}/tasks", state.config.public_url);
    let due = task
        .due_at
        .as_deref()
        .map(|d| format!("{}{}\n", lang.pick("Due: ", "截止时间："), due_text(d)))
        .unwrap_or_default();
    let mail = Mail {
        to: user.email,
        subject: format!("{}{}", lang.pick("Reminder: ", "提醒："), task.title),
        text: format!("{}\n{due}\n{link}\n", task.title),
    };
    if let Err(e) = state.mailer.send(&mail).await {
        tracing::warn!(error = %e, task_id = %task.id, "reminder email not sent");
    }
}

/// A due time as people read it: `2026-12-07 09:00 UTC` (the stored RFC 3339 text if it
/// does not parse).
fn due_text(due: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::parse(due, &Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&format).ok())
        .unwrap_or_else(|| due.to_owned())
}
