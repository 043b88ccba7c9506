//! Opaque, tamper-proof list cursors: the table's start key, signed with a key derived
//! from the deployment secret and bound to the list it came from (tenant and query), so a
//! cursor can be neither forged nor replayed against another list or tenant.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::table::StartKey;

#[derive(Clone)]
pub struct Cursors {
    key: Zeroizing<Vec<u8>>,
}

impl Cursors {
    pub fn new(key: Zeroizing<Vec<u8>>) -> Self {
        Self { key }
    }

    fn mac(&self, scope: &str, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    /// The cursor that resumes the list `scope` at `start`.
    pub fn encode(&self, scope: &str, start: &StartKey) -> String {
        let payload = serde_json::to_vec(start).expect("a start key serializes");
        let tag = self.mac(scope, &payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The start key in `cursor`, if it was made by this deployment for the list `scope`.
    pub fn decode(&self, scope: &str, cursor: &str) -> Result<StartKey, Error> {
        let invalid = || Error::validation("cursor", "is not a cursor of this list");
        let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
        self.mac(scope, &payload)
            .verify_slice(&tag)
            .map_err(|_| invalid())?;
        serde_json::from_slice(&payload).map_err(|_| invalid())
    }

    /// A tag binding `text` to `scope`, for links handed out without a login (survey
    /// links): URL-safe base64 of the HMAC.
    pub fn tag(&self, scope: &str, text: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(scope, text.as_bytes()).finalize().into_bytes())
    }

    /// Whether `tag` is [`tag`](Self::tag) of `text` for `scope` (compared in constant
    /// time).
    pub fn check_tag(&self, scope: &str, text: &str, tag: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(tag)
            .is_ok_and(|tag| self.mac(scope, text.as_bytes()).verify_slice(&tag).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> StartKey {
        StartKey(
            [("pk", "T#a#contacts"), ("sk", "con_1")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_cursor_round_trips_only_for_its_own_list() {
        let cursors = Cursors::new(Zeroizing::new(vec![1; 32]));
        let c = cursors.encode("tenant-a/contacts", &start());
        assert_eq!(cursors.decode("tenant-a/contacts", &c).unwrap(), start());
        assert!(cursors.decode("tenant-b/contacts", &c).is_err());
        let other = Cursors::new(Zeroizing::new(vec![2; 32]));
        assert!(other.decode("tenant-a/contacts", &c).is_err());
    }

    #[test]
    fn a_tampered_cursor_is_rejected() {
        let cursors = Cursors::new(Zeroizing::new(vec![1; 32]));
        let c = cursors.encode("s", &start());
        let (payload, tag) = c.split_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
        bytes[5] ^= 1;
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(bytes));
        assert!(cursors.decode("s", &forged).is_err());
        assert!(cursors.decode("s", "garbage").is_err());
        assert!(cursors.decode("s", "").is_err());
    }
}

/// `?limit=&cursor=` of every list.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

impl ListParams {
    /// The page size asked for: 1..=200, 50 if not given.
    pub fn limit(&self) -> Result<usize, Error> {
        match self.limit.unwrap_or(DEFAULT_LIMIT) {
            n @ 1..=MAX_LIMIT => Ok(n as usize),
            _ => Err(Error::validation(
                "limit",
                format!("must be from 1 to {MAX_LIMIT}"),
            )),
        }
    }
}

/// One page of a list: `{ "data": [...], "next_cursor": ... }`.
#[derive(Debug, serde::Serialize)]
pub struct ListPage<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}
