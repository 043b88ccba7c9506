//! What users manage themselves: their sessions and their password; and browser
//! sessions, whose refresh token lives in an HttpOnly cookie guarded by an Origin check.

use crate::support::{TestApp, cookie_attributes, cookie_value};
use reqwest::Method;
use serde_json::{Value, json};

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

/// Asserts `line` sets the refresh cookie as a browser session needs it, and returns
/// its value.
fn session_cookie(line: &str, secure: bool) -> String {
    let attributes = cookie_attributes(line);
    for wanted in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/v1/auth",
        "Max-Age=2592000",
    ] {
        assert!(attributes.iter().any(|a| a == wanted), "{wanted} in {line}");
    }
    assert_eq!(attributes.iter().any(|a| a == "Secure"), secure, "{line}");
    let value = cookie_value(line);
    assert!(value.starts_with("crt."), "{line}");
    value
}

fn login_body(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password, "refresh_token_delivery": "cookie"})
}

#[tokio::test]
async fn a_browser_login_keeps_the_refresh_token_in_an_http_only_cookie() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let login = app
        .browser_post(
            "/v1/auth/login",
            Some(login_body(&t.email, &t.password)),
            None,
        )
        .await;
    let body = login.ok(200);
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let cookie = session_cookie(&login.refresh_cookie().expect("a cookie"), false);
    assert!(!cookie.is_empty());
    app.get("/v1/me", body["access_token"].as_str().unwrap())
        .await
        .ok(200);

    // Partners' JSON mode is as it was: the token in the body, no cookie.
    for plain in [
        json!({"email": t.email, "password": t.password}),
        json!({"email": t.email, "password": t.password, "refresh_token_delivery": "body"}),
    ] {
        let login = app.post("/v1/auth/login", None, plain).await;
        assert!(login.ok(200)["refresh_token"].is_string());
        assert!(login.refresh_cookie().is_none());
    }
    let wrong = app
        .browser_post(
            "/v1/auth/login",
            Some(
                json!({"email": t.email, "password": t.password, "refresh_token_delivery": "jar"}),
            ),
            None,
        )
        .await;
    assert_eq!(wrong.invalid_fields(), ["refresh_token_delivery"]);
}

#[tokio::test]
async fn the_cookie_alone_refreshes_and_rotates_and_a_replayed_one_ends_the_session() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let login = app
        .browser_post(
            "/v1/auth/login",
            Some(login_body(&t.email, &t.password)),
            None,
        )
        .await;
    let first = session_cookie(&login.refresh_cookie().unwrap(), false);

    // An empty body and an empty object both mean "use the cookie".
    let refreshed = app
        .browser_post("/v1/auth/refresh", None, Some(&first))
        .await;
    assert!(refreshed.ok(200).get("refresh_token").is_none());
    let second = session_cookie(&refreshed.refresh_cookie().expect("rotated"), false);
    assert_ne!(second, first);
    app.get("/v1/me", refreshed.body["access_token"].as_str().unwrap())
        .await
        .ok(200);
    let again = app
        .browser_post("/v1/auth/refresh", Some(json!({})), Some(&second))
        .await;
    let third = session_cookie(&again.refresh_cookie().unwrap(), false);
    again.ok(200);

    // The first cookie again: it leaked. Refused and cleared, and the session is over.
    let replayed = app
        .browser_post("/v1/auth/refresh", None, Some(&first))
        .await;
    replayed.problem(401, "unauthenticated");
    let cleared = replayed.refresh_cookie().expect("cleared");
    assert_eq!(cookie_value(&cleared), "");
    assert!(cookie_attributes(&cleared).contains(&"Max-Age=0".to_owned()));
    app.browser_post("/v1/auth/refresh", None, Some(&third))
        .await
        .problem(401, "unauthenticated");
}

#[tokio::test]
async fn the_cookie_is_used_only_by_requests_from_this_site() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let login = app
        .browser_post(
            "/v1/auth/login",
            Some(login_body(&t.email, &t.password)),
            None,
        )
        .await;
    let cookie = format!(
        "crm_refresh={}",
        cookie_value(&login.refresh_cookie().unwrap())
    );
    for path in ["/v1/auth/refresh", "/v1/auth/logout"] {
        for origin in [None, Some("http://evil.example"), Some("null")] {
            let mut headers = vec![("cookie", cookie.as_str())];
            if let Some(origin) = origin {
                headers.push(("origin", origin));
            }
            let reply = app
                .call_with(Method::POST, path, None, None, &headers)
                .await;
            reply.problem(403, "cross-site-request");
            assert!(reply.refresh_cookie().is_none());
        }
        // Without a cookie or a body: refused as well, never a server error.
        app.call(Method::POST, path, None, None)
            .await
            .problem(403, "cross-site-request");
        // From this site but without a cookie: not signed in.
        app.browser_post(path, None, None)
            .await
            .problem(401, "unauthenticated");
    }
    // Asking for the cookie needs this site's Origin too.
    let asked = app
        .post("/v1/auth/login", None, login_body(&t.email, &t.password))
        .await;
    asked.problem(403, "cross-site-request");
    assert!(asked.refresh_cookie().is_none());
    // The session the refused requests named is alive.
    app.browser_post(
        "/v1/auth/refresh",
        None,
        Some(&cookie["crm_refresh=".len()..]),
    )
    .await
    .ok(200);
}

