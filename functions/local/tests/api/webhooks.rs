//! Events and webhooks, black-box: a receiver on this machine checks every signature
//! with the Standard Webhooks reference library, records what arrives, and fails on
//! demand. The apps run in development mode (`CRM_WEBHOOKS_ALLOW_LOOPBACK`) so they may
//! reach it over plain http; the SSRF test runs one without.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::TestApp;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: i64,
    signatures: String,
    body: Value,
    raw: Vec<u8>,
    /// The status it answered.
    answered: u16,
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    /// What to answer (200 when 0), and a Retry-After to send with it.
    fail_with: u16,
    retry_after: Option<u64>,
}

#[derive(Clone)]
struct Receiver {
    url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let shared = inner.clone();
        let app =
            axum::Router::new().route(
                "/hook",
                axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                    let shared = shared.clone();
                    async move {
                        let text = |name: &str| {
                            headers
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        let mut inner = shared.lock().unwrap();
                        let answered = if inner.fail_with == 0 {
                            200
                        } else {
                            inner.fail_with
                        };
                        inner.received.push(Received {
                            id: text("webhook-id"),
                            timestamp: text("webhook-timestamp").parse().unwrap_or(0),
                            signatures: text("webhook-signature"),
                            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                            raw: body.to_vec(),
                            answered,
                        });
                        let mut response = axum::response::Response::new(axum::body::Body::from(
                            if answered == 200 { "ok" } else { "not now" },
                        ));
                        *response.status_mut() = StatusCode::from_u16(answered).unwrap();
                        if let Some(seconds) = inner.retry_after {
                            response
                                .headers_mut()
                                .insert("retry-after", seconds.to_string().parse().unwrap());
                        }
                        response
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, inner }
    }

    fn fail_with(&self, status: u16, retry_after: Option<u64>) {
        let mut inner = self.inner.lock().unwrap();
        inner.fail_with = status;
        inner.retry_after = retry_after;
    }

    fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// The requests it answered 2xx.
    fn delivered(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.answered == 200)
            .collect()
    }

