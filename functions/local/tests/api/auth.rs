//! Sign-up, login, refresh, logout and token checks, through the HTTP API.

use crate::support::{TestApp, forge_token, now, signing_key};
use jsonwebtoken::Algorithm;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn sign_up_creates_a_tenant_whose_admin_can_use_the_api() {
    let app = TestApp::spawn().await;
    let tenant = app.sign_up("Acme 有限公司").await;
    assert!(tenant.tenant_id.starts_with("ten_"));
    let me = app.get("/v1/me", &tenant.access_token).await;
    let me = me.ok(200);
    assert_eq!(me["tenant"]["company_name"], "Acme 有限公司");
    assert_eq!(me["user"]["email"], tenant.email);
    assert_eq!(me["user"]["role_ids"], json!(["admin"]));
    assert!(me["user"].get("password_hash").is_none());
    assert_eq!(me["permissions"]["contacts"]["read"], "all");
    assert_eq!(me["permissions"]["audit"]["read"], "all");
}

#[tokio::test]
async fn sign_up_explains_every_invalid_field() {
    let app = TestApp::spawn().await;
    let reply = app
        .post(
            "/v1/signup",
            None,
            json!({"company_name": "", "email": "nope", "password": "short", "locale": "xx_YY"}),
        )
        .await;
    let mut fields = reply.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["company_name", "email", "locale", "password"]);
    let rule = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "password")
        .unwrap();
    assert_eq!(rule["message"], "must be at least 10 characters");
}

#[tokio::test]
async fn a_weak_password_is_refused_with_its_rule() {
    let app = TestApp::spawn().await;
    let reply = app
        .post(
            "/v1/signup",
            None,
            json!({"company_name": "A", "email": "zoe@example.com", "password": "Password123"}),
        )
        .await;
    assert_eq!(reply.invalid_fields(), ["password"]);
    assert!(
        reply.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too common")
    );
}

#[tokio::test]
async fn login_gives_tokens_and_one_generic_answer_for_bad_credentials() {
    let app = TestApp::spawn().await;
    let tenant = app.sign_up("Acme").await;
    let ok = app
        .login(&tenant.email.to_uppercase(), &tenant.password)
        .await;
    let tokens = ok.ok(200);
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_u64().unwrap() <= 900);
    app.get("/v1/me", tokens["access_token"].as_str().unwrap())
        .await
        .ok(200);

    let wrong_password = app.login(&tenant.email, "not the password").await;
    let unknown_user = app.login("nobody@example.com", "not the password").await;
    wrong_password.problem(401, "unauthenticated");
    unknown_user.problem(401, "unauthenticated");
    assert_eq!(wrong_password.body["detail"], unknown_user.body["detail"]);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_429() {
    let app = TestApp::spawn().await;
    let tenant = app.sign_up("Acme").await;
    for _ in 0..5 {
        app.login(&tenant.email, "guess guess guess")
            .await
            .problem(401, "unauthenticated");
    }
    // Even the right password is refused until the window ends.
    let locked = app.login(&tenant.email, &tenant.password).await;
    locked.problem(429, "rate-limited");
    let retry: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry));
    // Another account is not affected by this one's lock.
    let other = app.sign_up("Other").await;
    app.login(&other.email, &other.password).await.ok(200);
}

