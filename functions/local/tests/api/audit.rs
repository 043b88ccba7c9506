//! The audit log through the HTTP API: every change and security event is recorded in
//! the tenant's log with its before/after, never with secrets, and nobody can alter it.

use crate::support::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

fn actions(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn contact_changes_are_logged_with_before_and_after() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let contact = app
        .create_contact(&t.access_token, json!({"name": "Ada", "title": "CEO"}))
        .await;
    let path = format!("/v1/contacts/{}", contact["id"].as_str().unwrap());
    app.patch(&path, &t.access_token, json!({"title": "CTO"}))
        .await
        .ok(200);
    assert_eq!(app.delete(&path, &t.access_token).await.status, 204);

    let log = app
        .get("/v1/audit?resource=contacts", &t.access_token)
        .await;
    let log = log.ok(200);
    assert_eq!(
        actions(log),
        ["contact.deleted", "contact.updated", "contact.created"],
        "newest first"
    );
    let updated = &log["data"][1];
    assert_eq!(updated["actor"], json!({"type": "user", "id": t.user_id}));
    assert_eq!(updated["resource_id"], contact["id"]);
    assert_eq!(
        updated["changes"],
        json!({"title": {"before": "CEO", "after": "CTO"}}),
        "only the changed field, no bookkeeping"
    );
    assert_eq!(updated["ip"], "127.0.0.1");
    assert!(updated["request_id"].is_string());
    assert_eq!(log["data"][0]["changes"]["name"]["after"], Value::Null);
}

#[tokio::test]
async fn sign_ins_are_logged_without_secrets() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    app.login(&t.email, "wrong wrong wrong")
        .await
        .problem(401, "unauthenticated");
    app.login(&t.email, &t.password).await.ok(200);
    app.logout(&t.refresh_token).await;
    let relogin = app.login(&t.email, &t.password).await;
    let token = relogin.ok(200)["access_token"].as_str().unwrap().to_owned();
    let log = app.get("/v1/audit", &token).await;
    let log = log.ok(200);
    assert_eq!(
        actions(log),
        [
            "auth.login_succeeded",
            "auth.logout",
            "auth.login_succeeded",
            "auth.login_failed",
            "tenant.created"
        ]
    );
    let text = log.to_string();
    for secret in [
        t.password.as_str(),
        "password_hash",
        "$argon2id",
        "secret_hash",
        "data_key",
    ] {
        assert!(!text.contains(secret), "the log contains {secret}");
    }
}

