//! Search and list filters: prefix search on any word of a name, email, phone or company
//! (Chinese text by any part), filters and sort orders, kept in step with every write,
//! within the caller's scope and the fields they may see.

use std::collections::BTreeSet;

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

async fn found(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    ids(app.get(path, token).await.ok(200))
}

/// Every id of a list, page after page, checking that no record comes twice.
async fn all_pages(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}cursor={c}"),
            None => path.to_owned(),
        };
        let page = app.get(&url, token).await.ok(200).clone();
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let unique: BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a record came twice: {seen:?}");
    seen
}

#[tokio::test]
async fn contacts_are_found_by_the_start_of_any_word_and_chinese_text_by_any_part() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let token = &acme.access_token;
    let ada = id(&app
        .create_contact(
            token,
            json!({"name": "Ada Lovelace", "emails": [{"address": "ada@analytical.org"}],
                   "phones": [{"number": "138 0013 8000"}]}),
        )
        .await);
    let wang = id(&app
        .create_contact(
            token,
            json!({"name": "王小明", "company_name": "深圳腾讯科技有限公司"}),
        )
        .await);
    let grace = id(&app
        .create_contact(token, json!({"name": "Grace Hopper"}))
        .await);
    app.create_contact(
        &globex.access_token,
        json!({"name": "Ada Lovelace", "emails": [{"address": "ada@analytical.org"}]}),
    )
    .await;

    for (q, want) in [
        ("lov", vec![ada.clone()]),
        ("LOVELACE", vec![ada.clone()]),
        ("ada", vec![ada.clone()]),
        ("ada%20lov", vec![ada.clone()]),
        ("analytical", vec![ada.clone()]),
        ("ada%40analytical.org", vec![ada.clone()]),
        ("1380013", vec![ada.clone()]),
        ("%2B86%20138", vec![ada.clone()]),
        ("小", vec![wang.clone()]),
        ("小明", vec![wang.clone()]),
        ("腾讯", vec![wang.clone()]),
        ("讯科", vec![wang.clone()]),
        ("hop", vec![grace.clone()]),
        ("ada%20hop", vec![]),
        ("ovelace", vec![]),
    ] {
        assert_eq!(
            found(&app, token, &format!("/v1/contacts?q={q}")).await,
            want,
            "q={q}"
        );
    }

    // One query across contacts and companies; each page goes on in its own list.
    let company = id(&app
        .post(
            "/v1/companies",
            Some(token),
            json!({"name": "Adastra Ltd", "phone": "010 6552 9988"}),
        )
        .await
        .ok(201)
        .clone());
    let both = app.get("/v1/search?q=ada", token).await;
    assert_eq!(ids(&both.ok(200)["contacts"]), vec![ada.clone()]);
    assert_eq!(ids(&both.ok(200)["companies"]), vec![company.clone()]);
    assert_eq!(
        found(&app, token, "/v1/companies?q=010-6552").await,
        vec![company.clone()],
        "as dialled at home, trunk prefix and all"
    );
    assert_eq!(
        found(&app, token, "/v1/companies?q=1065529988").await,
        vec![company.clone()]
    );
}

#[tokio::test]
async fn a_change_is_found_by_the_next_request_and_a_deleted_record_is_not() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let contact = app
        .create_contact(token, json!({"name": "Zhang Wei"}))
        .await;
    let path = format!("/v1/contacts/{}", id(&contact));
    assert_eq!(
        found(&app, token, "/v1/contacts?q=zhang").await,
        [id(&contact)]
    );
    app.patch(&path, token, json!({"name": "Li Na"}))
        .await
        .ok(200);
    assert!(found(&app, token, "/v1/contacts?q=zhang").await.is_empty());
    assert_eq!(
        found(&app, token, "/v1/contacts?q=li").await,
        [id(&contact)]
    );
    app.delete(&path, token).await.ok(204);
    assert!(found(&app, token, "/v1/contacts?q=li").await.is_empty());

    let company = app
        .post(
            "/v1/companies",
            Some(token),
            json!({"name": "北京字节跳动"}),
        )
        .await
        .ok(201)
        .clone();
    let path = format!("/v1/companies/{}", id(&company));
    assert_eq!(
        found(&app, token, "/v1/companies?q=字节").await,
        [id(&company)]
    );
    app.patch(&path, token, json!({"name": "北京百度"}))
        .await
        .ok(200);
    assert!(found(&app, token, "/v1/companies?q=字节").await.is_empty());
    assert_eq!(
        found(&app, token, "/v1/companies?q=百").await,
        [id(&company)]
    );
    app.delete(&path, token).await.ok(204);
    assert!(found(&app, token, "/v1/companies?q=百").await.is_empty());
}

