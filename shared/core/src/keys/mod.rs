//! The `Keys` port: envelope encryption. Each tenant has its own 256-bit data key, made
//! and wrapped by a master key that never leaves the key service; the tenant id is bound
//! in as encryption context, so one tenant's wrapped key cannot be unwrapped as another's.
//! Twins: [`kms::KmsKeys`] and [`local::LocalKeys`] (a master key file, mode 0600).

pub mod kms;
pub mod local;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::ids::TenantId;

/// A fresh data key: use `plaintext`, store `wrapped`.
pub struct DataKey {
    pub plaintext: Zeroizing<[u8; 32]>,
    pub wrapped: Vec<u8>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("wrapped_len", &self.wrapped.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The wrapped key is damaged or belongs to another encryption context.
    #[error("the wrapped key cannot be unwrapped in this context")]
    Rejected,
    #[error("key service unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Keys: Send + Sync {
    /// Makes a new data key for `tenant`.
    async fn generate_data_key(&self, tenant: &TenantId) -> Result<DataKey, KeyError>;
    /// Unwraps a data key made for `tenant`; any other tenant gets `Rejected`.
    async fn unwrap_data_key(
        &self,
        tenant: &TenantId,
        wrapped: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, KeyError>;
}
