//! Rate limits: an API key's bucket and its company's, each answered with
//! `RateLimit-*` headers and, once empty, 429 with `Retry-After`; other keys and other
//! companies are not held up.

use crate::support::{Reply, TestApp};
use serde_json::json;

fn header(reply: &Reply, name: &str) -> u64 {
    reply.headers[name]
        .to_str()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{name} is a number"))
}

async fn key(app: &TestApp, token: &str, name: &str) -> String {
    let made = app
        .post(
            "/v1/api-keys",
            Some(token),
            json!({"name": name, "role_id": "read_only"}),
        )
        .await;
    made.ok(201)["key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn keys_and_companies_are_held_to_their_buckets() {
    // Time stands still, so no token comes back however slow the table is.
    let app = TestApp::spawn_with_still_clock(&[
        ("CRM_RATE_LIMIT_API_KEY", "5"),
        ("CRM_RATE_LIMIT_TENANT", "12"),
    ])
    .await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    // Two requests of the admin so far (the keys' creation).
    let erp = key(&app, admin, "ERP").await;
    let shop = key(&app, admin, "Shop").await;

    // The ERP key: five, counted down, then refused until a token comes back.
    for left in (0..5).rev() {
        let reply = app.get("/v1/contacts", &erp).await;
        reply.ok(200);
        assert_eq!(header(&reply, "ratelimit-limit"), 5);
        assert_eq!(header(&reply, "ratelimit-remaining"), left);
        assert!(header(&reply, "ratelimit-reset") <= 60);
    }
    let refused = app.get("/v1/contacts", &erp).await;
    refused.problem(429, "rate-limited");
    let retry = header(&refused, "retry-after");
    assert!((1..=12).contains(&retry), "a token every 12 s: {retry}");
    assert_eq!(header(&refused, "ratelimit-remaining"), 0);

    // Another key has its own bucket, within the company's (12 a minute: 2 + 5 spent).
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(app.get("/v1/contacts", &shop).await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);
    // The company's bucket is empty now: its people wait too.
    let person = app.get("/v1/contacts", admin).await;
    person.problem(429, "rate-limited");
    assert_eq!(header(&person, "ratelimit-limit"), 12);

    // Another company is not held up.
    let globex = app.sign_up("Globex").await;
    let theirs = app.get("/v1/contacts", &globex.access_token).await;
    theirs.ok(200);
    assert_eq!(header(&theirs, "ratelimit-remaining"), 11);
    // Routes without a login keep their own limits and carry no bucket headers.
    let public = app.post("/v1/signup", None, json!({})).await;
    assert_eq!(public.status, 422);
    assert!(!public.headers.contains_key("ratelimit-limit"));
}

#[tokio::test]
async fn instances_on_one_table_share_the_company_limit() {
    // Two servers on one table, as two Lambda instances: each has its own buckets, and
    // together they let the company's limit through in a minute, no more.
    // Time stands still, so no token comes back however slow the table is.
    let limit = [("CRM_RATE_LIMIT_TENANT", "10")];
    let app = TestApp::spawn_with_still_clock(&limit).await;
    let second = app.second_instance(&limit).await;
    let acme = app.sign_up("Acme").await;
    let mut passed = [0, 0];
    let mut refused = None;
    for n in 0..12 {
        let base = if n % 2 == 0 {
            app.url("")
        } else {
            second.clone()
        };
        let reply = crate::support::into_reply(
            app.client
                .get(format!("{base}/v1/me"))
                .bearer_auth(&acme.access_token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        match reply.status.as_u16() {
            200 => passed[n % 2] += 1,
            429 => {
                refused = Some(reply);
                break;
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(
        passed,
        [5, 5],
        "each instance alone would have let 10 through"
    );
    let refused = refused.expect("the 11th request is refused");
    refused.problem(429, "rate-limited");
    let wait = header(&refused, "retry-after");
    assert_eq!(wait, 6, "a token comes back every 6 s");
    assert_eq!(header(&refused, "ratelimit-remaining"), 0);
}

#[tokio::test]
async fn a_steady_load_under_the_limit_is_never_refused_and_an_overload_passes_at_it() {
    // 120 a minute: a token every half second.
    let app = TestApp::spawn_with(&[("CRM_RATE_LIMIT_TENANT", "120")]).await;
    let acme = app.sign_up("Acme").await;
    let t = &acme.access_token;
    // A burst empties the bucket: a minute's worth passes at once.
    let began = std::time::Instant::now();
    let mut burst = 0;
    while app.get("/v1/me", t).await.status == 200 {
        burst += 1;
        assert!(burst <= 200, "the bucket never empties");
    }
    // Plus what refilled while it ran.
    let refilled = (began.elapsed().as_secs_f64() * 2.0).ceil() as i32;
    assert!((120..=120 + refilled).contains(&burst), "{burst}");
    // Then a steady 1.6 a second, under the 2 a second refill: never refused.
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(625));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    for n in 0..12 {
        tick.tick().await;
        let reply = app.get("/v1/me", t).await;
        assert_eq!(
            reply.status, 200,
            "request {n} of a steady load: {}",
            reply.body
        );
    }
    // An overload (one request after another) passes at the limit: 2 a second, plus the
    // 3 tokens the steady load left unspent.
    let start = std::time::Instant::now();
    let (mut passed, mut refused) = (0, 0);
    while start.elapsed() < std::time::Duration::from_secs(4) {
        match app.get("/v1/me", t).await.status.as_u16() {
            200 => passed += 1,
            429 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(refused > 0);
    assert!(
        (6..=12).contains(&passed),
        "4 s at 2 a second passed {passed}"
    );
}
