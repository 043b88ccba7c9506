//! Contacts through the HTTP API: the flow, validation, versions, pagination and tenant
//! isolation.

use crate::support::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

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

/// The outcomes of a bulk call, as (status, named fields of the problem).
fn outcomes(reply: &crate::support::Reply) -> Vec<(u64, Vec<String>)> {
    reply.ok(200)["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let fields = r["problem"]["errors"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .map(|f| f["field"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (r["status"].as_u64().unwrap(), fields)
        })
        .collect()
}

fn record_id(reply: &crate::support::Reply, index: usize) -> String {
    reply.body["results"][index]["record"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_partner_upserts_contacts_and_companies_in_bulk_by_its_own_ids() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let token = &t.access_token;
    let first = app
        .post(
            "/v1/contacts/bulk",
            Some(token),
            json!({"system": "erp", "items": [
                {"external_id": "C-1", "name": "Ada", "emails": [{"address": "ada@example.com"}]},
                {"external_id": "C-2", "name": "Grace"},
                {"name": "No id"},
                {"external_id": "C-3", "name": 7},
                {"external_id": "C-4", "name": "X", "bogus": 1},
            ]}),
        )
        .await;
    assert_eq!(
        outcomes(&first),
        [
            (201, vec![]),
            (201, vec![]),
            (422, vec!["external_id".to_owned()]),
            (422, vec!["name".to_owned()]),
            (422, vec!["bogus".to_owned()]),
        ]
    );
    assert_eq!(first.body["results"][0]["external_id"], json!("C-1"));
    let (ada, grace) = (record_id(&first, 0), record_id(&first, 1));

    // Again, with changes: the same records, the fields sent set, the others kept.
    let again = app
        .post(
            "/v1/contacts/bulk",
            Some(token),
            json!({"system": "erp", "items": [
                {"external_id": "C-1", "title": "Countess"},
                {"external_id": "C-2", "name": "Grace Hopper"},
            ]}),
        )
        .await;
    assert_eq!(outcomes(&again), [(200, vec![]), (200, vec![])]);
    assert_eq!(record_id(&again, 0), ada);
    let read = app.get(&format!("/v1/contacts/{ada}"), token).await;
    assert_eq!(read.ok(200)["name"], json!("Ada"));
    assert_eq!(read.body["title"], json!("Countess"));
    assert_eq!(read.body["emails"][0]["address"], json!("ada@example.com"));
    let all = app.get("/v1/contacts", token).await;
    assert_eq!(all.ok(200)["data"].as_array().unwrap().len(), 2);

    // Items of one call run at once, but one id's items run in their order: the first
    // makes the record, each next one updates it, and the last word stands.
    let mut items = vec![json!({"external_id": "C-5", "name": "Linus"})];
    for n in 1..=20 {
        items.push(json!({"external_id": "C-6", "name": format!("Ken {n}")}));
        items.push(json!({"external_id": "C-5", "title": format!("Maintainer {n}")}));
    }
    let twice = app
        .post(
            "/v1/contacts/bulk",
            Some(token),
            json!({"system": "erp", "items": items}),
        )
        .await;
    let statuses: Vec<u64> = outcomes(&twice).into_iter().map(|(s, _)| s).collect();
    let mut expected = vec![201, 201, 200];
    expected.extend([200; 38]);
    assert_eq!(statuses, expected);
    let (linus, ken) = (record_id(&twice, 0), record_id(&twice, 1));
    assert!((1..=20).all(|n| record_id(&twice, 2 * n) == linus));
    let read = app.get(&format!("/v1/contacts/{linus}"), token).await;
    assert_eq!(read.ok(200)["title"], json!("Maintainer 20"));
    let read = app.get(&format!("/v1/contacts/{ken}"), token).await;
    assert_eq!(read.ok(200)["name"], json!("Ken 20"));
    for id in [linus, ken] {
        app.delete(&format!("/v1/contacts/{id}"), token)
            .await
            .ok(204);
    }

    // Another system's id space is its own.
    let shop = app
        .post(
            "/v1/contacts/bulk",
            Some(token),
            json!({"system": "shop", "items": [{"external_id": "C-1", "name": "Ada (shop)"}]}),
        )
        .await;
    assert_eq!(outcomes(&shop), [(201, vec![])]);
    assert_ne!(record_id(&shop, 0), ada);

    // A deleted record is made again.
    app.delete(&format!("/v1/contacts/{grace}"), token)
        .await
        .ok(204);
    let remade = app
        .post(
            "/v1/contacts/bulk",
            Some(token),
            json!({"system": "erp", "items": [{"external_id": "C-2", "name": "Grace"}]}),
        )
        .await;
    assert_eq!(outcomes(&remade), [(201, vec![])]);
    assert_ne!(record_id(&remade, 0), grace);

    // Five calls racing on an id whose record was deleted make one new record too.
    let remade_id = record_id(&remade, 0);
    app.delete(&format!("/v1/contacts/{remade_id}"), token)
        .await
        .ok(204);
    let results = race_bulk(
        &app,
        token,
        json!({"system": "erp", "items": [{"external_id": "C-2", "name": "Grace"}]}),
    )
    .await;
    one_made(&results);

    // Five partners' calls racing on one new id make one contact.
    let results = race_bulk(
        &app,
        token,
        json!({"system": "erp", "items": [{"external_id": "RACE", "name": "Racer"}]}),
    )
    .await;
    one_made(&results);

    // A seller (own records only) naming the admin's record by its id gets 404 for that
    // item, and no copy is made.
    let seller = app.add_user(token, &["sales"]).await;
    let theirs = app
        .post(
            "/v1/contacts/bulk",
            Some(&seller.access_token),
            json!({"system": "erp", "items": [{"external_id": "C-1", "title": "Mine now"}]}),
        )
        .await;
    assert_eq!(outcomes(&theirs), [(404, vec![])]);
    let all = app.get("/v1/contacts?limit=100", token).await;
    let adas = all.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == json!("Ada"))
        .count();
    assert_eq!(adas, 1);

    // Companies alike.
    let companies = app
        .post(
            "/v1/companies/bulk",
            Some(token),
            json!({"system": "erp", "items": [{"external_id": "K-1", "name": "Engines"}]}),
        )
        .await;
    assert_eq!(outcomes(&companies), [(201, vec![])]);
    let engines = record_id(&companies, 0);
    let renamed = app
        .post(
            "/v1/companies/bulk",
            Some(token),
            json!({"system": "erp", "items": [{"external_id": "K-1", "name": "Analytical Engines"}]}),
        )
        .await;
    assert_eq!(outcomes(&renamed), [(200, vec![])]);
    assert_eq!(record_id(&renamed, 0), engines);
    assert_eq!(
        renamed.body["results"][0]["record"]["name"],
        json!("Analytical Engines")
    );

    // The call's bounds.
    let items: Vec<_> = (0..101)
        .map(|i| json!({"external_id": format!("B{i}"), "name": "B"}))
        .collect();
    for (body, field) in [
        (json!({"system": "erp", "items": []}), "items"),
        (json!({"system": "erp", "items": items}), "items"),
        (
            json!({"system": "ERP!", "items": [{"external_id": "x", "name": "y"}]}),
            "system",
        ),
    ] {
        let refused = app.post("/v1/contacts/bulk", Some(token), body).await;
        assert_eq!(refused.invalid_fields(), [field]);
    }

    // Another company's same ids are its own records.
    let other = app.sign_up("Other").await;
    let theirs = app
        .post(
            "/v1/contacts/bulk",
            Some(&other.access_token),
            json!({"system": "erp", "items": [{"external_id": "C-1", "name": "Their Ada"}]}),
        )
        .await;
    assert_eq!(outcomes(&theirs), [(201, vec![])]);
    assert_ne!(record_id(&theirs, 0), ada);
    app.get(&format!("/v1/contacts/{ada}"), &other.access_token)
        .await
        .problem(404, "not-found");
}

