//! The Lambda entry point serves API Gateway HTTP API events with the same handlers as the
//! local server: an event goes in, the app's answer comes out.

use std::collections::HashMap;

use http_body_util::BodyExt;
use serde_json::{Value, json};
use shared::config::Config;
use tower::ServiceExt;

async fn app() -> (axum::Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let vars = HashMap::from([
        ("CRM_DATA_DIR".to_owned(), dir.path().display().to_string()),
        (
            "CRM_SECRET".to_owned(),
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
        ),
    ]);
    let state = shared::wiring::from_config(Config::from_vars(&vars).unwrap())
        .await
        .unwrap();
    (shared::lambda::app(crm_auth::routes(), state), dir)
}

/// An API Gateway HTTP API (payload 2.0) event.
fn event(method: &str, path: &str, headers: Value, body: Option<Value>) -> String {
    json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
            "domainPrefix": "api", "requestId": "req-1", "routeKey": format!("{method} {path}"),
            "stage": "$default", "time": "23/Nov/2026:10:00:00 +0000", "timeEpoch": 1795428000000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.9", "userAgent": "test"}
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
    .to_string()
}

async fn send(app: &axum::Router, event: String) -> (u16, HashMap<String, String>, Value) {
    let request = lambda_http::request::from_str(&event).expect("a valid API Gateway event");
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn a_sign_up_event_creates_a_tenant_whose_token_works() {
    let (app, _dir) = app().await;
    let (status, _, body) = send(
        &app,
        event(
            "POST",
            "/v1/signup",
            json!({"content-type": "application/json"}),
            Some(json!({"company_name": "Lambda Co", "email": "l@example.com", "password": "plum tree at dawn"})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (status, _, me) = send(
        &app,
        event(
            "GET",
            "/v1/me",
            json!({"authorization": format!("Bearer {token}")}),
            None,
        ),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["tenant"]["company_name"], "Lambda Co");
}

#[tokio::test]
async fn errors_from_lambda_are_problems_too() {
    let (app, _dir) = app().await;
    let (status, headers, body) = send(&app, event("GET", "/v1/signup", json!({}), None)).await;
    assert_eq!(status, 405);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(headers["allow"], "POST");
    assert_eq!(body["type"], "urn:crm:problem:method-not-allowed");
    let (status, _, body) = send(
        &app,
        event(
            "POST",
            "/v1/auth/login",
            json!({"content-type": "application/json"}),
            Some(json!({"email": "nobody@example.com", "password": "x"})),
        ),
    )
    .await;
    assert_eq!(status, 401, "{body}");
}
