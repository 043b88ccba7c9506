//! Test support for the port conformance suites: fresh instances of each twin. The AWS
//! twins run against moto server; `infra/test.sh` starts it and sets CRM_TEST_MOTO_URL.

#![allow(dead_code)]

use std::sync::Arc;

use shared::blobs::{fs::FsBlobs, s3::S3Blobs};
use shared::keys::{kms::KmsKeys, local::LocalKeys};
use shared::state::{AwsClients, bootstrap_aws};
use shared::table::{dynamo::DynamoTable, sqlite::SqliteTable};

/// The moto server to test the AWS twins against. Missing is a failure, not a skip: a
/// suite that silently did not run would prove nothing.
pub fn moto_url() -> String {
    std::env::var("CRM_TEST_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "CRM_TEST_MOTO_URL is not set. The AWS twins are tested against moto server: run \
             `infra/test.sh`, or start `moto_server -H 127.0.0.1 -p 5000` and set \
             CRM_TEST_MOTO_URL=http://127.0.0.1:5000"
        )
    })
}

pub async fn moto_clients() -> AwsClients {
    AwsClients::for_emulator(&moto_url()).await
}

/// The sender of test mail (a verified identity on moto).
pub const MAIL_FROM: &str = "no-reply@example.com";

/// A name no other test uses (tables, buckets, keys are per test).
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        ulid::Ulid::new().to_string().to_ascii_lowercase()
    )
}

/// Fresh AWS resources on moto: (clients, table, bucket, key id).
pub async fn moto_resources() -> (AwsClients, String, String, String) {
    let clients = moto_clients().await;
    let table = unique("crm");
    let bucket = unique("crm");
    let key_id = bootstrap_aws(&clients, &table, &bucket, Some(MAIL_FROM))
        .await
        .expect("moto accepts the resources");
    (clients, table, bucket, key_id)
}

pub fn sqlite_table() -> Arc<SqliteTable> {
    Arc::new(SqliteTable::in_memory().unwrap())
}

pub async fn dynamo_table() -> Arc<DynamoTable> {
    let (clients, table, _, _) = moto_resources().await;
    Arc::new(DynamoTable::new(clients.dynamodb, table))
}

pub struct FsTwin {
    pub blobs: Arc<FsBlobs>,
    pub dir: tempfile::TempDir,
    /// The local file-link route, served for the signed-URL cases.
    pub server: tokio::task::JoinHandle<()>,
}

pub async fn fs_blobs() -> FsTwin {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let blobs = Arc::new(FsBlobs::new(dir.path(), &base, &[5u8; 32]).unwrap());
    let app: axum::Router = shared::http::files::router(blobs.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    FsTwin { blobs, dir, server }
}

pub async fn s3_blobs() -> Arc<S3Blobs> {
    let (clients, _, bucket, _) = moto_resources().await;
    Arc::new(S3Blobs::new(clients.s3, bucket))
}

pub fn local_keys() -> Arc<LocalKeys> {
    let dir = tempfile::tempdir().unwrap();
    Arc::new(LocalKeys::open(&dir.path().join("master.key")).unwrap())
}

pub async fn kms_keys() -> Arc<KmsKeys> {
    let (clients, _, _, key_id) = moto_resources().await;
    Arc::new(KmsKeys::new(clients.kms, key_id))
}
