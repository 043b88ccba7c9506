//! What each API operation costs in DynamoDB capacity units, measured by the metering
//! table (`shared::table::metered`) from the items each request reads and writes, on
//! whichever twin the suite runs. The table in `docs/capacity.md` is this test's output:
//! it fails when an operation's cost changes and the docs were not updated
//! (`CRM_UPDATE_DOCS=1` rewrites them). Authentication stays within its budget of one
//! read unit per request.

use reqwest::Method;
use serde_json::{Value, json};
use shared::table::metered::{Metered, Reading, Units};

use crate::support::{Reply, TestApp, repo_root};

const BEGIN: &str = "<!-- capacity:begin -->";
const END: &str = "<!-- capacity:end -->";

/// The kinds of item authentication reads: the company's directory stamp, and on a miss
/// what a principal is built from.
const AUTH_KINDS: [&str; 7] = [
    "directory-stamp",
    "tenant",
    "users",
    "roles",
    "teams",
    "sessions",
    "api-keys",
];

struct Row {
    operation: &'static str,
    reading: Reading,
    /// How many records the operation handled (a bulk request's rows), to show per record.
    per: u64,
}

/// The part of `reading` that authenticated the request, held to its budget of one read
/// unit and no write.
fn authentication(reading: &Reading) -> Reading {
    let mut auth = Reading::default();
    for kind in AUTH_KINDS {
        if let Some(units) = reading.by_kind.get(kind) {
            auth.total += *units;
            auth.by_kind.insert(kind.to_owned(), *units);
        }
    }
    assert!(
        auth.total.read() <= 1.0 && auth.total.write == 0,
        "authenticating a request costs {auth:?}: {reading:?}"
    );
    auth
}

fn show(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else if n < 0.1 {
        format!("{n:.2}")
    } else {
        format!("{n:.1}")
    }
}

fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| Operation | Read units | Write units | Items written | Read units by kind of item | Write units by kind of item |\n\
         | --- | ---: | ---: | ---: | --- | --- |\n",
    );
    for row in rows {
        let per = row.per as f64;
        let by = |units: &dyn Fn(&Units) -> f64| {
            let kinds: Vec<String> = row
                .reading
                .by_kind
                .iter()
                .filter(|(_, u)| units(u) > 0.0)
                .map(|(k, u)| format!("{k} {}", show(units(u) / per)))
                .collect();
            if kinds.is_empty() {
                "–".to_owned()
            } else {
                kinds.join(", ")
            }
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            row.operation,
            show(row.reading.total.read() / per),
            show(row.reading.total.write as f64 / per),
            show(row.reading.items_written as f64 / per),
            by(&|u| u.read()),
            by(&|u| u.write as f64),
        ));
    }
    out
}

async fn measured(meter: &Metered, request: impl std::future::Future<Output = Reply>) -> Reading {
    meter.take();
    let reply = request.await;
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    meter.take()
}

async fn seed(app: &TestApp, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..60 {
        let made = app
            .create_contact(
                token,
                json!({
                    "name": format!("Ada Lovelace {i:02}"),
                    "emails": [{"address": format!("ada{i:02}@example.com")}],
                    "phones": [{"number": format!("+44 20 7946 {i:04}")}],
                    "title": "Analyst",
                }),
            )
            .await;
        ids.push(made["id"].as_str().unwrap().to_owned());
    }
    ids
}

#[tokio::test]
async fn each_operation_costs_what_docs_capacity_says_and_authentication_one_read_unit() {
    let (app, meter) = TestApp::spawn_metered().await;
    let acme = app.sign_up("Acme").await;
    let token = acme.access_token.clone();
    let ids = seed(&app, &token).await;
    let key = app
        .post(
            "/v1/api-keys",
            Some(&token),
            json!({"name": "ERP sync", "role_id": "read_only"}),
        )
        .await
        .ok(201)["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let contact = format!("/v1/contacts/{}", ids[0]);
    // The first request of a session or key reads who the caller is, and a key's first use
    // is recorded on it (which moves the company's stamp): measure the requests after.
    for caller in [&key, &key, &token] {
        app.get(&contact, caller).await.ok(200);
    }

    let mut rows = Vec::new();
    let mut row = |operation, reading, per| {
        rows.push(Row {
            operation,
            reading,
            per,
        })
    };

    let got = measured(&meter, app.get(&contact, &token)).await;
    row(
        "Authenticate a request (access token)",
        authentication(&got),
        1,
    );
    row("Get a contact", got, 1);
    let by_key = measured(&meter, app.get(&contact, &key)).await;
    row(
        "Authenticate a request (API key)",
        authentication(&by_key),
        1,
    );

    row(
        "List contacts, first page of 50",
        measured(&meter, app.get("/v1/contacts?limit=50", &token)).await,
        1,
    );
    row(
        "Search contacts, 20 results",
        measured(&meter, app.get("/v1/contacts?q=lovelace&limit=20", &token)).await,
        1,
    );
    let body = json!({
        "name": "Grace Hopper",
        "emails": [{"address": "grace@example.com"}],
        "phones": [{"number": "+1 202 555 0143"}],
        "title": "Rear admiral",
    });
    // What a company's writes keep reading (its default phone region) is read once.
    app.create_contact(&token, json!({"name": "Warm-up"})).await;
    let created = measured(&meter, app.post("/v1/contacts", Some(&token), body)).await;
    row("Create a contact", created, 1);

    let current = app.get(&contact, &token).await;
    let etag = current.etag();
    let updated = measured(
        &meter,
        app.call_with(
            Method::PATCH,
            &contact,
            Some(&token),
            Some(json!({"name": "Ada King"})),
            &[("If-Match", etag.as_str())],
        ),
    )
    .await;
    row("Rename a contact", updated, 1);

    let deleted = measured(
        &meter,
        app.delete(&format!("/v1/contacts/{}", ids[1]), &token),
    )
    .await;
    row("Delete a contact", deleted, 1);

    let items: Vec<Value> = (0..100)
        .map(|i| {
            json!({
                "external_id": format!("C-{i:03}"),
                "name": format!("Grace Hopper {i:03}"),
                "emails": [{"address": format!("grace{i:03}@example.com")}],
            })
        })
        .collect();
    let bulk = measured(
        &meter,
        app.post(
            "/v1/contacts/bulk",
            Some(&token),
            json!({"system": "erp", "items": items}),
        ),
    )
    .await;
    row("Bulk upsert of 100 new contacts, per contact", bulk, 100);

    let table = render(&rows);
    let path = repo_root().join("docs/capacity.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = doc
        .split_once(BEGIN)
        .expect("docs/capacity.md has its markers");
    let (_, tail) = rest
        .split_once(END)
        .expect("docs/capacity.md has its end marker");
    let fresh = format!("{head}{BEGIN}\n{table}{END}{tail}");
    if std::env::var("CRM_UPDATE_DOCS").as_deref() == Ok("1") {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    assert!(
        fresh == doc,
        "docs/capacity.md is out of date (rerun with CRM_UPDATE_DOCS=1); measured:\n{table}"
    );
}
