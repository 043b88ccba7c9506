//! Pipelines and deals: the default pipeline, stage editing and its guard, deals moving on
//! the board with their history and totals, scope and tenant isolation.

use crate::support::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// The tenant's pipeline and its stage ids by name.
async fn default_pipeline(app: &TestApp, token: &str) -> (String, Vec<(String, String)>) {
    let listed = app.get("/v1/pipelines", token).await;
    let pipeline = &listed.ok(200)["data"][0];
    let stages = pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_owned(), id(s)))
        .collect();
    (id(pipeline), stages)
}

fn stage<'a>(stages: &'a [(String, String)], name: &str) -> &'a str {
    &stages.iter().find(|(n, _)| n == name).unwrap().1
}

fn board_stage<'a>(board: &'a Value, stage_id: &str) -> &'a Value {
    board["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == stage_id)
        .unwrap()
}

#[tokio::test]
async fn sign_up_brings_a_default_pipeline_in_the_tenants_language() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let listed = app.get("/v1/pipelines", &acme.access_token).await;
    let pipelines = listed.ok(200)["data"].as_array().unwrap();
    assert_eq!(pipelines.len(), 1);
    let names: Vec<&str> = pipelines[0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "First contact",
            "Needs assessment",
            "Proposal",
            "Negotiation",
            "Won",
            "Lost"
        ]
    );
    assert_eq!(pipelines[0]["stages"][4]["kind"], "won");
    assert_eq!(pipelines[0]["stages"][5]["probability"], 0);

    let signed = app
        .post(
            "/v1/signup",
            None,
            json!({"company_name": "深圳示例", "email": crate::support::unique_email("zh"),
                   "password": "plum tree at dawn 42", "locale": "zh-CN"}),
        )
        .await;
    let token = signed.ok(201)["access_token"].as_str().unwrap().to_owned();
    let (_, stages) = default_pipeline(&app, &token).await;
    assert_eq!(stages[0].0, "初步接触");
    assert_eq!(stages[4].0, "赢单");
}

