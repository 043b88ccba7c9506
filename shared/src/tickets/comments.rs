//! Ticket comments: public replies (the customer is mailed them) and internal notes. The
//! service team's first public reply is the ticket's first response: it is stamped on
//! the ticket (a new ticket becomes open) in the comment's own transaction, which also
//! stops the first-response clock.

use serde::{Deserialize, Serialize};

use super::{RESOURCE, Ticket, TicketStatus, comments_pk, sla};
use crate::AppState;
use crate::audit::{Actor, Entry};
use crate::clock::{millis_key, rfc3339};
use crate::error::Error;
use crate::ids::new_id;
use crate::mail::Mail;
use crate::paging::{ListPage, ListParams};
use crate::policy::Action;
use crate::principal::Principal;
use crate::table::{Condition, Key, Query, Write, from_item, to_item};
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::versioned::write_on_version;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: String,
    pub ticket_id: String,
    pub body: String,
    /// A reply the customer sees (and is mailed); otherwise an internal note.
    pub public: bool,
    pub author: Actor,
    pub created_at: String,
}

/// The body of `POST /v1/tickets/{id}/comments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    pub body: String,
    /// Internal note unless `true`.
    #[serde(default)]
    pub public: bool,
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    ticket_id: &str,
    input: NewComment,
) -> Result<Comment, Error> {
    let scope = principal.require(RESOURCE, Action::Update)?;
    let mut errors = Errors::new();
    errors.text("body", &input.body, 1, 20_000);
    errors.finish().map_err(Error::Validation)?;
    let tenant = &principal.tenant;
    let (comment, ticket) = write_on_version(&Precondition::Any, "ticket", || async {
        let current: Ticket = super::service::load(state, principal, scope, ticket_id).await?;
        let now = state.clock.now();
        let comment = Comment {
            id: new_id(crate::ids::CommentId::PREFIX),
            ticket_id: ticket_id.to_owned(),
            body: input.body.trim().to_owned(),
            public: input.public,
            author: Actor::of(principal),
            created_at: rfc3339(now),
        };
        let mut writes = vec![Write::Put {
            item: to_item(
                &Key::new(
                    comments_pk(tenant, ticket_id),
                    format!("{}#{}", millis_key(now), comment.id),
                ),
                &comment,
            )?,
            condition: Condition::NotExists,
        }];
        let first_response = comment.public && current.first_responded_at.is_none();
        if first_response {
            let mut next = current.clone();
            next.first_responded_at = Some(comment.created_at.clone());
            if next.status == TicketStatus::New {
                next.status = TicketStatus::Open;
            }
            next.updated_at = comment.created_at.clone();
            next.version = current.version + 1;
            sla::flag_late(&mut next);
            let entry = Entry::by(
                principal,
                now,
                "ticket.first_response",
                RESOURCE,
                Some(ticket_id),
            )
            .with_changes(Some(&current), Some(&next));
            writes.push(Write::Put {
                item: super::service::to_stored(tenant, &next)?,
                condition: Condition::VersionIs(current.version),
            });
            writes.extend(sla::queue_writes(tenant, Some(&current), Some(&next))?);
            writes.extend(super::service::history_writes(
                tenant,
                principal,
                Some(&current),
                &next,
                now,
            )?);
            writes.extend(entry.writes(tenant)?);
        } else {
            // The comment must not land on a ticket deleted meanwhile.
            writes.push(Write::Check {
                key: super::key(tenant, ticket_id),
                condition: Condition::VersionIs(current.version),
            });
        }
        let entry = Entry::by(
            principal,
            now,
            "ticket.commented",
            RESOURCE,
            Some(ticket_id),
        )
        .with_changes(None, Some(&serde_json::json!({ "public": comment.public })));
        writes.extend(entry.writes(tenant)?);
        Ok(state
            .table
            .transact(writes)
            .await
            .map(|()| (comment, current)))
    })
    .await?;
    if comment.public {
        mail_reply(state, principal, &ticket, &comment).await;
    }
    Ok(comment)
}

/// Mails a public reply to the ticket's contact (their first email); a failure is
/// logged: the reply stands on the ticket.
async fn mail_reply(state: &AppState, principal: &Principal, ticket: &Ticket, comment: &Comment) {
    let Some(to) = contact_email(state, principal, ticket.contact_id.as_deref()).await else {
        return;
    };
    let mail = Mail {
        to,
        subject: format!("[{}] {}", ticket.number, ticket.subject),
        text: format!("{}\n\n-- \n{}\n", comment.body, ticket.number),
    };
    if let Err(e) = state.mailer.send(&mail).await {
        tracing::warn!(error = %e, ticket_id = %ticket.id, "ticket reply not mailed");
    }
}

/// The first email address of contact `id` (of the caller's tenant), if it has one.
pub(crate) async fn contact_email(
    state: &AppState,
    principal: &Principal,
    id: Option<&str>,
) -> Option<String> {
    let id = id?;
    let system = Principal::system(
        principal.tenant.clone(),
        "mailer",
        principal.request.clone(),
    );
    let view = crate::contacts::service::get(state, &system, id, false)
        .await
        .ok()?;
    view.body.get("emails")?[0]["address"]
        .as_str()
        .map(str::to_owned)
}

/// The comments of ticket `id`, oldest first.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    ticket_id: &str,
    params: ListParams,
) -> Result<ListPage<Comment>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    super::service::load(state, principal, scope, ticket_id).await?;
    let list_id = format!("{}/ticket-comments/{ticket_id}", principal.tenant);
    let query = Query::partition(comments_pk(&principal.tenant, ticket_id));
    let (items, next_cursor) = crate::records::page(state, query, &list_id, &params).await?;
    let data = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
    Ok(ListPage { data, next_cursor })
}
