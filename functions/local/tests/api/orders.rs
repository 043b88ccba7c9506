//! Orders: sequential numbers, exact totals, the ways a status may go, partners' orders
//! safe to repeat, purchase histories kept current, scope and tenant isolation.

use crate::support::TestApp;
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn product(app: &TestApp, token: &str, sku: &str, price: i64, tax_bp: u32) -> String {
    let created = app
        .post(
            "/v1/products",
            Some(token),
            json!({"sku": sku, "name": format!("Product {sku}"), "tax_rate_bp": tax_bp,
                   "unit_price": {"amount_minor": price, "currency": "CNY"}}),
        )
        .await;
    id(created.ok(201))
}

#[tokio::test]
async fn an_order_is_numbered_totalled_exactly_and_moves_through_its_statuses() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let licence = product(&app, token, "LIC", 3_333, 1_300).await;
    let contact = app.create_contact(token, json!({"name": "Ada"})).await;
    let created = app
        .post(
            "/v1/orders",
            Some(token),
            json!({"contact_id": contact["id"], "lines": [
                {"product_id": licence, "quantity": 3, "discount_bp": 1000},
                {"description": "Installation", "quantity": 1, "unit_price_minor": 50_000}
            ]}),
        )
        .await;
    let order = created.ok(201).clone();
    assert_eq!(order["number"], "SO-000001");
    assert_eq!(order["currency"], "CNY", "from the product");
    assert_eq!(order["status"], "draft");
    let line = &order["lines"][0];
    assert_eq!(line["description"], "Product LIC");
    assert_eq!(line["sku"], "LIC");
    // 3 × 33.33 = 99.99; 10 % off = 10.00; 13 % tax on 89.99 = 11.70.
    assert_eq!(line["amount_minor"], 9_999);
    assert_eq!(line["discount_minor"], 1_000);
    assert_eq!(line["tax_minor"], 1_170);
    assert_eq!(line["total_minor"], 10_169);
    assert_eq!(order["amount_minor"], 59_999);
    assert_eq!(order["discount_minor"], 1_000);
    assert_eq!(order["tax_minor"], 1_170);
    assert_eq!(order["total_minor"], 60_169);
    let second = app
        .post(
            "/v1/orders",
            Some(token),
            json!({"lines": [{"product_id": licence, "quantity": 1}]}),
        )
        .await;
    assert_eq!(second.ok(201)["number"], "SO-000002");

    let path = format!("/v1/orders/{}", id(&order));
    let confirmed = app
        .patch(&path, token, json!({"status": "confirmed"}))
        .await;
    assert!(confirmed.ok(200)["confirmed_at"].is_string());
    let locked = app
        .patch(
            &path,
            token,
            json!({"lines": [{"description": "x", "quantity": 1, "unit_price_minor": 1}]}),
        )
        .await;
    assert_eq!(locked.invalid_fields(), ["lines"]);
    let backwards = app.patch(&path, token, json!({"status": "draft"})).await;
    assert_eq!(backwards.invalid_fields(), ["status"]);
    for status in ["shipped", "paid", "refunded"] {
        let moved = app.patch(&path, token, json!({"status": status})).await;
        assert!(
            moved.ok(200)[format!("{status}_at")].is_string(),
            "{status}"
        );
    }
    app.delete(&path, token)
        .await
        .problem(409, "order-not-draft");
    let draft = format!("/v1/orders/{}", id(&second.body));
    app.delete(&draft, token).await.ok(204);

    // The contact's timeline tells of the order.
    let timeline = app
        .get(&format!("/v1/contacts/{}/timeline", id(&contact)), token)
        .await;
    let actions: Vec<&str> = timeline.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"] == "orders")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.len(), 5, "{actions:?}");
    assert_eq!(actions[4], "order.created");

    let bad = app
        .post(
            "/v1/orders",
            Some(token),
            json!({"currency": "cny", "status": "shipped", "lines": [
                {"quantity": 0, "unit_price_minor": -1},
                {"product_id": "prd_00000000000000000000000000", "quantity": 1},
                {"description": "x", "quantity": 1}
            ]}),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        [
            "lines[0].description",
            "lines[0].quantity",
            "lines[0].unit_price_minor",
            "lines[1].product_id",
            "lines[2].unit_price_minor",
            "currency",
            "status"
        ]
    );
}