#[tokio::test]
async fn a_deal_moves_through_the_stages_with_its_history_and_board_totals() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let (pipeline, stages) = default_pipeline(&app, token).await;
    let contact = app.create_contact(token, json!({"name": "王小明"})).await;
    let created = app
        .post(
            "/v1/deals",
            Some(token),
            json!({"title": "  50 licences ", "contact_id": contact["id"],
                   "amount": {"amount_minor": 5_000_000, "currency": "CNY"},
                   "expected_close_date": "2026-12-31", "source": "referral"}),
        )
        .await;
    let deal = created.ok(201).clone();
    assert_eq!(
        created.headers["location"],
        format!("/v1/deals/{}", id(&deal))
    );
    assert_eq!(deal["title"], "50 licences");
    assert_eq!(deal["pipeline_id"], pipeline.as_str());
    assert_eq!(
        deal["stage_id"],
        stage(&stages, "First contact"),
        "a new deal starts in the first open stage"
    );
    assert_eq!(deal["status"], "open");
    assert_eq!(deal["owner_id"], acme.user_id);
    let path = format!("/v1/deals/{}", id(&deal));

    // A second deal in another currency, for the totals.
    app.post(
        "/v1/deals",
        Some(token),
        json!({"title": "Support plan", "amount": {"amount_minor": 12_000, "currency": "USD"}}),
    )
    .await
    .ok(201);
    let board = app
        .get(&format!("/v1/pipelines/{pipeline}/board"), token)
        .await;
    let first = board_stage(board.ok(200), stage(&stages, "First contact"));
    assert_eq!(first["count"], 2);
    assert_eq!(
        first["amounts"],
        json!([{"currency": "CNY", "amount_minor": 5_000_000},
               {"currency": "USD", "amount_minor": 12_000}])
    );
    assert_eq!(first["deals"].as_array().unwrap().len(), 2);

    // Moving is one PATCH with a version check.
    let etag = app.get(&path, token).await.etag();
    let proposal = stage(&stages, "Proposal");
    let moved = app
        .call_with(
            Method::PATCH,
            &path,
            Some(token),
            Some(json!({"stage_id": proposal})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(moved.ok(200)["stage_id"], proposal);
    app.call_with(
        Method::PATCH,
        &path,
        Some(token),
        Some(json!({"stage_id": stage(&stages, "Negotiation")})),
        &[("if-match", &etag)],
    )
    .await
    .problem(412, "version-mismatch");
    let won = app
        .patch(&path, token, json!({"stage_id": stage(&stages, "Won")}))
        .await;
    assert_eq!(won.ok(200)["status"], "won");
    assert!(won.body["closed_at"].is_string());

    let board = app
        .get(&format!("/v1/pipelines/{pipeline}/board"), token)
        .await;
    let board = board.ok(200);
    assert_eq!(
        board_stage(board, stage(&stages, "First contact"))["count"],
        1
    );
    assert_eq!(board_stage(board, proposal)["count"], 0);
    let won_stage = board_stage(board, stage(&stages, "Won"));
    assert_eq!(won_stage["count"], 1);
    assert_eq!(
        won_stage["amounts"],
        json!([{"currency": "CNY", "amount_minor": 5_000_000}])
    );
    assert_eq!(won_stage["deals"][0]["id"], deal["id"]);

    let history = app.get(&format!("{path}/stage-history"), token).await;
    let changes = history.ok(200)["data"].as_array().unwrap();
    let path_taken: Vec<(&Value, &Value)> = changes
        .iter()
        .map(|c| (&c["from_stage_id"], &c["to_stage_id"]))
        .collect();
    assert_eq!(
        path_taken,
        [
            (&Value::Null, &json!(stage(&stages, "First contact"))),
            (&json!(stage(&stages, "First contact")), &json!(proposal)),
            (&json!(proposal), &json!(stage(&stages, "Won"))),
        ]
    );
    assert!(changes[1]["seconds_in_from_stage"].as_i64().unwrap() >= 0);
    assert_eq!(changes[2]["by"], acme.user_id);

    // The contact's timeline tells of the deal; its deals list holds it.
    let timeline = app
        .get(&format!("/v1/contacts/{}/timeline", id(&contact)), token)
        .await;
    let actions: Vec<&str> = timeline.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"] == "deals")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["deal.stage_changed", "deal.stage_changed", "deal.created"]
    );
    let of_contact = app
        .get(&format!("/v1/deals?contact_id={}", id(&contact)), token)
        .await;
    assert_eq!(of_contact.ok(200)["data"][0]["id"], deal["id"]);
    assert_eq!(of_contact.body["data"].as_array().unwrap().len(), 1);
    let won_list = app.get("/v1/deals?status=won", token).await;
    assert_eq!(won_list.ok(200)["data"].as_array().unwrap().len(), 1);

    app.delete(&path, token).await.ok(204);
    app.get(&path, token).await.problem(404, "not-found");
    let board = app
        .get(&format!("/v1/pipelines/{pipeline}/board"), token)
        .await;
    assert_eq!(
        board_stage(board.ok(200), stage(&stages, "Won"))["count"],
        0
    );
}

#[tokio::test]
async fn invalid_deals_are_refused_naming_each_field() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let other = app.sign_up("Other").await;
    let token = &acme.access_token;
    let (_, other_stages) = default_pipeline(&app, &other.access_token).await;
    let foreign_contact = app
        .create_contact(&other.access_token, json!({"name": "Elsewhere"}))
        .await;
    let refused = app
        .post(
            "/v1/deals",
            Some(token),
            json!({"title": " ", "amount": {"amount_minor": -1, "currency": "cny"},
                   "expected_close_date": "2026-02-30", "stage_id": other_stages[0].1,
                   "contact_id": foreign_contact["id"]}),
        )
        .await;
    refused.problem(422, "validation-failed");
    assert_eq!(
        refused.invalid_fields(),
        [
            "title",
            "amount.amount_minor",
            "amount.currency",
            "expected_close_date",
            "stage_id",
            "contact_id"
        ]
    );
    app.post(
        "/v1/deals",
        Some(token),
        json!({"title": "x", "pipeline_id": "pip_nope"}),
    )
    .await
    .problem(422, "validation-failed");
    let unknown = app
        .post(
            "/v1/deals",
            Some(token),
            json!({"title": "x", "probability": 5}),
        )
        .await;
    assert_eq!(unknown.invalid_fields(), ["probability"]);
}

