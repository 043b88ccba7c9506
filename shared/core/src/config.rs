//! Typed configuration, read once from the environment at start-up and validated there, so
//! a misconfigured deployment fails to start instead of failing requests. Defaults make the
//! local, embedded mode need no configuration at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Which twins of the ports the process uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, files and a master key file under `data_dir`.
    Embedded { data_dir: PathBuf },
    /// DynamoDB, S3 and KMS; `endpoint_url` points all three at an emulator (moto).
    Aws {
        table: String,
        bucket: String,
        kms_key_id: String,
        endpoint_url: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone)]
pub struct Config {
    pub backend: Backend,
    /// Where the deployment secret comes from: `CRM_SECRET`, or a generated file.
    pub secret_source: SecretSource,
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub max_body_bytes: usize,
    /// The largest file an import accepts (API Gateway's own limit is 10 MiB).
    pub max_import_bytes: usize,
    /// How often the local server's worker looks for queued jobs.
    pub worker_interval: Duration,
    /// Rows an import works through between checkpoints.
    pub import_batch_rows: usize,
    /// The least time a failed login or a password-reset request takes, so that the
    /// answer's timing tells nothing about whether the account exists.
    pub auth_answer_floor: Duration,
    /// Requests per minute a company's users and keys may make together
    /// (`CRM_RATE_LIMIT_TENANT`), and one API key alone (`CRM_RATE_LIMIT_API_KEY`).
    pub rate_limit_tenant: u32,
    pub rate_limit_api_key: u32,
    /// Development only (`CRM_WEBHOOKS_ALLOW_LOOPBACK=true`): webhooks may target plain
    /// `http://` on this machine's loopback addresses. Off by default, and refused with
    /// the AWS backend.
    pub webhooks_allow_loopback: bool,
    /// Base URL the local server is reached at (used in signed file links).
    pub public_url: String,
    /// The site's own origin (`https://crm.example.com`), which browser requests that use
    /// the session cookie must come from. Without it, the host the request was sent to
    /// (`X-Forwarded-Host`, else `Host`) is the site.
    pub public_origin: Option<String>,
    /// The built web console the local server serves at `/`; `None` is `web/dist` (of the
    /// working directory, else of the source tree).
    pub console_dir: Option<PathBuf>,
    pub log_format: LogFormat,
    pub mail: MailConfig,
}

/// Where the product's own emails go, and from which address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailConfig {
    pub from: String,
    pub transport: MailTransport,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailTransport {
    /// One JSON file per message in this directory (the embedded default).
    File(PathBuf),
    /// Amazon SES (the AWS default); the sender must be a verified identity.
    Ses,
}

#[derive(Clone)]
pub enum SecretSource {
    Value(Zeroizing<Vec<u8>>),
    File(PathBuf),
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Config")
            .field("backend", &self.backend)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_import_bytes", &self.max_import_bytes)
            .field("worker_interval", &self.worker_interval)
            .field("import_batch_rows", &self.import_batch_rows)
            .field("rate_limit_tenant", &self.rate_limit_tenant)
            .field("rate_limit_api_key", &self.rate_limit_api_key)
            .field("webhooks_allow_loopback", &self.webhooks_allow_loopback)
            .field("public_url", &self.public_url)
            .field("public_origin", &self.public_origin)
            .field("console_dir", &self.console_dir)
            .field("log_format", &self.log_format)
            .finish_non_exhaustive()
    }
}

/// Requests a minute a company may make in AWS by default: 500 a second sustained, far
/// above what a small business's people and partners make (a busy console is a few a
/// second per person), so only a runaway client meets it.
pub const DEFAULT_RATE_LIMIT_TENANT: u64 = 30_000;
/// Requests a minute one API key may make in AWS by default (200 a second).
pub const DEFAULT_RATE_LIMIT_API_KEY: u64 = 12_000;

