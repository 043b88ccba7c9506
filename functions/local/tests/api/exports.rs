//! Exports of filtered lists to CSV and JSON: a job acting as the person who asked, so the
//! file holds what their list shows them (scope, hidden and masked fields), needing the
//! `export` permission, offered through an expiring signed link.

use crate::support::TestApp;
use serde_json::{Value, json};

async fn export(app: &TestApp, token: &str, body: Value) -> Value {
    let reply = app.post("/v1/exports", Some(token), body).await;
    let id = reply.ok(202)["id"].as_str().unwrap().to_owned();
    let done = app.wait_for_job(&format!("/v1/exports/{id}"), token).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    done
}

async fn download(app: &TestApp, done: &Value) -> Vec<u8> {
    let url = done["download_url"].as_str().unwrap();
    let reply = app.client.get(url).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    reply.bytes().await.unwrap().to_vec()
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap()).unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn an_export_holds_the_filtered_list_as_the_caller_sees_it() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let t = &acme.access_token;
    app.post(
        "/v1/settings/fields",
        Some(t),
        json!({"object": "contacts", "key": "segment", "label": "Segment", "type": "text"}),
    )
    .await
    .ok(201);
    for (name, tags) in [
        ("Ada", vec!["vip"]),
        ("王小明", vec!["vip"]),
        ("Grace", vec![]),
    ] {
        app.create_contact(
            t,
            json!({"name": name, "tags": tags, "emails": [{"address": format!("{}@x.io", name.len())}],
                   "national_id": "11010519491231002X", "custom": {"segment": "retail"}}),
        )
        .await;
    }
    app.create_contact(
        &globex.access_token,
        json!({"name": "Foreign", "tags": ["vip"]}),
    )
    .await;

    let done = export(
        &app,
        t,
        json!({"object": "contacts", "format": "csv", "filters": {"tags": "vip", "sort": "name"}}),
    )
    .await;
    assert_eq!(done["records"], 2);
    let rows = csv_rows(&download(&app, &done).await);
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[1][col("name")], "Ada");
    assert_eq!(rows[2][col("name")], "王小明");
    assert_eq!(rows[1][col("custom.segment")], "retail");
    assert_eq!(rows[1][col("emails")], "3@x.io");
    assert!(
        rows[1][col("national_id")].starts_with("****"),
        "sensitive values stay masked"
    );

    let json_done = export(&app, t, json!({"object": "contacts", "format": "json"})).await;
    let records: Vec<Value> = serde_json::from_slice(&download(&app, &json_done).await).unwrap();
    assert_eq!(records.len(), 3);

    // A role that hides emails exports without them; a sales user exports their own.
    let role = app
        .create_role(
            t,
            "Exporter",
            json!({"contacts": {"actions": ["read", "export"], "scope": "all",
                                "fields": {"emails": "hidden"}}}),
        )
        .await;
    let exporter = app.add_user(t, &[&role]).await;
    let done = export(
        &app,
        &exporter.access_token,
        json!({"object": "contacts", "format": "csv"}),
    )
    .await;
    let rows = csv_rows(&download(&app, &done).await);
    assert_eq!(rows.len(), 4);
    assert!(!rows[0].contains(&"emails".to_owned()), "{:?}", rows[0]);
    // Exports are the asker's own.
    let id = done["id"].as_str().unwrap();
    app.get(&format!("/v1/exports/{id}"), t)
        .await
        .problem(404, "not-found");
    app.get(&format!("/v1/exports/{id}"), &globex.access_token)
        .await
        .problem(404, "not-found");
    let mine = app.get("/v1/exports", &exporter.access_token).await;
    assert_eq!(mine.ok(200)["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn exports_need_the_export_permission_and_valid_filters() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let reader = app.add_user(t, &["read_only"]).await;
    app.post(
        "/v1/exports",
        Some(&reader.access_token),
        json!({"object": "contacts", "format": "csv"}),
    )
    .await
    .problem(403, "forbidden");
    for (body, field) in [
        (json!({"object": "deals", "format": "csv"}), "object"),
        (
            json!({"object": "contacts", "format": "csv", "filters": {"tags": 3}}),
            "filters.tags",
        ),
        (
            json!({"object": "contacts", "format": "csv", "filters": {"colour": "red"}}),
            "filters.colour",
        ),
        (
            json!({"object": "contacts", "format": "csv", "filters": {"sort": "age"}}),
            "sort",
        ),
        (
            json!({"object": "contacts", "format": "csv", "filters": {"cf": {"nope": "x"}}}),
            "cf[nope]",
        ),
        (
            json!({"object": "contacts", "format": "csv", "filters": {"limit": "5"}}),
            "filters.limit",
        ),
    ] {
        let reply = app.post("/v1/exports", Some(t), body.clone()).await;
        assert_eq!(reply.invalid_fields(), [field], "{body}");
    }
}

#[tokio::test]
async fn an_export_is_no_longer_handed_out_once_its_askers_rights_narrow() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let full = json!({"contacts": {"actions": ["read", "export"], "scope": "all"}});
    let role = app.create_role(t, "Exporter", full.clone()).await;
    let clerk = app.add_user(t, &[&role]).await;
    app.create_contact(t, json!({"name": "Ada", "notes": "likes tea"}))
        .await;
    let done = export(
        &app,
        &clerk.access_token,
        json!({"object": "contacts", "format": "json"}),
    )
    .await;
    let path = format!("/v1/exports/{}", done["id"].as_str().unwrap());
    assert!(!download(&app, &done).await.is_empty());

    let set = |permissions: Value| {
        let role = role.clone();
        let app = &app;
        async move {
            app.patch(
                &format!("/v1/roles/{role}"),
                t,
                json!({ "permissions": permissions }),
            )
            .await
            .ok(200);
        }
    };
    let narrower = [
        // A field the file shows is hidden now.
        json!({"contacts": {"actions": ["read", "export"], "scope": "all",
                            "fields": {"notes": "hidden"}}}),
        // Only their own records now.
        json!({"contacts": {"actions": ["read", "export"], "scope": "own"}}),
        // No export any more.
        json!({"contacts": {"actions": ["read"], "scope": "all"}}),
        // No contacts at all.
        json!({"deals": {"actions": ["read"], "scope": "all"}}),
    ];
    for permissions in narrower {
        set(permissions.clone()).await;
        let refused = app.get(&path, &clerk.access_token).await;
        refused.problem(403, "forbidden");
        let listed = app.get("/v1/exports", &clerk.access_token).await;
        let first = &listed.ok(200)["data"][0];
        assert_eq!(first["id"], done["id"], "{permissions}");
        assert_eq!(first["download_url"], Value::Null, "{permissions}");
        // Rights given back: the file is theirs again.
        set(full.clone()).await;
        let again = app.get(&path, &clerk.access_token).await;
        assert!(again.ok(200)["download_url"].is_string());
    }
}

