//! The local server's route for the filesystem twin's signed blob URLs (exports, and what
//! follows): the link is checked, the file sent as a download. On AWS, S3 serves its own
//! presigned URLs.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::blobs::fs::FsBlobs;
use crate::blobs::{BlobKey, Blobs};
use crate::error::Error;

#[derive(serde::Deserialize)]
struct Signed {
    expires: Option<u64>,
    signature: Option<String>,
}

/// The route, for the local server to mount.
pub fn router<S: Clone + Send + Sync + 'static>(blobs: Arc<FsBlobs>) -> axum::Router<S> {
    axum::Router::new()
        .route("/files/{*key}", axum::routing::get(download))
        .with_state(blobs)
}

async fn download(
    State(blobs): State<Arc<FsBlobs>>,
    axum::extract::Path(key): axum::extract::Path<String>,
    query: Result<Query<Signed>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, super::ApiError> {
    let denied =
        || Error::Forbidden("This link is invalid or has expired; ask for a new one.".into());
    let (
        Ok(key),
        Ok(Query(Signed {
            expires: Some(expires),
            signature: Some(signature),
        })),
    ) = (BlobKey::new(key), query)
    else {
        return Err(denied().into());
    };
    if !blobs.verify(&key, expires, &signature) {
        return Err(denied().into());
    }
    let blob = blobs
        .get(&key)
        .await
        .map_err(|e| Error::Unavailable(e.to_string()))?
        .ok_or_else(|| Error::NotFound("The file no longer exists.".into()))?;
    let content_type = HeaderValue::from_str(&blob.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            // Files are downloaded, never rendered as pages of this origin.
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox"),
            ),
        ],
        blob.bytes,
    )
        .into_response())
}
