//! The application state every handler receives: the ports (chosen once from
//! configuration), the clock, the token and cursor keys.

pub mod hooks;

use std::sync::Arc;

use base64::Engine;
use zeroize::Zeroizing;

use crate::blobs::{Blobs, fs::FsBlobs};
use crate::clock::Clock;
use crate::config::Config;
use crate::data_keys::DataKeyCache;
use crate::error::Error;
use crate::ids::TenantId;
use crate::keys::Keys;
use crate::mail::Mailer;
use crate::paging::Cursors;
use crate::rate_limit::RateLimits;
use crate::table::Table;
use crate::tokens::Tokens;

/// The state, shared: cloning it (axum does for every handler and layer of a request) is
/// one reference count, not one per part. A clone that is changed (a test's clock)
/// gets parts of its own first.
#[derive(Clone)]
pub struct AppState(Arc<StateParts>);

impl AppState {
    pub fn new(parts: StateParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = StateParts;
    fn deref(&self) -> &StateParts {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut StateParts {
        Arc::make_mut(&mut self.0)
    }
}

#[derive(Clone)]
pub struct StateParts {
    pub config: Arc<Config>,
    /// The table, as [`directory`](Self::directory) watches it.
    pub table: Arc<dyn Table>,
    /// Who callers are, kept while the writes to the table leave it true.
    pub directory: Arc<crate::principal::cache::Watched>,
    pub blobs: Arc<dyn Blobs>,
    pub keys: Arc<dyn Keys>,
    pub mailer: Arc<dyn Mailer>,
    /// Unwrapped tenant data keys, reused for a few minutes.
    pub data_keys: Arc<DataKeyCache>,
    pub clock: Arc<dyn Clock>,
    pub tokens: Arc<Tokens>,
    pub cursors: Cursors,
    /// The token buckets of tenants and API keys.
    pub rate_limits: Arc<RateLimits>,
    /// Signs the links handed out without a login (survey links), under its own key.
    pub link_signer: Cursors,
    /// Seals webhook signing secrets at rest (a key derived from the deployment secret,
    /// so the dispatcher opens them without a call to KMS).
    pub webhook_key: Arc<zeroize::Zeroizing<[u8; 32]>>,
    /// The filesystem blob store when embedded: the local server serves its signed URLs.
    pub local_files: Option<Arc<FsBlobs>>,
    /// How the business areas react to one another.
    pub hooks: Arc<crate::state::hooks::Hooks>,
}

/// The adapters a state runs on.
pub struct Ports {
    pub table: Arc<dyn Table>,
    pub blobs: Arc<dyn Blobs>,
    pub keys: Arc<dyn Keys>,
    pub mailer: Arc<dyn Mailer>,
    /// The filesystem blob store when embedded: the local server serves its signed URLs.
    pub local_files: Option<Arc<FsBlobs>>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot start: {0}")]
pub struct StartError(pub String);

/// The AWS clients, pointed at `endpoint_url` (an emulator) when one is given.
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub kms: aws_sdk_kms::Client,
    pub ses: aws_sdk_sesv2::Client,
}

impl AwsClients {
    /// Clients configured the standard AWS way (environment, profile, instance role).
    pub async fn new(endpoint_url: Option<&str>) -> Self {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::from_sdk(&sdk, endpoint_url)
    }

    /// Clients for an emulator such as moto server at `url`: a fixed region and dummy
    /// credentials, whatever the environment says.
    pub async fn for_emulator(url: &str) -> Self {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "testing", "testing", None, None, "emulator",
            ))
            .load()
            .await;
        Self::from_sdk(&sdk, Some(url))
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig, endpoint_url: Option<&str>) -> Self {
        let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(sdk);
        let mut s3 = aws_sdk_s3::config::Builder::from(sdk);
        let mut kms = aws_sdk_kms::config::Builder::from(sdk);
        let mut ses = aws_sdk_sesv2::config::Builder::from(sdk);
        if let Some(url) = endpoint_url {
            ses = ses.endpoint_url(url);
            dynamodb = dynamodb.endpoint_url(url);
            // Emulators serve buckets by path, not by virtual host.
            s3 = s3.endpoint_url(url).force_path_style(true);
            kms = kms.endpoint_url(url);
        }
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            kms: aws_sdk_kms::Client::from_conf(kms.build()),
            ses: aws_sdk_sesv2::Client::from_conf(ses.build()),
        }
    }
}

/// Creates the table, bucket, KMS key (alias `alias/<table>`) and SES sender identity if
/// they do not exist, as `template.yaml` would, and returns the key id. For emulators and first local runs
/// against AWS; a SAM deployment creates these itself.
pub async fn bootstrap_aws(
    clients: &AwsClients,
    table: &str,
    bucket: &str,
    mail_from: Option<&str>,
) -> Result<String, StartError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let err = |what: &str, e: &dyn std::fmt::Debug| StartError(format!("{what}: {e:?}"));
    let exists = clients
        .dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .is_ok();
    if !exists {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("complete attribute definition")
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("complete key element")
        };
        let gsi = |n: u8| {
            GlobalSecondaryIndex::builder()
                .index_name(format!("gsi{n}"))
                .key_schema(key(&format!("gsi{n}pk"), KeyType::Hash))
                .key_schema(key(&format!("gsi{n}sk"), KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("complete index")
        };
        let mut request = clients
            .dynamodb
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .attribute_definitions(attr("pk"))
            .attribute_definitions(attr("sk"));
        for (n, index) in crate::table::Index::SECONDARY.into_iter().enumerate() {
            let (ipk, isk) = index.key_names();
            request = request
                .global_secondary_indexes(gsi(n as u8 + 1))
                .attribute_definitions(attr(ipk))
                .attribute_definitions(attr(isk));
        }
        request.send().await.map_err(|e| err("create table", &e))?;
    }
    if clients
        .s3
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
        .is_err()
    {
        clients
            .s3
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| err("create bucket", &e))?;
    }
    if let Some(from) = mail_from
        && clients
            .ses
            .get_email_identity()
            .email_identity(from)
            .send()
            .await
            .is_err()
    {
        // On AWS this starts verification of the sender; emulators accept it at once.
        clients
            .ses
            .create_email_identity()
            .email_identity(from)
            .send()
            .await
            .map_err(|e| err("create email identity", &e))?;
    }
    let alias = format!("alias/{table}");
    if let Ok(found) = clients.kms.describe_key().key_id(&alias).send().await
        && let Some(id) = found.key_metadata().map(|m| m.key_id())
    {
        return Ok(id.to_owned());
    }
    let created = clients
        .kms
        .create_key()
        .description(format!("CRM data keys for {table}"))
        .send()
        .await
        .map_err(|e| err("create key", &e))?;
    let key_id = created
        .key_metadata()
        .map(|m| m.key_id().to_owned())
        .ok_or_else(|| StartError("KMS returned no key id".into()))?;
    clients
        .kms
        .create_alias()
        .alias_name(&alias)
        .target_key_id(&key_id)
        .send()
        .await
        .map_err(|e| err("create alias", &e))?;
    Ok(key_id)
}

impl AppState {
    /// `tenant`'s data key, unwrapped by the key service (or from the cache).
    pub async fn data_key(&self, tenant: &TenantId) -> Result<Zeroizing<[u8; 32]>, Error> {
        if let Some(key) = self.data_keys.cached(tenant) {
            return Ok(key);
        }
        let record = crate::directory::get_tenant(self.table.as_ref(), tenant)
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
