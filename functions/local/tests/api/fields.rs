//! Custom fields: defined per tenant and object, validated on write (types, options,
//! required, unique), searchable and filterable, and removable without losing data.

use crate::support::TestApp;
use serde_json::{Value, json};

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_owned()
}

async fn define(app: &TestApp, token: &str, body: Value) -> String {
    id(app
        .post("/v1/settings/fields", Some(token), body)
        .await
        .ok(201))
}

async fn found(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    ids(app.get(path, token).await.ok(200))
}

#[tokio::test]
async fn custom_values_are_validated_filtered_and_searched() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    for body in [
        json!({"object": "contacts", "key": "wechat", "label": "WeChat", "type": "text", "unique": true}),
        json!({"object": "contacts", "key": "score", "label": "Score", "type": "number"}),
        json!({"object": "contacts", "key": "budget", "label": "Budget", "type": "money"}),
        json!({"object": "contacts", "key": "renewal", "label": "Renewal", "type": "date"}),
        json!({"object": "contacts", "key": "vip", "label": "VIP", "type": "boolean"}),
        json!({"object": "contacts", "key": "segment", "label": "Segment", "type": "single_select",
               "options": ["retail", "wholesale"]}),
        json!({"object": "contacts", "key": "interests", "label": "Interests", "type": "multi_select",
               "options": ["tea", "coffee", "juice"]}),
    ] {
        define(&app, t, body).await;
    }
    let listed = app.get("/v1/settings/fields?object=contacts", t).await;
    assert_eq!(listed.ok(200)["data"].as_array().unwrap().len(), 7);

    let a = app
        .create_contact(
            t,
            json!({"name": "Ann", "custom": {"wechat": "AnnTea88", "score": 15, "segment": "retail",
                   "budget": {"amount_minor": 300000, "currency": "CNY"}, "renewal": "2027-03-01",
                   "vip": true, "interests": ["tea", "juice"]}}),
        )
        .await;
    assert_eq!(a["custom"]["segment"], "retail");
    let b = app
        .create_contact(
            t,
            json!({"name": "Bo", "custom": {"score": 25.5, "segment": "wholesale",
                   "budget": {"amount_minor": 900000, "currency": "CNY"}, "vip": false,
                   "interests": ["coffee"]}}),
        )
        .await;
    let (a, b) = (id(&a), id(&b));

    let bad = app
        .post(
            "/v1/contacts",
            Some(t),
            json!({"name": "X", "custom": {"score": "high", "segment": "online", "renewal": "2027-02-30",
                   "vip": "yes", "interests": ["tea", "tea"], "colour": "red",
                   "budget": {"amount_minor": 1}}}),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        [
            "custom.budget",
            "custom.colour",
            "custom.interests",
            "custom.renewal",
            "custom.score",
            "custom.segment",
            "custom.vip"
        ]
    );

    // Unique, ignoring case; a deleted or changed value is free again.
    let dup = app
        .post(
            "/v1/contacts",
            Some(t),
            json!({"name": "Copy", "custom": {"wechat": "anntea88"}}),
        )
        .await;
    assert_eq!(dup.invalid_fields(), ["custom.wechat"]);
    app.patch(
        &format!("/v1/contacts/{a}"),
        t,
        json!({"custom": {"wechat": "ann_new"}}),
    )
    .await
    .ok(200);
    app.create_contact(t, json!({"name": "Copy", "custom": {"wechat": "anntea88"}}))
        .await;

    for (q, want) in [
        ("cf[segment]=retail", vec![a.clone()]),
        ("cf[segment]=WHOLESALE", vec![b.clone()]),
        ("cf[score]=10..20", vec![a.clone()]),
        ("cf[score]=20..", vec![b.clone()]),
        ("cf[budget]=..500000", vec![a.clone()]),
        ("cf[renewal]=2027-01-01..2027-12-31", vec![a.clone()]),
        ("cf[vip]=false", vec![b.clone()]),
        ("cf[interests]=coffee", vec![b.clone()]),
        ("cf[interests]=tea&cf[vip]=true", vec![a.clone()]),
        ("cf[interests]=tea&cf[vip]=false", vec![]),
        ("q=wholesale", vec![b.clone()]),
        ("q=ann_new", vec![a.clone()]),
    ] {
        assert_eq!(
            found(&app, t, &format!("/v1/contacts?{q}&sort=name")).await,
            want,
            "{q}"
        );
    }
    for (q, param) in [
        ("cf[colour]=red", "cf[colour]"),
        ("cf[score]=high", "cf[score]"),
        ("cf[vip]=1", "cf[vip]"),
        ("cf[renewal]=2027-13-01..", "cf[renewal]"),
    ] {
        let reply = app.get(&format!("/v1/contacts?{q}"), t).await;
        assert_eq!(reply.invalid_fields(), [param], "{q}");
    }
}