#[tokio::test]
async fn an_email_in_two_tenants_must_choose_one() {
    let app = TestApp::spawn().await;
    let first = app.sign_up_as("First Co", "book@example.com").await;
    let second = app.sign_up_as("Second Co", "book@example.com").await;
    let ambiguous = app.login("book@example.com", &first.password).await;
    ambiguous.problem(409, "tenant-selection-required");
    let mut offered: Vec<_> = ambiguous.body["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant_id"].as_str().unwrap().to_owned())
        .collect();
    offered.sort();
    let mut expected = vec![first.tenant_id.clone(), second.tenant_id.clone()];
    expected.sort();
    assert_eq!(offered, expected);
    let chosen = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": "book@example.com", "password": first.password, "tenant_id": second.tenant_id}),
        )
        .await;
    let token = chosen.ok(200)["access_token"].as_str().unwrap().to_owned();
    let me = app.get("/v1/me", &token).await;
    assert_eq!(me.ok(200)["tenant"]["id"], second.tenant_id);
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_session() {
    let app = TestApp::spawn().await;
    let tenant = app.sign_up("Acme").await;
    let first = app.refresh(&tenant.refresh_token).await;
    let rotated = first.ok(200)["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, tenant.refresh_token);
    let access = first.body["access_token"].as_str().unwrap().to_owned();
    app.get("/v1/me", &access).await.ok(200);

    // The old token again: someone copied it. The whole session ends.
    app.refresh(&tenant.refresh_token)
        .await
        .problem(401, "unauthenticated");
    app.refresh(&rotated).await.problem(401, "unauthenticated");
    app.get("/v1/me", &access)
        .await
        .problem(401, "unauthenticated");
}

#[tokio::test]
async fn logout_revokes_the_session_and_its_access_tokens() {
    let app = TestApp::spawn().await;
    let tenant = app.sign_up("Acme").await;
    let reply = app.logout(&tenant.refresh_token).await;
    assert_eq!(reply.status, 204);
    app.get("/v1/me", &tenant.access_token)
        .await
        .problem(401, "unauthenticated");
    app.refresh(&tenant.refresh_token)
        .await
        .problem(401, "unauthenticated");
    // Logging out again, or with junk, changes nothing and reveals nothing.
    for token in [tenant.refresh_token.as_str(), "junk"] {
        let again = app.logout(token).await;
        assert_eq!(again.status, 204);
    }
}

#[tokio::test]
async fn bad_access_tokens_are_refused_with_401() {
    let app = TestApp::spawn().await;
    let tenant = app.sign_up("Acme").await;
    let claims = |iss: &str, aud: &str, nbf: i64, exp: i64| {
        json!({
            "iss": iss, "aud": aud, "sub": tenant.user_id, "tid": tenant.tenant_id,
            "sid": "ses_00000000000000000000000000", "iat": now(), "nbf": nbf, "exp": exp,
        })
    };
    // A genuine token's session id, so only the defect under test differs.
    let genuine = tenant.access_token.split('.').nth(1).unwrap();
    let genuine: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, genuine)
            .unwrap(),
    )
    .unwrap();
    let with_sid = |mut c: serde_json::Value| {
        c["sid"] = genuine["sid"].clone();
        c
    };
    let key = signing_key();
    let good = forge_token(
        with_sid(claims("crm", "crm-api", now() - 10, now() + 600)),
        Algorithm::HS256,
        &key,
    );
    app.get("/v1/me", &good).await.ok(200);

    let header_none = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        br#"{"alg":"none","typ":"JWT"}"#,
    );
    let payload = good.split('.').nth(1).unwrap();
    let mut tampered_claims = with_sid(claims("crm", "crm-api", now() - 10, now() + 600));
    tampered_claims["tid"] = json!("ten_00000000000000000000000000");
    let tampered_payload = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        serde_json::to_vec(&tampered_claims).unwrap(),
    );
    let signature = good.split('.').nth(2).unwrap();
    let cases = [
        (
            "expired",
            forge_token(
                with_sid(claims("crm", "crm-api", now() - 1000, now() - 100)),
                Algorithm::HS256,
                &key,
            ),
        ),
        (
            "not yet valid",
            forge_token(
                with_sid(claims("crm", "crm-api", now() + 300, now() + 900)),
                Algorithm::HS256,
                &key,
            ),
        ),
        (
            "wrong audience",
            forge_token(
                with_sid(claims("crm", "other", now() - 10, now() + 600)),
                Algorithm::HS256,
                &key,
            ),
        ),
        (
            "wrong issuer",
            forge_token(
                with_sid(claims("evil", "crm-api", now() - 10, now() + 600)),
                Algorithm::HS256,
                &key,
            ),
        ),
        (
            "another key",
            forge_token(
                with_sid(claims("crm", "crm-api", now() - 10, now() + 600)),
                Algorithm::HS256,
                b"another key another key another k",
            ),
        ),
        (
            "HS512 instead of HS256",
            forge_token(
                with_sid(claims("crm", "crm-api", now() - 10, now() + 600)),
                Algorithm::HS512,
                &key,
            ),
        ),
        ("alg none", format!("{header_none}.{payload}.")),
        (
            // The HS/RS confusion: a token claiming RS256, "signed" with the HMAC key
            // (as an attacker would with a public key taken for a secret).
            "RS256 header over an HMAC signature",
            {
                let header = base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    br#"{"alg":"RS256","typ":"JWT"}"#,
                );
                let message = format!("{header}.{payload}");
                let signature = jsonwebtoken::crypto::sign(
                    message.as_bytes(),
                    &jsonwebtoken::EncodingKey::from_secret(&key),
                    Algorithm::HS256,
                )
                .unwrap();
                format!("{message}.{signature}")
            },
        ),
        (
            "tampered claims",
            format!(
                "{}.{tampered_payload}.{signature}",
                good.split('.').next().unwrap()
            ),
        ),
        (
            "unknown session",
            forge_token(
                claims("crm", "crm-api", now() - 10, now() + 600),
                Algorithm::HS256,
                &key,
            ),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in cases {
        let reply = app.get("/v1/me", &token).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.body);
        reply.problem(401, "unauthenticated");
        assert!(reply.headers.contains_key("www-authenticate"), "{what}");
    }
    let none = app.call(Method::GET, "/v1/me", None, None).await;
    none.problem(401, "unauthenticated");
    let basic = app
        .call_with(
            Method::GET,
            "/v1/me",
            None,
            None,
            &[("authorization", "Basic YTpi")],
        )
        .await;
    basic.problem(401, "unauthenticated");
}