    /// Waits (up to 20 s) until `done` holds for what arrived.
    async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..400 {
            let received = self.received();
            if done(&received) {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the receiver never got {what}: {:#?}", self.received());
    }
}

/// Checks a request's signature the way a receiver would, with the reference library
/// (its timestamp tolerance included).
fn verify(secret: &str, r: &Received) {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("webhook-id", r.id.parse().unwrap());
    headers.insert(
        "webhook-timestamp",
        r.timestamp.to_string().parse().unwrap(),
    );
    headers.insert("webhook-signature", r.signatures.parse().unwrap());
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(&r.raw, &headers)
        .unwrap_or_else(|e| panic!("signature of {} does not verify: {e:?}", r.id));
}

async fn dev_app() -> TestApp {
    TestApp::spawn_with(&[("CRM_WEBHOOKS_ALLOW_LOOPBACK", "true")]).await
}

/// Subscribes `url` to `types`; returns the webhook and its secret.
async fn subscribe(app: &TestApp, token: &str, url: &str, types: &[&str]) -> (Value, String) {
    let made = app
        .post(
            "/v1/webhooks",
            Some(token),
            json!({"url": url, "event_types": types, "description": "ERP"}),
        )
        .await
        .ok(201)
        .clone();
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{made}");
    (made, secret)
}

#[tokio::test]
async fn every_change_is_one_event_delivered_signed_and_in_order() {
    let app = dev_app().await;
    let receiver = Receiver::start().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let (webhook, secret) = subscribe(&app, token, &receiver.url, &["contact.*", "deal.*"]).await;
    let id = webhook["id"].as_str().unwrap();
    // The secret is shown once.
    let shown = app.get(&format!("/v1/webhooks/{id}"), token).await;
    assert!(shown.ok(200).get("secret").is_none() && shown.body.get("secrets").is_none());
    assert_eq!(shown.body["event_types"], json!(["contact.*", "deal.*"]));

    let contact = app
        .create_contact(token, json!({"name": "Ada Byron"}))
        .await;
    let contact_id = contact["id"].as_str().unwrap();
    app.patch(
        &format!("/v1/contacts/{contact_id}"),
        token,
        json!({"name": "Ada Lovelace"}),
    )
    .await
    .ok(200);
    app.delete(&format!("/v1/contacts/{contact_id}"), token)
        .await
        .ok(204);
    // Not subscribed: an event, but no delivery.
    app.post(
        "/v1/companies",
        Some(token),
        json!({"name": "Analytical Engines"}),
    )
    .await
    .ok(201);

    let received = receiver
        .wait_for("three contact events", |r| r.len() >= 3)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received_now = receiver.received();
    assert_eq!(
        received_now.len(),
        3,
        "exactly one delivery per change: {received_now:#?}"
    );
    for r in &received {
        verify(&secret, r);
        assert_eq!(r.body["id"], json!(r.id), "webhook-id is the event id");
        assert_eq!(r.body["resource_id"], json!(contact_id));
    }
    let types: Vec<_> = received.iter().map(|r| r.body["type"].clone()).collect();
    assert_eq!(
        types,
        [
            json!("contact.created"),
            json!("contact.updated"),
            json!("contact.deleted")
        ]
    );
    assert_eq!(received[1].body["data"]["name"], json!("Ada Lovelace"));
    assert_eq!(received[1].body["previous"]["name"], json!("Ada Byron"));
    assert!(received[0].body.get("previous").is_none());

    // The event list: one event per change, newest first, filterable.
    let events = app.get("/v1/events", token).await;
    let events = events.ok(200)["data"].as_array().unwrap().clone();
    let kinds: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "company.created",
            "contact.deleted",
            "contact.updated",
            "contact.created"
        ]
    );
    let contacts_only = app.get("/v1/events?type=contact.*&limit=2", token).await;
    let page = contacts_only.ok(200);
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let next = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/v1/events?type=contact.*&limit=2&cursor={next}"),
            token,
        )
        .await;
    assert_eq!(rest.ok(200)["data"][0]["type"], json!("contact.created"));
    app.get("/v1/events?type=Contact", token)
        .await
        .problem(422, "validation-failed");

    // The delivery log.
    let log = app
        .get(&format!("/v1/webhooks/{id}/deliveries"), token)
        .await;
    let log = log.ok(200)["data"].as_array().unwrap().clone();
    assert_eq!(log.len(), 3);
    for delivery in &log {
        assert_eq!(delivery["status"], json!("delivered"), "{delivery}");
        assert_eq!(delivery["attempts"][0]["status"], json!(200));
        assert_eq!(delivery["attempts"][0]["response"], json!("ok"));
    }

    // Another company sees none of it.
    let other = app.sign_up("Other").await;
    app.get(&format!("/v1/webhooks/{id}"), &other.access_token)
        .await
        .problem(404, "not-found");
    app.get(
        &format!("/v1/webhooks/{id}/deliveries"),
        &other.access_token,
    )
    .await
    .problem(404, "not-found");
    let theirs = app.get("/v1/events", &other.access_token).await;
    assert_eq!(theirs.ok(200)["data"], json!([]));
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_everything_once_it_recovers() {
    let app = dev_app().await;
    let receiver = Receiver::start().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let (webhook, secret) = subscribe(&app, token, &receiver.url, &["contact.created"]).await;
    let id = webhook["id"].as_str().unwrap();

    receiver.fail_with(503, None);
    for name in ["Ada", "Grace"] {
        app.create_contact(token, json!({"name": name})).await;
    }
    let failed = receiver
        .wait_for("two failed attempts", |r| r.len() >= 2)
        .await;
    // The worker records an attempt once the receiver has answered it: wait for both.
    let mut log = Value::Null;
    for _ in 0..100 {
        log = app
            .get(&format!("/v1/webhooks/{id}/deliveries"), token)
            .await
            .ok(200)
            .clone();
        let recorded = log["data"].as_array().unwrap();
        if recorded.len() == 2 && recorded.iter().all(|d| d["attempt_count"] == json!(1)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for delivery in log["data"].as_array().unwrap() {
        assert_eq!(delivery["status"], json!("pending"), "{delivery}");
        assert_eq!(delivery["attempt_count"], json!(1));
        assert_eq!(delivery["attempts"][0]["status"], json!(503));
        assert!(delivery["next_attempt_at"].is_string());
    }
    // Back up: the second attempt, 5 s later, gets through.
    receiver.fail_with(0, None);
    let all = receiver
        .wait_for("both events after recovery", |r| {
            r.iter().filter(|r| r.answered == 200).count() >= 2
        })
        .await;
    let delivered = receiver.delivered();
    assert_eq!(delivered.len(), 2, "{all:#?}");
    for r in &delivered {
        verify(&secret, r);
    }
    // Duplicates are recognisable: the retries carry the failed attempts' ids.
    let mut failed_ids: Vec<_> = failed.iter().take(2).map(|r| r.id.clone()).collect();
    let mut delivered_ids: Vec<_> = delivered.iter().map(|r| r.id.clone()).collect();
    failed_ids.sort();
    delivered_ids.sort();
    assert_eq!(failed_ids, delivered_ids);
    for _ in 0..100 {
        log = app
            .get(&format!("/v1/webhooks/{id}/deliveries"), token)
            .await
            .ok(200)
            .clone();
        let recorded = log["data"].as_array().unwrap();
        if recorded.iter().all(|d| d["status"] == json!("delivered")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for delivery in log["data"].as_array().unwrap() {
        assert_eq!(delivery["status"], json!("delivered"));
        assert_eq!(delivery["attempt_count"], json!(2));
    }

    // A replay sends it again under the same id.
    let first = &delivered_ids[0];
    app.post(
        &format!("/v1/webhooks/{id}/deliveries/{first}/replay"),
        Some(token),
        json!({}),
    )
    .await
    .ok(202);
    receiver
        .wait_for("the replay", |r| {
            r.iter().filter(|r| &r.id == first).count() >= 3
        })
        .await;
    // And a replay since a time sends everything since.
    let replayed = app
        .post(
            &format!("/v1/webhooks/{id}/replay"),
            Some(token),
            json!({"since": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(replayed.ok(202)["queued"], json!(2));
    assert_eq!(replayed.body["complete"], json!(true));
    receiver
        .wait_for("the replay of both", |r| {
            r.iter().filter(|r| r.answered == 200).count() >= 5
        })
        .await;

    // A receiver asking for time gets it.
    receiver.fail_with(429, Some(3600));
    app.create_contact(token, json!({"name": "Hedy"})).await;
    receiver
        .wait_for("the throttled attempt", |r| {
            r.iter().any(|r| r.answered == 429)
        })
        .await;
    // The receiver has answered; the delivery's next attempt is recorded a moment later.
    let mut wait = time::Duration::ZERO;
    for _ in 0..100 {
        let log = app
            .get(
                &format!("/v1/webhooks/{id}/deliveries?status=pending"),
                token,
            )
            .await;
        let pending = log.ok(200)["data"][0].clone();
        if let Some(at) = pending["next_attempt_at"].as_str() {
            let next =
                time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                    .unwrap();
            wait = next - time::OffsetDateTime::now_utc();
            if wait > time::Duration::minutes(55) {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        wait > time::Duration::minutes(55),
        "Retry-After honoured: {wait}"
    );

    // 410 Gone disables the endpoint and tells the admins.
    receiver.fail_with(410, None);
    app.create_contact(token, json!({"name": "Mary"})).await;
    receiver
        .wait_for("the 410", |r| r.iter().any(|r| r.answered == 410))
        .await;
    let mut disabled = Value::Null;
    for _ in 0..100 {
        disabled = app.get(&format!("/v1/webhooks/{id}"), token).await.body;
        if disabled["enabled"] == json!(false) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(disabled["enabled"], json!(false), "{disabled}");
    assert_eq!(disabled["disabled_reason"], json!("gone"));
    // The admins are told in writes of their own, a moment after the webhook is disabled.
    let mut notices = Vec::new();
    for _ in 0..100 {
        let listed = app.get("/v1/notifications", token).await;
        notices = listed.ok(200)["data"].as_array().unwrap().clone();
        if notices
            .iter()
            .any(|n| n["kind"] == json!("webhook_disabled"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        notices
            .iter()
            .any(|n| n["kind"] == json!("webhook_disabled")),
        "{notices:#?}"
    );
    // Enabled again, it starts afresh.
    let enabled = app
        .patch(
            &format!("/v1/webhooks/{id}"),
            token,
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(enabled.ok(200)["disabled_reason"], Value::Null);
}

#[tokio::test]
async fn a_killed_and_restarted_server_loses_no_pending_delivery() {
    let receiver = Receiver::start().await;
    // A worker that looks once at start, then not for a minute: what is written next stays
    // pending when the server stops.
    let slow = [
        ("CRM_WEBHOOKS_ALLOW_LOOPBACK", "true"),
        ("CRM_WORKER_INTERVAL_MS", "60000"),
    ];
    let app = TestApp::spawn_with(&slow).await;
    let acme = app.sign_up("Acme").await;
    let (_, secret) = subscribe(&app, &acme.access_token, &receiver.url, &["*"]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.create_contact(&acme.access_token, json!({"name": "Ada"}))
        .await;
    app.post(
        "/v1/companies",
        Some(&acme.access_token),
        json!({"name": "Engines"}),
    )
    .await
    .ok(201);
    let data_dir = app.stop().await;
    assert!(receiver.received().is_empty());

    let app = TestApp::spawn_in(data_dir, &[("CRM_WEBHOOKS_ALLOW_LOOPBACK", "true")]).await;
    let received = receiver
        .wait_for("both events after the restart", |r| r.len() >= 2)
        .await;
    let kinds: Vec<_> = received.iter().map(|r| r.body["type"].clone()).collect();
    assert_eq!(kinds, [json!("contact.created"), json!("company.created")]);
    for r in &received {
        verify(&secret, r);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 2);
    drop(app);
}

#[tokio::test]
async fn rotated_secrets_overlap_and_a_ping_reports_its_attempt() {
    let app = dev_app().await;
    let receiver = Receiver::start().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let (webhook, old) = subscribe(&app, token, &receiver.url, &["deal.*"]).await;
    let id = webhook["id"].as_str().unwrap();

    let rotated = app
        .post(
            &format!("/v1/webhooks/{id}/rotate-secret"),
            Some(token),
            json!({"overlap_hours": 2}),
        )
        .await;
    let new = rotated.ok(200)["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let ping = app
        .post(&format!("/v1/webhooks/{id}/ping"), Some(token), json!({}))
        .await;
    assert_eq!(ping.ok(200)["status"], json!("delivered"), "{}", ping.body);
    assert_eq!(ping.body["attempts"][0]["status"], json!(200));
    let received = receiver.received();
    let r = received.last().unwrap();
    assert_eq!(r.body["type"], json!("webhook.ping"));
    assert_eq!(r.signatures.split(' ').count(), 2, "both secrets sign");
    verify(&new, r);
    verify(&old, r);

    // Without an overlap the old secret stops at once.
    app.post(
        &format!("/v1/webhooks/{id}/rotate-secret"),
        Some(token),
        json!({"overlap_hours": 0}),
    )
    .await
    .ok(200);
    app.post(&format!("/v1/webhooks/{id}/ping"), Some(token), json!({}))
        .await
        .ok(200);
    assert_eq!(
        receiver
            .received()
            .last()
            .unwrap()
            .signatures
            .split(' ')
            .count(),
        1
    );

    // A failing ping is reported, not retried.
    receiver.fail_with(500, None);
    let ping = app
        .post(&format!("/v1/webhooks/{id}/ping"), Some(token), json!({}))
        .await;
    assert_eq!(ping.ok(200)["status"], json!("failed"));
    assert_eq!(ping.body["attempts"][0]["response"], json!("not now"));

    // Bad input is named.
    let bad = app
        .post(
            "/v1/webhooks",
            Some(token),
            json!({"url": receiver.url, "event_types": ["Deal", "deal.*"], "description": "x".repeat(501)}),
        )
        .await;
    bad.problem(422, "validation-failed");
    let mut fields = bad.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["description", "event_types[0]"]);
    // A misspelt type, or a prefix of none, would never fire: refused, each named.
    let bad = app
        .post(
            "/v1/webhooks",
            Some(token),
            json!({"url": receiver.url, "event_types": ["deal.created", "deal.craeted", "invoice.*", "ticket.*", "deal.stage.*"]}),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        ["event_types[1]", "event_types[2]", "event_types[4]"]
    );
    assert!(
        bad.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("deal.craeted"),
        "{}",
        bad.body
    );
    app.patch(
        &format!("/v1/webhooks/{id}"),
        token,
        json!({"event_types": ["contact.creatd"]}),
    )
    .await
    .problem(422, "validation-failed");
    app.patch(&format!("/v1/webhooks/{id}"), token, json!({"url": null}))
        .await
        .problem(422, "validation-failed");
    app.post(
        &format!("/v1/webhooks/{id}/rotate-secret"),
        Some(token),
        json!({"overlap_hours": 1000}),
    )
    .await
    .problem(422, "validation-failed");
    // The admin's webhook gets deals.
    receiver.fail_with(0, None);
    app.post("/v1/deals", Some(token), json!({"title": "First"}))
        .await
        .ok(201);
    receiver
        .wait_for("the deal", |r| {
            r.iter().any(|r| r.body["type"] == json!("deal.created"))
        })
        .await;
    // A partner's key with `webhooks:update` cannot point the admin's webhook elsewhere
    // (it would take the admin's deliveries): only the owner, or someone who covers
    // them, may.
    let key = app
        .post(
            "/v1/api-keys",
            Some(token),
            json!({"name": "Integrations", "permissions": {
                "webhooks": {"actions": ["read", "update"], "scope": "all"}}}),
        )
        .await;
    let key = key.ok(201)["key"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/v1/webhooks/{id}"),
        &key,
        json!({"url": format!("{}?moved=1", receiver.url)}),
    )
    .await
    .problem(403, "forbidden");
    let shown = app.get(&format!("/v1/webhooks/{id}"), token).await;
    assert_eq!(shown.ok(200)["owner"]["type"], json!("user"));
    assert_eq!(shown.body["url"], json!(receiver.url));
    // The owner's receiver still gets the next deal.
    receiver.fail_with(0, None);
    app.post("/v1/deals", Some(token), json!({"title": "Big one"}))
        .await
        .ok(201);
    shared::webhooks::deliver::run_outbox(&app.state, Duration::from_secs(10))
        .await
        .unwrap();
    let log = app
        .get(&format!("/v1/webhooks/{id}/deliveries"), token)
        .await;
    let deals = log.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event_type"] == json!("deal.created"))
        .count();
    assert_eq!(deals, 2, "both deals went to the owner's receiver");

    app.delete(&format!("/v1/webhooks/{id}"), token)
        .await
        .ok(204);
    app.get(&format!("/v1/webhooks/{id}"), token)
        .await
        .problem(404, "not-found");
}

#[tokio::test]
async fn webhooks_cannot_target_internal_addresses() {
    // Production mode: no loopback.
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    for url in [
        "https://127.0.0.1/hook",
        "http://127.0.0.1:8080/hook",
        "https://10.0.0.1/hook",
        "https://10.255.1.2:8443/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "http://hooks.example.com/plain-http",
        "https://user:secret@hooks.example.com/",
    ] {
        let refused = app
            .post(
                "/v1/webhooks",
                Some(token),
                json!({"url": url, "event_types": ["*"]}),
            )
            .await;
        refused.problem(422, "validation-failed");
        assert_eq!(refused.invalid_fields(), ["url"], "{url}: {}", refused.body);
    }
    // Development mode allows this machine over http, but still nothing private.
    let dev = dev_app().await;
    let acme = dev.sign_up("Acme").await;
    for url in [
        "https://10.0.0.1/hook",
        "http://10.0.0.1/hook",
        "https://169.254.169.254/",
    ] {
        dev.post(
            "/v1/webhooks",
            Some(&acme.access_token),
            json!({"url": url, "event_types": ["*"]}),
        )
        .await
        .problem(422, "validation-failed");
    }
    let receiver = Receiver::start().await;
    dev.post(
        "/v1/webhooks",
        Some(&acme.access_token),
        json!({"url": receiver.url, "event_types": ["*"]}),
    )
    .await
    .ok(201);
}

/// The AWS path end to end on moto: the change's outbox marker appears in the table's
/// stream, and the dispatcher's stream handler (given the batch as Lambda would give it)
/// hands the event on and delivers it. (On the embedded backend there is no stream: the
/// worker path above is its only path.)
#[tokio::test]
async fn the_table_stream_hands_events_to_the_dispatcher() {
    if std::env::var("CRM_TEST_BACKEND").as_deref() != Ok("aws") {
        return;
    }
    let moto = std::env::var("CRM_TEST_MOTO_URL").unwrap();
    let receiver = Receiver::start().await;
    // The worker looks once at start, then not for a minute: only the stream path runs.
    let app = TestApp::spawn_with(&[
        ("CRM_WEBHOOKS_ALLOW_LOOPBACK", "true"),
        ("CRM_WORKER_INTERVAL_MS", "60000"),
    ])
    .await;
    // The table gets its stream as template.yaml gives it one. (Only here: moto keeps
    // every stream record and copies them with the table on each transaction, which
    // would slow every other test down.)
    let table = std::fs::read_to_string(app.data_dir.path().join("aws-resources")).unwrap();
    let clients = shared::state::AwsClients::for_emulator(&moto).await;
    clients
        .dynamodb
        .update_table()
        .table_name(&table)
        .stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let acme = app.sign_up("Acme").await;
    let (_, secret) = subscribe(&app, &acme.access_token, &receiver.url, &["contact.*"]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let contact = app
        .create_contact(&acme.access_token, json!({"name": "Ada"}))
        .await;

    let config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_dynamodbstreams::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new(
            "testing", "testing", None, None, "emulator",
        ))
        .endpoint_url(&moto)
        .build();
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(config);
    let listed = streams
        .list_streams()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let arn = listed.streams()[0].stream_arn().unwrap().to_owned();
    let described = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap();
    let mut records = Vec::new();
    for shard in described.stream_description().unwrap().shards() {
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id().unwrap())
            .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap();
        let got = streams
            .get_records()
            .shard_iterator(iterator.shard_iterator().unwrap())
            .send()
            .await
            .unwrap();
        for record in got.records() {
            let keys = record.dynamodb().and_then(|d| d.keys()).unwrap();
            let text = |name: &str| keys[name].as_s().unwrap().clone();
            records.push(json!({
                "eventName": record.event_name().unwrap().as_str(),
                "dynamodb": {"Keys": {"pk": {"S": text("pk")}, "sk": {"S": text("sk")}}},
            }));
        }
    }
    // The batch as the event source mapping's filter passes it: outbox inserts only.
    let batch = json!({"Records": records});
    let keys: Vec<_> = shared::webhooks::deliver::stream_keys(&batch)
        .into_iter()
        .filter(|k| k.pk == shared::events::OUTBOX)
        .collect();
    assert_eq!(keys.len(), 1, "one change, one outbox marker: {batch:#}");
    assert!(
        receiver.received().is_empty(),
        "nothing sent before the stream path ran"
    );

    let (events, attempts) =
        shared::webhooks::deliver::on_stream(&app.state, keys.clone(), Duration::from_secs(20))
            .await
            .unwrap();
    assert_eq!((events, attempts), (1, 1));
    let received = receiver.wait_for("the event", |r| !r.is_empty()).await;
    assert_eq!(received[0].body["type"], json!("contact.created"));
    assert_eq!(received[0].body["resource_id"], contact["id"]);
    verify(&secret, &received[0]);
    // The same batch again (Lambda retries it): the marker is gone, nothing is repeated.
    let again = shared::webhooks::deliver::on_stream(&app.state, keys, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(again, (0, 0));
    assert_eq!(receiver.received().len(), 1);
}

/// The real clock moved ahead: the dispatcher as it would run then.
struct Later(Duration);

impl shared::clock::Clock for Later {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc() + self.0
    }
}

/// The app's dispatcher `ahead` from now, making the attempts due by then.
async fn attempts_at(app: &TestApp, ahead: Duration) -> usize {
    let mut state = app.state.clone();
    state.clock = Arc::new(Later(ahead));
    shared::webhooks::deliver::run_due(&state, Duration::from_secs(20))
        .await
        .unwrap()
}

#[tokio::test]
async fn ten_failed_attempts_fail_a_delivery_and_five_failing_days_disable_the_endpoint() {
    // The worker looks once at start, then not for a minute: the test makes every
    // attempt itself, at the times it chooses.
    let app = TestApp::spawn_with(&[
        ("CRM_WEBHOOKS_ALLOW_LOOPBACK", "true"),
        ("CRM_WORKER_INTERVAL_MS", "60000"),
    ])
    .await;
    let receiver = Receiver::start().await;
    receiver.fail_with(503, None);
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let (webhook, _) = subscribe(&app, token, &receiver.url, &["contact.created"]).await;
    let id = webhook["id"].as_str().unwrap();
    app.create_contact(token, json!({"name": "Ada"})).await;
    let handed_on = shared::webhooks::deliver::run_outbox(&app.state, Duration::from_secs(10));
    assert_eq!(handed_on.await.unwrap(), 1);
    assert_eq!(
        attempts_at(&app, Duration::ZERO).await,
        1,
        "the first attempt, at once"
    );

    // Each retry when it falls due: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
    let mut ahead = Duration::ZERO;
    for wait in shared::webhooks::deliver::SCHEDULE {
        // Not before its time...
        assert_eq!(
            attempts_at(&app, ahead + wait - Duration::from_secs(2)).await,
            0
        );
        ahead += wait + Duration::from_secs(1);
        // ...then once.
        assert_eq!(attempts_at(&app, ahead).await, 1, "{ahead:?}");
    }
    assert_eq!(
        attempts_at(&app, ahead + Duration::from_secs(48 * 3600)).await,
        0
    );
    let received = receiver.received();
    assert_eq!(received.len(), 10, "ten attempts in all");
    assert!(received.iter().all(|r| r.id == received[0].id));
    let log = app
        .get(&format!("/v1/webhooks/{id}/deliveries"), token)
        .await;
    let delivery = log.ok(200)["data"][0].clone();
    assert_eq!(delivery["status"], json!("failed"));
    assert_eq!(delivery["attempt_count"], json!(10));
    assert_eq!(delivery["next_attempt_at"], Value::Null);
    assert!(delivery.get("queued").is_none() && delivery.get("tries").is_none());
    // Three days of failures: still on.
    let shown = app.get(&format!("/v1/webhooks/{id}"), token).await;
    assert_eq!(shown.ok(200)["enabled"], json!(true));
    assert!(shown.body["failing_since"].is_string());

    // Another event; its retry five days after the first failure disables the endpoint.
    app.create_contact(token, json!({"name": "Grace"})).await;
    let handed_on = shared::webhooks::deliver::run_outbox(&app.state, Duration::from_secs(10));
    assert_eq!(handed_on.await.unwrap(), 1);
    assert_eq!(attempts_at(&app, Duration::ZERO).await, 1);
    assert_eq!(receiver.received().len(), 11);
    let five_days = Duration::from_secs(5 * 24 * 3600 + 60);
    assert_eq!(attempts_at(&app, five_days).await, 1);
    let shown = app.get(&format!("/v1/webhooks/{id}"), token).await;
    assert_eq!(shown.ok(200)["enabled"], json!(false));
    assert_eq!(shown.body["disabled_reason"], json!("failing"));
    let notices = app.get("/v1/notifications", token).await;
    let notices = notices.ok(200)["data"].as_array().unwrap().clone();
    assert!(
        notices
            .iter()
            .any(|n| n["kind"] == json!("webhook_disabled"))
    );
    // Disabled: nothing more is sent, and a replay is refused until it is enabled.
    let before = receiver.received().len();
    assert!(attempts_at(&app, five_days + Duration::from_secs(3600)).await <= 1);
    assert_eq!(receiver.received().len(), before);
    app.post(
        &format!("/v1/webhooks/{id}/replay"),
        Some(token),
        json!({"since": "2026-01-01T00:00:00Z"}),
    )
    .await
    .problem(409, "webhook-disabled");
}

#[tokio::test]
async fn only_the_owner_or_someone_covering_them_rotates_a_secret_or_moves_a_webhook() {
    let app = dev_app().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let role = app
        .create_role(
            admin,
            "Integrations",
            json!({"webhooks": {"actions": ["read", "create", "update"], "scope": "all"}}),
        )
        .await;
    let clerk = app.add_user(admin, &[&role]).await;
    let (admins, _) = subscribe(&app, admin, "http://127.0.0.1:9/owner", &["contact.*"]).await;
    let path = format!("/v1/webhooks/{}", admins["id"].as_str().unwrap());
    let rotate = format!("{path}/rotate-secret");

    // `webhooks:update` alone gets neither a new secret nor the deliveries.
    let refused = app
        .post(&rotate, Some(&clerk.access_token), json!({}))
        .await;
    refused.problem(403, "forbidden");
    assert!(!refused.body.to_string().contains("whsec_"));
    app.patch(
        &path,
        &clerk.access_token,
        json!({"url": "http://127.0.0.1:9/attacker"}),
    )
    .await
    .problem(403, "forbidden");
    // An API key with the same permissions is refused alike.
    let key = app
        .post(
            "/v1/api-keys",
            Some(admin),
            json!({"name": "Hooks", "role_id": role}),
        )
        .await
        .ok(201)["key"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&rotate, Some(&key), json!({}))
        .await
        .problem(403, "forbidden");
    // What leaves secret and target alone stays open to them.
    app.patch(
        &path,
        &clerk.access_token,
        json!({"description": "Billing"}),
    )
    .await
    .ok(200);
    let shown = app.get(&path, admin).await;
    assert_eq!(shown.ok(200)["url"], "http://127.0.0.1:9/owner");
    assert_eq!(
        shown.body["owner"],
        json!({"type": "user", "id": acme.user_id})
    );

    // The owner may, and so may someone who covers the owner (the admin over the clerk).
    let rotated = app.post(&rotate, Some(admin), json!({})).await;
    assert!(
        rotated.ok(200)["secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    let (clerks, _) = subscribe(
        &app,
        &clerk.access_token,
        "http://127.0.0.1:9/clerk",
        &["contact.*"],
    )
    .await;
    let clerks_path = format!("/v1/webhooks/{}", clerks["id"].as_str().unwrap());
    app.post(
        &format!("{clerks_path}/rotate-secret"),
        Some(&clerk.access_token),
        json!({}),
    )
    .await
    .ok(200);
    app.post(
        &format!("{clerks_path}/rotate-secret"),
        Some(admin),
        json!({}),
    )
    .await
    .ok(200);
    app.patch(
        &clerks_path,
        admin,
        json!({"url": "http://127.0.0.1:9/moved"}),
    )
    .await
    .ok(200);
}
