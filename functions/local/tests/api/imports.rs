//! CSV imports: UTF-8 and GBK, comma or semicolon, columns mapped by name or by the
//! caller; a dry run that writes nothing; duplicates updated rather than created; a
//! report per row; re-running the same file creates nothing new; an interrupted import
//! resumes.

use crate::support::TestApp;
use serde_json::{Value, json};

async fn import(app: &TestApp, token: &str, query: &str, body: &[u8]) -> Value {
    let reply = app
        .upload(
            &format!("/v1/imports?{query}"),
            token,
            "text/csv",
            body.to_vec(),
        )
        .await;
    let id = reply.ok(202)["id"].as_str().unwrap().to_owned();
    app.wait_for_job(&format!("/v1/imports/{id}"), token).await
}

async fn contacts(app: &TestApp, token: &str) -> Vec<Value> {
    let page = app.get("/v1/contacts?limit=200&sort=name", token).await;
    page.ok(200)["data"].as_array().unwrap().clone()
}

const FILE: &str = "\
Name,Email,Phone,Tags,City,Segment
Ada Lovelace,ada@engines.io,138 0013 8000,vip,London,retail
王小明,xiaoming@example.cn,,\"new, cn\",深圳,wholesale
Grace Hopper,not-an-email,,,,retail
,nobody@example.com,,,,
Ada L.,ADA@engines.io,,poet,,
Bad Segment,bad@seg.io,,,,online
";