#[tokio::test]
async fn a_partners_order_is_made_once_however_often_it_is_sent() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let acme = app.sign_up("Acme").await;
    let token = acme.access_token.clone();
    let body = json!({"source": "shop", "external_id": "10001", "currency": "CNY",
                      "lines": [{"description": "Tea", "quantity": 2, "unit_price_minor": 4_800}]});
    let mut sends = Vec::new();
    for _ in 0..4 {
        let (app, token, body) = (app.clone(), token.clone(), body.clone());
        sends.push(tokio::spawn(async move {
            let reply = app.post("/v1/orders", Some(&token), body).await;
            (reply.status.as_u16(), reply.body["id"].clone())
        }));
    }
    let mut ids = Vec::new();
    let mut created = 0;
    for send in sends {
        let (status, id) = send.await.unwrap();
        assert!(status == 201 || status == 200, "{status}");
        created += usize::from(status == 201);
        ids.push(id);
    }
    assert_eq!(created, 1, "one order made");
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "every answer is that order"
    );
    let listed = app.get("/v1/orders", &token).await;
    assert_eq!(listed.ok(200)["data"].as_array().unwrap().len(), 1);

    // The ERP upserts by its own id: created, then updated, never doubled.
    let path = "/v1/orders/external/erp/INV-7";
    let put = |status: &str| {
        json!({"currency": "CNY", "status": status,
               "lines": [{"description": "Audit", "quantity": 1, "unit_price_minor": 100_000}]})
    };
    let first = app
        .call(reqwest::Method::PUT, path, Some(&token), Some(put("draft")))
        .await;
    let first = first.ok(201).clone();
    assert_eq!(first["external_id"], "INV-7");
    let again = app
        .call(
            reqwest::Method::PUT,
            path,
            Some(&token),
            Some(put("confirmed")),
        )
        .await;
    assert_eq!(again.ok(200)["id"], first["id"]);
    assert_eq!(again.body["status"], "confirmed");
    let listed = app.get("/v1/orders", &token).await;
    assert_eq!(listed.ok(200)["data"].as_array().unwrap().len(), 2);
    let bad = app
        .call(
            reqwest::Method::PUT,
            "/v1/orders/external/erp/INV-7",
            Some(&token),
            Some(json!({"external_id": "OTHER", "lines": []})),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["external_id"]);
}

