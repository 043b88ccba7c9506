//! Bad requests of every kind get a clear problem+json answer, never a 500.

use crate::support::{TestApp, into_reply};
use reqwest::Method;
use serde_json::json;

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

/// Names made only of characters that show nothing.
const INVISIBLE_NAMES: &[&str] = &[
    "\u{200B}\u{200B}",
    "\u{FEFF}",
    "\u{200D}\u{2060}\u{180E}",
    " \u{3000}\u{00A0}\u{2007} ",
    "\u{3164}",
    "\u{E0041}\u{E0042}",
    "\u{202E}\u{200F}",
];

#[tokio::test]
async fn names_made_only_of_invisible_characters_are_not_names() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    app.post(
        "/v1/settings/fields",
        Some(t),
        json!({"object": "contacts", "key": "nickname", "label": "Nickname", "type": "text"}),
    )
    .await
    .ok(201);
    for blank in INVISIBLE_NAMES {
        for (path, body, field) in [
            ("/v1/contacts", json!({"name": blank}), "name"),
            ("/v1/companies", json!({"name": blank}), "name"),
            ("/v1/deals", json!({"title": blank}), "title"),
            ("/v1/tasks", json!({"title": blank}), "title"),
            ("/v1/tickets", json!({"subject": blank}), "subject"),
            ("/v1/teams", json!({"name": blank}), "name"),
            (
                "/v1/api-keys",
                json!({"name": blank, "permissions": {}}),
                "name",
            ),
            (
                "/v1/products",
                json!({"sku": "SKU-1", "name": blank,
                       "unit_price": {"amount_minor": 100, "currency": "CNY"}}),
                "name",
            ),
            (
                "/v1/contacts",
                json!({"name": "Ada", "custom": {"nickname": blank}}),
                "custom.nickname",
            ),
            (
                "/v1/orders",
                json!({"currency": "CNY", "lines": [{"description": blank, "quantity": 1,
                       "unit_price_minor": 100}]}),
                "lines[0].description",
            ),
        ] {
            let reply = app.post(path, Some(t), body).await;
            assert!(
                reply.invalid_fields().contains(&field.to_owned()),
                "{path} {blank:?}: {}",
                reply.body
            );
        }
    }
    // Invisible characters around a visible name are no reason to refuse it.
    app.create_contact(t, json!({"name": "\u{200B}Ada\u{FEFF}"}))
        .await;
}

#[tokio::test]
async fn money_is_in_real_iso_4217_currencies_everywhere() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    app.post(
        "/v1/settings/fields",
        Some(t),
        json!({"object": "deals", "key": "budget", "label": "Budget", "type": "money"}),
    )
    .await
    .ok(201);
    for code in ["ABC", "XXX", "XTS", "QQQ", "ZZZ"] {
        let money = json!({"amount_minor": 100, "currency": code});
        for (path, body, field) in [
            (
                "/v1/deals",
                json!({"title": "Deal", "amount": money}),
                "amount.currency",
            ),
            (
                "/v1/deals",
                json!({"title": "Deal", "custom": {"budget": money}}),
                "custom.budget",
            ),
            (
                "/v1/companies",
                json!({"name": "Acme", "annual_revenue": money}),
                "annual_revenue.currency",
            ),
            (
                "/v1/products",
                json!({"sku": "SKU-1", "name": "Tea", "unit_price": money}),
                "unit_price.currency",
            ),
            (
                "/v1/orders",
                json!({"currency": code, "lines": [{"description": "Tea", "quantity": 1,
                       "unit_price_minor": 100}]}),
                "currency",
            ),
        ] {
            let reply = app.post(path, Some(t), body).await;
            assert!(
                reply.invalid_fields().contains(&field.to_owned()),
                "{path} {code}: {}",
                reply.body
            );
        }
    }
    for code in ["CNY", "USD", "EUR", "JPY", "HKD"] {
        let money = json!({"amount_minor": 100, "currency": code});
        app.post(
            "/v1/deals",
            Some(t),
            json!({"title": "Deal", "amount": money}),
        )
        .await
        .ok(201);
    }
}

