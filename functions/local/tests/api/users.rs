//! Users: invitations by email, joining, deactivation and reactivation, role changes, and
//! the rule that a company always keeps an active administrator.

use crate::support::{PASSWORD, TestApp, unique_email};
use serde_json::json;

#[tokio::test]
async fn an_invited_user_joins_with_the_mailed_link_once() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let email = unique_email("mei");
    let invited = app
        .post(
            "/v1/users",
            Some(&acme.access_token),
            json!({"email": email.to_uppercase(), "name": "Mei", "role_ids": ["sales"]}),
        )
        .await;
    let user = invited.ok(201).clone();
    assert_eq!(user["status"], "invited");
    assert_eq!(user["email"], email, "emails are stored lowercased");
    assert!(user.get("password_hash").is_none());
    assert_eq!(
        invited.headers["location"],
        format!("/v1/users/{}", user["id"].as_str().unwrap())
    );
    // Not yet a member: no password, no login.
    app.login(&email, PASSWORD)
        .await
        .problem(401, "unauthenticated");

    let mail = app.mail_to(&email).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].subject.contains("Acme"), "{}", mail[0].subject);
    let token = app.token_mailed_to(&email).await;
    let joined = app.accept_invitation(&token).await;
    let tokens = joined.ok(200);
    let me = app
        .get("/v1/me", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.ok(200)["user"]["role_ids"], json!(["sales"]));
    assert_eq!(me.body["user"]["status"], "active");
    app.login(&email, PASSWORD).await.ok(200);

    // The link works once.
    app.accept_invitation(&token)
        .await
        .problem(401, "unauthenticated");
    let listed = app.get("/v1/users", &acme.access_token).await;
    let statuses: Vec<_> = listed.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["email"].as_str().unwrap().to_owned(), u["status"].clone()))
        .collect();
    assert!(statuses.contains(&(email, json!("active"))), "{statuses:?}");
}

#[tokio::test]
async fn tampered_and_replaced_invitation_links_are_refused() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let email = unique_email("li");
    let invited = app
        .post(
            "/v1/users",
            Some(&acme.access_token),
            json!({"email": email, "role_ids": ["support"]}),
        )
        .await;
    let id = invited.ok(201)["id"].as_str().unwrap().to_owned();
    let first = app.token_mailed_to(&email).await;
    let mut tampered = first.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    app.accept_invitation(&tampered)
        .await
        .problem(401, "unauthenticated");
    for junk in ["", "inv.x.y.z", "crt.not-a-tenant.ses.secret"] {
        let reply = app.accept_invitation(junk).await;
        assert_eq!(reply.status, 401, "{junk}: {}", reply.body);
    }

    // A new link replaces the old one.
    app.post(
        &format!("/v1/users/{id}/invitation"),
        Some(&acme.access_token),
        json!({}),
    )
    .await
    .ok(202);
    assert_eq!(app.mail_to(&email).await.len(), 2);
    let second = app.token_mailed_to(&email).await;
    assert_ne!(first, second);
    app.accept_invitation(&first)
        .await
        .problem(401, "unauthenticated");
    // A weak password is refused and leaves the link usable.
    let weak = app
        .post(
            "/v1/invitations/accept",
            None,
            json!({"token": second, "password": "short"}),
        )
        .await;
    assert_eq!(weak.invalid_fields(), ["password"]);
    app.accept_invitation(&second).await.ok(200);
}

#[tokio::test]
async fn inviting_an_email_twice_or_with_bad_fields_is_refused() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let email = unique_email("dup");
    let body = json!({"email": email, "role_ids": ["sales"]});
    app.post("/v1/users", Some(&acme.access_token), body.clone())
        .await
        .ok(201);
    app.post("/v1/users", Some(&acme.access_token), body)
        .await
        .problem(409, "email-taken");
    // The admin's own email is taken too.
    app.post(
        "/v1/users",
        Some(&acme.access_token),
        json!({"email": acme.email, "role_ids": ["sales"]}),
    )
    .await
    .problem(409, "email-taken");
    let bad = app
        .post(
            "/v1/users",
            Some(&acme.access_token),
            json!({"email": "nope", "role_ids": ["sales", "no_such_role", "sales"]}),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        ["email", "role_ids[1]", "role_ids[2]"]
    );
    let none = app
        .post(
            "/v1/users",
            Some(&acme.access_token),
            json!({"email": unique_email("x"), "role_ids": []}),
        )
        .await;
    assert_eq!(none.invalid_fields(), ["role_ids"]);
}

