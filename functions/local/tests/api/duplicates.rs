//! Cleaning the customer base: the duplicate report (same email or phone, or a very
//! similar name in the same company) and merging two contacts into one.

use crate::support::TestApp;
use serde_json::{Value, json};

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_owned()
}

/// `(contact, [(match, reasons)])` of every group of every page.
async fn report(app: &TestApp, token: &str, limit: u32) -> Vec<(String, Vec<(String, Value)>)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/contacts/duplicates?limit={limit}&cursor={c}"),
            None => format!("/v1/contacts/duplicates?limit={limit}"),
        };
        let page = app.get(&path, token).await.ok(200).clone();
        for group in page["data"].as_array().unwrap() {
            let matches = group["matches"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (id(&m["contact"]), m["reasons"].clone()))
                .collect();
            out.push((id(&group["contact"]), matches));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

#[tokio::test]
async fn the_report_pairs_same_emails_phones_and_similar_names_in_a_company_once() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let t = &acme.access_token;
    let ada = id(&app
        .create_contact(
            t,
            json!({"name": "Ada Lovelace", "company_name": "Analytical Engines",
                   "emails": [{"address": "ada@engines.io"}], "phones": [{"number": "13800138000"}]}),
        )
        .await);
    let by_email = id(&app
        .create_contact(
            t,
            json!({"name": "A. L.", "emails": [{"address": "ADA@engines.io"}]}),
        )
        .await);
    let by_phone = id(&app
        .create_contact(
            t,
            json!({"name": "Countess", "phones": [{"number": "+86 138 0013 8000"}]}),
        )
        .await);
    let by_name = id(&app
        .create_contact(
            t,
            json!({"name": "Lovelace Ada", "company_name": "analytical engines"}),
        )
        .await);
    // The same name elsewhere is someone else; so is anyone in another company.
    app.create_contact(
        t,
        json!({"name": "Ada Lovelace", "company_name": "Other Ltd"}),
    )
    .await;
    app.create_contact(t, json!({"name": "Grace Hopper"})).await;
    app.create_contact(
        &globex.access_token,
        json!({"name": "Ada Lovelace", "emails": [{"address": "ada@engines.io"}]}),
    )
    .await;

    for limit in [50, 2] {
        let groups = report(&app, t, limit).await;
        assert_eq!(groups.len(), 1, "limit {limit}: {groups:?}");
        let (contact, matches) = &groups[0];
        assert_eq!(contact, &ada);
        assert_eq!(
            matches,
            &vec![
                (by_email.clone(), json!(["email"])),
                (by_phone.clone(), json!(["phone"])),
                (by_name.clone(), json!(["name"])),
            ]
        );
    }

    // A sales user's report covers their own contacts only.
    let sales = app.add_user(t, &["sales"]).await;
    assert!(report(&app, &sales.access_token, 50).await.is_empty());
}

