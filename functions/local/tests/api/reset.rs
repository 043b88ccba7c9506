//! Forgotten passwords: a reset link by email, once and for an hour; the new password ends
//! every session; the request never tells whether an email has an account.

use crate::support::{TestApp, unique_email};
use serde_json::json;

const NEW_PASSWORD: &str = "a new tune at noon 7";

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let other = app.login(&acme.email, &acme.password).await;
    let other_refresh = other.ok(200)["refresh_token"].as_str().unwrap().to_owned();

    app.post(
        "/v1/auth/password-reset",
        None,
        json!({"email": acme.email.to_uppercase()}),
    )
    .await
    .ok(202);
    let mail = app.mail_to(&acme.email).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].subject.contains("Acme"));
    let token = app.token_mailed_to(&acme.email).await;

    let weak = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            json!({"token": token, "new_password": "short"}),
        )
        .await;
    assert_eq!(weak.invalid_fields(), ["new_password"]);
    app.post(
        "/v1/auth/password-reset/confirm",
        None,
        json!({"token": token, "new_password": NEW_PASSWORD}),
    )
    .await
    .ok(204);

    // Every session ended: access tokens and refresh tokens alike.
    app.get("/v1/me", &acme.access_token)
        .await
        .problem(401, "unauthenticated");
    for refresh in [&acme.refresh_token, &other_refresh] {
        app.refresh(refresh).await.problem(401, "unauthenticated");
    }
    app.login(&acme.email, &acme.password)
        .await
        .problem(401, "unauthenticated");
    let fresh = app.login(&acme.email, NEW_PASSWORD).await;
    let token_now = fresh.ok(200)["access_token"].as_str().unwrap().to_owned();
    // The link works once.
    app.post(
        "/v1/auth/password-reset/confirm",
        None,
        json!({"token": token, "new_password": "yet another tune 99"}),
    )
    .await
    .problem(401, "unauthenticated");
    let log = app
        .get("/v1/audit?action=auth.password_reset", &token_now)
        .await;
    assert_eq!(log.ok(200)["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_emails_get_the_same_answer_and_no_mail() {
    let app = TestApp::spawn().await;
    let nobody = unique_email("nobody");
    app.post("/v1/auth/password-reset", None, json!({"email": nobody}))
        .await
        .ok(202);
    assert!(app.mail_to(&nobody).await.is_empty());
    let bad = app
        .post(
            "/v1/auth/password-reset",
            None,
            json!({"email": "not an email"}),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["email"]);
    for junk in ["", "prt.x.y.z", "inv.ten_x.usr_y.zzz"] {
        app.post(
            "/v1/auth/password-reset/confirm",
            None,
            json!({"token": junk, "new_password": NEW_PASSWORD}),
        )
        .await
        .problem(401, "unauthenticated");
    }
}

#[tokio::test]
async fn reset_requests_are_limited_per_email() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    for _ in 0..5 {
        app.post(
            "/v1/auth/password-reset",
            None,
            json!({"email": acme.email}),
        )
        .await
        .ok(202);
    }
    let limited = app
        .post(
            "/v1/auth/password-reset",
            None,
            json!({"email": acme.email}),
        )
        .await;
    limited.problem(429, "rate-limited");
    // Each request replaced the previous link: only the last one works.
    assert_eq!(app.mail_to(&acme.email).await.len(), 5);
    let first = {
        let mail = app.mail_to(&acme.email).await;
        let text = &mail[0].text;
        let at = text.find("token=").unwrap() + 6;
        text[at..].split_whitespace().next().unwrap().to_owned()
    };
    app.post(
        "/v1/auth/password-reset/confirm",
        None,
        json!({"token": first, "new_password": NEW_PASSWORD}),
    )
    .await
    .problem(401, "unauthenticated");
    let last = app.token_mailed_to(&acme.email).await;
    app.post(
        "/v1/auth/password-reset/confirm",
        None,
        json!({"token": last, "new_password": NEW_PASSWORD}),
    )
    .await
    .ok(204);
}