#[tokio::test]
async fn a_deactivated_user_is_refused_at_once_and_can_be_reactivated() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let bob = app.add_user(&acme.access_token, &["sales"]).await;
    app.get("/v1/contacts", &bob.access_token).await.ok(200);

    let path = format!("/v1/users/{}", bob.user_id);
    let off = app
        .patch(&path, &acme.access_token, json!({"status": "deactivated"}))
        .await;
    assert_eq!(off.ok(200)["status"], "deactivated");
    // The access token he holds stops working on the very next request.
    app.get("/v1/contacts", &bob.access_token)
        .await
        .problem(401, "unauthenticated");
    app.refresh(&bob.refresh_token)
        .await
        .problem(401, "unauthenticated");
    app.login(&bob.email, PASSWORD)
        .await
        .problem(401, "unauthenticated");

    app.patch(&path, &acme.access_token, json!({"status": "active"}))
        .await
        .ok(200);
    let again = app.login(&bob.email, PASSWORD).await;
    let token = again.ok(200)["access_token"].as_str().unwrap().to_owned();
    app.get("/v1/contacts", &token).await.ok(200);

    let audit = app
        .get(
            &format!("/v1/audit?resource=users&actor_id={}", acme.user_id),
            &acme.access_token,
        )
        .await;
    let actions: Vec<_> = audit.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        ["user.reactivated", "user.deactivated", "user.invited"]
    );
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let me = format!("/v1/users/{}", acme.user_id);
    app.patch(&me, &acme.access_token, json!({"role_ids": ["sales"]}))
        .await
        .problem(409, "last-admin");
    app.patch(&me, &acme.access_token, json!({"status": "deactivated"}))
        .await
        .problem(409, "last-admin");
    // An invited admin does not count until they join.
    let email = unique_email("second-admin");
    app.post(
        "/v1/users",
        Some(&acme.access_token),
        json!({"email": email, "role_ids": ["admin"]}),
    )
    .await
    .ok(201);
    app.patch(&me, &acme.access_token, json!({"role_ids": ["sales"]}))
        .await
        .problem(409, "last-admin");
    let token = app.token_mailed_to(&email).await;
    let second = app.accept_invitation(&token).await;
    let second_token = second.ok(200)["access_token"].as_str().unwrap().to_owned();
    // Now there are two: the first may step down, and then the second is the last.
    app.patch(&me, &acme.access_token, json!({"role_ids": ["sales"]}))
        .await
        .ok(200);
    let listed = app.get("/v1/users", &second_token).await;
    let second_id = listed.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(
        &format!("/v1/users/{second_id}"),
        &second_token,
        json!({"status": "deactivated"}),
    )
    .await
    .problem(409, "last-admin");
}

