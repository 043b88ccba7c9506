//! The embedded twin of the `Blobs` port: one file per blob under `<root>/objects`, its
//! content type beside it under `<root>/meta`. Writes go to a temporary file that is
//! renamed into place, so a crash never leaves a half-written blob.
//!
//! Signed URLs point at the local server's `/files/{key}` route (`crate::http::files`), which checks
//! an HMAC over the key and the expiry time.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Blob, BlobError, BlobKey, Blobs, Listing, check_list_args};

type HmacSha256 = Hmac<Sha256>;

pub struct FsBlobs {
    root: PathBuf,
    base_url: String,
    url_key: Vec<u8>,
}

fn io(e: std::io::Error) -> BlobError {
    BlobError::Unavailable(e.to_string())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl FsBlobs {
    /// Blobs under `root`; signed URLs start with `base_url` (the local server's address)
    /// and are signed with `url_key`.
    pub fn new(root: &Path, base_url: &str, url_key: &[u8]) -> Result<Self, BlobError> {
        for dir in ["objects", "meta", "tmp"] {
            crate::private_files::create_dir(&root.join(dir)).map_err(io)?;
        }
        Ok(Self {
            root: root.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            url_key: url_key.to_vec(),
        })
    }

    fn object_path(&self, key: &BlobKey) -> PathBuf {
        self.root.join("objects").join(key.as_str())
    }

    fn meta_path(&self, key: &BlobKey) -> PathBuf {
        self.root.join("meta").join(key.as_str())
    }

    fn mac(&self, key: &BlobKey, expires: u64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.url_key).expect("HMAC takes any key length");
        mac.update(format!("GET\n{key}\n{expires}").as_bytes());
        mac
    }

    /// Whether a URL's signature is genuine and unexpired.
    pub fn verify(&self, key: &BlobKey, expires: u64, signature: &str) -> bool {
        use base64::Engine;
        let Ok(sig) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        expires >= now_secs() && self.mac(key, expires).verify_slice(&sig).is_ok()
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
async fn write_atomically(tmp_dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
    if let Some(parent) = path.parent() {
        let parent = parent.to_owned();
        tokio::task::spawn_blocking(move || crate::private_files::create_dir(&parent))
            .await
            .map_err(|e| BlobError::Unavailable(e.to_string()))?
            .map_err(io)?;
    }
    let tmp = tmp_dir.join(ulid::Ulid::new().to_string());
    let mut file = tokio::fs::OpenOptions::from(crate::private_files::file_options())
        .write(true)
        .create_new(true)
        .open(&tmp)
        .await
        .map_err(io)?;
    tokio::io::AsyncWriteExt::write_all(&mut file, bytes)
        .await
        .map_err(io)?;
    file.sync_all().await.map_err(io)?;
    drop(file);
    tokio::fs::rename(&tmp, path).await.map_err(io)
}

async fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, BlobError> {
    match tokio::fs::read(path).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // A key that names a directory (a prefix of other keys) holds no blob.
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => Ok(None),
        Err(e) => Err(io(e)),
    }
}

/// Every key below `dir`, as `/`-joined paths relative to `base`.
fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(base, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(base) {
            let parts: Vec<_> = rel.iter().map(|p| p.to_string_lossy()).collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

#[async_trait]
impl Blobs for FsBlobs {
    async fn put(
        &self,
        key: &BlobKey,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), BlobError> {
        let tmp = self.root.join("tmp");
        // Content type first: a blob is visible only once its object file exists.
        write_atomically(&tmp, &self.meta_path(key), content_type.as_bytes()).await?;
        write_atomically(&tmp, &self.object_path(key), &bytes).await
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Blob>, BlobError> {
        let Some(bytes) = read_optional(&self.object_path(key)).await? else {
            return Ok(None);
        };
        let content_type = read_optional(&self.meta_path(key))
            .await?
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_else(|| "application/octet-stream".into());
        Ok(Some(Blob {
            bytes,
            content_type,
        }))
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        for path in [self.object_path(key), self.meta_path(key)] {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
                    ) => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    async fn list(
        &self,
        prefix: &str,
        after: Option<&BlobKey>,
        limit: usize,
    ) -> Result<Listing, BlobError> {
        check_list_args(limit, None)?;
        let base = self.root.join("objects");
        // Only the directory the prefix fully names needs walking.
        let dir = match prefix.rfind('/') {
            Some(i) => {
                BlobKey::new(&prefix[..i])?;
                base.join(&prefix[..i])
            }
            None => base.clone(),
        };
        let prefix = prefix.to_owned();
        let after = after.map(|a| a.as_str().to_owned());
        let mut keys = tokio::task::spawn_blocking(move || {
            let mut all = Vec::new();
            walk(&base, &dir, &mut all).map(|()| all)
        })
        .await
        .map_err(|e| BlobError::Unavailable(e.to_string()))?
        .map_err(io)?;
        keys.retain(|k| k.starts_with(&prefix) && after.as_deref().is_none_or(|a| k.as_str() > a));
        keys.sort();
        let more = keys.len() > limit;
        keys.truncate(limit);
        let keys = keys
            .into_iter()
            .map(BlobKey::new)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if more { keys.last().cloned() } else { None };
        Ok(Listing { keys, next })
    }

    async fn signed_url(&self, key: &BlobKey, ttl: Duration) -> Result<String, BlobError> {
        use base64::Engine;
        check_list_args(1, Some(ttl))?;
        let expires = now_secs() + ttl.as_secs().max(1);
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(self.mac(key, expires).finalize().into_bytes());
        Ok(format!(
            "{}/files/{key}?expires={expires}&signature={signature}",
            self.base_url
        ))
    }
}