#[tokio::test]
async fn a_merge_keeps_chosen_values_moves_the_timeline_and_deletes_the_other() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    app.post(
        "/v1/settings/fields",
        Some(t),
        json!({"object": "contacts", "key": "wechat", "label": "WeChat", "type": "text", "unique": true}),
    )
    .await
    .ok(201);
    let keep = app
        .create_contact(
            t,
            json!({"name": "Ada", "emails": [{"address": "ada@engines.io"}], "tags": ["vip"]}),
        )
        .await;
    let other = app
        .create_contact(
            t,
            json!({"name": "Ada Lovelace", "title": "Countess", "emails": [{"address": "ada@poetry.uk"}],
                   "phones": [{"number": "13800138000"}], "tags": ["VIP", "poet"],
                   "custom": {"wechat": "ada1815"}}),
        )
        .await;
    let (keep, other) = (id(&keep), id(&other));
    app.post(
        &format!("/v1/contacts/{other}/activities"),
        Some(t),
        json!({"kind": "call", "subject": "First call", "duration_minutes": 5}),
    )
    .await
    .ok(201);
    let deal = app
        .post(
            "/v1/deals",
            Some(t),
            json!({"title": "Engine order", "contact_id": other}),
        )
        .await;
    let deal = id(deal.ok(201));
    let order = app
        .post(
            "/v1/orders",
            Some(t),
            json!({"contact_id": other, "currency": "CNY", "status": "paid",
                   "lines": [{"description": "Engine", "quantity": 1, "unit_price_minor": 500_000}]}),
        )
        .await;
    let order = id(order.ok(201));
    let task = app
        .post(
            "/v1/tasks",
            Some(t),
            json!({"title": "Send the drawings", "contact_id": other}),
        )
        .await;
    let task = id(task.ok(201));

    let merged = app
        .post(
            &format!("/v1/contacts/{keep}/merge"),
            Some(t),
            json!({"other_id": other, "take": ["name"]}),
        )
        .await;
    let m = merged.ok(200);
    assert_eq!(m["id"], keep.as_str());
    assert_eq!(m["name"], "Ada Lovelace");
    assert_eq!(m["title"], "Countess");
    assert_eq!(m["tags"], json!(["vip", "poet"]));
    assert_eq!(m["custom"]["wechat"], "ada1815");
    let emails: Vec<&str> = m["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["address"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["ada@engines.io", "ada@poetry.uk"]);
    assert_eq!(m["version"], 2);

    app.get(&format!("/v1/contacts/{other}"), t)
        .await
        .problem(404, "not-found");
    let timeline = app.get(&format!("/v1/contacts/{keep}/timeline"), t).await;
    let subjects: Vec<&str> = timeline.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "call")
        .filter_map(|e| e["subject"].as_str())
        .collect();
    assert_eq!(subjects, ["First call"], "the other's activity moved over");
    // So did its deal.
    let read = app.get(&format!("/v1/deals/{deal}"), t).await;
    assert_eq!(read.ok(200)["contact_id"], keep.as_str());
    let of_keep = app.get(&format!("/v1/deals?contact_id={keep}"), t).await;
    assert_eq!(of_keep.ok(200)["data"][0]["id"], deal.as_str());
    let of_other = app.get(&format!("/v1/deals?contact_id={other}"), t).await;
    assert!(of_other.ok(200)["data"].as_array().unwrap().is_empty());
    // And its order, with its purchase history.
    let read = app.get(&format!("/v1/orders/{order}"), t).await;
    assert_eq!(read.ok(200)["contact_id"], keep.as_str());
    let history = app.get(&format!("/v1/contacts/{keep}/purchases"), t).await;
    assert_eq!(history.ok(200)["order_count"], 1);
    assert_eq!(history.body["lifetime_value"][0]["amount_minor"], 500_000);
    // And its task.
    let read = app.get(&format!("/v1/tasks/{task}"), t).await;
    assert_eq!(read.ok(200)["contact_id"], keep.as_str());
    let of_keep = app.get(&format!("/v1/tasks?contact_id={keep}"), t).await;
    assert_eq!(of_keep.ok(200)["data"][0]["id"], task.as_str());
    let found = app.get("/v1/contacts?email=ada@poetry.uk", t).await;
    assert_eq!(found.ok(200)["data"][0]["id"], keep.as_str());
    let found = app.get("/v1/contacts?q=poetry", t).await;
    assert_eq!(found.ok(200)["data"].as_array().unwrap().len(), 1);
    // The unique value moved with it: still taken.
    let dup = app
        .post(
            "/v1/contacts",
            Some(t),
            json!({"name": "X", "custom": {"wechat": "ada1815"}}),
        )
        .await;
    assert_eq!(dup.invalid_fields(), ["custom.wechat"]);

    let audit = app.get("/v1/audit?limit=10", t).await;
    let actions: Vec<&str> = audit.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(&actions[..2], ["contact.deleted", "contact.merged"]);
    assert_eq!(
        audit.ok(200)["data"][0]["changes"]["merged_into"]["after"],
        keep.as_str()
    );
}

