//! What users manage themselves: their sessions and their password.

mod support;

use serde_json::{Value, json};
use support::TestApp;

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn users_see_their_sessions_and_end_one() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let phone = app.login(&t.email, &t.password).await;
    let phone_token = phone.ok(200)["access_token"].as_str().unwrap().to_owned();
    let phone_refresh = phone.body["refresh_token"].as_str().unwrap().to_owned();

    let listed = app.get("/v1/sessions", &t.access_token).await;
    let listed = listed.ok(200).clone();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    let current: Vec<_> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["current"] == true)
        .collect();
    assert_eq!(current.len(), 1);
    let other = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let ended = app
        .delete(&format!("/v1/sessions/{other}"), &t.access_token)
        .await;
    assert_eq!(ended.status, 204);
    app.get("/v1/me", &phone_token)
        .await
        .problem(401, "unauthenticated");
    app.refresh(&phone_refresh)
        .await
        .problem(401, "unauthenticated");
    let after = app.get("/v1/sessions", &t.access_token).await;
    assert_eq!(ids(after.ok(200)).len(), 1);
    app.delete(&format!("/v1/sessions/{other}"), &t.access_token)
        .await
        .problem(404, "not-found");
}

#[tokio::test]
async fn another_users_session_is_not_found() {
    let app = TestApp::spawn().await;
    let a = app.sign_up("A").await;
    let b = app.sign_up("B").await;
    let theirs = ids(app.get("/v1/sessions", &a.access_token).await.ok(200));
    for id in theirs
        .iter()
        .map(String::as_str)
        .chain(["ses_x", "nonsense"])
    {
        app.delete(&format!("/v1/sessions/{id}"), &b.access_token)
            .await
            .problem(404, "not-found");
    }
    app.get("/v1/me", &a.access_token).await.ok(200);
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let laptop = app.login(&t.email, &t.password).await;
    let laptop_token = laptop.ok(200)["access_token"].as_str().unwrap().to_owned();

    let wrong = app
        .post(
            "/v1/me/password",
            Some(&t.access_token),
            json!({"current_password": "not it at all", "new_password": "a new tune at noon"}),
        )
        .await;
    assert_eq!(wrong.invalid_fields(), ["current_password"]);
    let weak = app
        .post(
            "/v1/me/password",
            Some(&t.access_token),
            json!({"current_password": t.password, "new_password": "short"}),
        )
        .await;
    assert_eq!(weak.invalid_fields(), ["new_password"]);

    let changed = app
        .post(
            "/v1/me/password",
            Some(&t.access_token),
            json!({"current_password": t.password, "new_password": "a new tune at noon"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    app.get("/v1/me", &laptop_token)
        .await
        .problem(401, "unauthenticated");
    app.get("/v1/me", &t.access_token).await.ok(200);
    app.login(&t.email, &t.password)
        .await
        .problem(401, "unauthenticated");
    app.login(&t.email, "a new tune at noon").await.ok(200);

    let log = app
        .get("/v1/audit?action=auth.password_changed", &t.access_token)
        .await;
    let log = log.ok(200);
    assert_eq!(log["data"].as_array().unwrap().len(), 1);
    assert_eq!(log["data"][0]["changes"], json!({}));
}
