//! Bearer secrets handed to people by link or once on screen (refresh tokens, invitation
//! and password-reset links, MFA challenges): `<kind>.<tenant>.<id>.<secret>`, where the
//! tenant and record id say where to look and only a SHA-256 of the 256-bit secret is
//! stored. A high-entropy secret needs no slow hash; comparisons are constant-time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::{TenantId, is_id};

/// A fresh secret (43 characters of base64url) and the hash to store.
pub fn new_secret() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_secret(&secret);
    (secret, hash)
}

/// Hex SHA-256 of `secret`.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `secret` hashes to `hash`, compared in constant time.
pub fn matches(hash: &str, secret: &str) -> bool {
    bool::from(hash_secret(secret).as_bytes().ct_eq(hash.as_bytes()))
}

/// The token `<kind>.<tenant>.<id>.<secret>`.
pub fn compose(kind: &str, tenant: &TenantId, id: &str, secret: &str) -> String {
    format!("{kind}.{tenant}.{id}.{secret}")
}

/// The tenant, id and secret of a token of `kind` whose id has `id_prefix`, if the token
/// has that shape.
pub fn parse(kind: &str, id_prefix: &str, token: &str) -> Option<(TenantId, String, String)> {
    let mut parts = token.split('.');
    let (Some(k), Some(tenant), Some(id), Some(secret), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let tenant = TenantId::parse(tenant)?;
    (k == kind && is_id(id_prefix, id) && (40..=50).contains(&secret.len()))
        .then(|| (tenant, id.to_owned(), secret.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::new_id;

    #[test]
    fn tokens_round_trip_and_junk_is_refused() {
        let t = TenantId::generate();
        let id = new_id(crate::ids::InvitationId::PREFIX);
        let (secret, hash) = new_secret();
        let token = compose("inv", &t, &id, &secret);
        assert_eq!(
            parse("inv", "inv", &token),
            Some((t.clone(), id.clone(), secret.clone()))
        );
        assert!(matches(&hash, &secret));
        assert!(!matches(&hash, "guess"));
        assert_eq!(parse("crt", "inv", &token), None, "another kind");
        assert_eq!(parse("inv", "ses", &token), None, "another id kind");
        assert_eq!(parse("inv", "inv", "inv.x.y.z"), None);
        assert_eq!(parse("inv", "inv", ""), None);
        assert_eq!(parse("inv", "inv", &format!("{token}.extra")), None);
    }
}
