//! Tickets: a customer's request to the service team, from any channel, with a
//! priority, a status, an assignee and/or team, service-level targets, tags, custom
//! fields, comments (public replies and internal notes), and a history of every status,
//! assignee, team and priority change. This module holds the record and its rules;
//! `service` applies permissions, `assign` picks assignees, `sla` times and flags the
//! targets, `settings` keeps the tenant's service settings and `web_form` takes tickets
//! from the public.

pub mod assign;
pub mod comments;
pub mod service;
pub mod settings;
pub mod sla;
pub mod web_form;

use serde::{Deserialize, Serialize};

use crate::ids::TenantId;
use crate::policy::FieldSpec;
use crate::table::Key;
use crate::tasks::Priority;
use crate::validation::Errors;
use crate::wire::present;

pub const PREFIX: &str = crate::ids::TicketId::PREFIX;
pub const RESOURCE: &str = "tickets";

/// The fields role rules can restrict.
pub const FIELDS: &[FieldSpec] = crate::policy::fields::TICKETS;

/// Where a ticket came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Phone,
    Email,
    WebForm,
    Chat,
    PartnerApi,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    #[default]
    New,
    Open,
    /// Waiting on the customer.
    Pending,
    Resolved,
    Closed,
}

impl TicketStatus {
    /// Whether the service team still owes the customer something.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            TicketStatus::New | TicketStatus::Open | TicketStatus::Pending
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::New => "new",
            TicketStatus::Open => "open",
            TicketStatus::Pending => "pending",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: String,
    /// `TK-000001`, … per tenant: what customers quote.
    pub number: String,
    pub subject: String,
    pub description: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub channel: Channel,
    pub category: Option<String>,
    /// ISO 3166-1 alpha-2; assignment rules may route by it.
    pub region: Option<String>,
    pub priority: Priority,
    pub status: TicketStatus,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub custom: serde_json::Map<String, serde_json::Value>,
    /// Service-level targets of the ticket's priority (RFC 3339), when a policy sets them.
    pub first_response_due_at: Option<String>,
    pub resolution_due_at: Option<String>,
    /// The first public reply of the service team.
    pub first_responded_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    /// A target passed unmet.
    #[serde(default)]
    pub first_response_breached: bool,
    #[serde(default)]
    pub resolution_breached: bool,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl Ticket {
    /// What a survey about this ticket records of it.
    pub fn about(&self) -> crate::surveys::About {
        crate::surveys::About {
            ticket_id: self.id.clone(),
            contact_id: self.contact_id.clone(),
            agent_id: self.assignee_id.clone(),
            team_id: self.team_id.clone(),
            category: self.category.clone(),
        }
    }

    /// Who owns it for record scope: the assignee, or while unassigned its creator.
    pub fn owner(&self) -> &str {
        self.assignee_id.as_deref().unwrap_or(&self.created_by)
    }
}

impl crate::records::Owned for Ticket {
    fn owner_id(&self) -> &str {
        self.owner()
    }
}

impl crate::records::Relinked for Ticket {
    const NOUN: &'static str = "ticket";
    const RESOURCE: &'static str = RESOURCE;

    fn key(tenant: &TenantId, id: &str) -> Key {
        key(tenant, id)
    }

    fn link_mut(&mut self, resource: &str) -> Option<&mut Option<String>> {
        match resource {
            "contacts" => Some(&mut self.contact_id),
            "companies" => Some(&mut self.company_id),
            _ => None,
        }
    }

    fn bump(&mut self, now: String) {
        self.version += 1;
        self.updated_at = now;
    }

    fn version(&self) -> u64 {
        self.version
    }
}

/// The body of `POST /v1/tickets`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub subject: String,
    pub description: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    /// `partner_api` for API keys and `phone` for people when absent.
    pub channel: Option<Channel>,
    pub category: Option<String>,
    pub region: Option<String>,
    pub priority: Option<Priority>,
    pub status: Option<TicketStatus>,
    /// Chosen by the assignment rules when neither this nor `team_id` is given.
    pub assignee_id: Option<String>,
    /// Without `assignee_id`: a member of the team, in turn.
    pub team_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub custom: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The body of `PATCH /v1/tickets/{id}` (JSON merge patch).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    #[serde(default, deserialize_with = "present")]
    pub subject: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub contact_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub company_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub channel: Option<Option<Channel>>,
    #[serde(default, deserialize_with = "present")]
    pub category: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub priority: Option<Option<Priority>>,
    #[serde(default, deserialize_with = "present")]
    pub status: Option<Option<TicketStatus>>,
    #[serde(default, deserialize_with = "present")]
    pub assignee_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub team_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    pub custom: Option<Option<serde_json::Map<String, serde_json::Value>>>,
}

