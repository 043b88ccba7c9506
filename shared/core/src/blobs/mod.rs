//! The `Blobs` port: documents and exports, stored by key, handed out through signed,
//! time-limited URLs. Twins: [`s3::S3Blobs`] and [`fs::FsBlobs`] (files under the data
//! directory, URLs served and verified by the local server).

pub mod fs;
pub mod s3;

use std::time::Duration;

use async_trait::async_trait;

/// Longest key accepted (S3 allows 1024 bytes).
pub const MAX_KEY_BYTES: usize = 1024;
/// Longest validity of a signed URL (S3's SigV4 maximum is seven days).
pub const MAX_URL_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// A blob's key: `/`-separated segments of `[A-Za-z0-9._=-]`, never `.` or `..`, so it
/// is a safe path on the filesystem twin and needs no escaping in S3 or URLs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    pub fn new(key: impl Into<String>) -> Result<Self, BlobError> {
        let key = key.into();
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._=-".contains(&b))
        };
        if key.len() > MAX_KEY_BYTES || !key.split('/').all(segment_ok) {
            return Err(BlobError::InvalidKey(key));
        }
        Ok(Self(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// One page of a listing: keys in ascending byte order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    pub keys: Vec<BlobKey>,
    /// Pass as `after` to read the next page; `None` on the last page.
    pub next: Option<BlobKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid blob key `{0}`")]
    InvalidKey(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Blobs: Send + Sync {
    /// Stores (or replaces) a blob.
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>, content_type: &str)
    -> Result<(), BlobError>;
    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, BlobError>;
    /// Removes a blob; removing a missing blob is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;
    /// Keys that start with `prefix`, in byte order, after `after`, at most `limit` (1..=1000).
    async fn list(
        &self,
        prefix: &str,
        after: Option<&BlobKey>,
        limit: usize,
    ) -> Result<Listing, BlobError>;
    /// A URL that lets anyone holding it download the blob until it expires.
    async fn signed_url(&self, key: &BlobKey, ttl: Duration) -> Result<String, BlobError>;
}

pub fn check_list_args(limit: usize, ttl: Option<Duration>) -> Result<(), BlobError> {
    if limit == 0 || limit > 1000 {
        return Err(BlobError::Invalid("list limit must be 1..=1000".into()));
    }
    if let Some(ttl) = ttl
        && (ttl.is_zero() || ttl > MAX_URL_TTL)
    {
        return Err(BlobError::Invalid(
            "URL lifetime must be 1 s..=7 days".into(),
        ));
    }
    Ok(())
}