#[tokio::test]
async fn stages_are_renamed_reordered_added_and_removed_only_when_empty() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let (pipeline, stages) = default_pipeline(&app, token).await;
    let path = format!("/v1/pipelines/{pipeline}");
    let deal = app
        .post(
            "/v1/deals",
            Some(token),
            json!({"title": "Fleet", "stage_id": stage(&stages, "Proposal")}),
        )
        .await
        .ok(201)
        .clone();

    // Proposal (holding a deal) cannot go; the answer says where to move its deals.
    let without_proposal: Vec<Value> = stages
        .iter()
        .filter(|(n, _)| n != "Proposal")
        .map(|(n, i)| json!({"id": i, "name": n}))
        .collect();
    let refused = app
        .patch(&path, token, json!({"stages": without_proposal}))
        .await;
    let problem = refused.problem(409, "stage-not-empty");
    assert!(problem["detail"].as_str().unwrap().contains("move-deals"));

    let moved = app
        .post(
            &format!("{path}/stages/{}/move-deals", stage(&stages, "Proposal")),
            Some(token),
            json!({"to_stage_id": stage(&stages, "Negotiation")}),
        )
        .await;
    assert_eq!(moved.ok(200)["moved"], 1);
    assert_eq!(moved.body["remaining"], 0);
    let read = app.get(&format!("/v1/deals/{}", id(&deal)), token).await;
    assert_eq!(read.ok(200)["stage_id"], stage(&stages, "Negotiation"));

    let cleared = app
        .patch(&path, token, json!({"name": null, "stages": null}))
        .await;
    assert_eq!(cleared.invalid_fields(), ["name", "stages"]);

    // Now it goes; at the same time a stage is renamed, one added, two swapped.
    let mut next: Vec<Value> = without_proposal.clone();
    next[0]["name"] = json!("Lead");
    next.swap(1, 2);
    next.insert(3, json!({"name": "Contract", "probability": 90}));
    let changed = app.patch(&path, token, json!({"stages": next})).await;
    let body = changed.ok(200);
    let names: Vec<&str> = body["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Lead",
            "Negotiation",
            "Needs assessment",
            "Contract",
            "Won",
            "Lost"
        ]
    );
    assert_eq!(body["stages"][0]["id"], stage(&stages, "First contact"));
    assert_eq!(body["stages"][3]["kind"], "open");
    assert_eq!(body["version"], 2);

    // A deal cannot enter the removed stage.
    app.patch(
        &format!("/v1/deals/{}", id(&deal)),
        token,
        json!({"stage_id": stage(&stages, "Proposal")}),
    )
    .await
    .problem(422, "validation-failed");

    // Pipelines: a second one, with its own stages; the last one cannot be deleted.
    let second = app
        .post(
            "/v1/pipelines",
            Some(token),
            json!({"name": "Renewals", "stages": [
                {"name": "Due"}, {"name": "Renewed", "kind": "won"},
                {"name": "Churned", "kind": "lost"}]}),
        )
        .await;
    let second = second.ok(201).clone();
    let moved_over = app
        .patch(
            &format!("/v1/deals/{}", id(&deal)),
            token,
            json!({"pipeline_id": second["id"]}),
        )
        .await;
    assert_eq!(
        moved_over.ok(200)["stage_id"],
        second["stages"][0]["id"],
        "another pipeline without a stage: its first open stage"
    );
    app.delete(&format!("/v1/pipelines/{}", id(&second)), token)
        .await
        .problem(409, "stage-not-empty");
    app.delete(&format!("/v1/deals/{}", id(&deal)), token)
        .await
        .ok(204);
    app.delete(&format!("/v1/pipelines/{}", id(&second)), token)
        .await
        .ok(204);
    app.delete(&path, token).await.problem(409, "last-pipeline");
    let bad = app
        .post(
            "/v1/pipelines",
            Some(token),
            json!({"name": "", "stages": [{"name": "Only", "probability": 120}]}),
        )
        .await;
    bad.problem(422, "validation-failed");
    assert_eq!(
        bad.invalid_fields(),
        [
            "name",
            "stages",
            "stages[0].probability",
            "stages",
            "stages"
        ]
    );
}

