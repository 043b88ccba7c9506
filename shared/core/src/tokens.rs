//! Access tokens: HS256 JWTs, the algorithm pinned, `iss`/`aud`/`exp`/`nbf` checked, at
//! most 15 minutes long. The key is derived from the deployment secret, never hard-coded.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Error;
use crate::ids::TenantId;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The tenant id.
    pub tid: String,
    /// The session (refresh-token family) the token was issued for.
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

/// An issued access token and its lifetime in seconds.
pub struct AccessToken {
    pub token: String,
    pub expires_in: u64,
}

impl Tokens {
    pub fn new(key: &[u8], issuer: &str, audience: &str, ttl: Duration) -> Self {
        // Only HS256 is accepted: a token naming `none`, RS256 or anything else is refused
        // before its signature is even looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        }
    }

    pub fn issue(
        &self,
        tenant: &TenantId,
        user_id: &str,
        session_id: &str,
        now: OffsetDateTime,
    ) -> Result<AccessToken, Error> {
        let iat = now.unix_timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_owned(),
            tid: tenant.to_string(),
            sid: session_id.to_owned(),
            iat,
            nbf: iat,
            exp: iat + self.ttl.as_secs() as i64,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Internal(format!("signing a token: {e}")))?;
        Ok(AccessToken {
            token,
            expires_in: self.ttl.as_secs(),
        })
    }

    /// The claims of a genuine, current token; any defect is the same 401.
    pub fn verify(&self, token: &str) -> Result<Claims, Error> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                tracing::debug!(reason = %e, "access token refused");
                Error::Unauthenticated("The access token is invalid or has expired.".into())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn tokens(key: &[u8]) -> Tokens {
        Tokens::new(key, "crm", "crm-api", Duration::from_secs(900))
    }

    #[test]
    fn a_token_verifies_with_its_key_only() {
        let t = TenantId::generate();
        let now = OffsetDateTime::now_utc();
        let issued = tokens(b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1")
            .issue(&t, "usr_1", "ses_1", now)
            .unwrap();
        let claims = tokens(b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1")
            .verify(&issued.token)
            .unwrap();
        assert_eq!(claims.tid, t.to_string());
        assert!(
            tokens(b"k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2")
                .verify(&issued.token)
                .is_err()
        );
    }

    #[test]
    fn expired_and_unsigned_tokens_are_refused() {
        let key = b"k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1";
        let t = TenantId::generate();
        let old = OffsetDateTime::now_utc() - time::Duration::hours(1);
        let expired = tokens(key).issue(&t, "usr_1", "ses_1", old).unwrap();
        assert!(tokens(key).verify(&expired.token).is_err());

        let fresh = tokens(key)
            .issue(&t, "usr_1", "ses_1", OffsetDateTime::now_utc())
            .unwrap();
        let payload = fresh.token.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(tokens(key).verify(&format!("{header}.{payload}.")).is_err());
    }
}
