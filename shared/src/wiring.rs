//! The composition root: builds the [`AppState`] with the adapters the configuration names
//! and the hooks the business areas offer one another. It sits above every area, so the
//! state and the engine below need not know any of them.

use std::sync::Arc;

use crate::AppState;
use crate::blobs::{fs::FsBlobs, s3::S3Blobs};
use crate::clock::SystemClock;
use crate::config::{Backend, Config, MailTransport, Secret};
use crate::data_keys::DataKeyCache;
use crate::keys::{kms::KmsKeys, local::LocalKeys};
use crate::mail::{Mailer, file::FileMailer, ses::SesMailer};
use crate::paging::Cursors;
use crate::rate_limit::{Rate, RateLimits};
use crate::state::StateParts;
use crate::state::hooks::{Hooks, seen};
use crate::state::{AwsClients, Ports, StartError};
use crate::table::{dynamo::DynamoTable, sqlite::SqliteTable};
use crate::tokens::Tokens;

/// Builds the state with the twins `config` names.
pub async fn from_config(config: Config) -> Result<AppState, StartError> {
    let (secret, ports) = ports(&config).await?;
    Ok(state(config, &secret, ports))
}

/// The deployment secret and the twins `config` names, opened.
pub async fn ports(config: &Config) -> Result<(Secret, Ports), StartError> {
    let secret = config
        .load_secret()
        .map_err(|e| StartError(format!("deployment secret: {e}")))?;
    let ports = match &config.backend {
        Backend::Embedded { data_dir } => {
            crate::private_files::create_dir(data_dir)
                .map_err(|e| StartError(format!("data directory {}: {e}", data_dir.display())))?;
            let checked = crate::private_files::check_tree(data_dir).map_err(StartError)?;
            for path in &checked.tightened {
                tracing::warn!(path = %path.display(), "others could read this; made it owner-only");
            }
            let table = SqliteTable::open(&data_dir.join("crm.sqlite3"))
                .map_err(|e| StartError(e.to_string()))?;
            let files = Arc::new(
                FsBlobs::new(
                    &data_dir.join("files"),
                    &config.public_url,
                    &secret.derive("file-links"),
                )
                .map_err(|e| StartError(e.to_string()))?,
            );
            let keys = LocalKeys::open(&data_dir.join("master.key"))
                .map_err(|e| StartError(e.to_string()))?;
            Ports {
                table: Arc::new(table),
                blobs: files.clone(),
                keys: Arc::new(keys),
                mailer: mailer(config, None).await,
                local_files: Some(files),
            }
        }
        Backend::Aws {
            table,
            bucket,
            kms_key_id,
            endpoint_url,
        } => {
            let clients = AwsClients::new(endpoint_url.as_deref()).await;
            Ports {
                mailer: mailer(config, Some(clients.ses)).await,
                table: Arc::new(DynamoTable::new(clients.dynamodb, table)),
                blobs: Arc::new(S3Blobs::new(clients.s3, bucket)),
                keys: Arc::new(KmsKeys::new(clients.kms, kms_key_id)),
                local_files: None,
            }
        }
    };
    Ok((secret, ports))
}

/// The state on `ports`, its keys derived from `secret`.
pub fn state(config: Config, secret: &Secret, ports: Ports) -> AppState {
    let tokens = Tokens::new(
        &secret.derive("access-tokens"),
        &config.issuer,
        &config.audience,
        config.access_token_ttl,
    );
    let directory = Arc::new(crate::principal::cache::Watched::new(ports.table));
    AppState::new(StateParts {
        cursors: Cursors::new(secret.derive("cursors")),
        rate_limits: Arc::new(RateLimits::new(
            Rate {
                per_minute: config.rate_limit_tenant,
            },
            Rate {
                per_minute: config.rate_limit_api_key,
            },
        )),
        link_signer: Cursors::new(secret.derive("signed-links")),
        webhook_key: Arc::new(zeroize::Zeroizing::new(
            secret
                .derive("webhook-secrets")
                .as_slice()
                .try_into()
                .expect("a derived key is 32 bytes"),
        )),
        tokens: Arc::new(tokens),
        config: Arc::new(config),
        table: directory.clone(),
        directory,
        blobs: ports.blobs,
        keys: ports.keys,
        mailer: ports.mailer,
        data_keys: Arc::new(DataKeyCache::default()),
        hooks: Arc::new(hooks()),
        clock: Arc::new(SystemClock),
        local_files: ports.local_files,
    })
}

/// The mailer `config` names. The transport is chosen on its own, so an install on the AWS
/// twins may still drop mail in a directory, and an embedded one may send through SES.
async fn mailer(config: &Config, ses: Option<aws_sdk_sesv2::Client>) -> Arc<dyn Mailer> {
    let from = &config.mail.from;
    match &config.mail.transport {
        MailTransport::File(dir) => Arc::new(FileMailer::new(dir, from)),
        MailTransport::Ses => {
            let client = match ses {
                Some(client) => client,
                None => AwsClients::new(None).await.ses,
            };
            Arc::new(SesMailer::new(client, from))
        }
    }
}

/// The areas' hooks.
pub fn hooks() -> Hooks {
    Hooks {
        relinks: vec![
            |s, p, r, f, t| Box::pin(crate::deals::service::relink(s, p, r, f, t)),
            |s, p, r, f, t| Box::pin(crate::orders::service::relink(s, p, r, f, t)),
            |s, p, r, f, t| Box::pin(crate::tasks::service::relink(s, p, r, f, t)),
            |s, p, r, f, t| Box::pin(crate::tickets::service::relink(s, p, r, f, t)),
            |s, p, _, f, t| Box::pin(crate::feedback::relink(s, p, f, t)),
            |s, p, r, f, t| Box::pin(crate::objects::relink(s, p, r, f, t)),
        ],
        readers: vec![
            ("contacts", |s, p, _, id| {
                Box::pin(async move { seen(crate::contacts::service::get(s, p, id, false).await) })
            }),
            ("companies", |s, p, _, id| {
                Box::pin(async move { seen(crate::companies::service::get(s, p, id).await) })
            }),
            ("deals", |s, p, _, id| {
                Box::pin(async move { seen(crate::deals::service::get(s, p, id).await) })
            }),
            ("tickets", |s, p, _, id| {
                Box::pin(async move { seen(crate::tickets::service::get(s, p, id).await) })
            }),
            (crate::policy::CUSTOM_PREFIX, |s, p, resource, id| {
                Box::pin(async move {
                    let key = resource.trim_start_matches(crate::policy::CUSTOM_PREFIX);
                    seen(crate::objects::get(s, p, key, id).await)
                })
            }),
        ],
    }
}

/// The step function of each kind of background job (see [`crate::jobs::Steps`]).
pub fn job_steps(kind: crate::jobs::Kind) -> crate::jobs::Stepper {
    match kind {
        crate::jobs::Kind::Import => |s, p, j| Box::pin(crate::imports::step(s, p, j)),
        crate::jobs::Kind::Export => |s, p, j| Box::pin(crate::exports::step(s, p, j)),
    }
}