#[tokio::test]
async fn sellers_see_their_own_deals_and_totals_and_other_tenants_see_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let (pipeline, stages) = default_pipeline(&app, admin).await;
    let seller = app.add_user(admin, &["sales"]).await;
    let other_seller = app.add_user(admin, &["sales"]).await;
    let amount = |n: i64| json!({"amount_minor": n, "currency": "CNY"});
    let mine = app
        .post(
            "/v1/deals",
            Some(&seller.access_token),
            json!({"title": "Mine", "amount": amount(100)}),
        )
        .await
        .ok(201)
        .clone();
    let theirs = app
        .post(
            "/v1/deals",
            Some(&other_seller.access_token),
            json!({"title": "Theirs", "amount": amount(1000)}),
        )
        .await
        .ok(201)
        .clone();

    let first = stage(&stages, "First contact");
    let board = app
        .get(
            &format!("/v1/pipelines/{pipeline}/board"),
            &seller.access_token,
        )
        .await;
    let column = board_stage(board.ok(200), first);
    assert_eq!(
        column["count"], 1,
        "a seller's totals count only their deals"
    );
    assert_eq!(column["amounts"][0]["amount_minor"], 100);
    assert_eq!(column["deals"].as_array().unwrap().len(), 1);
    assert_eq!(column["deals"][0]["id"], mine["id"]);
    let board = app
        .get(&format!("/v1/pipelines/{pipeline}/board"), admin)
        .await;
    assert_eq!(board_stage(board.ok(200), first)["count"], 2);
    assert_eq!(
        board_stage(&board.body, first)["amounts"][0]["amount_minor"],
        1100
    );

    let theirs_path = format!("/v1/deals/{}", id(&theirs));
    app.get(&theirs_path, &seller.access_token)
        .await
        .problem(404, "not-found");
    app.patch(&theirs_path, &seller.access_token, json!({"title": "x"}))
        .await
        .problem(404, "not-found");
    let listed = app.get("/v1/deals", &seller.access_token).await;
    let ids: Vec<&Value> = listed.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["id"])
        .collect();
    assert_eq!(ids, [&mine["id"]]);

    // Another tenant: not found, never forbidden, on every route.
    let other = app.sign_up("Other").await;
    let token = &other.access_token;
    app.get(&theirs_path, token).await.problem(404, "not-found");
    app.patch(&theirs_path, token, json!({"title": "x"}))
        .await
        .problem(404, "not-found");
    app.delete(&theirs_path, token)
        .await
        .problem(404, "not-found");
    app.get(&format!("{theirs_path}/stage-history"), token)
        .await
        .problem(404, "not-found");
    for path in [
        format!("/v1/pipelines/{pipeline}"),
        format!("/v1/pipelines/{pipeline}/board"),
    ] {
        app.get(&path, token).await.problem(404, "not-found");
    }
    app.patch(
        &format!("/v1/pipelines/{pipeline}"),
        token,
        json!({"name": "Mine now"}),
    )
    .await
    .problem(404, "not-found");
    let (_, own_stages) = default_pipeline(&app, token).await;
    app.post(
        "/v1/deals",
        Some(token),
        json!({"title": "x", "pipeline_id": pipeline, "stage_id": first}),
    )
    .await
    .problem(422, "validation-failed");
    assert!(!own_stages.is_empty());
    assert!(
        app.get("/v1/deals", token).await.ok(200)["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_board_pages_each_stage_and_concurrent_moves_keep_the_totals() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let (pipeline, stages) = default_pipeline(&app, token).await;
    let first = stage(&stages, "First contact").to_owned();
    let mut ids = Vec::new();
    for n in 0..7 {
        let deal = app
            .post(
                "/v1/deals",
                Some(token),
                json!({"title": format!("Deal {n}"), "amount": {"amount_minor": 10, "currency": "EUR"}}),
            )
            .await;
        ids.push(id(deal.ok(201)));
    }
    let mut seen = Vec::new();
    let mut path = format!("/v1/pipelines/{pipeline}/board?limit=3");
    loop {
        let board = app.get(&path, token).await;
        let column = board_stage(board.ok(200), &first).clone();
        assert_eq!(column["count"], 7);
        seen.extend(column["deals"].as_array().unwrap().iter().map(id));
        match column["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!(
                    "/v1/pipelines/{pipeline}/board?limit=3&stage_id={first}&cursor={cursor}"
                )
            }
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "every deal once, newest first");
    app.get(&format!("/v1/pipelines/{pipeline}/board?cursor=abc"), token)
        .await
        .problem(422, "validation-failed");

    // Seven concurrent moves into one stage: every one lands and is counted.
    let target = stage(&stages, "Proposal").to_owned();
    let mut moves = Vec::new();
    for deal in &ids {
        let (app, token, path, target) = (
            app.clone(),
            token.clone(),
            format!("/v1/deals/{deal}"),
            target.clone(),
        );
        moves.push(tokio::spawn(async move {
            app.patch(&path, &token, json!({"stage_id": target}))
                .await
                .status
        }));
    }
    for m in moves {
        assert_eq!(m.await.unwrap(), 200);
    }
    let board = app
        .get(&format!("/v1/pipelines/{pipeline}/board"), token)
        .await;
    let board = board.ok(200);
    assert_eq!(board_stage(board, &first)["count"], 0);
    assert_eq!(board_stage(board, &target)["count"], 7);
    assert_eq!(
        board_stage(board, &target)["amounts"],
        json!([{"currency": "EUR", "amount_minor": 70}])
    );
}