#[tokio::test]
async fn a_merge_refuses_what_it_cannot_do() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let t = &acme.access_token;
    let a = id(&app.create_contact(t, json!({"name": "A"})).await);
    let b = id(&app.create_contact(t, json!({"name": "B"})).await);
    let foreign = id(&app
        .create_contact(&globex.access_token, json!({"name": "F"}))
        .await);
    let merge = |target: String, body: Value| {
        let app = &app;
        async move {
            app.post(&format!("/v1/contacts/{target}/merge"), Some(t), body)
                .await
        }
    };
    let reply = merge(a.clone(), json!({"other_id": a})).await;
    assert_eq!(reply.invalid_fields(), ["other_id"]);
    let reply = merge(a.clone(), json!({"other_id": foreign})).await;
    assert_eq!(reply.invalid_fields(), ["other_id"]);
    let reply = merge(
        a.clone(),
        json!({"other_id": b, "take": ["colour", "custom"]}),
    )
    .await;
    assert_eq!(reply.invalid_fields(), ["take[0]", "take[1]"]);
    merge(foreign.clone(), json!({"other_id": a}))
        .await
        .problem(404, "not-found");
    // Too many emails together: the caller chooses with `take`.
    let many = |prefix: &str| {
        (0..6)
            .map(|i| json!({"address": format!("{prefix}{i}@x.io")}))
            .collect::<Vec<_>>()
    };
    let c = id(&app
        .create_contact(t, json!({"name": "C", "emails": many("c")}))
        .await);
    let d = id(&app
        .create_contact(t, json!({"name": "D", "emails": many("d")}))
        .await);
    let reply = merge(c.clone(), json!({"other_id": d})).await;
    assert_eq!(reply.invalid_fields(), ["emails"]);
    merge(c, json!({"other_id": d, "take": ["emails"]}))
        .await
        .ok(200);
    // Merging needs delete on the other contact.
    let role = app
        .create_role(
            t,
            "Editor",
            json!({"contacts": {"actions": ["read", "update"], "scope": "all"}}),
        )
        .await;
    let editor = app.add_user(t, &[&role]).await;
    app.post(
        &format!("/v1/contacts/{a}/merge"),
        Some(&editor.access_token),
        json!({"other_id": b}),
    )
    .await
    .problem(403, "forbidden");
}

/// How many of each record [`contact_with_records`] makes: enough that a merge takes a
/// while, so two at once overlap.
const EACH: usize = 3;

/// A contact with [`EACH`] of everything a merge moves: notes, deals, tasks and orders.
async fn contact_with_records(app: &TestApp, t: &str, name: &str) -> String {
    let contact = id(&app.create_contact(t, json!({ "name": name })).await);
    for i in 0..EACH {
        app.post(
            &format!("/v1/contacts/{contact}/activities"),
            Some(t),
            json!({"kind": "note", "subject": format!("Note {i} on {name}")}),
        )
        .await
        .ok(201);
        for (path, body) in [
            (
                "/v1/deals",
                json!({"title": format!("Deal of {name}"), "contact_id": contact}),
            ),
            (
                "/v1/tasks",
                json!({"title": format!("Task of {name}"), "contact_id": contact}),
            ),
            (
                "/v1/orders",
                json!({"contact_id": contact, "currency": "CNY", "status": "paid",
                       "lines": [{"description": name, "quantity": 1, "unit_price_minor": 100}]}),
            ),
        ] {
            app.post(path, Some(t), body).await.ok(201);
        }
    }
    contact
}

/// Asserts that `keep` holds the notes, deals, tasks and orders of all `names`, and that
/// nothing names `gone` (deleted).
async fn holds_everything(app: &TestApp, t: &str, keep: &str, gone: &str, names: &[&str]) {
    app.get(&format!("/v1/contacts/{gone}"), t)
        .await
        .problem(404, "not-found");
    let timeline = app
        .get(&format!("/v1/contacts/{keep}/timeline?limit=200"), t)
        .await;
    let mut notes: Vec<String> = timeline.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "note")
        .map(|e| e["subject"].as_str().unwrap().to_owned())
        .collect();
    notes.sort();
    let mut want: Vec<String> = names
        .iter()
        .flat_map(|n| (0..EACH).map(move |i| format!("Note {i} on {n}")))
        .collect();
    want.sort();
    assert_eq!(notes, want, "every note is on the survivor");
    for (list, field) in [
        ("deals", "contact_id"),
        ("tasks", "contact_id"),
        ("orders", "contact_id"),
    ] {
        let of_keep = app.get(&format!("/v1/{list}?{field}={keep}"), t).await;
        let records = of_keep.ok(200)["data"].as_array().unwrap().clone();
        assert_eq!(
            records.len(),
            names.len() * EACH,
            "{list} of the survivor: {records:?}"
        );
        for record in &records {
            let read = app.get(&format!("/v1/{list}/{}", id(record)), t).await;
            assert_eq!(read.ok(200)[field], keep, "{list} name the survivor");
        }
        let of_gone = app.get(&format!("/v1/{list}?{field}={gone}"), t).await;
        assert!(
            of_gone.ok(200)["data"].as_array().unwrap().is_empty(),
            "{list} of the deleted one"
        );
    }
    let history = app.get(&format!("/v1/contacts/{keep}/purchases"), t).await;
    assert_eq!(history.ok(200)["order_count"], names.len() * EACH);
}

