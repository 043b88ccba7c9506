//! API keys for partners: shown once, stored hashed, acting with a role's or their own
//! permissions (never more than their creator's), audited as the key, revocable at once.

mod support;

use serde_json::{Value, json};
use support::TestApp;

async fn create_key(app: &TestApp, token: &str, body: Value) -> Value {
    app.post("/v1/api-keys", Some(token), body)
        .await
        .ok(201)
        .clone()
}

#[tokio::test]
async fn a_key_is_shown_once_and_works_as_a_bearer_token() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let created = create_key(
        &app,
        &acme.access_token,
        json!({"name": "ERP sync", "role_id": "sales"}),
    )
    .await;
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("crmk."), "{key}");
    assert!(key.len() > 80, "32+ random bytes: {key}");
    let prefix = created["prefix"].as_str().unwrap();
    assert!(key.starts_with(prefix) && key.len() > prefix.len() + 40);
    assert!(created["last_used_at"].is_null());

    let made = app
        .create_contact(&key, json!({"name": "Imported from ERP"}))
        .await;
    assert_eq!(
        made["owner_id"], created["id"],
        "the key owns what it creates"
    );
    let listed = app.get("/v1/api-keys", &acme.access_token).await;
    let entry = listed.ok(200)["data"][0].clone();
    assert_eq!(entry["name"], "ERP sync");
    assert!(entry.get("key").is_none() && entry.get("secret_hash").is_none());
    assert!(entry["last_used_at"].is_string(), "{entry}");
    assert!(!listed.body.to_string().contains(&key[prefix.len() + 1..]));

    // The change is audited as the key.
    let log = app
        .get(
            "/v1/audit?resource=contacts&action=contact.created",
            &acme.access_token,
        )
        .await;
    assert_eq!(
        log.ok(200)["data"][0]["actor"],
        json!({"type": "api_key", "id": created["id"]})
    );
    // A key is no person: no profile, no sessions.
    app.get("/v1/me", &key).await.problem(403, "forbidden");
    app.get("/v1/sessions", &key)
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let created = create_key(
        &app,
        &acme.access_token,
        json!({"name": "Shop", "role_id": "read_only"}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    app.get("/v1/contacts", key).await.ok(200);
    let path = format!("/v1/api-keys/{}", created["id"].as_str().unwrap());
    app.delete(&path, &acme.access_token).await.ok(204);
    app.get("/v1/contacts", key)
        .await
        .problem(401, "unauthenticated");
    let shown = app.get(&path, &acme.access_token).await;
    assert!(shown.ok(200)["revoked_at"].is_string());
    // Revoking again changes nothing.
    app.delete(&path, &acme.access_token).await.ok(204);
}

#[tokio::test]
async fn a_key_with_its_own_permissions_can_do_only_that() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let created = create_key(
        &app,
        &acme.access_token,
        json!({"name": "Reader", "permissions": {"contacts": {"actions": ["read"], "scope": "all"}},
               "expires_at": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(created["expires_at"], "2099-01-01T00:00:00Z");
    let key = created["key"].as_str().unwrap();
    app.get("/v1/contacts", key).await.ok(200);
    app.post("/v1/contacts", Some(key), json!({"name": "X"}))
        .await
        .problem(403, "forbidden");
    app.get("/v1/users", key).await.problem(403, "forbidden");
}

#[tokio::test]
async fn keys_are_refused_when_malformed_forged_or_wider_than_their_creator() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let invalid = app
        .post(
            "/v1/api-keys",
            Some(&acme.access_token),
            json!({"name": "", "expires_at": "2001-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(invalid.invalid_fields(), ["name", "role_id", "expires_at"]);
    let both = app
        .post(
            "/v1/api-keys",
            Some(&acme.access_token),
            json!({"name": "x", "role_id": "sales",
                   "permissions": {"contacts": {"actions": ["read"], "scope": "all"}}}),
        )
        .await;
    assert_eq!(both.invalid_fields(), ["role_id"]);

    let keymaster_role = app
        .create_role(
            &acme.access_token,
            "Key master",
            json!({"api_keys": {"actions": ["read", "create"], "scope": "all"},
                   "contacts": {"actions": ["read"], "scope": "own"}}),
        )
        .await;
    let keymaster = app.add_user(&acme.access_token, &[&keymaster_role]).await;
    app.post(
        "/v1/api-keys",
        Some(&keymaster.access_token),
        json!({"name": "Too wide", "role_id": "admin"}),
    )
    .await
    .problem(403, "forbidden");
    app.post(
        "/v1/api-keys",
        Some(&keymaster.access_token),
        json!({"name": "Fine", "permissions": {"contacts": {"actions": ["read"], "scope": "own"}}}),
    )
    .await
    .ok(201);

    // A forged or altered key is refused like no key at all.
    let real = create_key(
        &app,
        &acme.access_token,
        json!({"name": "r", "role_id": "sales"}),
    )
    .await;
    let real = real["key"].as_str().unwrap();
    let mut altered = real.to_owned();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [altered.as_str(), "crmk.junk", "crmk.ten_x.key_y.zzz"] {
        app.get("/v1/contacts", bad)
            .await
            .problem(401, "unauthenticated");
    }
    // Another company's key id is not found.
    let globex = app.sign_up("Globex").await;
    let id = real.split('.').nth(2).unwrap();
    app.get(&format!("/v1/api-keys/{id}"), &globex.access_token)
        .await
        .problem(404, "not-found");
    app.delete(&format!("/v1/api-keys/{id}"), &globex.access_token)
        .await
        .problem(404, "not-found");
    app.get("/v1/contacts", real).await.ok(200);
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(3);
    let soon = soon
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let created = create_key(
        &app,
        &acme.access_token,
        json!({"name": "Short-lived", "role_id": "read_only", "expires_at": soon}),
    )
    .await;
    let key = created["key"].as_str().unwrap();
    app.get("/v1/contacts", key).await.ok(200);
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    app.get("/v1/contacts", key)
        .await
        .problem(401, "unauthenticated");
}