/// The first item's outcome of five identical bulk calls sent at once.
async fn race_bulk(app: &TestApp, token: &str, body: Value) -> Vec<Value> {
    let racing: Vec<_> = (0..5)
        .map(|_| {
            let request = app
                .client
                .post(app.url("/v1/contacts/bulk"))
                .bearer_auth(token)
                .json(&body);
            tokio::spawn(async move {
                let body: Value = request.send().await.unwrap().json().await.unwrap();
                body["results"][0].clone()
            })
        })
        .collect();
    let mut results = Vec::new();
    for r in racing {
        results.push(r.await.unwrap());
    }
    results
}

/// Racing upserts of one id: one made the record, and every answer names that record.
fn one_made(results: &[Value]) {
    let made = results.iter().filter(|r| r["status"] == json!(201)).count();
    let ids: std::collections::BTreeSet<_> = results
        .iter()
        .map(|r| r["record"]["id"].to_string())
        .collect();
    assert_eq!((made, ids.len()), (1, 1), "{results:#?}");
}

/// Real numbers of several countries, as people type them, and their E.164 form; the
/// last is newer than the phone-number metadata the server carries (kept, unverified).
const REAL_NUMBERS: &[(&str, &str, bool)] = &[
    ("+1 212 200 1017", "+12122001017", false),
    ("+1 (650) 253-0000", "+16502530000", false),
    ("138 0013 8000", "+8613800138000", false),
    ("+86 199 1234 5678", "+8619912345678", false),
    ("010 6552 9988", "+861065529988", false),
    ("+86 755 8888 8888", "+8675588888888", false),
    ("+44 20 7219 3000", "+442072193000", false),
    ("+49 30 901820", "+4930901820", false),
    ("+49 151 23456789", "+4915123456789", false),
    ("+81 3 3581 0101", "+81335810101", false),
    ("+81 90 1234 5678", "+819012345678", false),
    ("+65 6225 5555", "+6562255555", false),
    ("+65 9123 4567", "+6591234567", false),
    ("+852 2823 1234", "+85228231234", false),
    ("+852 9123 4567", "+85291234567", false),
    ("+44 7700 900123", "+447700900123", true),
];

