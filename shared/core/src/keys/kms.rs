//! The AWS twin of the `Keys` port: KMS `GenerateDataKey` / `Decrypt` under one customer
//! managed key, with `{"tenant_id": ...}` as encryption context.

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use zeroize::Zeroizing;

use super::{DataKey, KeyError, Keys};
use crate::ids::TenantId;

#[derive(Clone)]
pub struct KmsKeys {
    client: Client,
    key_id: String,
}

impl KmsKeys {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }
}

const CONTEXT_KEY: &str = "tenant_id";

#[async_trait]
impl Keys for KmsKeys {
    async fn generate_data_key(&self, tenant: &TenantId) -> Result<DataKey, KeyError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context(CONTEXT_KEY, tenant.as_str())
            .send()
            .await
            .map_err(|e| KeyError::Unavailable(format!("{e:?}")))?;
        let plain = out
            .plaintext
            .ok_or_else(|| KeyError::Unavailable("KMS returned no plaintext".into()))?
            .into_inner();
        let plaintext: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Unavailable("KMS returned a key of the wrong size".into()))?;
        let _ = Zeroizing::new(plain);
        let wrapped = out
            .ciphertext_blob
            .ok_or_else(|| KeyError::Unavailable("KMS returned no ciphertext".into()))?
            .into_inner();
        Ok(DataKey {
            plaintext: Zeroizing::new(plaintext),
            wrapped,
        })
    }

    async fn unwrap_data_key(
        &self,
        tenant: &TenantId,
        wrapped: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, KeyError> {
        let out = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped.to_vec()))
            .encryption_context(CONTEXT_KEY, tenant.as_str())
            .send()
            .await
            .map_err(|e| {
                let rejected = e.as_service_error().is_some_and(|s| {
                    s.is_invalid_ciphertext_exception() || s.is_incorrect_key_exception()
                });
                if rejected {
                    KeyError::Rejected
                } else {
                    KeyError::Unavailable(format!("{e:?}"))
                }
            })?;
        let plain = Zeroizing::new(
            out.plaintext
                .ok_or_else(|| KeyError::Unavailable("KMS returned no plaintext".into()))?
                .into_inner(),
        );
        let key: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Rejected)?;
        Ok(Zeroizing::new(key))
    }
}