#[tokio::test]
async fn the_log_filters_and_pages() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let before = time_now();
    for i in 0..5 {
        app.create_contact(&t.access_token, json!({"name": format!("C{i}")}))
            .await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/audit?action=contact.created&limit=2".to_owned();
    loop {
        let page = app.get(&path, &t.access_token).await;
        let page = page.ok(200);
        seen.extend(actions(page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/audit?action=contact.created&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let by_actor = app
        .get(
            &format!("/v1/audit?actor_id={}&limit=200", t.user_id),
            &t.access_token,
        )
        .await;
    assert_eq!(by_actor.ok(200)["data"].as_array().unwrap().len(), 6);
    let since = app
        .get(&format!("/v1/audit?from={before}"), &t.access_token)
        .await;
    assert_eq!(actions(since.ok(200)), vec!["contact.created"; 5]);
    let until = app
        .get(&format!("/v1/audit?to={before}"), &t.access_token)
        .await;
    assert_eq!(actions(until.ok(200)), ["tenant.created"]);
    for bad in [
        "from=yesterday",
        "actor_id=bob",
        "resource=spaceships",
        "limit=0",
        "colour=red",
    ] {
        let reply = app.get(&format!("/v1/audit?{bad}"), &t.access_token).await;
        assert_eq!(reply.status, 422, "{bad}: {}", reply.body);
    }
    // A cursor made for one filter is refused for another.
    let first = app.get("/v1/audit?limit=1", &t.access_token).await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let reply = app
        .get(
            &format!("/v1/audit?limit=1&action=contact.created&cursor={cursor}"),
            &t.access_token,
        )
        .await;
    assert_eq!(reply.invalid_fields(), ["cursor"]);
}

fn time_now() -> String {
    std::thread::sleep(std::time::Duration::from_millis(5));
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    now.replace('+', "%2B")
}

#[tokio::test]
async fn another_tenants_log_is_out_of_reach_and_no_route_alters_it() {
    let app = TestApp::spawn().await;
    let a = app.sign_up("A").await;
    let b = app.sign_up("B").await;
    app.create_contact(&a.access_token, json!({"name": "Secret"}))
        .await;
    let theirs = app
        .get(
            &format!("/v1/audit?actor_id={}", a.user_id),
            &b.access_token,
        )
        .await;
    assert_eq!(theirs.ok(200)["data"], json!([]));
    let own = app.get("/v1/audit", &b.access_token).await;
    assert_eq!(actions(own.ok(200)), ["tenant.created"]);
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let reply = app
            .call(
                method.clone(),
                "/v1/audit",
                Some(&a.access_token),
                Some(json!({})),
            )
            .await;
        reply.problem(405, "method-not-allowed");
    }
    app.call(Method::GET, "/v1/audit", None, None)
        .await
        .problem(401, "unauthenticated");
}

#[tokio::test]
async fn entries_show_before_and_after_as_the_reader_may_see_the_record() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let admin = &t.access_token;
    let contact = app
        .create_contact(
            admin,
            json!({"name": "Ada", "notes": "owes us", "title": "Chief Executive"}),
        )
        .await;
    let path = format!("/v1/contacts/{}", contact["id"].as_str().unwrap());
    app.patch(
        &path,
        admin,
        json!({"notes": "paid up", "title": "Chief Technology Officer"}),
    )
    .await
    .ok(200);
    app.post(
        "/v1/deals",
        Some(admin),
        json!({"title": "Secret merger", "amount": {"amount_minor": 100, "currency": "CNY"}}),
    )
    .await
    .ok(201);
    let updated = |page: &Value| -> Value {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "contact.updated")
            .unwrap()["changes"]
            .clone()
    };
    let deal_created = |page: &Value| -> Value {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "deal.created")
            .unwrap()
            .clone()
    };
    let all = app.get("/v1/audit", admin).await;
    assert_eq!(
        updated(all.ok(200)),
        json!({"notes": {"before": "owes us", "after": "paid up"},
               "title": {"before": "Chief Executive", "after": "Chief Technology Officer"}})
    );
    assert_eq!(
        deal_created(&all.body)["changes"]["title"]["after"],
        "Secret merger"
    );

    // An auditor whose role hides notes, masks titles and does not read deals.
    let auditor = app
        .create_role(
            admin,
            "Auditor",
            json!({"audit": {"actions": ["read"], "scope": "all"},
                   "contacts": {"actions": ["read"], "scope": "all",
                                "fields": {"notes": "hidden", "title": "masked"}}}),
        )
        .await;
    let auditor = app.add_user(admin, &[&auditor]).await;
    let page = app.get("/v1/audit", &auditor.access_token).await;
    assert_eq!(
        updated(page.ok(200)),
        json!({"title": {"before": "****tive", "after": "****icer"}})
    );
    let deal = deal_created(&page.body);
    assert_eq!(
        deal["changes"],
        json!({}),
        "no deal data for a role without deals"
    );
    assert!(deal.get("owner_id").is_none());

    // One who reads only their own contacts sees who changed another's, not what.
    let own = app
        .create_role(
            admin,
            "Own auditor",
            json!({"audit": {"actions": ["read"], "scope": "all"},
                   "contacts": {"actions": ["read"], "scope": "own"}}),
        )
        .await;
    let own = app.add_user(admin, &[&own]).await;
    let page = app
        .get("/v1/audit?resource=contacts", &own.access_token)
        .await;
    assert_eq!(updated(page.ok(200)), json!({}));
}

#[tokio::test]
async fn the_log_keeps_the_servers_request_id_and_the_clients_apart_and_sanitised() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let forged = "req-1 <script>alert(1)</script>; drop\ttable";
    let made = app
        .call_with(
            Method::POST,
            "/v1/contacts",
            Some(token),
            Some(json!({"name": "Ada"})),
            &[("x-request-id", forged)],
        )
        .await;
    made.ok(201);
    let ours = made.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(ours, forged, "the client's id is not taken as the server's");
    assert!(!ours.is_empty());
    let long = "a".repeat(5000);
    app.call_with(
        Method::POST,
        "/v1/contacts",
        Some(token),
        Some(json!({"name": "Ben"})),
        &[("x-request-id", long.as_str())],
    )
    .await
    .ok(201);

    let log = app
        .get("/v1/audit?action=contact.created", token)
        .await
        .ok(200)
        .clone();
    let entries = log["data"].as_array().unwrap();
    let ada = entries
        .iter()
        .find(|e| e["changes"]["name"]["after"] == "Ada")
        .unwrap();
    assert_eq!(ada["request_id"], ours.as_str());
    assert_eq!(
        ada["client_request_id"],
        "req-1scriptalert1/scriptdroptable"
    );
    let ben = entries
        .iter()
        .find(|e| e["changes"]["name"]["after"] == "Ben")
        .unwrap();
    assert_eq!(ben["client_request_id"].as_str().unwrap().len(), 128);
    assert_ne!(ben["request_id"], ada["request_id"]);
}