#[tokio::test]
async fn csv_cells_that_would_run_as_formulas_are_marked_as_text_and_json_stays_exact() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    // Anyone can plant a name through the public web form.
    app.patch(
        "/v1/settings/service",
        t,
        json!({"web_form_slug": "acme-help"}),
    )
    .await
    .ok(200);
    let planted = "=HYPERLINK(\"http://evil.example\",\"Click\")";
    let sent = app
        .post(
            "/v1/public/acme-help/tickets",
            None,
            json!({"name": planted, "email": "visitor@example.com", "subject": "Hi",
                   "description": "Hello"}),
        )
        .await;
    assert_eq!(sent.status, 202, "{:?}", sent.body);
    for name in ["+1 Plus", "-2+3", "@SUM(A1)", "Plain Ada"] {
        app.create_contact(t, json!({"name": name})).await;
    }
    app.create_contact(
        t,
        json!({"name": "Phone Li", "phones": [{"number": "+8613800138000"}]}),
    )
    .await;

    let done = export(&app, t, json!({"object": "contacts", "format": "csv"})).await;
    let bytes = download(&app, &done).await;
    let rows = csv_rows(&bytes);
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let names: Vec<&str> = rows[1..].iter().map(|r| r[col("name")].as_str()).collect();
    for expected in [
        format!("'{planted}"),
        "'+1 Plus".into(),
        "'-2+3".into(),
        "'@SUM(A1)".into(),
        "Plain Ada".into(),
    ] {
        assert!(
            names.contains(&expected.as_str()),
            "{expected} in {names:?}"
        );
    }
    let li = rows[1..]
        .iter()
        .find(|r| r[col("name")] == "Phone Li")
        .unwrap();
    assert_eq!(li[col("phones")], "'+8613800138000");
    // No cell of the file, header included, starts a formula.
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} would run as a formula"
            );
        }
    }

    let json_done = export(&app, t, json!({"object": "contacts", "format": "json"})).await;
    let records: Vec<Value> = serde_json::from_slice(&download(&app, &json_done).await).unwrap();
    let json_names: Vec<&str> = records
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(json_names.contains(&planted), "{json_names:?}");
    assert!(json_names.contains(&"+1 Plus"));

    // An exported (marked) cell imports back as it was.
    let upload = app
        .upload(
            "/v1/imports",
            t,
            "text/csv",
            b"name,phone\n'=1+1,'+8613800138001\n".to_vec(),
        )
        .await;
    let id = upload.ok(202)["id"].as_str().unwrap().to_owned();
    let imported = app.wait_for_job(&format!("/v1/imports/{id}"), t).await;
    assert_eq!(imported["counts"]["created"], 1, "{imported}");
    let list = app.get("/v1/contacts?limit=200", t).await;
    let back = list.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "=1+1")
        .cloned()
        .expect("the imported contact, named without the mark");
    assert_eq!(back["phones"][0]["number"], "+8613800138001");
}