#[tokio::test]
async fn a_search_pages_through_every_match_once() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let mut made = BTreeSet::new();
    for n in 0..7 {
        // Each is found by its name and its email: still listed once.
        let c = app
            .create_contact(
                token,
                json!({"name": format!("Zed {n}"), "emails": [{"address": format!("zed{n}@zed.io")}]}),
            )
            .await;
        made.insert(id(&c));
    }
    app.create_contact(token, json!({"name": "Other"})).await;
    let seen = all_pages(&app, token, "/v1/contacts?q=zed&limit=3").await;
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), made);
    let sorted = all_pages(&app, token, "/v1/contacts?q=zed&sort=name&limit=2").await;
    assert_eq!(sorted.len(), 7);
    assert_eq!(
        sorted,
        made.iter().cloned().collect::<Vec<_>>(),
        "names sort as ids here"
    );
}

#[tokio::test]
async fn search_keeps_to_the_callers_scope_and_the_fields_they_may_see() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let theirs = id(&app
        .create_contact(
            admin,
            json!({"name": "Kim Admin", "emails": [{"address": "kim@secret.example"}]}),
        )
        .await);
    let sales = app.add_user(admin, &["sales"]).await;
    let mine = id(&app
        .create_contact(&sales.access_token, json!({"name": "Kim Sales"}))
        .await);
    assert_eq!(
        found(&app, &sales.access_token, "/v1/contacts?q=kim").await,
        vec![mine.clone()],
        "own scope: the admin's contact is not found"
    );
    assert_eq!(
        found(&app, &sales.access_token, "/v1/contacts?sort=name").await,
        vec![mine.clone()]
    );
    let all = found(&app, admin, "/v1/contacts?q=kim&sort=name").await;
    assert_eq!(all, [theirs.clone(), mine.clone()]);

    // A role that cannot see emails cannot find anyone by them, nor filter by them.
    let role = app
        .create_role(
            admin,
            "No emails",
            json!({"contacts": {"actions": ["read"], "scope": "all",
                                "fields": {"emails": "hidden", "address": "hidden"}}}),
        )
        .await;
    let viewer = app.add_user(admin, &[&role]).await;
    let v = &viewer.access_token;
    assert!(found(&app, v, "/v1/contacts?q=secret").await.is_empty());
    assert!(
        found(&app, v, "/v1/contacts?q=secret&sort=name")
            .await
            .is_empty()
    );
    assert_eq!(
        found(&app, admin, "/v1/contacts?q=secret").await,
        vec![theirs.clone()]
    );
    assert_eq!(
        found(&app, v, "/v1/contacts?q=kim%20adm").await,
        vec![theirs.clone()]
    );
    app.get("/v1/contacts?email=kim@secret.example", v)
        .await
        .problem(403, "hidden-field");
    app.get("/v1/contacts?country=CN", v)
        .await
        .problem(403, "hidden-field");
    // Search needs read: a role without it on companies finds contacts only.
    let both = app.get("/v1/search?q=kim", v).await;
    assert_eq!(
        ids(&both.ok(200)["contacts"]),
        [theirs.clone(), mine.clone()]
    );
    assert!(ids(&both.ok(200)["companies"]).is_empty());
}