#[tokio::test]
async fn purchase_histories_follow_orders_as_they_are_confirmed_and_cancelled() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let company = app
        .post("/v1/companies", Some(token), json!({"name": "Engines Ltd"}))
        .await
        .ok(201)
        .clone();
    let contact = app
        .create_contact(token, json!({"name": "Ada", "company_id": company["id"]}))
        .await;
    let history =
        |resource: &str, record: &Value| format!("/v1/{resource}/{}/purchases", id(record));
    let empty = app.get(&history("contacts", &contact), token).await;
    assert_eq!(empty.ok(200)["order_count"], 0);
    assert!(empty.body["first_purchase_at"].is_null());

    let mut orders = Vec::new();
    for amount in [10_000, 20_001, 30_000] {
        let order = app
            .post(
                "/v1/orders",
                Some(token),
                json!({"contact_id": contact["id"], "company_id": company["id"], "currency": "CNY",
                       "status": "confirmed",
                       "lines": [{"description": "Service", "quantity": 1, "unit_price_minor": amount}]}),
            )
            .await;
        orders.push(order.ok(201).clone());
    }
    // A draft is no purchase.
    app.post(
        "/v1/orders",
        Some(token),
        json!({"contact_id": contact["id"], "currency": "CNY",
               "lines": [{"description": "Maybe", "quantity": 1, "unit_price_minor": 99}]}),
    )
    .await
    .ok(201);
    for resource in ["contacts", "companies"] {
        let record = if resource == "contacts" {
            &contact
        } else {
            &company
        };
        let h = app.get(&history(resource, record), token).await;
        let h = h.ok(200);
        assert_eq!(h["order_count"], 3, "{resource}");
        assert_eq!(
            h["lifetime_value"],
            json!([{"currency": "CNY", "amount_minor": 60_001}])
        );
        assert_eq!(
            h["average_order_value"],
            json!([{"currency": "CNY", "amount_minor": 20_000}])
        );
        assert_eq!(h["first_purchase_at"], orders[0]["confirmed_at"]);
        assert_eq!(h["last_purchase_at"], orders[2]["confirmed_at"]);
    }
    // Cancelling the last purchase takes it out, and the last date goes back.
    app.patch(
        &format!("/v1/orders/{}", id(&orders[2])),
        token,
        json!({"status": "cancelled"}),
    )
    .await
    .ok(200);
    let h = app.get(&history("contacts", &contact), token).await;
    let h = h.ok(200);
    assert_eq!(h["order_count"], 2);
    assert_eq!(h["lifetime_value"][0]["amount_minor"], 30_001);
    assert_eq!(h["last_purchase_at"], orders[1]["confirmed_at"]);
    let of_contact = app
        .get(&format!("/v1/orders?contact_id={}", id(&contact)), token)
        .await;
    assert_eq!(of_contact.ok(200)["data"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn sellers_see_their_own_orders_and_other_tenants_none() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let seller = app.add_user(admin, &["sales"]).await;
    let line = json!([{"description": "Tea", "quantity": 1, "unit_price_minor": 100}]);
    let admins = app
        .post(
            "/v1/orders",
            Some(admin),
            json!({"currency": "CNY", "lines": line}),
        )
        .await
        .ok(201)
        .clone();
    let mine = app
        .post(
            "/v1/orders",
            Some(&seller.access_token),
            json!({"currency": "CNY", "lines": line}),
        )
        .await
        .ok(201)
        .clone();
    let listed = app.get("/v1/orders", &seller.access_token).await;
    let ids: Vec<String> = listed.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    assert_eq!(ids, [id(&mine)]);
    let path = format!("/v1/orders/{}", id(&admins));
    app.get(&path, &seller.access_token)
        .await
        .problem(404, "not-found");

    let other = app.sign_up("Other").await;
    for reply in [
        app.get(&path, &other.access_token).await,
        app.patch(&path, &other.access_token, json!({"status": "confirmed"}))
            .await,
        app.delete(&path, &other.access_token).await,
    ] {
        reply.problem(404, "not-found");
    }
    let contact = app.create_contact(admin, json!({"name": "Ada"})).await;
    app.get(
        &format!("/v1/contacts/{}/purchases", id(&contact)),
        &other.access_token,
    )
    .await
    .problem(404, "not-found");
}

#[tokio::test]
async fn an_idempotency_key_answers_a_repeated_post_with_its_first_response() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let acme = app.sign_up("Acme").await;
    let token = acme.access_token.clone();
    let body = json!({"currency": "CNY",
                      "lines": [{"description": "Tea", "quantity": 1, "unit_price_minor": 100}]});
    let send = |key: &'static str, body: Value| {
        let (app, token) = (app.clone(), token.clone());
        async move {
            app.call_with(
                reqwest::Method::POST,
                "/v1/orders",
                Some(&token),
                Some(body),
                &[("idempotency-key", key)],
            )
            .await
        }
    };
    let first = send("order-1", body.clone()).await;
    let order = first.ok(201).clone();
    let again = send("order-1", body.clone()).await;
    assert_eq!(again.ok(201), &order, "the first response, again");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers["location"], first.headers["location"]);
    let listed = app.get("/v1/orders", &token).await;
    assert_eq!(listed.ok(200)["data"].as_array().unwrap().len(), 1);

    // The same key for another request is refused; a new key makes a new order.
    let mut other = body.clone();
    other["notes"] = json!("different");
    let reused = send("order-1", other.clone()).await;
    assert_eq!(reused.invalid_fields(), ["Idempotency-Key"]);
    send("order-2", other).await.ok(201);

    // Concurrent repeats: one runs; the others wait their turn (409) or get its answer.
    let mut racing = Vec::new();
    for _ in 0..5 {
        racing.push(tokio::spawn(send("order-3", body.clone())));
    }
    let mut made = std::collections::BTreeSet::new();
    for race in racing {
        let reply = race.await.unwrap();
        match reply.status.as_u16() {
            201 => {
                made.insert(id(&reply.body));
            }
            409 => {
                reply.problem(409, "idempotency-key-in-use");
            }
            other => panic!("{other}: {}", reply.body),
        }
    }
    assert_eq!(made.len(), 1, "one order for the key");
    let listed = app.get("/v1/orders", &token).await;
    assert_eq!(listed.ok(200)["data"].as_array().unwrap().len(), 3);

    // A refusal is kept too (the same request gets the same answer), and a bad key is
    // refused before anything runs.
    let invalid = json!({"lines": []});
    let refused = send("order-4", invalid.clone()).await;
    refused.problem(422, "validation-failed");
    let refused_again = send("order-4", invalid).await;
    assert_eq!(refused_again.body, refused.body);
    let bad_key = app
        .call_with(
            reqwest::Method::POST,
            "/v1/orders",
            Some(&token),
            Some(body),
            &[("idempotency-key", "has space")],
        )
        .await;
    assert_eq!(bad_key.invalid_fields(), ["Idempotency-Key"]);
    // Another user's key of the same name is theirs.
    let seller = app.add_user(&token, &["sales"]).await;
    let theirs = app
        .call_with(
            reqwest::Method::POST,
            "/v1/deals",
            Some(&seller.access_token),
            Some(json!({"title": "Theirs"})),
            &[("idempotency-key", "order-1")],
        )
        .await;
    theirs.ok(201);
}

