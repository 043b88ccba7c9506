//! Logging: JSON lines in Lambda (CloudWatch), readable lines locally. Request spans carry
//! the request id and, once authenticated, the tenant and user ids; no handler logs
//! secrets or field values.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber (once; later calls are ignored). `RUST_LOG` filters.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .without_time() // CloudWatch stamps every line.
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
