//! How a contact wants to be reached, and their marketing consent per channel: kept,
//! stamped when it changes, changed channel by channel, and audited.

use crate::support::TestApp;
use serde_json::json;

#[tokio::test]
async fn preferences_and_consent_are_kept_and_changed_channel_by_channel() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let created = app
        .create_contact(
            token,
            json!({
                "name": "Zhou",
                "preferences": {"channel": "wechat", "language": "zh-CN",
                    "contact_times": [{"days": ["mon", "fri"], "from": "09:00", "to": "12:00"}]},
                "consent": {"email": {"status": "granted", "source": "web form"}},
            }),
        )
        .await;
    assert_eq!(created["preferences"]["channel"], "wechat");
    assert_eq!(created["preferences"]["contact_times"][0]["to"], "12:00");
    assert_eq!(created["consent"]["email"]["status"], "granted");
    let granted_at = created["consent"]["email"]["updated_at"].clone();
    assert!(granted_at.is_string());

    let path = format!("/v1/contacts/{}", created["id"].as_str().unwrap());
    let patched = app
        .patch(
            &path,
            token,
            json!({"consent": {"sms": {"status": "denied", "source": "reply STOP"}}}),
        )
        .await;
    let patched = patched.ok(200).clone();
    assert_eq!(
        patched["consent"]["email"]["updated_at"], granted_at,
        "untouched"
    );
    assert_eq!(patched["consent"]["sms"]["status"], "denied");
    let forgotten = app
        .patch(&path, token, json!({"consent": {"email": null}}))
        .await;
    let forgotten = forgotten.ok(200);
    assert!(forgotten["consent"].get("email").is_none());
    assert_eq!(forgotten["consent"]["sms"]["status"], "denied");

    let log = app
        .get("/v1/audit?resource=contacts&action=contact.updated", token)
        .await;
    let last = log.ok(200)["data"][0].clone();
    assert!(
        last["changes"]["consent"]["before"]["email"].is_object(),
        "{last}"
    );

    let bad = app
        .patch(
            &path,
            token,
            json!({"preferences": {"language": "chinese",
                "contact_times": [{"days": [], "from": "18:00", "to": "09:00"}]}}),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        [
            "preferences.language",
            "preferences.contact_times[0].days",
            "preferences.contact_times[0].to",
        ]
    );
    let fax = app
        .patch(
            &path,
            token,
            json!({"consent": {"fax": {"status": "granted"}}}),
        )
        .await;
    assert_eq!(fax.status, 422, "{}", fax.body);
}