#[tokio::test]
async fn a_won_deal_becomes_an_order() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let contact = app.create_contact(token, json!({"name": "Ada"})).await;
    let pipelines = app.get("/v1/pipelines", token).await;
    let won = pipelines.ok(200)["data"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "won")
        .unwrap()["id"]
        .clone();
    let deal = app
        .post(
            "/v1/deals",
            Some(token),
            json!({"title": "50 licences", "contact_id": contact["id"], "stage_id": won,
                   "amount": {"amount_minor": 5_000_000, "currency": "CNY"}}),
        )
        .await;
    let deal = deal.ok(201).clone();
    let order = app
        .post(
            "/v1/orders",
            Some(token),
            json!({"deal_id": deal["id"], "status": "confirmed"}),
        )
        .await;
    let order = order.ok(201);
    assert_eq!(order["deal_id"], deal["id"]);
    assert_eq!(order["contact_id"], contact["id"], "the deal's contact");
    assert_eq!(order["currency"], "CNY");
    assert_eq!(order["lines"][0]["description"], "50 licences");
    assert_eq!(order["total_minor"], 5_000_000);
    let without = app
        .post("/v1/orders", Some(token), json!({"currency": "CNY"}))
        .await;
    assert_eq!(without.invalid_fields(), ["lines"]);
}