/// Every setting: the variable, its default and what it does, as `crm --help` and the
/// README list them (a test holds the three together).
pub const SETTINGS: &[(&str, &str, &str)] = &[
    (
        "CRM_BIND",
        "127.0.0.1:3000",
        "Address the local server listens on (or --bind).",
    ),
    (
        "CRM_DATA_DIR",
        ".crm-data",
        "Embedded mode: the SQLite file, files, mail and keys, all owner-only (or --data-dir).",
    ),
    (
        "CRM_BACKEND",
        "embedded",
        "`embedded`, or `aws` for DynamoDB + S3 + KMS.",
    ),
    (
        "CRM_TABLE_NAME",
        "-",
        "With `aws`: the DynamoDB table (required).",
    ),
    (
        "CRM_BUCKET_NAME",
        "-",
        "With `aws`: the S3 bucket (required).",
    ),
    (
        "CRM_KMS_KEY_ID",
        "-",
        "With `aws`: the KMS key that wraps companies' data keys (required).",
    ),
    (
        "CRM_AWS_ENDPOINT_URL",
        "-",
        "Points the AWS clients at an emulator, e.g. moto server.",
    ),
    (
        "CRM_SECRET",
        "generated secret.key",
        "Base64 of at least 32 random bytes; signs tokens, cursors and links. Required with `aws`.",
    ),
    (
        "CRM_ACCESS_TOKEN_TTL_SECS",
        "900",
        "Access-token lifetime, 30 to 900 seconds.",
    ),
    (
        "CRM_REFRESH_TOKEN_TTL_SECS",
        "2592000",
        "Refresh-token (session) lifetime, 1 hour to 90 days.",
    ),
    ("CRM_ISSUER", "crm", "JWT `iss`."),
    ("CRM_AUDIENCE", "crm-api", "JWT `aud`."),
    (
        "CRM_MAX_BODY_BYTES",
        "1048576",
        "Larger request bodies get 413.",
    ),
    ("CRM_MAX_IMPORT_BYTES", "10485760", "Largest import file."),
    (
        "CRM_WORKER_INTERVAL_MS",
        "1000",
        "How often the local server's worker looks for queued jobs.",
    ),
    (
        "CRM_IMPORT_BATCH_ROWS",
        "500",
        "Rows an import works through between checkpoints.",
    ),
    (
        "CRM_AUTH_ANSWER_FLOOR_MS",
        "1000",
        "Least time a failed login or reset request takes (0 to 10000).",
    ),
    (
        "CRM_RATE_LIMIT_TENANT",
        "30000 with aws, 0 (off) embedded",
        "Requests a minute one company may make (0: no limit).",
    ),
    (
        "CRM_RATE_LIMIT_API_KEY",
        "12000 with aws, 0 (off) embedded",
        "Requests a minute one API key may make (0: no limit).",
    ),
    (
        "CRM_WEBHOOKS_ALLOW_LOOPBACK",
        "false",
        "Development only: webhooks may target plain http on loopback.",
    ),
    (
        "CRM_PUBLIC_URL",
        "http://<bind address>",
        "Base of the signed file links the local server hands out.",
    ),
    (
        "CRM_PUBLIC_ORIGIN",
        "(unset)",
        "The site's origin (`https://crm.example.com`) that browser requests using the \
         session cookie must come from; unset, the request's `X-Forwarded-Host` or `Host` \
         names the site.",
    ),
    (
        "CRM_CONSOLE_DIR",
        "web/dist",
        "The built web console the local server serves at `/` (`web/dist` of the working \
         directory, else of the source tree).",
    ),
    (
        "CRM_LOG_FORMAT",
        "pretty (json in Lambda)",
        "Log format; RUST_LOG filters (default info).",
    ),
    (
        "CRM_MAIL_FROM",
        "no-reply@localhost",
        "Sender of the product's mail.",
    ),
    (
        "CRM_MAIL",
        "file (embedded), ses (aws)",
        "`file` drops each message as JSON in CRM_MAIL_DIR; `ses` sends through Amazon SES.",
    ),
    (
        "CRM_MAIL_DIR",
        "<data dir>/mail",
        "Where the `file` transport drops messages.",
    ),
];