#[tokio::test]
async fn logout_by_cookie_ends_the_session_and_clears_the_cookie() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let login = app
        .browser_post(
            "/v1/auth/login",
            Some(login_body(&t.email, &t.password)),
            None,
        )
        .await;
    let access = login.body["access_token"].as_str().unwrap().to_owned();
    let cookie = cookie_value(&login.refresh_cookie().unwrap());
    let out = app
        .browser_post("/v1/auth/logout", Some(json!({})), Some(&cookie))
        .await;
    assert_eq!(out.status, 204);
    let cleared = out.refresh_cookie().expect("cleared");
    assert_eq!(cookie_value(&cleared), "");
    let attributes = cookie_attributes(&cleared);
    assert!(attributes.contains(&"Max-Age=0".to_owned()), "{cleared}");
    assert!(
        attributes.contains(&"Path=/v1/auth".to_owned()),
        "{cleared}"
    );
    app.browser_post("/v1/auth/refresh", None, Some(&cookie))
        .await
        .problem(401, "unauthenticated");
    app.get("/v1/me", &access)
        .await
        .problem(401, "unauthenticated");
}

#[tokio::test]
async fn sign_up_and_joining_by_invitation_can_set_the_cookie() {
    let app = TestApp::spawn().await;
    let email = crate::support::unique_email("browser");
    let signed_up = app
        .browser_post(
            "/v1/signup",
            Some(json!({
                "company_name": "Acme", "email": email, "password": crate::support::PASSWORD,
                "refresh_token_delivery": "cookie",
            })),
            None,
        )
        .await;
    let body = signed_up.ok(201).clone();
    assert!(body["tenant_id"].is_string() && body.get("refresh_token").is_none());
    let cookie = session_cookie(&signed_up.refresh_cookie().unwrap(), false);
    app.browser_post("/v1/auth/refresh", None, Some(&cookie))
        .await
        .ok(200);

    let admin = body["access_token"].as_str().unwrap();
    let invited = crate::support::unique_email("sales");
    app.post(
        "/v1/users",
        Some(admin),
        json!({"email": invited, "role_ids": ["sales"]}),
    )
    .await
    .ok(201);
    let token = app.token_mailed_to(&invited).await;
    let joined = app
        .browser_post(
            "/v1/invitations/accept",
            Some(json!({
                "token": token, "password": crate::support::PASSWORD,
                "refresh_token_delivery": "cookie",
            })),
            None,
        )
        .await;
    assert!(joined.ok(200).get("refresh_token").is_none());
    let cookie = session_cookie(&joined.refresh_cookie().unwrap(), false);
    app.browser_post("/v1/auth/refresh", None, Some(&cookie))
        .await
        .ok(200);
}

#[tokio::test]
async fn the_cookie_is_secure_unless_the_site_is_on_loopback() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let body = login_body(&t.email, &t.password);
    let site = [
        ("host", "crm.example.com"),
        ("origin", "http://crm.example.com"),
    ];
    let login = app
        .call_with(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(body.clone()),
            &site,
        )
        .await;
    login.ok(200);
    let cookie = session_cookie(&login.refresh_cookie().unwrap(), true);
    // The Origin must name the host the request was sent to.
    let elsewhere = [
        ("host", "crm.example.com"),
        ("origin", "http://127.0.0.1:3000"),
    ];
    app.call_with(Method::POST, "/v1/auth/login", None, Some(body), &elsewhere)
        .await
        .problem(403, "cross-site-request");
    let with_cookie = format!("crm_refresh={cookie}");
    let refreshed = app
        .call_with(
            Method::POST,
            "/v1/auth/refresh",
            None,
            None,
            &[site[0], site[1], ("cookie", &with_cookie)],
        )
        .await;
    refreshed.ok(200);
    session_cookie(&refreshed.refresh_cookie().unwrap(), true);
}

#[tokio::test]
async fn behind_a_proxy_the_forwarded_host_or_the_public_origin_is_the_site() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let body = login_body(&t.email, &t.password);
    let proxied = [
        ("x-forwarded-host", "crm.example.com"),
        ("origin", "https://crm.example.com"),
    ];
    let login = app
        .call_with(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(body.clone()),
            &proxied,
        )
        .await;
    session_cookie(&login.refresh_cookie().unwrap(), true);

    let pinned = TestApp::spawn_with(&[("CRM_PUBLIC_ORIGIN", "https://crm.example.com")]).await;
    let t = pinned.sign_up("Acme").await;
    let body = login_body(&t.email, &t.password);
    // The request's own host no longer counts: only the configured origin does.
    pinned
        .browser_post("/v1/auth/login", Some(body.clone()), None)
        .await
        .problem(403, "cross-site-request");
    let login = pinned
        .call_with(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(body),
            &[("origin", "https://crm.example.com")],
        )
        .await;
    session_cookie(&login.refresh_cookie().unwrap(), true);
}