#[tokio::test]
async fn deals_have_their_own_custom_fields() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    app.post(
        "/v1/settings/fields",
        Some(token),
        json!({"object": "deals", "key": "po_number", "label": "PO number",
               "type": "text", "required": true, "unique": true}),
    )
    .await
    .ok(201);
    let missing = app
        .post("/v1/deals", Some(token), json!({"title": "No PO"}))
        .await;
    assert_eq!(missing.invalid_fields(), ["custom.po_number"]);
    let deal = app
        .post(
            "/v1/deals",
            Some(token),
            json!({"title": "With PO", "custom": {"po_number": "PO-1"}}),
        )
        .await;
    assert_eq!(deal.ok(201)["custom"]["po_number"], "PO-1");
    let again = app
        .post(
            "/v1/deals",
            Some(token),
            json!({"title": "Same PO", "custom": {"po_number": "po-1"}}),
        )
        .await;
    assert_eq!(
        again.invalid_fields(),
        ["custom.po_number"],
        "unique, ignoring case"
    );
    // Contacts do not gain the deal's field.
    app.create_contact(token, json!({"name": "No PO needed"}))
        .await;
}

#[tokio::test]
async fn board_totals_over_huge_deals_are_exact_and_never_fail() {
    const MAX: i64 = 1_000_000_000_000_000;
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let (pipeline, stages) = default_pipeline(&app, token).await;
    let first = stage(&stages, "First contact").to_owned();
    let deal = |amount: i64| {
        let app = &app;
        async move {
            app.post(
                "/v1/deals",
                Some(token),
                json!({"title": "Fleet", "amount": {"amount_minor": amount, "currency": "CNY"}}),
            )
            .await
        }
    };
    for amount in [MAX + 1, -1, i64::MAX, i64::MIN] {
        assert_eq!(deal(amount).await.invalid_fields(), ["amount.amount_minor"]);
    }
    deal(MAX).await.ok(201);
    // A stage whose total has grown near what 64 bits hold (thousands of such deals).
    let tenant = shared::ids::TenantId::parse(&acme.tenant_id).unwrap();
    let stats = shared::deals::stats::read(app.state.table.as_ref(), &tenant, &pipeline, &first)
        .await
        .unwrap();
    let near = i64::MAX - 10;
    let mut grown = stats.clone();
    grown
        .all
        .amounts
        .insert("CNY".into(), shared::money::Sum(near.into()));
    let owner = grown.owners.get_mut(&acme.user_id).unwrap();
    owner
        .amounts
        .insert("CNY".into(), shared::money::Sum(near.into()));
    let mut write = grown.write(&tenant, &pipeline).unwrap();
    if let shared::table::Write::Put { condition, .. } = &mut write {
        *condition = shared::table::Condition::None;
    }
    app.state.table.transact(vec![write]).await.unwrap();

    let mut made = Vec::new();
    for _ in 0..4 {
        made.push(id(deal(MAX).await.ok(201)));
    }
    let want = near as f64 + 4.0 * MAX as f64;
    let total = |board: &Value| {
        board_stage(board, &first)["amounts"][0]["amount_minor"]
            .as_f64()
            .unwrap()
    };
    let board = app
        .get(&format!("/v1/pipelines/{pipeline}/board"), token)
        .await;
    assert!((total(board.ok(200)) - want).abs() < 1e4, "{}", board.body);
    // A seller sees their own share, summed the same way.
    let sales = app.add_user(token, &["sales"]).await;
    let theirs = app
        .get(
            &format!("/v1/pipelines/{pipeline}/board"),
            &sales.access_token,
        )
        .await;
    assert_eq!(board_stage(theirs.ok(200), &first)["amounts"], json!([]));
    // Deleting the deals takes them back out.
    for deal in made {
        app.delete(&format!("/v1/deals/{deal}"), token)
            .await
            .ok(204);
    }
    let board = app
        .get(&format!("/v1/pipelines/{pipeline}/board"), token)
        .await;
    assert_eq!(
        board_stage(board.ok(200), &first)["amounts"][0]["amount_minor"],
        near
    );
}

