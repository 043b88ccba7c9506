//! Identifiers: a type prefix and a lowercase ULID (`con_01j9...`), so ids sort by creation
//! time, tell what they name, and can be checked for shape before any lookup.

use std::fmt;
use std::sync::Mutex;

/// Length of the ULID part of an id.
const ULID_LEN: usize = 26;

/// A new id with `prefix` (e.g. `"con"`).
pub fn new_id(prefix: &str) -> String {
    static LAST: Mutex<u128> = Mutex::new(0);
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    let fresh = ulid::Ulid::new().0;
    // Within one millisecond (or if the clock steps back) count up from the last id.
    *last = if fresh > *last { fresh } else { *last + 1 };
    let id = ulid::Ulid(*last);
    format!("{prefix}_{}", id.to_string().to_ascii_lowercase())
}

/// Whether `id` has the shape of an id with `prefix`.
pub fn is_id(prefix: &str, id: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|u| {
            u.len() == ULID_LEN
                && u.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        })
}

/// A tenant's id. Every table key and blob key of a tenant starts with it, so holding a
/// `TenantId` is what it takes to address tenant data at all.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    pub const PREFIX: &'static str = "ten";

    pub fn generate() -> Self {
        Self(new_id(Self::PREFIX))
    }

    /// Parses an id from outside (a token, a request); `None` if it is not a tenant id.
    pub fn parse(s: &str) -> Option<Self> {
        is_id(Self::PREFIX, s).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The start of every partition key of this tenant: `T#<id>#`.
    pub fn key_prefix(&self) -> String {
        format!("T#{}#", self.0)
    }

    /// A partition key of this tenant: `T#<id>#<what>`.
    pub fn pk(&self, what: &str) -> String {
        format!("T#{}#{what}", self.0)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for TenantId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom("not a tenant id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_their_prefix_and_shape() {
        let id = new_id("con");
        assert!(is_id("con", &id), "{id}");
        assert!(!is_id("usr", &id));
        assert!(!is_id("con", "con_"));
        assert!(!is_id("con", &id.to_ascii_uppercase()));
    }

    #[test]
    fn ids_increase_within_a_millisecond() {
        let ids: Vec<_> = (0..1000).map(|_| new_id("con")).collect();
        for w in ids.windows(2) {
            assert!(w[0] < w[1], "{} !< {}", w[0], w[1]);
        }
    }

    #[test]
    fn tenant_keys_start_with_the_tenant() {
        let t = TenantId::generate();
        assert!(t.pk("contacts").starts_with(&t.key_prefix()));
        assert_eq!(TenantId::parse(t.as_str()), Some(t.clone()));
        assert_eq!(TenantId::parse("ten_../../x"), None);
    }
}