/// A problem reads in the language the request asks for (`Accept-Language`): its title,
/// its detail and each field's message, with the values they carry, and says which
/// language it is in. Without the header, or for a language the product does not speak,
/// it is English.
#[tokio::test]
async fn problems_speak_the_language_the_request_asks_for() {
    use shared::i18n::{Lang, translate};
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let bad = json!({
        "name": "x".repeat(201),
        "emails": [{"address": "not-mail"}],
        "tags": 5,
    });
    let send = |body: serde_json::Value, lang: &'static str| {
        let app = &app;
        let token = t.access_token.clone();
        async move {
            app.call_with(
                Method::POST,
                "/v1/contacts",
                Some(&token),
                Some(body),
                &[("accept-language", lang)],
            )
            .await
        }
    };
    let has_chinese = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));

    // A type error first (one message from serde), then the field rules (several).
    let en = send(bad.clone(), "fr-FR, de").await;
    en.problem(422, "validation-failed");
    assert_eq!(en.headers["content-language"], "en");
    let zh = send(bad.clone(), "zh-CN,zh;q=0.9,en;q=0.8").await;
    zh.problem(422, "validation-failed");
    assert_eq!(zh.headers["content-language"], "zh-CN");
    assert_eq!(zh.invalid_fields(), en.invalid_fields(), "the same fields");
    let message =
        |r: &crate::support::Reply| r.body["errors"][0]["message"].as_str().unwrap().to_owned();
    assert!(
        message(&en).starts_with("invalid type: integer `5`"),
        "{}",
        message(&en)
    );
    assert!(has_chinese(&message(&zh)), "{}", message(&zh));
    assert!(
        message(&zh).contains('5'),
        "the value it carried: {}",
        message(&zh)
    );

    let mut fields = bad.clone();
    fields["tags"] = json!([]);
    let en = send(fields.clone(), "en").await;
    let zh = send(fields, "zh").await;
    assert_eq!(zh.invalid_fields(), en.invalid_fields());
    for (en, zh) in en.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .zip(zh.body["errors"].as_array().unwrap())
    {
        let (en, zh) = (
            en["message"].as_str().unwrap(),
            zh["message"].as_str().unwrap(),
        );
        assert!(has_chinese(zh), "{en} → {zh}");
        assert_eq!(zh, translate(en, Lang::Zh));
    }
    let too_long = zh.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "name")
        .unwrap();
    assert!(
        too_long["message"].as_str().unwrap().contains("200"),
        "{too_long}"
    );
    assert!(
        has_chinese(zh.body["title"].as_str().unwrap()),
        "{}",
        zh.body
    );
    assert!(
        has_chinese(zh.body["detail"].as_str().unwrap()),
        "{}",
        zh.body
    );

    // Any problem: a missing record, a missing token, a route that is not there.
    let missing = app
        .call_with(
            Method::GET,
            "/v1/contacts/ct_nothing",
            Some(&t.access_token),
            None,
            &[("accept-language", "zh-CN")],
        )
        .await;
    missing.problem(404, "not-found");
    assert!(
        has_chinese(missing.body["detail"].as_str().unwrap()),
        "{}",
        missing.body
    );
    let anonymous = app
        .call_with(
            Method::GET,
            "/v1/contacts",
            None,
            None,
            &[("accept-language", "zh-CN")],
        )
        .await;
    anonymous.problem(401, "unauthenticated");
    assert!(
        has_chinese(anonymous.body["detail"].as_str().unwrap()),
        "{}",
        anonymous.body
    );
    let english = app.call(Method::GET, "/v1/contacts", None, None).await;
    assert_eq!(english.body["title"], "Authentication required");
}
