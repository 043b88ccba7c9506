//! Companies: the record, its rules, the contacts linked to it, and its scope.

use crate::support::TestApp;
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn create_company(app: &TestApp, token: &str, body: Value) -> Value {
    app.post("/v1/companies", Some(token), body)
        .await
        .ok(201)
        .clone()
}

#[tokio::test]
async fn a_company_is_created_read_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let created = app
        .post(
            "/v1/companies",
            Some(token),
            json!({
                "name": " 北京示例科技 ", "legal_name": "北京示例科技有限公司",
                "industry": "Software", "size_band": "10-49",
                "region": {"country": "cn", "province": "北京", "city": "北京", "district": "海淀区"},
                "website": "https://example.cn", "phone": "010 6255 0000",
                "tags": ["key-account"],
                "annual_revenue": {"amount_minor": 1_200_000_000, "currency": "CNY"},
            }),
        )
        .await;
    let company = created.ok(201).clone();
    assert_eq!(
        created.headers["location"],
        format!("/v1/companies/{}", id(&company))
    );
    assert_eq!(company["name"], "北京示例科技");
    assert_eq!(company["region"]["country"], "CN");
    assert_eq!(company["phone"], "+861062550000");
    assert_eq!(company["annual_revenue"]["amount_minor"], 1_200_000_000i64);
    assert_eq!(company["owner_id"], acme.user_id);

    let path = format!("/v1/companies/{}", id(&company));
    let read = app.get(&path, token).await;
    assert_eq!(read.ok(200), &company);
    let etag = read.etag();
    let changed = app
        .call_with(
            reqwest::Method::PATCH,
            &path,
            Some(token),
            Some(json!({"size_band": "50-249", "website": null})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(changed.ok(200)["size_band"], "50-249");
    assert!(changed.body["website"].is_null());
    app.call_with(
        reqwest::Method::PATCH,
        &path,
        Some(token),
        Some(json!({"industry": "Retail"})),
        &[("if-match", &etag)],
    )
    .await
    .problem(412, "version-mismatch");
    let listed = app.get("/v1/companies", token).await;
    assert_eq!(listed.ok(200)["data"][0]["id"], company["id"]);
    app.delete(&path, token).await.ok(204);
    app.get(&path, token).await.problem(404, "not-found");
}

#[tokio::test]
async fn invalid_companies_are_refused_naming_each_field() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let bad = app
        .post(
            "/v1/companies",
            Some(&acme.access_token),
            json!({
                "name": " ", "website": "ftp://example.cn", "phone": "12345",
                "region": {"country": "China"},
                "annual_revenue": {"amount_minor": -5, "currency": "cny"},
                "tags": ["a", "A"],
            }),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        [
            "name",
            "region.country",
            "website",
            "phone",
            "annual_revenue.amount_minor",
            "annual_revenue.currency",
            "tags[1]",
        ]
    );
    let mistyped = app
        .post(
            "/v1/companies",
            Some(&acme.access_token),
            json!({"name": "X", "size_band": "huge"}),
        )
        .await;
    assert_eq!(mistyped.status, 422, "{}", mistyped.body);
}

#[tokio::test]
async fn contacts_link_to_a_company_that_lists_them_and_keeps_it_from_deletion() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let token = &acme.access_token;
    let company = create_company(&app, token, json!({"name": "Acme Trading"})).await;
    let contact = app
        .create_contact(token, json!({"name": "Wang", "company_id": company["id"]}))
        .await;
    assert_eq!(contact["company_id"], company["id"]);
    let company_path = format!("/v1/companies/{}", id(&company));
    let members = app.get(&format!("{company_path}/contacts"), token).await;
    let listed: Vec<_> = members.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    assert_eq!(listed, [id(&contact)]);

    // Only companies of the same account can be linked.
    let theirs = create_company(&app, &globex.access_token, json!({"name": "Globex"})).await;
    let foreign = app
        .post(
            "/v1/contacts",
            Some(token),
            json!({"name": "X", "company_id": theirs["id"]}),
        )
        .await;
    assert_eq!(foreign.invalid_fields(), ["company_id"]);
    app.get(&format!("/v1/companies/{}/contacts", id(&theirs)), token)
        .await
        .problem(404, "not-found");

    app.delete(&company_path, token)
        .await
        .problem(409, "company-has-contacts");
    let contact_path = format!("/v1/contacts/{}", id(&contact));
    app.patch(&contact_path, token, json!({"company_id": null}))
        .await
        .ok(200);
    let empty = app.get(&format!("{company_path}/contacts"), token).await;
    assert!(empty.ok(200)["data"].as_array().unwrap().is_empty());
    app.delete(&company_path, token).await.ok(204);
}

#[tokio::test]
async fn sales_reach_their_own_companies_only() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let sales = app.add_user(&acme.access_token, &["sales"]).await;
    let admins = create_company(&app, &acme.access_token, json!({"name": "House account"})).await;
    let theirs = create_company(&app, &sales.access_token, json!({"name": "Their lead"})).await;
    let seen = app.get("/v1/companies", &sales.access_token).await;
    let names: Vec<_> = seen.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Their lead"]);
    app.get(
        &format!("/v1/companies/{}", id(&admins)),
        &sales.access_token,
    )
    .await
    .problem(404, "not-found");
    app.get(
        &format!("/v1/companies/{}", id(&theirs)),
        &sales.access_token,
    )
    .await
    .ok(200);
    // Support may read companies but not change them.
    let support = app.add_user(&acme.access_token, &["support"]).await;
    app.patch(
        &format!("/v1/companies/{}", id(&admins)),
        &support.access_token,
        json!({"industry": "Retail"}),
    )
    .await
    .problem(403, "forbidden");
}

#[tokio::test]
async fn a_companys_contact_list_and_sorts_follow_the_readers_scope_and_field_rules() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let company = create_company(&app, admin, json!({"name": "Zeta Trading"})).await;
    create_company(&app, admin, json!({"name": "Alpha Works"})).await;
    let role = app
        .create_role(
            admin,
            "Narrow",
            json!({"companies": {"actions": ["read"], "scope": "all",
                                 "fields": {"name": "masked"}},
                   "contacts": {"actions": ["read"], "scope": "own",
                                "fields": {"notes": "hidden"}}}),
        )
        .await;
    let reader = app.add_user(admin, &[&role]).await;
    app.create_contact(
        admin,
        json!({"name": "Admin's", "notes": "private", "company_id": company["id"]}),
    )
    .await;
    app.create_contact(
        admin,
        json!({"name": "Reader's", "notes": "theirs", "company_id": company["id"],
               "owner_id": reader.user_id}),
    )
    .await;
    let path = format!("/v1/companies/{}/contacts", company["id"].as_str().unwrap());
    let listed = app.get(&path, &reader.access_token).await;
    let data = listed.ok(200)["data"].as_array().unwrap();
    assert_eq!(
        data.len(),
        1,
        "only the contact in the reader's scope: {data:?}"
    );
    assert_eq!(data[0]["name"], "Reader's");
    assert!(data[0].get("notes").is_none(), "{:?}", data[0]);
    assert_eq!(
        app.get(&path, admin).await.ok(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Sorting by a masked name would spell out its order: refused, naming `sort`.
    let refused = app
        .get("/v1/companies?sort=name", &reader.access_token)
        .await;
    refused.problem(403, "hidden-field");
    assert_eq!(refused.body["errors"][0]["field"], "sort");
    app.get("/v1/companies?sort=-created", &reader.access_token)
        .await
        .ok(200);
    app.get("/v1/companies?sort=name", admin).await.ok(200);
}
