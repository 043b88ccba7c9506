//! API keys for partners: shown once (never replayed from the idempotency store), stored
//! hashed, acting with a role's or their own permissions met with their maker's current
//! ones, stopped with their maker and reassignable, audited as the key, revocable at once.

use crate::support::TestApp;
use serde_json::{Value, json};

/// Uses `key` a few times, so that what the server keeps of it between requests (see
/// `principal::cache`) is what the next request is answered from.
async fn use_a_while(app: &TestApp, key: &str) {
    for _ in 0..3 {
        app.get("/v1/contacts", key).await.ok(200);
    }
}

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
    use_a_while(&app, key).await;
    // The key's id with another secret is no key, however often the key was used.
    let (id_part, secret) = key.rsplit_once('.').unwrap();
    let forged = format!("{id_part}.{}", secret.chars().rev().collect::<String>());
    app.get("/v1/contacts", &forged)
        .await
        .problem(401, "unauthenticated");
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

#[tokio::test]
async fn a_key_acts_at_most_with_its_makers_current_permissions() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let integrator = app
        .create_role(
            admin,
            "Integrator",
            json!({"contacts": {"actions": ["read", "create"], "scope": "all"},
                   "api_keys": {"actions": ["read", "create"], "scope": "all"}}),
        )
        .await;
    let keys_only = app
        .create_role(
            admin,
            "Key keeper",
            json!({"api_keys": {"actions": ["read"], "scope": "all"}}),
        )
        .await;
    let maker = app.add_user(admin, &[&integrator]).await;
    let key = create_key(
        &app,
        &maker.access_token,
        json!({"name": "Shop", "permissions": {"contacts": {"actions": ["read", "create"], "scope": "all"}}}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    use_a_while(&app, &key).await;
    // The maker loses contacts: so does their key, on its next request.
    app.patch(
        &format!("/v1/users/{}", maker.user_id),
        admin,
        json!({"role_ids": [keys_only]}),
    )
    .await
    .ok(200);
    app.get("/v1/contacts", &key)
        .await
        .problem(403, "forbidden");
    app.post("/v1/contacts", Some(&key), json!({"name": "Sneaky"}))
        .await
        .problem(403, "forbidden");
    // And gets it back with them.
    app.patch(
        &format!("/v1/users/{}", maker.user_id),
        admin,
        json!({"role_ids": [integrator]}),
    )
    .await
    .ok(200);
    app.get("/v1/contacts", &key).await.ok(200);
}

#[tokio::test]
async fn a_deactivated_makers_keys_stop_and_are_listed_for_reassignment() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let leaver = app.add_user(admin, &["admin"]).await;
    let created = create_key(
        &app,
        &leaver.access_token,
        json!({"name": "ERP", "role_id": "sales"}),
    )
    .await;
    let (key, id) = (
        created["key"].as_str().unwrap().to_owned(),
        created["id"].as_str().unwrap().to_owned(),
    );
    assert_eq!(created["maker_active"], true);
    app.create_contact(&key, json!({"name": "Before"})).await;
    use_a_while(&app, &key).await;

    app.patch(
        &format!("/v1/users/{}", leaver.user_id),
        admin,
        json!({"status": "deactivated"}),
    )
    .await
    .ok(200);
    // Neither reads nor writes.
    app.get("/v1/contacts", &key)
        .await
        .problem(401, "unauthenticated");
    app.post("/v1/contacts", Some(&key), json!({"name": "After"}))
        .await
        .problem(401, "unauthenticated");
    let listed = app.get("/v1/api-keys", admin).await;
    let entry = listed.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["maker_active"], false, "{entry}");
    assert_eq!(entry["created_by"], leaver.user_id.as_str());
    let path = format!("/v1/api-keys/{id}");
    assert_eq!(app.get(&path, admin).await.ok(200)["maker_active"], false);

    // Reassigned to an active user, it works again, within their permissions.
    let reassign = format!("{path}/reassign");
    let refused = app
        .post(&reassign, Some(admin), json!({"user_id": leaver.user_id}))
        .await;
    assert_eq!(refused.invalid_fields(), ["user_id"]);
    let other_key =
        create_key(&app, admin, json!({"name": "Admin's", "role_id": "admin"})).await["key"]
            .as_str()
            .unwrap()
            .to_owned();
    app.post(
        &reassign,
        Some(&other_key),
        json!({"user_id": acme.user_id}),
    )
    .await
    .problem(403, "forbidden");
    let moved = app
        .post(&reassign, Some(admin), json!({"user_id": acme.user_id}))
        .await;
    assert_eq!(moved.ok(200)["created_by"], acme.user_id.as_str());
    assert_eq!(moved.body["maker_active"], true);
    app.create_contact(&key, json!({"name": "After"})).await;
    let log = app.get("/v1/audit?action=api_key.reassigned", admin).await;
    assert_eq!(log.ok(200)["data"].as_array().unwrap().len(), 1);
    // A revoked key is not reassigned.
    app.delete(&path, admin).await.ok(204);
    app.post(&reassign, Some(admin), json!({"user_id": acme.user_id}))
        .await
        .problem(409, "api-key-revoked");
}

#[tokio::test]
async fn a_response_that_shows_a_secret_is_never_replayed_from_the_idempotency_store() {
    let app = TestApp::spawn_with(&[("CRM_WEBHOOKS_ALLOW_LOOPBACK", "true")]).await;
    let acme = app.sign_up("Acme").await;
    let admin = acme.access_token.as_str();
    let app = &app;
    let post = |path: &'static str, body: Value, key: &'static str| async move {
        app.call_with(
            reqwest::Method::POST,
            path,
            Some(admin),
            Some(body),
            &[("idempotency-key", key)],
        )
        .await
    };
    let cases = [
        (
            "/v1/api-keys",
            json!({"name": "ERP", "role_id": "sales"}),
            "key",
            201,
        ),
        (
            "/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "event_types": ["contact.*"]}),
            "secret",
            201,
        ),
        ("/v1/me/mfa/totp", json!({}), "secret", 200),
    ];
    for (path, body, field, status) in cases {
        let first = post(path, body.clone(), path).await;
        let secret = first.ok(status)[field].as_str().unwrap().to_owned();
        let again = post(path, body, path).await;
        let problem = again.problem(409, "secret-shown-once");
        assert!(!again.body.to_string().contains(&secret), "{problem}");
        if status == 201 {
            assert_eq!(
                again.body["location"],
                first.headers["location"].to_str().unwrap()
            );
        }
    }
    // Only one key was made.
    let keys = app.get("/v1/api-keys", admin).await;
    assert_eq!(keys.ok(200)["data"].as_array().unwrap().len(), 1);
}