/// The `(number, unverified)` pairs of a contact's phones.
fn phones(contact: &Value) -> Vec<(String, bool)> {
    contact["phones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let unverified = p
                .get("unverified")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            (p["number"].as_str().unwrap().to_owned(), unverified)
        })
        .collect()
}

#[tokio::test]
async fn real_numbers_of_every_country_are_kept_in_e164_on_create_and_update() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let token = &t.access_token;
    for (typed, e164, unverified) in REAL_NUMBERS {
        let created = app
            .post(
                "/v1/contacts",
                Some(token),
                json!({"name": "Caller", "phones": [{"number": typed, "unverified": false}]}),
            )
            .await;
        let contact = created.ok(201).clone();
        assert_eq!(
            phones(&contact),
            [(e164.to_string(), *unverified)],
            "{typed}"
        );
        let path = format!("/v1/contacts/{}", id(&contact));
        let patched = app
            .patch(
                &path,
                token,
                json!({"phones": [{"number": "+86 138 0013 8000"}, {"number": typed}]}),
            )
            .await;
        assert_eq!(
            phones(patched.ok(200)),
            [
                ("+8613800138000".into(), false),
                (e164.to_string(), *unverified)
            ],
            "{typed}"
        );
    }
}

#[tokio::test]
async fn a_refused_phone_number_is_told_what_is_wrong_with_it() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let token = &t.access_token;
    for (typed, says, never) in [
        ("+1 212 200 10", "+1", "start with +"),
        ("+86 10 1", "too short", "start with +"),
        ("+999 1234 5678", "country calling code", "start with +"),
        ("1234 5", "start with +", "+1"),
    ] {
        let reply = app
            .post(
                "/v1/contacts",
                Some(token),
                json!({"name": "Caller", "phones": [{"number": typed}]}),
            )
            .await;
        assert_eq!(reply.invalid_fields(), ["phones[0].number"], "{typed}");
        let message = reply.body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(says) && !message.contains(never),
            "{typed}: {message}"
        );
    }
}

#[tokio::test]
async fn a_contact_links_only_to_a_company_the_caller_can_see() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let admin = &acme.access_token;
    let company = |token: &str, name: &str| {
        let app = &app;
        let (token, name) = (token.to_owned(), name.to_owned());
        async move {
            let created = app
                .post("/v1/companies", Some(&token), json!({ "name": name }))
                .await;
            id(created.ok(201))
        }
    };
    let admins = company(admin, "Admin's company").await;
    let foreign = company(&globex.access_token, "Foreign company").await;
    let missing = "com_00000000000000000000000000".to_owned();
    // A seller sees their own companies only.
    let sales = app.add_user(admin, &["sales"]).await;
    let s = &sales.access_token;
    let theirs = company(s, "Seller's company").await;
    // A role that reads no companies at all.
    let role = app
        .create_role(
            admin,
            "Contacts only",
            json!({"contacts": {"actions": ["read", "create", "update"], "scope": "all"}}),
        )
        .await;
    let blind = app.add_user(admin, &[&role]).await;
    let b = &blind.access_token;

    let own = id(&app.create_contact(s, json!({"name": "Mine"})).await);
    for (token, company) in [(s, &admins), (s, &foreign), (s, &missing), (b, &theirs)] {
        let created = app
            .post(
                "/v1/contacts",
                Some(token),
                json!({"name": "Ada", "company_id": company}),
            )
            .await;
        assert_eq!(created.invalid_fields(), ["company_id"], "{company}");
        let bulk = app
            .post(
                "/v1/contacts/bulk",
                Some(token),
                json!({"system": "erp", "items": [
                    {"external_id": format!("X-{company}"), "name": "Ada", "company_id": company}
                ]}),
            )
            .await;
        assert_eq!(outcomes(&bulk), [(422, vec!["company_id".to_owned()])]);
    }
    for company in [&admins, &foreign, &missing] {
        let patched = app
            .patch(
                &format!("/v1/contacts/{own}"),
                s,
                json!({ "company_id": company }),
            )
            .await;
        assert_eq!(patched.invalid_fields(), ["company_id"], "{company}");
        // The same answer, word for word, as for a company that does not exist.
        assert_eq!(
            patched.body["errors"][0]["message"],
            "is not a company you can see"
        );
    }
    let linked = app
        .patch(
            &format!("/v1/contacts/{own}"),
            s,
            json!({ "company_id": theirs }),
        )
        .await;
    assert_eq!(linked.ok(200)["company_id"], theirs.as_str());
    app.post(
        "/v1/contacts",
        Some(admin),
        json!({"name": "Grace", "company_id": admins}),
    )
    .await
    .ok(201);
}
