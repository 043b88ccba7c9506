//! Optimistic concurrency: what `If-Match` asks for, and the write loop that re-reads and
//! retries a write that lost a race, so two concurrent changes both apply (or the client
//! that sent `If-Match` is told). Every stored record with a version writes through it.

use std::future::Future;

use crate::error::Error;
use crate::table::TableError;

/// What `If-Match` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match` (or `*`): write whatever the current version is.
    Any,
    /// Write only if the current version is one of these.
    OneOf(Vec<u64>),
}

impl Precondition {
    /// 412 unless `current` satisfies the precondition.
    pub fn check(&self, current: u64) -> Result<(), Error> {
        match self {
            Precondition::OneOf(versions) if !versions.contains(&current) => {
                Err(Error::PreconditionFailed(format!(
                    "The record is at version {current} (ETag \"{current}\"); fetch it again and \
                     reapply your change."
                )))
            }
            _ => Ok(()),
        }
    }

    pub fn is_any(&self) -> bool {
        *self == Precondition::Any
    }
}

/// How often a write without `If-Match` re-reads and retries when it races another.
pub const WRITE_ATTEMPTS: usize = 8;

/// Runs `attempt` (read, check, conditional write) until its write lands. A write that
/// loses a race is retried on a fresh read when the client sent no `If-Match`, so two
/// concurrent changes both apply; with `If-Match` the client is told (412).
pub async fn write_on_version<T, F, Fut>(
    precondition: &Precondition,
    noun: &str,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Result<T, TableError>, Error>>,
{
    for _ in 0..WRITE_ATTEMPTS {
        match attempt().await? {
            Ok(done) => return Ok(done),
            // A write's record comes first: a later write failing (a stage's totals, a
            // unique marker) is a race on something else, retried on a fresh read.
            Err(TableError::ConditionFailed { index })
                if precondition.is_any() || index > Some(0) =>
            {
                continue;
            }
            Err(TableError::ConditionFailed { .. }) => {
                return Err(Error::PreconditionFailed(format!(
                    "The {noun} changed while your change was applied; fetch it again."
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(
        "concurrent-modification",
        format!("The {noun} is being changed by many requests at once; please retry."),
    ))
}

// Read from the request's headers here, beside the type (the edge has no other use for it).
impl Precondition {
    /// What the request's `If-Match` headers ask for.
    pub fn from_headers(headers: &http::HeaderMap) -> Self {
        let values: Vec<&str> = headers
            .get_all(http::header::IF_MATCH)
            .iter()
            .map(|v| v.to_str().unwrap_or_default())
            .collect();
        if values.is_empty() || values.iter().any(|v| v.trim() == "*") {
            return Precondition::Any;
        }
        // If-Match compares strongly (RFC 9110): weak tags and anything unparsable match
        // no version, so the write is refused, never forced.
        Precondition::OneOf(
            values
                .iter()
                .flat_map(|v| v.split(','))
                .filter_map(|tag| {
                    tag.trim()
                        .strip_prefix('"')?
                        .strip_suffix('"')?
                        .parse()
                        .ok()
                })
                .collect(),
        )
    }
}
