//! Roles the admin configures: built-in templates, copies and edits, the locked admin
//! role, and the field rules (hidden, read-only, masked) every contact route obeys.

use crate::support::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_company_starts_with_the_built_in_roles() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let roles = app.get("/v1/roles", &acme.access_token).await;
    assert_eq!(
        ids(roles.ok(200)),
        [
            "admin",
            "manager",
            "sales",
            "support",
            "finance",
            "read_only"
        ]
    );
    let sales = app.get("/v1/roles/sales", &acme.access_token).await;
    let sales = sales.ok(200);
    assert_eq!(sales["builtin"], true);
    assert_eq!(sales["permissions"]["contacts"]["scope"], "own");
    assert!(sales["permissions"].get("users").is_none());
    let support = app.get("/v1/roles/support", &acme.access_token).await;
    assert_eq!(
        support.ok(200)["permissions"]["contacts"]["fields"]["notes"],
        "hidden"
    );
}

#[tokio::test]
async fn the_admin_role_is_locked() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    app.patch(
        "/v1/roles/admin",
        &acme.access_token,
        json!({"permissions": {"contacts": {"actions": ["read"], "scope": "own"}}}),
    )
    .await
    .problem(409, "role-locked");
    app.delete("/v1/roles/admin", &acme.access_token)
        .await
        .problem(409, "role-locked");
    // The admin can still manage roles afterwards.
    app.get("/v1/roles", &acme.access_token).await.ok(200);
}

#[tokio::test]
async fn a_built_in_role_is_copied_and_the_copy_edited() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let copy = app
        .post(
            "/v1/roles",
            Some(&acme.access_token),
            json!({"name": "Senior sales", "copy_from": "sales"}),
        )
        .await;
    let copy = copy.ok(201).clone();
    let sales = app.get("/v1/roles/sales", &acme.access_token).await;
    assert_eq!(copy["permissions"], sales.ok(200)["permissions"]);
    assert_eq!(copy["builtin"], false);
    let path = format!("/v1/roles/{}", copy["id"].as_str().unwrap());

    let mut permissions = copy["permissions"].clone();
    permissions["contacts"]["actions"] = json!(["read", "create", "update", "export"]);
    let etag = app.get(&path, &acme.access_token).await.etag();
    let edited = app
        .call_with(
            Method::PATCH,
            &path,
            Some(&acme.access_token),
            Some(json!({"permissions": permissions})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(
        edited.ok(200)["permissions"]["contacts"]["actions"],
        json!(["read", "create", "update", "export"])
    );
    app.call_with(
        Method::PATCH,
        &path,
        Some(&acme.access_token),
        Some(json!({"name": "Late"})),
        &[("if-match", &etag)],
    )
    .await
    .problem(412, "version-mismatch");
    // Names are unique per company.
    app.post(
        "/v1/roles",
        Some(&acme.access_token),
        json!({"name": "senior SALES", "copy_from": "sales"}),
    )
    .await
    .problem(409, "role-name-taken");
}

#[tokio::test]
async fn permissions_naming_unknown_things_are_invalid() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let reply = app
        .post(
            "/v1/roles",
            Some(&acme.access_token),
            json!({"name": "Odd", "permissions": {
                "spaceships": {"actions": ["read"], "scope": "all"},
                "contacts": {"actions": ["read"], "scope": "all",
                             "fields": {"shoe_size": "hidden", "owner_id": "masked"}},
            }}),
        )
        .await;
    assert_eq!(
        reply.invalid_fields(),
        [
            "permissions.contacts.fields.owner_id",
            "permissions.contacts.fields.shoe_size",
            "permissions.spaceships",
        ]
    );
    let bad_action = app
        .post(
            "/v1/roles",
            Some(&acme.access_token),
            json!({"name": "Odd", "permissions": {"contacts": {"actions": ["fly"], "scope": "all"}}}),
        )
        .await;
    assert_eq!(bad_action.status, 422, "{}", bad_action.body);
    let nothing = app
        .post(
            "/v1/roles",
            Some(&acme.access_token),
            json!({"name": "Empty"}),
        )
        .await;
    assert_eq!(nothing.invalid_fields(), ["permissions"]);
}

#[tokio::test]
async fn a_role_change_applies_to_its_holders_next_request() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let role = app
        .create_role(
            &acme.access_token,
            "Viewer",
            json!({"contacts": {"actions": ["read"], "scope": "all"}}),
        )
        .await;
    let viewer = app.add_user(&acme.access_token, &[&role]).await;
    app.get("/v1/contacts", &viewer.access_token).await.ok(200);
    app.patch(
        &format!("/v1/roles/{role}"),
        &acme.access_token,
        json!({"permissions": {"companies": {"actions": ["read"], "scope": "all"}}}),
    )
    .await
    .ok(200);
    // Same access token, next request: the new permissions hold.
    app.get("/v1/contacts", &viewer.access_token)
        .await
        .problem(403, "forbidden");
    let me = app.get("/v1/me", &viewer.access_token).await;
    assert_eq!(
        me.ok(200)["permissions"],
        json!({"companies": {"read": "all"}})
    );
}