#[tokio::test]
async fn no_one_hands_out_a_role_wider_than_their_own() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let recruiter_role = app
        .create_role(
            &acme.access_token,
            "Recruiter",
            json!({
                "users": {"actions": ["read", "create", "update"], "scope": "all"},
                "contacts": {"actions": ["read"], "scope": "all"},
            }),
        )
        .await;
    let recruiter = app.add_user(&acme.access_token, &[&recruiter_role]).await;
    let denied = app
        .post(
            "/v1/users",
            Some(&recruiter.access_token),
            json!({"email": unique_email("x"), "role_ids": ["admin"]}),
        )
        .await;
    denied.problem(403, "forbidden");
    // A role within their own is fine.
    let reader_role = app
        .create_role(
            &acme.access_token,
            "Reader",
            json!({"contacts": {"actions": ["read"], "scope": "own"}}),
        )
        .await;
    app.post(
        "/v1/users",
        Some(&recruiter.access_token),
        json!({"email": unique_email("y"), "role_ids": [reader_role]}),
    )
    .await
    .ok(201);
    // Nor may they change the roles of someone above them.
    app.patch(
        &format!("/v1/users/{}", acme.user_id),
        &recruiter.access_token,
        json!({"role_ids": [reader_role]}),
    )
    .await
    .problem(403, "forbidden");
    // Sales may not manage users at all.
    let sales = app.add_user(&acme.access_token, &["sales"]).await;
    app.get("/v1/users", &sales.access_token)
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn another_companys_users_are_not_found() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let path = format!("/v1/users/{}", globex.user_id);
    app.get(&path, &acme.access_token)
        .await
        .problem(404, "not-found");
    app.patch(&path, &acme.access_token, json!({"status": "deactivated"}))
        .await
        .problem(404, "not-found");
    app.post(
        &format!("{path}/invitation"),
        Some(&acme.access_token),
        json!({}),
    )
    .await
    .problem(404, "not-found");
    // And the other company's admin is untouched.
    app.get("/v1/me", &globex.access_token).await.ok(200);
}

#[tokio::test]
async fn a_stale_if_match_on_a_user_is_rejected_with_412() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let bob = app.add_user(&acme.access_token, &["sales"]).await;
    let path = format!("/v1/users/{}", bob.user_id);
    let etag = app.get(&path, &acme.access_token).await.etag();
    app.call_with(
        reqwest::Method::PATCH,
        &path,
        Some(&acme.access_token),
        Some(json!({"name": "Bob B."})),
        &[("if-match", &etag)],
    )
    .await
    .ok(200);
    app.call_with(
        reqwest::Method::PATCH,
        &path,
        Some(&acme.access_token),
        Some(json!({"name": "Robert"})),
        &[("if-match", &etag)],
    )
    .await
    .problem(412, "version-mismatch");
}

#[tokio::test]
async fn changing_someones_roles_or_status_is_for_a_person_who_covers_them_and_they_are_told() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let sales = app.add_user(&acme.access_token, &["sales"]).await;
    let path = format!("/v1/users/{}", sales.user_id);
    // An API key, even with every permission, may rename but not re-role or deactivate.
    let key = app
        .post(
            "/v1/api-keys",
            Some(&acme.access_token),
            json!({"name": "HR sync", "role_id": "admin"}),
        )
        .await
        .ok(201)["key"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(&path, &key, json!({"name": "Renamed by HR"}))
        .await
        .ok(200);
    for body in [
        json!({"role_ids": ["read_only"]}),
        json!({"status": "deactivated"}),
    ] {
        app.patch(&path, &key, body).await.problem(403, "forbidden");
    }
    // A clerk with `users:update` cannot demote or deactivate an admin they do not cover.
    let clerk_role = app
        .create_role(
            &acme.access_token,
            "User clerk",
            json!({"users": {"actions": ["read", "update"], "scope": "all"}}),
        )
        .await;
    let clerk = app.add_user(&acme.access_token, &[&clerk_role]).await;
    let other_admin = app.add_user(&acme.access_token, &["admin"]).await;
    let admin_path = format!("/v1/users/{}", other_admin.user_id);
    for body in [
        json!({"role_ids": [clerk_role]}),
        json!({"status": "deactivated"}),
    ] {
        app.patch(&admin_path, &clerk.access_token, body)
            .await
            .problem(403, "forbidden");
    }
    app.get("/v1/me", &other_admin.access_token).await.ok(200);

    // The admin may; the user is told each time, in their language.
    app.patch(
        &path,
        &acme.access_token,
        json!({"role_ids": ["read_only"]}),
    )
    .await
    .ok(200);
    let told = app.mail_to(&sales.email).await;
    assert!(
        told.last().unwrap().subject.contains("roles were changed"),
        "{told:?}"
    );
    app.patch(&path, &acme.access_token, json!({"locale": "zh-CN"}))
        .await
        .ok(200);
    app.patch(&path, &acme.access_token, json!({"status": "deactivated"}))
        .await
        .ok(200);
    let told = app.mail_to(&sales.email).await;
    assert!(
        told.last().unwrap().subject.contains("已被停用"),
        "{told:?}"
    );
    let log = app
        .get("/v1/audit?action=user.deactivated", &acme.access_token)
        .await;
    assert_eq!(
        log.ok(200)["data"][0]["actor"],
        json!({"type": "user", "id": acme.user_id})
    );
}