/// The longest an access token may live: short, so a revoked user loses access quickly.
pub const MAX_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  {}", .0.join("\n  "))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads configuration from a map of variables (the environment, or a test's).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut errors = Vec::new();
        let var = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut number = |name: &str, default: u64, min: u64, max: u64| -> u64 {
            match var(name).map(str::parse::<u64>) {
                None => default,
                Some(Ok(n)) if (min..=max).contains(&n) => n,
                _ => {
                    errors.push(format!("{name} must be a whole number from {min} to {max}"));
                    default
                }
            }
        };
        let access = number(
            "CRM_ACCESS_TOKEN_TTL_SECS",
            900,
            30,
            MAX_ACCESS_TOKEN_TTL.as_secs(),
        );
        let refresh = number("CRM_REFRESH_TOKEN_TTL_SECS", 30 * 86400, 3600, 90 * 86400);
        let max_body = number("CRM_MAX_BODY_BYTES", 1024 * 1024, 1024, 10 * 1024 * 1024);
        let max_import = number(
            "CRM_MAX_IMPORT_BYTES",
            10 * 1024 * 1024,
            1024,
            100 * 1024 * 1024,
        );
        let worker_ms = number("CRM_WORKER_INTERVAL_MS", 1000, 10, 60_000);
        let batch_rows = number("CRM_IMPORT_BATCH_ROWS", 500, 1, 5000);
        let floor = number("CRM_AUTH_ANSWER_FLOOR_MS", 1000, 0, 10_000);
        // Generous in AWS, where companies share the service; off on a local server,
        // which usually serves one company on its own premises.
        let shared_service = var("CRM_BACKEND") == Some("aws");
        let (tenant_default, key_default) = if shared_service {
            (DEFAULT_RATE_LIMIT_TENANT, DEFAULT_RATE_LIMIT_API_KEY)
        } else {
            (0, 0)
        };
        let tenant_rate = number("CRM_RATE_LIMIT_TENANT", tenant_default, 0, 10_000_000);
        let key_rate = number("CRM_RATE_LIMIT_API_KEY", key_default, 0, 10_000_000);

        let data_dir = PathBuf::from(var("CRM_DATA_DIR").unwrap_or(".crm-data"));
        let backend = match var("CRM_BACKEND").unwrap_or("embedded") {
            "embedded" => Backend::Embedded {
                data_dir: data_dir.clone(),
            },
            "aws" => {
                let mut required = |name: &str| match var(name) {
                    Some(v) => v.to_owned(),
                    None => {
                        errors.push(format!("{name} is required when CRM_BACKEND=aws"));
                        String::new()
                    }
                };
                Backend::Aws {
                    table: required("CRM_TABLE_NAME"),
                    bucket: required("CRM_BUCKET_NAME"),
                    kms_key_id: required("CRM_KMS_KEY_ID"),
                    endpoint_url: var("CRM_AWS_ENDPOINT_URL").map(str::to_owned),
                }
            }
            other => {
                errors.push(format!(
                    "CRM_BACKEND must be `embedded` or `aws`, not `{other}`"
                ));
                Backend::Embedded {
                    data_dir: data_dir.clone(),
                }
            }
        };

        let secret_source = match var("CRM_SECRET") {
            Some(text) => match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(bytes) if bytes.len() >= 32 => SecretSource::Value(Zeroizing::new(bytes)),
                _ => {
                    errors.push("CRM_SECRET must be base64 of at least 32 random bytes".into());
                    SecretSource::Value(Zeroizing::new(vec![]))
                }
            },
            None => match &backend {
                Backend::Embedded { data_dir } => SecretSource::File(data_dir.join("secret.key")),
                Backend::Aws { .. } => {
                    errors.push(
                        "CRM_SECRET is required when CRM_BACKEND=aws (the template passes it \
                         from Secrets Manager)"
                            .into(),
                    );
                    SecretSource::Value(Zeroizing::new(vec![]))
                }
            },
        };

        let log_format = match var("CRM_LOG_FORMAT") {
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            None if var("AWS_LAMBDA_FUNCTION_NAME").is_some() => LogFormat::Json,
            None => LogFormat::Pretty,
            Some(other) => {
                errors.push(format!(
                    "CRM_LOG_FORMAT must be `json` or `pretty`, not `{other}`"
                ));
                LogFormat::Pretty
            }
        };

        let public_url = var("CRM_PUBLIC_URL")
            .unwrap_or("http://127.0.0.1:3000")
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            errors.push("CRM_PUBLIC_URL must be an http(s) URL".into());
        }

        let public_origin = var("CRM_PUBLIC_ORIGIN").map(|o| o.trim_end_matches('/').to_owned());
        if let Some(origin) = &public_origin
            && !is_origin(origin)
        {
            errors
                .push("CRM_PUBLIC_ORIGIN must be an origin: http(s)://host[:port], no path".into());
        }

        let mail_from = var("CRM_MAIL_FROM")
            .unwrap_or("no-reply@localhost")
            .to_owned();
        if !crate::validation::is_email(&mail_from) && !mail_from.ends_with("@localhost") {
            errors.push("CRM_MAIL_FROM must be an email address".into());
        }
        let mail_dir = var("CRM_MAIL_DIR").map_or_else(|| data_dir.join("mail"), PathBuf::from);
        let transport = match (var("CRM_MAIL"), &backend) {
            (Some("file"), _) | (None, Backend::Embedded { .. }) => MailTransport::File(mail_dir),
            (Some("ses"), _) | (None, Backend::Aws { .. }) => MailTransport::Ses,
            (Some(other), _) => {
                errors.push(format!("CRM_MAIL must be `file` or `ses`, not `{other}`"));
                MailTransport::File(mail_dir)
            }
        };

        let webhooks_allow_loopback = match var("CRM_WEBHOOKS_ALLOW_LOOPBACK") {
            None | Some("false") => false,
            Some("true") if matches!(backend, Backend::Aws { .. }) => {
                errors.push(
                    "CRM_WEBHOOKS_ALLOW_LOOPBACK is for development on the embedded backend".into(),
                );
                false
            }
            Some("true") => true,
            Some(other) => {
                errors.push(format!(
                    "CRM_WEBHOOKS_ALLOW_LOOPBACK must be `true` or `false`, not `{other}`"
                ));
                false
            }
        };

        if !errors.is_empty() {
            return Err(ConfigError(errors));
        }
        Ok(Self {
            backend,
            secret_source,
            issuer: var("CRM_ISSUER").unwrap_or("crm").to_owned(),
            audience: var("CRM_AUDIENCE").unwrap_or("crm-api").to_owned(),
            access_token_ttl: Duration::from_secs(access),
            refresh_token_ttl: Duration::from_secs(refresh),
            max_body_bytes: max_body as usize,
            max_import_bytes: max_import as usize,
            worker_interval: Duration::from_millis(worker_ms),
            import_batch_rows: batch_rows as usize,
            auth_answer_floor: Duration::from_millis(floor),
            rate_limit_tenant: tenant_rate as u32,
            rate_limit_api_key: key_rate as u32,
            webhooks_allow_loopback,
            public_url,
            public_origin,
            console_dir: var("CRM_CONSOLE_DIR").map(PathBuf::from),
            log_format,
            mail: MailConfig {
                from: mail_from,
                transport,
            },
        })
    }

    /// Loads (or, for the file source, creates) the deployment secret.
    pub fn load_secret(&self) -> std::io::Result<Secret> {
        let bytes = match &self.secret_source {
            SecretSource::Value(v) => v.clone(),
            SecretSource::File(path) => read_or_create_secret(path, 32)?,
        };
        Ok(Secret(bytes))
    }
}