#[tokio::test]
async fn an_import_creates_updates_and_reports_every_row_and_a_dry_run_writes_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    app.post(
        "/v1/settings/fields",
        Some(t),
        json!({"object": "contacts", "key": "segment", "label": "Segment",
               "type": "single_select", "options": ["retail", "wholesale"]}),
    )
    .await
    .ok(201);
    let existing = app
        .create_contact(
            t,
            json!({"name": "Countess Lovelace", "emails": [{"address": "ada@engines.io"}], "tags": ["old"]}),
        )
        .await;

    let dry = import(&app, t, "dry_run=true", FILE.as_bytes()).await;
    assert_eq!(dry["status"], "succeeded", "{dry}");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["rows"], 6);
    assert_eq!(
        dry["counts"],
        json!({"created": 1, "updated": 2, "unchanged": 0, "skipped": 0, "failed": 3})
    );
    assert_eq!(contacts(&app, t).await.len(), 1, "a dry run writes nothing");
    let columns: Vec<(String, Value)> = dry["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_owned(), c["field"].clone()))
        .collect();
    assert_eq!(columns[5], ("Segment".to_owned(), json!("custom.segment")));

    let done = import(&app, t, "", FILE.as_bytes()).await;
    assert_eq!(
        done["counts"],
        json!({"created": 1, "updated": 2, "unchanged": 0, "skipped": 0, "failed": 3}),
        "{done}"
    );
    let rows = app
        .get(
            &format!("/v1/imports/{}/rows", done["id"].as_str().unwrap()),
            t,
        )
        .await;
    let report: Vec<(u64, String, Vec<String>)> = rows.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let fields = r["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect();
            (
                r["line"].as_u64().unwrap(),
                r["outcome"].as_str().unwrap().to_owned(),
                fields,
            )
        })
        .collect();
    assert_eq!(
        report,
        [
            (4, "failed".to_owned(), vec!["emails[0].address".to_owned()]),
            (5, "failed".to_owned(), vec!["row".to_owned()]),
            (7, "failed".to_owned(), vec!["custom.segment".to_owned()]),
        ]
    );

    let all = contacts(&app, t).await;
    assert_eq!(all.len(), 2);
    let ada = all.iter().find(|c| c["id"] == existing["id"]).unwrap();
    // Matched by email: updated, its lists gaining the rows' items.
    assert_eq!(ada["name"], "Ada L.");
    assert_eq!(ada["tags"], json!(["old", "vip", "poet"]));
    assert_eq!(ada["phones"][0]["number"], "+8613800138000");
    let wang = all.iter().find(|c| c["name"] == "王小明").unwrap();
    assert_eq!(wang["tags"], json!(["new", "cn"]));
    assert_eq!(wang["address"]["city"], "深圳");
    assert_eq!(wang["custom"]["segment"], "wholesale");
    let found = app.get("/v1/contacts?q=小明", t).await;
    assert_eq!(found.ok(200)["data"].as_array().unwrap().len(), 1);

    // The same file again creates nothing.
    let again = import(&app, t, "", FILE.as_bytes()).await;
    assert_eq!(
        again["counts"],
        json!({"created": 0, "updated": 2, "unchanged": 1, "skipped": 0, "failed": 3}),
        "{again}"
    );
    assert_eq!(contacts(&app, t).await.len(), 2);
    let listed = app.get("/v1/imports", t).await;
    assert_eq!(listed.ok(200)["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn gbk_files_with_semicolons_and_a_mapping_import_companies_and_contacts() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let text = "客户;手机;备注\n李娜;13900139000;老客户\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let done = import(&app, t, "map%5B%E5%AE%A2%E6%88%B7%5D=name", &gbk).await;
    assert_eq!(done["encoding"], "gbk");
    assert_eq!(done["delimiter"], ";");
    assert_eq!(done["counts"]["created"], 1, "{done}");
    let all = contacts(&app, t).await;
    assert_eq!(all[0]["name"], "李娜");
    assert_eq!(all[0]["phones"][0]["number"], "+8613900139000");
    assert_eq!(all[0]["notes"], "老客户");

    app.post("/v1/companies", Some(t), json!({"name": "Acme Foods"}))
        .await
        .ok(201);
    let companies = "name,industry,city\nACME FOODS,Food,Shenzhen\nBeta Tools,Tools,Guangzhou\n";
    let done = import(&app, t, "object=companies", companies.as_bytes()).await;
    assert_eq!(
        done["counts"],
        json!({"created": 1, "updated": 1, "unchanged": 0, "skipped": 0, "failed": 0}),
        "{done}"
    );
    let list = app.get("/v1/companies?sort=name", t).await;
    let names: Vec<&str> = list.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ACME FOODS", "Beta Tools"]);
}

#[tokio::test]
async fn bad_files_and_callers_are_refused_before_anything_runs() {
    let app = TestApp::spawn_with(&[("CRM_MAX_IMPORT_BYTES", "2048")]).await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let t = &acme.access_token;
    let upload = |query: &'static str, body: Vec<u8>| {
        let app = &app;
        async move {
            app.upload(&format!("/v1/imports?{query}"), t, "text/csv", body)
                .await
        }
    };
    assert_eq!(
        upload("", b"email\na@b.co\n".to_vec())
            .await
            .invalid_fields(),
        ["map"]
    );
    assert_eq!(
        upload("map%5BNope%5D=name", b"name\nA\n".to_vec())
            .await
            .invalid_fields(),
        ["map[Nope]"]
    );
    assert_eq!(
        upload("map%5Bname%5D=salary", b"name\nA\n".to_vec())
            .await
            .invalid_fields(),
        ["map[name]"]
    );
    assert_eq!(
        upload("delimiter=%7C", b"name\nA\n".to_vec())
            .await
            .invalid_fields(),
        ["delimiter"]
    );
    assert_eq!(
        upload("object=deals", b"name\nA\n".to_vec())
            .await
            .invalid_fields(),
        ["object"]
    );
    assert_eq!(upload("", Vec::new()).await.invalid_fields(), ["body"]);
    assert_eq!(
        upload("encoding=utf-8", vec![0xC4, 0xE3, b'\n'])
            .await
            .invalid_fields(),
        ["body"]
    );
    upload("", vec![b'a'; 4096])
        .await
        .problem(413, "payload-too-large");
    app.upload("/v1/imports", t, "application/json", b"{}".to_vec())
        .await
        .problem(415, "unsupported-media-type");
    let reader = app.add_user(t, &["read_only"]).await;
    app.upload(
        "/v1/imports",
        &reader.access_token,
        "text/csv",
        b"name\nA\n".to_vec(),
    )
    .await
    .problem(403, "forbidden");

    let done = import(&app, t, "", b"name\nA\n").await;
    let id = done["id"].as_str().unwrap();
    app.get(&format!("/v1/imports/{id}"), &globex.access_token)
        .await
        .problem(404, "not-found");
    app.get(&format!("/v1/imports/{id}/rows"), &globex.access_token)
        .await
        .problem(404, "not-found");
}

