//! `Idempotency-Key` on POST: the first response to a key (status, body and the headers
//! that locate the result) is kept for 24 hours and answered again to every repeat of
//! the same request, so a client (a partner's ERP, a shop) can retry a POST safely. The
//! same key with a different request is refused (422); a repeat while the first is still
//! running gets 409. Keys belong to the caller (user or API key) within their tenant.
//!
//! The first request writes a `started` marker (conditional on none), runs, and then
//! stores its response; a 5xx answer removes the marker, so a retry runs again. A marker
//! left `started` by a crashed request is taken over after [`LEASE_SECONDS`].
//!
//! A request is the same request when its method, path, query string and body are: a
//! dry run (`?dry_run=true`) and the real run are two requests.
//!
//! A response that shows a secret once (an API key, a webhook's signing secret, a TOTP
//! secret, recovery codes, tokens) is marked [`ShownOnce`] by its handler. Its body is
//! never stored: the key remembers only that the request ran, and a repeat gets 409
//! `secret-shown-once` (with the created record's `location` when there is one), so the
//! secret exists nowhere but in the first answer.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ApiError, Principal};
use crate::AppState;
use crate::error::Error;
use crate::table::{Condition, Key, TableError, from_item, to_item};

pub const HEADER: &str = "idempotency-key";
/// How long a response is answered again.
const KEEP_SECONDS: i64 = 24 * 3600;
/// After this, a request that never finished is presumed dead.
const LEASE_SECONDS: i64 = 300;
/// Largest response kept (an item must stay well under DynamoDB's 400 KB).
const MAX_KEPT_BODY: usize = 256 * 1024;
/// Headers answered again with the body.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// Marks a response that shows a secret once: the idempotency store keeps no copy of it.
#[derive(Clone, Copy, Debug)]
pub struct ShownOnce;

/// `response` marked [`ShownOnce`].
pub fn shown_once(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.extensions_mut().insert(ShownOnce);
    response
}

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    /// SHA-256 of the method, path, query and body.
    fingerprint: String,
    started_at: i64,
    /// The response, once there is one.
    status: Option<u16>,
    #[serde(default)]
    headers: Vec<(String, String)>,
    /// Base64.
    #[serde(default)]
    body: String,
    /// The response showed a secret once: its body was not kept and is not replayed.
    #[serde(default)]
    withheld: bool,
    /// DynamoDB removes the item after this (epoch seconds); the embedded table ignores
    /// it, so it is checked on read too.
    ttl: i64,
    #[serde(default)]
    version: u64,
}

fn key(principal: &Principal, idempotency_key: &str) -> Key {
    Key::new(
        principal
            .tenant
            .pk(&format!("idempotency#{}", principal.user_id)),
        idempotency_key,
    )
}