#[tokio::test]
async fn an_invitation_link_is_resent_only_by_someone_who_covers_the_invited_user() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let clerk_role = app
        .create_role(
            &acme.access_token,
            "Recruiter",
            json!({"users": {"actions": ["read", "create"], "scope": "all"}}),
        )
        .await;
    let clerk = app.add_user(&acme.access_token, &[&clerk_role]).await;
    let invited = app
        .post(
            "/v1/users",
            Some(&acme.access_token),
            json!({"email": unique_email("boss"), "role_ids": ["admin"]}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/users/{invited}/invitation");
    app.post(&path, Some(&clerk.access_token), json!({}))
        .await
        .problem(403, "forbidden");
    let reply = app.post(&path, Some(&acme.access_token), json!({})).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
}

#[tokio::test]
async fn everyone_changes_their_own_name_and_language_but_not_someone_elses() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    // A salesperson has no permission on users at all.
    let sales = app.add_user(&acme.access_token, &["sales"]).await;
    let forbidden = app
        .patch(
            &format!("/v1/users/{}", sales.user_id),
            &sales.access_token,
            json!({"locale": "zh-CN"}),
        )
        .await;
    forbidden.problem(403, "forbidden");

    let changed = app
        .patch(
            "/v1/me",
            &sales.access_token,
            json!({"locale": "zh-CN", "name": "  李雷 "}),
        )
        .await;
    let changed = changed.ok(200);
    assert_eq!(changed["user"]["locale"], "zh-CN");
    assert_eq!(changed["user"]["name"], "李雷");
    let me = app.get("/v1/me", &sales.access_token).await;
    assert_eq!(me.ok(200)["user"]["locale"], "zh-CN");
    let user = app
        .get(&format!("/v1/users/{}", sales.user_id), &acme.access_token)
        .await;
    assert_eq!(user.ok(200)["locale"], "zh-CN", "the admin sees it too");

    let audit = app
        .get(
            "/v1/audit?resource=users&action=user.updated",
            &acme.access_token,
        )
        .await;
    let entry = audit.ok(200)["data"][0].clone();
    assert_eq!(entry["resource_id"], sales.user_id.as_str(), "{entry}");
    assert_eq!(entry["changes"]["locale"]["after"], "zh-CN", "{entry}");

    let bad = app
        .patch(
            "/v1/me",
            &sales.access_token,
            json!({"locale": "not a tag", "name": ""}),
        )
        .await;
    let problem = bad.problem(422, "validation-failed");
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "locale"]);
    let unknown = app
        .patch(
            "/v1/me",
            &sales.access_token,
            json!({"role_ids": ["admin"]}),
        )
        .await;
    assert_eq!(unknown.status, 422, "roles are not one's own to change");

    // An API key is not a person with a profile.
    let key = app
        .post(
            "/v1/api-keys",
            Some(&acme.access_token),
            json!({"name": "ERP", "role_id": "sales"}),
        )
        .await;
    let key = key.ok(201)["key"].as_str().unwrap().to_owned();
    app.patch("/v1/me", &key, json!({"locale": "en"}))
        .await
        .problem(403, "forbidden");
}