#[tokio::test]
async fn an_interrupted_import_resumes_where_it_stopped_and_creates_each_row_once() {
    // Small batches, so the server stops mid-import.
    let batches = [("CRM_IMPORT_BATCH_ROWS", "5")];
    let app = TestApp::spawn_with(&batches).await;
    let acme = app.sign_up("Acme").await;
    let t = acme.access_token.clone();
    let mut file = String::from("name,email\n");
    for n in 0..40 {
        file.push_str(&format!("Person {n:04},p{n}@example.com\n"));
    }
    let reply = app
        .upload("/v1/imports", &t, "text/csv", file.into_bytes())
        .await;
    let id = reply.ok(202)["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/imports/{id}");
    // Stop the server once the first batch is checkpointed.
    for _ in 0..2000 {
        let now = app.get(&path, &t).await;
        if now.ok(200)["processed_rows"].as_u64().unwrap() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let state = app.state.clone();
    let dir = app.stop().await;
    let tenant = shared::ids::TenantId::parse(&acme.tenant_id).unwrap();
    let stopped = shared::jobs::get(&state, &tenant, &id)
        .await
        .unwrap()
        .unwrap();
    let at = stopped.progress["next_row"].as_u64().unwrap();
    assert!(0 < at && at < 40, "stopped mid-import, at row {at}");
    // The stopped server's process is gone, its hold on the data directory with it.
    drop(state);
    let app = TestApp::spawn_in(dir, &batches).await;
    let done = app.wait_for_job(&path, &t).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["processed_rows"], 40);
    let counts = &done["counts"];
    assert_eq!(counts["created"], 40, "{done}");
    let mut seen = 0;
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/v1/contacts?limit=200&cursor={c}"),
            None => "/v1/contacts?limit=200".to_owned(),
        };
        let page = app.get(&url, &t).await;
        seen += page.ok(200)["data"].as_array().unwrap().len();
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, 40, "each row created exactly once");
}

#[tokio::test]
async fn an_import_never_names_or_touches_records_outside_the_callers_scope() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let seller = app.add_user(t, &["sales"]).await;
    let s = &seller.access_token;
    // The admin's contacts, which a seller (own scope) cannot see.
    let hidden = app
        .create_contact(
            t,
            json!({"name": "Secret Client", "emails": [{"address": "vip@big.cn"}]}),
        )
        .await;
    app.create_contact(
        t,
        json!({"name": "Twin", "emails": [{"address": "twin@big.cn"}]}),
    )
    .await;
    app.create_contact(
        t,
        json!({"name": "Twin 2", "phones": [{"number": "+8613800138001"}]}),
    )
    .await;
    let mine = app
        .create_contact(
            s,
            json!({"name": "My Lead", "emails": [{"address": "lead@small.cn"}]}),
        )
        .await;
    let file = "Name,Email,Phone\n\
                Probe,vip@big.cn,\n\
                Probe 2,twin@big.cn,+8613800138001\n\
                Lead,lead@small.cn,\n";
    for query in ["dry_run=true", ""] {
        let done = import(&app, s, query, file.as_bytes()).await;
        assert_eq!(
            done["counts"],
            json!({"created": 2, "updated": 1, "unchanged": 0, "skipped": 0, "failed": 0}),
            "{query}: {done}"
        );
        let rows = app
            .get(
                &format!(
                    "/v1/imports/{}/rows?limit=200",
                    done["id"].as_str().unwrap()
                ),
                s,
            )
            .await;
        let text = rows.ok(200).to_string();
        assert!(!text.contains(hidden["id"].as_str().unwrap()), "{text}");
        assert!(!text.contains("merge them first"), "{text}");
    }
    // The admin's record is as it was; the seller's own was updated.
    let secret = app
        .get(
            &format!("/v1/contacts/{}", hidden["id"].as_str().unwrap()),
            t,
        )
        .await;
    assert_eq!(secret.ok(200)["name"], "Secret Client");
    let lead = app
        .get(&format!("/v1/contacts/{}", mine["id"].as_str().unwrap()), s)
        .await;
    assert_eq!(lead.ok(200)["name"], "Lead");
}

