//! `crm`: the whole product in one process. With no configuration it keeps its data in
//! `./.crm-data` (SQLite, files, key files) and listens on 127.0.0.1:3000.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser};
use shared::config::{Backend, Config};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(version, about = "Run the CRM locally: every function in one server")]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "CRM_BIND", default_value = "127.0.0.1:3000")]
    bind: SocketAddr,
    /// Directory for the embedded table, files and keys.
    #[arg(long, env = "CRM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// With CRM_BACKEND=aws: create the table, bucket and KMS key (`alias/<table>`) if they
    /// do not exist yet (for emulators and first trials; SAM creates them in a deployment).
    #[arg(long)]
    bootstrap_aws: bool,
}

/// The settings (environment variables) `crm --help` lists after the flags.
fn settings_help() -> String {
    let mut text = String::from("Settings (environment variables, with their defaults):\n");
    for (name, default, meaning) in shared::config::SETTINGS {
        text.push_str(&format!("  {name} [default: {default}]\n      {meaning}\n"));
    }
    text
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Every setting is listed under the flags, with its default.
    let matches = Args::command().after_help(settings_help()).get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let mut vars: HashMap<String, String> = std::env::vars().collect();
    if let Some(dir) = &args.data_dir {
        vars.insert("CRM_DATA_DIR".into(), dir.display().to_string());
    }
    vars.entry("CRM_PUBLIC_URL".into())
        .or_insert_with(|| format!("http://{}", args.bind));
    let config = match Config::from_vars(&vars) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("crm: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    shared::telemetry::init(config.log_format);
    let backend = match &config.backend {
        Backend::Embedded { data_dir } => format!("embedded data in {}", data_dir.display()),
        Backend::Aws { table, bucket, .. } => format!("DynamoDB table {table}, S3 bucket {bucket}"),
    };
    if args.bootstrap_aws {
        let Backend::Aws {
            table,
            bucket,
            endpoint_url,
            ..
        } = &config.backend
        else {
            eprintln!("crm: --bootstrap-aws needs CRM_BACKEND=aws");
            return std::process::ExitCode::from(2);
        };
        let clients = shared::state::AwsClients::new(endpoint_url.as_deref()).await;
        let sender = (config.mail.transport == shared::config::MailTransport::Ses)
            .then_some(config.mail.from.as_str());
        match shared::state::bootstrap_aws(&clients, table, bucket, sender).await {
            Ok(key_id) => tracing::info!(%table, %bucket, %key_id, "AWS resources ready"),
            Err(e) => {
                eprintln!("crm: {e}");
                return std::process::ExitCode::from(1);
            }
        }
    }
    let state = match shared::wiring::from_config(config).await {
        Ok(state) => state,
        Err(e) => {
            eprintln!("crm: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("crm: cannot listen on {}: {e}", args.bind);
            return std::process::ExitCode::from(1);
        }
    };
    tracing::info!("CRM listening on http://{} ({backend})", args.bind);
    match crm::serve(listener, state, shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped cleanly");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("crm: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is in flight. Every write is committed
/// before its response is sent, so nothing acknowledged is lost.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
