//! The web console at `/`: the built single-page app (`web/dist`, or `CRM_CONSOLE_DIR`)
//! served by tower-http's `ServeDir`. A path that is no file is a client route and gets
//! `index.html`; `/v1/…` and `/files/…` stay the API's (problem+json 404). Vite's hashed
//! `/assets/` are cached for good, `index.html` never without asking; every answer carries
//! the console's security headers (the same as CloudFront's policy in `template.yaml`).

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::http::browser::CONSOLE_CSP;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Where the built console is: `configured`, else `web/dist` of the working directory
/// if there is one, else of the source tree this binary was built from.
pub fn dir(configured: Option<&Path>) -> PathBuf {
    if let Some(dir) = configured {
        return dir.to_owned();
    }
    let here = Path::new("web/dist");
    if here.is_dir() {
        return here.to_owned();
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/dist"))
}

/// Answers every path no API route serves.
pub fn router(dir: PathBuf) -> Router {
    Router::new().fallback(move |req: Request| serve(dir.clone(), req))
}

async fn serve(dir: PathBuf, req: Request) -> Response {
    let path = req.uri().path();
    let is_api = path == "/v1" || path.starts_with("/v1/") || path.starts_with("/files/");
    if is_api || !(req.method() == Method::GET || req.method() == Method::HEAD) {
        return shared::http::app::not_found().await.into_response();
    }
    let index = dir.join("index.html");
    if !index.is_file() {
        return secured(not_built(&dir));
    }
    let is_asset = path.starts_with("/assets/");
    // A path that is no file (a client route like `/contacts/123`, or a traversal
    // attempt ServeDir refuses) gets the app's page.
    let page =
        ServiceExt::<Request>::map_response(ServeFile::new(index), |mut response: Response<_>| {
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
            response
        });
    let mut response = match ServeDir::new(&dir).fallback(page).oneshot(req).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    };
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        let policy = if is_asset && response.status().is_success() {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    secured(response)
}

/// The console's security headers.
fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONSOLE_CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// What `/` says when the console has not been built: how to build it. The API works.
fn not_built(dir: &Path) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>CRM: console not built</title></head><body>\
         <h1>The web console is not built</h1>\
         <p>No <code>index.html</code> in <code>{}</code>. Build it with</p>\
         <pre>npm --prefix web ci &amp;&amp; npm --prefix web run build</pre>\
         <p>and reload this page (or set <code>CRM_CONSOLE_DIR</code>). The API under \
         <code>/v1</code> works meanwhile.</p></body></html>",
        escape(&dir.display().to_string())
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