#[tokio::test]
async fn emptying_a_stage_never_undoes_a_move_made_meanwhile() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let (pipeline, stages) = default_pipeline(&app, token).await;
    let (first, next, proposal) = (
        stage(&stages, "First contact"),
        stage(&stages, "Needs assessment"),
        stage(&stages, "Proposal"),
    );
    for round in 0..6 {
        let deal = app
            .post(
                "/v1/deals",
                Some(token),
                json!({"title": format!("Deal {round}")}),
            )
            .await;
        let path = format!("/v1/deals/{}", id(deal.ok(201)));
        let barrier = tokio::sync::Barrier::new(2);
        let empty = async {
            barrier.wait().await;
            app.post(
                &format!("/v1/pipelines/{pipeline}/stages/{first}/move-deals"),
                Some(token),
                json!({ "to_stage_id": next }),
            )
            .await
        };
        let drag = async {
            barrier.wait().await;
            app.patch(&path, token, json!({ "stage_id": proposal }))
                .await
        };
        let (emptied, dragged) = tokio::join!(empty, drag);
        emptied.ok(200);
        dragged.ok(200);
        let read = app.get(&path, token).await;
        assert_eq!(
            read.ok(200)["stage_id"],
            proposal,
            "round {round}: the deal stays where it was put"
        );
    }
    let board = app
        .get(&format!("/v1/pipelines/{pipeline}/board"), token)
        .await;
    assert_eq!(board_stage(board.ok(200), proposal)["count"], 6);
    assert_eq!(board_stage(&board.body, first)["count"], 0);
}

