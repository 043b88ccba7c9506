//! The embedded twin of the `Keys` port: a 256-bit master key in a file created on first
//! start with mode 0600. Data keys are wrapped with AES-256-GCM under the master key, the
//! tenant id as associated data (the local equivalent of KMS encryption context).

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use rand::RngCore;
use zeroize::Zeroizing;

use super::{DataKey, KeyError, Keys};
use crate::ids::TenantId;

/// Format tag of a wrapped key, so the scheme can change without ambiguity.
const WRAP_V1: u8 = 1;

pub struct LocalKeys {
    master: Aes256Gcm,
}

fn context(tenant: &TenantId) -> Vec<u8> {
    format!("crm:tenant:{tenant}").into_bytes()
}

impl LocalKeys {
    /// Loads the master key at `path`, creating it (0600) if it does not exist yet.
    pub fn open(path: &Path) -> Result<Self, KeyError> {
        let bytes = crate::config::read_or_create_secret(path, 32)
            .map_err(|e| KeyError::Unavailable(format!("master key {}: {e}", path.display())))?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(master: &[u8]) -> Result<Self, KeyError> {
        let master = Aes256Gcm::new_from_slice(master)
            .map_err(|_| KeyError::Unavailable("the master key must be 32 bytes".into()))?;
        Ok(Self { master })
    }
}

#[async_trait]
impl Keys for LocalKeys {
    async fn generate_data_key(&self, tenant: &TenantId) -> Result<DataKey, KeyError> {
        let mut plaintext = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(plaintext.as_mut());
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let aad = context(tenant);
        let sealed = self
            .master
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_ref(),
                    aad: &aad,
                },
            )
            .map_err(|_| KeyError::Unavailable("encryption failed".into()))?;
        let mut wrapped = Vec::with_capacity(1 + 12 + sealed.len());
        wrapped.push(WRAP_V1);
        wrapped.extend_from_slice(&nonce);
        wrapped.extend_from_slice(&sealed);
        Ok(DataKey { plaintext, wrapped })
    }

    async fn unwrap_data_key(
        &self,
        tenant: &TenantId,
        wrapped: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, KeyError> {
        let (Some(&WRAP_V1), Some(nonce), Some(sealed)) =
            (wrapped.first(), wrapped.get(1..13), wrapped.get(13..))
        else {
            return Err(KeyError::Rejected);
        };
        let aad = context(tenant);
        let plain = Zeroizing::new(
            self.master
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: sealed,
                        aad: &aad,
                    },
                )
                .map_err(|_| KeyError::Rejected)?,
        );
        let key: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Rejected)?;
        Ok(Zeroizing::new(key))
    }
}