/// Whether `text` is a web origin as browsers send it: `http(s)://host[:port]`.
fn is_origin(text: &str) -> bool {
    text.parse::<http::Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri
                .authority()
                .is_some_and(|a| !a.host().is_empty() && !a.as_str().contains('@'))
            && text.matches('/').count() == 2
    })
}

/// The deployment secret. Every key the process signs with is derived from it for one
/// purpose, so a key leaked from one use cannot forge another.
#[derive(Clone)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// A 256-bit key for `purpose` (HMAC-SHA256 as a PRF, i.e. an HKDF-Expand step).
    pub fn derive(&self, purpose: &str) -> Zeroizing<Vec<u8>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"crm/derive/v1/");
        mac.update(purpose.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().to_vec())
    }
}

/// Reads a secret file of `len` random bytes, creating it with mode 0600 on first use.
///
/// A new secret is written to a temporary file first and then linked into place, which
/// fails if another process got there first: a crash never leaves a short file behind,
/// and two first starts never end up with different secrets.
pub fn read_or_create_secret(path: &Path, len: usize) -> std::io::Result<Zeroizing<Vec<u8>>> {
    use std::io::{Read, Write};
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::private_files::create_dir(dir)?;
    if !path.exists() {
        let tmp = dir.join(format!(".{}.tmp", ulid::Ulid::new()));
        let mut file = crate::private_files::file_options()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut bytes = Zeroizing::new(vec![0u8; len]);
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let written = file.write_all(&bytes).and_then(|()| file.sync_all());
        let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => return Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    if bytes.len() != len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} holds {} bytes, not {len}: it is not a key this program made",
                path.display(),
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_configuration_means_the_embedded_mode() {
        let config = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(
            config.backend,
            Backend::Embedded {
                data_dir: ".crm-data".into()
            }
        );
        assert_eq!(config.access_token_ttl, Duration::from_secs(900));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = Config::from_vars(&vars(&[
            ("CRM_BACKEND", "aws"),
            ("CRM_ACCESS_TOKEN_TTL_SECS", "3600"),
        ]))
        .unwrap_err();
        let text = err.to_string();
        for expected in [
            "CRM_TABLE_NAME",
            "CRM_BUCKET_NAME",
            "CRM_KMS_KEY_ID",
            "CRM_SECRET",
            "CRM_ACCESS_TOKEN_TTL_SECS",
        ] {
            assert!(text.contains(expected), "{expected} missing from: {text}");
        }
    }

    #[test]
    fn secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let first = read_or_create_secret(&path, 32).unwrap();
        let again = read_or_create_secret(&path, 32).unwrap();
        assert_eq!(*first, *again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let secret = Secret::from_bytes(&[7u8; 32]);
        assert_ne!(*secret.derive("jwt"), *secret.derive("cursor"));
        assert_eq!(*secret.derive("jwt"), *secret.derive("jwt"));
    }
}