#[tokio::test]
async fn a_role_that_hides_deal_fields_cannot_filter_by_them_nor_read_them_in_histories_or_totals()
{
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let (pipeline, stages) = default_pipeline(&app, admin).await;
    let first = stage(&stages, "First contact");
    let deal = app
        .post(
            "/v1/deals",
            Some(admin),
            json!({"title": "Big one", "amount": {"amount_minor": 9_000_000, "currency": "CNY"}}),
        )
        .await
        .ok(201)
        .clone();
    let path = format!("/v1/deals/{}", id(&deal));
    app.patch(
        &path,
        admin,
        json!({"stage_id": stage(&stages, "Proposal")}),
    )
    .await
    .ok(200);
    let role = app
        .create_role(
            admin,
            "Deal glance",
            json!({"deals": {"actions": ["read"], "scope": "all",
                             "fields": {"amount": "hidden", "owner_id": "hidden",
                                        "stage_id": "hidden"}}}),
        )
        .await;
    let viewer = app.add_user(admin, &[&role]).await;
    let v = &viewer.access_token;

    // Filtering by a hidden field would tell it: refused, naming the parameter.
    for (query, param) in [
        (format!("owner_id={}", acme.user_id), "owner_id"),
        (format!("stage_id={first}"), "stage_id"),
    ] {
        let refused = app.get(&format!("/v1/deals?{query}"), v).await;
        refused.problem(403, "hidden-field");
        assert_eq!(
            refused.body["errors"][0]["field"], param,
            "{:?}",
            refused.body
        );
    }
    app.get(&format!("/v1/deals?owner_id={}", acme.user_id), admin)
        .await
        .ok(200);
    let listed = app.get("/v1/deals", v).await;
    let seen = &listed.ok(200)["data"][0];
    assert!(
        seen.get("amount").is_none() && seen.get("stage_id").is_none(),
        "{seen}"
    );

    // The stage history shows no stage ids to a role that hides them.
    let history = app.get(&format!("{path}/stage-history"), v).await;
    let changes = history.ok(200)["data"].as_array().unwrap().clone();
    assert_eq!(changes.len(), 2);
    for change in &changes {
        assert!(change["to_stage_id"].is_null() && change["from_stage_id"].is_null());
        assert!(
            !change["to_pipeline_id"].is_null(),
            "pipelines are not hidden"
        );
    }
    let full = app.get(&format!("{path}/stage-history"), admin).await;
    assert_eq!(
        full.ok(200)["data"][1]["to_stage_id"],
        stage(&stages, "Proposal")
    );

    // A board would place each deal in its hidden stage.
    let refused = app.get(&format!("/v1/pipelines/{pipeline}/board"), v).await;
    refused.problem(403, "hidden-field");
    assert_eq!(refused.body["errors"][0]["field"], "stage_id");

    // Board totals of a hidden amount are left out; counts stay.
    let role = app
        .create_role(
            admin,
            "No amounts",
            json!({"deals": {"actions": ["read"], "scope": "all",
                             "fields": {"amount": "hidden", "owner_id": "hidden",
                                        "expected_close_date": "hidden"}}}),
        )
        .await;
    let viewer = app.add_user(admin, &[&role]).await;
    // Nor can a board be filtered by what the role hides or masks.
    for (query, param) in [
        (format!("owner_id={}", acme.user_id), "owner_id"),
        ("close_from=2020-01-01".to_owned(), "close_from"),
        ("close_to=2030-01-01".to_owned(), "close_to"),
    ] {
        let refused = app
            .get(
                &format!("/v1/pipelines/{pipeline}/board?{query}"),
                &viewer.access_token,
            )
            .await;
        refused.problem(403, "hidden-field");
        assert_eq!(
            refused.body["errors"][0]["field"], param,
            "{}",
            refused.body
        );
    }
    let board = app
        .get(
            &format!("/v1/pipelines/{pipeline}/board"),
            &viewer.access_token,
        )
        .await;
    let column = board_stage(board.ok(200), stage(&stages, "Proposal"));
    assert_eq!(column["count"], 1);
    assert_eq!(column["amounts"], json!([]));
    let board = app
        .get(&format!("/v1/pipelines/{pipeline}/board"), admin)
        .await;
    assert_eq!(
        board_stage(board.ok(200), stage(&stages, "Proposal"))["amounts"][0]["amount_minor"],
        9_000_000
    );
}

