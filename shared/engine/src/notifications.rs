//! In-app notifications: what the product tells one user (a task reminder, a follow-up
//! task made for them, a ticket given to them or missing its service level), newest first, each marked read on its own or all at once.

use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::clock::rfc3339;
use crate::error::Error;
use crate::ids::{TenantId, is_id, new_id};
use crate::paging::{ListPage, ListParams};
use crate::principal::Principal;
use crate::table::{Condition, Key, Query, Write, from_item, to_item};

pub const PREFIX: &str = crate::ids::NotificationId::PREFIX;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    TaskReminder,
    FollowUpTask,
    /// A ticket was given to the user.
    TicketAssigned,
    /// A ticket of theirs (or of the team they lead) missed a service level target.
    SlaBreached,
    /// A webhook of the company was disabled (it answered 410, or failed for five days).
    WebhookDisabled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    pub kind: NotificationKind,
    pub title: String,
    /// What it is about, e.g. `tasks`, and its id.
    pub resource: String,
    pub record_id: String,
    pub read_at: Option<String>,
    pub created_at: String,
    pub version: u64,
}

fn pk(tenant: &TenantId, user_id: &str) -> String {
    tenant.pk(&format!("notifications#{user_id}"))
}

/// The write that gives `user_id` a new notification (ids are time-ordered, so the
/// partition reads newest first).
pub fn write(
    tenant: &TenantId,
    user_id: &str,
    kind: NotificationKind,
    title: &str,
    (resource, record_id): (&str, &str),
    at: time::OffsetDateTime,
) -> Result<Write, Error> {
    let notification = Notification {
        id: new_id(PREFIX),
        kind,
        title: title.to_owned(),
        resource: resource.to_owned(),
        record_id: record_id.to_owned(),
        read_at: None,
        created_at: rfc3339(at),
        version: 1,
    };
    Ok(Write::Put {
        item: to_item(
            &Key::new(pk(tenant, user_id), &notification.id),
            &notification,
        )?,
        condition: Condition::NotExists,
    })
}

/// `GET /v1/notifications` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Only those not read yet.
    #[serde(default)]
    pub unread: bool,
}

/// The caller's notifications, newest first. Every signed-in user (or key) has their own.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    query: NotificationQuery,
) -> Result<ListPage<Notification>, Error> {
    let params = ListParams {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = params.limit()?;
    let list_id = format!("{}/notifications/{}", principal.tenant, principal.user_id);
    let start = params
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(&list_id, c))
        .transpose()?;
    let table_query = Query::partition(pk(&principal.tenant, &principal.user_id))
        .descending()
        .limit(limit)
        .start(start);
    let unread = query.unread;
    let (data, next) = crate::table::query_filtered(
        state.table.as_ref(),
        table_query,
        limit,
        10,
        |n: &Notification| !unread || n.read_at.is_none(),
    )
    .await?;
    Ok(ListPage {
        data: data.into_iter().map(|n| n.view(principal)).collect(),
        next_cursor: next.map(|n| state.cursors.encode(&list_id, &n)),
    })
}

impl Notification {
    /// The notification as its user may see it now: its title names a record (a ticket's
    /// subject, a task's title), which passes through their view of that record (it was
    /// given to them, so it counts as theirs); a title they may no longer see gives way
    /// to a plain one.
    fn view(mut self, principal: &Principal) -> Self {
        let seen = principal
            .sees_title(&self.resource, Some(&principal.user_id), &self.title)
            .flatten();
        self.title = seen.unwrap_or_else(|| {
            match self.kind {
                NotificationKind::TaskReminder => "A task is due",
                NotificationKind::FollowUpTask => "A follow-up task was made for you",
                NotificationKind::TicketAssigned => "A ticket was given to you",
                NotificationKind::SlaBreached => "A ticket missed a service level target",
                NotificationKind::WebhookDisabled => "A webhook was disabled",
            }
            .to_owned()
        });
        self
    }
}

/// Marks one of the caller's notifications read (again is fine).
pub async fn mark_read(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<Notification, Error> {
    let not_found = || Error::NotFound("No notification with this id.".into());
    if !is_id(PREFIX, id) {
        return Err(not_found());
    }
    let key = Key::new(pk(&principal.tenant, &principal.user_id), id);
    crate::versioned::write_on_version(
        &crate::versioned::Precondition::Any,
        "notification",
        || async {
            let item = state.table.get(&key).await?.ok_or_else(not_found)?;
            let mut notification: Notification = from_item(item)?;
            if notification.read_at.is_some() {
                return Ok(Ok(notification));
            }
            let version = notification.version;
            notification.read_at = Some(rfc3339(state.clock.now()));
            notification.version += 1;
            let put = state
                .table
                .put(to_item(&key, &notification)?, Condition::VersionIs(version))
                .await;
            Ok(put.map(|()| notification))
        },
    )
    .await
    .map(|n| n.view(principal))
}

/// Most notifications one call marks read (call again for more).
const MAX_MARKED: usize = 1_000;

/// Marks the caller's unread notifications read (up to [`MAX_MARKED`]); returns how many.
pub async fn mark_all_read(state: &AppState, principal: &Principal) -> Result<usize, Error> {
    let mut marked = 0;
    let mut start = None;
    loop {
        let page = state
            .table
            .query(
                &Query::partition(pk(&principal.tenant, &principal.user_id))
                    .limit(100)
                    .start(start),
            )
            .await?;
        for item in page.items {
            let notification: Notification = from_item(item)?;
            if notification.read_at.is_none() {
                if marked == MAX_MARKED {
                    return Ok(marked);
                }
                mark_read(state, principal, &notification.id).await?;
                marked += 1;
            }
        }
        match page.next {
            Some(next) => start = Some(next),
            None => return Ok(marked),
        }
    }
}
