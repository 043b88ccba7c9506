//! Unwrapped tenant data keys, kept in memory for a few minutes: each unwrap is a call to
//! the key service (KMS in AWS), and a list of contacts with encrypted fields would
//! otherwise make one per request. Keys leave the cache (and memory) when they expire.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use zeroize::Zeroizing;

use crate::AppState;
use crate::error::Error;
use crate::ids::TenantId;
use crate::tenancy;

/// How long an unwrapped key is reused.
const TTL: Duration = Duration::from_secs(300);

/// A data key and when it was unwrapped.
type Entry = (Instant, Zeroizing<[u8; 32]>);

#[derive(Default)]
pub struct DataKeyCache {
    keys: Mutex<HashMap<TenantId, Entry>>,
}

impl DataKeyCache {
    fn cached(&self, tenant: &TenantId) -> Option<Zeroizing<[u8; 32]>> {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        keys.retain(|_, (at, _)| now.duration_since(*at) < TTL);
        keys.get(tenant).map(|(_, key)| key.clone())
    }

    fn keep(&self, tenant: &TenantId, key: &Zeroizing<[u8; 32]>) {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.insert(tenant.clone(), (Instant::now(), key.clone()));
    }
}

impl AppState {
    /// `tenant`'s data key, unwrapped by the key service (or from the cache).
    pub async fn data_key(&self, tenant: &TenantId) -> Result<Zeroizing<[u8; 32]>, Error> {
        if let Some(key) = self.data_keys.cached(tenant) {
            return Ok(key);
        }
        let record = tenancy::get_tenant(self.table.as_ref(), tenant)
            .await?
            .ok_or_else(|| Error::Unauthenticated("The company no longer exists.".into()))?;
        let wrapped = base64::engine::general_purpose::STANDARD
            .decode(&record.data_key)
            .map_err(|e| Error::Internal(format!("stored data key: {e}")))?;
        let key = self.keys.unwrap_data_key(tenant, &wrapped).await?;
        self.data_keys.keep(tenant, &key);
        Ok(key)
    }
}
