//! Sessions: each login starts a refresh-token family. The refresh token is opaque
//! (`crt.<tenant>.<session>.<secret>`); only a SHA-256 of its secret is stored. Each use
//! rotates the secret; presenting a superseded secret means the token was copied, so the
//! whole family is revoked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::{TenantId, is_id, new_id};
use crate::table::Key;

pub const PREFIX: &str = "ses";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    /// Hex SHA-256 of the current refresh secret.
    pub secret_hash: String,
    /// Hashes of the secrets this session handed out before (newest last), so a replayed
    /// old token is recognised as such, while a guessed one is merely refused.
    #[serde(default)]
    pub previous_hashes: Vec<String>,
    pub created_at: String,
    pub last_used_at: String,
    /// Unix seconds after which the refresh token no longer works.
    pub expires_at: i64,
    pub revoked: bool,
    pub version: u64,
    /// Unix seconds when DynamoDB's TTL may remove the item.
    pub ttl: i64,
    pub gsi1pk: String,
    pub gsi1sk: String,
}

pub fn key(tenant: &TenantId, session_id: &str) -> Key {
    Key::new(tenant.pk("sessions"), session_id)
}

/// The partition listing a user's sessions (index 1).
pub fn user_sessions_pk(tenant: &TenantId, user_id: &str) -> String {
    tenant.pk(&format!("user-sessions#{user_id}"))
}

pub fn new_session_id() -> String {
    new_id(PREFIX)
}

/// A fresh refresh secret and the hash to store.
pub fn new_secret() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_secret(&secret);
    (secret, hash)
}

pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How many superseded secrets a session remembers.
pub const REMEMBERED_SECRETS: usize = 16;

/// What a presented refresh secret is to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretIs {
    Current,
    /// One the session handed out before: the token was copied.
    Superseded,
    Unknown,
}

/// Compares `secret` with the session's secrets (in constant time).
pub fn classify_secret(session: &Session, secret: &str) -> SecretIs {
    let hash = hash_secret(secret);
    let same = |h: &String| bool::from(hash.as_bytes().ct_eq(h.as_bytes()));
    if same(&session.secret_hash) {
        SecretIs::Current
    } else if session.previous_hashes.iter().any(same) {
        SecretIs::Superseded
    } else {
        SecretIs::Unknown
    }
}

/// Replaces the session's secret with `new_hash`, remembering the old one.
pub fn rotate(session: &mut Session, new_hash: String) {
    let old = std::mem::replace(&mut session.secret_hash, new_hash);
    session.previous_hashes.push(old);
    if session.previous_hashes.len() > REMEMBERED_SECRETS {
        session.previous_hashes.remove(0);
    }
}

pub fn refresh_token(tenant: &TenantId, session_id: &str, secret: &str) -> String {
    format!("crt.{tenant}.{session_id}.{secret}")
}

/// The parts of a refresh token, if it has the right shape.
pub fn parse_refresh_token(token: &str) -> Option<(TenantId, String, String)> {
    let mut parts = token.split('.');
    let (Some("crt"), Some(tenant), Some(session), Some(secret), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let tenant = TenantId::parse(tenant)?;
    (is_id(PREFIX, session) && (40..=50).contains(&secret.len()))
        .then(|| (tenant, session.to_owned(), secret.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_round_trip_and_reject_junk() {
        let t = TenantId::generate();
        let sid = new_session_id();
        let (secret, _) = new_secret();
        let token = refresh_token(&t, &sid, &secret);
        assert_eq!(parse_refresh_token(&token), Some((t, sid, secret)));
        assert_eq!(parse_refresh_token("crt.x.y.z"), None);
        assert_eq!(parse_refresh_token(""), None);
        assert_eq!(parse_refresh_token(&format!("{token}.extra")), None);
    }
}
