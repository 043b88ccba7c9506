//! Tasks: calls, emails, meetings and to-dos with a due time, an assignee, a priority and
//! a status, linked to a contact, company, deal or ticket; a reminder time makes the reminder
//! worker notify the assignee (in the app, and by email when the task asks for it).
//! The assignee is the task's owner for record scope. This module holds the record and
//! its rules; `service` applies permissions, `reminders` fires them.

pub mod reminders;
pub mod service;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ids::TenantId;
use crate::policy::FieldSpec;
use crate::table::Key;
use crate::validation::Errors;
use crate::wire::present;

pub const PREFIX: &str = crate::ids::TaskId::PREFIX;
pub const RESOURCE: &str = "tasks";

pub const FIELDS: &[FieldSpec] = crate::policy::fields::TASKS;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Call,
    Email,
    Meeting,
    #[default]
    Todo,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    #[default]
    Open,
    InProgress,
    Done,
    Cancelled,
}

impl TaskStatus {
    pub fn is_open(self) -> bool {
        matches!(self, TaskStatus::Open | TaskStatus::InProgress)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub title: String,
    pub kind: TaskKind,
    /// RFC 3339.
    pub due_at: Option<String>,
    /// When the assignee is reminded (RFC 3339); fires once.
    pub remind_at: Option<String>,
    /// The reminder also goes by email.
    pub remind_by_email: bool,
    /// Set once the reminder fired.
    #[serde(default)]
    pub reminded_at: Option<String>,
    /// The assignee.
    pub owner_id: String,
    pub priority: Priority,
    pub status: TaskStatus,
    pub notes: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub deal_id: Option<String>,
    #[serde(default)]
    pub ticket_id: Option<String>,
    pub completed_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl crate::records::Relinked for Task {
    const NOUN: &'static str = "task";
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

impl crate::records::Owned for Task {
    fn owner_id(&self) -> &str {
        &self.owner_id
    }
}

/// The body of `POST /v1/tasks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    pub title: String,
    pub kind: Option<TaskKind>,
    pub due_at: Option<String>,
    pub remind_at: Option<String>,
    #[serde(default)]
    pub remind_by_email: bool,
    /// The assignee; the caller when absent.
    pub owner_id: Option<String>,
    pub priority: Option<Priority>,
    pub status: Option<TaskStatus>,
    pub notes: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub deal_id: Option<String>,
    pub ticket_id: Option<String>,
}

/// The body of `PATCH /v1/tasks/{id}` (JSON merge patch).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    #[serde(default, deserialize_with = "present")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub kind: Option<Option<TaskKind>>,
    #[serde(default, deserialize_with = "present")]
    pub due_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub remind_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub remind_by_email: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    pub owner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub priority: Option<Option<Priority>>,
    #[serde(default, deserialize_with = "present")]
    pub status: Option<Option<TaskStatus>>,
    #[serde(default, deserialize_with = "present")]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub contact_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub company_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub deal_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub ticket_id: Option<Option<String>>,
}

fn sent(flags: [bool; FIELDS.len()]) -> Vec<&'static str> {
    FIELDS
        .iter()
        .zip(flags)
        .filter(|(_, set)| *set)
        .map(|(f, _)| f.name)
        .collect()
}

impl NewTask {
    pub fn fields_sent(&self) -> Vec<&'static str> {
        sent([
            true,
            self.kind.is_some(),
            self.due_at.is_some(),
            self.remind_at.is_some(),
            self.remind_by_email,
            self.owner_id.is_some(),
            self.priority.is_some(),
            self.status.is_some(),
            self.notes.is_some(),
            self.contact_id.is_some(),
            self.company_id.is_some(),
            self.deal_id.is_some(),
            self.ticket_id.is_some(),
        ])
    }
}