/// A colleague invited without a language reads the company's; the mail and its link
/// work in Chinese as in English, and a password reset mail speaks the user's language.
#[tokio::test]
async fn invitation_and_reset_mails_speak_the_readers_language() {
    let app = TestApp::spawn().await;
    let admin = unique_email("wang");
    let signed_up = app
        .post(
            "/v1/signup",
            None,
            json!({"company_name": "上海贸易", "email": admin, "password": PASSWORD, "locale": "zh-CN"}),
        )
        .await;
    let token = signed_up.ok(201)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mei, tom) = (unique_email("mei"), unique_email("tom"));
    let invited = app
        .post(
            "/v1/users",
            Some(&token),
            json!({"email": mei, "role_ids": ["sales"]}),
        )
        .await;
    assert_eq!(invited.ok(201)["locale"], "zh-CN");
    app.post(
        "/v1/users",
        Some(&token),
        json!({"email": tom, "role_ids": ["sales"], "locale": "en"}),
    )
    .await
    .ok(201);

    let zh = app.mail_to(&mei).await.remove(0);
    assert!(zh.subject.contains("邀请您加入 上海贸易"), "{}", zh.subject);
    assert!(zh.text.contains("请在此设置您的密码"), "{}", zh.text);
    let en = app.mail_to(&tom).await.remove(0);
    assert!(
        en.subject.starts_with("You are invited to 上海贸易"),
        "{}",
        en.subject
    );
    let link = app.token_mailed_to(&mei).await;
    app.accept_invitation(&link).await.ok(200);

    app.post("/v1/auth/password-reset", None, json!({"email": mei}))
        .await
        .ok(202);
    let reset = app.mail_to(&mei).await.pop().unwrap();
    assert!(
        reset.subject.contains("重置您在 上海贸易 的 CRM 密码"),
        "{}",
        reset.subject
    );
    assert!(
        reset.text.contains("/password-reset?token="),
        "{}",
        reset.text
    );
}

#[tokio::test]
async fn a_change_made_on_one_instance_holds_on_the_next_request_to_another() {
    // Who a caller is, is kept between requests; two servers on one table (two Lambda
    // instances) must each see a change made through the other at once.
    let app = TestApp::spawn().await;
    let second = app.second_instance(&[]).await;
    let acme = app.sign_up("Acme").await;
    let bob = app.add_user(&acme.access_token, &["sales"]).await;
    let on_second = |path: &str, token: &str| {
        let request = app.client.get(format!("{second}{path}")).bearer_auth(token);
        async move { crate::support::into_reply(request.send().await.unwrap()).await }
    };
    // Both instances have read Bob as a salesperson, who may not read the audit log.
    for _ in 0..2 {
        app.get("/v1/contacts", &bob.access_token).await.ok(200);
        on_second("/v1/contacts", &bob.access_token).await.ok(200);
        on_second("/v1/audit", &bob.access_token)
            .await
            .problem(403, "forbidden");
    }
    // Made an administrator on the first, he is one on the second.
    let path = format!("/v1/users/{}", bob.user_id);
    app.patch(&path, &acme.access_token, json!({"role_ids": ["admin"]}))
        .await
        .ok(200);
    on_second("/v1/audit", &bob.access_token).await.ok(200);
    // Deactivated on the first, he is refused on the second.
    app.patch(&path, &acme.access_token, json!({"status": "deactivated"}))
        .await
        .ok(200);
    on_second("/v1/contacts", &bob.access_token)
        .await
        .problem(401, "unauthenticated");
    // A custom field removed on the first is gone from the record on the second, which
    // had read the company's field definitions before.
    let owner = &acme.access_token;
    let field = app
        .post(
            "/v1/settings/fields",
            Some(owner),
            json!({"object": "contacts", "key": "nickname", "label": "Nickname", "type": "text"}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let made = app
        .create_contact(
            owner,
            json!({"name": "Li", "custom": {"nickname": "Sparrow"}}),
        )
        .await;
    let contact = format!("/v1/contacts/{}", made["id"].as_str().unwrap());
    for _ in 0..2 {
        let read = on_second(&contact, owner).await;
        assert_eq!(read.ok(200)["custom"], json!({"nickname": "Sparrow"}));
    }
    app.delete(&format!("/v1/settings/fields/{field}"), owner)
        .await
        .ok(204);
    assert_eq!(
        on_second(&contact, owner).await.ok(200)["custom"],
        json!({})
    );
    // Signed out on the first, the owner's token is refused on the second.
    on_second("/v1/me", &acme.access_token).await.ok(200);
    assert_eq!(app.logout(&acme.refresh_token).await.status, 204);
    on_second("/v1/me", &acme.access_token)
        .await
        .problem(401, "unauthenticated");
}
