//! Custom objects: a tenant defines an object (key, labels, fields with relations) and at
//! once has its records' API (CRUD, lists with filters, sort and search, versions),
//! role grants with scope and field rules, audit entries, events, timelines and its JSON
//! Schema, within limits and with clear errors.

use crate::support::TestApp;
use serde_json::{Value, json};

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_owned()
}

fn ids(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(id).collect()
}

fn project() -> Value {
    json!({
        "key": "project",
        "label": {"en": "Project", "zh-CN": "项目"},
        "plural_label": {"en": "Projects", "zh-CN": "项目"},
        "fields": [
            {"key": "budget", "label": "Budget", "type": "money"},
            {"key": "stage", "label": "Stage", "type": "single_select",
             "options": ["plan", "build", "done"], "required": true},
            {"key": "code", "label": "Code", "type": "text", "unique": true},
            {"key": "client", "label": "Client", "type": "relation", "target": "contacts"},
            {"key": "parent", "label": "Parent", "type": "relation", "target": "project"},
        ],
    })
}

#[tokio::test]
async fn a_custom_object_gets_records_lists_versions_events_and_timelines() {
    let app = TestApp::spawn_with(&[("CRM_WEBHOOKS_ALLOW_LOOPBACK", "true")]).await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let defined = app.post("/v1/objects", Some(t), project()).await;
    let object = defined.ok(201);
    assert_eq!(object["resource"], "objects/project");
    assert_eq!(object["label"]["zh-CN"], "项目");
    assert_eq!(object["fields"].as_array().unwrap().len(), 5);
    assert_eq!(defined.headers["location"], "/v1/objects/project");
    let listed = app.get("/v1/objects", t).await;
    assert_eq!(listed.ok(200)["data"][0]["key"], "project");

    // The schema partners build against.
    let schema = app.get("/v1/objects/project/schema", t).await;
    assert_eq!(schema.headers["content-type"], "application/schema+json");
    let schema = schema.ok(200);
    let custom = &schema["properties"]["custom"];
    assert_eq!(
        custom["properties"]["stage"]["enum"],
        json!(["plan", "build", "done"])
    );
    assert_eq!(custom["required"], json!(["stage"]));
    assert_eq!(custom["properties"]["client"]["x-crm-target"], "contacts");
    assert_eq!(schema["required"], json!(["name", "custom"]));

    let client = app.create_contact(t, json!({"name": "王芳"})).await;
    let created = app
        .post(
            "/v1/objects/project/records",
            Some(t),
            json!({"name": "上海仓库改造", "custom": {"stage": "plan", "code": "P-1",
                   "client": client["id"], "budget": {"amount_minor": 5000000, "currency": "CNY"}}}),
        )
        .await;
    let warehouse = created.ok(201).clone();
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(
        created.headers["location"],
        format!("/v1/objects/project/records/{}", id(&warehouse))
    );
    assert_eq!(warehouse["object"], "project");
    assert_eq!(warehouse["owner_id"], acme.user_id.as_str());
    let child = app
        .post(
            "/v1/objects/project/records",
            Some(t),
            json!({"name": "Roof", "custom": {"stage": "build", "parent": warehouse["id"]}}),
        )
        .await;
    let child = child.ok(201).clone();

    // Every value is checked against its field; relations must point at a readable record.
    let bad = app
        .post(
            "/v1/objects/project/records",
            Some(t),
            json!({"name": " ", "custom": {"stage": "someday", "client": "con_nope", "colour": 1}}),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        ["name", "custom.client", "custom.colour", "custom.stage"]
    );
    let missing = app
        .post(
            "/v1/objects/project/records",
            Some(t),
            json!({"name": "No stage"}),
        )
        .await;
    assert_eq!(missing.invalid_fields(), ["custom.stage"]);
    let globex = app.sign_up("Globex").await;
    let theirs = app
        .create_contact(&globex.access_token, json!({"name": "Theirs"}))
        .await;
    let foreign = app
        .post(
            "/v1/objects/project/records",
            Some(t),
            json!({"name": "X", "custom": {"stage": "plan", "client": theirs["id"]}}),
        )
        .await;
    assert_eq!(foreign.invalid_fields(), ["custom.client"]);
    let taken = app
        .post(
            "/v1/objects/project/records",
            Some(t),
            json!({"name": "Copy", "custom": {"stage": "plan", "code": "p-1"}}),
        )
        .await;
    assert_eq!(taken.invalid_fields(), ["custom.code"]);

    // Lists: Chinese substrings, sorts, filters, and the related list of a contact.
    let (w, c) = (id(&warehouse), id(&child));
    let client_id = client["id"].as_str().unwrap();
    for (query, want) in [
        ("q=仓库", vec![w.clone()]),
        ("q=roof", vec![c.clone()]),
        ("sort=name", vec![c.clone(), w.clone()]),
        ("sort=-created", vec![c.clone(), w.clone()]),
        ("cf[stage]=plan", vec![w.clone()]),
        (&format!("cf[client]={client_id}"), vec![w.clone()]),
        (&format!("cf[parent]={w}"), vec![c.clone()]),
        ("cf[budget]=1000000..", vec![w.clone()]),
    ] {
        let page = app
            .get(&format!("/v1/objects/project/records?{query}"), t)
            .await;
        assert_eq!(ids(page.ok(200)), want, "{query}");
    }
    let unknown = app
        .get("/v1/objects/project/records?cf[colour]=red", t)
        .await;
    assert_eq!(unknown.invalid_fields(), ["cf[colour]"]);

    // Versions: a stale If-Match is refused, nothing is lost.
    let path = format!("/v1/objects/project/records/{w}");
    let changed = app
        .call_with(
            reqwest::Method::PATCH,
            &path,
            Some(t),
            Some(json!({"custom": {"stage": "build", "code": null}})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(changed.ok(200)["version"], 2);
    assert_eq!(changed.body["custom"]["stage"], "build");
    assert!(changed.body["custom"].get("code").is_none());
    let stale = app
        .call_with(
            reqwest::Method::PATCH,
            &path,
            Some(t),
            Some(json!({"name": "Lost?"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    stale.problem(412, "version-mismatch");
    assert_eq!(app.get(&path, t).await.ok(200)["name"], "上海仓库改造");

    // Timelines: the record's own, and the related contact's.
    let timeline = app.get(&format!("{path}/timeline"), t).await;
    // Its changes, and the child that names it as parent.
    let actions: Vec<(&str, &str)> = timeline.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let about = e["record_id"].as_str().unwrap_or_default();
            (e["action"].as_str().unwrap(), about)
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("project.updated", ""),
            ("project.created", c.as_str()),
            ("project.created", "")
        ]
    );
    let theirs = app
        .get(&format!("/v1/contacts/{client_id}/timeline"), t)
        .await;
    let related = theirs.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"] == "objects/project")
        .cloned()
        .expect("the project shows on its client's timeline");
    assert_eq!(related["subject"], "上海仓库改造");
    assert_eq!(related["record_id"], w.as_str());

    // Events and audit entries, as for built-in records.
    let events = app.get("/v1/events?type=project.*", t).await;
    let kinds: Vec<&str> = events.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["project.updated", "project.created", "project.created"]
    );
    let audit = app.get("/v1/audit?resource=objects/project", t).await;
    assert_eq!(audit.ok(200)["data"].as_array().unwrap().len(), 3);
    let hook = app
        .post(
            "/v1/webhooks",
            Some(t),
            json!({"url": "http://127.0.0.1:9/hook", "event_types": ["project.created", "project.*"]}),
        )
        .await;
    hook.ok(201);
    for wrong in ["project.merged", "vehicle.created"] {
        let refused = app
            .post(
                "/v1/webhooks",
                Some(t),
                json!({"url": "http://127.0.0.1:9/hook", "event_types": [wrong]}),
            )
            .await;
        assert_eq!(refused.invalid_fields(), ["event_types[0]"], "{wrong}");
    }

    // Another company sees none of it.
    let g = &globex.access_token;
    app.get(&path, g).await.problem(404, "not-found");
    app.get("/v1/objects/project", g)
        .await
        .problem(404, "not-found");
    assert!(ids(app.get("/v1/objects", g).await.ok(200)).is_empty());

    // A definition with records stays; without them it goes, with its routes.
    app.delete("/v1/objects/project", t)
        .await
        .problem(409, "object-has-records");
    for record in [&w, &c] {
        let gone = app
            .delete(&format!("/v1/objects/project/records/{record}"), t)
            .await;
        assert_eq!(gone.status, 204, "{}", gone.body);
    }
    app.get(&path, t).await.problem(404, "not-found");
    assert_eq!(app.delete("/v1/objects/project", t).await.status, 204);
    app.get("/v1/objects/project/records", t)
        .await
        .problem(404, "not-found");
}

#[tokio::test]
async fn definitions_are_checked_and_limited() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    for (body, fields) in [
        (json!({"key": "contact", "label": {"en": "C"}}), vec!["key"]),
        (json!({"key": "Project", "label": {"en": "P"}}), vec!["key"]),
        (json!({"key": "p", "label": {"en": "P"}}), vec!["key"]),
        (json!({"key": "project", "label": {}}), vec!["label"]),
        (
            json!({"key": "project", "label": {"en": "P"},
                   "fields": [{"key": "x", "label": "X", "type": "relation"},
                              {"key": "y", "label": "Y", "type": "relation", "target": "vehicle"},
                              {"key": "z", "label": "Z", "type": "text", "target": "contacts"}]}),
            vec!["fields[0].target", "fields[1].target", "fields[2].target"],
        ),
        (
            json!({"key": "project", "label": {"en": "P"},
                   "fields": [{"key": "x", "label": "X", "type": "text"},
                              {"key": "x", "label": "X", "type": "number"}]}),
            vec!["fields[1].key"],
        ),
    ] {
        let refused = app.post("/v1/objects", Some(t), body.clone()).await;
        assert_eq!(refused.invalid_fields(), fields, "{body}");
    }
    app.post(
        "/v1/objects",
        Some(t),
        json!({"key": "project", "label": {"zh-CN": "项目"}}),
    )
    .await
    .ok(201);
    app.post(
        "/v1/objects",
        Some(t),
        json!({"key": "project", "label": {"en": "P"}}),
    )
    .await
    .problem(409, "object-key-taken");

    // 200 fields per object (removed ones included); the next is refused.
    let fields: Vec<Value> = (0..50)
        .map(|i| json!({"key": format!("f{i}"), "label": format!("F{i}"), "type": "text"}))
        .collect();
    app.post(
        "/v1/objects",
        Some(t),
        json!({"key": "vehicle", "label": {"en": "Vehicle"}, "fields": fields}),
    )
    .await
    .ok(201);
    for i in 50..200 {
        app.post(
            "/v1/settings/fields",
            Some(t),
            json!({"object": "vehicle", "key": format!("f{i}"), "label": "F", "type": "number"}),
        )
        .await
        .ok(201);
    }
    let over = app
        .post(
            "/v1/settings/fields",
            Some(t),
            json!({"object": "vehicle", "key": "f200", "label": "F", "type": "number"}),
        )
        .await;
    assert_eq!(over.invalid_fields(), ["key"]);
    let vehicle = app.get("/v1/objects/vehicle", t).await;
    assert_eq!(vehicle.ok(200)["fields"].as_array().unwrap().len(), 200);
    // A built-in object keeps its own limit of 50.
    assert!(
        over.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("200")
    );

    // 50 objects per company.
    for i in 2..50 {
        app.post(
            "/v1/objects",
            Some(t),
            json!({"key": format!("object{i}"), "label": {"en": format!("Object {i}")}}),
        )
        .await
        .ok(201);
    }
    let too_many = app
        .post(
            "/v1/objects",
            Some(t),
            json!({"key": "one_more", "label": {"en": "X"}}),
        )
        .await;
    assert_eq!(too_many.invalid_fields(), ["key"]);
    assert_eq!(
        app.get("/v1/objects", t).await.ok(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        50
    );
}

#[tokio::test]
async fn roles_grant_a_custom_object_with_scope_and_field_rules() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    app.post(
        "/v1/objects",
        Some(t),
        json!({"key": "project", "label": {"en": "Project"}, "fields": [
            {"key": "budget", "label": "Budget", "type": "number"},
            {"key": "code", "label": "Code", "type": "text"},
        ]}),
    )
    .await
    .ok(201);

    // Rules may name the object's fields, and nothing that does not exist.
    let refused = app
        .post(
            "/v1/roles",
            Some(t),
            json!({"name": "Bad", "permissions": {
                "objects/project": {"actions": ["read"], "scope": "own",
                    "fields": {"custom.nope": "hidden", "custom.budget": "masked"}},
                "objects/vehicle": {"actions": ["read"], "scope": "own"},
                "objects/*": {"actions": ["read"], "scope": "all", "fields": {"name": "hidden"}},
            }}),
        )
        .await;
    assert_eq!(
        refused.invalid_fields(),
        [
            "permissions.objects/*.fields.name",
            "permissions.objects/project.fields.custom.budget",
            "permissions.objects/project.fields.custom.nope",
            "permissions.objects/vehicle",
        ]
    );
    let role = app
        .create_role(
            t,
            "Project lead",
            json!({"objects/project": {"actions": ["read", "create", "update"], "scope": "own",
                "fields": {"custom.budget": "hidden", "custom.code": "masked"}}}),
        )
        .await;
    let lead = app.add_user(t, &[&role]).await;
    let l = &lead.access_token;

    let theirs = app
        .post(
            "/v1/objects/project/records",
            Some(t),
            json!({"name": "Admin's", "custom": {"budget": 9}}),
        )
        .await;
    let theirs = id(theirs.ok(201));
    let given = app
        .post(
            "/v1/objects/project/records",
            Some(t),
            json!({"name": "Given", "owner_id": lead.user_id,
                   "custom": {"budget": 5, "code": "SECRET-CODE-1234"}}),
        )
        .await;
    let given = id(given.ok(201));

    // Own scope: the admin's record does not exist for the lead.
    app.get(&format!("/v1/objects/project/records/{theirs}"), l)
        .await
        .problem(404, "not-found");
    let seen = app
        .get(&format!("/v1/objects/project/records/{given}"), l)
        .await;
    let seen = seen.ok(200);
    assert!(seen["custom"].get("budget").is_none(), "{seen}");
    assert_eq!(seen["custom"]["code"], "****1234");
    assert_eq!(
        ids(app.get("/v1/objects/project/records", l).await.ok(200)),
        std::slice::from_ref(&given)
    );
    // Neither a filter nor a search reads what the role hides or masks.
    app.get("/v1/objects/project/records?cf[budget]=1..10", l)
        .await
        .problem(403, "hidden-field");
    let searched = app.get("/v1/objects/project/records?q=secret", l).await;
    assert!(ids(searched.ok(200)).is_empty());
    // Nor does a write change it.
    let write = app
        .post(
            "/v1/objects/project/records",
            Some(l),
            json!({"name": "Mine", "custom": {"budget": 1}}),
        )
        .await;
    write.problem(403, "read-only-field");
    let mine = app
        .post(
            "/v1/objects/project/records",
            Some(l),
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(mine.ok(201)["owner_id"], lead.user_id.as_str());
    app.delete(&format!("/v1/objects/project/records/{given}"), l)
        .await
        .problem(403, "forbidden");

    // A role without a grant on the object gets nothing.
    let support = app.add_user(t, &["support"]).await;
    app.get("/v1/objects/project/records", &support.access_token)
        .await
        .problem(403, "forbidden");
    assert!(ids(app.get("/v1/objects", &support.access_token).await.ok(200)).is_empty());
}

#[tokio::test]
async fn a_contact_merge_moves_the_custom_records_that_relate_to_it() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    app.post("/v1/objects", Some(t), project()).await.ok(201);
    let kept = id(&app.create_contact(t, json!({"name": "Li Wei"})).await);
    let merged = id(&app.create_contact(t, json!({"name": "Wei Li"})).await);
    let record = app
        .post(
            "/v1/objects/project/records",
            Some(t),
            json!({"name": "Shop fit-out", "custom": {"stage": "plan", "client": merged}}),
        )
        .await;
    let record = id(record.ok(201));
    app.post(
        &format!("/v1/contacts/{kept}/merge"),
        Some(t),
        json!({"other_id": merged}),
    )
    .await
    .ok(200);
    let moved = app
        .get(&format!("/v1/objects/project/records/{record}"), t)
        .await;
    assert_eq!(moved.ok(200)["custom"]["client"], kept.as_str());
    assert_eq!(moved.body["version"], 2);
    for (client, want) in [(&kept, vec![record.clone()]), (&merged, vec![])] {
        let page = app
            .get(
                &format!("/v1/objects/project/records?cf[client]={client}"),
                t,
            )
            .await;
        assert_eq!(ids(page.ok(200)), want);
    }
}

#[tokio::test]
async fn records_of_a_custom_object_export_as_their_reader_sees_them() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    app.post("/v1/objects", Some(t), project()).await.ok(201);
    for (name, stage) in [("North", "plan"), ("South", "done")] {
        app.post(
            "/v1/objects/project/records",
            Some(t),
            json!({"name": name, "custom": {"stage": stage, "code": format!("C-{name}")}}),
        )
        .await
        .ok(201);
    }
    let started = app
        .post(
            "/v1/exports",
            Some(t),
            json!({"object": "project", "format": "json", "filters": {"cf": {"stage": "plan"}}}),
        )
        .await;
    let export = started.ok(202)["id"].as_str().unwrap().to_owned();
    let done = app.wait_for_job(&format!("/v1/exports/{export}"), t).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["object"], "project");
    let file = app
        .client
        .get(done["download_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let records: Vec<Value> = serde_json::from_slice(&file.bytes().await.unwrap()).unwrap();
    let names: Vec<&str> = records
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["North"]);
    assert_eq!(records[0]["custom"]["code"], "C-North");
    // Only objects the company has, and only for those who may export them.
    let unknown = app
        .post(
            "/v1/exports",
            Some(t),
            json!({"object": "vehicle", "format": "csv"}),
        )
        .await;
    assert_eq!(unknown.invalid_fields(), ["object"]);
    let sales = app.add_user(t, &["sales"]).await;
    app.post(
        "/v1/exports",
        Some(&sales.access_token),
        json!({"object": "project", "format": "csv"}),
    )
    .await
    .problem(403, "forbidden");
}

#[tokio::test]
async fn records_of_a_custom_object_are_upserted_in_bulk_by_a_partners_own_ids() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    app.post("/v1/objects", Some(t), project()).await.ok(201);
    let bulk = "/v1/objects/project/records/bulk";

    let first = app
        .post(
            bulk,
            Some(t),
            json!({"system": "erp", "items": [
                {"external_id": "P-1", "name": "上海仓库改造", "custom": {"stage": "plan", "code": "SH-1"}},
                {"external_id": "P-2", "name": "Bad", "custom": {"stage": "nope"}},
                {"name": "No partner id", "custom": {"stage": "plan"}},
            ]}),
        )
        .await
        .ok(200)
        .clone();
    let results = first["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], 201);
    assert_eq!(results[0]["external_id"], "P-1");
    let made = id(&results[0]["record"]);
    // A refused item stops nothing, and says why.
    assert_eq!(results[1]["status"], 422);
    assert_eq!(results[1]["problem"]["errors"][0]["field"], "custom.stage");
    assert_eq!(results[2]["status"], 422);
    assert_eq!(results[2]["problem"]["errors"][0]["field"], "external_id");

    // The same partner id again updates what it made: the fields sent, the others kept.
    let again = app
        .post(
            bulk,
            Some(t),
            json!({"system": "erp", "items": [{"external_id": "P-1", "custom": {"stage": "build"}}]}),
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(again["results"][0]["status"], 200);
    assert_eq!(id(&again["results"][0]["record"]), made);
    let read = app
        .get(&format!("/v1/objects/project/records/{made}"), t)
        .await
        .ok(200)
        .clone();
    assert_eq!(read["name"], "上海仓库改造");
    assert_eq!(read["custom"]["stage"], "build");
    assert_eq!(read["custom"]["code"], "SH-1");
    assert_eq!(read["version"], 2);

    // Calls racing with one new id make one record; the others update it.
    let call = || {
        app.post(
            bulk,
            Some(t),
            json!({"system": "shop", "items": [{"external_id": "P-1", "name": "Same", "custom": {"stage": "plan"}}]}),
        )
    };
    let (a, b, c, d) = tokio::join!(call(), call(), call(), call());
    let outcomes: Vec<Value> = [a, b, c, d]
        .into_iter()
        .map(|r| r.ok(200)["results"][0].clone())
        .collect();
    let statuses: Vec<i64> = outcomes
        .iter()
        .map(|o| o["status"].as_i64().unwrap())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 200),
        "{statuses:?}"
    );
    let shop_ids: std::collections::BTreeSet<String> =
        outcomes.iter().map(|o| id(&o["record"])).collect();
    assert_eq!(shop_ids.len(), 1, "one record for the shop's P-1");
    assert!(!shop_ids.contains(&made), "each system's ids are its own");
    let same = app
        .get("/v1/objects/project/records?q=Same", t)
        .await
        .ok(200)
        .clone();
    assert_eq!(ids(&same).len(), 1);

    // An object the company does not have is a 404 for the whole call; another
    // company's partner ids reach nothing of Acme's.
    let unknown = app
        .post(
            "/v1/objects/nothing/records/bulk",
            Some(t),
            json!({"system": "erp", "items": [{"external_id": "P-1", "name": "x"}]}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let other = app.sign_up("Globex").await;
    app.post("/v1/objects", Some(&other.access_token), project())
        .await
        .ok(201);
    let theirs = app
        .post(
            bulk,
            Some(&other.access_token),
            json!({"system": "erp", "items": [{"external_id": "P-1", "name": "Theirs", "custom": {"stage": "plan"}}]}),
        )
        .await
        .ok(200)
        .clone();
    assert_eq!(theirs["results"][0]["status"], 201);
    assert_ne!(id(&theirs["results"][0]["record"]), made);
}