#[tokio::test]
async fn a_role_in_use_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let role = app
        .create_role(
            &acme.access_token,
            "Temp",
            json!({"contacts": {"actions": ["read"], "scope": "own"}}),
        )
        .await;
    let member = app.add_user(&acme.access_token, &[&role]).await;
    let path = format!("/v1/roles/{role}");
    app.delete(&path, &acme.access_token)
        .await
        .problem(409, "role-in-use");
    app.patch(
        &format!("/v1/users/{}", member.user_id),
        &acme.access_token,
        json!({"role_ids": ["sales"]}),
    )
    .await
    .ok(200);
    app.delete(&path, &acme.access_token).await.ok(204);
    app.get(&path, &acme.access_token)
        .await
        .problem(404, "not-found");
    let log = app
        .get("/v1/audit?resource=roles", &acme.access_token)
        .await;
    let actions: Vec<_> = log.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["role.deleted", "role.created"]);
}

#[tokio::test]
async fn field_rules_hide_mask_and_protect_contact_fields() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let contact = app
        .create_contact(
            &acme.access_token,
            json!({"name": "Wang Wei", "title": "CFO", "notes": "prefers tea",
                   "phones": [{"number": "+86 138 0013 8000"}]}),
        )
        .await;
    let path = format!("/v1/contacts/{}", contact["id"].as_str().unwrap());
    let grant = |actions: Value| {
        json!({"contacts": {"actions": actions, "scope": "all", "fields": {
            "notes": "hidden", "phones": "masked", "title": "read_only"}}})
    };
    let clerk_role = app
        .create_role(
            &acme.access_token,
            "Clerk",
            grant(json!(["read", "update"])),
        )
        .await;
    let auditor_role = app
        .create_role(
            &acme.access_token,
            "Auditor",
            grant(json!(["read", "update", "reveal"])),
        )
        .await;
    let clerk = app.add_user(&acme.access_token, &[&clerk_role]).await;
    let auditor = app.add_user(&acme.access_token, &[&auditor_role]).await;

    let seen = app.get(&path, &clerk.access_token).await;
    let seen = seen.ok(200);
    assert!(seen.get("notes").is_none(), "hidden: {seen}");
    assert_eq!(seen["phones"], json!([{"number": "****8000"}]));
    assert_eq!(seen["title"], "CFO");
    let listed = app.get("/v1/contacts", &clerk.access_token).await;
    assert!(listed.ok(200)["data"][0].get("notes").is_none());
    assert_eq!(listed.body["data"][0]["phones"][0]["number"], "****8000");

    // Writes to restricted fields are refused, each field named.
    let refused = app
        .patch(
            &path,
            &clerk.access_token,
            json!({"title": "CEO", "notes": "x", "name": "Wang W."}),
        )
        .await;
    let body = refused.problem(403, "read-only-field");
    let fields: Vec<_> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "notes"]);
    app.patch(&path, &clerk.access_token, json!({"name": "Wang W."}))
        .await
        .ok(200);
    let unchanged = app.get(&path, &acme.access_token).await;
    assert_eq!(unchanged.ok(200)["title"], "CFO");
    assert_eq!(unchanged.body["notes"], "prefers tea");

    // Revealing needs `reveal`, and every reveal is audited.
    app.get(&format!("{path}?reveal=true"), &clerk.access_token)
        .await
        .problem(403, "forbidden");
    let revealed = app
        .get(&format!("{path}?reveal=true"), &auditor.access_token)
        .await;
    assert_eq!(revealed.ok(200)["phones"][0]["number"], "+8613800138000");
    assert!(revealed.body.get("notes").is_none(), "hidden stays hidden");
    let log = app
        .get(
            &format!(
                "/v1/audit?action=contact.revealed&actor_id={}",
                auditor.user_id
            ),
            &acme.access_token,
        )
        .await;
    let entries = log.ok(200)["data"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["fields"], json!(["phones"]));
    assert_eq!(entries[0]["resource_id"], contact["id"]);

    // /v1/me tells the caller their field rules.
    let me = app.get("/v1/me", &clerk.access_token).await;
    assert_eq!(me.ok(200)["field_rules"]["contacts"]["notes"], "hidden");
}

#[tokio::test]
async fn the_support_template_sees_contact_basics_only() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let contact = app
        .create_contact(
            &acme.access_token,
            json!({"name": "Zhang San", "notes": "VIP", "source": "fair",
                   "address": {"city": "Shanghai"}, "emails": [{"address": "z@example.cn"}]}),
        )
        .await;
    let support = app.add_user(&acme.access_token, &["support"]).await;
    let path = format!("/v1/contacts/{}", contact["id"].as_str().unwrap());
    let seen = app.get(&path, &support.access_token).await;
    let seen = seen.ok(200);
    for hidden in ["notes", "source", "address"] {
        assert!(seen.get(hidden).is_none(), "{hidden}: {seen}");
    }
    assert_eq!(seen["emails"][0]["address"], "z@example.cn");
    app.patch(
        &path,
        &support.access_token,
        json!({"lifecycle_stage": "customer"}),
    )
    .await
    .problem(403, "read-only-field");
    app.post(
        "/v1/contacts",
        Some(&support.access_token),
        json!({"name": "New"}),
    )
    .await
    .problem(403, "forbidden");
}
