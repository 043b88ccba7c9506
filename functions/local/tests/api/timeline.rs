//! Timelines: activities logged on contacts and companies, merged with the record's own
//! changes, newest first by when they happened, paged, and within the caller's scope.

use crate::support::TestApp;
use serde_json::{Value, json};

fn kinds(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let kind = e["kind"].as_str().unwrap();
            match e["action"].as_str() {
                Some(action) => format!("{kind}:{action}"),
                None => kind.to_owned(),
            }
        })
        .collect()
}

#[tokio::test]
async fn a_contacts_timeline_merges_activities_and_changes_newest_first() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let contact = app.create_contact(token, json!({"name": "Liu"})).await;
    let path = format!("/v1/contacts/{}", contact["id"].as_str().unwrap());
    let call = app
        .post(
            &format!("{path}/activities"),
            Some(token),
            json!({"kind": "call", "subject": "Intro call", "duration_minutes": 15,
                   "outcome": "connected"}),
        )
        .await;
    let call = call.ok(201).clone();
    assert_eq!(call["author"], json!({"type": "user", "id": acme.user_id}));
    app.patch(&path, token, json!({"title": "Buyer"}))
        .await
        .ok(200);
    // A meeting logged now that happened last week sorts by when it happened.
    let last_week = time::OffsetDateTime::now_utc() - time::Duration::days(7);
    let last_week = last_week
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    app.post(
        &format!("{path}/activities"),
        Some(token),
        json!({"kind": "meeting", "subject": "Trade fair", "occurred_at": last_week}),
    )
    .await
    .ok(201);

    let timeline = app.get(&format!("{path}/timeline"), token).await;
    let timeline = timeline.ok(200).clone();
    assert_eq!(
        kinds(&timeline),
        [
            "change:contact.updated",
            "call",
            "change:contact.created",
            "meeting"
        ]
    );
    assert_eq!(timeline["data"][0]["fields"], json!(["title"]));
    assert_eq!(timeline["data"][1]["duration_minutes"], 15);

    // Paged with cursors.
    let first = app.get(&format!("{path}/timeline?limit=3"), token).await;
    let cursor = first.ok(200)["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .get(&format!("{path}/timeline?limit=3&cursor={cursor}"), token)
        .await;
    assert_eq!(kinds(rest.ok(200)), ["meeting"]);
}

#[tokio::test]
async fn activities_are_checked_and_kept_within_scope() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let company = app
        .post(
            "/v1/companies",
            Some(&acme.access_token),
            json!({"name": "Acme Trading"}),
        )
        .await;
    let path = format!("/v1/companies/{}", company.ok(201)["id"].as_str().unwrap());
    let bad = app
        .post(
            &format!("{path}/activities"),
            Some(&acme.access_token),
            json!({"kind": "note", "duration_minutes": 5, "outcome": "busy",
                   "occurred_at": "yesterday"}),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        ["occurred_at", "duration_minutes", "outcome", "body"]
    );
    app.post(
        &format!("{path}/activities"),
        Some(&acme.access_token),
        json!({"kind": "email", "subject": "Quote sent", "body": "See attachment."}),
    )
    .await
    .ok(201);
    let timeline = app
        .get(&format!("{path}/timeline"), &acme.access_token)
        .await;
    assert_eq!(kinds(timeline.ok(200)), ["email", "change:company.created"]);

    // Another company's record, or one out of scope, is not found.
    app.get(&format!("{path}/timeline"), &globex.access_token)
        .await
        .problem(404, "not-found");
    let sales = app.add_user(&acme.access_token, &["sales"]).await;
    app.post(
        &format!("{path}/activities"),
        Some(&sales.access_token),
        json!({"kind": "note", "body": "x"}),
    )
    .await
    .problem(404, "not-found");
}

#[tokio::test]
async fn hidden_fields_stay_out_of_change_entries() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let contact = app
        .create_contact(
            &acme.access_token,
            json!({"name": "Gao", "notes": "secret"}),
        )
        .await;
    let path = format!("/v1/contacts/{}", contact["id"].as_str().unwrap());
    let support = app.add_user(&acme.access_token, &["support"]).await;
    let timeline = app
        .get(&format!("{path}/timeline"), &support.access_token)
        .await;
    let fields = timeline.ok(200)["data"][0]["fields"].clone();
    assert!(!fields.to_string().contains("notes"), "{fields}");
    assert!(fields.to_string().contains("name"), "{fields}");
}

#[tokio::test]
async fn entries_about_related_records_follow_the_readers_view_of_those_records() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let contact = app.create_contact(admin, json!({"name": "Ada"})).await;
    let contact_id = contact["id"].as_str().unwrap();
    app.post(
        "/v1/deals",
        Some(admin),
        json!({"title": "Secret merger", "contact_id": contact_id}),
    )
    .await
    .ok(201);
    app.post(
        "/v1/tickets",
        Some(admin),
        json!({"subject": "Refund request", "contact_id": contact_id}),
    )
    .await
    .ok(201);
    let timeline = format!("/v1/contacts/{contact_id}/timeline");
    // What each reader's timeline says about the deal and the ticket.
    let about = |page: &Value, resource: &str| -> Vec<Value> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resource"] == resource)
            .map(|e| e["subject"].clone())
            .collect()
    };
    let page = app.get(&timeline, admin).await;
    assert_eq!(about(page.ok(200), "deals"), [json!("Secret merger")]);
    assert_eq!(about(&page.body, "tickets").len(), 1);
    assert!(
        about(&page.body, "tickets")[0]
            .as_str()
            .unwrap()
            .ends_with("Refund request")
    );

    let contacts_only = app
        .create_role(
            admin,
            "Contacts only",
            json!({"contacts": {"actions": ["read"], "scope": "all"}}),
        )
        .await;
    let masked = app
        .create_role(
            admin,
            "Titles masked",
            json!({"contacts": {"actions": ["read"], "scope": "all"},
                   "deals": {"actions": ["read"], "scope": "all", "fields": {"title": "masked"}},
                   "tickets": {"actions": ["read"], "scope": "all",
                               "fields": {"subject": "hidden"}}}),
        )
        .await;
    let own_deals = app
        .create_role(
            admin,
            "Own deals",
            json!({"contacts": {"actions": ["read"], "scope": "all"},
                   "deals": {"actions": ["read"], "scope": "own"}}),
        )
        .await;

    let reader = app.add_user(admin, &[&contacts_only]).await;
    let page = app.get(&timeline, &reader.access_token).await;
    assert!(about(page.ok(200), "deals").is_empty(), "{:?}", page.body);
    assert!(about(&page.body, "tickets").is_empty(), "{:?}", page.body);

    let reader = app.add_user(admin, &[&masked]).await;
    let page = app.get(&timeline, &reader.access_token).await;
    assert_eq!(about(page.ok(200), "deals"), [json!("****rger")]);
    assert_eq!(about(&page.body, "tickets"), [Value::Null]);

    let reader = app.add_user(admin, &[&own_deals]).await;
    let page = app.get(&timeline, &reader.access_token).await;
    assert!(
        about(page.ok(200), "deals").is_empty(),
        "another's deal is out of scope: {:?}",
        page.body
    );
}
