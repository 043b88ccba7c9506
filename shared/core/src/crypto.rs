//! Field encryption under a tenant's data key: AES-256-GCM with a random 96-bit nonce and
//! the tenant id as associated data, so a value copied into another tenant's record does
//! not decrypt there. Text form: `v1.<base64(nonce || ciphertext)>`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

use crate::ids::TenantId;

#[derive(Debug, thiserror::Error)]
#[error("the value cannot be decrypted with this key and tenant")]
pub struct DecryptError;

pub fn seal(data_key: &[u8; 32], tenant: &TenantId, plaintext: &str) -> String {
    let cipher = Aes256Gcm::new(data_key.into());
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext.as_bytes(),
                aad: tenant.as_str().as_bytes(),
            },
        )
        .expect("AES-GCM encryption cannot fail for in-memory data");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    format!("v1.{}", STANDARD.encode(out))
}

pub fn open(data_key: &[u8; 32], tenant: &TenantId, sealed: &str) -> Result<String, DecryptError> {
    let bytes = sealed
        .strip_prefix("v1.")
        .and_then(|b| STANDARD.decode(b).ok())
        .ok_or(DecryptError)?;
    if bytes.len() < 12 + 16 {
        return Err(DecryptError);
    }
    let (nonce, body) = bytes.split_at(12);
    let plain = Aes256Gcm::new(data_key.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: tenant.as_str().as_bytes(),
            },
        )
        .map_err(|_| DecryptError)?;
    String::from_utf8(plain).map_err(|_| DecryptError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_opens_only_for_its_tenant_and_key() {
        let (a, b) = (TenantId::generate(), TenantId::generate());
        let key = [9u8; 32];
        let sealed = seal(&key, &a, "110101199003074514");
        assert_eq!(open(&key, &a, &sealed).unwrap(), "110101199003074514");
        assert!(open(&key, &b, &sealed).is_err());
        assert!(open(&[8u8; 32], &a, &sealed).is_err());
        assert!(open(&key, &a, "v1.AAAA").is_err());
        assert_ne!(
            seal(&key, &a, "x"),
            seal(&key, &a, "x"),
            "nonces must differ"
        );
    }
}
