//! The `Clock` port: every rule that depends on the time asks it, so tests can move time.

use time::OffsetDateTime;

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The real clock, in UTC.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// RFC 3339 text of a time, as used on the wire and in items.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Milliseconds since the epoch, zero-padded to 15 digits: a sort key that orders as the
/// times do (times before 1970 count as 0).
pub fn millis_key(t: OffsetDateTime) -> String {
    format!("{:015}", (t.unix_timestamp_nanos() / 1_000_000).max(0))
}

/// [`millis_key`] of an RFC 3339 time; `None` when it is not one.
pub fn millis_key_of(rfc3339: &str) -> Option<String> {
    OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(millis_key)
}
