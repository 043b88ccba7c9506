//! What every app gets around its routes, in Lambda and locally alike: request ids (always
//! the server's own; a client's `X-Request-Id` is kept apart, sanitised), a
//! tracing span per request, panics turned into problem+json, problem+json 404 and 405,
//! and `no-store` caching for API answers.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use super::principal::ClientRequestId;
use super::problem::{ApiError, PROBLEM_JSON};
use super::routes::Routes;
use crate::AppState;
use crate::error::Error;
use crate::i18n::Lang;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The path as logs show it: a survey link's token is a credential, so it is left out.
fn logged_path(path: &str) -> &str {
    const SURVEYS: &str = "/v1/public/surveys/";
    if path.starts_with(SURVEYS) {
        "/v1/public/surveys/{token}"
    } else {
        path
    }
}

/// The finished app: routes, fallbacks and layers, bound to `state`.
pub fn finish(routes: Routes, state: AppState) -> Router {
    finish_with_fallback(routes, state, Router::new().fallback(not_found))
}

/// [`finish`], with `fallback` answering what no route serves (the local server's web
/// console); it answers the problem+json 404 itself for paths it does not serve.
pub fn finish_with_fallback(routes: Routes, state: AppState, fallback: Router) -> Router {
    // The methods of each path, for the `Allow` header of a 405.
    let mut allow: HashMap<&'static str, Vec<&str>> = HashMap::new();
    for (method, path) in routes.table() {
        allow.entry(path).or_default().push(method.as_str());
    }
    let allow: Arc<HashMap<&'static str, String>> = Arc::new(
        allow
            .into_iter()
            .map(|(path, methods)| (path, methods.join(", ")))
            .collect(),
    );
    routes
        .into_router()
        .fallback_service(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::idempotency::layer,
        ))
        // Before the idempotency layer: a replayed answer spends a token too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::rate_limit::layer,
        ))
        .layer(axum::middleware::from_fn(
            move |req: Request<Body>, next: Next| {
                let allow = allow.clone();
                async move {
                    let path = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map(|p| p.as_str().to_owned());
                    let response = next.run(req).await;
                    let methods = path.and_then(|p| allow.get(p.as_str()).cloned());
                    harden(response, methods.unwrap_or_default())
                }
            },
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError(Error::Internal("a handler panicked".into())).into_response()
        }))
        // Outside everything that makes problems (replayed ones too), so each is read in
        // the language of the request that gets it.
        .layer(axum::middleware::from_fn(localise))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
                let request_id = req
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "request",
                    method = %req.method(),
                    path = %logged_path(req.uri().path()),
                    request_id,
                    tenant_id = tracing::field::Empty,
                    user_id = tracing::field::Empty,
                )
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        // Outermost: the client's id is set aside before the server makes its own.
        .layer(axum::middleware::from_fn(client_request_id))
        .with_state(state)
}

/// Moves a client's `X-Request-Id` out of the way (sanitised, into [`ClientRequestId`]):
/// the request id in logs, the audit log and the response is always the server's own.
async fn client_request_id(mut req: Request<Body>, next: Next) -> Response<Body> {
    if let Some(value) = req.headers_mut().remove(REQUEST_ID)
        && let Some(id) = ClientRequestId::sanitise(value.as_bytes())
    {
        req.extensions_mut().insert(id);
    }
    next.run(req).await
}

fn is_problem(response: &Response<Body>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes())
}

/// A problem's words (title, detail, field messages) in the language the request asks
/// for (`Accept-Language`, English by default), named by `Content-Language`.
async fn localise(req: Request<Body>, next: Next) -> Response<Body> {
    let lang = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::En, Lang::from_accept_language);
    let response = next.run(req).await;
    if !is_problem(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.tag()),
    );
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    if lang == Lang::En {
        return Response::from_parts(parts, body);
    }
    // Problems are small documents the server made itself.
    let bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "problem body unreadable");
            return ApiError(Error::Internal("problem body unreadable".into())).into_response();
        }
    };
    let Ok(mut problem) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    translate_problem(&mut problem, lang);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(problem.to_string()))
}

fn translate_problem(problem: &mut serde_json::Value, lang: Lang) {
    let texts = |v: &mut serde_json::Value| {
        if let Some(text) = v.as_str() {
            let translated = crate::i18n::translate(text, lang).into_owned();
            *v = serde_json::Value::String(translated);
        }
    };
    for member in ["title", "detail"] {
        if let Some(v) = problem.get_mut(member) {
            texts(v);
        }
    }
    if let Some(errors) = problem.get_mut("errors").and_then(|e| e.as_array_mut()) {
        for error in errors {
            if let Some(v) = error.get_mut("message") {
                texts(v);
            }
        }
    }
}

/// The answer to a path no route serves.
pub async fn not_found() -> ApiError {
    ApiError(Error::NotFound("No such route.".into()))
}

/// Turns axum's own plain-text 405 into problem+json with an `Allow` header, and forbids
/// caching of API answers.
fn harden(mut response: Response<Body>, allow: String) -> Response<Body> {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED && !is_problem(&response) {
        response = ApiError(Error::MethodNotAllowed { allow }).into_response();
    }
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