/// A board filtered by owner or expected close date shows only those deals, pages through
/// them in full pages, and its stage totals follow the filter; a seller asking for a
/// colleague's deals gets an empty board, not theirs.
#[tokio::test]
async fn a_board_filters_by_owner_and_close_date_and_its_totals_follow() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let (pipeline, stages) = default_pipeline(&app, admin).await;
    let first = stage(&stages, "First contact");
    let (ann, bob) = (
        app.add_user(admin, &["sales"]).await,
        app.add_user(admin, &["sales"]).await,
    );
    // Ann: 100 closing in January, 200 in February, 400 without a date; Bob: 1000 and
    // 2000 in January.
    for (seller, amount, close) in [
        (&ann, 100, Some("2027-01-15")),
        (&ann, 200, Some("2027-02-01")),
        (&ann, 400, None),
        (&bob, 1000, Some("2027-01-01")),
        (&bob, 2000, Some("2027-01-31")),
    ] {
        let mut deal = json!({"title": format!("Deal {amount}"), "amount": {"amount_minor": amount, "currency": "CNY"}});
        if let Some(close) = close {
            deal["expected_close_date"] = json!(close);
        }
        app.post("/v1/deals", Some(&seller.access_token), deal)
            .await
            .ok(201);
    }
    let column = |query: &str, token: &str| {
        let path = format!("/v1/pipelines/{pipeline}/board?{query}");
        let (app, token, first) = (&app, token.to_owned(), first.to_owned());
        async move {
            let board = app.get(&path, &token).await;
            let column = board_stage(board.ok(200), &first).clone();
            let mut amounts: Vec<i64> = column["deals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["amount"]["amount_minor"].as_i64().unwrap())
                .collect();
            amounts.sort_unstable();
            (
                column["count"].as_u64().unwrap(),
                column["amounts"][0]["amount_minor"].as_i64().unwrap_or(0),
                amounts,
            )
        }
    };
    let ann_id = &ann.user_id;
    assert_eq!(
        column("", admin).await,
        (5, 3700, vec![100, 200, 400, 1000, 2000])
    );
    assert_eq!(
        column(&format!("owner_id={ann_id}"), admin).await,
        (3, 700, vec![100, 200, 400])
    );
    assert_eq!(
        column("close_from=2027-01-01&close_to=2027-01-31", admin).await,
        (3, 3100, vec![100, 1000, 2000]),
        "both ends are inside the range; a deal without a date is outside"
    );
    assert_eq!(
        column("close_from=2027-01-20", admin).await,
        (2, 2200, vec![200, 2000])
    );
    assert_eq!(
        column("close_to=2027-01-14", admin).await,
        (1, 1000, vec![1000])
    );
    assert_eq!(
        column(&format!("owner_id={ann_id}&close_to=2027-01-31"), admin).await,
        (1, 100, vec![100])
    );
    // A seller sees their own deals only, whatever they ask for.
    assert_eq!(
        column("close_to=2027-12-31", &ann.access_token).await,
        (2, 300, vec![100, 200])
    );
    assert_eq!(
        column(&format!("owner_id={}", bob.user_id), &ann.access_token).await,
        (0, 0, vec![])
    );
    assert_eq!(
        column(&format!("owner_id={ann_id}"), &ann.access_token).await,
        (3, 700, vec![100, 200, 400])
    );

    // Full pages through a filter that skips deals: 2, then 1, then none left.
    let page = app
        .get(
            &format!("/v1/pipelines/{pipeline}/board?stage_id={first}&limit=2&close_to=2027-01-31"),
            admin,
        )
        .await;
    let column = board_stage(page.ok(200), first);
    assert_eq!(column["deals"].as_array().unwrap().len(), 2);
    let cursor = column["next_cursor"].as_str().unwrap().to_owned();
    let next = app
        .get(
            &format!("/v1/pipelines/{pipeline}/board?stage_id={first}&limit=2&close_to=2027-01-31&cursor={cursor}"),
            admin,
        )
        .await;
    let column = board_stage(next.ok(200), first);
    assert_eq!(column["deals"].as_array().unwrap().len(), 1);

    for (query, field) in [
        ("close_from=2027-13-01", "close_from"),
        ("close_to=tomorrow", "close_to"),
        ("close_from=2027-02-01&close_to=2027-01-01", "close_to"),
    ] {
        let refused = app
            .get(&format!("/v1/pipelines/{pipeline}/board?{query}"), admin)
            .await;
        refused.problem(422, "validation-failed");
        assert_eq!(refused.invalid_fields(), [field], "{query}");
    }
}
