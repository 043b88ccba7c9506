//! Bad requests of every kind get a clear problem+json answer, never a 500.

mod support;

use reqwest::Method;
use serde_json::json;
use support::{TestApp, into_reply};

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_problems() {
    let app = TestApp::spawn().await;
    let reply = app.call(Method::GET, "/v1/nothing-here", None, None).await;
    reply.problem(404, "not-found");
    let reply = app.call(Method::PUT, "/v1/contacts", None, None).await;
    reply.problem(405, "method-not-allowed");
    assert_eq!(reply.headers["allow"], "POST, GET");
    let reply = app.call(Method::GET, "/v1/signup", None, None).await;
    reply.problem(405, "method-not-allowed");
    assert_eq!(reply.headers["allow"], "POST");
}

#[tokio::test]
async fn malformed_json_is_400_and_the_wrong_content_type_415() {
    let app = TestApp::spawn().await;
    let send = |body: &'static str, content_type: Option<&'static str>| {
        let mut request = app.client.post(app.url("/v1/signup")).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        async move { into_reply(request.send().await.unwrap()).await }
    };
    send("{\"company_name\": ", Some("application/json"))
        .await
        .problem(400, "malformed-request");
    send("\u{feff}{}", Some("application/json"))
        .await
        .problem(400, "malformed-request");
    send("company_name=a", Some("application/x-www-form-urlencoded"))
        .await
        .problem(415, "unsupported-media-type");
    send("{}", None)
        .await
        .problem(415, "unsupported-media-type");
    send("[1,2]", Some("application/json"))
        .await
        .problem(422, "validation-failed");
    send("null", Some("application/json; charset=utf-8"))
        .await
        .problem(422, "validation-failed");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = TestApp::spawn_with(&[("CRM_MAX_BODY_BYTES", "2048")]).await;
    let t = app.sign_up("Acme").await;
    let reply = app
        .post(
            "/v1/contacts",
            Some(&t.access_token),
            json!({"name": "A", "notes": "x".repeat(5000)}),
        )
        .await;
    reply.problem(413, "payload-too-large");
    // Without a Content-Length (chunked), the limit holds while reading.
    let chunks: Vec<Result<String, std::io::Error>> =
        (0..10).map(|_| Ok("x".repeat(1000))).collect();
    let body = reqwest::Body::wrap_stream(futures_stream(chunks));
    let response = app
        .client
        .post(app.url("/v1/contacts"))
        .bearer_auth(&t.access_token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    into_reply(response).await.problem(413, "payload-too-large");
}

/// A body stream made of `chunks`, sent without a length.
fn futures_stream(
    chunks: Vec<Result<String, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<String, std::io::Error>> + Send + Sync + 'static {
    struct Chunks(std::vec::IntoIter<Result<String, std::io::Error>>);
    impl futures_core::Stream for Chunks {
        type Item = Result<String, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Chunks(chunks.into_iter())
}

#[tokio::test]
async fn hostile_input_never_yields_a_server_error() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let bodies = [
        json!({"name": "\u{0000}"}),
        json!({"name": "a".repeat(100_000)}),
        json!({"name": "A", "emails": vec![json!({"address": "a@b.co"}); 11]}),
        json!({"name": "A", "tags": (0..51).map(|i| i.to_string()).collect::<Vec<_>>()}),
        json!({"name": "A", "version": 99}),
        json!({"name": "A", "owner_id": "../../etc/passwd"}),
        json!({"name": 12}),
        json!({"name": "A", "address": {"country": "ÜB"}}),
        json!({"name": "A", "phones": [{"number": "+"}]}),
        json!({"name": "🦀".repeat(201)}),
    ];
    for body in bodies {
        let reply = app
            .post("/v1/contacts", Some(&t.access_token), body.clone())
            .await;
        assert!(
            reply.status.is_client_error(),
            "{body} -> {} {}",
            reply.status,
            reply.body
        );
        assert_eq!(reply.headers["content-type"], "application/problem+json");
    }
    let listed = app.get("/v1/contacts", &t.access_token).await;
    assert_eq!(listed.ok(200)["data"], json!([]));
    for path in [
        "/v1/contacts?limit=99999999999999999999",
        "/v1/contacts?cursor=%FF%FE",
        "/v1/contacts?limit=1&limit=2",
    ] {
        let reply = app.get(path, &t.access_token).await;
        assert!(reply.status.is_client_error(), "{path}: {}", reply.status);
    }
}

#[tokio::test]
async fn every_answer_forbids_caching_and_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    for reply in [
        app.get("/v1/me", &t.access_token).await,
        app.call(Method::GET, "/v1/nope", None, None).await,
    ] {
        assert_eq!(reply.headers["cache-control"], "no-store");
        assert_eq!(reply.headers["x-content-type-options"], "nosniff");
        assert!(reply.headers.contains_key("x-request-id"));
    }
}
