//! Running a function's routes on AWS Lambda behind an API Gateway HTTP API.

use axum::extract::Request;
use axum::middleware::Next;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

use crate::config::Config;
use crate::http::Routes;
use crate::http::principal::ClientIp;
use crate::{AppState, telemetry};

/// Reads configuration, builds the state and serves `routes` until Lambda stops the
/// process. A configuration error ends start-up with a clear message.
pub async fn run(routes: Routes) -> Result<(), lambda_http::Error> {
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    let state = crate::wiring::from_config(config).await?;
    lambda_http::run(app(routes, state)).await
}

/// The app Lambda serves: the same routes and layers as locally, plus the caller's
/// address taken from the API Gateway request context.
pub fn app(routes: Routes, state: AppState) -> axum::Router {
    crate::http::app::finish(routes, state).layer(axum::middleware::from_fn(source_ip))
}

/// Copies the caller's address from the API Gateway context, where Lambda puts it.
async fn source_ip(mut req: Request, next: Next) -> axum::response::Response {
    let ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.http.source_ip.as_deref().and_then(|ip| ip.parse().ok())
        }
        _ => None,
    };
    if let Some(ip) = ip {
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}