fn sent(flags: [bool; FIELDS.len()]) -> Vec<&'static str> {
    FIELDS
        .iter()
        .zip(flags)
        .filter(|(_, set)| *set)
        .map(|(f, _)| f.name)
        .collect()
}

impl NewTicket {
    pub fn fields_sent(&self) -> Vec<&'static str> {
        sent([
            true,
            self.description.is_some(),
            self.contact_id.is_some(),
            self.company_id.is_some(),
            self.channel.is_some(),
            self.category.is_some(),
            self.region.is_some(),
            self.priority.is_some(),
            self.status.is_some(),
            self.assignee_id.is_some(),
            self.team_id.is_some(),
            !self.tags.is_empty(),
            self.custom.is_some(),
        ])
    }
}

impl TicketPatch {
    pub fn fields_sent(&self) -> Vec<&'static str> {
        sent([
            self.subject.is_some(),
            self.description.is_some(),
            self.contact_id.is_some(),
            self.company_id.is_some(),
            self.channel.is_some(),
            self.category.is_some(),
            self.region.is_some(),
            self.priority.is_some(),
            self.status.is_some(),
            self.assignee_id.is_some(),
            self.team_id.is_some(),
            self.tags.is_some(),
            self.custom.is_some(),
        ])
    }

    /// Applies the patch; fields that cannot be cleared report an error.
    pub fn apply(self, ticket: &mut Ticket, errors: &mut Errors) {
        if let Some(custom) = self.custom {
            crate::fields::merge(&mut ticket.custom, custom);
        }
        match self.subject {
            Some(Some(v)) => ticket.subject = v,
            Some(None) => errors.add("subject", "cannot be removed"),
            None => {}
        }
        if let Some(v) = self.channel {
            ticket.channel = v.unwrap_or_default();
        }
        if let Some(v) = self.priority {
            ticket.priority = v.unwrap_or_default();
        }
        if let Some(v) = self.status {
            match v {
                Some(v) => ticket.status = v,
                None => errors.add("status", "cannot be removed"),
            }
        }
        if let Some(v) = self.tags {
            ticket.tags = v.unwrap_or_default();
        }
        macro_rules! replace {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field {
                    ticket.$field = v;
                }
            )*};
        }
        replace!(
            description,
            contact_id,
            company_id,
            category,
            region,
            assignee_id,
            team_id
        );
    }
}

/// Most tags on one ticket.
pub const MAX_TAGS: usize = 20;

/// Normalizes what can be and reports every rule the ticket breaks (links, assignee and
/// team are checked by the service, which reads them).
pub fn normalize_and_check(ticket: &mut Ticket, errors: &mut Errors) {
    errors.text("subject", &ticket.subject, 1, 300);
    ticket.subject = ticket.subject.trim().to_owned();
    errors.trimmed("description", &mut ticket.description, 20_000);
    errors.trimmed("category", &mut ticket.category, 100);
    errors.country("region", &mut ticket.region);
    errors.tags("tags", &mut ticket.tags, MAX_TAGS);
}

/// Whether the status may go from `from` to `to`: `new` is only where tickets start, and
/// a closed ticket is done (a returning customer gets a new one).
pub fn check_transition(from: TicketStatus, to: TicketStatus, errors: &mut Errors) {
    if from == to {
        return;
    }
    if to == TicketStatus::New {
        errors.add("status", "cannot go back to new");
    } else if from == TicketStatus::Closed {
        errors.add("status", "a closed ticket cannot change status");
    }
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk(RESOURCE), id)
}

/// Index-2 partition of the tickets in one status (the queues), oldest first.
pub fn status_pk(tenant: &TenantId, status: TicketStatus) -> String {
    tenant.pk(&format!("tickets#status#{}", status.as_str()))
}

/// Index-3 partition of a team's tickets.
pub fn team_pk(tenant: &TenantId, team_id: &str) -> String {
    tenant.pk(&format!("tickets#team#{team_id}"))
}

/// The partition of the ticket links of a contact or company.
pub fn linked_pk(tenant: &TenantId, resource: &str, record_id: &str) -> String {
    tenant.pk(&format!("tickets#{resource}#{record_id}"))
}

/// The partition of a ticket's changes (status, assignee, team, priority).
pub fn history_pk(tenant: &TenantId, ticket_id: &str) -> String {
    tenant.pk(&format!("ticket-history#{ticket_id}"))
}

/// The partition of a ticket's comments.
pub fn comments_pk(tenant: &TenantId, ticket_id: &str) -> String {
    tenant.pk(&format!("ticket-comments#{ticket_id}"))
}