#[tokio::test]
async fn lists_filter_by_classification_region_tags_owner_and_time_and_sort() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let company = |name: &str, extra: Value| {
        let mut body = json!({"name": name});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let mut made = Vec::new();
    for body in [
        company(
            "Beta Foods",
            json!({"industry": "Food", "size_band": "10-49", "tags": ["VIP", "north"],
                   "region": {"country": "CN", "province": "广东", "city": "深圳", "district": "南山"}}),
        ),
        company(
            "alpha Tools",
            json!({"industry": "Manufacturing", "size_band": "50-249", "tags": ["vip"],
                   "region": {"country": "CN", "province": "广东", "city": "广州"}}),
        ),
        company(
            "Gamma Foods",
            json!({"industry": "food", "lifecycle_stage": "customer",
                   "region": {"country": "DE", "city": "Berlin"}}),
        ),
    ] {
        let c = app
            .post("/v1/companies", Some(token), body)
            .await
            .ok(201)
            .clone();
        made.push(id(&c));
    }
    let (beta, alpha, gamma) = (made[0].clone(), made[1].clone(), made[2].clone());
    let list = |q: &str| format!("/v1/companies?{q}");
    for (q, want) in [
        ("industry=FOOD", vec![&gamma, &beta]),
        ("industry=food&size_band=10-49", vec![&beta]),
        ("country=cn", vec![&alpha, &beta]),
        ("province=广东&city=深圳", vec![&beta]),
        ("district=南山", vec![&beta]),
        ("tags=vip", vec![&alpha, &beta]),
        ("tags=vip,NORTH", vec![&beta]),
        ("lifecycle_stage=customer", vec![&gamma]),
        ("sort=name", vec![&alpha, &beta, &gamma]),
        ("sort=-name", vec![&gamma, &beta, &alpha]),
        ("sort=created", vec![&beta, &alpha, &gamma]),
        ("sort=name&q=foods", vec![&beta, &gamma]),
        ("industry=food&q=gam", vec![&gamma]),
    ] {
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(found(&app, token, &list(q)).await, want, "{q}");
    }
    assert_eq!(
        found(&app, token, &list(&format!("owner_id={}", acme.user_id)))
            .await
            .len(),
        3
    );

    // Last changed first; a time range reads only its stretch of the index.
    app.patch(
        &format!("/v1/companies/{alpha}"),
        token,
        json!({"notes": "called"}),
    )
    .await
    .ok(200);
    let by_update = found(&app, token, &list("sort=-updated")).await;
    assert_eq!(by_update[0], alpha);
    let touched = app.get(&format!("/v1/companies/{alpha}"), token).await;
    let at = touched.ok(200)["updated_at"].as_str().unwrap().to_owned();
    let enc = |t: &str| t.replace('+', "%2B").replace(':', "%3A");
    assert_eq!(
        found(
            &app,
            token,
            &list(&format!("sort=-updated&updated_after={}", enc(&at)))
        )
        .await,
        vec![alpha.clone()]
    );
    assert_eq!(
        found(&app, token, &list(&format!("updated_before={}", enc(&at)))).await,
        [gamma.clone(), beta.clone()]
    );
    let created = app.get(&format!("/v1/companies/{alpha}"), token).await;
    let created_at = created.ok(200)["created_at"].as_str().unwrap().to_owned();
    assert_eq!(
        found(
            &app,
            token,
            &list(&format!("created_after={}", enc(&created_at)))
        )
        .await,
        [gamma.clone(), alpha.clone()]
    );
    assert_eq!(
        found(
            &app,
            token,
            &list(&format!("created_before={}&sort=created", enc(&created_at)))
        )
        .await,
        vec![beta.clone()]
    );

    // Contacts filter by company, address, tags and stage alike.
    let linked = id(&app
        .create_contact(
            token,
            json!({"name": "Wu", "company_id": beta, "tags": ["Key"],
                   "address": {"country": "CN", "region": "广东", "city": "深圳"}}),
        )
        .await);
    app.create_contact(
        token,
        json!({"name": "Zhao", "lifecycle_stage": "customer"}),
    )
    .await;
    for q in [
        format!("company_id={beta}"),
        "country=CN&province=广东&city=深圳".to_owned(),
        "tags=key".to_owned(),
        "lifecycle_stage=lead".to_owned(),
    ] {
        assert_eq!(
            found(&app, token, &format!("/v1/contacts?{q}")).await,
            vec![linked.clone()],
            "{q}"
        );
    }
}

#[tokio::test]
async fn bad_search_and_filter_parameters_are_refused_by_name() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    for (q, field) in [
        ("/v1/contacts?q=", "q"),
        ("/v1/contacts?q=%20%2C%20", "q"),
        ("/v1/contacts?sort=age", "sort"),
        ("/v1/contacts?created_after=yesterday", "created_after"),
        ("/v1/contacts?lifecycle_stage=boss", "lifecycle_stage"),
        ("/v1/contacts?tags=a,,b", "tags"),
        ("/v1/contacts?owner_id=", "owner_id"),
        ("/v1/companies?size_band=huge", "size_band"),
        (
            "/v1/companies?updated_before=2026-13-01T00:00:00Z",
            "updated_before",
        ),
        ("/v1/search?q=", "q"),
        ("/v1/search", "q"),
    ] {
        let reply = app.get(q, token).await;
        assert_eq!(reply.invalid_fields(), [field], "{q}");
    }
}
