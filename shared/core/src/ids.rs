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

/// Declares an id type per prefix: a string of `<prefix>_<ulid>` that only [`new_id`] or a
/// successful parse makes, so a contact's id cannot be passed where a deal's is expected,
/// and a malformed one never gets past the edge. It reads as a `&str` (`Deref`), which is
/// how the stored records and keys use it.
macro_rules! typed_ids {
    ($($(#[$doc:meta])* $name:ident = $prefix:literal, $noun:literal;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
            #[serde(transparent)]
            pub struct $name(String);

            impl $name {
                pub const PREFIX: &'static str = $prefix;

                /// A new, time-ordered id.
                pub fn generate() -> Self {
                    Self(new_id(Self::PREFIX))
                }

                /// `s` as this kind of id, if it has the prefix and shape.
                pub fn parse(s: &str) -> Option<Self> {
                    is_id(Self::PREFIX, s).then(|| Self(s.to_owned()))
                }

                pub fn as_str(&self) -> &str {
                    &self.0
                }
            }

            impl fmt::Display for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(&self.0)
                }
            }

            impl std::ops::Deref for $name {
                type Target = str;

                fn deref(&self) -> &str {
                    &self.0
                }
            }

            impl AsRef<str> for $name {
                fn as_ref(&self) -> &str {
                    &self.0
                }
            }

            impl From<$name> for String {
                fn from(id: $name) -> String {
                    id.0
                }
            }

            impl std::str::FromStr for $name {
                type Err = String;

                fn from_str(s: &str) -> Result<Self, String> {
                    Self::parse(s).ok_or_else(|| format!("not a {} id", $noun))
                }
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    let s = String::deserialize(d)?;
                    s.parse().map_err(serde::de::Error::custom)
                }
            }
        )*

        /// Every id prefix the product makes, with what it names: one type each, and no
        /// prefix used twice (a test reads the source for prefixes not listed here).
        pub const PREFIXES: &[(&str, &str)] = &[("ten", "company"), $(($prefix, $noun)),*];
    };
}

typed_ids! {
    ContactId = "con", "contact";
    CompanyId = "com", "company";
    DealId = "dea", "deal";
    PipelineId = "pip", "pipeline";
    StageId = "stg", "stage";
    StageChangeId = "stc", "stage change";
    TaskId = "tsk", "task";
    ProductId = "prd", "product";
    OrderId = "ord", "order";
    TicketId = "tkt", "ticket";
    TicketChangeId = "tch", "ticket change";
    CommentId = "cmt", "comment";
    MessageId = "msg", "message";
    SurveyId = "svy", "survey";
    ActivityId = "act", "activity";
    RecordId = "rec", "custom record";
    ObjectId = "obj", "custom object";
    FieldId = "fld", "custom field";
    UserId = "usr", "user";
    TeamId = "tea", "team";
    RoleId = "rol", "role";
    InvitationId = "inv", "invitation";
    SessionId = "ses", "session";
    ApiKeyId = "key", "API key";
    MfaChallengeId = "mfc", "sign-in challenge";
    WebhookId = "whk", "webhook";
    EventId = "evt", "event";
    AuditEntryId = "aud", "audit entry";
    NotificationId = "ntf", "notification";
    JobId = "job", "job";
    ImportFileId = "imf", "import file";
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
    fn typed_ids_parse_only_their_own_prefix_and_shape() {
        let contact = ContactId::generate();
        assert!(contact.starts_with("con_"), "{contact}");
        assert_eq!(ContactId::parse(contact.as_str()), Some(contact.clone()));
        assert_eq!(DealId::parse(contact.as_str()), None);
        assert_eq!(ContactId::parse("con_../../x"), None);
        let json = serde_json::to_value(&contact).unwrap();
        assert_eq!(json, serde_json::Value::String(contact.to_string()));
        assert_eq!(serde_json::from_value::<ContactId>(json).unwrap(), contact);
        let wrong = serde_json::from_value::<DealId>(serde_json::json!(contact.as_str()));
        assert_eq!(wrong.unwrap_err().to_string(), "not a deal id");
    }

    #[test]
    fn every_prefix_is_listed_once() {
        let mut prefixes: Vec<&str> = PREFIXES.iter().map(|(p, _)| *p).collect();
        let all = prefixes.len();
        prefixes.sort_unstable();
        prefixes.dedup();
        assert_eq!(prefixes.len(), all, "a prefix is listed twice");
        assert!(
            prefixes
                .iter()
                .all(|p| p.len() == 3 && p.bytes().all(|b| b.is_ascii_lowercase()))
        );
    }

    /// Ids are made and checked only through the typed prefixes above, so a new kind of
    /// record cannot mint a prefix that is not listed (or is another's).
    #[test]
    fn the_source_makes_ids_only_with_listed_prefixes() {
        use crate::source_files::{root, rust_files};
        let root = root();
        let mut files = Vec::new();
        for dir in [
            "shared/core/src",
            "shared/engine/src",
            "shared/src",
            "functions",
        ] {
            rust_files(&root.join(dir), true, &mut files);
        }
        assert!(files.len() > 100, "the scan found the source");
        let mut offending = Vec::new();
        for file in files.iter().filter(|f| !f.ends_with("core/src/ids.rs")) {
            let text = std::fs::read_to_string(file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let literal_prefix = ["new_id(\"", "is_id(\"", "PREFIX: &str = \""]
                    .iter()
                    .filter_map(|call| line.split_once(call))
                    .any(|(_, rest)| {
                        let word: String =
                            rest.chars().take_while(char::is_ascii_lowercase).collect();
                        word.len() == 3 && rest[3..].starts_with('"')
                    });
                if literal_prefix {
                    offending.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
        assert!(
            offending.is_empty(),
            "ids made or checked with a literal prefix (use the id types' PREFIX):\n{}",
            offending.join("\n")
        );
    }

    #[test]
    fn tenant_keys_start_with_the_tenant() {
        let t = TenantId::generate();
        assert!(t.pk("contacts").starts_with(&t.key_prefix()));
        assert_eq!(TenantId::parse(t.as_str()), Some(t.clone()));
        assert_eq!(TenantId::parse("ten_../../x"), None);
    }
}