fn valid(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The middleware: passes every request through, except a POST with an
/// `Idempotency-Key` from a signed-in caller.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !request.headers().contains_key(HEADER) {
        return next.run(request).await;
    }
    match run(&state, request, next).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn run(state: &AppState, request: Request, next: Next) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let idempotency_key = parts
        .headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !valid(&idempotency_key) {
        return Err(ApiError(Error::validation(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        )));
    }
    // Without a caller there is nothing to key on: the handler answers (401).
    let Ok(principal) = Principal::from_request_parts(&mut parts, state).await else {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    let limit = state
        .config
        .max_body_bytes
        .max(state.config.max_import_bytes);
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| Error::PayloadTooLarge { limit })?;
    let fingerprint = {
        let digest = Sha256::new()
            .chain_update(parts.method.as_str())
            .chain_update(b" ")
            .chain_update(parts.uri.path())
            .chain_update(b"?")
            .chain_update(parts.uri.query().unwrap_or_default())
            .chain_update(b"\n")
            .chain_update(&bytes)
            .finalize();
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let item_key = key(&principal, &idempotency_key);
    let now = state.clock.now().unix_timestamp();
    let mut started = Record {
        fingerprint: fingerprint.clone(),
        started_at: now,
        status: None,
        headers: Vec::new(),
        body: String::new(),
        withheld: false,
        ttl: now + KEEP_SECONDS,
        version: 1,
    };
    let mut condition = Condition::NotExists;
    loop {
        match state
            .table
            .put(to_item(&item_key, &started)?, condition.clone())
            .await
        {
            Ok(()) => break,
            Err(TableError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(item) = state.table.get(&item_key).await? else {
            condition = Condition::NotExists;
            continue;
        };
        let found: Record = from_item(item)?;
        let expired = found.ttl <= now;
        let abandoned = found.status.is_none() && found.started_at + LEASE_SECONDS <= now;
        if expired || abandoned {
            // Taken over on the version read: one of several takers wins.
            condition = Condition::VersionIs(found.version);
            started.version = found.version + 1;
            continue;
        }
        if found.fingerprint != fingerprint {
            return Err(ApiError(Error::validation(
                "Idempotency-Key",
                "was used with a different request; use a new key for a new request",
            )));
        }
        return match found.status {
            Some(_) if found.withheld => Err(secret_shown_once(&found)),
            Some(status) => Ok(replay(&found, status)),
            None => Err(ApiError(Error::conflict(
                "idempotency-key-in-use",
                "A request with this Idempotency-Key is still running; retry shortly.",
            ))),
        };
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    keep(state, &item_key, started, response).await
}

/// Stores `response` under the key (or lets the key go after a server error), and
/// answers it.
async fn keep(
    state: &AppState,
    item_key: &Key,
    started: Record,
    response: Response,
) -> Result<Response, ApiError> {
    let status = response.status();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| Error::Internal(format!("response body: {e}")))?;
    if status.is_server_error() || bytes.len() > MAX_KEPT_BODY {
        state
            .table
            .delete(item_key, Condition::VersionIs(started.version))
            .await
            .or_else(|e| match e {
                TableError::ConditionFailed { .. } => Ok(()),
                e => Err(e),
            })?;
        return Ok(Response::from_parts(parts, Body::from(bytes)));
    }
    let withheld = parts.extensions.get::<ShownOnce>().is_some() && status.is_success();
    let record = Record {
        status: Some(status.as_u16()),
        headers: kept_headers(&parts.headers),
        body: if withheld {
            String::new()
        } else {
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        },
        withheld,
        version: started.version + 1,
        ..started
    };
    match state
        .table
        .put(
            to_item(item_key, &record)?,
            Condition::VersionIs(record.version - 1),
        )
        .await
    {
        // Taken over after the lease (this request ran too long): the taker's stands.
        Ok(()) | Err(TableError::ConditionFailed { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn kept_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| (name.as_str().to_owned(), v.to_owned()))
        })
        .collect()
}

/// The answer to a repeat of a request whose response showed a secret once.
fn secret_shown_once(record: &Record) -> ApiError {
    let mut extra = serde_json::Map::new();
    if let Some((_, location)) = record
        .headers
        .iter()
        .find(|(name, _)| name == header::LOCATION.as_str())
    {
        extra.insert("location".into(), location.clone().into());
    }
    ApiError(Error::Conflict {
        kind: "secret-shown-once",
        detail: "The first response to this Idempotency-Key showed a secret, which is shown \
                 only once and was not kept. The request did succeed; if its answer was \
                 lost, revoke or rotate what it made and make a new one."
            .into(),
        extra,
    })
}

fn replay(record: &Record, status: u16) -> Response {
    let body = base64::engine::general_purpose::STANDARD
        .decode(&record.body)
        .unwrap_or_default();
    let mut response = Response::new(Body::from(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    for (name, value) in &record.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response.headers_mut().insert(
        HeaderName::from_static("idempotent-replayed"),
        HeaderValue::from_static("true"),
    );
    response
}