#[tokio::test]
async fn a_shop_upserts_its_orders_in_bulk_and_hears_of_each() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = acme.access_token.clone();
    let order = |external: &str, quantity: i64| {
        json!({"source": "shop", "external_id": external, "currency": "CNY", "status": "draft",
               "lines": [{"description": "Tea", "quantity": quantity, "unit_price_minor": 4800}]})
    };
    let mut bad = order("10003", 1);
    bad["lines"][0]["quantity"] = json!(0);
    let first = app
        .post(
            "/v1/orders/bulk",
            Some(&token),
            json!({"orders": [order("10001", 1), order("10002", 2), bad,
                              {"currency": "CNY", "lines": []}]}),
        )
        .await;
    let results = first.ok(200)["results"].as_array().unwrap().clone();
    let statuses: Vec<_> = results.iter().map(|r| r["status"].clone()).collect();
    assert_eq!(statuses, [201, 201, 422, 422]);
    assert_eq!(results[1]["order"]["external_id"], "10002");
    assert_eq!(results[1]["order"]["total_minor"], 9600);
    assert_eq!(results[2]["index"], 2);
    assert_eq!(
        results[2]["problem"]["type"],
        "urn:crm:problem:validation-failed"
    );
    assert!(
        results[2]["problem"]["errors"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("lines[0]")
    );
    assert_eq!(results[3]["problem"]["errors"][0]["field"], "external_id");

    // Sent again (a retry after a lost answer), with one order changed: updated, not
    // doubled.
    let again = app
        .post(
            "/v1/orders/bulk",
            Some(&token),
            json!({"orders": [order("10001", 1), order("10002", 3)]}),
        )
        .await;
    let again = again.ok(200)["results"].as_array().unwrap().clone();
    assert_eq!(again[0]["status"], 200);
    assert_eq!(again[0]["order"]["id"], results[0]["order"]["id"]);
    assert_eq!(again[1]["order"]["total_minor"], 14400);
    let listed = app.get("/v1/orders", &token).await;
    assert_eq!(listed.ok(200)["data"].as_array().unwrap().len(), 2);

    let empty = app
        .post("/v1/orders/bulk", Some(&token), json!({"orders": []}))
        .await;
    assert_eq!(empty.invalid_fields(), ["orders"]);
    let many: Vec<_> = (0..101).map(|n| order(&format!("x{n}"), 1)).collect();
    let too_many = app
        .post("/v1/orders/bulk", Some(&token), json!({ "orders": many }))
        .await;
    assert_eq!(too_many.invalid_fields(), ["orders"]);
}

/// The largest amount a business can have, in minor units.
const MAX: i64 = 1_000_000_000_000_000;

/// A paid order of `contact` for `price` minor units (CNY), as the API answered it.
async fn paid_order(app: &TestApp, t: &str, contact: &str, price: i64) -> crate::support::Reply {
    app.post(
        "/v1/orders",
        Some(t),
        json!({"contact_id": contact, "currency": "CNY", "status": "paid",
               "lines": [{"description": "Turbine", "quantity": 1, "unit_price_minor": price,
                          "tax_rate_bp": 0}]}),
    )
    .await
}

#[tokio::test]
async fn orders_of_the_largest_amounts_never_overflow_a_purchase_history() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    let contact = id(&app.create_contact(t, json!({"name": "Big Buyer"})).await);
    // Amounts are bounded where they enter: a line, and an order's total.
    for (lines, field) in [
        (
            json!([{"description": "X", "quantity": 1, "unit_price_minor": MAX + 1}]),
            "lines[0].unit_price_minor",
        ),
        (
            json!([{"description": "X", "quantity": 1, "unit_price_minor": i64::MIN}]),
            "lines[0].unit_price_minor",
        ),
        (
            json!([{"description": "X", "quantity": 2, "unit_price_minor": MAX}]),
            "lines[0].quantity",
        ),
        (
            json!([{"description": "X", "quantity": 1, "unit_price_minor": MAX},
                   {"description": "Y", "quantity": 1, "unit_price_minor": MAX}]),
            "lines",
        ),
        (
            json!([{"description": "X", "quantity": 1, "unit_price_minor": MAX, "tax_rate_bp": 10_000}]),
            "lines",
        ),
    ] {
        let reply = app
            .post(
                "/v1/orders",
                Some(t),
                json!({"contact_id": contact, "currency": "CNY", "lines": lines}),
            )
            .await;
        assert!(
            reply.invalid_fields().contains(&field.to_owned()),
            "{}",
            reply.body
        );
    }
    for _ in 0..3 {
        paid_order(&app, t, &contact, MAX).await.ok(201);
    }
    // A history that has grown near what 64 bits hold (thousands of such orders, as a
    // long-lived customer's would): the next orders still go through, summed exactly.
    let tenant = shared::ids::TenantId::parse(&acme.tenant_id).unwrap();
    let key = shared::orders::service::purchases_key(&tenant, "contacts", &contact);
    let mut item = app.state.table.get(&key).await.unwrap().unwrap();
    let near = i64::MAX - 10;
    item["lifetime"]["CNY"] = json!(near);
    app.state
        .table
        .put(item, shared::table::Condition::None)
        .await
        .unwrap();
    for _ in 0..5 {
        paid_order(&app, t, &contact, MAX).await.ok(201);
    }
    let history = app
        .get(&format!("/v1/contacts/{contact}/purchases"), t)
        .await;
    let history = history.ok(200);
    assert_eq!(history["order_count"], 8);
    let lifetime = history["lifetime_value"][0]["amount_minor"]
        .as_f64()
        .unwrap();
    let want = near as f64 + 5.0 * MAX as f64;
    assert!((lifetime - want).abs() < 1e4, "{lifetime} != {want}");
    let average = history["average_order_value"][0]["amount_minor"]
        .as_f64()
        .unwrap();
    assert!((average - want / 8.0).abs() < 1e4, "{average}");
    // Cancelling takes an order back out of it.
    let orders = app
        .get(&format!("/v1/orders?contact_id={contact}"), t)
        .await;
    let last = id(&orders.ok(200)["data"][0]);
    let path = format!("/v1/orders/{last}");
    app.patch(&path, t, json!({"status": "refunded"}))
        .await
        .ok(200);
    let history = app
        .get(&format!("/v1/contacts/{contact}/purchases"), t)
        .await;
    assert_eq!(history.ok(200)["order_count"], 7);
}

