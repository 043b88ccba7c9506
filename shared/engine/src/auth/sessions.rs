//! Sessions: each login starts a refresh-token family. The refresh token is opaque
//! (`crt.<tenant>.<session>.<secret>`); only a SHA-256 of its secret is stored. Each use
//! rotates the secret; presenting a superseded secret means the token was copied, so the
//! whole family is revoked.

use serde::{Deserialize, Serialize};

pub use super::secrets::new_secret;
use super::secrets::{compose, matches, parse};
use crate::ids::{TenantId, new_id};
use crate::table::Key;

pub const PREFIX: &str = crate::ids::SessionId::PREFIX;

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
    let same = |h: &String| matches(h, secret);
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
    compose("crt", tenant, session_id, secret)
}

/// The parts of a refresh token, if it has the right shape.
pub fn parse_refresh_token(token: &str) -> Option<(TenantId, String, String)> {
    parse("crt", PREFIX, token)
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
