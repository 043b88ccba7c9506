//! Unwrapped tenant data keys, kept in memory for a few minutes: each unwrap is a call to
//! the key service (KMS in AWS), and a list of contacts with encrypted fields would
//! otherwise make one per request. Keys leave the cache (and memory) when they expire.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::ids::TenantId;

/// How long an unwrapped key is reused.
const TTL: Duration = Duration::from_secs(300);

/// A data key and when it was unwrapped.
type Entry = (Instant, Zeroizing<[u8; 32]>);

#[derive(Default)]
pub struct DataKeyCache {
    keys: Mutex<HashMap<TenantId, Entry>>,
}

impl DataKeyCache {
    pub fn cached(&self, tenant: &TenantId) -> Option<Zeroizing<[u8; 32]>> {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        keys.retain(|_, (at, _)| now.duration_since(*at) < TTL);
        keys.get(tenant).map(|(_, key)| key.clone())
    }

    pub fn keep(&self, tenant: &TenantId, key: &Zeroizing<[u8; 32]>) {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.insert(tenant.clone(), (Instant::now(), key.clone()));
    }
}