#[tokio::test]
async fn opposite_merges_at_the_same_moment_serialise_and_lose_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    for round in 0..4 {
        let (x_name, y_name) = (format!("X{round}"), format!("Y{round}"));
        let x = contact_with_records(&app, t, &x_name).await;
        let y = contact_with_records(&app, t, &y_name).await;
        let barrier = tokio::sync::Barrier::new(2);
        let merge = |keep: String, other: String| {
            let (app, barrier) = (&app, &barrier);
            async move {
                barrier.wait().await;
                app.post(
                    &format!("/v1/contacts/{keep}/merge"),
                    Some(t),
                    json!({ "other_id": other }),
                )
                .await
            }
        };
        let (into_x, into_y) =
            tokio::join!(merge(x.clone(), y.clone()), merge(y.clone(), x.clone()));
        // One merge wins; the other is refused cleanly: held (409), or its contacts are
        // gone by the time it starts (404 for its survivor, 422 for the other).
        let (keep, gone, loser) = match (into_x.status.as_u16(), into_y.status.as_u16()) {
            (200, _) => (x, y, into_y),
            (_, 200) => (y, x, into_x),
            other => panic!(
                "round {round}: no merge won: {other:?} {} {}",
                into_x.body, into_y.body
            ),
        };
        let status = loser.status.as_u16();
        assert!(
            [404, 409, 422].contains(&status),
            "round {round}: the loser failed cleanly: {status} {}",
            loser.body
        );
        if status == 409 {
            loser.problem(409, "merge-in-progress");
        }
        holds_everything(&app, t, &keep, &gone, &[&x_name, &y_name]).await;
        // The survivor is free again.
        app.delete(&format!("/v1/contacts/{keep}"), t).await.ok(204);
    }
}

/// Writes the markers a merge of `other` into `keep` holds, as a crash would leave them.
async fn leave_markers(app: &TestApp, tenant: &str, keep: &str, other: &str) {
    use shared::contacts::merge::{MergeMarker, marker_key};
    let tenant = shared::ids::TenantId::parse(tenant).unwrap();
    for contact in [keep, other] {
        let marker = MergeMarker {
            survivor_id: keep.to_owned(),
            other_id: other.to_owned(),
            started_at: "2026-01-01T00:00:00Z".into(),
            version: 1,
        };
        let item = shared::table::to_item(&marker_key(&tenant, contact), &marker).unwrap();
        app.state
            .table
            .put(item, shared::table::Condition::None)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_merge_cut_short_holds_its_contacts_until_repeating_it_finishes_it() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let keep = contact_with_records(&app, t, "Keep").await;
    let other = contact_with_records(&app, t, "Other").await;
    let third = id(&app.create_contact(t, json!({"name": "Third"})).await);
    // Crashed after taking both contacts and moving the deal.
    leave_markers(&app, &acme.tenant_id, &keep, &other).await;
    let deals = app.get(&format!("/v1/deals?contact_id={other}"), t).await;
    let deal = id(&deals.ok(200)["data"][0]);
    app.patch(&format!("/v1/deals/{deal}"), t, json!({"contact_id": keep}))
        .await
        .ok(200);

    // Nothing else may touch either contact meanwhile.
    for (target, with) in [
        (&other, &keep),
        (&third, &keep),
        (&keep, &third),
        (&third, &other),
    ] {
        app.post(
            &format!("/v1/contacts/{target}/merge"),
            Some(t),
            json!({ "other_id": with }),
        )
        .await
        .problem(409, "merge-in-progress");
    }
    for held in [&keep, &other] {
        app.delete(&format!("/v1/contacts/{held}"), t)
            .await
            .problem(409, "merge-in-progress");
    }
    // The same merge again finishes it.
    app.post(
        &format!("/v1/contacts/{keep}/merge"),
        Some(t),
        json!({ "other_id": other }),
    )
    .await
    .ok(200);
    holds_everything(&app, t, &keep, &other, &["Keep", "Other"]).await;
    app.post(
        &format!("/v1/contacts/{keep}/merge"),
        Some(t),
        json!({ "other_id": third }),
    )
    .await
    .ok(200);
}

#[tokio::test]
async fn a_merge_cut_short_after_deleting_the_other_moves_what_still_names_it() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let keep = contact_with_records(&app, t, "Keep").await;
    let other = contact_with_records(&app, t, "Other").await;
    // Crashed after deleting the other, before its late records moved and the markers went.
    leave_markers(&app, &acme.tenant_id, &keep, &other).await;
    let tenant = shared::ids::TenantId::parse(&acme.tenant_id).unwrap();
    app.state
        .table
        .delete(
            &shared::contacts::key(&tenant, &other),
            shared::table::Condition::None,
        )
        .await
        .unwrap();
    app.post(
        &format!("/v1/contacts/{keep}/merge"),
        Some(t),
        json!({ "other_id": other }),
    )
    .await
    .ok(200);
    holds_everything(&app, t, &keep, &other, &["Keep", "Other"]).await;
    app.delete(&format!("/v1/contacts/{keep}"), t).await.ok(204);
}

