//! Contacts through the HTTP API: the flow, validation, versions, pagination and tenant
//! isolation.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::TestApp;

fn id(contact: &Value) -> String {
    contact["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_contact_is_created_read_updated_and_deleted() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let token = &t.access_token;
    let created = app
        .post(
            "/v1/contacts",
            Some(token),
            json!({
                "name": " 王小明 ", "emails": [{"address": "Xiaoming@Example.CN", "label": "work"}],
                "phones": [{"number": "+86 138 0013 8000", "label": "mobile"}],
                "company_name": "Acme", "title": "CTO", "tags": ["vip", "beijing"],
                "address": {"city": "北京", "country": "cn"}, "lifecycle_stage": "customer",
                "source": "trade show", "notes": "Met at the fair."
            }),
        )
        .await;
    let contact = created.ok(201).clone();
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(
        created.headers["location"],
        format!("/v1/contacts/{}", id(&contact))
    );
    assert_eq!(contact["name"], "王小明");
    assert_eq!(contact["emails"][0]["address"], "xiaoming@example.cn");
    assert_eq!(contact["address"]["country"], "CN");
    assert_eq!(contact["owner_id"], t.user_id);
    assert_eq!(contact["version"], 1);

    let path = format!("/v1/contacts/{}", id(&contact));
    let read = app.get(&path, token).await;
    assert_eq!(read.ok(200), &contact);
    assert_eq!(read.etag(), "\"1\"");

    let patched = app
        .patch(
            &path,
            token,
            json!({"title": null, "tags": ["vip"], "lifecycle_stage": "evangelist"}),
        )
        .await;
    let body = patched.ok(200);
    assert_eq!(body["title"], Value::Null);
    assert_eq!(body["tags"], json!(["vip"]));
    assert_eq!(body["lifecycle_stage"], "evangelist");
    assert_eq!(body["company_name"], "Acme", "fields not sent are kept");
    assert_eq!(body["version"], 2);
    assert_eq!(patched.etag(), "\"2\"");

    assert_eq!(app.delete(&path, token).await.status, 204);
    app.get(&path, token).await.problem(404, "not-found");
    app.delete(&path, token).await.problem(404, "not-found");
}

#[tokio::test]
async fn invalid_contacts_are_refused_naming_each_field() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let reply = app
        .post(
            "/v1/contacts",
            Some(&t.access_token),
            json!({
                "name": "  ", "emails": [{"address": "not-an-email"}, {"address": "a@b.co"}, {"address": "A@b.co"}],
                "phones": [{"number": "call me"}], "address": {"country": "China"},
                "tags": ["x".repeat(51)], "owner_id": "usr_nobody", "title": "t".repeat(101)
            }),
        )
        .await;
    let mut fields = reply.invalid_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "address.country",
            "emails[0].address",
            "emails[2].address",
            "name",
            "owner_id",
            "phones[0].number",
            "tags[0]",
            "title"
        ]
    );
    let unknown = app
        .post(
            "/v1/contacts",
            Some(&t.access_token),
            json!({"name": "A", "favourite_colour": "red"}),
        )
        .await;
    assert_eq!(unknown.invalid_fields(), ["favourite_colour"]);
    let missing = app
        .post("/v1/contacts", Some(&t.access_token), json!({}))
        .await;
    assert_eq!(missing.invalid_fields(), ["name"]);
    let wrong_type = app
        .post(
            "/v1/contacts",
            Some(&t.access_token),
            json!({"name": "A", "tags": "vip"}),
        )
        .await;
    assert_eq!(wrong_type.invalid_fields(), ["tags"]);
    let bad_stage = app
        .post(
            "/v1/contacts",
            Some(&t.access_token),
            json!({"name": "A", "lifecycle_stage": "king"}),
        )
        .await;
    assert_eq!(bad_stage.invalid_fields(), ["lifecycle_stage"]);
    let listed = app.get("/v1/contacts", &t.access_token).await;
    assert_eq!(listed.ok(200)["data"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn a_stale_if_match_is_rejected_with_412() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let contact = app
        .create_contact(&t.access_token, json!({"name": "Ada"}))
        .await;
    let path = format!("/v1/contacts/{}", id(&contact));
    let first = app
        .call_with(
            Method::PATCH,
            &path,
            Some(&t.access_token),
            Some(json!({"title": "CEO"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    first.ok(200);
    let stale = app
        .call_with(
            Method::PATCH,
            &path,
            Some(&t.access_token),
            Some(json!({"title": "CFO"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    stale.problem(412, "version-mismatch");
    let garbage = app
        .call_with(
            Method::PATCH,
            &path,
            Some(&t.access_token),
            Some(json!({"title": "CFO"})),
            &[("if-match", "yesterday")],
        )
        .await;
    garbage.problem(412, "version-mismatch");
    let stale_delete = app
        .call_with(
            Method::DELETE,
            &path,
            Some(&t.access_token),
            None,
            &[("if-match", "\"1\"")],
        )
        .await;
    stale_delete.problem(412, "version-mismatch");
    let read = app.get(&path, &t.access_token).await;
    assert_eq!(read.ok(200)["title"], "CEO");
    let current = read.etag();
    let delete = app
        .call_with(
            Method::DELETE,
            &path,
            Some(&t.access_token),
            None,
            &[("if-match", &current)],
        )
        .await;
    assert_eq!(delete.status, 204);
}

#[tokio::test]
async fn concurrent_patches_never_lose_an_update() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let t = app.sign_up("Acme").await;
    let contact = app
        .create_contact(&t.access_token, json!({"name": "Ada"}))
        .await;
    let path = format!("/v1/contacts/{}", id(&contact));
    let changes = [
        json!({"title": "CTO"}),
        json!({"company_name": "Analytical Engines"}),
        json!({"source": "referral"}),
        json!({"notes": "Prefers email."}),
        json!({"lifecycle_stage": "customer"}),
        json!({"phones": [{"number": "+442079460000"}]}),
        json!({"address": {"city": "London", "country": "GB"}}),
        json!({"tags": ["math"]}),
    ];
    let mut tasks = Vec::new();
    for change in changes.clone() {
        let (app, path, token) = (app.clone(), path.clone(), t.access_token.clone());
        tasks.push(tokio::spawn(async move {
            app.patch(&path, &token, change).await.status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let last = app.get(&path, &t.access_token).await;
    let last = last.ok(200);
    for change in changes {
        for (field, value) in change.as_object().unwrap() {
            assert_eq!(&last[field], value, "lost update of {field}");
        }
    }
    assert_eq!(last["version"], 9);
}

#[tokio::test]
async fn lists_are_newest_first_and_paged_with_opaque_cursors() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(id(&app
            .create_contact(&t.access_token, json!({"name": format!("C{i}")}))
            .await));
    }
    made.reverse();
    let mut seen = Vec::new();
    let mut path = "/v1/contacts?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let reply = app.get(&path, &t.access_token).await;
        let body = reply.ok(200);
        pages += 1;
        seen.extend(body["data"].as_array().unwrap().iter().map(id));
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/contacts?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, made);
    assert_eq!(pages, 3);

    let first = app.get("/v1/contacts?limit=2", &t.access_token).await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let mut tampered = cursor.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let reply = app
        .get(&format!("/v1/contacts?cursor={tampered}"), &t.access_token)
        .await;
    assert_eq!(reply.invalid_fields(), ["cursor"]);
    for bad in [
        "limit=0",
        "limit=201",
        "limit=ten",
        "limit=-1",
        "sort=age",
        "colour=red",
    ] {
        let reply = app
            .get(&format!("/v1/contacts?{bad}"), &t.access_token)
            .await;
        assert_eq!(reply.status, 422, "{bad}: {}", reply.body);
    }
    let other = app.sign_up("Other").await;
    let foreign = app
        .get(
            &format!("/v1/contacts?cursor={cursor}"),
            &other.access_token,
        )
        .await;
    assert_eq!(
        foreign.invalid_fields(),
        ["cursor"],
        "a cursor is bound to its tenant"
    );
}

#[tokio::test]
async fn another_tenants_contact_is_not_found_on_every_verb() {
    let app = TestApp::spawn().await;
    let a = app.sign_up("Tenant A").await;
    let b = app.sign_up("Tenant B").await;
    let contact = app
        .create_contact(&a.access_token, json!({"name": "Secret"}))
        .await;
    let path = format!("/v1/contacts/{}", id(&contact));
    app.get(&path, &b.access_token)
        .await
        .problem(404, "not-found");
    app.patch(&path, &b.access_token, json!({"name": "Hijacked"}))
        .await
        .problem(404, "not-found");
    app.delete(&path, &b.access_token)
        .await
        .problem(404, "not-found");
    let listed = app.get("/v1/contacts", &b.access_token).await;
    assert_eq!(listed.ok(200)["data"], json!([]));
    let still = app.get(&path, &a.access_token).await;
    assert_eq!(still.ok(200)["name"], "Secret");
    // Naming the other tenant's user as owner does not reach across either.
    let reply = app
        .post(
            "/v1/contacts",
            Some(&b.access_token),
            json!({"name": "X", "owner_id": a.user_id}),
        )
        .await;
    assert_eq!(reply.invalid_fields(), ["owner_id"]);
}

#[tokio::test]
async fn malformed_ids_are_simply_not_found() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    for bad in [
        "x",
        "con_",
        "con_..%2F..",
        "usr_01jd0000000000000000000000",
        &"c".repeat(5000),
    ] {
        let reply = app
            .get(&format!("/v1/contacts/{bad}"), &t.access_token)
            .await;
        reply.problem(404, "not-found");
    }
}