#[tokio::test]
async fn a_purchase_history_counts_only_the_orders_the_caller_may_read() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let seller = app.add_user(admin, &["sales"]).await;
    let contact = app
        .create_contact(admin, json!({"name": "Ada", "owner_id": seller.user_id}))
        .await;
    let order = |token: &str, amount: i64| {
        let body = json!({"contact_id": contact["id"], "currency": "CNY", "status": "confirmed",
                          "lines": [{"description": "Tea", "quantity": 1,
                                     "unit_price_minor": amount}]});
        let token = token.to_owned();
        let app = &app;
        async move {
            app.post("/v1/orders", Some(&token), body)
                .await
                .ok(201)
                .clone()
        }
    };
    order(admin, 50_000).await;
    order(&seller.access_token, 1_000).await;
    let path = format!("/v1/contacts/{}/purchases", id(&contact));
    let mine = app.get(&path, &seller.access_token).await;
    let mine = mine.ok(200);
    assert_eq!(mine["order_count"], 1, "{mine}");
    assert_eq!(
        mine["lifetime_value"],
        json!([{"currency": "CNY", "amount_minor": 1_000}])
    );
    let all = app.get(&path, admin).await;
    assert_eq!(all.ok(200)["order_count"], 2);
    assert_eq!(
        all.body["lifetime_value"],
        json!([{"currency": "CNY", "amount_minor": 51_000}])
    );
}

#[tokio::test]
async fn a_role_that_restricts_an_order_field_may_not_write_it() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let role = app
        .create_role(
            admin,
            "Order clerk",
            json!({"orders": {"actions": ["read", "create", "update"], "scope": "own",
                "fields": {"notes": "hidden"}}}),
        )
        .await;
    let clerk = app.add_user(admin, &[&role]).await;
    let c = &clerk.access_token;
    let line = json!([{"description": "Tea", "quantity": 1, "unit_price_minor": 100}]);
    let refused = app
        .post(
            "/v1/orders",
            Some(c),
            json!({"currency": "CNY", "lines": line, "notes": "rush"}),
        )
        .await;
    let problem = refused.problem(403, "read-only-field");
    assert_eq!(problem["errors"][0]["field"], "notes");
    let order = app
        .post(
            "/v1/orders",
            Some(c),
            json!({"currency": "CNY", "lines": line}),
        )
        .await
        .ok(201)
        .clone();
    assert!(order.get("notes").is_none(), "{order}");
    let path = format!("/v1/orders/{}", id(&order));
    app.patch(&path, c, json!({"notes": "rush"}))
        .await
        .problem(403, "read-only-field");
    app.patch(&path, c, json!({"status": "confirmed"}))
        .await
        .ok(200);
}
