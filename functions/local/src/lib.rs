//! The local server: every function's routes in one axum app, on whichever twins the
//! configuration names (embedded by default). It runs the very handlers Lambda runs, and
//! serves the built web console at `/` (in AWS, CloudFront does).

pub mod console;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::http::Method;
use shared::AppState;
use shared::http::Routes;

/// Every route the product serves.
pub fn routes(state: &AppState) -> Routes {
    let mut routes = crm_auth::routes()
        .merge(crm_admin::routes())
        .merge(crm_contacts::routes())
        .merge(crm_sales::routes())
        .merge(crm_service::routes())
        .merge(crm_audit::routes())
        .merge(crm_objects::routes());
    if let Some(files) = &state.local_files {
        // On AWS, S3 serves signed links itself; locally this server does.
        routes = routes.mount(
            Method::GET,
            "/files/{*key}",
            shared::http::files::router(files.clone()),
        );
    }
    routes
}

/// The API, and the web console on every path it does not serve. The console is no API
/// route: it stays out of the route table, and so out of `openapi.yaml`.
pub fn app(state: AppState) -> Router {
    let console = console::router(console::dir(state.config.console_dir.as_deref()));
    shared::http::app::finish_with_fallback(routes(&state), state, console)
}

/// Serves `state` on `listener` until `shutdown` completes, then finishes the requests
/// in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The background workers (jobs: imports, exports; reminders; webhook dispatch) run beside the server
    // and stop with it.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(shared::jobs::worker(
        state.clone(),
        state.config.worker_interval,
        stopped.clone(),
        shared::wiring::job_steps,
    ));
    let reminders = tokio::spawn(shared::reminders::worker(
        state.clone(),
        state.config.worker_interval,
        stopped.clone(),
    ));
    let dispatcher = tokio::spawn(shared::webhooks::deliver::worker(
        state.clone(),
        state.config.worker_interval,
        stopped,
    ));
    let served = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    let _ = stop.send(true);
    let _ = worker.await;
    let _ = reminders.await;
    let _ = dispatcher.await;
    served
}