#[tokio::test]
async fn an_import_keeps_every_real_phone_number_of_every_country() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let numbers = [
        ("+1 212 200 1017", "+12122001017"),
        ("138 0013 8000", "+8613800138000"),
        ("010 6552 9988", "+861065529988"),
        ("+44 20 7219 3000", "+442072193000"),
        ("+44 7700 900123", "+447700900123"),
        ("+49 151 23456789", "+4915123456789"),
        ("+81 90 1234 5678", "+819012345678"),
        ("+65 9123 4567", "+6591234567"),
        ("+852 2823 1234", "+85228231234"),
    ];
    let mut file = String::from("Name,Phone\n");
    for (i, (typed, _)) in numbers.iter().enumerate() {
        file.push_str(&format!("Caller {i},{typed}\n"));
    }
    let done = import(&app, t, "", file.as_bytes()).await;
    assert_eq!(done["counts"]["created"], numbers.len(), "{done}");
    assert_eq!(done["counts"]["failed"], 0, "{done}");
    let mut kept: Vec<String> = contacts(&app, t)
        .await
        .iter()
        .map(|c| c["phones"][0]["number"].as_str().unwrap().to_owned())
        .collect();
    kept.sort();
    let mut want: Vec<String> = numbers.iter().map(|(_, e)| e.to_string()).collect();
    want.sort();
    assert_eq!(kept, want);
}

#[tokio::test]
async fn a_dry_run_is_not_replayed_for_the_real_import_under_one_idempotency_key() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let send = |query: &'static str, key: &'static str| {
        let request = app
            .client
            .post(app.url(&format!("/v1/imports{query}")))
            .bearer_auth(t)
            .header("content-type", "text/csv")
            .header("idempotency-key", key)
            .body(FILE.as_bytes().to_vec());
        async move { crate::support::into_reply(request.send().await.unwrap()).await }
    };
    let dry = send("?dry_run=true", "import-1").await;
    let dry_id = dry.ok(202)["id"].as_str().unwrap().to_owned();
    // The same key with another query string is another request: refused, not answered
    // with the dry run's job.
    let real = send("", "import-1").await;
    assert_eq!(real.invalid_fields(), ["Idempotency-Key"]);
    // The same request again is the same job.
    let again = send("?dry_run=true", "import-1").await;
    assert_eq!(again.ok(202)["id"], dry_id.as_str());
    let real = send("", "import-2").await;
    let real_id = real.ok(202)["id"].as_str().unwrap().to_owned();
    assert_ne!(real_id, dry_id);
    let done = app.wait_for_job(&format!("/v1/imports/{real_id}"), t).await;
    assert_eq!(done["dry_run"], false, "{done}");
    assert!(!contacts(&app, t).await.is_empty());
}

