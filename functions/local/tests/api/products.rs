//! The product catalogue: kept by finance and admins, read by sellers, a sku per product.

use crate::support::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_catalogue_is_kept_by_finance_and_read_by_sellers() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let finance = app.add_user(admin, &["finance"]).await;
    let seller = app.add_user(admin, &["sales"]).await;
    let created = app
        .post(
            "/v1/products",
            Some(&finance.access_token),
            json!({"sku": " LIC-001 ", "name": "Licence", "tax_rate_bp": 1300,
                   "unit_price": {"amount_minor": 99_900, "currency": "CNY"}}),
        )
        .await;
    let product = created.ok(201).clone();
    assert_eq!(
        created.headers["location"],
        format!("/v1/products/{}", id(&product))
    );
    assert_eq!(product["sku"], "LIC-001");
    assert_eq!(product["active"], true);
    let path = format!("/v1/products/{}", id(&product));

    // Sellers read the catalogue but do not change it.
    assert_eq!(
        app.get(&path, &seller.access_token).await.ok(200)["name"],
        "Licence"
    );
    app.post(
        "/v1/products",
        Some(&seller.access_token),
        json!({"sku": "X", "name": "X", "unit_price": {"amount_minor": 1, "currency": "CNY"}}),
    )
    .await
    .problem(403, "forbidden");
    app.patch(&path, &seller.access_token, json!({"active": false}))
        .await
        .problem(403, "forbidden");

    // One product per sku, ignoring case; found by sku.
    app.post(
        "/v1/products",
        Some(admin),
        json!({"sku": "lic-001", "name": "Copy", "unit_price": {"amount_minor": 1, "currency": "CNY"}}),
    )
    .await
    .problem(409, "sku-taken");
    let by_sku = app.get("/v1/products?sku=lic-001", admin).await;
    assert_eq!(by_sku.ok(200)["data"][0]["id"], product["id"]);

    let etag = app.get(&path, admin).await.etag();
    let retired = app
        .call_with(
            Method::PATCH,
            &path,
            Some(admin),
            Some(json!({"active": false, "description": "Replaced by LIC-002"})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(retired.ok(200)["active"], false);
    let active = app.get("/v1/products?active=true", admin).await;
    assert!(active.ok(200)["data"].as_array().unwrap().is_empty());
    let all = app.get("/v1/products", admin).await;
    assert_eq!(all.ok(200)["data"].as_array().unwrap().len(), 1);

    let bad = app
        .post(
            "/v1/products",
            Some(admin),
            json!({"sku": "has space", "name": "", "tax_rate_bp": 10_001,
                   "unit_price": {"amount_minor": -5, "currency": "yuan"}}),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        [
            "sku",
            "name",
            "unit_price.amount_minor",
            "unit_price.currency",
            "tax_rate_bp"
        ]
    );
    let cleared = app.patch(&path, admin, json!({"name": null})).await;
    assert_eq!(cleared.invalid_fields(), ["name"]);
    let padded = app
        .patch(
            &path,
            admin,
            json!({"sku": format!(" {} ", "x".repeat(63))}),
        )
        .await;
    assert_eq!(padded.invalid_fields(), ["sku"], "64 characters as sent");
    let long = app
        .get(&format!("/v1/products?sku={}", "x".repeat(65)), admin)
        .await;
    assert_eq!(long.invalid_fields(), ["sku"]);

    // Another company sees none of it.
    let other = app.sign_up("Other").await;
    app.get(&path, &other.access_token)
        .await
        .problem(404, "not-found");
    app.delete(&path, &other.access_token)
        .await
        .problem(404, "not-found");
    assert!(
        app.get("/v1/products?sku=LIC-001", &other.access_token)
            .await
            .ok(200)["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    app.delete(&path, admin).await.ok(204);
    app.get(&path, admin).await.problem(404, "not-found");
    // The sku is free again.
    app.post(
        "/v1/products",
        Some(admin),
        json!({"sku": "LIC-001", "name": "Licence v2", "unit_price": {"amount_minor": 1, "currency": "CNY"}}),
    )
    .await
    .ok(201);
}