#[tokio::test]
async fn parallel_password_guesses_cannot_pass_the_limit() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let tenant = app.sign_up("Acme").await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (app, email) = (app.clone(), tenant.email.clone());
        tasks.push(tokio::spawn(async move {
            app.login(&email, "a guess a guess").await.status.as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let guessed = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((guessed, refused), (5, 7), "{statuses:?}");
}

#[tokio::test]
async fn a_successful_login_does_not_count_against_the_account() {
    let app = TestApp::spawn().await;
    let tenant = app.sign_up("Acme").await;
    for _ in 0..8 {
        app.login(&tenant.email, &tenant.password).await.ok(200);
    }
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited() {
    let app = TestApp::spawn().await;
    for i in 0..20 {
        app.sign_up(&format!("Company {i}")).await;
    }
    let reply = app
        .post(
            "/v1/signup",
            None,
            json!({"company_name": "One too many", "email": "x@example.com", "password": "plum tree at dawn"}),
        )
        .await;
    reply.problem(429, "rate-limited");
    assert!(reply.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn knowing_a_session_id_is_not_enough_to_end_or_break_it() {
    let app = TestApp::spawn().await;
    let tenant = app.sign_up("Acme").await;
    // Same tenant and session, a made-up secret.
    let (prefix, _) = tenant.refresh_token.rsplit_once('.').unwrap();
    let forged = format!("{prefix}.{}", "A".repeat(43));
    let reply = app.logout(&forged).await;
    assert_eq!(reply.status, 204);
    app.refresh(&forged).await.problem(401, "unauthenticated");
    // The real session goes on.
    app.get("/v1/me", &tenant.access_token).await.ok(200);
    app.refresh(&tenant.refresh_token).await.ok(200);
}

/// The median time of `runs` calls of `login`.
async fn median_login(app: &TestApp, logins: &[(String, String)]) -> std::time::Duration {
    let mut times = Vec::new();
    for (email, password) in logins {
        let started = std::time::Instant::now();
        let reply = app.login(email, password).await;
        times.push(started.elapsed());
        reply.problem(401, "unauthenticated");
    }
    times.sort();
    times[times.len() / 2]
}

#[tokio::test]
async fn unknown_emails_and_wrong_passwords_take_alike() {
    // The two answers do different work (an unknown email has no user to read and no
    // company log to write to), so every failed login is held to a floor that exceeds
    // both. Generous bounds: this guards against an answer that escapes the floor.
    let floor = 700;
    let app = TestApp::spawn_with(&[("CRM_AUTH_ANSWER_FLOOR_MS", "700")]).await;
    let mut wrong = Vec::new();
    for _ in 0..2 {
        let tenant = app.sign_up("Timing").await;
        for _ in 0..3 {
            wrong.push((tenant.email.clone(), "wrong password here".to_owned()));
        }
    }
    let unknown: Vec<_> = (0..6)
        .map(|i| {
            (
                format!("nobody-{i}-{}", crate::support::unique_email("t")),
                "wrong password here".to_owned(),
            )
        })
        .collect();
    let known = median_login(&app, &wrong).await;
    let unknown = median_login(&app, &unknown).await;
    assert!(known.as_millis() >= floor && unknown.as_millis() >= floor);
    let ratio = unknown.as_secs_f64() / known.as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "unknown email {unknown:?} vs wrong password {known:?}"
    );
}