#[tokio::test]
async fn a_merge_takes_no_company_the_caller_cannot_see() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let hidden = app
        .post("/v1/companies", Some(admin), json!({"name": "Hidden Ltd"}))
        .await;
    let hidden = id(hidden.ok(201));
    let role = app
        .create_role(
            admin,
            "Cleaner",
            json!({"contacts": {"actions": ["read", "create", "update", "delete"], "scope": "all"},
                   "companies": {"actions": ["read"], "scope": "own"}}),
        )
        .await;
    let cleaner = app.add_user(admin, &[&role]).await;
    let other = id(&app
        .create_contact(admin, json!({"name": "Ada", "company_id": hidden}))
        .await);
    let keep = id(&app
        .create_contact(&cleaner.access_token, json!({"name": "Ada L."}))
        .await);
    let reply = app
        .post(
            &format!("/v1/contacts/{keep}/merge"),
            Some(&cleaner.access_token),
            json!({ "other_id": other }),
        )
        .await;
    assert_eq!(reply.invalid_fields(), ["company_id"]);
    // Refused before anything was taken: both contacts are free.
    app.delete(&format!("/v1/contacts/{other}"), admin)
        .await
        .ok(204);
}

#[tokio::test]
async fn records_linked_to_a_contact_while_it_is_merged_away_follow_it() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    for round in 0..2 {
        let keep = id(&app
            .create_contact(t, json!({"name": format!("Keep {round}")}))
            .await);
        let other = contact_with_records(&app, t, &format!("Other {round}")).await;
        let merge = async {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            app.post(
                &format!("/v1/contacts/{keep}/merge"),
                Some(t),
                json!({ "other_id": other }),
            )
            .await
        };
        let link = async {
            let mut made = Vec::new();
            for i in 0..8 {
                let (path, body) = if i % 2 == 0 {
                    (
                        "/v1/deals",
                        json!({"title": format!("Late deal {i}"), "contact_id": other}),
                    )
                } else {
                    (
                        "/v1/tasks",
                        json!({"title": format!("Late task {i}"), "contact_id": other}),
                    )
                };
                let reply = app.post(path, Some(t), body).await;
                match reply.status.as_u16() {
                    201 => made.push(format!("{path}/{}", id(&reply.body))),
                    // The contact was gone (422) or changing (409): refused, nothing made.
                    409 | 422 => {}
                    other => panic!("{path}: {other} {}", reply.body),
                }
            }
            made
        };
        let (merged, made) = tokio::join!(merge, link);
        merged.ok(200);
        for path in made {
            let read = app.get(&path, t).await;
            assert_eq!(read.ok(200)["contact_id"], keep, "round {round}: {path}");
        }
    }
}