#[tokio::test]
async fn a_removed_field_is_hidden_and_refused_but_its_data_comes_back_on_restore() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let field = define(
        &app,
        t,
        json!({"object": "contacts", "key": "nickname", "label": "Nickname", "type": "text"}),
    )
    .await;
    let c = app
        .create_contact(t, json!({"name": "Li", "custom": {"nickname": "Sparrow"}}))
        .await;
    let path = format!("/v1/contacts/{}", id(&c));
    assert_eq!(found(&app, t, "/v1/contacts?q=sparrow").await, [id(&c)]);

    let field_path = format!("/v1/settings/fields/{field}");
    app.delete(&field_path, t).await.ok(204);
    let read = app.get(&path, t).await;
    assert_eq!(read.ok(200)["custom"], json!({}));
    assert!(found(&app, t, "/v1/contacts?q=sparrow").await.is_empty());
    assert!(
        found(&app, t, "/v1/contacts?q=sparrow&sort=name")
            .await
            .is_empty()
    );
    let reply = app.get("/v1/contacts?cf[nickname]=sparrow", t).await;
    assert_eq!(reply.invalid_fields(), ["cf[nickname]"]);
    let write = app
        .patch(&path, t, json!({"custom": {"nickname": "Crow"}}))
        .await;
    assert_eq!(write.invalid_fields(), ["custom.nickname"]);
    // Other changes to the record keep the hidden value.
    app.patch(&path, t, json!({"title": "Buyer"})).await.ok(200);
    // The key stays taken while the field can be restored.
    let again = app
        .post(
            "/v1/settings/fields",
            Some(t),
            json!({"object": "contacts", "key": "nickname", "label": "Again", "type": "text"}),
        )
        .await;
    again.problem(409, "field-key-taken");

    let restored = app.patch(&field_path, t, json!({"removed": false})).await;
    assert_eq!(restored.ok(200)["removed"], false);
    let read = app.get(&path, t).await;
    assert_eq!(read.ok(200)["custom"]["nickname"], "Sparrow");
    assert_eq!(found(&app, t, "/v1/contacts?q=sparrow").await, [id(&c)]);
}

#[tokio::test]
async fn a_required_field_binds_new_records_and_cannot_be_cleared() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let old = app.create_contact(t, json!({"name": "Before"})).await;
    define(
        &app,
        t,
        json!({"object": "contacts", "key": "source_code", "label": "Source code",
               "type": "text", "required": true}),
    )
    .await;
    let missing = app
        .post("/v1/contacts", Some(t), json!({"name": "New"}))
        .await;
    assert_eq!(missing.invalid_fields(), ["custom.source_code"]);
    let new = app
        .create_contact(t, json!({"name": "New", "custom": {"source_code": "FAIR"}}))
        .await;
    // A record from before the field was required still takes other changes.
    app.patch(
        &format!("/v1/contacts/{}", id(&old)),
        t,
        json!({"title": "CEO"}),
    )
    .await
    .ok(200);
    let cleared = app
        .patch(
            &format!("/v1/contacts/{}", id(&new)),
            t,
            json!({"custom": {"source_code": null}}),
        )
        .await;
    assert_eq!(cleared.invalid_fields(), ["custom.source_code"]);
}

