//! Phone numbers in E.164 (read in the company's default region), emails in lower case,
//! and exact lookups by either, kept in step with every change.

use crate::support::TestApp;
use serde_json::json;

async fn found(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let reply = app.get(&format!("/v1/contacts?{query}"), token).await;
    reply.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn phones_are_stored_in_e164_read_in_the_companys_region() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let settings = app.get("/v1/settings/general", &acme.access_token).await;
    assert_eq!(settings.ok(200)["default_region"], "CN");
    let local = app
        .create_contact(
            &acme.access_token,
            json!({"name": "Li", "phones": [{"number": "138 0013 8000"}, {"number": "+44 20 7946 0000"}]}),
        )
        .await;
    assert_eq!(local["phones"][0]["number"], "+8613800138000");
    assert_eq!(local["phones"][1]["number"], "+442079460000");
    let invalid = app
        .post(
            "/v1/contacts",
            Some(&acme.access_token),
            json!({"name": "X", "phones": [{"number": "12345"}]}),
        )
        .await;
    assert_eq!(invalid.invalid_fields(), ["phones[0].number"]);

    // The same digits are a Guangzhou number in China and a London one in Britain.
    let guangzhou = app
        .create_contact(
            &acme.access_token,
            json!({"name": "Chen", "phones": [{"number": "020 7946 0000"}]}),
        )
        .await;
    assert_eq!(guangzhou["phones"][0]["number"], "+862079460000");
    app.patch(
        "/v1/settings/general",
        &acme.access_token,
        json!({"default_region": "GB"}),
    )
    .await
    .ok(200);
    let london = app
        .create_contact(
            &acme.access_token,
            json!({"name": "Ann", "phones": [{"number": "020 7946 0000"}]}),
        )
        .await;
    assert_eq!(london["phones"][0]["number"], "+442079460000");
    let bad = app
        .patch(
            "/v1/settings/general",
            &acme.access_token,
            json!({"default_region": "XX"}),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["default_region"]);
}

#[tokio::test]
async fn contacts_are_found_by_exact_email_or_phone_as_they_change() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let token = &acme.access_token;
    let contact = app
        .create_contact(
            token,
            json!({"name": "Li", "emails": [{"address": "Li.Wei@Example.cn"}],
                   "phones": [{"number": "13800138000"}]}),
        )
        .await;
    let id = contact["id"].as_str().unwrap().to_owned();
    // The other company's identical contact is never found from here.
    app.create_contact(
        &globex.access_token,
        json!({"name": "Li", "emails": [{"address": "li.wei@example.cn"}]}),
    )
    .await;
    assert_eq!(
        found(&app, token, "email=LI.WEI@example.CN").await,
        std::slice::from_ref(&id)
    );
    assert_eq!(
        found(&app, token, "phone=%2B86%20138%200013%208000").await,
        std::slice::from_ref(&id)
    );
    assert_eq!(
        found(&app, token, "phone=138-0013-8000").await,
        std::slice::from_ref(&id)
    );

    let path = format!("/v1/contacts/{id}");
    app.patch(
        &path,
        token,
        json!({"emails": [{"address": "wei@example.cn"}], "phones": null}),
    )
    .await
    .ok(200);
    assert!(
        found(&app, token, "email=li.wei@example.cn")
            .await
            .is_empty()
    );
    assert_eq!(
        found(&app, token, "email=wei@example.cn").await,
        std::slice::from_ref(&id)
    );
    assert!(found(&app, token, "phone=13800138000").await.is_empty());
    app.delete(&path, token).await.ok(204);
    assert!(found(&app, token, "email=wei@example.cn").await.is_empty());

    let two = app
        .get("/v1/contacts?email=a@b.co&phone=13800138000", token)
        .await;
    assert_eq!(two.invalid_fields(), ["email"]);
    let bad = app.get("/v1/contacts?phone=12345", token).await;
    assert_eq!(bad.invalid_fields(), ["phone"]);
}

#[tokio::test]
async fn a_sign_up_locale_with_a_region_sets_the_default_region() {
    let app = TestApp::spawn().await;
    let reply = app
        .post(
            "/v1/signup",
            None,
            json!({"company_name": "London Ltd", "email": crate::support::unique_email("gb"),
                   "password": crate::support::PASSWORD, "locale": "en-GB"}),
        )
        .await;
    let token = reply.ok(201)["access_token"].as_str().unwrap().to_owned();
    let settings = app.get("/v1/settings/general", &token).await;
    assert_eq!(settings.ok(200)["default_region"], "GB");
    // Sales may read contacts but not company settings.
    let sales = app.add_user(&token, &["sales"]).await;
    app.get("/v1/settings/general", &sales.access_token)
        .await
        .problem(403, "forbidden");
}