impl TaskPatch {
    pub fn fields_sent(&self) -> Vec<&'static str> {
        sent([
            self.title.is_some(),
            self.kind.is_some(),
            self.due_at.is_some(),
            self.remind_at.is_some(),
            self.remind_by_email.is_some(),
            self.owner_id.is_some(),
            self.priority.is_some(),
            self.status.is_some(),
            self.notes.is_some(),
            self.contact_id.is_some(),
            self.company_id.is_some(),
            self.deal_id.is_some(),
            self.ticket_id.is_some(),
        ])
    }

    pub fn apply(self, task: &mut Task, errors: &mut Errors) {
        for (field, value, target) in [
            ("title", self.title, &mut task.title),
            ("owner_id", self.owner_id, &mut task.owner_id),
        ] {
            match value {
                Some(Some(v)) => *target = v,
                Some(None) => errors.add(field, "cannot be removed"),
                None => {}
            }
        }
        if let Some(v) = self.kind {
            task.kind = v.unwrap_or_default();
        }
        if let Some(v) = self.priority {
            task.priority = v.unwrap_or_default();
        }
        if let Some(v) = self.status {
            task.status = v.unwrap_or_default();
        }
        if let Some(v) = self.remind_by_email {
            task.remind_by_email = v.unwrap_or_default();
        }
        if let Some(v) = self.remind_at {
            // A new reminder time fires anew.
            if v != task.remind_at {
                task.reminded_at = None;
            }
            task.remind_at = v;
        }
        macro_rules! replace {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field {
                    task.$field = v;
                }
            )*};
        }
        replace!(due_at, notes, contact_id, company_id, deal_id, ticket_id);
    }
}

impl Task {
    /// A to-do the product makes for `owner_id` (an idle deal, a low feedback score),
    /// due a day from `now`; the caller links it.
    pub fn follow_up(owner_id: &str, title: String, notes: String, now: OffsetDateTime) -> Self {
        let at = crate::clock::rfc3339(now);
        Task {
            id: crate::ids::new_id(PREFIX),
            title,
            kind: TaskKind::Todo,
            due_at: Some(crate::clock::rfc3339(now + time::Duration::days(1))),
            remind_at: None,
            remind_by_email: false,
            reminded_at: None,
            owner_id: owner_id.to_owned(),
            priority: Priority::Normal,
            status: TaskStatus::Open,
            notes: Some(notes),
            contact_id: None,
            company_id: None,
            deal_id: None,
            ticket_id: None,
            completed_at: None,
            created_by: owner_id.to_owned(),
            created_at: at.clone(),
            updated_at: at,
            version: 1,
        }
    }
}

/// Parses an RFC 3339 time, reporting `field` when it is not one.
pub fn parse_time(field: &str, value: &str, errors: &mut Errors) -> Option<OffsetDateTime> {
    match OffsetDateTime::parse(value, &Rfc3339) {
        Ok(t) => Some(t),
        Err(_) => {
            errors.add(
                field,
                "must be an RFC 3339 time, like 2026-11-24T09:30:00+08:00",
            );
            None
        }
    }
}

/// Normalizes what can be (times to UTC) and reports every rule the task breaks.
pub fn normalize_and_check(task: &mut Task, errors: &mut Errors) {
    errors.text("title", &task.title, 1, 200);
    task.title = task.title.trim().to_owned();
    errors.trimmed("notes", &mut task.notes, 10_000);
    for (field, value) in [
        ("due_at", &mut task.due_at),
        ("remind_at", &mut task.remind_at),
    ] {
        if let Some(text) = value
            && let Some(t) = parse_time(field, text, errors)
        {
            *text = crate::clock::rfc3339(t);
        }
    }
    if task.remind_by_email && task.remind_at.is_none() {
        errors.add("remind_by_email", "needs remind_at");
    }
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk(RESOURCE), id)
}

/// Index-2 partition of an assignee's open tasks, by due time (tasks without one last).
pub fn open_pk(tenant: &TenantId, owner_id: &str) -> String {
    tenant.pk(&format!("tasks#open#{owner_id}"))
}

/// The partition of the tasks linked to a contact, company or deal.
pub fn linked_pk(tenant: &TenantId, resource: &str, record_id: &str) -> String {
    tenant.pk(&format!("tasks#{resource}#{record_id}"))
}