#[tokio::test]
async fn companies_have_their_own_fields() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    define(
        &app,
        t,
        json!({"object": "companies", "key": "tier", "label": "Tier", "type": "single_select",
               "options": ["gold", "silver"]}),
    )
    .await;
    let gold = app
        .post(
            "/v1/companies",
            Some(t),
            json!({"name": "Gold Co", "custom": {"tier": "gold"}}),
        )
        .await
        .ok(201)
        .clone();
    app.post("/v1/companies", Some(t), json!({"name": "Plain Co"}))
        .await
        .ok(201);
    assert_eq!(
        found(&app, t, "/v1/companies?cf[tier]=gold").await,
        [id(&gold)]
    );
    // A contact field of the same key does not exist.
    let wrong = app
        .post(
            "/v1/contacts",
            Some(t),
            json!({"name": "X", "custom": {"tier": "gold"}}),
        )
        .await;
    assert_eq!(wrong.invalid_fields(), ["custom.tier"]);
}

#[tokio::test]
async fn a_deleted_companys_unique_value_is_free_again() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    define(
        &app,
        t,
        json!({"object": "companies", "key": "tax_no", "label": "Tax number", "type": "text",
               "unique": true}),
    )
    .await;
    let body = |name: &str| json!({"name": name, "custom": {"tax_no": "91310000MA1FL"}});
    let first = app
        .post("/v1/companies", Some(t), body("First Co"))
        .await
        .ok(201)
        .clone();
    let taken = app.post("/v1/companies", Some(t), body("Second Co")).await;
    assert_eq!(taken.invalid_fields(), ["custom.tax_no"]);
    app.delete(&format!("/v1/companies/{}", id(&first)), t)
        .await
        .ok(204);
    app.post("/v1/companies", Some(t), body("Second Co"))
        .await
        .ok(201);
}

#[tokio::test]
async fn only_admins_define_fields_and_each_company_sees_its_own() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let field = define(
        &app,
        &acme.access_token,
        json!({"object": "contacts", "key": "wechat", "label": "WeChat", "type": "text"}),
    )
    .await;
    let sales = app.add_user(&acme.access_token, &["sales"]).await;
    app.post(
        "/v1/settings/fields",
        Some(&sales.access_token),
        json!({"object": "contacts", "key": "x", "label": "X", "type": "text"}),
    )
    .await
    .problem(403, "forbidden");
    let seen = app.get("/v1/settings/fields", &sales.access_token).await;
    assert_eq!(ids(seen.ok(200)), vec![field.clone()]);
    let other = app.get("/v1/settings/fields", &globex.access_token).await;
    assert!(ids(other.ok(200)).is_empty());
    app.patch(
        &format!("/v1/settings/fields/{field}"),
        &globex.access_token,
        json!({"label": "Mine"}),
    )
    .await
    .problem(404, "not-found");
    app.delete(
        &format!("/v1/settings/fields/{field}"),
        &globex.access_token,
    )
    .await
    .problem(404, "not-found");
    let foreign = app
        .post(
            "/v1/contacts",
            Some(&globex.access_token),
            json!({"name": "X", "custom": {"wechat": "x"}}),
        )
        .await;
    assert_eq!(foreign.invalid_fields(), ["custom.wechat"]);

    for (body, field) in [
        (
            json!({"object": "campaigns", "key": "a", "label": "A", "type": "text"}),
            "object",
        ),
        (
            json!({"object": "contacts", "key": "Bad Key", "label": "A", "type": "text"}),
            "key",
        ),
        (
            json!({"object": "contacts", "key": "a", "label": "", "type": "text"}),
            "label",
        ),
        (
            json!({"object": "contacts", "key": "a", "label": "A", "type": "single_select"}),
            "options",
        ),
        (
            json!({"object": "contacts", "key": "a", "label": "A", "type": "text", "options": ["x"]}),
            "options",
        ),
        (
            json!({"object": "contacts", "key": "a", "label": "A", "type": "boolean", "unique": true}),
            "unique",
        ),
    ] {
        let reply = app
            .post("/v1/settings/fields", Some(&acme.access_token), body)
            .await;
        assert_eq!(reply.invalid_fields(), [field]);
    }
}
