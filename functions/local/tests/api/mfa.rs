//! Two-factor sign-in: TOTP enrolment with recovery codes, the second login step and its
//! limits, the company-wide requirement, turning it on and off (which asks for the
//! password), and an admin's reset (for a person covering the user; audited and mailed).

use crate::support::{Member, PASSWORD, TestApp};
use serde_json::{Value, json};
use totp_rs::{Algorithm, Secret, TOTP};

/// The code of `secret` for the time step `steps_ahead` steps from now.
fn code(secret: &str, steps_ahead: u64) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let totp = TOTP::new(Algorithm::SHA1, 6, 0, 30, bytes, None, String::new()).unwrap();
    totp.generate(crate::support::now() as u64 + 30 * steps_ahead)
}

/// Enrols `token`'s user and returns (secret, recovery codes).
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let started = app.post("/v1/me/mfa/totp", Some(token), json!({})).await;
    let secret = started.ok(200)["secret"].as_str().unwrap().to_owned();
    let confirmed = app
        .post(
            "/v1/me/mfa/totp/confirm",
            Some(token),
            json!({"code": code(&secret, 0), "password": PASSWORD}),
        )
        .await;
    let codes = confirmed.ok(200)["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

async fn second_step(app: &TestApp, challenge: &Value, code: &str) -> crate::support::Reply {
    app.post(
        "/v1/auth/mfa",
        None,
        json!({"mfa_token": challenge["mfa_token"], "code": code}),
    )
    .await
}

#[tokio::test]
async fn after_enrolment_login_needs_a_code_each_usable_once() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let started = app
        .post("/v1/me/mfa/totp", Some(&acme.access_token), json!({}))
        .await;
    let started = started.ok(200).clone();
    let secret = started["secret"].as_str().unwrap();
    let uri = started["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/CRM:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(
        started["qr_code"]
            .as_str()
            .unwrap()
            .starts_with("data:image/svg+xml;base64,")
    );
    // Not in force until confirmed.
    app.login(&acme.email, &acme.password).await.ok(200);
    let wrong = app
        .post(
            "/v1/me/mfa/totp/confirm",
            Some(&acme.access_token),
            json!({"code": "000000", "password": PASSWORD}),
        )
        .await;
    assert_eq!(wrong.invalid_fields(), ["code"]);
    let confirmed = app
        .post(
            "/v1/me/mfa/totp/confirm",
            Some(&acme.access_token),
            json!({"code": code(secret, 0), "password": PASSWORD}),
        )
        .await;
    let recovery: Vec<String> = confirmed.ok(200)["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    let me = app.get("/v1/me", &acme.access_token).await;
    assert_eq!(me.ok(200)["user"]["mfa_enabled"], true);

    // The password alone now yields a challenge, not tokens.
    let first = app.login(&acme.email, &acme.password).await;
    let challenge = first.ok(200).clone();
    assert_eq!(challenge["mfa_required"], true);
    assert!(challenge.get("access_token").is_none());
    let bad = second_step(&app, &challenge, "123456").await;
    assert_eq!(bad.invalid_fields(), ["code"]);
    // The code used to confirm is spent; the next step's code works, once.
    let next = code(secret, 1);
    let signed_in = second_step(&app, &challenge, &next).await;
    let token = signed_in.ok(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/v1/me", &token).await.ok(200);
    second_step(&app, &challenge, &next)
        .await
        .problem(401, "unauthenticated");
    let again = app.login(&acme.email, &acme.password).await;
    let again = again.ok(200).clone();
    assert_eq!(
        second_step(&app, &again, &next).await.status,
        422,
        "replayed"
    );
    // A recovery code works once, however it is typed.
    let typed = recovery[0].to_uppercase();
    second_step(&app, &again, &typed).await.ok(200);
    let third = app.login(&acme.email, &acme.password).await;
    let third = third.ok(200).clone();
    assert_eq!(second_step(&app, &third, &recovery[0]).await.status, 422);
    second_step(&app, &third, &recovery[1]).await.ok(200);

    let log = app
        .get("/v1/audit?action=auth.mfa_enabled", &acme.access_token)
        .await;
    assert_eq!(log.ok(200)["data"].as_array().unwrap().len(), 1);
    assert!(
        !log.body.to_string().contains("sealed_secret"),
        "secrets never enter the log"
    );
}

#[tokio::test]
async fn wrong_codes_are_limited_per_challenge_and_per_account() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let (secret, _) = enrol(&app, &acme.access_token).await;
    let challenge = app.login(&acme.email, &acme.password).await;
    let challenge = challenge.ok(200).clone();
    for _ in 0..5 {
        assert_eq!(second_step(&app, &challenge, "000000").await.status, 422);
    }
    // The challenge is spent, even for the right code.
    second_step(&app, &challenge, &code(&secret, 1))
        .await
        .problem(401, "unauthenticated");
    // And the account is locked for a while, whatever challenge is used.
    let fresh = app.login(&acme.email, &acme.password).await;
    let fresh = fresh.ok(200).clone();
    let locked = second_step(&app, &fresh, &code(&secret, 1)).await;
    locked.problem(429, "rate-limited");
    assert!(locked.headers.contains_key("retry-after"));
    let log = app
        .get("/v1/audit?action=auth.mfa_failed", &acme.access_token)
        .await;
    assert_eq!(log.ok(200)["data"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_company_can_require_every_user_to_enrol() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let sales: Member = app.add_user(&acme.access_token, &["sales"]).await;
    // An admin without a second factor cannot lock themselves out.
    app.patch(
        "/v1/settings/security",
        &acme.access_token,
        json!({"require_mfa": true}),
    )
    .await
    .problem(409, "mfa-not-enabled");
    enrol(&app, &acme.access_token).await;
    app.patch(
        "/v1/settings/security",
        &acme.access_token,
        json!({"require_mfa": true}),
    )
    .await
    .ok(200);
    let security = app.get("/v1/settings/security", &acme.access_token).await;
    assert_eq!(security.ok(200)["require_mfa"], true);
    // Sales may not change company settings.
    app.patch(
        "/v1/settings/security",
        &sales.access_token,
        json!({"require_mfa": false}),
    )
    .await
    .problem(403, "mfa-enrolment-required");

    // Without a second factor, only enrolment (and their profile) is open to them.
    app.get("/v1/contacts", &sales.access_token)
        .await
        .problem(403, "mfa-enrolment-required");
    app.get("/v1/me", &sales.access_token).await.ok(200);
    let login = app.login(&sales.email, &sales.password).await;
    assert_eq!(login.ok(200)["mfa_enrolment_required"], true);
    let (secret, _) = enrol(&app, &sales.access_token).await;
    app.get("/v1/contacts", &sales.access_token).await.ok(200);
    app.patch(
        "/v1/settings/security",
        &sales.access_token,
        json!({"require_mfa": false}),
    )
    .await
    .problem(403, "forbidden");
    // The requirement is changed by a person: not by a key, even one with every right.
    let key = app
        .post(
            "/v1/api-keys",
            Some(&acme.access_token),
            json!({"name": "Ops", "role_id": "admin"}),
        )
        .await
        .ok(201)["key"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch("/v1/settings/security", &key, json!({"require_mfa": false}))
        .await
        .problem(403, "forbidden");
    assert_eq!(
        app.get("/v1/settings/security", &acme.access_token)
            .await
            .ok(200)["require_mfa"],
        true
    );
    // While required, it cannot be switched off.
    app.post(
        "/v1/me/mfa/disable",
        Some(&sales.access_token),
        json!({"code": code(&secret, 1), "password": PASSWORD}),
    )
    .await
    .problem(409, "mfa-required-by-company");
}

#[tokio::test]
async fn an_admin_resets_a_lost_second_factor_and_users_can_turn_it_off() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let sales = app.add_user(&acme.access_token, &["sales"]).await;
    enrol(&app, &sales.access_token).await;
    let challenge = app.login(&sales.email, &sales.password).await;
    assert_eq!(challenge.ok(200)["mfa_required"], true);
    // Sales cannot reset anyone's second factor; the admin can.
    let path = format!("/v1/users/{}/mfa", sales.user_id);
    app.delete(&path, &sales.access_token)
        .await
        .problem(403, "forbidden");
    app.delete(&path, &acme.access_token).await.ok(204);
    let direct = app.login(&sales.email, &sales.password).await;
    assert!(direct.ok(200)["access_token"].is_string());

    let (secret, _) = enrol(&app, &acme.access_token).await;
    app.post(
        "/v1/me/mfa/disable",
        Some(&acme.access_token),
        json!({"code": "000000", "password": PASSWORD}),
    )
    .await
    .problem(422, "validation-failed");
    app.post(
        "/v1/me/mfa/disable",
        Some(&acme.access_token),
        json!({"code": code(&secret, 1), "password": PASSWORD}),
    )
    .await
    .ok(204);
    let plain = app.login(&acme.email, &acme.password).await;
    assert!(plain.ok(200)["access_token"].is_string());
}

/// A role that may update users (read them too) and nothing else.
async fn user_clerk_role(app: &TestApp, admin: &str) -> String {
    app.create_role(
        admin,
        "User clerk",
        json!({"users": {"actions": ["read", "update"], "scope": "all"}}),
    )
    .await
}

#[tokio::test]
async fn a_non_admin_cannot_remove_an_admins_second_factor() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    enrol(&app, &acme.access_token).await;
    let clerk_role = user_clerk_role(&app, &acme.access_token).await;
    let clerk = app.add_user(&acme.access_token, &[&clerk_role]).await;
    let path = format!("/v1/users/{}/mfa", acme.user_id);
    // `users:update` is not enough: the clerk does not hold what the admin may do.
    app.delete(&path, &clerk.access_token)
        .await
        .problem(403, "forbidden");
    // Nor is an API key, even one with every permission: changing how a person signs in
    // is for a person.
    let key = app
        .post(
            "/v1/api-keys",
            Some(&acme.access_token),
            json!({"name": "Everything", "role_id": "admin"}),
        )
        .await
        .ok(201)["key"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&path, &key).await.problem(403, "forbidden");
    let clerk_key = app
        .post(
            "/v1/api-keys",
            Some(&acme.access_token),
            json!({"name": "Users", "permissions": {"users": {"actions": ["read", "update"], "scope": "all"}}}),
        )
        .await
        .ok(201)["key"]
        .as_str()
        .unwrap()
        .to_owned();
    app.delete(&path, &clerk_key)
        .await
        .problem(403, "forbidden");
    // The admin still signs in with a second factor.
    let login = app.login(&acme.email, &acme.password).await;
    assert_eq!(login.ok(200)["mfa_required"], true);
    // The clerk may reset someone they cover (a user of their own role).
    let peer: Member = app.add_user(&acme.access_token, &[&clerk_role]).await;
    enrol(&app, &peer.access_token).await;
    app.delete(
        &format!("/v1/users/{}/mfa", peer.user_id),
        &clerk.access_token,
    )
    .await
    .ok(204);
}

#[tokio::test]
async fn a_reset_second_factor_is_audited_and_the_user_is_told_in_their_language() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let sales = app.add_user(&acme.access_token, &["sales"]).await;
    let chinese = app.add_user(&acme.access_token, &["sales"]).await;
    app.patch(
        &format!("/v1/users/{}", chinese.user_id),
        &acme.access_token,
        json!({"locale": "zh-CN"}),
    )
    .await
    .ok(200);
    for user in [&sales, &chinese] {
        enrol(&app, &user.access_token).await;
        app.delete(
            &format!("/v1/users/{}/mfa", user.user_id),
            &acme.access_token,
        )
        .await
        .ok(204);
    }
    let english = app.mail_to(&sales.email).await;
    let notice = english.last().unwrap();
    assert!(notice.subject.contains("two-step sign-in"), "{notice:?}");
    assert!(notice.text.contains("Acme"), "{notice:?}");
    let chinese_mail = app.mail_to(&chinese.email).await;
    let notice = chinese_mail.last().unwrap();
    assert!(notice.subject.contains("两步验证"), "{notice:?}");

    let log = app
        .get("/v1/audit?action=auth.mfa_reset", &acme.access_token)
        .await;
    let entries = log.ok(200)["data"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2);
    for entry in &entries {
        assert_eq!(entry["actor"], json!({"type": "user", "id": acme.user_id}));
    }
    let reset: Vec<&str> = entries
        .iter()
        .map(|e| e["resource_id"].as_str().unwrap())
        .collect();
    assert!(reset.contains(&sales.user_id.as_str()) && reset.contains(&chinese.user_id.as_str()));
}

#[tokio::test]
async fn turning_two_factor_sign_in_on_or_off_needs_the_current_password() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let started = app.post("/v1/me/mfa/totp", Some(token), json!({})).await;
    let secret = started.ok(200)["secret"].as_str().unwrap().to_owned();
    let confirm = |body: Value| app.post("/v1/me/mfa/totp/confirm", Some(token), body);
    // A session alone (a borrowed laptop) is not enough.
    let missing = confirm(json!({"code": code(&secret, 0)})).await;
    assert_eq!(missing.invalid_fields(), ["password"]);
    let wrong = confirm(json!({"code": code(&secret, 0), "password": "not my password 1"})).await;
    assert_eq!(wrong.invalid_fields(), ["password"]);
    assert_eq!(
        app.get("/v1/me", token).await.ok(200)["user"]["mfa_enabled"],
        false
    );
    confirm(json!({"code": code(&secret, 0), "password": PASSWORD}))
        .await
        .ok(200);

    let disable = |body: Value| app.post("/v1/me/mfa/disable", Some(token), body);
    let missing = disable(json!({"code": code(&secret, 1)})).await;
    assert_eq!(missing.invalid_fields(), ["password"]);
    let wrong = disable(json!({"code": code(&secret, 1), "password": "not my password 1"})).await;
    assert_eq!(wrong.invalid_fields(), ["password"]);
    assert_eq!(
        app.get("/v1/me", token).await.ok(200)["user"]["mfa_enabled"],
        true
    );
    // Wrong passwords count against the account's sign-in limit.
    let mut limited = false;
    for _ in 0..20 {
        let reply = disable(json!({"code": code(&secret, 1), "password": "guess guess 123"})).await;
        if reply.status == 429 {
            reply.problem(429, "rate-limited");
            limited = true;
            break;
        }
    }
    assert!(limited, "password guesses are throttled");
}

#[tokio::test]
async fn a_browser_gets_its_cookie_at_the_second_step_not_before() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let (secret, _) = enrol(&app, &acme.access_token).await;
    let asked = json!({
        "email": acme.email, "password": acme.password, "refresh_token_delivery": "cookie",
    });
    let first = app.browser_post("/v1/auth/login", Some(asked), None).await;
    assert_eq!(first.ok(200)["mfa_required"], true);
    assert!(first.refresh_cookie().is_none());
    let second = app
        .browser_post(
            "/v1/auth/mfa",
            Some(json!({
                "mfa_token": first.body["mfa_token"], "code": code(&secret, 1),
                "refresh_token_delivery": "cookie",
            })),
            None,
        )
        .await;
    assert!(second.ok(200).get("refresh_token").is_none());
    let line = second.refresh_cookie().expect("the cookie");
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Strict"),
        "{line}"
    );
    let cookie = crate::support::cookie_value(&line);
    app.browser_post("/v1/auth/refresh", None, Some(&cookie))
        .await
        .ok(200);
}
