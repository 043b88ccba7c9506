//! Sensitive contact fields: validated with their check digits, stored sealed under the
//! company's data key, shown masked, revealed only with `reveal` (and audited), never in
//! the audit log in clear, and found by exact national id through a keyed hash.

use crate::support::TestApp;
use serde_json::{Value, json};

const NATIONAL_ID: &str = "11010519491231002X";
const OTHER_ID: &str = "110105194912310118";

fn sensitive() -> Value {
    json!({
        "name": "Wang Fang",
        "national_id": NATIONAL_ID.to_lowercase(),
        "card_number": "4111 1111 1111 1111",
        "bank_account": "GB82 WEST 1234 5698 7654 32",
        "date_of_birth": "1949-12-31",
    })
}

async fn stored(app: &TestApp, tenant_id: &str, contact_id: &str) -> Value {
    let tenant = shared::ids::TenantId::parse(tenant_id).unwrap();
    let item = app
        .state
        .table
        .get(&shared::contacts::key(&tenant, contact_id))
        .await
        .unwrap()
        .unwrap();
    Value::Object(item)
}

#[tokio::test]
async fn sensitive_fields_are_sealed_at_rest_masked_and_revealed_with_an_audit_entry() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let created = app.create_contact(&acme.access_token, sensitive()).await;
    assert_eq!(created["national_id"], "****002X");
    assert_eq!(created["card_number"], "****1111");
    assert_eq!(created["bank_account"], "****5432");
    assert_eq!(created["date_of_birth"], "****2-31");
    let id = created["id"].as_str().unwrap();

    // At rest: sealed, nothing in clear.
    let item = stored(&app, &acme.tenant_id, id).await;
    for field in [
        "national_id",
        "card_number",
        "bank_account",
        "date_of_birth",
    ] {
        assert!(
            item[field].as_str().unwrap().starts_with("v1."),
            "{field}: {}",
            item[field]
        );
    }
    let raw = item.to_string();
    for clear in [
        NATIONAL_ID,
        "4111111111111111",
        "GB82WEST12345698765432",
        "1949-12-31",
    ] {
        assert!(!raw.contains(clear), "{clear} stored in clear");
    }

    let path = format!("/v1/contacts/{id}");
    let plain = app.get(&path, &acme.access_token).await;
    assert_eq!(plain.ok(200)["national_id"], "****002X");
    let revealed = app
        .get(&format!("{path}?reveal=true"), &acme.access_token)
        .await;
    let revealed = revealed.ok(200);
    assert_eq!(
        revealed["national_id"], NATIONAL_ID,
        "normalized to upper case"
    );
    assert_eq!(revealed["card_number"], "4111111111111111");
    assert_eq!(revealed["bank_account"], "GB82WEST12345698765432");
    assert_eq!(revealed["date_of_birth"], "1949-12-31");

    let log = app
        .get("/v1/audit?resource=contacts", &acme.access_token)
        .await;
    let log = log.ok(200).clone();
    assert_eq!(log["data"][0]["action"], "contact.revealed");
    assert_eq!(
        log["data"][0]["fields"],
        json!([
            "bank_account",
            "card_number",
            "date_of_birth",
            "national_id"
        ])
    );
    let text = log.to_string();
    for clear in [
        NATIONAL_ID,
        "4111111111111111",
        "GB82WEST12345698765432",
        "1949-12-31",
    ] {
        assert!(!text.contains(clear), "{clear} in the audit log");
    }
    assert!(
        log["data"][1]["changes"]["national_id"]["after"]
            .as_str()
            .unwrap()
            .starts_with("fingerprint:")
    );

    // Sales may enter sensitive values but not reveal them.
    let sales = app.add_user(&acme.access_token, &["sales"]).await;
    let theirs = app.create_contact(&sales.access_token, sensitive()).await;
    let theirs_path = format!("/v1/contacts/{}", theirs["id"].as_str().unwrap());
    let seen = app.get(&theirs_path, &sales.access_token).await;
    assert_eq!(seen.ok(200)["card_number"], "****1111");
    app.get(&format!("{theirs_path}?reveal=true"), &sales.access_token)
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn sensitive_values_must_pass_their_checks() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let bad = app
        .post(
            "/v1/contacts",
            Some(&acme.access_token),
            json!({
                "name": "Bad",
                "national_id": "110105194912310021",
                "card_number": "4111 1111 1111 1112",
                "bank_account": "GB82 WEST 1234 5698 7654 33",
                "date_of_birth": "2999-01-01",
            }),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        [
            "national_id",
            "card_number",
            "bank_account",
            "date_of_birth"
        ]
    );
    // A change is checked the same way, and clearing a value is allowed.
    let contact = app.create_contact(&acme.access_token, sensitive()).await;
    let path = format!("/v1/contacts/{}", contact["id"].as_str().unwrap());
    let patched = app
        .patch(&path, &acme.access_token, json!({"card_number": "1234"}))
        .await;
    assert_eq!(patched.invalid_fields(), ["card_number"]);
    let cleared = app
        .patch(&path, &acme.access_token, json!({"card_number": null}))
        .await;
    assert!(cleared.ok(200).get("card_number").is_none());
}

#[tokio::test]
async fn a_national_id_finds_its_contact_within_the_callers_company_and_scope() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let contact = app.create_contact(&acme.access_token, sensitive()).await;
    app.create_contact(&globex.access_token, sensitive()).await;
    let id = contact["id"].as_str().unwrap().to_owned();
    let find = |token: String, national_id: &'static str| {
        let app = &app;
        async move {
            let reply = app
                .get(&format!("/v1/contacts?national_id={national_id}"), &token)
                .await;
            reply.ok(200)["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        find(acme.access_token.clone(), "11010519491231002x").await,
        std::slice::from_ref(&id)
    );
    // Sales reach only their own contacts.
    let sales = app.add_user(&acme.access_token, &["sales"]).await;
    assert!(
        find(sales.access_token.clone(), NATIONAL_ID)
            .await
            .is_empty()
    );

    let path = format!("/v1/contacts/{id}");
    app.patch(&path, &acme.access_token, json!({"national_id": OTHER_ID}))
        .await
        .ok(200);
    assert!(
        find(acme.access_token.clone(), NATIONAL_ID)
            .await
            .is_empty()
    );
    assert_eq!(
        find(acme.access_token.clone(), OTHER_ID).await,
        std::slice::from_ref(&id)
    );
    app.delete(&path, &acme.access_token).await.ok(204);
    assert!(find(acme.access_token.clone(), OTHER_ID).await.is_empty());

    let bad = app
        .get(
            "/v1/contacts?national_id=110105194912310021",
            &acme.access_token,
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["national_id"]);
}