#[tokio::test]
async fn a_custom_objects_records_import_from_csv_with_their_fields_by_key_or_label() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    app.post(
        "/v1/objects",
        Some(t),
        json!({"key": "vehicle", "label": {"en": "Vehicle", "zh-CN": "车辆"},
        "fields": [
            {"key": "plate", "label": "车牌", "type": "text", "unique": true},
            {"key": "price", "label": "Price", "type": "money"},
            {"key": "kind", "label": "Kind", "type": "single_select", "options": ["car", "van"]},
            {"key": "seats", "label": "Seats", "type": "number"},
        ]}),
    )
    .await
    .ok(201);
    let file = "名称,车牌,Price,kind,seats,Ignored\n\
                东风小货车,沪A12345,\"158,000.50 CNY\",van,3,x\n\
                Tesla,沪B88888,299999 CNY,car,5,\n\
                Broken,沪C1,12.345 CNY,boat,many,\n";

    // A dry run checks every row and makes nothing.
    let dry = import(&app, t, "object=vehicle&dry_run=true", file.as_bytes()).await;
    assert_eq!(dry["status"], "succeeded", "{dry}");
    assert_eq!(dry["counts"]["created"], 2);
    assert_eq!(dry["counts"]["failed"], 1);
    let none = app.get("/v1/objects/vehicle/records", t).await;
    assert!(none.ok(200)["data"].as_array().unwrap().is_empty());

    let done = import(&app, t, "object=vehicle", file.as_bytes()).await;
    assert_eq!(done["object"], "vehicle");
    assert_eq!(done["counts"]["created"], 2, "{done}");
    assert_eq!(done["counts"]["failed"], 1);
    let id = done["id"].as_str().unwrap();
    let rows = app.get(&format!("/v1/imports/{id}/rows"), t).await;
    let failed = &rows.ok(200)["data"][0];
    assert_eq!(failed["line"], 4);
    let fields: Vec<&str> = failed["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["custom.kind", "custom.price", "custom.seats"]);

    let found = app.get("/v1/objects/vehicle/records?q=小货", t).await;
    let found = found.ok(200);
    let truck = &found["data"][0];
    assert_eq!(truck["name"], "东风小货车");
    assert_eq!(truck["custom"]["plate"], "沪A12345");
    // Money is read exactly, in the currency's minor units.
    assert_eq!(
        truck["custom"]["price"],
        json!({"amount_minor": 15_800_050, "currency": "CNY"})
    );
    assert_eq!(truck["custom"]["kind"], "van");
    assert_eq!(truck["custom"]["seats"], 3.0);

    // The same file again makes nothing new.
    let again = import(&app, t, "object=vehicle", file.as_bytes()).await;
    assert_eq!(again["counts"]["created"], 0, "{again}");
    assert_eq!(again["counts"]["unchanged"], 2);
    let all = app.get("/v1/objects/vehicle/records", t).await;
    assert_eq!(all.ok(200)["data"].as_array().unwrap().len(), 2);

    // An object the company does not have is a 404; one the caller may not create in, 403.
    let unknown = app
        .upload(
            "/v1/imports?object=boat",
            t,
            "text/csv",
            b"name\nx\n".to_vec(),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let reader = app.add_user(t, &["read_only"]).await;
    let refused = app
        .upload(
            "/v1/imports?object=vehicle",
            &reader.access_token,
            "text/csv",
            b"name\nx\n".to_vec(),
        )
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn a_custom_object_import_stays_in_the_callers_company() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let vehicle = json!({"key": "vehicle", "label": {"en": "Vehicle", "zh-CN": "车辆"},
    "fields": [
        {"key": "plate", "label": "Plate", "type": "text", "unique": true},
        {"key": "driver", "label": "Driver", "type": "relation", "target": "contacts"},
    ]});
    for t in [&acme.access_token, &globex.access_token] {
        app.post("/v1/objects", Some(t), vehicle.clone())
            .await
            .ok(201);
    }
    let (a, g) = (&acme.access_token, &globex.access_token);
    app.post(
        "/v1/objects",
        Some(a),
        json!({"key": "truck", "label": {"en": "Truck", "zh-CN": "卡车"}, "fields": []}),
    )
    .await
    .ok(201);
    let acme_driver = app.create_contact(a, json!({"name": "Acme driver"})).await;
    let acme_driver = acme_driver["id"].as_str().unwrap();
    let acme_file = format!("name,plate,driver\nAcme van,沪A12345,{acme_driver}\n");
    let done = import(&app, a, "object=vehicle", acme_file.as_bytes()).await;
    assert_eq!(done["counts"]["created"], 1, "{done}");

    // Globex's file names Acme's plate and Acme's contact: the plate is Globex's own to
    // use (unique within a company), the contact is not a record Globex can see.
    let globex_file =
        format!("name,plate,driver\nGlobex van,沪A12345,\nStolen,沪B00001,{acme_driver}\n");
    let done = import(&app, g, "object=vehicle", globex_file.as_bytes()).await;
    assert_eq!(done["counts"]["created"], 1, "{done}");
    assert_eq!(done["counts"]["failed"], 1);
    let rows = app
        .get(
            &format!("/v1/imports/{}/rows", done["id"].as_str().unwrap()),
            g,
        )
        .await;
    let failed = &rows.ok(200)["data"][0];
    assert_eq!(failed["line"], 3);
    assert_eq!(failed["errors"][0]["field"], "custom.driver");

    let names = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let acme_records = app.get("/v1/objects/vehicle/records", a).await;
    assert_eq!(names(acme_records.ok(200)), ["Acme van"]);
    assert_eq!(acme_records.ok(200)["data"][0]["version"], 1);
    let globex_records = app.get("/v1/objects/vehicle/records", g).await;
    assert_eq!(names(globex_records.ok(200)), ["Globex van"]);

    // Another company's object is no object of the caller's: 404, as an unknown one.
    let foreign = app
        .upload(
            "/v1/imports?object=truck",
            g,
            "text/csv",
            b"name\nx\n".to_vec(),
        )
        .await;
    assert_eq!(foreign.status, 404);
}
